"""The job machinery: eager runs (the embedded default) and one real job through a real worker.

The real-worker test runs only when CI (or a developer) has started a Celery worker on the same
database pytest uses (`test_<NAME>`) and says so with REAL_CELERY_WORKER=1; otherwise it is
skipped with the reason.
"""

from __future__ import annotations

import importlib
import os
import time

import pytest
from django.apps import apps as django_apps
from django.conf import settings

from households import region_counts
from households.models import Household, ValueListItem
from povertyapp import jobs, roles
from povertyapp.celery import app as celery_app
from povertyapp.models import Job
from tests import factories

FAILING_KIND = "test_fails_for_user"
CRASHING_KIND = "test_crashes"
COUNTING_KIND = "test_counts_runs"
RUNS: list[int] = []


@jobs.register(FAILING_KIND, "测试：用户可读的失败", may_start=roles.has_case_access)
def _fails(job: Job, progress: jobs.Progress) -> dict:
    progress.set_total(4)
    progress.advance(1, message="第1个村")
    raise jobs.JobFailed("该村尚未录入村级年度信息。")


@jobs.register(CRASHING_KIND, "测试：意外错误", may_start=roles.has_case_access)
def _crashes(job: Job, progress: jobs.Progress) -> dict:
    return {"ratio": 1 / 0}


@jobs.register(COUNTING_KIND, "测试：计数", may_start=roles.has_case_access)
def _counts(job: Job, progress: jobs.Progress) -> dict:
    RUNS.append(job.pk)
    return {"runs": len(RUNS)}


def _registry(cast, county) -> dict[str, int]:
    """Households in villages A (2 poor, 1 exited), A2 (1 removed) and B (1 poor)."""
    factories.household(actor=cast.county, village=county.village_a)  # 2 persons
    factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[factories.member_data(name="王五")],
    )  # 1 person
    factories.household(
        actor=cast.county, village=county.village_a, status=Household.Status.EXITED
    )  # 2 persons
    factories.household(
        actor=cast.county, village=county.village_a2, status=Household.Status.REMOVED
    )  # 2 persons
    factories.household(actor=cast.county, village=county.village_b)  # 2 persons
    return {"households": 5, "persons": 9}


def _expected_township1() -> dict:
    zero = {status.value: 0 for status in Household.Status}
    return {
        "region": "522622100000",
        "villages": 2,
        "households": 4,
        "persons": 7,
        "by_status": zero | {"poor": 2, "exited": 1, "removed": 1},
        "persons_by_status": zero | {"poor": 3, "exited": 2, "removed": 2},
    }


# --- eager mode (the embedded default) ---------------------------------------------------


@pytest.fixture
def eager(settings):
    """Run tasks in-process, whatever broker the environment configured."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


def test_region_counts_job_runs_after_commit_and_stores_the_counts(
    cast, county, eager, django_capture_on_commit_callbacks
):
    _registry(cast, county)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = jobs.job_enqueue(user=cast.county, kind=region_counts.KIND, region=county.township1)
        assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == _expected_township1()
    assert (job.progress, job.total, job.attempts) == (2, 2, 1)
    assert job.error == ""
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_region_counts_of_the_county_covers_every_village(cast, county, eager):
    _registry(cast, county)
    job = jobs.job_create(user=cast.county, kind=region_counts.KIND, region=county.county)
    job = jobs.job_run(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert (job.result["villages"], job.result["households"], job.result["persons"]) == (3, 5, 9)


def test_region_counts_count_only_active_members(cast, county, eager):
    household = factories.household(actor=cast.county, village=county.village_b)
    spouse = household.members.get(relation="配偶")
    household.members.filter(pk=spouse.pk).update(is_active=False, left_reason="死亡")
    job = jobs.job_run(
        jobs.job_create(user=cast.county, kind=region_counts.KIND, region=county.village_b).pk
    )
    assert (job.result["households"], job.result["persons"]) == (1, 1)


def test_region_counts_without_region_fails_with_a_message(cast, county, eager):
    job = jobs.job_run(jobs.job_create(user=cast.county, kind=region_counts.KIND).pk)
    assert job.status == Job.Status.FAILED
    assert job.error == "请选择要统计的区划。"
    assert job.result == {}


def test_job_failed_is_recorded_with_the_users_message(cast, eager):
    job = jobs.job_run(jobs.job_create(user=cast.cadre, kind=FAILING_KIND).pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "该村尚未录入村级年度信息。"
    assert (job.progress, job.total, job.message) == (1, 4, "第1个村")
    assert job.finished_at is not None


def test_unexpected_error_is_recorded_for_the_user_without_details(cast, eager, caplog):
    job = jobs.job_run(jobs.job_create(user=cast.cadre, kind=CRASHING_KIND).pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "任务执行出错：ZeroDivisionError。请联系县扶贫办或系统管理员。"
    assert "division by zero" not in job.error
    assert any("failed" in record.getMessage() for record in caplog.records)


def test_a_finished_job_delivered_again_is_not_run_again(cast, eager):
    RUNS.clear()
    job = jobs.job_create(user=cast.cadre, kind=COUNTING_KIND)
    first = jobs.job_run(job.pk)
    finished_at = first.finished_at
    second = jobs.job_run(job.pk)  # at-least-once delivery: the same message again
    assert [job.pk] == RUNS
    second.refresh_from_db()
    assert (second.status, second.result, second.attempts) == (Job.Status.SUCCEEDED, {"runs": 1}, 1)
    assert second.finished_at == finished_at


def test_a_failed_job_delivered_again_is_not_run_again(cast, eager):
    job = jobs.job_run(jobs.job_create(user=cast.cadre, kind=FAILING_KIND).pk)
    again = jobs.job_run(job.pk)
    again.refresh_from_db()
    assert (again.status, again.attempts) == (Job.Status.FAILED, 1)


def test_unknown_job_kind_is_refused_and_writes_nothing(cast):
    with pytest.raises(ValueError, match="no_such_kind"):
        jobs.job_enqueue(user=cast.cadre, kind="no_such_kind")
    assert Job.objects.count() == 0


# --- a real worker -----------------------------------------------------------------------

REAL_WORKER = os.environ.get("REAL_CELERY_WORKER") == "1"
WORKER_TIMEOUT = float(os.environ.get("REAL_CELERY_WORKER_TIMEOUT", "90"))


@pytest.mark.real_worker
@pytest.mark.skipif(
    not (REAL_WORKER and settings.CELERY_BROKER_URL),
    reason="needs a running Celery worker on the test database: set CELERY_BROKER_URL and "
    "REAL_CELERY_WORKER=1 (.ci/run does)",
)
def test_region_counts_job_runs_in_a_real_worker(transactional_db, cast, county):
    # An earlier transactional test flushed every table, the value lists seeded by the data
    # migration included: put them back so the households below validate.
    if not ValueListItem.objects.exists():
        importlib.import_module("households.migrations.0003_default_value_lists").add_defaults(
            django_apps, None
        )
    assert not celery_app.conf.task_always_eager, "eager mode would not reach the worker"
    replies = celery_app.control.ping(timeout=5.0)
    assert replies, "REAL_CELERY_WORKER=1 but no Celery worker answers on the broker"
    _registry(cast, county)
    job = jobs.job_enqueue(user=cast.county, kind=region_counts.KIND, region=county.township1)
    deadline = time.monotonic() + WORKER_TIMEOUT
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            break
        time.sleep(0.2)
    assert job.status == Job.Status.SUCCEEDED, (job.status, job.error)
    assert job.result == _expected_township1()
    assert (job.progress, job.total, job.attempts) == (2, 2, 1)
    assert job.error == ""
