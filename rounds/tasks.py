"""The rounds' periodic task: the nightly recomputation of every open round's figures."""

from __future__ import annotations

from celery import shared_task

from rounds import (
    rollup,
    services,  # noqa: F401  (registers the rounds.changes_import job kind)
)


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def compute_open_rounds_task() -> int:
    """Nightly: recompute the snapshots of every open round (one job per county, as a group),
    and roll the counties under a city or province up after them (a chord per root and year:
    `rounds.rollup.open_rounds_rollup_enqueue`)."""
    return len(rollup.open_rounds_rollup_enqueue())


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def prune_figure_history_task() -> int:
    """Nightly: delete the dated figure history older than `settings.FIGURE_HISTORY_WEEKS`
    (`rounds.history.history_prune`); returns how many rows."""
    from rounds import history

    return history.history_prune()
