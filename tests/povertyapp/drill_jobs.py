"""The fault drills' Celery app: the project's app plus a slow, test-only job kind.

`celery -A tests.povertyapp.drill_jobs worker` runs the project's tasks and can run
`drill_slow`: a job of DRILL_STEPS steps of DRILL_STEP_SECONDS each, reporting progress, that
appends one line to $DRILL_EFFECTS_DIR/effects-<job id> when it completes (its side effect, so
the drill counts how many times the job really completed) and one to .../started-<job id> at
each start.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
django.setup()

from povertyapp import jobs, roles  # noqa: E402
from povertyapp.celery import app  # noqa: E402
from povertyapp.models import Job  # noqa: E402

SLOW_KIND = "drill_slow"


def _append(name: str, job: Job) -> None:
    directory = Path(os.environ["DRILL_EFFECTS_DIR"])
    with (directory / f"{name}-{job.pk}").open("a", encoding="utf-8") as effects:
        effects.write(f"{job.pk} attempt {job.attempts} pid {os.getpid()}\n")


@jobs.register(SLOW_KIND, "演练：慢任务", may_start=roles.can_configure)
def slow(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    steps = int(os.environ.get("DRILL_STEPS", "10"))
    _append("started", job)
    progress.set_total(steps)
    for step in range(steps):
        time.sleep(float(os.environ.get("DRILL_STEP_SECONDS", "0.5")))
        progress.advance(1, message=f"第{step + 1}步")
    _append("effects", job)
    return {"steps": steps}


__all__ = ["SLOW_KIND", "app"]
