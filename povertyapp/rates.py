"""The rates job: every region of a county, for one round, in one pass; stored as snapshots.

`compute_rates` reads the round's frozen baseline and its events with one grouped statement
(`povertyapp.figures.round_counts_by_village`: a narrow pass over the baseline plus the few
households with events in the round, never a loop over households), computes 信息录入率 in one
more statement (one pass over the villages' households and their active members, the required
fields of `households.quality` translated to SQL), rolls the village counts up the region tree by
`Region.path` prefix, and upserts the `RateSnapshot` of every region of the subtree in one
transaction (`INSERT ... ON CONFLICT (region, round) DO UPDATE`, a few statements for the whole
county), holding a lock on the round so two runs never interleave. Every statement reaches the
county's rows through indexes (the village ids, the round), never the whole deployment's tables.
Rerunning, or a second delivery of the same task, rewrites the same rows (only `computed_at` and
`source.job` change).

It runs as a job (`povertyapp.jobs`: acks_late, time limits, retries for transient errors only,
progress and errors on the Job row the user watches): `rates_enqueue` from the round page, the
`compute_rates` management command, the nightly beat entry (`compute_open_rounds_task`) and, for
many counties, `rates_enqueue_group` (a Celery group, one task per county).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import AdjustmentRound, HouseholdEvent
from povertyapp import figures, jobs
from povertyapp.models import Job, RateSnapshot, Region, User

KIND = "compute_rates"
SNAPSHOT_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE)


# --- 信息录入率 ----------------------------------------------------------------------------------

# The applicability of each required field of households.quality, in SQL (placeholders are
# filled below). A required field without an entry here counts as always required; a test
# compares the result with households.quality.completeness household by household.
_HOUSEHOLD_APPLIES = {
    "main_cause": "h.status IN ('poor', 'returned', 'exited')",
    "poverty_attribute": "h.status IN ('poor', 'returned', 'exited')",
}
_MEMBER_APPLIES = {
    "education": "m.school_status IN ('', '非在校生')",
    "school_status": "m.birth_date > %(born_after_23)s AND m.birth_date <= %(born_by_6)s",
    "labour_skill": "m.birth_date > %(born_after_65)s AND m.birth_date <= %(born_by_16)s",
}


def _filled(alias: str, model: Any, field_name: str) -> str:
    field = model._meta.get_field(field_name)
    column = f"{alias}.{field.column}"
    if field.get_internal_type() in ("CharField", "TextField"):
        return f"COALESCE({column}, '') <> ''" if field.null else f"{column} <> ''"
    return f"{column} IS NOT NULL"


def _terms(
    alias: str, model: Any, requirements: Iterable[Any], applies_sql: dict[str, str]
) -> tuple[str, str]:
    """(filled SQL, required SQL) of one row: each a single integer expression. A field
    required always adds the constant 1 to the required count (no per-row condition)."""
    filled, required, always = [], [], 0
    for requirement in requirements:
        condition = _filled(alias, model, requirement.field)
        applies = applies_sql.get(requirement.field)
        if applies is None:
            always += 1
            filled.append(f"CASE WHEN {condition} THEN 1 ELSE 0 END")
        else:
            required.append(f"CASE WHEN {applies} THEN 1 ELSE 0 END")
            filled.append(f"CASE WHEN ({applies}) AND {condition} THEN 1 ELSE 0 END")
    return " + ".join(filled) or "0", " + ".join([str(always), *required])


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _member_terms(params: dict[str, datetime.date]) -> tuple[str, str, list[Any]]:
    """(filled SQL, required SQL, their parameters in order) of the member required fields."""
    from households.models import Member
    from households.quality import MEMBER_REQUIRED

    applies_sql, values = {}, []
    for requirement in MEMBER_REQUIRED:
        template = _MEMBER_APPLIES.get(requirement.field)
        if template is not None:
            names = sorted(
                (name for name in params if f"%({name})s" in template), key=template.index
            )
            applies = template
            for name in names:
                applies = applies.replace(f"%({name})s", "%s")
            applies_sql[requirement.field] = applies
            values.append([params[name] for name in names])
    filled, required = _terms("m", Member, MEMBER_REQUIRED, applies_sql)
    # Placeholders appear in requirement order, in the filled expression, then in the required.
    ordered = [value for group in values for value in group]
    return filled, required, [*ordered, *ordered]


def _household_terms() -> tuple[str, str]:
    from households.models import Household
    from households.quality import HOUSEHOLD_REQUIRED

    return _terms("h", Household, HOUSEHOLD_REQUIRED, _HOUSEHOLD_APPLIES)


def completeness_by_village(
    *, village_ids: Iterable[int], today: datetime.date
) -> dict[int, tuple[int, int]]:
    """(filled, required) per village: the required fields of `households.quality`, current data,
    in one statement and one pass over the villages' households and their active members (the
    members are reached through their household, by index, never by scanning the member table
    of the whole deployment)."""
    params = {
        "born_by_6": _years_before(today, 6),
        "born_after_23": _years_before(today, 24),
        "born_by_16": _years_before(today, 16),
        "born_after_65": _years_before(today, 66),
    }
    villages = figures.id_list(village_ids)
    member_filled, member_required, member_values = _member_terms(params)
    household_filled, household_required = _household_terms()
    rows = figures._rows(
        f"""SELECT t.village_id, SUM(t.filled), SUM(t.required) FROM (
                SELECT h.village_id, {household_filled} AS filled,
                       {household_required} AS required
                FROM households_household h
                WHERE h.village_id IN {villages}
                UNION ALL
                SELECT h.village_id, {member_filled}, {member_required}
                FROM households_household h
                JOIN households_member m ON m.household_id = h.id AND m.is_active = %s
                WHERE h.village_id IN {villages}
            ) t
            GROUP BY t.village_id""",
        [*member_values, True],
    )
    return {
        village_id: (int(filled or 0), int(required or 0)) for village_id, filled, required in rows
    }


# --- the computation ----------------------------------------------------------------------------


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
    village_counts = figures.round_counts_by_village(
        round_id=round.pk, path_prefix=region.path, village_ids=village_ids
    )
    if progress is not None:
        progress.advance(1, message=_("已汇总基期与本批次变动"))
    completeness = completeness_by_village(village_ids=village_ids, today=today)
    if progress is not None:
        progress.advance(1, message=_("已统计信息录入率"))
    village_paths = {village_id: paths[village_id] for village_id in village_counts}
    totals = figures.rollup(village_counts, village_paths, paths)
    completeness_totals = {region_id: [0, 0] for region_id in paths}
    by_path = {path: region_id for region_id, path in paths.items()}
    for village_id, (filled, required) in completeness.items():
        for ancestor in figures.ancestor_paths(paths[village_id]):
            region_id = by_path.get(ancestor)
            if region_id is not None:
                completeness_totals[region_id][0] += filled
                completeness_totals[region_id][1] += required
    now = timezone.now()
    last_event = HouseholdEvent.objects.filter(round=round).aggregate(last=Max("id"))["last"]
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
        "last_event_id": last_event,
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
        AdjustmentRound.objects.select_for_update().filter(pk=round.pk).first()
        snapshots_upsert(rows, common={"round_id": round.pk, "computed_at": now, "source": source})
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


@jobs.register(KIND, gettext_lazy("计算动态调整指标"))
def compute_rates_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    round = (
        AdjustmentRound.objects.select_related("county")
        .filter(pk=job.parameters.get("round"))
        .first()
    )
    if round is None:
        raise jobs.JobFailed(_("动态调整批次不存在。"))
    region = job.region or round.county
    return compute_rates(round=round, region=region, job=job, progress=progress)


def rates_enqueue(
    *, user: User | None, round: AdjustmentRound, region: Region | None = None
) -> Job:
    """Start the job after the surrounding transaction commits; the user watches its page."""
    return jobs.job_enqueue(
        user=user, kind=KIND, region=region or round.county, parameters={"round": round.pk}
    )


def rates_enqueue_group(*, user: User | None, rounds: Iterable[AdjustmentRound]) -> list[Job]:
    """Many counties at once (a province): one job per county, sent as one Celery group so that
    more workers finish sooner. Returns the jobs (each watchable)."""
    from celery import group

    from povertyapp.tasks import run_job_task

    created = [
        jobs.job_create(user=user, kind=KIND, region=round.county, parameters={"round": round.pk})
        for round in rounds
    ]
    signatures = group(run_job_task.s(job.pk) for job in created)
    transaction.on_commit(lambda: signatures.apply_async())
    return created


def open_rounds_enqueue() -> list[Job]:
    """The nightly run: every open round, one job each."""
    rounds = AdjustmentRound.objects.filter(status=AdjustmentRound.Status.OPEN).select_related(
        "county"
    )
    return rates_enqueue_group(user=None, rounds=list(rounds))
