"""The figures (DOMAIN §8): the one definition of 错评率, 漏评率, 错退率, 贫困发生率 and the exit
tests.

Everything that shows, stores or judges one of these figures calls this module: the rates job
(`rounds.rates`), the dashboards and API (through the stored snapshots), the assessment
(issue 6: sample rates, 综合贫困发生率, county exit). Counts are persons unless stated.

Public API (stable)
-------------------
Values
    ``Figure(numerator, denominator)``: frozen dataclass; ``numerator``/``denominator`` are int or
    Decimal; ``.rate`` is ``Decimal`` with ``RATE_PLACES`` (8) places, ROUND_HALF_UP, or ``None``
    when the denominator is 0; ``.percent`` the same ×100 with 2 places (display only);
    ``.below(limit)`` (<), ``.at_most(limit)`` (≤),
    ``.at_least(limit)`` (≥) compare the *exact* fraction with a Decimal limit
    (never the rounded rate); ``.as_dict()`` → ``{"numerator", "denominator", "rate"}`` (rate as a
    string, JSON-safe).
Pure helpers (counts in, ``Figure`` out)
    ``ratio(numerator, denominator)``
    ``wrongful_inclusion(*, removed_persons, registered_persons)``            错评率
    ``omission(*, included_persons, rural_population, registered_persons)``   漏评率 (denominator
        = 户籍农业人口 − registered persons at baseline, never below 0)
    ``wrongful_exit(*, returned_persons, exited_persons)``                    错退率
    ``incidence(*, poor_persons, rural_population)``                          贫困发生率
    ``approval(*, approving_households, surveyed_households)``                群众认可度
    ``comprehensive_incidence(*, poor_persons, omission_rate, non_registered_population,
        wrongful_exit_rate, exited_persons, rural_population)``               综合贫困发生率
        (rates as Decimal or Figure; numerator is a Decimal person estimate)
Thresholds (data, in one place; the county office may later override them from the database)
    ``ExitThresholds`` (frozen dataclass: ``comprehensive_incidence``, ``wrongful_exit``,
    ``omission``, ``approval``, ``village_incidence``), ``EXIT_THRESHOLDS``
    ({"standard", "western"}), ``exit_thresholds(*, western: bool)``,
    ``exit_thresholds_for(region)`` (uses ``Region.western``: the flag of the region or of
    any ancestor).
    ``county_exit_verdict(*, comprehensive_incidence, wrongful_exit, omission, approval,
        thresholds) -> ExitVerdict(passed: bool, failures: list[str])`` (all four needed: < 2 %
        / < 3 % west, 错退率 < 2 %, 漏评率 < 2 %, 认可度 ≥ 90 %; any failure vetoes).
    ``village_exit_passes(*, incidence, thresholds) -> bool`` (incidence ≤ 2 % / ≤ 3 % west).
Round figures from the frozen baseline and the round's events (SQL aggregates, never a loop)
    ``RoundCounts``: per-region counts (dataclass, addable with ``+``), ``.figures()`` →
    ``RoundFigures(wrongful_inclusion, omission, wrongful_exit, incidence, baseline_incidence)``.
    ``round_counts_by_village(*, round_id, path_prefix, village_ids=None) -> dict[village_id,
    RoundCounts]`` (one statement; ``village_ids`` when the caller already has them).
    ``round_figures(*, round, region) -> RoundFigures`` (any region: village, township, county).
    ``round_counts(*, round, region) -> RoundCounts``; ``rollup(village_counts, village_paths,
    region_paths) -> dict[region_id, RoundCounts]`` (sums villages into every ancestor by path,
    `povertyapp.models.path_prefixes`, bottom-up); ``nearest_region(path, by_path, *, itself)``
    (the deepest listed region on a path);
    ``village_ids_under(path_prefix)``; ``id_list(ids)`` (an inlined
    SQL list of integers); ``aggregate_settings(cursor)`` (PostgreSQL session settings of the
    aggregates: work_mem, no JIT); ``serial_statements()`` (no parallel workers in the enclosed
    code) and ``is_serial()``; ``aggregate_transaction()`` (the enclosed aggregates in one
    transaction, settings applied once).
    ``incidence_on(*, region, day) -> Figure`` (贫困发生率 at any date from the event history),
    ``status_counts_on(*, region, day)`` (households and persons per status at any date, from
    the events), ``rural_population_on(*, region, day)``.
Consistency (issue 13)
    ``consistency_check``/``consistency_differences``: every numerator against the count of
    its list (`CONSISTENCY`), as counted by the registry's registered ``register_round_lists``;
    ``FiguresDisagree`` names the differences in Chinese.

Definitions (DOMAIN §8), for a region and a round, against the baseline frozen at opening:
- 错评率 = persons of households removed (剔除) in the round ÷ registered persons at baseline
  (未脱贫 + 返贫 + 已脱贫).
- 漏评率 = persons newly included (新识别纳入) in the round ÷ (户籍农业人口 − registered persons
  at baseline).
- 错退率 = persons of exited households marked 返贫 in the round ÷ 已脱贫 persons at baseline.
- 贫困发生率 = unexited registered persons (未脱贫 + 返贫) ÷ 户籍农业人口. For a round: after the
  round's changes (baseline state overlaid with the round's events); ``baseline_incidence``: at
  opening. For a date: from each household's last event on or before that date.
The persons of a change are those recorded on its event (``HouseholdEvent.persons``: the
household's members when the change was made); a household counted once per list (its last
event of that kind in the round). A household's region is its baseline village (new households:
their village). 户籍农业人口 is the village's value frozen at opening (``RoundVillage``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, connections, transaction
from django.utils.translation import gettext_lazy as _

from povertyapp import db_router

if TYPE_CHECKING:
    from povertyapp.models import Region
    from rounds.models import AdjustmentRound

RATE_PLACES = 8
_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
Number = int | Decimal

POOR_STATUSES = ("poor", "returned")
REGISTERED_STATUSES = ("poor", "returned", "exited")
EXITED_STATUSES = ("exited",)


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A rate as numerator ÷ denominator, kept exact; ``rate`` is derived."""

    numerator: Number
    denominator: Number

    @property
    def rate(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (Decimal(self.numerator) / Decimal(self.denominator)).quantize(
            _QUANTUM, rounding=ROUND_HALF_UP
        )

    @property
    def percent(self) -> Decimal | None:
        rate = self.rate
        return None if rate is None else (rate * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def below(self, limit: Decimal) -> bool:
        """numerator ÷ denominator < limit, exactly. An undefined rate (denominator 0) counts
        as 0: a region with no one at risk has no error."""
        return Decimal(self.numerator) < Decimal(limit) * Decimal(self.denominator) or (
            not self.denominator and Decimal(0) < limit
        )

    def at_most(self, limit: Decimal) -> bool:
        return Decimal(self.numerator) <= Decimal(limit) * Decimal(self.denominator)

    def at_least(self, limit: Decimal) -> bool:
        if not self.denominator:
            return False
        return Decimal(self.numerator) >= Decimal(limit) * Decimal(self.denominator)

    def as_dict(self) -> dict[str, Any]:
        rate = self.rate
        numerator = self.numerator if isinstance(self.numerator, int) else str(self.numerator)
        denominator = (
            self.denominator if isinstance(self.denominator, int) else str(self.denominator)
        )
        return {
            "numerator": numerator,
            "denominator": denominator,
            "rate": None if rate is None else str(rate),
        }


def _rate_of(value: Figure | Decimal | None) -> Decimal:
    if isinstance(value, Figure):
        rate = value.rate
        if rate is None:
            return Decimal(0)
        # Exact fraction, not the rounded rate, so the estimate does not drift.
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(0) if value is None else Decimal(value)


# --- pure helpers -------------------------------------------------------------------------------


def ratio(numerator: Number, denominator: Number) -> Figure:
    return Figure(numerator, denominator)


def wrongful_inclusion(*, removed_persons: int, registered_persons: int) -> Figure:
    """错评率 = persons removed (剔除) in the round ÷ registered persons at baseline."""
    return Figure(removed_persons, registered_persons)


def omission(*, included_persons: int, rural_population: int, registered_persons: int) -> Figure:
    """漏评率 = persons newly included ÷ (户籍农业人口 − registered persons at baseline)."""
    return Figure(included_persons, max(rural_population - registered_persons, 0))


def wrongful_exit(*, returned_persons: int, exited_persons: int) -> Figure:
    """错退率 = persons of exited households returned (返贫) in the round ÷ exited persons at
    baseline."""
    return Figure(returned_persons, exited_persons)


def incidence(*, poor_persons: int, rural_population: int) -> Figure:
    """贫困发生率 = unexited registered persons ÷ 户籍农业人口."""
    return Figure(poor_persons, rural_population)


def approval(*, approving_households: int, surveyed_households: int) -> Figure:
    """群众认可度 = approving households ÷ surveyed households."""
    return Figure(approving_households, surveyed_households)


def comprehensive_incidence(
    *,
    poor_persons: Number,
    omission_rate: Figure | Decimal | None,
    non_registered_population: Number,
    wrongful_exit_rate: Figure | Decimal | None,
    exited_persons: Number,
    rural_population: Number,
) -> Figure:
    """综合贫困发生率 = (remaining poor + 漏评率 × non-registered rural population
    + 错退率 × exited population) ÷ rural population. The numerator is an estimate of persons
    (a Decimal)."""
    numerator = (
        Decimal(poor_persons)
        + _rate_of(omission_rate) * Decimal(non_registered_population)
        + _rate_of(wrongful_exit_rate) * Decimal(exited_persons)
    )
    return Figure(numerator, rural_population)


# --- thresholds (data, one place) -----------------------------------------------------------------


@dataclass(frozen=True)
class ExitThresholds:
    """Exit thresholds as decimal fractions.

    County exit: 综合贫困发生率 < ``comprehensive_incidence``,
    错退率 < ``wrongful_exit``, 漏评率 < ``omission``, 群众认可度 ≥ ``approval``. Village exit:
    贫困发生率 ≤ ``village_incidence``."""

    comprehensive_incidence: Decimal
    wrongful_exit: Decimal
    omission: Decimal
    approval: Decimal
    village_incidence: Decimal


EXIT_THRESHOLDS: dict[str, ExitThresholds] = {
    "standard": ExitThresholds(
        comprehensive_incidence=Decimal("0.02"),
        wrongful_exit=Decimal("0.02"),
        omission=Decimal("0.02"),
        approval=Decimal("0.90"),
        village_incidence=Decimal("0.02"),
    ),
    # Western provinces: 3 % for incidence (county and village); the error rates stay at 2 %.
    "western": ExitThresholds(
        comprehensive_incidence=Decimal("0.03"),
        wrongful_exit=Decimal("0.02"),
        omission=Decimal("0.02"),
        approval=Decimal("0.90"),
        village_incidence=Decimal("0.03"),
    ),
}


def exit_thresholds(*, western: bool) -> ExitThresholds:
    return EXIT_THRESHOLDS["western" if western else "standard"]


def exit_thresholds_for(region: Region) -> ExitThresholds:
    """The thresholds of the region's standard: western when the region or an ancestor is
    (`Region.western`: the flag is set on the province and inherited)."""
    return exit_thresholds(western=region.western)


@dataclass(frozen=True)
class ExitVerdict:
    passed: bool
    failures: list[str]


def county_exit_verdict(
    *,
    comprehensive_incidence: Figure,
    wrongful_exit: Figure,
    omission: Figure,
    approval: Figure,
    thresholds: ExitThresholds,
) -> ExitVerdict:
    """County exit needs all four (DOMAIN §8); each failure is named in Chinese."""
    failures = []
    checks = [
        (
            comprehensive_incidence.below(thresholds.comprehensive_incidence),
            _("综合贫困发生率未低于%(limit)s%%"),
            thresholds.comprehensive_incidence,
        ),
        (
            wrongful_exit.below(thresholds.wrongful_exit),
            _("错退率未低于%(limit)s%%"),
            thresholds.wrongful_exit,
        ),
        (omission.below(thresholds.omission), _("漏评率未低于%(limit)s%%"), thresholds.omission),
        (
            approval.at_least(thresholds.approval),
            _("群众认可度低于%(limit)s%%"),
            thresholds.approval,
        ),
    ]
    for passed, message, limit in checks:
        if not passed:
            failures.append(str(message) % {"limit": _percent_text(limit)})
    return ExitVerdict(passed=not failures, failures=failures)


def village_exit_passes(*, incidence: Figure, thresholds: ExitThresholds) -> bool:
    return incidence.at_most(thresholds.village_incidence)


def _percent_text(limit: Decimal) -> str:
    return format((limit * 100).normalize(), "f")


# --- counts from the baseline and the round's events ---------------------------------------


def _status_counts() -> dict[str, dict[str, int]]:
    return {}


@dataclass
class RoundCounts:
    """What the figures of one region and round are made of (households and persons)."""

    rural_population: int = 0
    registered_households: int = 0
    registered_persons: int = 0
    exited_persons: int = 0
    poor_persons_baseline: int = 0
    removed_households: int = 0
    removed_persons: int = 0
    included_households: int = 0
    included_persons: int = 0
    returned_households: int = 0
    returned_persons: int = 0
    exit_marked_households: int = 0
    exit_marked_persons: int = 0
    poor_households: int = 0
    poor_persons: int = 0
    # {status: {"households": n, "persons": n}}
    status_counts: dict[str, dict[str, int]] = field(default_factory=_status_counts)
    baseline_status_counts: dict[str, dict[str, int]] = field(default_factory=_status_counts)
    # {main cause: {"households": n, "persons": n}} of the poor after the round.
    cause_counts: dict[str, dict[str, int]] = field(default_factory=_status_counts)

    def __add__(self, other: RoundCounts) -> RoundCounts:
        total = RoundCounts()
        total += self
        total += other
        return total

    def __iadd__(self, other: RoundCounts) -> RoundCounts:
        """Add ``other``'s counts into this one (in place: the rollup adds every village into
        each of its ancestors)."""
        for name in _COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _BREAKDOWN_FIELDS:
            mine = getattr(self, name)
            for key, counts in getattr(other, name).items():
                slot = mine.get(key)
                if slot is None:
                    mine[key] = {"households": counts["households"], "persons": counts["persons"]}
                else:
                    slot["households"] += counts["households"]
                    slot["persons"] += counts["persons"]
        return self

    def list_counts(self) -> dict[str, dict[str, int]]:
        return {
            "identified": {
                "households": self.included_households,
                "persons": self.included_persons,
            },
            "removed": {"households": self.removed_households, "persons": self.removed_persons},
            "returned": {"households": self.returned_households, "persons": self.returned_persons},
            "exited": {
                "households": self.exit_marked_households,
                "persons": self.exit_marked_persons,
            },
        }

    def figures(self) -> RoundFigures:
        return RoundFigures(
            wrongful_inclusion=wrongful_inclusion(
                removed_persons=self.removed_persons, registered_persons=self.registered_persons
            ),
            omission=omission(
                included_persons=self.included_persons,
                rural_population=self.rural_population,
                registered_persons=self.registered_persons,
            ),
            wrongful_exit=wrongful_exit(
                returned_persons=self.returned_persons, exited_persons=self.exited_persons
            ),
            incidence=incidence(
                poor_persons=self.poor_persons, rural_population=self.rural_population
            ),
            baseline_incidence=incidence(
                poor_persons=self.poor_persons_baseline, rural_population=self.rural_population
            ),
        )


_COUNT_FIELDS = tuple(item.name for item in fields(RoundCounts) if item.type == "int")
_BREAKDOWN_FIELDS = tuple(item.name for item in fields(RoundCounts) if item.type != "int")


@dataclass(frozen=True)
class RoundFigures:
    wrongful_inclusion: Figure  # 错评率
    omission: Figure  # 漏评率
    wrongful_exit: Figure  # 错退率
    incidence: Figure  # 贫困发生率 after the round's changes
    baseline_incidence: Figure  # 贫困发生率 at opening


# PostgreSQL settings for the aggregates, local to their transaction: the grouped aggregates fit
# in memory with a little more than the default work_mem (4 MB), which otherwise sorts 100k rows
# on disk instead of hashing them; and no JIT: on a 3M-household deployment the planner's cost
# estimate passes jit_above_cost and compiling the expressions took about 1 s per statement,
# longer than the statement itself.
AGGREGATE_WORK_MEM = "64MB"
AGGREGATE_SETTINGS = (("work_mem", AGGREGATE_WORK_MEM), ("jit", "off"))


# PostgreSQL parallel workers per statement: None leaves the server's setting. The rates job of
# one county among many sent at once (a Celery group) sets 0 through `serial_statements`: the
# group's worker processes are already the parallelism, and each statement's own parallel
# workers would only queue on the same cores (measured: docs/performance.md).
_parallel_workers: ContextVar[int | None] = ContextVar("parallel_workers", default=None)


@contextmanager
def serial_statements() -> Iterator[None]:
    """Run the aggregates of the enclosed code without PostgreSQL parallel workers."""
    token = _parallel_workers.set(0)
    try:
        yield
    finally:
        _parallel_workers.reset(token)


def is_serial() -> bool:
    """Inside `serial_statements`."""
    return _parallel_workers.get() == 0


def aggregate_settings(cursor: Any) -> None:
    """Apply AGGREGATE_SETTINGS (and `serial_statements`) to the current transaction
    (PostgreSQL; no-op elsewhere), in one statement: ``set_config(name, value, true)`` is
    ``SET LOCAL`` (a round trip per setting cost a county job of the fan-out 8 of its 30
    statements, docs/performance.md)."""
    if connection.vendor == "postgresql":
        wanted = list(AGGREGATE_SETTINGS)
        workers = _parallel_workers.get()
        if workers is not None:
            wanted.append(("max_parallel_workers_per_gather", str(int(workers))))
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(wanted)),
            [text for pair in wanted for text in pair],
        )


# The alias whose connection is inside `aggregate_transaction` (its settings applied).
_aggregate_alias: ContextVar[str | None] = ContextVar("aggregate_alias", default=None)


@contextmanager
def aggregate_transaction() -> Iterator[None]:
    """Run the aggregates of the enclosed code (`_rows`) in one transaction on the connection
    they read from, its settings applied once, instead of a transaction and a settings
    statement each (the rates job when its aggregates run one after the other: a county of a
    group). Another thread's connection is not in it: its `_rows` open their own."""
    alias = db_router.read_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        aggregate_settings(cursor)
        token = _aggregate_alias.set(alias)
        try:
            yield
        finally:
            _aggregate_alias.reset(token)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    alias = db_router.read_alias()  # the read replica inside read_from_replica (issue 19)
    if _aggregate_alias.get() == alias and connections[alias].in_atomic_block:
        with connections[alias].cursor() as cursor:  # inside `aggregate_transaction`
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        aggregate_settings(cursor)
        cursor.execute(sql, params)
        return cursor.fetchall()


# Per household with events in the round: its last status-bearing event (status and persons
# after the round) and its last event of each list (persons of that list), in one grouped pass
# over the round's events and no join back to the event table (which, joined by id, the planner
# would hash whole: every round of the deployment). Portable SQL (SQLite and PostgreSQL): the
# event id, which orders the events, is packed with what is wanted from the event into one
# integer, and MAX picks the last: id × 65536 + persons (persons is a small integer < 65536),
# id × 64 + the code of the status.
_PERSONS_BASE = 65536
_STATUS_BASE = 64
_LISTS = ("removed", "identified", "returned", "exited")


def _round_events_sql() -> str:
    from households.models import Household

    statuses = list(Household.Status.values)
    assert len(statuses) < _STATUS_BASE
    encode = " ".join(f"WHEN '{status}' THEN {code}" for code, status in enumerate(statuses, 1))
    decode = " ".join(f"WHEN {code} THEN '{status}'" for code, status in enumerate(statuses, 1))
    key = f"CAST(x.id AS BIGINT) * {_PERSONS_BASE} + x.persons"
    lists = ",\n".join(
        f"MAX(CASE WHEN x.kind = '{kind}' THEN {key} END) AS {kind}_key" for kind in _LISTS
    )
    persons = ",\n".join(f"a.{kind}_key %% {_PERSONS_BASE} AS {kind}_persons" for kind in _LISTS)
    return f"""
    SELECT a.household_id,
           CASE a.last_code %% {_STATUS_BASE} {decode} END AS last_status,
           a.last_key %% {_PERSONS_BASE} AS last_persons,
           {persons}
    FROM (
        SELECT x.household_id,
               MAX(CAST(x.id AS BIGINT) * {_STATUS_BASE}
                   + CASE x.to_status {encode} ELSE 0 END) AS last_code,
               MAX({key}) AS last_key,
               {lists}
        FROM households_householdevent x
        WHERE x.round_id = %s AND x.to_status <> ''
        GROUP BY x.household_id
    ) a
"""


_LIST_COLUMNS = """
    COUNT(e.removed_persons), COALESCE(SUM(e.removed_persons), 0),
    COUNT(e.identified_persons), COALESCE(SUM(e.identified_persons), 0),
    COUNT(e.returned_persons), COALESCE(SUM(e.returned_persons), 0),
    COUNT(e.exited_persons), COALESCE(SUM(e.exited_persons), 0)
"""


def _add(slot: dict[str, dict[str, int]], key: str, households: int, persons: int) -> None:
    entry = slot.setdefault(key, {"households": 0, "persons": 0})
    entry["households"] += households
    entry["persons"] += persons


def id_list(ids: Iterable[int]) -> str:
    """An SQL list of integer ids, inlined (ints only: nothing to escape). The planner then
    reaches the rows through the index on the column, on SQLite and PostgreSQL alike, without a
    placeholder per id."""
    values = ", ".join(str(int(value)) for value in ids)
    return f"({values or 'NULL'})"


def village_ids_under(path_prefix: str) -> list[int]:
    from povertyapp.models import Region

    return list(
        Region.objects.filter(path__startswith=path_prefix, level=Region.Level.VILLAGE).values_list(
            "id", flat=True
        )
    )


def _after(village: RoundCounts, status: str, cause: str, households: int, persons: int) -> None:
    """Count households and persons under their status after the round (and their cause when
    poor); negative counts take an entry back."""
    _add(village.status_counts, status, households, persons)
    if status in POOR_STATUSES:
        village.poor_households += households
        village.poor_persons += persons
        _add(village.cause_counts, cause, households, persons)


def round_counts_by_village(
    *, round_id: int, path_prefix: str, village_ids: Iterable[int] | None = None
) -> dict[int, RoundCounts]:
    """The counts of every village under ``path_prefix`` (or of ``village_ids``) for a round:
    one statement over the baseline's sums frozen at opening (per village, status and main cause)
    and the round's households with events (each looked up in the baseline: moved from its
    baseline status to its status after the round, or, registered after opening, added) and the
    frozen population. Villages with a population but no households are included."""
    villages = id_list(village_ids_under(path_prefix) if village_ids is None else village_ids)
    counts: dict[int, RoundCounts] = defaultdict(RoundCounts)

    # One statement ("p": the villages' 户籍农业人口 frozen at opening, `RoundVillage`, in the
    # households column; it was a statement and a transaction of its own). "g": the baseline's
    # households and persons per village, baseline status and main cause, frozen at opening
    # (`RoundBaselineGroup`, a few hundred rows per county), counted as if nothing changed in
    # the round. "e": the round's events grouped per household (a few percent of the households,
    # computed once), each joined to its baseline row by the (round, household) index; grouped
    # by village, baseline status, status after the round and main cause. "c" rows (in the
    # baseline) move their households and persons from their baseline status to their status
    # after the round; "n" rows (households registered after opening: no baseline row) add them,
    # their village and cause looked up by primary key for those rows only (scalar subqueries,
    # grouped on, filtered after the grouping: a join to the household table would let the
    # planner hash the whole table for a handful of rows). A household with no main cause at
    # baseline (非建档立卡户: it gets one to be identified) is counted under its cause in the
    # registry, looked up the same way (issue 13: the newly identified were counted as "未填写").
    events = _round_events_sql()
    rows = _rows(
        f"""SELECT 'p', rv.village_id, '', '', '', rv.rural_population, 0, 0,
                   0, 0, 0, 0, 0, 0, 0, 0
            FROM households_roundvillage rv
            WHERE rv.round_id = %s AND rv.village_id IN {villages}
            UNION ALL
            SELECT 'g', g.village_id, g.status, g.status, g.main_cause, g.households, g.persons,
                   g.persons, 0, 0, 0, 0, 0, 0, 0, 0
            FROM households_roundbaselinegroup g
            WHERE g.round_id = %s AND g.village_id IN {villages}
            UNION ALL
            SELECT c.* FROM (
                SELECT CASE WHEN b.household_id IS NULL THEN 'n' ELSE 'c' END AS branch,
                       CASE WHEN b.household_id IS NULL
                            THEN (SELECT h.village_id FROM households_household h
                                  WHERE h.id = e.household_id)
                            ELSE b.village_id END AS village_id,
                       COALESCE(b.status, '') AS before_status, e.last_status,
                       CASE WHEN b.household_id IS NULL OR COALESCE(b.main_cause, '') = ''
                            THEN (SELECT h.main_cause FROM households_household h
                                  WHERE h.id = e.household_id)
                            ELSE b.main_cause END AS main_cause,
                       COUNT(*), COALESCE(SUM(b.persons), 0), SUM(e.last_persons),
                       {_LIST_COLUMNS}
                FROM ({events}) e
                LEFT JOIN households_roundbaseline b
                    ON b.round_id = %s AND b.household_id = e.household_id
                GROUP BY 1, 2, 3, 4, 5
            ) c
            WHERE c.village_id IN {villages}""",
        [round_id] * 4,
    )
    for row in rows:
        branch, village_id, before, after, cause = row[0], row[1], row[2], row[3], row[4]
        if branch == "p":
            counts[village_id].rural_population = int(row[5])
            continue
        households, persons_before, persons_after = int(row[5]), int(row[6] or 0), int(row[7] or 0)
        lists = [int(value or 0) for value in row[8:16]]
        village = counts[village_id]
        cause = cause or "未填写"
        if branch == "g":
            _add(village.baseline_status_counts, before, households, persons_before)
            if before in REGISTERED_STATUSES:
                village.registered_households += households
                village.registered_persons += persons_before
            if before in EXITED_STATUSES:
                village.exited_persons += persons_before
            if before in POOR_STATUSES:
                village.poor_persons_baseline += persons_before
        elif branch == "c":
            # Counted under their baseline status by "g": taken back from there.
            _after(village, before, cause, -households, -persons_before)
        _after(village, after, cause, households, persons_after)
        village.removed_households += lists[0]
        village.removed_persons += lists[1]
        village.included_households += lists[2]
        village.included_persons += lists[3]
        village.returned_households += lists[4]
        village.returned_persons += lists[5]
        village.exit_marked_households += lists[6]
        village.exit_marked_persons += lists[7]
    for village in counts.values():
        for slot in (village.status_counts, village.cause_counts):
            for key in [key for key, entry in slot.items() if not entry["households"]]:
                del slot[key]
    return dict(counts)


def rollup(
    village_counts: dict[int, RoundCounts],
    village_paths: dict[int, str],
    region_paths: dict[int, str],
) -> dict[int, RoundCounts]:
    """Sum village counts into every region whose path is a prefix of the village's path.

    Bottom-up: each village is added once, into the nearest of ``region_paths`` on its path
    (itself when listed), then each region, deepest first, into its nearest listed ancestor;
    a sum of sums, so every region holds the sum of its villages' counts (never of rates), with
    one addition per region and village instead of one per village and ancestor (the roll-up of
    a province's 625-region county was 1,773 additions, docs/performance.md)."""
    totals: dict[int, RoundCounts] = {region_id: RoundCounts() for region_id in region_paths}
    by_path = {path: region_id for region_id, path in region_paths.items()}
    for village_id, village in village_counts.items():
        region_id = nearest_region(village_paths[village_id], by_path, itself=True)
        if region_id is not None:
            totals[region_id] += village
    for region_id in sorted(region_paths, key=lambda item: -len(region_paths[item])):
        parent = nearest_region(region_paths[region_id], by_path, itself=False)
        if parent is not None:
            totals[parent] += totals[region_id]
    return totals


def nearest_region(path: str, by_path: dict[str, int], *, itself: bool) -> int | None:
    """The region of ``by_path`` (path → id) nearest to ``path`` on its chain of prefixes: the
    deepest of its ancestors listed (and ``path`` itself first when ``itself``); None if none."""
    from povertyapp.models import path_prefixes

    prefixes = path_prefixes(path)
    if not itself:
        prefixes = prefixes[:-1]
    for prefix in reversed(prefixes):
        region_id = by_path.get(prefix)
        if region_id is not None:
            return region_id
    return None


def round_counts(*, round: AdjustmentRound, region: Region) -> RoundCounts:
    total = RoundCounts()
    for village in round_counts_by_village(round_id=round.pk, path_prefix=region.path).values():
        total += village
    return total


def round_figures(*, round: AdjustmentRound, region: Region) -> RoundFigures:
    """The four figures of any region for a round, from its frozen baseline and its events."""
    return round_counts(round=round, region=region).figures()


def status_counts_on(*, region: Region, day: datetime.date) -> dict[str, dict[str, int]]:
    """Households and persons of a region per status as they stood at the end of ``day``,
    derived from the events: each household under the status and persons of its last
    status-bearing event dated on or before ``day`` (its 建档 event first; member events carry
    the household's status and its persons after the change), in its village. Households
    registered later are not counted. ``{status: {"households": n, "persons": n}}``."""
    rows = _rows(
        """SELECT t.to_status, COUNT(*), COALESCE(SUM(t.persons), 0) FROM (
               SELECT e.persons, e.to_status,
                      ROW_NUMBER() OVER (PARTITION BY e.household_id
                                         ORDER BY e.effective_date DESC, e.id DESC) AS position
               FROM households_householdevent e
               JOIN households_household h ON h.id = e.household_id
               JOIN povertyapp_region r ON r.id = h.village_id
               WHERE r.path LIKE %s AND e.to_status <> '' AND e.effective_date <= %s
           ) t WHERE t.position = 1 GROUP BY t.to_status""",
        [region.path + "%", day],
    )
    return {
        status: {"households": int(households), "persons": int(persons)}
        for status, households, persons in sorted(rows)
    }


def rural_population_on(*, region: Region, day: datetime.date) -> int:
    """户籍农业人口 of the region's villages for ``day``'s year (0 when not entered)."""
    rows = _rows(
        """SELECT COALESCE(SUM(y.registered_rural_population), 0)
           FROM povertyapp_villageyear y JOIN povertyapp_region r ON r.id = y.village_id
           WHERE y.year = %s AND r.path LIKE %s""",
        [day.year, region.path + "%"],
    )
    return int(rows[0][0])


def incidence_on(
    *,
    region: Region,
    day: datetime.date,
    status_counts: dict[str, dict[str, int]] | None = None,
) -> Figure:
    """贫困发生率 of a region at a date: persons of households whose last status-bearing event on
    or before ``day`` left them 未脱贫/返贫 (`status_counts_on`, or the counts given), ÷ the
    户籍农业人口 of the villages for ``day.year``."""
    counts = status_counts_on(region=region, day=day) if status_counts is None else status_counts
    poor = sum(counts.get(status, {}).get("persons", 0) for status in POOR_STATUSES)
    return incidence(
        poor_persons=poor, rural_population=rural_population_on(region=region, day=day)
    )


# --- consistency: every numerator equals the count of its list --------------------------------

# Which list explains each count the figures are made of (issue 13): (count field of
# `RoundCounts` for households, for persons, list key of the registered list counter, label).
CONSISTENCY = (
    ("removed_households", "removed_persons", "removed", _("错评率分子（剔除）")),
    ("included_households", "included_persons", "identified", _("漏评率分子（新识别纳入）")),
    ("returned_households", "returned_persons", "returned", _("错退率分子（返贫）")),
    ("exit_marked_households", "exit_marked_persons", "exited", _("标注脱贫")),
    ("poor_households", "poor_persons", "poor", _("贫困发生率分子（未脱贫＋返贫）")),
)

# The registry registers how its lists are counted (`households.apps`): the platform imports no
# domain app. ``counter(round_id=, village_ids=) -> {village_id: {list: [households, persons]}}``.
ListCounter = Callable[..., dict[int, dict[str, list[int]]]]
_list_counter: list[ListCounter] = []


def register_round_lists(counter: ListCounter) -> None:
    """Register the function that counts a round's lists per village (one; a second call
    replaces it)."""
    _list_counter[:] = [counter]


class FiguresDisagree(Exception):
    """The figures' numerators differ from the counts of their lists; the message (Chinese)
    names every difference."""

    def __init__(self, differences: list[dict[str, Any]]) -> None:
        self.differences = differences
        super().__init__(consistency_message(differences))


def consistency_differences(
    *,
    round_id: int,
    village_counts: dict[int, RoundCounts],
    region_paths: dict[int, str],
    village_paths: dict[int, str],
    totals: dict[int, RoundCounts] | None = None,
    listed: dict[int, Any] | None = None,
) -> list[dict[str, Any]]:
    """Compare, for every region of ``region_paths`` (villages and their ancestors), each
    count the figures are made of with the count of its list (`CONSISTENCY`), as the registered
    list counter counts them (``listed``: its answer, when the caller had it counted already,
    e.g. on another connection). Returns one entry per difference: region id, what, unit
    ("households"/"persons"), the figures' count and the list's count. No counter registered:
    nothing to compare (an empty list)."""
    if not _list_counter:
        return []
    if listed is None:
        listed = _list_counter[0](round_id=round_id, village_ids=list(village_paths))
    if totals is None:
        totals = rollup(village_counts, village_paths, region_paths)
    by_path = {path: region_id for region_id, path in region_paths.items()}
    listed_totals: dict[int, dict[str, list[int]]] = {}
    for village_id, lists in listed.items():
        for ancestor in path_prefixes_of(village_paths.get(village_id, "")):
            region_id = by_path.get(ancestor)
            if region_id is None:
                continue
            slot = listed_totals.setdefault(region_id, {})
            for key, (households, persons) in lists.items():
                entry = slot.setdefault(key, [0, 0])
                entry[0] += households
                entry[1] += persons
    differences = []
    for region_id in sorted(region_paths, key=lambda item: region_paths[item]):
        counts = totals.get(region_id, RoundCounts())
        lists = listed_totals.get(region_id, {})
        for households_field, persons_field, key, label in CONSISTENCY:
            listed_households, listed_persons = lists.get(key, [0, 0])
            for unit, figure_value, list_value in (
                ("households", getattr(counts, households_field), listed_households),
                ("persons", getattr(counts, persons_field), listed_persons),
            ):
                if figure_value != list_value:
                    differences.append(
                        {
                            "region_id": region_id,
                            "list": key,
                            "label": str(label),
                            "unit": unit,
                            "figures": figure_value,
                            "listed": list_value,
                        }
                    )
    return differences


def path_prefixes_of(path: str) -> list[str]:
    from povertyapp.models import path_prefixes

    return path_prefixes(path)


def consistency_message(differences: list[dict[str, Any]], *, limit: int = 10) -> str:
    """The differences in a Chinese sentence, regions by name (the first ``limit``)."""
    from povertyapp.models import Region

    names = dict(
        Region.objects.filter(
            pk__in={item["region_id"] for item in differences[:limit]}
        ).values_list("pk", "name")
    )
    units = {"households": _("户"), "persons": _("人")}
    parts = [
        str(_("%(region)s%(what)s：指标计为%(figures)s%(unit)s，名单为%(listed)s%(unit)s"))
        % {
            "region": names.get(item["region_id"], item["region_id"]),
            "what": item["label"],
            "figures": item["figures"],
            "listed": item["listed"],
            "unit": units[item["unit"]],
        }
        for item in differences[:limit]
    ]
    more = len(differences) - limit
    if more > 0:
        parts.append(str(_("另有%(count)d处不一致")) % {"count": more})
    return str(_("指标与名单不一致，未保存指标快照：%(differences)s。")) % {
        "differences": "；".join(parts)
    }


def list_counts_by_village(*, round_id: int, village_ids: list[int]) -> dict[int, Any] | None:
    """The registered list counter's answer for the round's villages (None: none registered)."""
    if not _list_counter:
        return None
    return _list_counter[0](round_id=round_id, village_ids=village_ids)


def consistency_check(
    *,
    round_id: int,
    village_counts: dict[int, RoundCounts],
    region_paths: dict[int, str],
    village_paths: dict[int, str],
    totals: dict[int, RoundCounts] | None = None,
    listed: dict[int, Any] | None = None,
) -> None:
    """Raise `FiguresDisagree` when a numerator differs from the count of its list."""
    differences = consistency_differences(
        round_id=round_id,
        village_counts=village_counts,
        region_paths=region_paths,
        village_paths=village_paths,
        totals=totals,
        listed=listed,
    )
    if differences:
        raise FiguresDisagree(differences)
