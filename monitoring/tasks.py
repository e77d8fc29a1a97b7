"""Celery entry points of monitoring (Celery autodiscovers `<app>.tasks`)."""

from __future__ import annotations

import datetime

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=110, time_limit=115)
def refresh_figures_task(region_id: int, day: str) -> None:
    """Recompute one region's dashboard figures in the background (`figures.dashboard_figures`
    sends it when a cached entry went stale; the pages meanwhile show the entry it replaces).
    Lost, it costs nothing: the hold it was sent under expires and the next page sends again."""
    from monitoring import figures

    figures.refresh(region_id, datetime.date.fromisoformat(day))
