"""Celery tasks of the project wiring: the job runner and housekeeping."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from povertyapp import jobs

# The job runner, `povertyapp.jobs.run_job_task`, is defined with the job machinery under its
# old task name "povertyapp.tasks.run_job_task": the dispatch there sends it without importing
# this module, so jobs and tasks import each other in no circle. Importing `jobs` above
# registers it wherever Celery autodiscovers this module.


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


@shared_task(acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60)
def archive_audit_task() -> int:
    """Monthly: archive audit rows older than AUDIT_RETENTION_DAYS to a file, then delete them
    (`povertyapp.audit.archive`). Returns the number of rows archived."""
    from povertyapp import audit

    entry = audit.archive()
    return entry.row_count if entry is not None else 0


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def disable_inactive_accounts_task() -> list[int]:
    """Nightly: disable accounts unused for ACCOUNT_INACTIVE_DAYS (default 90), each logged
    (`povertyapp.security.accounts.accounts_disable_inactive`). Returns their ids."""
    from povertyapp.security import accounts

    return accounts.accounts_disable_inactive(days=settings.ACCOUNT_INACTIVE_DAYS)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55)
def expire_break_glass_task() -> bool:
    """Every five minutes: close the break-glass window once its time is up."""
    from povertyapp.security import break_glass

    return break_glass.break_glass_expire()


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def clear_expired_sessions_task() -> int:
    """Nightly: delete expired sessions (and their 我的会话 rows): no signed-in state outlives
    its session (剩余信息保护). How many were deleted."""
    from povertyapp.security import sessions

    return sessions.sessions_clear_expired()
