"""Uploaded import workbooks do not stay for ever: the nightly task removes stale ones."""

from __future__ import annotations

import os
import time

from households.imports import IMPORT_JOB, import_directory, import_file_path
from households.tasks import cleanup_import_files_task
from povertyapp import jobs
from povertyapp.models import Job


def _file(name: str, *, age_hours: float) -> str:
    path = (
        import_file_path(name) if name.endswith(".xlsx") else os.path.join(import_directory(), name)
    )
    with open(path, "wb") as handle:
        handle.write(b"PK\x03\x04 personal data")
    stamp = time.time() - age_hours * 3600
    os.utime(path, (stamp, stamp))
    return path


def test_stale_uploads_are_removed_but_fresh_and_queued_ones_kept(settings, tmp_path, cast):
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    settings.LEDGER_IMPORT_RETENTION_HOURS = 24
    stale = _file("a" * 32 + ".xlsx", age_hours=30)  # a preview never confirmed
    fresh = _file("b" * 32 + ".xlsx", age_hours=2)  # waiting for its confirmation
    queued = _file("c" * 32 + ".xlsx", age_hours=30)  # its job has not run yet
    Job.objects.create(
        kind=IMPORT_JOB,
        created_by=cast.county,
        status=Job.Status.QUEUED,
        parameters={"file": os.path.basename(queued), "dry_run": False},
    )
    crashed = _file("household-import-abc123.sqlite3", age_hours=30)  # a crash's staging file
    other = tmp_path / "imports" / "notes.txt"  # not an upload: never touched
    other.write_text("x")
    os.utime(other, (time.time() - 100 * 3600,) * 2)

    assert cleanup_import_files_task.delay().get() == 2

    assert not os.path.exists(stale) and not os.path.exists(crashed)
    assert os.path.exists(fresh) and os.path.exists(queued) and other.exists()


def test_confirming_a_preview_whose_file_was_cleaned_up_fails_readably(settings, tmp_path, cast):
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = _file("d" * 32 + ".xlsx", age_hours=48)
    cleanup_import_files_task()
    assert not os.path.exists(path)
    job = jobs.job_create(
        user=cast.county,
        kind=IMPORT_JOB,
        region=cast.county.region,
        parameters={"file": os.path.basename(path), "dry_run": False},
    )
    job = jobs.job_run(job.pk)
    assert job.status == Job.Status.FAILED
    assert "过期" in job.error


def test_the_cleanup_is_scheduled_nightly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cleanup-import-files"]
    assert entry["task"] == "households.tasks.cleanup_import_files_task"
