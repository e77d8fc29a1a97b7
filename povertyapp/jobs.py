"""Long work as a job the user can watch (STYLE 10–11).

An app registers a job kind with a plain function `run(job, progress) -> dict` (callable in
tests without Celery). `job_enqueue` writes the Job row and enqueues `run_job_task` after the
transaction commits; the task marks the job running, calls the function, records the result or
the error the user will read, and is safe under at-least-once delivery: a job that already
finished, or that is running, is not run again.

Faults (docs/operations.md, "Faults and recovery"):

- the broker is down when a job starts: `job_dispatch` publishes without retrying, catches the
  broker's error, logs it and leaves the job `queued` with `dispatched_at` empty and a message
  the user reads; the page answers normally;
- `job_sweep` (beat, every minute) sends jobs still waiting for dispatch after a grace period,
  and ends `running` jobs whose worker vanished (no heartbeat for JOB_HEARTBEAT_TIMEOUT, or
  running past the task's hard time limit plus a margin): queued again for another attempt
  while attempts remain (JOB_MAX_ATTEMPTS), else failed with a message the user reads;
- a run that lost its job to the sweep (its worker was thought dead) cannot overwrite the
  newer attempt: its writes are conditioned on its own attempt number.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from povertyapp import celery_routes, roles
from povertyapp.models import Job, Region, User

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

logger = logging.getLogger(__name__)

JobFunction = Callable[[Job, "Progress"], dict[str, Any]]
Capability = Callable[[User], bool]

# Messages written on the job row (the user reads them on the job page).
DISPATCH_PENDING = gettext_lazy("已排队，等待后台服务恢复")
INTERRUPTED_RETRIED = gettext_lazy("后台任务中断（服务重启），已自动重试")
INTERRUPTED_FAILED = gettext_lazy("后台任务多次中断，请重新发起。")
TIMED_OUT = gettext_lazy("后台任务运行超过时限（%(minutes)d分钟），已停止。请缩小范围后重新发起。")


@dataclass(frozen=True)
class JobKind:
    key: str
    label: str | StrPromise  # lazy: kinds register at import, before a language is active
    run: JobFunction
    # Who may start a job of this kind (a capability of `povertyapp.roles`). A job started by
    # the system (beat, a management command) has no user and is not checked.
    may_start: Capability = field(compare=False)


_KINDS: dict[str, JobKind] = {}


def register(
    key: str, label: str | StrPromise, *, may_start: Capability
) -> Callable[[JobFunction], JobFunction]:
    """Decorator on the job's function:
    `@jobs.register("export_ledger", _("导出台账"), may_start=roles.can_export)`.

    `may_start` is required: every kind says which users may start it, so a read-only role
    can never start a job that writes (`job_create` refuses with PermissionDenied)."""

    def decorate(function: JobFunction) -> JobFunction:
        _KINDS[key] = JobKind(key, label, function, may_start)
        return function

    return decorate


def kinds() -> dict[str, JobKind]:
    """Every registered kind (a copy), for checks and tests."""
    return dict(_KINDS)


def may_start(user: User, kind: str) -> bool:
    """Whether `user` may start a job of `kind` (unknown kinds: no)."""
    registered = _KINDS.get(kind)
    return registered is not None and bool(registered.may_start(user))


def kind_label(key: str) -> str:
    kind = _KINDS.get(key)
    return str(kind.label) if kind else key


class JobFailed(Exception):
    """Raised by a job function to fail with a message meant for the user."""


# A job's progress is written to its row at most this often (seconds): the job page polls every
# few seconds, and a short job (a county's rates job of a province's fan-out: ≈ 0.3 s) otherwise
# paid a commit per step (docs/performance.md, "Rates job"). What is held back is written with
# the job's final status, in the same statement (`_finish`).
PROGRESS_MIN_SECONDS = 1.0


class Progress:
    """Progress reporting, throttled so a tight loop does not write a row per item: a write
    after `every` items or with a message, and at most one write per PROGRESS_MIN_SECONDS;
    what is held back is written by the next write, `flush`, or the job's final status.

    `written_at` (a `time.monotonic()` value) is when the row was last written: `job_run`
    passes the time it set the job running, so a short job writes no progress of its own."""

    def __init__(self, job: Job, *, every: int = 500, written_at: float | None = None) -> None:
        self.job = job
        self.every = every
        self._since_write = 0
        self._written_at = written_at
        self._pending: dict[str, Any] = {}

    def _update(self, **fields: Any) -> None:
        self._pending.update(fields)
        now = time.monotonic()
        if self._written_at is not None and now - self._written_at < PROGRESS_MIN_SECONDS:
            return
        self._write(now)

    def _write(self, now: float) -> None:
        # Every write is a heartbeat too; conditioned on this run's attempt, so a run the sweep
        # gave up on does not write over the attempt that replaced it.
        fields, self._pending = self._pending, {}
        self._written_at = now
        Job.objects.filter(pk=self.job.pk, attempts=self.job.attempts).update(
            heartbeat_at=timezone.now(), **fields
        )

    def pending(self) -> dict[str, Any]:
        """The fields held back by the throttle, not yet written (`_finish` writes them)."""
        return dict(self._pending)

    def set_total(self, total: int) -> None:
        self.job.total = total
        self._update(total=total)

    def flush(self) -> None:
        """Write progress not yet written (the throttles hold back up to `every` items, and
        whatever came within PROGRESS_MIN_SECONDS of the last write)."""
        if self._since_write:
            self._since_write = 0
            self._pending["progress"] = self.job.progress
        if self._pending:
            self._write(time.monotonic())

    def advance(self, count: int = 1, *, message: str = "") -> None:
        self.job.progress += count
        self._since_write += count
        if self._since_write >= self.every or message:
            self._since_write = 0
            fields: dict[str, Any] = {"progress": self.job.progress}
            if message:
                self.job.message = message[:255]
                fields["message"] = self.job.message
            self._update(**fields)


def job_create(
    *,
    user: User | None,
    kind: str,
    region: Region | None = None,
    parameters: dict[str, Any] | None = None,
) -> Job:
    """Write the job row. A user who may not start this kind is refused (PermissionDenied,
    a message the 403 page shows); `user=None` is the system (beat, commands)."""
    if kind not in _KINDS:
        raise ValueError(f"Unknown job kind {kind!r}")
    if user is not None and not may_start(user, kind):
        raise PermissionDenied(_("您的角色不能发起“%(kind)s”任务。") % {"kind": kind_label(kind)})
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
    (in eager mode, the embedded default, it runs right there, after the commit).

    Never fails because the broker is down: see `job_dispatch`."""
    job = job_create(user=user, kind=kind, region=region, parameters=parameters)
    job_dispatch_on_commit([job.pk])
    return job


def job_enqueue_nightly(*, kind: str, regions: models.QuerySet[Region]) -> list[Job]:
    """The system's nightly run of a job kind (beat): one job per region, at most one a night.

    A region that already has a system job of this kind created since local midnight gets no
    second one, so a beat task delivered twice (acks_late, a worker restart) enqueues nothing
    new. Returns the jobs created."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    already = set(
        Job.objects.filter(
            kind=kind, created_by__isnull=True, created_at__gte=midnight, region__in=regions
        ).values_list("region_id", flat=True)
    )
    return [
        job_enqueue(user=None, kind=kind, region=region)
        for region in regions.order_by("code")
        if region.pk not in already
    ]


def job_dispatch_on_commit(job_ids: list[int]) -> None:
    """Dispatch the jobs once the surrounding transaction commits (the worker must find the
    rows)."""
    for job_id in job_ids:
        transaction.on_commit(lambda job_id=job_id: job_dispatch(job_id))  # type: ignore[misc]  # the default binds job_id per turn; mypy cannot infer such a lambda


def job_dispatch_chord_on_commit(job_ids: list[int], then_id: int) -> None:
    """Once the surrounding transaction commits, run the jobs `job_ids` in parallel and the job
    `then_id` once after the last of them ended (a Celery chord: a fan-out and its one step
    after; in eager mode the chord runs in place, header first). Each job ends on its row
    whatever happens (a failed one is `failed` there), so the step after always runs.

    On a broker error every job stays `queued` with `dispatched_at` empty (as `job_dispatch`
    leaves one); the sweep then sends each on its own, the step after without waiting."""
    transaction.on_commit(lambda: job_dispatch_chord(job_ids, then_id))


def job_dispatch_chord(job_ids: list[int], then_id: int) -> bool:
    """Send the chord of `job_dispatch_chord_on_commit` now. Returns whether it was sent."""
    from celery import chord

    if not job_ids:
        return job_dispatch(then_id)
    every = [*job_ids, then_id]
    # Each job on its kind's queue (`celery_routes`), the kinds read in one statement rather
    # than by the router once per task.
    queue = celery_routes.job_queues(every)
    try:
        chord([run_chord_job_task.si(job_id).set(queue=queue[job_id]) for job_id in job_ids])(
            run_job_task.si(then_id).set(retry=False, queue=queue[then_id])
        )
    except broker_errors() as error:
        logger.warning("Jobs %s: the broker is unreachable, dispatch postponed (%s)", every, error)
        Job.objects.filter(pk__in=every, status=Job.Status.QUEUED).update(
            dispatched_at=None, message=str(DISPATCH_PENDING)
        )
        return False
    Job.objects.filter(pk__in=every).update(dispatched_at=timezone.now())
    return True


def broker_errors() -> tuple[type[BaseException], ...]:
    """What a publish raises when the broker cannot be reached."""
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (KombuOperationalError, RedisConnectionError, RedisTimeoutError, OSError)


def job_dispatch(job_id: int) -> bool:
    """Send the job's task to the broker, without retrying (a request is not held while the
    broker is away). On a broker error the job stays `queued` with `dispatched_at` empty and a
    message the user reads; the sweep sends it when the broker is back. Returns whether the
    task was sent."""
    try:
        run_job_task.apply_async((job_id,), retry=False)
    except broker_errors() as error:
        logger.warning("Job %s: the broker is unreachable, dispatch postponed (%s)", job_id, error)
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            dispatched_at=None, message=str(DISPATCH_PENDING)
        )
        return False
    Job.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    return True


def job_run(job_id: int, *, heartbeat_every: float | None = None) -> Job:
    """Run a job now (the task's body). Returns the job in its final state.

    Exactly once: the status is checked and set in one conditional UPDATE, so of two
    deliveries only one finds it `queued`; a job that is running or finished is returned as
    it is. With `heartbeat_every` (seconds; the Celery task passes it) a thread touches
    `heartbeat_at` while the job runs, so a long statement without progress does not look like
    a dead worker.
    """
    # One conditional UPDATE claims the job (the database locks the row while it checks the
    # status), then one read: two statements and one commit, where a locked read, a save and
    # their transaction took four.
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        progress=0,
        error="",
        # "waiting for the broker" goes; a retry keeps its "interrupted" note
        message=Case(When(attempts=0, then=Value("")), default=F("message")),
    )
    written_at = time.monotonic()
    job = Job.objects.get(pk=job_id)
    if not claimed:
        # Finished: delivered twice. Running: another worker has it (a re-dispatch or a
        # redelivery); if that worker died, the sweep queues the job again.
        return job
    kind = _KINDS[job.kind]
    progress = Progress(job, written_at=written_at)
    with _heartbeat(job, every=heartbeat_every):
        return _execute(job, kind, progress)


def _execute(job: Job, kind: JobKind, progress: Progress) -> Job:
    try:
        result = kind.run(job, progress)
    except JobFailed as failure:
        return _finish(job, progress, status=Job.Status.FAILED, error=str(failure))
    except Exception as error:
        if _is_transient(error):
            Job.objects.filter(pk=job.pk, attempts=job.attempts).update(
                status=Job.Status.QUEUED, message=_("暂时性错误，稍后重试")
            )
            raise
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        return _finish(
            job,
            progress,
            status=Job.Status.FAILED,
            error=_("任务执行出错：%(error)s。请联系县扶贫办或系统管理员。")
            % {"error": type(error).__name__},
        )
    return _finish(job, progress, status=Job.Status.SUCCEEDED, result=result or {})


def job_fail_terminally(job_id: int, error: str) -> None:
    """Called when retries are exhausted: the user sees why the job stopped."""
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(
        status=Job.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _finish(
    job: Job,
    progress: Progress,
    *,
    status: str,
    result: dict[str, Any] | None = None,
    error: str = "",
) -> Job:
    """Record the job's end, with the progress the throttle held back, in one UPDATE
    conditioned on this run's attempt (and the row still `running`)."""
    attempt = job.attempts
    job.refresh_from_db(
        fields=["progress", "total", "message", "result_file", "attempts", "status"]
    )
    if job.attempts != attempt or job.status != Job.Status.RUNNING:
        # The sweep took the job from this run (its heartbeat had stopped) and queued or failed
        # it: the newer state stands.
        logger.warning("Job %s: attempt %s finished after it was given up", job.pk, attempt)
        return job
    for name, value in progress.pending().items():
        setattr(job, name, value)
    job.status = status
    job.finished_at = timezone.now()
    job.error = error
    if result is not None:
        job.result = result
    if status == Job.Status.SUCCEEDED and job.total and job.progress < job.total:
        job.progress = job.total
    updated = Job.objects.filter(pk=job.pk, attempts=attempt, status=Job.Status.RUNNING).update(
        status=job.status,
        finished_at=job.finished_at,
        error=job.error,
        result=job.result,
        progress=job.progress,
        total=job.total,
        message=job.message,
        heartbeat_at=job.finished_at,
    )
    if not updated:
        logger.warning("Job %s: attempt %s finished after it was given up", job.pk, attempt)
        job.refresh_from_db()
    return job


@contextmanager
def _heartbeat(job: Job, *, every: float | None) -> Iterator[None]:
    """Touch the job's heartbeat every `every` seconds from a thread while the body runs."""
    if not every:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                Job.objects.filter(
                    pk=job.pk, attempts=job.attempts, status=Job.Status.RUNNING
                ).update(heartbeat_at=timezone.now())
        except Exception:  # a lost database: the sweep will judge by the missing heartbeat
            logger.exception("Job %s: heartbeat stopped", job.pk)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"job-{job.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


@dataclass
class SweepReport:
    dispatched: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=int(getattr(settings, name, default)))


def job_sweep(*, now: Any = None) -> SweepReport:
    """Find jobs that would otherwise be lost or stuck, and end or resume each (beat, every
    minute; idempotent, safe to run on several hosts at once: rows are locked, skip_locked).

    1. `queued` jobs never dispatched (the broker was down) for longer than
       JOB_DISPATCH_GRACE_SECONDS, or dispatched longer than JOB_REDISPATCH_SECONDS ago and
       still waiting (the broker lost the message, e.g. Redis restarted without persistence):
       sent again. A job sent twice runs once (`job_run`).
    2. `running` jobs whose heartbeat is older than JOB_HEARTBEAT_TIMEOUT_SECONDS (the worker
       was killed or lost the database): queued again with a message while fewer than
       JOB_MAX_ATTEMPTS attempts were made, else failed with a message.
    3. `running` jobs started longer ago than the task's hard time limit plus
       JOB_TIME_LIMIT_MARGIN_SECONDS: failed (a retry would run out of time again).
    """
    now = now or timezone.now()
    report = SweepReport()
    grace = _seconds("JOB_DISPATCH_GRACE_SECONDS", 120)
    redispatch = _seconds("JOB_REDISPATCH_SECONDS", 1800)
    stale = _seconds("JOB_HEARTBEAT_TIMEOUT_SECONDS", 300)
    hard_limit = timedelta(seconds=int(settings.CELERY_TASK_TIME_LIMIT)) + _seconds(
        "JOB_TIME_LIMIT_MARGIN_SECONDS", 300
    )
    max_attempts = int(getattr(settings, "JOB_MAX_ATTEMPTS", 3))
    with transaction.atomic():
        running = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.RUNNING)
            .filter(
                # No heartbeat column before the sweep existed: the start time stands in.
                models.Q(heartbeat_at__lt=now - stale)
                | models.Q(heartbeat_at__isnull=True, started_at__lt=now - stale)
                | models.Q(started_at__lt=now - hard_limit)
            )
        )
        for job in running:
            if job.started_at is not None and job.started_at < now - hard_limit:
                minutes = int(settings.CELERY_TASK_TIME_LIMIT) // 60
                _give_up(job, now, str(TIMED_OUT % {"minutes": minutes}))
                report.failed.append(job.pk)
            elif job.attempts >= max_attempts:
                _give_up(job, now, str(INTERRUPTED_FAILED))
                report.failed.append(job.pk)
            else:
                job.status = Job.Status.QUEUED
                job.message = str(INTERRUPTED_RETRIED)
                job.dispatched_at = None
                job.save(update_fields=["status", "message", "dispatched_at"])
                report.retried.append(job.pk)
            logger.warning(
                "Job %s (%s): worker lost (heartbeat %s, attempt %s): %s",
                job.pk,
                job.kind,
                job.heartbeat_at,
                job.attempts,
                "retried" if job.pk in report.retried else "failed",
            )
        waiting = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.QUEUED)
            .filter(
                models.Q(dispatched_at__isnull=True, created_at__lt=now - grace)
                | models.Q(dispatched_at__lt=now - redispatch)
            )
            .exclude(pk__in=report.retried)
            .values_list("pk", flat=True)
        )
        report.dispatched = [*report.retried, *waiting]
        job_dispatch_on_commit(report.dispatched)
    return report


def _give_up(job: Job, now: Any, message: str) -> None:
    job.status = Job.Status.FAILED
    job.error = message
    job.finished_at = now
    job.save(update_fields=["status", "error", "finished_at"])


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


# --- the Celery task that runs a job -----------------------------------------------------------

TRANSIENT_RETRIES = 5


# ignore_result: the Job row is the result. Storing it in the result backend as well made every
# publish subscribe to the result store first, so a Redis outage raised the result consumer's
# RuntimeError ("must be restarted") past the broker-error handling of jobs.job_dispatch
# (found by the fault drill tests/povertyapp/test_fault_drills.py).
@shared_task(
    name="povertyapp.tasks.run_job_task",  # its name before issue 18: queued messages find it
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
        job = job_run(job_id, heartbeat_every=heartbeat)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            job_fail_terminally(job_id, f"{type(error).__name__}: 多次重试后仍失败")
            raise
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 5, 300)) from error
    return job.status


@shared_task(
    name="povertyapp.tasks.run_chord_job_task",
    bind=True,
    acks_late=True,
    # A chord's header keeps its results: the chord counts them to start the step after.
    ignore_result=False,
    max_retries=TRANSIENT_RETRIES,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_chord_job_task(self, job_id: int) -> str:
    """`run_job_task` as one task of a chord's header (`job_dispatch_chord`): its result is
    kept for the chord. A job that fails for good ends `failed` on its row and returns, so the
    chord's step after still runs."""
    heartbeat = None if self.request.is_eager else settings.JOB_HEARTBEAT_SECONDS
    try:
        job = job_run(job_id, heartbeat_every=heartbeat)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            job_fail_terminally(job_id, f"{type(error).__name__}: 多次重试后仍失败")
            return str(Job.Status.FAILED)
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 5, 300)) from error
    return str(job.status)
