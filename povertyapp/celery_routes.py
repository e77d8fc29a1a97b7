"""Which Celery queue a task goes to (settings: CELERY_TASK_QUEUES, CELERY_TASK_ROUTES,
JOB_QUEUES; docs/operations.md, "Queues").

The beat tasks have their queue by name in CELERY_TASK_ROUTES. The job runners
(`povertyapp.jobs.run_job_task`, `run_chord_job_task`) run every kind of job, so their queue is
the job's: `job_queue` by its kind and parameters. `povertyapp.jobs` names the queue itself when
it sends a chord (its jobs' kinds read in one statement); `route_job`, the first router of
CELERY_TASK_ROUTES, reads the job row for a single dispatch.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from povertyapp.models import Job

JOB_TASKS = ("povertyapp.tasks.run_job_task", "povertyapp.tasks.run_chord_job_task")
DEFAULT_QUEUE = "celery"
FAN_OUT_QUEUE = "rates"


def queues() -> list[str]:
    """The queues a worker without `-Q` consumes: every one declared in the settings."""
    return list(settings.CELERY_TASK_QUEUES)


def job_queue(kind: str, parameters: dict[str, Any] | None = None) -> str:
    """The queue of a job: JOB_QUEUES by its kind; else a job of a fan-out (one county of a
    province's rates, `parameters["serial"]`) on `rates`; else the default queue."""
    queue = settings.JOB_QUEUES.get(kind)
    if queue is not None:
        return str(queue)
    if parameters and parameters.get("serial"):
        return FAN_OUT_QUEUE
    return str(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", DEFAULT_QUEUE))


def job_queues(job_ids: list[int]) -> dict[int, str]:
    """The queue of each job of `job_ids`, in one statement (a job that is gone: the default)."""
    found = {
        pk: job_queue(kind, parameters)
        for pk, kind, parameters in Job.objects.filter(pk__in=job_ids).values_list(
            "pk", "kind", "parameters"
        )
    }
    return {job_id: found.get(job_id, job_queue("")) for job_id in job_ids}


def route_job(
    name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **extra: Any
) -> dict[str, str] | None:
    """Celery router: the job runners' queue is their job's (`job_queue`); other tasks are
    left to the next router (the names in CELERY_TASK_ROUTES). A dispatch that names its queue
    keeps it."""
    if name not in JOB_TASKS or options.get("queue"):
        return None
    job_id = (args or [None])[0] if args else (kwargs or {}).get("job_id")
    if job_id is None:
        return {"queue": job_queue("")}
    return {"queue": job_queues([int(job_id)])[int(job_id)]}
