"""Long work as a job the user can watch (STYLE 10–11).

An app registers a job kind with a plain function `run(job, progress) -> dict` (callable in
tests without Celery). `job_enqueue` writes the Job row and enqueues `run_job_task` after the
transaction commits; the task marks the job running, calls the function, records the result or
the error the user will read, and is safe under at-least-once delivery: a job that already
finished is not run again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from povertyapp import roles
from povertyapp.models import Job, Region, User

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

logger = logging.getLogger(__name__)

JobFunction = Callable[[Job, "Progress"], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    key: str
    label: str | StrPromise  # lazy: kinds register at import, before a language is active
    run: JobFunction


_KINDS: dict[str, JobKind] = {}


def register(key: str, label: str | StrPromise) -> Callable[[JobFunction], JobFunction]:
    """Decorator: `@jobs.register("export_ledger", _("导出台账"))` on the job's function."""

    def decorate(function: JobFunction) -> JobFunction:
        _KINDS[key] = JobKind(key, label, function)
        return function

    return decorate


def kind_label(key: str) -> str:
    kind = _KINDS.get(key)
    return str(kind.label) if kind else key


class JobFailed(Exception):
    """Raised by a job function to fail with a message meant for the user."""


class Progress:
    """Progress reporting, throttled so a tight loop does not write a row per item."""

    def __init__(self, job: Job, *, every: int = 500) -> None:
        self.job = job
        self.every = every
        self._since_write = 0

    def set_total(self, total: int) -> None:
        self.job.total = total
        Job.objects.filter(pk=self.job.pk).update(total=total)

    def flush(self) -> None:
        """Write progress not yet written (the throttle holds back up to `every` items)."""
        if self._since_write:
            self._since_write = 0
            Job.objects.filter(pk=self.job.pk).update(progress=self.job.progress)

    def advance(self, count: int = 1, *, message: str = "") -> None:
        self.job.progress += count
        self._since_write += count
        if self._since_write >= self.every or message:
            self._since_write = 0
            fields: dict[str, Any] = {"progress": self.job.progress}
            if message:
                self.job.message = message[:255]
                fields["message"] = self.job.message
            Job.objects.filter(pk=self.job.pk).update(**fields)


def job_create(
    *,
    user: User | None,
    kind: str,
    region: Region | None = None,
    parameters: dict[str, Any] | None = None,
) -> Job:
    if kind not in _KINDS:
        raise ValueError(f"Unknown job kind {kind!r}")
    return Job.objects.create(
        kind=kind, created_by=user, region=region, parameters=parameters or {}
    )


def job_get_for_user(*, user: User, job_id: int) -> Job:
    """A job as its owner sees it: the scoped access path of jobs and their files. A job (and
    its file, written with the owner's rights) is its owner's alone: 404 for anyone else."""
    job = Job.objects.filter(pk=job_id, created_by=user).first()
    if job is None:
        raise Http404(_("未找到该任务。"))
    return job


def job_result_get_for_user(*, user: User, job_id: int) -> Job:
    """A job whose result file the user may take (the file door's access path for jobs): the
    user's own job, over a region still in the user's scope — a cadre moved to another village,
    or an account whose role no longer sees case data, loses the files of the old scope."""
    job = job_get_for_user(user=user, job_id=job_id)
    if job.region is not None and not roles.region_in_scope(user, job.region):
        raise Http404(_("未找到该任务。"))
    return job


def job_enqueue(
    *,
    user: User | None,
    kind: str,
    region: Region | None = None,
    parameters: dict[str, Any] | None = None,
) -> Job:
    """Create the job row and run it in a worker once the surrounding transaction commits
    (in eager mode, the embedded default, it runs right there, after the commit)."""
    from povertyapp.tasks import run_job_task

    job = job_create(user=user, kind=kind, region=region, parameters=parameters)
    transaction.on_commit(lambda: run_job_task.delay(job.pk))
    return job


def job_run(job_id: int) -> Job:
    """Run a job now (the task's body). Returns the job in its final state."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return job  # delivered twice: already done
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.progress = 0
        job.error = ""
        job.save(update_fields=["status", "started_at", "attempts", "progress", "error"])
    kind = _KINDS[job.kind]
    progress = Progress(job)
    try:
        result = kind.run(job, progress)
    except JobFailed as failure:
        progress.flush()
        return _finish(job, status=Job.Status.FAILED, error=str(failure))
    except Exception as error:
        if _is_transient(error):
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.QUEUED, message=_("暂时性错误，稍后重试")
            )
            raise
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        progress.flush()
        return _finish(
            job,
            status=Job.Status.FAILED,
            error=_("任务执行出错：%(error)s。请联系县扶贫办或系统管理员。")
            % {"error": type(error).__name__},
        )
    return _finish(job, status=Job.Status.SUCCEEDED, result=result or {})


def job_fail_terminally(job_id: int, error: str) -> None:
    """Called when retries are exhausted: the user sees why the job stopped."""
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(
        status=Job.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _finish(job: Job, *, status: str, result: dict[str, Any] | None = None, error: str = "") -> Job:
    job.refresh_from_db(fields=["progress", "total", "message", "result_file"])
    job.status = status
    job.finished_at = timezone.now()
    job.error = error
    if result is not None:
        job.result = result
    if status == Job.Status.SUCCEEDED and job.total and job.progress < job.total:
        job.progress = job.total
    job.save(update_fields=["status", "finished_at", "error", "result", "progress"])
    return job


def _is_transient(error: BaseException) -> bool:
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(error, (OperationalError, InterfaceError, RedisConnectionError))


def job_cleanup_files(*, older_than_days: int) -> int:
    """Delete the result files (ledgers, reports, import error workbooks) of jobs finished more
    than `older_than_days` ago — or created that long ago and never finished — and record on
    each job row when its file went, so that its page says so instead of showing a dead link.
    Then delete files under `jobs/` as old that no job row names (a worker that died between
    writing a file and recording it). Returns the number of files deleted."""
    now = timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    expired = (
        Job.objects.filter(
            Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
        )
        .exclude(result_file="")
        .only("pk", "result_file")
    )
    removed = 0
    for job in expired.iterator():
        job.result_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(result_file="", result_file_deleted_at=now)
        removed += 1
    return removed + _orphan_job_files_delete(cutoff)


def _orphan_job_files_delete(cutoff: datetime) -> int:
    root = Path(default_storage.path("jobs"))
    if not root.is_dir():
        return 0
    removed = 0
    for directory, _subdirectories, names in os.walk(root):
        old = {}
        for name in names:
            path = Path(directory) / name
            if datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) < cutoff:
                old[path.relative_to(default_storage.path("")).as_posix()] = path
        if not old:
            continue
        kept = set(
            Job.objects.filter(result_file__in=list(old)).values_list("result_file", flat=True)
        )
        for stored_name, path in old.items():
            if stored_name not in kept:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
