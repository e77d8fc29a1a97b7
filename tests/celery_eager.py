"""pytest plugin (loaded by `make pytest` with `-p tests.celery_eager`): every test runs Celery
tasks eagerly, in-process, even when the environment configures a broker, except the tests
marked `real_worker`, which send their tasks to the real worker CI starts.

Without it, the CI run on PostgreSQL + Redis would send the tasks of ordinary tests (whose data
lives in a transaction the worker cannot see) to the worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def eager() -> Iterator[None]:
    """Celery runs tasks in-process, and raises their errors, until the block ends: for every
    test (below) and for what a wider-scoped fixture builds before the tests run (test_demo.py's
    seed)."""
    from povertyapp.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True)
def _celery_eager_unless_real_worker(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("real_worker"):
        yield
        return
    with eager():
        yield
