"""Celery tasks of the project wiring: the job runner and housekeeping."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from povertyapp import jobs

TRANSIENT_RETRIES = 5


# ignore_result: the Job row is the result. Storing it in the result backend as well made every
# publish subscribe to the result store first, so a Redis outage raised the result consumer's
# RuntimeError ("must be restarted") past the broker-error handling of jobs.job_dispatch
# (found by the fault drill tests/povertyapp/test_fault_drills.py).
@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=TRANSIENT_RETRIES,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_job_task(self, job_id: int) -> str:
    """Run a Job by id. Transient database or broker errors are retried with backoff; the
    last failure is recorded on the job row where the user sees it."""
    heartbeat = None if self.request.is_eager else settings.JOB_HEARTBEAT_SECONDS
    try:
        job = jobs.job_run(job_id, heartbeat_every=heartbeat)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            jobs.job_fail_terminally(job_id, f"{type(error).__name__}: 多次重试后仍失败")
            raise
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 5, 300)) from error
    return job.status


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55)
def sweep_jobs_task() -> dict[str, list[int]]:
    """Every minute: send jobs the broker never got, retry or fail jobs whose worker vanished
    (`povertyapp.jobs.job_sweep`). Returns the job ids by outcome."""
    report = jobs.job_sweep()
    return {"dispatched": report.dispatched, "retried": report.retried, "failed": report.failed}


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def cleanup_job_files_task() -> int:
    """Nightly: delete generated files older than JOB_FILE_RETENTION_DAYS (default 7)."""
    return jobs.job_cleanup_files(older_than_days=settings.JOB_FILE_RETENTION_DAYS)
