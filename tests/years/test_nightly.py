"""The nightly checks (issue 16): the data-quality check and the policy-coverage job run every
night through beat, one job per county, at most one a night."""

from __future__ import annotations

import pytest
from django.conf import settings

from assistance.tasks import COVERAGE_JOB, enqueue_coverage_jobs_task
from households import completeness, quality
from households.tasks import enqueue_member_completeness_jobs_task, enqueue_quality_jobs_task
from povertyapp.celery import app
from povertyapp.models import Job, Region
from tests import factories

NIGHTLY = {
    "data-quality-nightly": "households.tasks.enqueue_quality_jobs_task",
    "member-completeness-nightly": "households.tasks.enqueue_member_completeness_jobs_task",
    "assistance-coverage-nightly": "assistance.tasks.enqueue_coverage_jobs_task",
}


@pytest.mark.parametrize(("entry", "task"), sorted(NIGHTLY.items()))
def test_the_nightly_checks_are_in_beat_and_name_real_tasks(entry, task):
    scheduled = settings.CELERY_BEAT_SCHEDULE[entry]
    assert scheduled["task"] == task
    app.loader.import_default_modules()
    assert task in app.tasks
    schedule = scheduled["schedule"]
    # Once every night: one hour and minute, every day of the week and of the month.
    assert (len(schedule.hour), len(schedule.minute)) == (1, 1)
    assert (schedule.day_of_week, schedule.day_of_month) == (set(range(7)), set(range(1, 32)))


@pytest.fixture
def two_counties(county):
    other = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    return [county.county, other]


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        (enqueue_quality_jobs_task, quality.JOB_KIND),
        (enqueue_coverage_jobs_task, COVERAGE_JOB),
        (enqueue_member_completeness_jobs_task, completeness.JOB_KIND),
    ],
)
def test_the_nightly_task_enqueues_one_job_per_county_once_a_night(two_counties, task, kind):
    assert task() == 2
    jobs = Job.objects.filter(kind=kind).order_by("region__code")
    assert [(job.region, job.created_by, job.status) for job in jobs] == [
        (two_counties[0], None, Job.Status.QUEUED),
        (two_counties[1], None, Job.Status.QUEUED),
    ]
    # Beat delivered twice the same night (acks_late, a restart): nothing new.
    assert task() == 0
    assert Job.objects.filter(kind=kind).count() == 2


def test_a_users_own_run_does_not_stand_for_the_nightly_one(two_counties, cast):
    from povertyapp import jobs

    jobs.job_create(user=cast.county, kind=quality.JOB_KIND, region=two_counties[0])
    assert enqueue_quality_jobs_task() == 2
    assert Job.objects.filter(kind=quality.JOB_KIND, created_by__isnull=True).count() == 2
