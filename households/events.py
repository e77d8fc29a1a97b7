"""Event rows: every change of status or membership, written in the same transaction."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.db.models import Model

from households.models import Household, HouseholdEvent, Member
from povertyapp.models import User


def event_record(
    *,
    household: Household,
    kind: str,
    actor: User | None,
    effective_date: datetime.date,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    ground: str = "",
    persons: int | None = None,
    member: Member | None = None,
    round: Model | None = None,
    proposed_by: User | None = None,
    approved_by: User | None = None,
    data: dict[str, Any] | None = None,
) -> HouseholdEvent:
    if persons is None:
        persons = household.members.filter(is_active=True).count()
    event = HouseholdEvent(
        household=household,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        effective_date=effective_date,
        reason=reason,
        ground=ground,
        persons=persons,
        member=member,
        # The 动态调整 round (the rounds app's model, which the registry does not import):
        # whatever `households.hooks` handed out, checked by the foreign key's full_clean.
        round=cast("Any", round),
        proposed_by=proposed_by or actor,
        approved_by=approved_by,
        created_by=actor,
        data=data or {},
    )
    event.full_clean()
    event.save()
    return event
