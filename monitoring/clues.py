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
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
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


class Match(NamedTuple):
    member: Member | None
    household: Household | None
    # An open clue or a current monitoring object of the same household (or ID, unmatched).
    duplicate_of: Clue | None
    current_object: MonitoringObject | None


ModelT = TypeVar("ModelT", bound=Model)

# What a match reads of an open clue (its other fields load on access, as deferred ones do).
CLUE_FIELDS = ("id", "household_id", "received_on", "state", "id_number_index")

# One query per chunk of IDs (`id_number_index__in`), however long the list.
MATCH_CHUNK = 5000


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _loaded(
    model: type[ModelT], values: dict[str, Any], alias: str, related: dict[str, Model]
) -> ModelT:
    """An instance of `model` with only these fields loaded, as `.only(...)` gives it (the
        others load on access, like deferred fields), without `Model.__init__` walking every field
        of a wide model: a department list matches tens of thousands of persons at once. `related`
    are the rows of its foreign keys, cached as assigning them would (their `_id` in `values`)."""
    instance = model.__new__(model)
    instance.__dict__.update(values)
    instance._state = state = ModelState()
    state.adding = False
    state.db = alias
    state.fields_cache = related  # what assigning `instance.<relation> = row` caches
    return instance


def match_many(numbers: Iterable[str], *, chunk: int = MATCH_CHUNK) -> dict[str, Match]:
    """`match` for many IDs at once (normalised number → Match), a few queries per chunk of
    `chunk` IDs whatever their number: the persons holding the IDs (the active member first,
    then the latest) with their households' numbers, status and village, as plain rows; the
    current monitoring objects and the earliest open clues of those households; the open clues
    of the IDs no person holds; then the rows those refer to. Encrypted columns are not read:
    the caller has the ID, and a list of 50,000 rows would otherwise decrypt every match."""
    by_index: dict[str, str] = {}
    for raw in numbers:
        number = normalise_id_number(raw)
        if number:
            by_index.setdefault(blind_index(number), number)
    # index → (member id, is_active, household id); the households read by key afterwards:
    # joined in the same statement, PostgreSQL hashes the whole household table per chunk.
    held: dict[str, tuple[int, bool, int]] = {}
    for part in _chunks(list(by_index), chunk):
        for index, member_id, active, household_id in (
            Member.objects.filter(id_number_index__any_of=part)
            .order_by()
            .values_list("id_number_index", "id", "is_active", "household_id")
        ):
            before = held.get(index)
            if before is None or (active, member_id) > (before[1], before[0]):
                held[index] = (member_id, active, household_id)
    households = sorted({person[2] for person in held.values()})
    # household → (number, status, village id)
    homes: dict[int, tuple[str, str, int]] = {}
    for part in _chunks(households, chunk):
        for pk, number, status, village_id in Household.objects.filter(pk__any_of=part).values_list(
            "id", "number", "status", "village_id"
        ):
            homes[pk] = (number, status, village_id)
    current: dict[int, int] = {}  # household → its current monitoring object
    # household → its earliest open clue, as the values of CLUE_FIELDS
    earliest: dict[int, tuple[Any, ...]] = {}
    for part in _chunks(households, chunk):
        for household_id, pk in (
            MonitoringObject.objects.filter(
                household_id__any_of=part, state__in=MonitoringObject.CURRENT_STATES
            )
            .order_by("-id")
            .values_list("household_id", "id")
        ):
            current[household_id] = pk  # the first wins (ordered last first)
        for values in (
            Clue.objects.filter(household_id__any_of=part, state__in=Clue.OPEN_STATES)
            .order_by("-received_on", "-id")
            .values_list(*CLUE_FIELDS)
        ):
            earliest[values[1]] = values  # the earliest wins (ordered newest first)
    unmatched = [index for index in by_index if index not in held]
    # ID no person holds → its earliest open clue (a 待登记 clue of an earlier list)
    open_by_index: dict[str, tuple[Any, ...]] = {}
    for part in _chunks(unmatched, chunk):
        for values in (
            Clue.objects.filter(id_number_index__any_of=part, state__in=Clue.OPEN_STATES)
            .order_by("-received_on", "-id")
            .values_list(*CLUE_FIELDS)
        ):
            open_by_index[values[4]] = values  # the earliest wins (ordered newest first)
    villages = Region.objects.in_bulk({home[2] for home in homes.values()})
    objects = MonitoringObject.objects.in_bulk(set(current.values()))
    clue_alias = router.db_for_read(Clue)
    clues: dict[int, Clue] = {}

    def clue_of(values: tuple[Any, ...] | None) -> Clue | None:
        if values is None:
            return None
        found = clues.get(values[0])
        if found is None:
            found = clues[values[0]] = _loaded(
                Clue, dict(zip(CLUE_FIELDS, values, strict=True)), clue_alias, {}
            )
        return found

    found: dict[str, Match] = {}
    built: dict[int, Household] = {}
    household_alias, member_alias = router.db_for_read(Household), router.db_for_read(Member)
    for index, number in by_index.items():
        person = held.get(index)
        if person is None:
            found[number] = Match(
                member=None,
                household=None,
                duplicate_of=clue_of(open_by_index.get(index)),
                current_object=None,
            )
            continue
        member_id, is_active, household_id = person
        household_number, status, village_id = homes[household_id]
        household = built.get(household_id)
        if household is None:
            household = built[household_id] = _loaded(
                Household,
                {
                    "id": household_id,
                    "number": household_number,
                    "status": status,
                    "village_id": village_id,
                },
                household_alias,
                {"village": villages[village_id]},
            )
        member = _loaded(
            Member,
            {
                "id": member_id,
                "is_active": is_active,
                "household_id": household_id,
                "id_number_index": index,
            },
            member_alias,
            {"household": household},
        )
        found[number] = Match(
            member=member,
            household=household,
            duplicate_of=clue_of(earliest.get(household_id)),
            current_object=objects.get(current.get(household_id, 0)),
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
