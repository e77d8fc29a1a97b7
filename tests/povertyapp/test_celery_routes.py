"""Celery queues (settings CELERY_TASK_QUEUES / CELERY_TASK_ROUTES / JOB_QUEUES): every task has
its route, long exports and imports go to `heavy`, a rates fan-out to `rates`, and a cadre's
small job stays on the default queue, so a big export never holds it up."""

from __future__ import annotations

import pytest
from django.conf import settings

from povertyapp import celery_routes, jobs
from povertyapp.celery import app as celery_app

QUEUES = set(settings.CELERY_TASK_QUEUES)
JOB_TASKS = celery_routes.JOB_TASKS


def _project_tasks() -> list[str]:
    celery_app.loader.import_default_modules()
    return sorted(name for name in celery_app.tasks if not name.startswith("celery."))


def _queue(name: str, args: tuple = ()) -> str:
    options = celery_app.amqp.router.route({}, name, args=args, kwargs={})
    return options["queue"].name


def test_the_three_queues_are_declared_and_the_default_is_one_of_them():
    assert sorted(QUEUES) == ["celery", "heavy", "rates"]
    assert settings.CELERY_TASK_DEFAULT_QUEUE in QUEUES
    # A worker without -Q consumes every declared queue (a county's one worker does all).
    assert set(celery_app.amqp.queues) == QUEUES


def test_every_registered_task_has_a_route_by_name_or_by_its_job():
    by_name = next(route for route in settings.CELERY_TASK_ROUTES if isinstance(route, dict))
    tasks = _project_tasks()
    assert "povertyapp.tasks.run_job_task" in tasks
    missing = [name for name in tasks if name not in by_name and name not in JOB_TASKS]
    assert missing == [], f"tasks without a route in CELERY_TASK_ROUTES: {missing}"
    for name, route in by_name.items():
        assert name in tasks, f"a route for a task that does not exist: {name}"
        assert route["queue"] in QUEUES
        assert _queue(name) == route["queue"]


def test_every_job_kind_and_every_configured_queue_is_a_declared_queue():
    for kind in jobs.kinds():
        assert celery_routes.job_queue(kind) in QUEUES
    assert set(settings.JOB_QUEUES) <= set(jobs.kinds()), "JOB_QUEUES names an unknown kind"
    assert set(settings.JOB_QUEUES.values()) <= QUEUES


@pytest.mark.parametrize(
    ("kind", "parameters", "queue"),
    [
        ("ledger_export", {}, "heavy"),
        ("households_import", {}, "heavy"),
        ("region_counts", {}, "celery"),
        ("compute_rates", {"round": 1}, "celery"),  # a county's own rates: a small job
        ("compute_rates", {"round": 1, "serial": True}, "rates"),  # one county of a fan-out
        ("rollup_rates", {"year": 2020}, "rates"),
    ],
)
def test_a_job_goes_to_its_kinds_queue(cast, kind, parameters, queue):
    job = jobs.job_create(user=None, kind=kind, parameters=parameters)
    assert _queue("povertyapp.tasks.run_job_task", (job.pk,)) == queue
    assert _queue("povertyapp.tasks.run_chord_job_task", (job.pk,)) == queue
    assert celery_routes.job_queues([job.pk]) == {job.pk: queue}


def test_a_dispatch_that_names_its_queue_keeps_it(cast):
    job = jobs.job_create(user=None, kind="ledger_export")
    options = celery_app.amqp.router.route(
        {"queue": "rates"}, "povertyapp.tasks.run_job_task", args=(job.pk,), kwargs={}
    )
    assert options["queue"].name == "rates"


def test_a_chord_sends_each_job_on_its_queue(cast, monkeypatch):
    """`job_dispatch_chord` names each task's queue from one read of the jobs' kinds."""
    import celery

    county_jobs = [
        jobs.job_create(user=None, kind="compute_rates", parameters={"round": 1, "serial": True})
        for _ in range(2)
    ]
    rollup = jobs.job_create(user=None, kind="rollup_rates", parameters={"year": 2020})
    sent: dict[str, object] = {}

    class FakeChord:
        def __init__(self, header):
            sent["header"] = header

        def __call__(self, body):
            sent["body"] = body

    monkeypatch.setattr(celery, "chord", FakeChord)
    assert jobs.job_dispatch_chord([job.pk for job in county_jobs], rollup.pk)
    assert [task.options["queue"] for task in sent["header"]] == ["rates", "rates"]
    assert sent["body"].options["queue"] == "rates"
