"""The registry's part of the demo county (the first step of `settings.DEMO_STEPS`).

Households, members, incomes and events, the poverty lines and the village years of 黄平县,
on the region tree and with the users of the platform's part (`povertyapp.demo`).
Deterministic for a given seed. Rows are generated from the same rules the services enforce
(valid ID numbers agreeing with birth date and sex, relations agreeing with sex, one 户主 of age,
value-list labels) and streamed to the database by `povertyapp.bulk` (COPY on PostgreSQL), so the
same generator serves the 100k-household benchmark.

Another app whose rows hang on each household from the start (assistance: the 帮扶责任人
pairings) adds them to the same pass through `register_rows` from its `AppConfig.ready()`, so
they are generated with the households and loaded by the same COPY, without this module
importing that app. Everything is dated relative to the demo's today (default the local date).
"""

from __future__ import annotations

import datetime
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from stdnum.cn import ric

from households.models import (
    Household,
    HouseholdEvent,
    HouseholdIncome,
    Member,
    NationalEntry,
    NationalEntryEvent,
    PovertyLine,
)
from households.national.codes import LAYOUT_VERSION
from households.national.records import EXPORTED_STATUSES
from povertyapp import bulk
from povertyapp.demo import (
    CAUSE_SHARES,
    SURNAMES,
    TOWNSHIPS,
    DemoCounty,
    _weighted,
    build_regions,
    ensure_users,
    initial_history,
    person_name,
)
from povertyapp.models import VillageYear

SIZE_WEIGHTS = [(1, 8), (2, 16), (3, 22), (4, 24), (5, 15), (6, 8), (7, 5), (8, 2)]
ETHNICITY_SHARES = [("苗族", 55), ("汉族", 30), ("侗族", 8), ("布依族", 4), ("土家族", 3)]
# Lines the county office entered for the years DOMAIN leaves to it.
ENTERED_LINES = {2017: Decimal("2952"), 2018: Decimal("2995"), 2019: Decimal("3218")}
# The national lines the migrations hold (DOMAIN §5); the demo adds the years after them.
KNOWN_LINES = {2014: Decimal("2800"), 2015: Decimal("2855"), 2016: Decimal("2952")}
LAST_NATIONAL_LINE = (2020, Decimal("4000"))
# After 2020 the line follows prices (about 3 % a year); the province's monitoring line is
# 1.5 times it, rounded up to the hundred (DOMAIN §7: "≥ 1.5 × the poverty line").
YEARLY_PRICE_RISE = Decimal("1.03")
MONITORING_FACTOR = Decimal("1.5")
# Income is recorded for the last INCOME_YEARS years before the current one (上年度收入 and the
# two before it, so that "stably above the line" can be read).
INCOME_YEARS = 3
EXIT_YEARS = [2014, 2015, 2016, 2017, 2018, 2019, 2020]
# Poor households whose last year's income passed the line and whose 两不愁三保障 are met: the
# candidates of this year's exits (a larger share in the demo cadre's village, which shows
# every step of the procedures).
EXIT_READY_SHARE = 0.15
CASE_VILLAGE_EXIT_READY_SHARE = 0.6
# The sampling protocol needs ≥ 43 households per village (DOMAIN §9); the demo keeps every
# village at ≥ MIN_VILLAGE_HOUSEHOLDS when the county is large enough, and the demo cadre's
# village (where the procedures are shown) at ≥ CASE_VILLAGE_HOUSEHOLDS.
MIN_VILLAGE_HOUSEHOLDS = 60
CASE_VILLAGE_HOUSEHOLDS = 80
FIRST_DEMO_YEAR = 2019


def line_amount(year: int) -> Decimal:
    """The demo's national poverty line of a year (yuan per person per year)."""
    if year in ENTERED_LINES:
        return ENTERED_LINES[year]
    if year in KNOWN_LINES:
        return KNOWN_LINES[year]
    base_year, base = LAST_NATIONAL_LINE
    if year <= base_year:
        return base
    amount = base * YEARLY_PRICE_RISE ** (year - base_year)
    return amount.quantize(Decimal("10"))


def monitoring_amount(year: int) -> Decimal | None:
    """The province's monitoring line of a year (2021+), None before monitoring existed."""
    if year <= LAST_NATIONAL_LINE[0]:
        return None
    raw = line_amount(year) * MONITORING_FACTOR
    return (raw / 100).to_integral_value(rounding="ROUND_CEILING") * 100


def income_years(today: datetime.date) -> list[int]:
    return list(range(today.year - INCOME_YEARS, today.year))


def county_shape(households: int) -> tuple[int, int]:
    """(townships, villages per township) for a county of `households` households: villages
    large enough for the sampling protocol, at least 3 townships of 3 villages (one per
    condition class) and at most the 10 townships of 黄平县."""
    townships = max(3, min(len(TOWNSHIPS), households // 210))
    villages = max(3, min(10, households // (townships * 75)))
    return townships, villages


@dataclass(frozen=True)
class RegistryRows:
    """Rows of another app's model generated in the registry's pass, one household at a time.

    `prepare(rng=, county=, users=)` runs once before the households are generated, on the
    county's random stream (after the region tree, before the village years), and returns the
    part's state; `rows(state, household=, sequence=)` returns the rows (dicts for
    `bulk.load_rows`, without ids) of one generated household row, `sequence` being its number
    within its village (1, 2, ...). `rows` must not draw from a random stream of the registry."""

    model: type[models.Model]
    prepare: Callable[..., Any]
    rows: Callable[..., Iterable[dict[str, Any]]]


_registry_rows: list[RegistryRows] = []


def register_rows(part: RegistryRows) -> None:
    """Add an app's rows to the registry's pass (from its `AppConfig.ready()`). Registering the
    same model again replaces its part."""
    _registry_rows[:] = [known for known in _registry_rows if known.model is not part.model]
    _registry_rows.append(part)


def registered_rows() -> list[RegistryRows]:
    return list(_registry_rows)


@dataclass
class GeneratedCounty:
    households: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    incomes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # The registered parts' rows, by model (`RegistryRows`).
    part_rows: dict[type[models.Model], list[dict[str, Any]]] = field(default_factory=dict)
    persons_by_village: Counter = field(default_factory=Counter)
    poor_persons_by_village: Counter = field(default_factory=Counter)
    households_by_village: Counter = field(default_factory=Counter)


class IdNumbers:
    """Valid, unique ID numbers: address code + birth date + sequence (odd for men) + check."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.used: dict[tuple[datetime.date, str], int] = defaultdict(int)

    def make(self, birth_date: datetime.date, sex: str) -> str:
        key = (birth_date, sex)
        self.used[key] += 1
        sequence = self.used[key] * 2 - (1 if sex == "男" else 0)
        # Formatted by hand: date.__format__ goes through strftime, ~100x slower.
        body = (
            f"{self.address}{birth_date.year:04d}{birth_date.month:02d}"
            f"{birth_date.day:02d}{sequence % 1000:03d}"
        )
        return body + ric.calc_check_digit(body + "0")


def _birth_date(rng: random.Random, age: int, today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=age * 365 + rng.randint(30, 330))


def _school_status(age: int, rng: random.Random) -> tuple[str, str]:
    """(文化程度, 在校生状况) for an age."""
    if age < 3:
        return "学龄前儿童", "非在校生"
    if age < 6:
        return "学龄前儿童", "学前教育"
    if age <= 11:
        return "小学", "小学"
    if age <= 14:
        return "初中" if age >= 13 else "小学", ["七年级", "八年级", "九年级"][min(age - 12, 2)]
    if age <= 17:
        grade = ["一", "二", "三"][min(age - 15, 2)]
        return ("初中", f"高中{grade}年级") if rng.random() < 0.6 else ("初中", f"中职{grade}年级")
    if age <= 22 and rng.random() < 0.2:
        return "高中", "大专及以上"
    education = _weighted(
        rng,
        [
            ("文盲或半文盲", 12 if age > 50 else 3),
            ("小学", 35),
            ("初中", 40),
            ("高中", 9),
            ("大专及以上", 3),
        ],
    )
    return education, "非在校生"


def _members(
    rng: random.Random,
    *,
    size: int,
    cause: str,
    attribute: str,
    surname: str,
    ethnicity: str,
    ids: IdNumbers,
    today: datetime.date,
) -> list[dict[str, Any]]:
    head_sex = "男" if rng.random() < 0.85 or size > 2 else "女"
    if attribute == "特困供养贫困户":
        size = 1
    head_age = rng.randint(62, 85) if size == 1 else rng.randint(28, 72)
    plan: list[tuple[str, str, int]] = [("户主", head_sex, head_age)]
    if size >= 2:
        plan.append(
            ("配偶", "女" if head_sex == "男" else "男", max(18, head_age + rng.randint(-5, 3)))
        )
    while len(plan) < size:
        slot = len(plan)
        if head_age < 45 and slot == 2 and rng.random() < 0.4:
            plan.append(("之母", "女", head_age + rng.randint(22, 30)))
        elif head_age >= 58 and slot >= 4 and rng.random() < 0.6:
            sex = rng.choice("男女")
            plan.append(("之孙子" if sex == "男" else "之孙女", sex, rng.randint(1, 14)))
        elif head_age >= 55 and slot == 3 and rng.random() < 0.5:
            plan.append(("之儿媳", "女", max(18, head_age - rng.randint(24, 30))))
        else:
            sex = rng.choice("男女")
            age = max(0, head_age - rng.randint(20, 34))
            plan.append(("之子" if sex == "男" else "之女", sex, age))
    # The cause must show in the members (DOMAIN §3 consistency).
    sick_index = rng.randrange(len(plan)) if cause == "因病" else -1
    disabled_index = rng.randrange(len(plan)) if cause == "因残" else -1
    if cause == "因学" and not any(6 <= age <= 22 for _r, _s, age in plan) and len(plan) >= 2:
        sex = rng.choice("男女")
        plan[-1] = ("之子" if sex == "男" else "之女", sex, rng.randint(12, 19))
    rows = []
    for index, (relation, sex, age) in enumerate(plan):
        birth_date = _birth_date(rng, age, today)
        education, school = _school_status(age, rng)
        health = "健康"
        illness = disability_grade = certificate = ""
        if index == sick_index:
            health = rng.choice(["长期慢性病", "患有大病"])
            illness = rng.choice(
                ["高血压", "糖尿病", "慢性肾病", "恶性肿瘤", "类风湿关节炎", "尘肺病"]
            )
        elif index == disabled_index:
            health = "残疾"
            disability_grade = rng.choice(["一级", "二级", "三级", "四级"])
        elif age > 60 and rng.random() < 0.25:
            health = "长期慢性病"
            illness = rng.choice(["高血压", "慢性支气管炎", "关节炎"])
        elif rng.random() < 0.02:
            health = "残疾"
            disability_grade = rng.choice(["三级", "四级"])
        if age < 16:
            labour = ""
        elif age > 65:
            labour = "无劳动力"
        elif health in ("患有大病", "残疾") and rng.random() < 0.7:
            labour = "丧失劳动力"
        else:
            labour = "技能劳动力" if rng.random() < 0.15 else "普通劳动力"
        if cause == "缺劳力" and relation == "户主" and 16 <= age <= 65 and rng.random() < 0.5:
            labour = "丧失劳动力"
        working = labour in ("普通劳动力", "技能劳动力") and school == "非在校生"
        work_status = (
            _weighted(rng, [("省外", 35), ("省内", 20), ("县内", 15), ("乡内", 10), ("无", 20)])
            if working
            else ("无" if age >= 16 else "")
        )
        row: dict[str, Any] = {
            "name": person_name(
                rng,
                surname
                if relation in ("户主", "之子", "之女", "之孙子", "之孙女") or rng.random() < 0.1
                else rng.choice(SURNAMES),
                sex,
            ),
            "id_type": "居民身份证",
            "id_number": ids.make(birth_date, sex),
            "sex": sex,
            "birth_date": birth_date,
            "relation": relation,
            "ethnicity": ethnicity if rng.random() < 0.9 else _weighted(rng, ETHNICITY_SHARES),
            "political_status": "中共党员" if age > 30 and rng.random() < 0.04 else "群众",
            "education": education,
            "school_status": school,
            "health": health,
            "illness_name": illness,
            "disability_grade": disability_grade,
            "disability_certificate": certificate,
            "labour_skill": labour,
            "work_status": work_status,
            "work_months": rng.randint(3, 12) if work_status not in ("", "无") else 0,
            "has_medical_insurance": rng.random() < 0.985,
            "has_critical_illness_insurance": rng.random() < 0.97,
            "has_pension_insurance": age >= 16 and school == "非在校生" and rng.random() < 0.9,
            "receives_dibao": attribute == "低保贫困户" and rng.random() < 0.9,
            "is_tekun": attribute == "特困供养贫困户",
            "living_status": "正常",
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"
            if relation == "户主"
            else "",
        }
        if health == "残疾":
            row["disability_certificate"] = (
                row["id_number"] + f"{rng.randint(1, 4)}{rng.randint(1, 4)}"
            )
        rows.append(row)
    if attribute == "低保贫困户" and not any(r["receives_dibao"] for r in rows):
        rows[0]["receives_dibao"] = True
    return rows


def _relative_income(rng: random.Random, status: str) -> float:
    """The household's per-capita income as a multiple of the line (kept from year to year)."""
    if status in ("poor", "returned"):
        return rng.uniform(0.45, 0.97)
    if status == "non_registered":
        return rng.uniform(1.4, 4.0)
    return rng.uniform(1.08, 2.8)


def _income(
    rng: random.Random,
    *,
    persons: int,
    attribute: str,
    members: list[dict[str, Any]],
    per_capita: float,
) -> dict[str, Any]:
    net = per_capita * persons
    workers = sum(1 for m in members if m["work_status"] not in ("", "无"))
    dibao = 0.0
    if attribute == "低保贫困户":
        dibao = 3000.0 * sum(1 for m in members if m["receives_dibao"])
    tekun = 6000.0 if attribute == "特困供养贫困户" else 0.0
    pension = 1260.0 * sum(
        1 for m in members if m["has_pension_insurance"] and m["labour_skill"] == "无劳动力"
    )
    family_planning = 0.0
    transfer = dibao + tekun + pension + family_planning
    production_cost = rng.uniform(200, 1500) if rng.random() < 0.8 else 0.0
    rest = max(net - transfer + production_cost, 0.0)
    wage_share = 0.75 if workers else 0.0
    wage = rest * wage_share
    production = rest - wage
    if production == 0:
        production_cost = 0.0
    net_check = wage + production + transfer - production_cost
    if net_check <= 0 and persons:
        production += abs(net_check) + 100

    def money(value: float) -> Decimal:
        return Decimal(str(round(value, 2)))

    return {
        "wage": money(wage),
        "production": money(production),
        "property_income": Decimal("0"),
        "family_planning": money(family_planning),
        "dibao": money(dibao),
        "tekun": money(tekun),
        "pension": money(pension),
        "eco_compensation": money(rng.choice([0, 0, 0, 120, 300])),
        "other_transfer": Decimal("0"),
        "production_cost": money(production_cost),
    }


def generate_households(
    *,
    county: DemoCounty,
    households: int,
    seed: int,
    today: datetime.date,
    first_household_id: int,
    first_member_id: int,
    first_event_id: int,
    parts: list[tuple[RegistryRows, Any]] | None = None,
    number_prefix: str = "",
    result: GeneratedCounty | None = None,
) -> GeneratedCounty:
    """Rows for every table of the registry, as dicts ready for `bulk.load_rows` (or appended
    to the sinks of `result`: see `generate_and_stream`), and the rows of `parts` (each
    registered part with the state its `prepare` returned) in `result.part_rows`."""
    rng = random.Random(seed)
    ids = IdNumbers(county.county.code[:6])
    result = result if result is not None else GeneratedCounty()
    parts = parts or []
    for part, _state in parts:
        result.part_rows.setdefault(part.model, [])
    household_id, member_id, event_id = first_household_id, first_member_id, first_event_id
    villages = county.villages
    # Villages differ: some have more households on the list than others.
    weights = [rng.uniform(0.5, 1.5) for _ in villages]
    total_weight = sum(weights)
    # Every village gets its floor first when the county is large enough (the sampling
    # protocol's villages), the rest is shared by weight.
    floors = [MIN_VILLAGE_HOUSEHOLDS] * len(villages)
    floors[0] = CASE_VILLAGE_HOUSEHOLDS
    if households >= sum(floors):
        rest = households - sum(floors)
        per_village = [
            floor + int(rest * w / total_weight) for floor, w in zip(floors, weights, strict=True)
        ]
    else:
        per_village = [int(households * w / total_weight) for w in weights]
    per_village[0] += households - sum(per_village)
    years = income_years(today)
    for village_index, (village, count) in enumerate(zip(villages, per_village, strict=True)):
        group_list = county.groups[village.pk]
        # The demo cadre's village shows every step of 识别 and 退出: more candidates of both.
        case_village = village_index == 0
        result.households_by_village[village.pk] += count
        for sequence in range(1, count + 1):
            registered = rng.random() < (0.72 if case_village else 0.86)
            if registered:
                status = _weighted(
                    rng,
                    [("exited", 50), ("poor", 40), ("returned", 5), ("removed", 5)]
                    if case_village
                    else [("exited", 63), ("poor", 28), ("returned", 3), ("removed", 4)],
                )
            else:
                status = "non_registered"
            ready = status == "poor" and rng.random() < (
                CASE_VILLAGE_EXIT_READY_SHARE if case_village else EXIT_READY_SHARE
            )
            cause = _weighted(rng, CAUSE_SHARES) if registered else ""
            attribute = ""
            if registered:
                attribute = _weighted(
                    rng, [("一般贫困户", 74), ("低保贫困户", 21), ("特困供养贫困户", 5)]
                )
            size = _weighted(rng, SIZE_WEIGHTS)
            surname = rng.choice(SURNAMES)
            ethnicity = _weighted(rng, ETHNICITY_SHARES)
            members = _members(
                rng,
                size=size,
                cause=cause,
                attribute=attribute,
                surname=surname,
                ethnicity=ethnicity,
                ids=ids,
                today=today,
            )
            first_year = (
                (2014 if rng.random() < 0.78 else rng.choice([2015, 2016, 2017, 2018]))
                if registered
                else None
            )
            exit_year = None
            if status in ("exited", "returned"):
                assert first_year is not None  # only registered households exit
                exit_year = rng.choice(
                    [y for y in EXIT_YEARS if first_year < y < today.year - 1] or [first_year + 1]
                )
            elif status == "removed":
                exit_year = None
            grade = _weighted(rng, [("A", 38), ("B", 44), ("C", 11), ("D", 7)])
            renovated = (
                grade in ("C", "D")
                and status in ("exited", "returned")
                or (grade in ("C", "D") and rng.random() < 0.5)
                or (grade in ("C", "D") and ready)
            )
            water_safe = ready or rng.random() < (0.99 if status == "exited" else 0.9)
            if ready:
                # 两不愁三保障 met: everyone insured (the rest of the exit test is above).
                for member in members:
                    member["has_medical_insurance"] = True
            group = rng.choice(group_list)
            household_row = {
                "id": household_id,
                "number": f"{number_prefix}{village.code}{sequence:04d}",
                "village_id": village.pk,
                "county_id": county.county.pk,  # the county key (households.counties)
                "group_id": group.pk,
                "phone": members[0]["phone"],
                "bank_name": rng.choice(
                    [
                        "黄平县农村信用合作联社",
                        "中国农业银行黄平县支行",
                        "中国邮政储蓄银行黄平县支行",
                    ]
                )
                if registered
                else "",
                "bank_account": f"62{rng.randint(10**16, 10**17 - 1)}" if registered else "",
                "identification_standard": "国家标准",
                "poverty_attribute": attribute,
                "main_cause": cause,
                "other_cause_1": (
                    rng.choice([c for c, _w in CAUSE_SHARES if c != cause])
                    if registered and rng.random() < 0.4
                    else ""
                ),
                "cause_note": "",
                "first_identified_year": first_year,
                "planned_exit_year": (
                    (exit_year or rng.choice([2019, 2020])) if registered else None
                ),
                "status": status,
                "exit_year": exit_year if status != "returned" else exit_year,
                "exit_policy": "享受政策" if status == "exited" else "",
                "in_cooperative": rng.random() < 0.35,
                "cultivated_land": Decimal(f"{rng.uniform(0.3, 6):.2f}"),
                "irrigated_land": Decimal("0"),
                "forest_land": Decimal(f"{rng.uniform(0, 10):.2f}"),
                "distance_to_road_km": Decimal(f"{rng.uniform(0, 3):.2f}"),
                "road_type": _weighted(
                    rng, [("水泥路", 70), ("砂石路", 18), ("泥土路", 10), ("沥青路", 2)]
                ),
                "housing_area": Decimal(f"{rng.uniform(40, 180):.2f}"),
                "house_grade": grade,
                "house_renovated": renovated,
                "water_safe": water_safe,
                "water_difficult": not water_safe and rng.random() < 0.5,
                "fuel_type": _weighted(rng, [("柴草", 55), ("清洁能源", 30), ("煤炭", 15)]),
                "has_sanitary_toilet": rng.random() < 0.7,
                "relocated": status == "exited" and rng.random() < 0.08,
                "food_secure": status != "poor" or ready or rng.random() < 0.95,
                "clothing_secure": status != "poor" or ready or rng.random() < 0.97,
                "created_by_id": None,
            }
            if household_row["relocated"]:
                household_row["relocation_mode"] = "集中安置"
                household_row["relocation_place"] = "新州镇城西安置点"
            household_row["irrigated_land"] = (
                household_row["cultivated_land"] * Decimal("0.4")
            ).quantize(Decimal("0.01"))
            if household_row["other_cause_1"] == cause:
                household_row["other_cause_1"] = ""
            result.households.append(household_row)
            joined = datetime.date(first_year or 2014, 3, 1)
            for member in members:
                member.update(
                    id=member_id,
                    household_id=household_id,
                    county_id=county.county.pk,
                    joined_on=max(joined, member["birth_date"]),
                )
                result.members.append(member)
                member_id += 1
            persons = len(members)
            result.persons_by_village[village.pk] += persons
            if status in ("poor", "returned"):
                result.poor_persons_by_village[village.pk] += persons
            relative = _relative_income(rng, status)
            for year in years:
                if ready and year >= years[-1] - 1:
                    # Stably above the line for the last two years: this year's exit candidate.
                    relative = rng.uniform(1.08, 1.6)
                result.incomes.append(
                    {
                        "household_id": household_id,
                        "year": year,
                        **_income(
                            rng,
                            persons=persons,
                            attribute=attribute,
                            members=members,
                            per_capita=relative
                            * rng.uniform(0.97, 1.05)
                            * float(line_amount(year)),
                        ),
                    }
                )

            def event(
                kind: str,
                day: datetime.date,
                before: str,
                after: str,
                household_id: int = household_id,
                persons: int = persons,
                **extra: Any,
            ) -> None:
                nonlocal event_id
                result.events.append(
                    {
                        "id": event_id,
                        "household_id": household_id,
                        "kind": kind,
                        "from_status": before,
                        "to_status": after,
                        "effective_date": day,
                        "persons": persons,
                        **extra,
                    }
                )
                event_id += 1

            if first_year is not None:  # registered
                event(
                    "registered",
                    datetime.date(first_year, 10, 15),
                    "",
                    "poor",
                    reason="建档立卡识别",
                )
            else:
                event(
                    "registered",
                    datetime.date(2016, 5, 10),
                    "",
                    "non_registered",
                    reason="非建档立卡户登记（抽样与监测）",
                )
            if exit_year is not None:  # exited or returned
                event(
                    "exited",
                    datetime.date(exit_year, 11, 20),
                    "poor",
                    "exited",
                    reason="人均纯收入稳定超过扶贫标准，两不愁三保障",
                )
            if status == "returned":
                assert exit_year is not None
                event(
                    "returned",
                    datetime.date(min(exit_year + 1, today.year - 1), 9, 1),
                    "exited",
                    "returned",
                    reason=rng.choice(["因病返贫", "因灾返贫", "务工不稳定"]),
                )
            if status == "removed":
                event(
                    "removed",
                    datetime.date(rng.choice([2016, 2017, 2018]), 8, 10),
                    "poor",
                    "removed",
                    ground=rng.choice(
                        [
                            "购买3万元以上车辆",
                            "家庭成员有财政供养人员",
                            "在城镇购买商品房或门面",
                            "为享受政策分户或并户",
                        ]
                    ),
                    reason="动态调整剔除",
                )
            for part, state in parts:
                sink = result.part_rows[part.model]
                for row in part.rows(state, household=household_row, sequence=sequence):
                    sink.append(row)
            household_id += 1
    return result


def ensure_lines(today: datetime.date) -> None:
    """The national poverty lines the county office entered (2017–2019) and the lines of every
    year after 2020 up to the current one, with the province's monitoring line (2021+). A line
    already there is kept (the county office's figure wins); a missing monitoring line is
    filled in."""
    existing = {
        line.year: line
        for line in PovertyLine.objects.filter(standard="国家标准", region__isnull=True)
    }
    for year in [*ENTERED_LINES, *range(LAST_NATIONAL_LINE[0], today.year + 1)]:
        line = existing.get(year)
        monitoring = monitoring_amount(year)
        if line is None:
            line = PovertyLine(
                year=year,
                standard="国家标准",
                region=None,
                amount=line_amount(year),
                monitoring_amount=monitoring,
            )
            line.full_clean()
            line.save()
            existing[year] = line
        elif line.monitoring_amount is None and monitoring is not None:
            line.monitoring_amount = monitoring
            line.save(update_fields=["monitoring_amount"])


@transaction.atomic
def build_registry(
    *,
    households: int,
    seed: int,
    stdout: Any = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """Create the demo county, its users and `households` households, dated relative to
    `today` (default: the local date; tests freeze it). Idempotent: when the county already
    has households, only missing users are added."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    township_count, villages_per_township = county_shape(households)
    county = build_regions(
        rng=rng,
        villages_per_township=villages_per_township,
        townships=TOWNSHIPS[:township_count],
    )
    ensure_lines(today)
    users = ensure_users(county)
    if Household.objects.filter(village__path__startswith=county.county.path).exists():
        return {"county": county, "users": users, "created": False, "today": today}
    # The parts draw from the county's random stream in their order, before the village years.
    parts = [(part, part.prepare(rng=rng, county=county, users=users)) for part in _registry_rows]
    arguments: dict[str, Any] = {
        "county": county,
        "households": households,
        "seed": seed,
        "today": today,
        "first_household_id": bulk.next_id(Household),
        "first_member_id": bulk.next_id(Member),
        "first_event_id": bulk.next_id(HouseholdEvent),
        "parts": parts,
    }
    if connection.vendor == "postgresql":
        generated = generate_and_stream(**arguments)
    else:
        generated = generate_households(**arguments)
        load_generated(generated)
    initial_history(
        (Household, Member, HouseholdIncome, *(part.model for part, _state in parts)),
        today=today,
        user=users["county"],
    )
    _village_years(rng, county, generated, today=today)
    return {
        "county": county,
        "users": users,
        "created": True,
        "generated": generated,
        "today": today,
    }


def generate_and_stream(**arguments: Any) -> GeneratedCounty:
    """PostgreSQL: the same rows as `generate_households` + `load_generated`, loaded while they
    are generated. Members (the largest table) stream through COPY on a sending thread as each
    household is generated, so the server ingests on the other core; the other tables are
    rendered to COPY text as they come (compact bytes, not dicts) and copied right after.
    Foreign keys are deferred to the commit, so members may arrive before their households.
    The returned county carries the counters; its row lists are the sinks (counts only)."""
    now = timezone.now()
    # The COPY sinks read the year locks when they are made: every RenderedRows first, then
    # the CopyStream, which starts its COPY at once and holds the connection until `close()`.
    rendered = {
        model: bulk.RenderedRows(model, now=now)
        for model in (
            Household,
            HouseholdIncome,
            HouseholdEvent,
            *(part.model for part, _state in arguments.get("parts") or []),
        )
    }
    members = bulk.CopyStream(Member, now=now)
    sinks = GeneratedCounty(
        households=rendered[Household],  # type: ignore[arg-type]  # a sink stands in for the list
        members=members,  # type: ignore[arg-type]  # a sink stands in for the list
        incomes=rendered[HouseholdIncome],  # type: ignore[arg-type]  # a sink stands in for the list
        events=rendered[HouseholdEvent],  # type: ignore[arg-type]  # a sink stands in for the list
        # The sinks stand in for the lists: generate_households only appends and counts.
        part_rows={
            part.model: rendered[part.model]  # type: ignore[misc]  # a sink
            for part, _state in arguments.get("parts") or []
        },
    )
    try:
        generate_households(**arguments, result=sinks)
    except BaseException:
        members.abort()
        raise
    members.close()
    for rows in (sinks.households, sinks.incomes, sinks.events, *sinks.part_rows.values()):
        rows.copy()
    bulk.reset_sequences(Household, Member, HouseholdIncome, HouseholdEvent, *sinks.part_rows)
    return sinks


def load_generated(generated: GeneratedCounty) -> None:
    now = timezone.now()
    bulk.load_rows(Household, iter(generated.households), now=now)
    bulk.load_rows(Member, iter(generated.members), now=now)
    bulk.load_rows(HouseholdIncome, iter(generated.incomes), now=now)
    bulk.load_rows(HouseholdEvent, iter(generated.events), now=now)
    for model, rows in generated.part_rows.items():
        bulk.load_rows(model, iter(rows), now=now)
    bulk.reset_sequences(Household, Member, HouseholdIncome, HouseholdEvent, *generated.part_rows)


def _village_years(
    rng: random.Random,
    county: DemoCounty,
    generated: GeneratedCounty,
    *,
    today: datetime.date | None = None,
) -> None:
    """户籍农业人口 per village such that county incidence is near 10 %, for every year from
    FIRST_DEMO_YEAR to the current one. Each township has villages of each condition class
    好/中/差 (the sampling protocol draws one of each)."""
    today = today or timezone.localdate()
    conditions = [
        VillageYear.Condition.GOOD,
        VillageYear.Condition.MEDIUM,
        VillageYear.Condition.POOR,
    ]
    position_in_township: Counter = Counter()
    rows = []
    for village in county.villages:
        position = position_in_township[village.parent_id]
        position_in_township[village.parent_id] += 1
        poor = generated.poor_persons_by_village[village.pk]
        listed = generated.persons_by_village[village.pk]
        incidence = rng.uniform(0.05, 0.16)
        population = max(int(poor / incidence) if poor else listed * 3, listed + 50)
        is_poor_village = incidence > 0.11 or rng.random() < 0.2
        condition = conditions[position] if position < len(conditions) else rng.choice(conditions)
        for year in range(min(FIRST_DEMO_YEAR, today.year - 1), today.year + 1):
            rows.append(
                VillageYear(
                    village=village,
                    year=year,
                    registered_rural_population=population,
                    total_households=int(population / 3.6),
                    is_poor_village=is_poor_village,
                    exit_year=2019 if is_poor_village and incidence < 0.08 else None,
                    is_deep_poverty=incidence > 0.14,
                    condition=condition,
                    first_secretary=person_name(rng, rng.choice(SURNAMES), "男")
                    if is_poor_village
                    else "",
                )
            )
    VillageYear.objects.bulk_create(rows, ignore_conflicts=True)


def step(*, result: dict[str, Any], seed: int) -> None:
    """The `seed_demo` step: the registry of `result["households"]` households, dated from
    `result["today"]`; puts `county`, `users`, `created` and `generated` into `result`."""
    result.update(
        build_registry(households=result["households"], seed=seed, today=result.get("today"))
    )


def national_step(*, result: dict[str, Any], seed: int) -> None:
    """The county's records as entered into the national system (issue 16): nine households in
    ten of those registered before this year, and their active members, marked 录入国家系统 on
    20 December of last year by the county officer, so that the household list's filter
    未录入国家系统 finds the rest. Idempotent: nothing is marked once any mark exists."""
    if NationalEntry.objects.exists():
        return
    today = result.get("today") or timezone.localdate()
    entered_on = datetime.date(today.year - 1, 12, 20)
    officer = result["users"]["county"]
    now = timezone.now()
    households = [
        pk
        for pk in Household.objects.filter(
            status__in=EXPORTED_STATUSES, first_identified_year__lt=today.year
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        if pk % 10
    ]
    common = {"entered_on": entered_on, "layout_version": LAYOUT_VERSION, "marked_at": now}
    entries = [NationalEntry(household_id=pk, marked_by=officer, **common) for pk in households]
    members = Member.objects.filter(household_id__in=households, is_active=True).values_list(
        "pk", "household_id"
    )
    persons: dict[int, int] = {}
    for member_id, household_id in members.iterator(chunk_size=5000):
        entries.append(
            NationalEntry(
                household_id=household_id, member_id=member_id, marked_by=officer, **common
            )
        )
        persons[household_id] = persons.get(household_id, 0) + 1
    NationalEntry.objects.bulk_create(entries, batch_size=5000)
    NationalEntryEvent.objects.bulk_create(
        [
            NationalEntryEvent(
                household_id=pk,
                action=NationalEntryEvent.Action.MARKED,
                entered_on=entered_on,
                persons=persons.get(pk, 0),
                bulk=True,
                created_by=officer,
                created_at=now,
            )
            for pk in households
        ],
        batch_size=5000,
    )
