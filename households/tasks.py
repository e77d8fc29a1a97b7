"""Celery entry points of the registry. The data-quality check runs as a job
(`povertyapp.jobs`, kind `data_quality`): importing the module registers it, here for the
worker (Celery autodiscovers `<app>.tasks`) and in `households.views.quality` for the web
process."""

from celery import shared_task

from households import (
    imports,
    quality,  # noqa: F401  (registers the data_quality job kind)
)


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def cleanup_import_files_task() -> int:
    """Nightly: delete uploaded import workbooks older than LEDGER_IMPORT_RETENTION_HOURS
    (default 24): previews never confirmed and files of crashed jobs hold personal data."""
    return imports.import_files_cleanup()
