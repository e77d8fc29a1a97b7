"""Event rows for campaigns, findings, correction tasks and rectification items: written by the
services in the same transaction as the change they record."""

from __future__ import annotations

from typing import Any

from inspections.models import (
    Campaign,
    CorrectionTask,
    Finding,
    InspectionEvent,
    RectificationItem,
)
from povertyapp.models import User


def event_record(
    *,
    kind: str,
    actor: User | None,
    campaign: Campaign | None = None,
    finding: Finding | None = None,
    task: CorrectionTask | None = None,
    item: RectificationItem | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> InspectionEvent:
    event = InspectionEvent(
        kind=kind,
        actor=actor,
        campaign=campaign,
        finding=finding,
        task=task,
        item=item,
        from_status=from_status,
        to_status=to_status,
        note=note[:500],
        data=data or {},
    )
    event.full_clean()
    event.save()
    return event
