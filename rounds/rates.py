"""The rates job: every region of a county, for one round, in one pass; stored as snapshots.

`compute_rates` reads the round's frozen baseline and its events with one grouped statement
(`rounds.figures.round_counts_by_village`: the baseline's sums per village frozen at opening
plus the few households with events in the round, never a loop over households), computes
信息录入率 in two more statements (the villages' households, then their active members: the
required fields of `households.quality` translated to SQL; on PostgreSQL concurrently with the
figures, on a second connection: `_aggregates`; else all in one transaction,
`figures.aggregate_transaction`), rolls the village counts up the region tree by `Region.path`
prefix (bottom-up, `figures.rollup`), and upserts the `RateSnapshot` of every region of the
subtree and its `FigureHistory` row in one transaction (`INSERT ... ON CONFLICT (region, round)
DO UPDATE`; on PostgreSQL one statement for both tables, `snapshots_store`), holding a lock on
the round so two runs never interleave. Every statement reaches the
county's rows through indexes (the village ids, the round), never the whole deployment's tables.
Rerunning, or a second delivery of the same task, rewrites the same rows (only `computed_at` and
`source.job` change).

It runs as a job (`povertyapp.jobs`: acks_late, time limits, retries for transient errors only,
progress and errors on the Job row the user watches): `rates_enqueue` from the round page, the
`compute_rates` management command, the nightly beat entry (`compute_open_rounds_task`) and, for
many counties, `rates_enqueue_group` (a Celery group, one task per county).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    JSONField,
    Max,
    OuterRef,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import completeness as member_completeness
from households.models import HouseholdEvent
from povertyapp import jobs, roles, yearlock
from povertyapp.db_router import read_from_replica
from povertyapp.models import Job, Region, User
from rounds import figures, history
from rounds.models import AdjustmentRound, FigureHistory, RateSnapshot

KIND = "compute_rates"
_A = TypeVar("_A")
_B = TypeVar("_B")
SNAPSHOT_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE)


# --- 信息录入率 ----------------------------------------------------------------------------------

# The required fields of households.quality, in SQL. What does not depend on the day is stored
# by the database in generated columns (households.models: Household.completeness_filled /
# completeness_required, Member.completeness_mask). The members' terms for the age on the day
# are kept per household in MemberCompleteness (households.completeness) with the day until
# which they hold: the job sums those, and reads the members only of the households whose row
# is missing or out of date (a member written since the last refresh, a birthday that crossed
# an age bound, a household added since). Tests compare the result with
# households.quality.completeness household by household.

# When more than this share of the villages' households have no row that holds on the day (no
# refresh has run since the data were loaded, a large import), the job reads every member of
# the villages in one pass over their id range (`_member_terms_by_village`), as before the rows
# existed: cheaper than reaching that many households one by one.
STALE_SHARE = 0.2


class _VillageTerms:
    """One village's sums from the households' stored columns and from the rows of
    MemberCompleteness that hold on the day (`stored` of them out of `households`)."""

    __slots__ = ("filled", "required", "households", "stored_filled", "stored_required", "stored")

    def __init__(self, row: tuple) -> None:
        (
            self.filled,
            self.required,
            self.households,
            self.stored_filled,
            self.stored_required,
            self.stored,
        ) = (int(value or 0) for value in row)

    @property
    def own(self) -> tuple[int, int]:
        return self.filled, self.required

    @property
    def with_stored(self) -> tuple[int, int]:
        return self.filled + self.stored_filled, self.required + self.stored_required


def completeness_by_village(
    *, village_ids: Iterable[int], today: datetime.date
) -> dict[int, tuple[int, int]]:
    """(filled, required) per village: the required fields of `households.quality`, current data.
    One statement reads the households' stored counts and the members' kept sums that hold on
    the day (both from covering indexes: `household_completeness_idx`,
    `member_terms_village_idx`); when some households have none, a second reads theirs
    (`_stale_terms`), or, when most have none, every active member of the villages
    (`member_completeness_idx`): never the member table of the whole deployment."""
    villages = figures.id_list(village_ids)
    terms, low, high = _village_terms(villages, today)
    if low is None or high is None:
        return {}
    stale = _stale_count(terms)
    if stale == 0:
        return {village_id: row.with_stored for village_id, row in terms.items()}
    if not _mostly_stale(terms, stale):
        return _stale_terms(villages, today)
    own = {village_id: row.own for village_id, row in terms.items()}
    return _plus(own, _member_terms_by_village(villages, today, low, high))


def _stale_count(terms: dict[int, _VillageTerms]) -> int:
    """How many households have no kept sums that hold (per village, either way: more rows than
    households would be a row out of place, read exactly as well)."""
    return sum(abs(row.households - row.stored) for row in terms.values())


def _mostly_stale(terms: dict[int, _VillageTerms], stale: int) -> bool:
    return stale > STALE_SHARE * sum(row.households for row in terms.values())


def _village_terms(
    villages: str, today: datetime.date
) -> tuple[dict[int, _VillageTerms], int | None, int | None]:
    """Per village, in one statement: the households' stored (filled, required) and their
    number, the members' kept sums that hold on `today` and their number; and the lowest and
    highest household id of the villages (None, None when they have no households)."""
    terms: dict[int, _VillageTerms] = {}
    low: int | None = None
    high: int | None = None
    for village_id, *sums, first, last in figures._rows(
        f"""SELECT v.village_id, SUM(v.filled), SUM(v.required), SUM(v.households),
                   SUM(v.stored_filled), SUM(v.stored_required), SUM(v.stored),
                   MIN(v.first_id), MAX(v.last_id)
            FROM (
                SELECT h.village_id, SUM(h.completeness_filled) AS filled,
                       SUM(h.completeness_required) AS required, COUNT(*) AS households,
                       0 AS stored_filled, 0 AS stored_required, 0 AS stored,
                       MIN(h.id) AS first_id, MAX(h.id) AS last_id
                FROM households_household h
                WHERE h.village_id IN {villages}
                GROUP BY h.village_id
                UNION ALL
                SELECT t.village_id, 0, 0, 0, SUM(t.filled), SUM(t.required), COUNT(*),
                       NULL, NULL
                FROM households_membercompleteness t
                WHERE t.village_id IN {villages} AND {member_completeness.fresh()}
                GROUP BY t.village_id
            ) v
            GROUP BY v.village_id""",
        [today, today],
    ):
        terms[village_id] = _VillageTerms(tuple(sums))
        if first is not None:
            low = int(first) if low is None else min(low, int(first))
            high = int(last) if high is None else max(high, int(last))
    return terms, low, high


def _stale_terms(villages: str, today: datetime.date) -> dict[int, tuple[int, int]]:
    """(filled, required) per village, in one statement (one snapshot, whatever a refresh or a
    write commits meanwhile): the households' stored counts, the members' kept sums that hold
    on `today`, and the active members of the other households, read through their household
    (`member_completeness_idx`). Those households are found first (a materialised CTE: the
    planner cannot know how few they are, and would otherwise join every member of the
    villages before leaving out the households whose sums hold)."""
    member_filled, member_required, member_values = member_completeness.member_terms(today)
    rows = figures._rows(
        f"""WITH stale AS MATERIALIZED (
                SELECT h.id, h.village_id FROM households_household h
                WHERE h.village_id IN {villages} AND NOT EXISTS (
                    SELECT 1 FROM households_membercompleteness t
                    WHERE t.household_id = h.id AND t.village_id IN {villages}
                      AND {member_completeness.fresh()}
                )
            )
            SELECT v.village_id, SUM(v.filled), SUM(v.required)
            FROM (
                SELECT h.village_id, SUM(h.completeness_filled) AS filled,
                       SUM(h.completeness_required) AS required
                FROM households_household h
                WHERE h.village_id IN {villages}
                GROUP BY h.village_id
                UNION ALL
                SELECT t.village_id, SUM(t.filled), SUM(t.required)
                FROM households_membercompleteness t
                WHERE t.village_id IN {villages} AND {member_completeness.fresh()}
                GROUP BY t.village_id
                UNION ALL
                SELECT s.village_id, SUM({member_filled}), SUM({member_required})
                FROM stale s
                JOIN households_member m ON m.household_id = s.id AND m.is_active = %s
                GROUP BY s.village_id
            ) v
            GROUP BY v.village_id""",
        [today, today, today, today, *member_values, True],
    )
    return {
        village_id: (int(filled or 0), int(required or 0)) for village_id, filled, required in rows
    }


def _member_terms_by_village(
    villages: str, today: datetime.date, low: int, high: int
) -> dict[int, tuple[int, int]]:
    """The active members' (filled, required) per village, of the households with ids in
    [low, high] (the villages' whole range: no part of it is split off any more)."""
    # The members of these households lie in [low, high] of member_completeness_idx: inlined,
    # the planner sees from its statistics how much of the index that is (the whole of it for
    # a one-county deployment: one pass; a thirtieth of a province: one range of it, not one
    # index descent per household). The members are summed per household first, in the
    # index's order (a streaming aggregate, no hashing of every member), then joined to the
    # households for their village (those of the same id range only).
    member_filled, member_required, member_values = member_completeness.member_terms(today)
    return {
        village_id: (int(filled or 0), int(required or 0))
        for village_id, filled, required in figures._rows(
            f"""SELECT h.village_id, SUM(x.filled), SUM(x.required)
                FROM (
                    SELECT m.household_id, CAST(SUM({member_filled}) AS INTEGER) AS filled,
                           CAST(SUM({member_required}) AS INTEGER) AS required
                    FROM households_member m
                    WHERE m.is_active = %s AND m.household_id BETWEEN {int(low)} AND {int(high)}
                    GROUP BY m.household_id
                ) x
                JOIN households_household h ON h.id = x.household_id
                WHERE h.village_id IN {villages} AND h.id BETWEEN {int(low)} AND {int(high)}
                GROUP BY h.village_id""",
            [*member_values, True],
        )
    }


def _plus(*parts: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """(filled, required) per village, summed over ``parts``."""
    total: dict[int, tuple[int, int]] = {}
    for part in parts:
        for village_id, (filled, required) in part.items():
            before = total.get(village_id, (0, 0))
            total[village_id] = (before[0] + filled, before[1] + required)
    return total


# --- the computation ----------------------------------------------------------------------------


def concurrent_allowed() -> bool:
    """Whether the two aggregates of a job may run at once, on two connections: on PostgreSQL,
    outside `figures.serial_statements` (a county of a group: the group is the parallelism) and
    outside any transaction of the caller (another connection would not see its uncommitted
    rows, e.g. a test's enclosing transaction)."""
    return (
        connection.vendor == "postgresql"
        and not figures.is_serial()
        and not connection.in_atomic_block
    )


def _both(first: Callable[[], _A], second: Callable[[], _B]) -> tuple[_A, _B]:
    """``(first(), second())``: when `concurrent_allowed`, ``second`` runs in a thread on its own
    database connection (opened with the same settings, closed when it ends; its statements set
    the same session settings through `figures.aggregate_settings`) while ``first`` runs on this
    one; else one after the other. An exception of either is raised here, after both ended."""
    if not concurrent_allowed():
        return first(), second()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = second()
        except BaseException as error:  # raised again in the caller's thread
            outcome["error"] = error
        finally:
            connections.close_all()  # this thread's connections only (they are per thread)

    # The caller's context variables (`figures.serial_statements`) carry into the thread.
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(run,), name="rates-aggregate"
    )
    thread.start()
    try:
        value = first()
    finally:
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return value, outcome["value"]


def _aggregates(
    *, round_id: int, path_prefix: str, village_ids: list[int], today: datetime.date
) -> tuple[dict[int, figures.RoundCounts], dict[int, tuple[int, int]]]:
    """The round's counts and 信息录入率 per village. When `concurrent_allowed`, on two
    connections: this one computes 信息录入率 (`completeness_by_village`), the other (`_both`)
    runs the figures statement. Else one after the other."""

    def counts() -> dict[int, figures.RoundCounts]:
        return figures.round_counts_by_village(
            round_id=round_id, path_prefix=path_prefix, village_ids=village_ids
        )

    def completeness() -> dict[int, tuple[int, int]]:
        return completeness_by_village(village_ids=village_ids, today=today)

    if not concurrent_allowed():
        return counts(), completeness()
    rates, village_counts = _both(completeness, counts)
    return village_counts, rates


def compute_rates(
    *,
    round: AdjustmentRound,
    region: Region | None = None,
    job: Job | None = None,
    progress: jobs.Progress | None = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """Compute and store the snapshots of every region (county, townships, villages) under
    `region` (default: the round's county) for the round. Returns a summary."""
    region = region or round.county
    if not region.path.startswith(round.county.path):
        raise jobs.JobFailed(_("所选区域不属于该批次的县。"))
    today = today or timezone.localdate()
    regions = list(
        Region.objects.filter(path__startswith=region.path, level__in=SNAPSHOT_LEVELS).values_list(
            "id", "path", "level"
        )
    )
    paths = {region_id: path for region_id, path, _level in regions}
    levels = {region_id: level for region_id, _path, level in regions}
    village_ids = [
        region_id for region_id, level in levels.items() if level == Region.Level.VILLAGE
    ]
    if progress is not None:
        progress.set_total(len(regions) + 3)
    # The lists of the consistency check are counted apart from the figures (issue 13), on a
    # connection of their own while the aggregates run (`_both`), so the check adds little to
    # the job's time on PostgreSQL.
    # One after the other (a county of a group): in one transaction, settings applied once.
    with contextlib.nullcontext() if concurrent_allowed() else figures.aggregate_transaction():
        (village_counts, completeness), listed = _both(
            lambda: _aggregates(
                round_id=round.pk, path_prefix=region.path, village_ids=village_ids, today=today
            ),
            lambda: figures.list_counts_by_village(round_id=round.pk, village_ids=village_ids),
        )
    if progress is not None:
        progress.advance(1, message=_("已汇总基期与本批次变动"))
        progress.advance(1, message=_("已统计信息录入率"))
    village_paths = {village_id: paths[village_id] for village_id in village_counts}
    totals = figures.rollup(village_counts, village_paths, paths)
    try:  # Every numerator must equal the count of its list, else nothing is stored (issue 13).
        figures.consistency_check(
            round_id=round.pk,
            village_counts=village_counts,
            region_paths=paths,
            village_paths={village_id: paths[village_id] for village_id in village_ids},
            totals=totals,
            listed=listed,
        )
    except figures.FiguresDisagree as disagreement:
        raise jobs.JobFailed(str(disagreement)) from disagreement
    completeness_totals = _completeness_rollup(completeness, paths)
    now = timezone.now()
    if region.pk == round.county_id:
        # Every baseline household lies in one of the county's villages: the sum is the count.
        baseline_households = sum(
            entry["households"] for entry in totals[region.pk].baseline_status_counts.values()
        )
    else:
        baseline_households = round.baseline.count()
    source = {
        "round": round.pk,
        "round_status": round.status,
        "region": region.code,
        "method": "baseline+round-events",
        "baseline_households": baseline_households,
        "last_event_id": None,  # read under the round's lock below
        "completeness": "households.quality required fields",
        "completeness_as_of": today.isoformat(),
        "job": job.pk if job else None,
    }
    rows = []
    for region_id, counts in totals.items():
        result = counts.figures()
        filled, required = completeness_totals[region_id]
        rows.append(
            {
                "region_id": region_id,
                "level": levels[region_id],
                "wrongful_inclusion_numerator": result.wrongful_inclusion.numerator,
                "wrongful_inclusion_denominator": result.wrongful_inclusion.denominator,
                "wrongful_inclusion_rate": result.wrongful_inclusion.rate,
                "omission_numerator": result.omission.numerator,
                "omission_denominator": result.omission.denominator,
                "omission_rate": result.omission.rate,
                "wrongful_exit_numerator": result.wrongful_exit.numerator,
                "wrongful_exit_denominator": result.wrongful_exit.denominator,
                "wrongful_exit_rate": result.wrongful_exit.rate,
                "incidence_numerator": result.incidence.numerator,
                "incidence_denominator": result.incidence.denominator,
                "incidence_rate": result.incidence.rate,
                "baseline_incidence_numerator": result.baseline_incidence.numerator,
                "baseline_incidence_rate": result.baseline_incidence.rate,
                "completeness_numerator": filled,
                "completeness_denominator": required,
                "completeness_rate": figures.ratio(filled, required).rate,
                "status_counts": counts.status_counts,
                "baseline_status_counts": counts.baseline_status_counts,
                "cause_counts": counts.cause_counts,
                "list_counts": counts.list_counts(),
            }
        )
    with transaction.atomic():
        # Serialises runs of the same round: the second waits, then replaces the rows. One
        # bulk upsert on (region, round): a second delivery of the same job rewrites the rows.
        # The round's last event is read by the same statement (it was one of its own).
        locked = (
            AdjustmentRound.objects.select_for_update(of=("self",))
            .filter(pk=round.pk)
            .annotate(last_event=_last_event())
            .first()
        )
        source["last_event_id"] = getattr(locked, "last_event", None)
        if locked is not None and round_figures_final(locked):
            # Checked under the lock: the closing's own run may have stored them meanwhile.
            raise jobs.JobFailed(str(FINAL_FIGURES))
        try:  # the raw upsert bypasses the models' year-lock guard: checked here
            yearlock.ensure_writable(round.county, round.year)
        except yearlock.YearLockedError as locked_year:
            raise jobs.JobFailed(locked_year.messages[0]) from locked_year
        if connection.vendor == "postgresql" and job is not None:
            # No wait for the WAL flush of this commit: the job's final status is committed
            # after it, synchronously, and that flush carries these rows with it (the WAL is
            # written in order). A crash before it leaves the job running without a
            # heartbeat, and the sweep runs it again (povertyapp.jobs.job_sweep).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        common = {"round_id": round.pk, "computed_at": now, "source": source}
        snapshots_store(rows, common=common, year=round.year)
    if progress is not None:
        progress.advance(len(regions) + 1, message=_("已保存指标快照"))
    county = totals.get(round.county_id)
    summary: dict[str, Any] = {
        "round": round.pk,
        "region": region.code,
        "regions": len(rows),
        "computed_at": now.isoformat(),
    }
    if county is not None:
        result = county.figures()
        summary["figures"] = {
            "wrongful_inclusion": result.wrongful_inclusion.as_dict(),
            "omission": result.omission.as_dict(),
            "wrongful_exit": result.wrongful_exit.as_dict(),
            "incidence": result.incidence.as_dict(),
        }
    return summary


def _last_event() -> Subquery:
    """The highest id of the round's events, as a subquery of the round's row. MAX(id + 0), not
    MAX(id): PostgreSQL answers MAX(id) by walking the primary key backwards past every later
    round's events (0.3 s for the first county of a 30-county deployment); the expression makes
    it read the round's own events through the round index."""
    return Subquery(
        HouseholdEvent.objects.filter(round=OuterRef("pk"))
        .order_by()
        .values("round")
        .annotate(last=Max(ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())))
        .values("last")
    )


def _completeness_rollup(
    completeness: dict[int, tuple[int, int]], paths: dict[int, str]
) -> dict[int, list[int]]:
    """[filled, required] of every region of ``paths``: its villages' sums, bottom-up as
    `figures.rollup` (each village into its own row, each region into its nearest ancestor)."""
    totals = {region_id: [0, 0] for region_id in paths}
    by_path = {path: region_id for region_id, path in paths.items()}
    for village_id, (filled, required) in completeness.items():
        if village_id in totals:
            totals[village_id][0] += filled
            totals[village_id][1] += required
    for region_id in sorted(paths, key=lambda item: -len(paths[item])):
        parent = figures.nearest_region(paths[region_id], by_path, itself=False)
        if parent is not None:
            totals[parent][0] += totals[region_id][0]
            totals[parent][1] += totals[region_id][1]
    return totals


def snapshots_store(rows: list[dict[str, Any]], *, common: dict[str, Any], year: int) -> None:
    """Insert or replace the snapshot rows (`snapshots_upsert`) and the day's `FigureHistory`
    row of each (`history.history_record`), inside the caller's transaction. On PostgreSQL in
    one statement (`_store_postgresql`): the rows go to the server as one JSON document, read
    back set-based, upserted into both tables; elsewhere (SQLite) the two upserts."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _store_postgresql(rows, common=common, year=year)
        return
    snapshots_upsert(rows, common=common)
    history.history_record(rows, year=year, computed_at=common["computed_at"])


def _json_scalar(value: Any) -> str:
    """The rates (Decimal, already quantized to the field's places) as JSON strings: the
    server reads them with numeric's own input, exactly."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _store_postgresql(rows: list[dict[str, Any]], *, common: dict[str, Any], year: int) -> None:
    """One statement for every snapshot row and its history row (PostgreSQL).

    The rows (``common`` aside) are serialised in one ``json.dumps`` call, with no per-value
    preparation in Python, and read by ``json_populate_recordset`` as rows of the snapshot
    table's own type (each value cast by its column's input function: the same values the
    model fields would have sent); a data-modifying CTE upserts them on (region, round), and
    the same rows' rates are upserted into the history on (region, year, day). It replaces the
    ≈ 300–500-row VALUES upsert with 27 parameters a row (each prepared by its model field:
    0.19 s for 500 rows, their JSON 0.12 s, the statement 143 ms) and the history's own
    upsert (docs/performance.md, "The rates job's fixed costs, cut")."""
    snapshot_table = RateSnapshot._meta.db_table
    history_table = FigureHistory._meta.db_table
    quote = connection.ops.quote_name
    model_fields = [field for field in RateSnapshot._meta.concrete_fields if not field.primary_key]
    missing = [
        field.attname
        for field in model_fields
        if field.attname not in common and field.attname not in rows[0]
    ]
    if missing:
        raise ValueError(f"snapshot rows lack {', '.join(missing)}")
    selected: list[str] = []
    shared: list[Any] = []
    for field in model_fields:
        column = quote(str(field.column))
        if field.attname not in common:
            selected.append(f"r.{column}")
            continue
        value = common[field.attname]
        if isinstance(field, JSONField):
            selected.append("CAST(%s AS jsonb)")
            shared.append(json.dumps(value, cls=field.encoder))
        else:
            selected.append(f"CAST(%s AS {field.db_type(connection)})")
            shared.append(field.get_db_prep_save(value, connection))
    columns = ", ".join(quote(str(field.column)) for field in model_fields)
    updates = ", ".join(
        f"{quote(str(field.column))} = EXCLUDED.{quote(str(field.column))}"
        for field in model_fields
        if field.attname not in ("region_id", "round_id")
    )
    rates = ", ".join(quote(rate) for rate in history.RATES)
    rates_of_r = ", ".join(f"r.{quote(rate)}" for rate in history.RATES)
    history_updates = ", ".join(
        f"{quote(name)} = EXCLUDED.{quote(name)}" for name in (*history.RATES, "computed_at")
    )
    computed_at = common["computed_at"]
    payload = json.dumps(
        [{key: value for key, value in row.items() if key not in common} for row in rows],
        default=_json_scalar,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH r AS (
                    SELECT * FROM json_populate_recordset(NULL::{quote(snapshot_table)},
                                                          CAST(%s AS json))
                ), stored AS (
                    INSERT INTO {quote(snapshot_table)} ({columns})
                    SELECT {", ".join(selected)} FROM r
                    ON CONFLICT (region_id, round_id) DO UPDATE SET {updates}
                )
                INSERT INTO {quote(history_table)} (region_id, year, day, {rates}, computed_at)
                SELECT r.region_id, %s, %s, {rates_of_r}, %s FROM r
                ON CONFLICT (region_id, year, day) DO UPDATE SET {history_updates}""",
            [payload, *shared, year, timezone.localdate(computed_at), computed_at],
        )


def snapshots_upsert(rows: list[dict[str, Any]], *, common: dict[str, Any]) -> None:
    """Insert or replace `RateSnapshot` rows on (region, round), in as few `INSERT ... ON
    CONFLICT DO UPDATE` statements as the database's parameter limit allows (SQLite and
    PostgreSQL). ``rows`` hold each row's column values, ``common`` those shared by every row
    (prepared once); values are prepared by the model fields, as the ORM would."""
    if not rows:
        return
    model_fields = [field for field in RateSnapshot._meta.concrete_fields if not field.primary_key]
    columns = [str(field.column) for field in model_fields]  # a concrete field always has one

    def prepare(field: Any, value: Any) -> Any:
        if value is None or isinstance(value, int | str | Decimal):
            # Decimal: the rates are already quantized to the field's places; both drivers
            # bind Decimal as is.
            return value
        if isinstance(field, JSONField):
            # Serialised here, once: the database casts the text to its JSON type.
            return json.dumps(value, cls=field.encoder)
        return field.get_db_prep_save(value, connection)

    shared = {
        field.attname: prepare(field, common[field.attname])
        for field in model_fields
        if field.attname in common
    }
    prepared = [
        [
            shared[field.attname] if field.attname in shared else prepare(field, row[field.attname])
            for field in model_fields
        ]
        for row in rows
    ]
    quote = connection.ops.quote_name
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(500, limit // len(columns)))
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in columns
        if column not in ("region_id", "round_id")
    )
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), per_statement):
            batch = prepared[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {quote(RateSnapshot._meta.db_table)} "
                f"({', '.join(quote(column) for column in columns)}) "
                f"VALUES {', '.join([placeholders] * len(batch))} "
                f"ON CONFLICT (region_id, round_id) DO UPDATE SET {updates}",
                [value for values in batch for value in values],
            )


@jobs.register(KIND, gettext_lazy("计算动态调整指标"), may_start=roles.can_review)
@read_from_replica(catch_up=True)  # the aggregates on the read replica, if any (issue 19)
def compute_rates_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    round = (
        AdjustmentRound.objects.select_related("county")
        .filter(pk=job.parameters.get("round"))
        .first()
    )
    if round is None:
        raise jobs.JobFailed(_("动态调整批次不存在。"))
    region = job.region or round.county
    if job.parameters.get("serial"):
        # One county of a group (rates_enqueue_group): the group is the parallelism.
        with figures.serial_statements():
            return compute_rates(round=round, region=region, job=job, progress=progress)
    return compute_rates(round=round, region=region, job=job, progress=progress)


FINAL_FIGURES = gettext_lazy("该动态调整批次已关闭，指标已按关闭时的数据定稿，不能重新计算。")


def round_figures_final(round: AdjustmentRound) -> bool:
    """A closed round's figures are final once the run its closing started has stored them
    (the county's snapshot computed at or after the closing): the published figures, and the
    信息录入率 denominator under them, never change afterwards."""
    if round.status != AdjustmentRound.Status.CLOSED or round.closed_at is None:
        return False
    return RateSnapshot.objects.filter(
        round=round, region_id=round.county_id, computed_at__gte=round.closed_at
    ).exists()


def rates_check_recompute(round: AdjustmentRound) -> None:
    """Refuse (ValidationError, code `round_final`) to recompute a round whose figures are final."""
    if round_figures_final(round):
        raise ValidationError(str(FINAL_FIGURES), code="round_final")


def rates_enqueue(
    *, user: User | None, round: AdjustmentRound, region: Region | None = None
) -> Job:
    """Start the job after the surrounding transaction commits; the user watches its page.
    A closed round whose final figures are stored is refused (`rates_check_recompute`)."""
    rates_check_recompute(round)
    return jobs.job_enqueue(
        user=user, kind=KIND, region=region or round.county, parameters={"round": round.pk}
    )


def rates_enqueue_group(*, user: User | None, rounds: Iterable[AdjustmentRound]) -> list[Job]:
    """Many counties at once (a province): one job per county, each its own task message so
    that more workers finish sooner. Returns the jobs (each watchable). With more than one
    county, each job runs its statements without PostgreSQL parallel workers (``serial``): the
    group's worker processes already occupy the cores. Dispatched like every job
    (`jobs.job_dispatch`): a broker that is down leaves them queued for the sweep."""
    rounds = list(rounds)
    for round in rounds:
        rates_check_recompute(round)
    parameters: dict[str, Any] = {"serial": True} if len(rounds) > 1 else {}
    created = [
        jobs.job_create(
            user=user,
            kind=KIND,
            region=round.county,
            parameters={"round": round.pk, **parameters},
        )
        for round in rounds
    ]
    jobs.job_dispatch_on_commit([job.pk for job in created])
    return created


def open_rounds_enqueue() -> list[Job]:
    """The nightly run: every open round, one job each."""
    rounds = AdjustmentRound.objects.filter(status=AdjustmentRound.Status.OPEN).select_related(
        "county"
    )
    return rates_enqueue_group(user=None, rounds=list(rounds))
