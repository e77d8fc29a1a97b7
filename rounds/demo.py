"""Demo step: last year's closed round with realistic 四类名单 and this year's open round.

Dated relative to the demo's today (`result["today"]`). Last year: opened on 1 March (baseline
frozen then), about 1.2 % of the registered removed, 1 % of the exited returned, 1.5 % of the
non-registered newly included and a fifth of the poor exited, approved and applied as events
tagged with the round, closed on 20 December. This year: opened on 1 March (earlier in the
year, when today comes before April: see `opening_day`) on the registry after last year, a few
changes already approved and applied, others proposed by villages or reviewed by townships and
waiting. The snapshots of both rounds are
computed at the end. Changes are written in bulk (like the registry demo itself), with the same
transitions the services allow. Idempotent: does nothing when the county has rounds.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from households.models import Household, HouseholdEvent, Member, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import bulk, yearlock
from povertyapp.demo import CAUSE_SHARES, CITY, PROVINCE, _weighted
from povertyapp.models import Region, User
from povertyapp.services import user_create
from rounds import rates, rollup
from rounds import services as rounds
from rounds.models import AdjustmentRound, RateSnapshot, RollupSnapshot, RoundChange

REASONS: dict[str, list[str]] = {
    RoundChange.Kind.IDENTIFIED: [
        "因病致贫，经民主评议纳入",
        "因灾致贫，房屋受损",
        "缺劳力，收入低于扶贫标准",
    ],
    RoundChange.Kind.RETURNED: [
        "因病返贫：家庭成员患大病",
        "因灾返贫：洪涝灾害",
        "务工不稳定，收入下降",
    ],
    RoundChange.Kind.EXITED: ["人均纯收入稳定超过扶贫标准，两不愁三保障达标"],
}


def _aware(year: int, month: int, day: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 9, 0))


def opening_day(today: datetime.date) -> datetime.date:
    """When this year's round opened: 1 March, or earlier when today is close to it, so that
    the round has run for at least a month (never before 2 January)."""
    return max(
        datetime.date(today.year, 1, 2),
        min(datetime.date(today.year, 3, 1), today - datetime.timedelta(days=30)),
    )


def _facts(county_path: str) -> dict[int, tuple[int, str]]:
    """(active persons, head name) per household of the county."""
    persons = dict(
        Member.objects.filter(is_active=True, household__village__path__startswith=county_path)
        .values("household_id")
        .annotate(n=Count("id"))
        .values_list("household_id", "n")
    )
    heads = dict(
        Member.objects.filter(
            is_active=True, relation="户主", household__village__path__startswith=county_path
        ).values_list("household_id", "name")
    )
    return {pk: (count, heads.get(pk, "")) for pk, count in persons.items()}


def _pick(rng: random.Random, ids: list[int], share: float, exclude: set[int]) -> list[int]:
    pool = [pk for pk in ids if pk not in exclude]
    count = max(1, round(len(pool) * share)) if pool else 0
    return sorted(rng.sample(pool, min(count, len(pool))))


def _apply(
    *,
    round: AdjustmentRound,
    kind: str,
    household_ids: list[int],
    day: datetime.date,
    facts: dict[int, tuple[int, str]],
    proposer: Any,
    reviewer: Any,
    officer: Any,
    rng: random.Random,
    grounds: list[str],
    state: str = RoundChange.State.APPROVED,
) -> None:
    if not household_ids:
        return
    event_kind, _from, to_status = rounds.TRANSITIONS[kind]
    households = {h.pk: h for h in Household.objects.filter(pk__in=household_ids)}
    events: list[HouseholdEvent] = []
    changes: list[RoundChange] = []
    when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    for pk in household_ids:
        household = households[pk]
        persons, head = facts.get(pk, (0, ""))
        ground = rng.choice(grounds) if kind == RoundChange.Kind.REMOVED else ""
        reason = f"{ground}：经入户核实" if ground else rng.choice(REASONS[kind])
        change = RoundChange(
            round=round,
            household=household,
            village_id=household.village_id,
            kind=kind,
            persons=persons,
            head_name=head,
            reason=reason,
            ground=ground,
            state=state,
            source="import",
            proposed_by=proposer,
            proposed_at=when - datetime.timedelta(days=20),
        )
        if state in (RoundChange.State.REVIEWED, RoundChange.State.APPROVED):
            change.reviewed_by, change.reviewed_at = reviewer, when - datetime.timedelta(days=10)
            change.review_opinion = "经乡镇审核，情况属实"
        if state == RoundChange.State.APPROVED:
            change.decided_by, change.decided_at = officer, when
            change.decision_opinion = "同意"
            events.append(
                HouseholdEvent(
                    household=household,
                    kind=event_kind,
                    from_status=household.status,
                    to_status=to_status,
                    effective_date=day,
                    round=round,
                    reason=reason,
                    ground=ground,
                    persons=persons,
                    proposed_by=proposer,
                    approved_by=officer,
                    created_by=officer,
                )
            )
        changes.append(change)
    if events:
        created = HouseholdEvent.objects.bulk_create(events)
        by_household = {event.household_id: event for event in created}
        for change in changes:
            change.event = by_household.get(change.household_id)
        updates: dict[str, Any] = {"status": to_status, "version": F("version") + 1}
        if kind == RoundChange.Kind.EXITED:
            updates.update(exit_year=round.year, exit_policy="享受政策")
        if kind == RoundChange.Kind.IDENTIFIED:
            updates.update(
                first_identified_year=round.year, exit_year=None, poverty_attribute="一般贫困户"
            )
            for pk in household_ids:
                Household.objects.filter(pk=pk, main_cause="").update(
                    main_cause=_weighted(rng, CAUSE_SHARES)
                )
        Household.objects.filter(pk__in=[e.household_id for e in created]).update(**updates)
    RoundChange.objects.bulk_create(changes)


def _ids(county_path: str, *statuses: str, exclude_villages: tuple[int, ...] = ()) -> list[int]:
    return list(
        Household.objects.filter(village__path__startswith=county_path, status__in=statuses)
        .exclude(village_id__in=exclude_villages)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def build(*, result: dict[str, Any], seed: int) -> None:
    county = result["county"].county
    users = result["users"]
    if AdjustmentRound.objects.filter(county=county).exists():
        return
    today = result.get("today") or timezone.localdate()
    last_year, this_year = today.year - 1, today.year
    opened = opening_day(today)
    rng = random.Random(seed * 7 + 5)
    officer, reviewer, cadre = users["county"], users["township"], users["cadre"]
    grounds = value_lists(year=last_year, province=province_of(county)).get(
        ValueList.REMOVAL_GROUND, []
    )
    path = county.path
    with transaction.atomic():
        first = rounds.round_open(
            actor=officer,
            county=county,
            year=last_year,
            name=f"{last_year}年动态调整",
            opened_at=_aware(last_year, 3, 1),
        )
        facts = _facts(path)
        used: set[int] = set()
        plan = [
            (RoundChange.Kind.REMOVED, ("poor", "returned", "exited"), 0.012),
            (RoundChange.Kind.RETURNED, ("exited",), 0.01),
            (RoundChange.Kind.IDENTIFIED, ("non_registered",), 0.015),
            (RoundChange.Kind.EXITED, ("poor", "returned"), 0.2),
        ]
        for kind, statuses, share in plan:
            chosen = _pick(rng, _ids(path, *statuses), share, used)
            used.update(chosen)
            _apply(
                round=first,
                kind=kind,
                household_ids=chosen,
                day=datetime.date(last_year, 11, 15),
                facts=facts,
                proposer=cadre,
                reviewer=reviewer,
                officer=officer,
                rng=rng,
                grounds=grounds,
            )
        AdjustmentRound.objects.filter(pk=first.pk).update(
            status=AdjustmentRound.Status.CLOSED,
            closed_at=_aware(last_year, 12, 20),
            closed_by=officer,
        )
        first.refresh_from_db()
        second = rounds.round_open(
            actor=officer,
            county=county,
            year=this_year,
            name=f"{this_year}年动态调整",
            opened_at=_aware(this_year, opened.month, opened.day),
        )
        # Approved a while ago, waiting since a little later (both before today).
        approved_on = opened + (today - opened) * 2 // 3
        waiting_since = opened + (today - opened) * 5 // 6
        facts = _facts(path)
        used = set()
        for kind, statuses, share in plan[:3]:
            chosen = _pick(rng, _ids(path, *statuses), share / 3, used)
            used.update(chosen)
            _apply(
                round=second,
                kind=kind,
                household_ids=chosen,
                day=approved_on,
                facts=facts,
                proposer=cadre,
                reviewer=reviewer,
                officer=officer,
                rng=rng,
                grounds=grounds,
            )
        # Waiting: proposals everywhere, some already reviewed by townships (not in the demo
        # cadres' villages, whose data stays editable).
        cadre_villages = tuple(v.pk for v in (users["cadre"].region, users["cadre2"].region))
        for kind, statuses, share, state, exclude in (
            (
                RoundChange.Kind.REMOVED,
                ("poor", "returned", "exited"),
                0.004,
                RoundChange.State.PROPOSED,
                (),
            ),
            (
                RoundChange.Kind.RETURNED,
                ("exited",),
                0.004,
                RoundChange.State.REVIEWED,
                cadre_villages,
            ),
        ):
            chosen = _pick(rng, _ids(path, *statuses, exclude_villages=exclude), share, used)
            used.update(chosen)
            _apply(
                round=second,
                kind=kind,
                household_ids=chosen,
                day=waiting_since,
                facts=facts,
                proposer=cadre,
                reviewer=reviewer,
                officer=officer,
                rng=rng,
                grounds=grounds,
                state=state,
            )
        _member_lines(round=second, cadre=cadre, rng=rng, on=approved_on)
    for round in (first, second):
        round.refresh_from_db()
        # The closed round's figures were made final by the run its closing started (at once
        # in eager mode); recomputing them is refused, as it is for the county office.
        if not rates.round_figures_final(round) and not _signed(round):
            rates.compute_rates(round=round)


def _member_lines(
    *, round: AdjustmentRound, cadre: Any, rng: random.Random, on: datetime.date
) -> None:
    """A 自然增减 (a daughter married out) and a 信息更正 (a phone number) proposed in the demo
    cadre's village through the services, waiting for the township."""
    candidates = list(
        Household.objects.filter(village=cadre.region, status__in=Household.REGISTERED_STATUSES)
        .annotate(persons=Count("members", filter=Q(members__is_active=True)))
        .filter(persons__gte=3)
        .order_by("number")[:20]
    )
    rng.shuffle(candidates)
    married, corrected = False, False
    for household in candidates:
        daughter = household.members.filter(is_active=True, relation="之女").first()
        try:
            if not married and daughter is not None:
                rounds.natural_change_propose(
                    actor=cadre,
                    round=round,
                    number=household.number,
                    action=rounds.LEAVE,
                    member=daughter.id_number,
                    reason="婚出",
                    effective_date=on.isoformat(),
                    note="嫁往外县，户口已迁出",
                )
                married = True
            elif not corrected:
                rounds.correction_propose(
                    actor=cadre,
                    round=round,
                    number=household.number,
                    field="phone",
                    value=f"139{rng.randrange(10**8):08d}",
                    reason="原登记号码已停用，户主提供新号码",
                )
                corrected = True
        except ValidationError:
            continue
        if married and corrected:
            return


def _signed(round: AdjustmentRound) -> bool:
    """The round's year is signed off (seeding again after `years.demo`): its figures are frozen,
    the rates job refuses them (`rounds.rates`)."""
    return yearlock.is_locked(round.county, round.year)


def figures_step(*, result: dict[str, Any], seed: int) -> None:
    """The `seed_demo` step after the procedures' cases (`households.demo_cases`): a case that
    finished during the open round is one of the round's changes, so the round's figures are
    computed again to count it. Nothing to do when the county's snapshot already counts the
    round's last event (`source["last_event_id"]`): seeding again changes nothing."""
    county = result["county"].county
    for round in AdjustmentRound.objects.filter(county=county, status=AdjustmentRound.Status.OPEN):
        last_event = HouseholdEvent.objects.filter(round=round).aggregate(last=Max("id"))["last"]
        counted = (
            RateSnapshot.objects.filter(round=round, region_id=round.county_id)
            .values_list("source__last_event_id", flat=True)
            .first()
        )
        if last_event is not None and counted != last_event and not _signed(round):
            rates.compute_rates(round=round)


# --- the demo province (issue 16): a few neighbouring counties, the city and province roll-up --

# (county, its city, its townships): two more counties of 黔东南州 and one of 遵义市, small.
NEIGHBOURS: list[tuple[tuple[str, str], tuple[str, str], list[str]]] = [
    (("522623000000", "施秉县"), CITY, ["城关镇", "杨柳塘镇", "双井镇"]),
    (("522624000000", "三穗县"), CITY, ["八弓镇", "台烈镇", "瓦寨镇"]),
    (("520324000000", "正安县"), ("520300000000", "遵义市"), ["凤仪街道", "安场镇", "土坪镇"]),
]
NEIGHBOUR_VILLAGES_PER_TOWNSHIP = 3


def neighbour_households(households: int) -> int:
    """The size of each neighbouring county: a tenth of the demo county's, at most 300 and at
    least 20 (a few hundred households for `make demo`, a handful for the tests' small demo)."""
    return min(300, max(20, households // 10))


def _neighbour_officer(county: Region, index: int) -> User:
    from povertyapp.demo import DEMO_PASSWORD

    username = f"county{county.code[:6]}"
    user = User.objects.filter(username=username).first()
    return user or user_create(
        username=username,
        password=DEMO_PASSWORD,
        role=User.Role.COUNTY_OFFICER,
        region=county,
        full_name=f"{county.name}乡村振兴局",
        unit=f"{county.name}乡村振兴局",
        post="科员",
        phone="13800000000",
        validate_password=False,
    )


def _neighbour_rounds(
    *, county: Region, officer: User, today: datetime.date, rng: random.Random
) -> list[AdjustmentRound]:
    """Last year's round (a few approved changes, closed) and this year's (open, a few approved
    changes), like the demo county's but smaller and without waiting proposals."""
    last_year, this_year = today.year - 1, today.year
    opened = opening_day(today)
    path = county.path
    plan = [
        (RoundChange.Kind.REMOVED, ("poor", "returned", "exited"), 0.012),
        (RoundChange.Kind.RETURNED, ("exited",), 0.01),
        (RoundChange.Kind.IDENTIFIED, ("non_registered",), 0.015),
        (RoundChange.Kind.EXITED, ("poor", "returned"), 0.2),
    ]
    made = []
    for year, opened_at, day, shares in (
        (last_year, _aware(last_year, 3, 1), datetime.date(last_year, 11, 15), plan),
        (
            this_year,
            _aware(this_year, opened.month, opened.day),
            opened + (today - opened) * 2 // 3,
            [(kind, statuses, share / 3) for kind, statuses, share in plan[:3]],
        ),
    ):
        round = rounds.round_open(
            actor=officer, county=county, year=year, name=f"{year}年动态调整", opened_at=opened_at
        )
        facts = _facts(path)
        used: set[int] = set()
        for kind, statuses, share in shares:
            chosen = _pick(rng, _ids(path, *statuses), share, used)
            used.update(chosen)
            _apply(
                round=round,
                kind=kind,
                household_ids=chosen,
                day=day,
                facts=facts,
                proposer=officer,
                reviewer=officer,
                officer=officer,
                rng=rng,
                grounds=["不符合识别标准"],
            )
        if year == last_year:
            AdjustmentRound.objects.filter(pk=round.pk).update(
                status=AdjustmentRound.Status.CLOSED,
                closed_at=_aware(last_year, 12, 20),
                closed_by=officer,
            )
            round.refresh_from_db()
        made.append(round)
    return made


def province_step(*, result: dict[str, Any], seed: int) -> None:
    """The `seed_demo` step after the demo county's figures: the demo province holds the demo
    county and the small neighbouring counties of `NEIGHBOURS` (under 黔东南州 and 遵义市), each
    with its registry (the demo generator, loaded in bulk), its rounds of last year and this
    year and their figures; then the city and province roll-up of both years
    (`rounds.rollup`). Idempotent: a county with households is not generated again, and a
    roll-up newer than every county figure of its year is not recomputed."""
    from households.demo import _village_years, generate_households, load_generated
    from povertyapp.demo import build_regions

    today = result.get("today") or timezone.localdate()
    size = neighbour_households(result["households"])
    for index, (county_code, city, townships) in enumerate(NEIGHBOURS):
        rng = random.Random(seed * 31 + index)
        tree = build_regions(
            rng=rng,
            villages_per_township=NEIGHBOUR_VILLAGES_PER_TOWNSHIP,
            county=county_code,
            townships=townships,
            city=city,
        )
        county = tree.county
        if AdjustmentRound.objects.filter(county=county).exists():
            continue
        with transaction.atomic():
            generated = generate_households(
                county=tree,
                households=size,
                seed=seed + 101 * (index + 1),
                today=today,
                first_household_id=bulk.next_id(Household),
                first_member_id=bulk.next_id(Member),
                first_event_id=bulk.next_id(HouseholdEvent),
            )
            load_generated(generated)
            _village_years(rng, tree, generated, today=today)
            officer = _neighbour_officer(county, index)
            made = _neighbour_rounds(county=county, officer=officer, today=today, rng=rng)
        for round in made:
            if not rates.round_figures_final(round) and not _signed(round):
                rates.compute_rates(round=round)
    province = Region.objects.filter(code=PROVINCE[0]).first()
    if province is None:
        return
    for year in (today.year - 1, today.year):
        latest = RateSnapshot.objects.filter(
            round__year=year,
            region__path__startswith=province.path,
            region_id=F("round__county_id"),
        ).aggregate(latest=Max("computed_at"))["latest"]
        stored = RollupSnapshot.objects.filter(region=province, year=year).first()
        if latest is not None and (stored is None or stored.computed_at < latest):
            rollup.rollup_compute(region=province, year=year)
