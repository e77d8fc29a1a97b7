"""Event rows of the assistance app: every state change, in the same transaction."""

from __future__ import annotations

from typing import Any

from assistance.models import AssistanceEvent, Measure, Project, Visit
from households.models import Household
from povertyapp.models import User


def event_record(
    *,
    kind: str,
    actor: User | None,
    household: Household | None = None,
    project: Project | None = None,
    measure: Measure | None = None,
    visit: Visit | None = None,
    from_value: str = "",
    to_value: str = "",
    summary: str = "",
    data: dict[str, Any] | None = None,
) -> AssistanceEvent:
    event = AssistanceEvent(
        kind=kind,
        actor=actor,
        household=household,
        project=project,
        measure=measure,
        visit=visit,
        from_value=str(from_value)[:64],
        to_value=str(to_value)[:64],
        summary=summary[:500],
        data=data or {},
    )
    event.full_clean()
    event.save()
    return event
