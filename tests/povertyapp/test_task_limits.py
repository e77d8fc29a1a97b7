"""Every task of ours can be sent: Celery refuses a task whose soft limit exceeds its hard limit.

A task that sets only `time_limit` inherits the settings' soft limit (55 minutes by default),
which is larger than a 10-minute hard limit: `apply_async` then raises instead of queueing, so
a nightly beat entry would never run. These checks read the limits the way Celery does.
"""

import pytest
from django.conf import settings

from povertyapp.celery import app
from tests.project import PROJECT_APPS

OUR_APPS = tuple(f"{app}." for app in PROJECT_APPS)


def _our_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if name.startswith(OUR_APPS))


def test_our_tasks_are_registered():
    names = _our_tasks()
    assert "povertyapp.tasks.run_job_task" in names
    assert len(names) >= 5


@pytest.mark.parametrize("name", _our_tasks())
def test_soft_limit_is_below_the_hard_limit(name):
    task = app.tasks[name]
    hard = task.time_limit or app.conf.task_time_limit
    soft = task.soft_time_limit or app.conf.task_soft_time_limit
    if hard and soft:
        assert soft < hard, f"{name}: soft {soft} s ≥ hard {hard} s"


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_a_task_of_ours(entry):
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in _our_tasks()
