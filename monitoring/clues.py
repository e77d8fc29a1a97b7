"""One inbox of 风险线索 (issue 15): every channel creates its clues here, so that each is matched
by ID number to a person of the registry, deduplicated against the open clues and the current
monitoring objects, and given its village and clocks the same way.

- matched to a member: the clue belongs to the member's village; a clue for a household that
  already has an open clue or is a current monitoring object is recorded as a duplicate of it
  (kept, linked, closed at once: the department still gets its answer);
- no person of the registry holds the ID: a "register this household" task (待登记) for the
  declared village, or the county for a department row with no village;
- the clocks of the local rules (`monitoring.rules`): 入户核实 within 2 working days of
  acceptance, the decision within 15 days of the clue's date (or 20 working days where the
  province counts so).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from households.identity import normalise_id_number
from households.models import Household, Member
from households.services import common
from households.workflows import add_working_days
from monitoring.models import Clue, LocalRules, MonitoringObject
from monitoring.rules import rules_for
from povertyapp.crypto import blind_index
from povertyapp.models import Region, User


def verify_due(accepted_on: datetime.date, rules: LocalRules) -> datetime.date:
    """入户核实 within 2 working days (the local rule) of acceptance, by the holiday calendar."""
    return add_working_days(accepted_on, rules.verify_working_days)


def decide_due(received_on: datetime.date, rules: LocalRules) -> datetime.date:
    """Identification finished within 15 days of the clue (the local rule); some provinces
    count 20 working days (`identify_in_working_days`)."""
    if rules.identify_in_working_days:
        return add_working_days(received_on, rules.identify_days)
    return received_on + datetime.timedelta(days=rules.identify_days)


@dataclass(frozen=True)
class Match:
    member: Member | None
    household: Household | None
    # An open clue or a current monitoring object of the same household (or ID, unmatched).
    duplicate_of: Clue | None
    current_object: MonitoringObject | None


def match(id_number: str) -> Match:
    """The person holding this ID (the active member first), and what already covers them."""
    number = normalise_id_number(id_number)
    member = (
        Member.objects.with_id_number(number)
        .select_related("household", "household__village")
        .order_by("left_on", "-id")
        .first()
    )
    household = member.household if member is not None else None
    current = None
    duplicate = None
    if household is not None:
        current = MonitoringObject.objects.filter(
            household=household, state__in=MonitoringObject.CURRENT_STATES
        ).first()
        duplicate = (
            Clue.objects.filter(household=household, state__in=Clue.OPEN_STATES)
            .order_by("received_on", "id")
            .first()
        )
    else:
        duplicate = (
            Clue.objects.filter(id_number_index=blind_index(number), state__in=Clue.OPEN_STATES)
            .order_by("received_on", "id")
            .first()
        )
    return Match(member=member, household=household, duplicate_of=duplicate, current_object=current)


def clue_create(
    *,
    channel: str,
    name: str,
    id_number: str,
    risk_type: str,
    received_on: datetime.date,
    actor: User | None,
    region: Region | None = None,
    phone: str = "",
    difficulty: str = "",
    department: str = "",
    source_list: Any = None,
    source_row: int | None = None,
    amount: Decimal | None = None,
    details: dict[str, Any] | None = None,
    via_hotline: bool = False,
    matched: Match | None = None,
) -> Clue:
    """Record one clue of any channel (validated first: nothing is written on bad input).
    `region` is the declared village (self-declaration, hotline) or None (a department row: the
    village comes from the matched household, else the list's county). `matched` lets a bulk
    caller pass a match it computed for many rows at once."""
    number = normalise_id_number(id_number)
    found = matched if matched is not None else match(number)
    today = common.today()
    if received_on > today:
        raise ValidationError(
            {"received_on": [ValidationError(_("线索日期不能晚于今天。"), code="future")]}
        )
    if found.household is not None:
        owner = found.household.village
    elif region is not None:
        owner = region
    elif source_list is not None:
        owner = source_list.county
    else:
        raise ValidationError({"region": [ValidationError(_("请选择所在村。"), code="required")]})
    accepted_on = today
    rules = rules_for(owner)
    clue = Clue(
        channel=channel,
        via_hotline=via_hotline,
        department=department,
        source_list=source_list,
        source_row=source_row,
        region=owner,
        household=found.household,
        member=found.member,
        name=name.strip(),
        id_number=number,
        phone=phone.strip(),
        risk_type=risk_type,
        difficulty=difficulty.strip(),
        amount=amount,
        details=details or {},
        received_on=received_on,
        accepted_on=accepted_on,
        verify_due=verify_due(accepted_on, rules),
        decide_due=decide_due(received_on, rules),
        created_by=actor,
    )
    if found.household is None:
        clue.state = Clue.State.UNREGISTERED
    if found.duplicate_of is not None:
        clue.state = Clue.State.DUPLICATE
        clue.duplicate_of = found.duplicate_of
        clue.result_reason = _("已有未办结线索")
        clue.decided_on = today
    elif found.current_object is not None:
        clue.state = Clue.State.DUPLICATE
        clue.monitoring_object = found.current_object
        clue.result_reason = _("该户已是监测对象")
        clue.decided_on = today
    clue.full_clean(exclude=["id_number_index"])
    clue.save()
    return clue


def open_clues() -> QuerySet[Clue]:
    return Clue.objects.filter(state__in=Clue.OPEN_STATES)


def reference(clue: Clue) -> str:
    """The 受理回执 number a declarant quotes when calling back: the date received and the
    clue's number (no personal data)."""
    return f"FX{clue.received_on:%Y%m%d}{clue.pk:06d}"


def callback_due(clue: Clue) -> datetime.date:
    """When the declarant is promised a visit (入户核实): the clue's 入户核实 due date."""
    return clue.verify_due
