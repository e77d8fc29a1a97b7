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
from collections.abc import Iterable, Iterator
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


# One query per chunk of IDs (`id_number_index__in`), however long the list.
MATCH_CHUNK = 5000


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def match_many(numbers: Iterable[str], *, chunk: int = MATCH_CHUNK) -> dict[str, Match]:
    """`match` for many IDs at once (normalised number → Match), a few queries per chunk of
    `chunk` IDs whatever their number: the person holding each ID (the active member first,
    then the latest), the current monitoring object of their household, and the earliest
    open clue of the household (or, for an ID no person holds, of the ID)."""
    by_index: dict[str, str] = {}
    for raw in numbers:
        number = normalise_id_number(raw)
        if number:
            by_index.setdefault(blind_index(number), number)
    members: dict[str, Member] = {}
    for part in _chunks(list(by_index), chunk):
        for member in Member.objects.filter(id_number_index__in=part).select_related(
            "household", "household__village"
        ):
            held = members.get(member.id_number_index)
            if held is None or (member.is_active, member.pk) > (held.is_active, held.pk):
                members[member.id_number_index] = member
    household_ids = sorted({member.household_id for member in members.values()})
    current: dict[int, MonitoringObject] = {}
    open_by_household: dict[int, Clue] = {}
    for part in _chunks(household_ids, chunk):
        for item in MonitoringObject.objects.filter(
            household_id__in=part, state__in=MonitoringObject.CURRENT_STATES
        ).order_by("-id"):
            current[item.household_id] = item  # the earliest wins (ordered newest first)
        for clue in Clue.objects.filter(household_id__in=part, state__in=Clue.OPEN_STATES).order_by(
            "-received_on", "-id"
        ):
            assert clue.household_id is not None
            open_by_household[clue.household_id] = clue
    unmatched = [index for index in by_index if index not in members]
    open_by_index: dict[str, Clue] = {}
    for part in _chunks(unmatched, chunk):
        for clue in Clue.objects.filter(
            id_number_index__in=part, state__in=Clue.OPEN_STATES
        ).order_by("-received_on", "-id"):
            open_by_index[clue.id_number_index] = clue
    found: dict[str, Match] = {}
    for index, number in by_index.items():
        held = members.get(index)
        if held is None:
            found[number] = Match(
                member=None,
                household=None,
                duplicate_of=open_by_index.get(index),
                current_object=None,
            )
            continue
        found[number] = Match(
            member=held,
            household=held.household,
            duplicate_of=open_by_household.get(held.household_id),
            current_object=current.get(held.household_id),
        )
    return found


def match(id_number: str) -> Match:
    """The person holding this ID (the active member first), and what already covers them."""
    number = normalise_id_number(id_number)
    return match_many([number]).get(number) or Match(None, None, None, None)


def clue_build(
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
    today: datetime.date | None = None,
    rules_cache: dict[int, LocalRules] | None = None,
) -> Clue:
    """One clue of any channel, validated and not yet saved (`clue_create` saves it; a
    department list builds many and saves them with `bulk_create`). `region` is the declared
    village (self-declaration, hotline) or None (a department row: the village comes from the
    matched household, else the list's county). `matched` lets a bulk caller pass a match it
    computed for many rows at once (`match_many`); `rules_cache` keeps the local rules of each
    owner region across the calls; the related rows a bulk caller passes come from its own
    queries, so they are not fetched again to be validated."""
    number = normalise_id_number(id_number)
    found = matched if matched is not None else match(number)
    today = today or common.today()
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
    if rules_cache is None:
        rules = rules_for(owner)
    else:
        rules = rules_cache.get(owner.pk) or rules_cache.setdefault(owner.pk, rules_for(owner))
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
    if rules_cache is None:
        clue.full_clean(exclude=["id_number_index"])
    else:
        clue.full_clean(exclude=[*BULK_TRUSTED, "id_number_index"], validate_constraints=False)
    return clue


# The relations a bulk caller sets from rows it has just read (not re-fetched to validate).
BULK_TRUSTED = (
    "region",
    "household",
    "member",
    "source_list",
    "created_by",
    "duplicate_of",
    "monitoring_object",
)


def clue_create(**arguments: Any) -> Clue:
    """Record one clue of any channel (validated first: nothing is written on bad input);
    the arguments of `clue_build`."""
    clue = clue_build(**arguments)
    clue.save()
    return clue


def open_clues() -> QuerySet[Clue]:
    return Clue.objects.filter(state__in=Clue.OPEN_STATES)
