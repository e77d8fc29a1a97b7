"""Celery tasks of the assessment side."""

from __future__ import annotations

from celery import shared_task

from inspections import services


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def mark_overdue_rectification_task() -> int:
    """Daily: record an 整改逾期 event once for every open 督查整改 item past its deadline.
    Idempotent: an item already marked is not marked again."""
    return services.rectification_mark_overdue()
