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
from django.db.models import OuterRef, QuerySet, Subquery
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
    then the latest) with their household and, as subqueries of the same statement, its
    current monitoring object and earliest open clue; the open clues of the IDs no person
    holds; then the rows those refer to. Encrypted columns are not read: the caller has the
    ID, and a list of 50,000 rows would otherwise decrypt every match."""
    by_index: dict[str, str] = {}
    for raw in numbers:
        number = normalise_id_number(raw)
        if number:
            by_index.setdefault(blind_index(number), number)
    current = (
        MonitoringObject.objects.filter(
            household_id=OuterRef("household_id"), state__in=MonitoringObject.CURRENT_STATES
        )
        .order_by("id")
        .values("id")[:1]
    )
    earliest = (
        Clue.objects.filter(household_id=OuterRef("household_id"), state__in=Clue.OPEN_STATES)
        .order_by("received_on", "id")
        .values("id")[:1]
    )
    members: dict[str, Any] = {}
    for part in _chunks(list(by_index), chunk):
        for member in (
            Member.objects.filter(id_number_index__in=part)
            .select_related("household")
            .only(
                "id",
                "household_id",
                "name",
                "is_active",
                "id_number_index",
                "household__id",
                "household__number",
                "household__status",
                "household__village_id",
            )
            .annotate(current_id=Subquery(current), open_id=Subquery(earliest))
            .order_by()
        ):
            held = members.get(member.id_number_index)
            if held is None or (member.is_active, member.pk) > (held.is_active, held.pk):
                members[member.id_number_index] = member
    villages = Region.objects.in_bulk({member.household.village_id for member in members.values()})
    for member in members.values():
        member.household.village = villages[member.household.village_id]
    unmatched = [index for index in by_index if index not in members]
    open_by_index: dict[str, int] = {}
    for part in _chunks(unmatched, chunk):
        for pk, index in (
            Clue.objects.filter(id_number_index__in=part, state__in=Clue.OPEN_STATES)
            .order_by("-received_on", "-id")
            .values_list("id", "id_number_index")
        ):
            open_by_index[index] = pk  # the earliest wins (ordered newest first)
    objects = MonitoringObject.objects.in_bulk(
        {getattr(member, "current_id", None) for member in members.values()} - {None}
    )
    open_clues = Clue.objects.only(
        "id", "household_id", "received_on", "state", "id_number_index"
    ).in_bulk(
        ({getattr(member, "open_id", None) for member in members.values()} - {None})
        | set(open_by_index.values())
    )
    found: dict[str, Match] = {}
    for index, number in by_index.items():
        held = members.get(index)
        if held is None:
            found[number] = Match(
                member=None,
                household=None,
                duplicate_of=open_clues.get(open_by_index.get(index, 0)),
                current_object=None,
            )
            continue
        found[number] = Match(
            member=held,
            household=held.household,
            duplicate_of=open_clues.get(getattr(held, "open_id", None) or 0),
            current_object=objects.get(getattr(held, "current_id", None) or 0),
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
    cache: dict[Any, Any] | None = None,
) -> Clue:
    """One clue of any channel, validated and not yet saved (`clue_create` saves it; a
    department list builds many and saves them with `bulk_create`). `region` is the declared
    village (self-declaration, hotline) or None (a department row: the village comes from the
    matched household, else the list's county). `matched` lets a bulk caller pass a match it
    computed for many rows at once (`match_many`); `cache` keeps the local rules of each owner
    region and the due dates they give across the calls; the related rows a bulk caller
    passes come from its own queries, so they are not fetched again to be validated."""
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
    if cache is None:
        rules = rules_for(owner)
        verify_on = verify_due(accepted_on, rules)
        decide_on = decide_due(received_on, rules)
    else:
        rules = cache.get(("rules", owner.pk)) or cache.setdefault(
            ("rules", owner.pk), rules_for(owner)
        )
        key = (accepted_on, received_on, rules.verify_working_days, rules.identify_days)
        dates = cache.get(key + (rules.identify_in_working_days,))
        if dates is None:
            dates = (verify_due(accepted_on, rules), decide_due(received_on, rules))
            cache[key + (rules.identify_in_working_days,)] = dates
        verify_on, decide_on = dates
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
        verify_due=verify_on,
        decide_due=decide_on,
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
    if cache is None:
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


def reference(clue: Clue) -> str:
    """The 受理回执 number a declarant quotes when calling back: the date received and the
    clue's number (no personal data)."""
    return f"FX{clue.received_on:%Y%m%d}{clue.pk:06d}"


def callback_due(clue: Clue) -> datetime.date:
    """When the declarant is promised a visit (入户核实): the clue's 入户核实 due date."""
    return clue.verify_due
