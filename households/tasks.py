"""Celery entry points of the registry. The data-quality check runs as a job
(`povertyapp.jobs`, kind `data_quality`): importing the module registers it, here for the
worker (Celery autodiscovers `<app>.tasks`) and in `households.views.quality` for the web
process."""

from celery import shared_task

from households import (
    completeness,  # (also registers the member_completeness job kind)
    imports,
    quality,  # (also registers the data_quality job kind)
)
from povertyapp import jobs
from povertyapp.models import Region


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def cleanup_import_files_task() -> int:
    """Nightly: delete uploaded import workbooks older than LEDGER_IMPORT_RETENTION_HOURS
    (default 24): previews never confirmed and files of crashed jobs hold personal data."""
    return imports.import_files_cleanup()


@shared_task(acks_late=True, soft_time_limit=270, time_limit=300)
def enqueue_quality_jobs_task() -> int:
    """Nightly: the data-quality check (问题数据检查) of every county, one job each (a Job row
    the county office can watch), at most one a night per county (`jobs.job_enqueue_nightly`).
    Returns how many jobs were enqueued."""
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    return len(jobs.job_enqueue_nightly(kind=quality.JOB_KIND, regions=counties))


@shared_task(acks_late=True, soft_time_limit=270, time_limit=300)
def enqueue_member_completeness_jobs_task() -> int:
    """Nightly, before the rates: the members' 信息录入率 sums of every county's households
    brought up to the new day (`households.completeness`), one job each, at most one a night per
    county. Returns how many jobs were enqueued."""
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    return len(jobs.job_enqueue_nightly(kind=completeness.JOB_KIND, regions=counties))
