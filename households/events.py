"""Event rows: every change of status or membership, written in the same transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models

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
    round: models.Model | None = None,  # a `rounds.AdjustmentRound`, handed in by the rounds app
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
        round_id=round.pk if round is not None else None,
        proposed_by=proposed_by or actor,
        approved_by=approved_by,
        created_by=actor,
        data=data or {},
    )
    event.full_clean()
    event.save()
    return event
