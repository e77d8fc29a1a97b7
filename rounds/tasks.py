"""The rounds' periodic task: the nightly recomputation of every open round's figures."""

from __future__ import annotations

from celery import shared_task

from rounds import (
    rates,
    services,  # noqa: F401  (registers the rounds.changes_import job kind)
)


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def compute_open_rounds_task() -> int:
    """Nightly: recompute the snapshots of every open round (one job per county, as a group)."""
    return len(rates.open_rounds_enqueue())
