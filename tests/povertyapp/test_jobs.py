"""The job lifecycle under faults (`povertyapp.jobs`): dispatch while the broker is down, the
sweep that sends waiting jobs and ends or retries jobs whose worker vanished, exactly once.

The drills with a real Redis, a real worker and a real PostgreSQL cluster are in
tests/povertyapp/test_fault_drills.py; these tests fake the broker's failure in-process.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from households import quality
from povertyapp import jobs, roles, tasks
from povertyapp.celery import app as celery_app
from povertyapp.models import Job
from tests.conftest import login

COUNTING_KIND = "test_jobs_counts_side_effects"
side_effects: list[int] = []


@jobs.register(COUNTING_KIND, "测试：副作用计数", may_start=roles.has_case_access)
def _count_side_effect(job: Job, progress: jobs.Progress) -> dict:
    side_effects.append(job.pk)
    return {"runs": side_effects.count(job.pk)}


@pytest.fixture(autouse=True)
def _no_side_effects():
    side_effects.clear()
    yield
    side_effects.clear()


def _broker_down(monkeypatch, error: BaseException) -> list[int]:
    attempts: list[int] = []

    def refuse(args, **options):
        attempts.append(args[0])
        assert options == {"retry": False}  # fail fast: the request is not held
        raise error

    monkeypatch.setattr(jobs.run_job_task, "apply_async", refuse)
    return attempts


def _ago(**delta: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


@pytest.mark.parametrize(
    "error",
    [
        KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        RedisConnectionError("Connection refused"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=["kombu", "redis", "socket"],
)
def test_starting_a_job_with_the_broker_down_answers_normally_and_leaves_it_queued(
    cast, county, monkeypatch, django_capture_on_commit_callbacks, error
):
    attempts = _broker_down(monkeypatch, error)
    client = login(cast.county)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("households:quality-run"), {"region": county.county.code})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert attempts == [job.pk]
    assert (job.kind, job.status, job.dispatched_at, job.attempts) == (
        quality.JOB_KIND,
        Job.Status.QUEUED,
        None,
        0,
    )
    assert job.message == "已排队，等待后台服务恢复"
    page = client.get(reverse("job-detail", args=[job.pk]))
    assert page.status_code == 200
    assert "已排队，等待后台服务恢复" in page.content.decode()


def test_a_dispatched_job_records_when_it_was_sent(cast, django_capture_on_commit_callbacks):
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_enqueue(user=cast.county, kind=COUNTING_KIND)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.dispatched_at is not None and job.dispatched_at >= before
    assert side_effects == [job.pk]


def test_the_sweep_sends_a_job_the_broker_never_got_once_the_grace_period_passed(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    _broker_down(monkeypatch, KombuOperationalError("down"))
    with django_capture_on_commit_callbacks(execute=True):
        waiting = jobs.job_enqueue(user=cast.county, kind=COUNTING_KIND)
        fresh = jobs.job_enqueue(user=cast.county, kind=COUNTING_KIND)
    grace = settings.JOB_DISPATCH_GRACE_SECONDS
    Job.objects.filter(pk=waiting.pk).update(created_at=_ago(seconds=grace + 1))
    Job.objects.filter(pk=fresh.pk).update(created_at=_ago(seconds=grace - 10))
    monkeypatch.undo()  # the broker is back
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.job_sweep()
    assert (report.dispatched, report.retried, report.failed) == ([waiting.pk], [], [])
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert (waiting.status, waiting.attempts, waiting.message) == (Job.Status.SUCCEEDED, 1, "")
    assert waiting.dispatched_at is not None
    assert (fresh.status, fresh.dispatched_at) == (Job.Status.QUEUED, None)
    assert side_effects == [waiting.pk]


def test_the_sweep_with_the_broker_still_down_leaves_the_job_waiting(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    attempts = _broker_down(monkeypatch, RedisConnectionError("down"))
    job = jobs.job_create(user=cast.county, kind=COUNTING_KIND)
    Job.objects.filter(pk=job.pk).update(created_at=_ago(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_sweep()
        jobs.job_sweep()
    job.refresh_from_db()
    assert attempts == [job.pk, job.pk]
    assert (job.status, job.dispatched_at, job.message) == (
        Job.Status.QUEUED,
        None,
        "已排队，等待后台服务恢复",
    )
    assert side_effects == []


def test_the_sweep_sends_again_a_job_the_broker_lost_long_ago(
    cast, django_capture_on_commit_callbacks
):
    lost = jobs.job_create(user=cast.county, kind=COUNTING_KIND)
    waiting = jobs.job_create(user=cast.county, kind=COUNTING_KIND)
    Job.objects.filter(pk=lost.pk).update(
        created_at=_ago(hours=2),
        dispatched_at=_ago(seconds=settings.JOB_REDISPATCH_SECONDS + 1),
    )
    # Sent a minute ago and waiting for a free worker: not sent twice.
    Job.objects.filter(pk=waiting.pk).update(
        created_at=_ago(hours=2), dispatched_at=_ago(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.job_sweep()
    assert report.dispatched == [lost.pk]
    assert side_effects == [lost.pk]
    assert Job.objects.get(pk=waiting.pk).status == Job.Status.QUEUED


def _running(cast, *, attempts: int = 1, heartbeat: datetime.datetime | None, started=None):
    job = jobs.job_create(user=cast.county, kind=COUNTING_KIND)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        attempts=attempts,
        started_at=started or heartbeat or _ago(minutes=30),
        heartbeat_at=heartbeat,
        dispatched_at=_ago(minutes=40),
    )
    return Job.objects.get(pk=job.pk)


def test_a_running_job_whose_worker_vanished_is_retried_and_runs_once(
    cast, django_capture_on_commit_callbacks
):
    stale = settings.JOB_HEARTBEAT_TIMEOUT_SECONDS
    job = _running(cast, heartbeat=_ago(seconds=stale + 1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = jobs.job_sweep()
        # Inside the sweep's transaction the job is queued again, not yet sent.
        assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    assert len(callbacks) == 1
    assert (report.dispatched, report.retried, report.failed) == ([job.pk], [job.pk], [])
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (Job.Status.SUCCEEDED, 2, "")
    assert job.message == "后台任务中断（服务重启），已自动重试"
    assert side_effects == [job.pk]


def test_a_running_job_without_heartbeat_column_is_judged_by_its_start(
    cast, django_capture_on_commit_callbacks
):
    """Jobs running when the heartbeat column was added have none: their start time counts."""
    job = _running(cast, heartbeat=None, started=_ago(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.job_sweep()
    assert report.retried == [job.pk]
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_a_job_interrupted_too_often_fails_with_a_message(cast, django_capture_on_commit_callbacks):
    job = _running(
        cast,
        attempts=settings.JOB_MAX_ATTEMPTS,
        heartbeat=_ago(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS + 1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.job_sweep()
    assert (report.dispatched, report.retried, report.failed) == ([], [], [job.pk])
    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.FAILED, "后台任务多次中断，请重新发起。")
    assert job.finished_at is not None
    assert side_effects == []


def test_a_job_running_past_the_time_limit_fails_even_with_a_heartbeat(
    cast, django_capture_on_commit_callbacks
):
    limit = settings.CELERY_TASK_TIME_LIMIT + settings.JOB_TIME_LIMIT_MARGIN_SECONDS
    job = _running(cast, heartbeat=_ago(seconds=5), started=_ago(seconds=limit + 1))
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.job_sweep()
    assert report.failed == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == (
        f"后台任务运行超过时限（{settings.CELERY_TASK_TIME_LIMIT // 60}分钟），已停止。"
        "请缩小范围后重新发起。"
    )


def test_the_sweep_leaves_a_job_with_a_live_heartbeat_alone(
    cast, django_capture_on_commit_callbacks
):
    job = _running(cast, heartbeat=_ago(seconds=10), started=_ago(minutes=50))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = jobs.job_sweep()
    assert (report.dispatched, report.retried, report.failed, callbacks) == ([], [], [], [])
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING


def test_a_second_delivery_of_a_running_job_is_a_no_op(cast):
    job = _running(cast, heartbeat=_ago(seconds=10))
    again = jobs.job_run(job.pk)
    assert (again.status, again.attempts) == (Job.Status.RUNNING, 1)
    assert side_effects == []
    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at) == (
        Job.Status.RUNNING,
        1,
        again.started_at,
    )


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="row locks (select_for_update) need PostgreSQL; SQLite ignores them",
)
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_run_the_job_once(cast):
    """A broker redelivery and a sweep's re-dispatch arriving together: the row lock lets
    one take the job; the other finds it running and does nothing."""
    import threading

    from django.db import connection

    started = threading.Barrier(2)

    def slow(job: Job, progress: jobs.Progress) -> dict:
        side_effects.append(job.pk)
        time.sleep(1.5)
        return {}

    jobs.register("test_slow_once", "测试：并发投递", may_start=roles.has_case_access)(slow)
    job = jobs.job_create(user=cast.county, kind="test_slow_once")
    outcomes: list[str] = []

    def deliver() -> None:
        try:
            started.wait(timeout=5)
            outcomes.append(jobs.job_run(job.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert side_effects == [job.pk]
    # The other delivery found the job running (or, on a very slow host, already done).
    assert len(outcomes) == 2 and Job.Status.SUCCEEDED in outcomes
    stored = Job.objects.get(pk=job.pk)
    assert (stored.status, stored.attempts) == (Job.Status.SUCCEEDED, 1)


def test_a_second_delivery_of_a_finished_job_is_a_no_op(cast):
    job = jobs.job_run(jobs.job_create(user=cast.county, kind=COUNTING_KIND).pk)
    again = jobs.job_run(job.pk)
    assert (again.status, again.attempts, side_effects) == (Job.Status.SUCCEEDED, 1, [job.pk])


def test_a_run_the_sweep_gave_up_on_does_not_overwrite_the_new_attempt(cast):
    """The old worker was only slow: when it finishes, the attempt that replaced it stands."""
    seen: dict[str, object] = {}

    def slow_then_replaced(job: Job, progress: jobs.Progress) -> dict:
        # While this run works, the sweep queues the job again and a new attempt starts.
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=job.attempts + 1)
        progress.advance(1, message="旧的尝试")
        seen["message"] = Job.objects.get(pk=job.pk).message
        return {"from": "old attempt"}

    jobs.register("test_replaced", "测试：被替换", may_start=roles.has_case_access)(
        slow_then_replaced
    )
    job = jobs.job_run(jobs.job_create(user=cast.county, kind="test_replaced").pk)
    stored = Job.objects.get(pk=job.pk)
    assert (stored.status, stored.attempts, stored.result, stored.finished_at) == (
        Job.Status.RUNNING,
        2,
        {},
        None,
    )
    assert seen["message"] == ""  # the old run's progress did not write either


def test_progress_writes_the_heartbeat(cast):
    job = _running(cast, heartbeat=_ago(minutes=3))
    before = timezone.now()
    jobs.Progress(job, every=1).advance(1)
    job.refresh_from_db()
    assert job.heartbeat_at is not None and job.heartbeat_at >= before
    assert job.progress == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_that_runs_long_without_progress_keeps_its_heartbeat(cast):
    """The worker's heartbeat thread touches the row while the job's body is busy."""
    beats: list[datetime.datetime | None] = []

    def busy(job: Job, progress: jobs.Progress) -> dict:
        first = Job.objects.get(pk=job.pk).heartbeat_at
        time.sleep(0.6)
        beats.extend([first, Job.objects.get(pk=job.pk).heartbeat_at])
        return {}

    jobs.register("test_busy", "测试：长时间无进度", may_start=roles.has_case_access)(busy)
    job = jobs.job_run(jobs.job_create(user=cast.county, kind="test_busy").pk, heartbeat_every=0.1)
    assert job.status == Job.Status.SUCCEEDED
    first, later = beats
    assert first is not None and later is not None and later > first


def test_the_task_passes_a_heartbeat_only_in_a_real_worker(cast, monkeypatch):
    calls: list[object] = []
    monkeypatch.setattr(
        jobs,
        "job_run",
        lambda job_id, heartbeat_every=None: (
            calls.append(heartbeat_every) or Job(status=Job.Status.SUCCEEDED)
        ),
    )
    jobs.run_job_task.apply(args=(1,))
    assert calls == [None]


def test_the_sweep_task_reports_by_outcome(cast, django_capture_on_commit_callbacks):
    job = _running(cast, heartbeat=_ago(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = tasks.sweep_jobs_task.apply().get()
    assert outcome == {"dispatched": [job.pk], "retried": [job.pk], "failed": []}


def test_the_sweep_runs_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-jobs"]
    assert entry["task"] == "povertyapp.tasks.sweep_jobs_task"
    assert str(entry["schedule"]) == str(
        __import__("celery.schedules").schedules.crontab(minute="*")
    )


def test_every_registered_kind_says_who_may_start_it():
    for key, kind in jobs.kinds().items():
        assert callable(kind.may_start), key


def test_the_visibility_timeout_exceeds_every_task_time_limit():
    """An unacknowledged task is redelivered after the visibility timeout: if that were shorter
    than a task's time limit, a long job would be run a second time while it still runs."""
    celery_app.loader.import_default_modules()
    ours = [task for name, task in celery_app.tasks.items() if not name.startswith("celery.")]
    longest = max(task.time_limit or celery_app.conf.task_time_limit for task in ours)
    assert longest == settings.CELERY_TASK_TIME_LIMIT
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    assert visibility == settings.CELERY_TASK_TIME_LIMIT + 30 * 60
    assert visibility > longest


def test_a_publish_gives_up_quickly_when_redis_does_not_answer():
    assert celery_app.conf.broker_transport_options["socket_connect_timeout"] == 3
    assert celery_app.conf.broker_connection_timeout == 3.0
    # The job row is the result: a publish never waits on the result store.
    assert jobs.run_job_task.ignore_result is True


def test_database_connections_are_health_checked():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


# --- the job row's bookkeeping: a short job writes its row twice ----------------------------

STEPPING_KIND = "test_jobs_steps"


@jobs.register(STEPPING_KIND, "测试：分步进度", may_start=roles.has_case_access)
def _steps(job: Job, progress: jobs.Progress) -> dict:
    progress.set_total(5)
    progress.advance(1, message="第一步")
    progress.advance(2, message="第二步")
    return {"steps": 2}


def _job_row_writes(captured) -> list[str]:
    table = Job._meta.db_table
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith("UPDATE") and table in query["sql"]
    ]


def test_a_short_job_claims_its_row_and_writes_its_progress_with_its_end(cast):
    """The claim and the end: two writes of the job row; the progress that came in between
    (within PROGRESS_MIN_SECONDS of the claim) is written with the end, nothing is lost."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = jobs.job_create(user=cast.county, kind=STEPPING_KIND)
    with CaptureQueriesContext(connection) as captured:
        finished = jobs.job_run(job.pk)
    assert len(_job_row_writes(captured)) == 2
    stored = Job.objects.get(pk=job.pk)
    assert (stored.status, stored.attempts, stored.result) == (
        Job.Status.SUCCEEDED,
        1,
        {"steps": 2},
    )
    assert (stored.total, stored.progress, stored.message) == (5, 5, "第二步")
    assert (finished.total, finished.message) == (5, "第二步")


def test_progress_is_written_as_it_comes_once_the_interval_has_passed(cast, monkeypatch):
    """A long job (every step after PROGRESS_MIN_SECONDS) writes each step for its page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(jobs, "PROGRESS_MIN_SECONDS", 0.0)
    job = jobs.job_create(user=cast.county, kind=STEPPING_KIND)
    with CaptureQueriesContext(connection) as captured:
        jobs.job_run(job.pk)
    assert len(_job_row_writes(captured)) == 5  # claim, total, two steps, end


def test_a_failed_short_job_keeps_the_progress_it_reached(cast):
    def fails(job: Job, progress: jobs.Progress) -> dict:
        progress.set_total(3)
        progress.advance(1, message="第1个村")
        raise jobs.JobFailed("该村尚未录入村级年度信息。")

    jobs.register("test_jobs_fails_short", "测试：短任务失败", may_start=roles.has_case_access)(
        fails
    )
    job = jobs.job_run(jobs.job_create(user=cast.county, kind="test_jobs_fails_short").pk)
    stored = Job.objects.get(pk=job.pk)
    assert (stored.status, stored.error) == (Job.Status.FAILED, "该村尚未录入村级年度信息。")
    assert (stored.progress, stored.total, stored.message) == (1, 3, "第1个村")


def test_a_second_claim_of_a_running_job_writes_nothing(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = _running(cast, heartbeat=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        again = jobs.job_run(job.pk)
    assert again.status == Job.Status.RUNNING and again.attempts == 1
    assert side_effects == []
    assert len(_job_row_writes(captured)) == 1  # the conditional claim, which matched nothing
