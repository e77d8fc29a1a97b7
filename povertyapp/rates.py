"""The rates job: every region of a county, for one round, in one pass; stored as snapshots.

`compute_rates` reads the round's frozen baseline and its events with grouped SQL aggregates
(`povertyapp.figures.round_counts_by_village`: a handful of statements grouped by village, never
a loop over households), rolls the village counts up the region tree by `Region.path` prefix,
adds 信息录入率 (one more grouped statement, over the required fields of
`households.quality`), and replaces the `RateSnapshot` of every region of the subtree in one
transaction, holding a lock on the round so two runs never interleave. Rerunning gives the same
rows (only `computed_at` and `source.job` change).

It runs as a job (`povertyapp.jobs`: acks_late, time limits, retries for transient errors only,
progress and errors on the Job row the user watches): `rates_enqueue` from the round page, the
`compute_rates` management command, the nightly beat entry (`compute_open_rounds_task`) and, for
many counties, `rates_enqueue_group` (a Celery group, one task per county).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
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
    "education": "COALESCE(m.school_status, '') IN ('', '非在校生')",
    "school_status": "m.birth_date > %(born_after_23)s AND m.birth_date <= %(born_by_6)s",
    "labour_skill": "m.birth_date > %(born_after_65)s AND m.birth_date <= %(born_by_16)s",
}


def _filled(alias: str, model: Any, field_name: str) -> str:
    field = model._meta.get_field(field_name)
    column = f"{alias}.{field.column}"
    if field.get_internal_type() in ("CharField", "TextField"):
        return f"COALESCE({column}, '') <> ''"
    return f"{column} IS NOT NULL"


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def completeness_by_village(
    *, path_prefix: str, today: datetime.date
) -> dict[int, tuple[int, int]]:
    """(filled, required) per village: the required fields of `households.quality` counted in
    two grouped statements (households, active members), current data."""
    from households.models import Household, Member
    from households.quality import HOUSEHOLD_REQUIRED, MEMBER_REQUIRED

    params = {
        "born_by_6": _years_before(today, 6),
        "born_after_23": _years_before(today, 24),
        "born_by_16": _years_before(today, 16),
        "born_after_65": _years_before(today, 66),
    }
    totals: dict[int, list[int]] = {}

    def add(sql: str, values: list[Any]) -> None:
        for village_id, filled, required in figures._rows(sql, values):
            slot = totals.setdefault(village_id, [0, 0])
            slot[0] += int(filled or 0)
            slot[1] += int(required or 0)

    household_filled, household_required = [], []
    for requirement in HOUSEHOLD_REQUIRED:
        applies = _HOUSEHOLD_APPLIES.get(requirement.field, "1 = 1")
        household_required.append(f"CASE WHEN {applies} THEN 1 ELSE 0 END")
        household_filled.append(
            f"CASE WHEN ({applies}) AND {_filled('h', Household, requirement.field)} "
            f"THEN 1 ELSE 0 END"
        )
    add(
        f"""SELECT h.village_id, SUM({" + ".join(household_filled)}),
                   SUM({" + ".join(household_required)})
            FROM households_household h
            WHERE h.village_id IN (SELECT r.id FROM povertyapp_region r WHERE r.path LIKE %s)
            GROUP BY h.village_id""",
        [path_prefix + "%"],
    )
    member_filled, member_required, member_params = [], [], []
    for requirement in MEMBER_REQUIRED:
        template = _MEMBER_APPLIES.get(requirement.field, "1 = 1")
        names = [name for name in params if f"%({name})s" in template]
        applies = template
        for name in names:
            applies = applies.replace(f"%({name})s", "%s")
        ordered = [params[name] for name in sorted(names, key=template.index)]
        member_required.append((f"CASE WHEN {applies} THEN 1 ELSE 0 END", ordered))
        member_filled.append(
            (
                f"CASE WHEN ({applies}) AND {_filled('m', Member, requirement.field)} "
                f"THEN 1 ELSE 0 END",
                ordered,
            )
        )
    filled_sql = " + ".join(sql for sql, _values in member_filled)
    required_sql = " + ".join(sql for sql, _values in member_required)
    for _sql, values in member_filled:
        member_params.extend(values)
    for _sql, values in member_required:
        member_params.extend(values)
    add(
        f"""SELECT h.village_id, SUM({filled_sql}), SUM({required_sql})
            FROM households_member m
            JOIN households_household h ON h.id = m.household_id
            WHERE m.is_active = %s
              AND h.village_id IN (SELECT r.id FROM povertyapp_region r WHERE r.path LIKE %s)
            GROUP BY h.village_id""",
        [*member_params, True, path_prefix + "%"],
    )
    return {village_id: (slot[0], slot[1]) for village_id, slot in totals.items()}


# --- the computation ----------------------------------------------------------------------------


def _decimal(figure: figures.Figure) -> Any:
    return figure.rate


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
    if progress is not None:
        progress.set_total(len(regions) + 3)
    village_counts = figures.round_counts_by_village(round_id=round.pk, path_prefix=region.path)
    if progress is not None:
        progress.advance(1, message=_("已汇总基期与本批次变动"))
    completeness = completeness_by_village(path_prefix=region.path, today=today)
    if progress is not None:
        progress.advance(1, message=_("已统计信息录入率"))
    paths = {region_id: path for region_id, path, _level in regions}
    levels = {region_id: level for region_id, _path, level in regions}
    village_paths = {
        village_id: paths[village_id] for village_id in village_counts if village_id in paths
    }
    totals = figures.rollup(
        {
            village_id: counts
            for village_id, counts in village_counts.items()
            if village_id in village_paths
        },
        village_paths,
        paths,
    )
    completeness_totals = {region_id: [0, 0] for region_id in paths}
    for village_id, (filled, required) in completeness.items():
        path = paths.get(village_id)
        if path is None:
            continue
        for region_id, region_path in paths.items():
            if path.startswith(region_path):
                completeness_totals[region_id][0] += filled
                completeness_totals[region_id][1] += required
    now = timezone.now()
    last_event = HouseholdEvent.objects.filter(round=round).aggregate(last=Max("id"))["last"]
    source = {
        "round": round.pk,
        "round_status": round.status,
        "region": region.code,
        "method": "baseline+round-events",
        "baseline_households": round.baseline.count(),
        "last_event_id": last_event,
        "completeness": "households.quality required fields",
        "completeness_as_of": today.isoformat(),
        "job": job.pk if job else None,
    }
    rows = []
    for region_id, counts in totals.items():
        result = counts.figures()
        filled, required = completeness_totals[region_id]
        completeness_figure = figures.ratio(filled, required)
        rows.append(
            RateSnapshot(
                region_id=region_id,
                round=round,
                level=levels[region_id],
                wrongful_inclusion_numerator=result.wrongful_inclusion.numerator,
                wrongful_inclusion_denominator=result.wrongful_inclusion.denominator,
                wrongful_inclusion_rate=result.wrongful_inclusion.rate,
                omission_numerator=result.omission.numerator,
                omission_denominator=result.omission.denominator,
                omission_rate=result.omission.rate,
                wrongful_exit_numerator=result.wrongful_exit.numerator,
                wrongful_exit_denominator=result.wrongful_exit.denominator,
                wrongful_exit_rate=result.wrongful_exit.rate,
                incidence_numerator=result.incidence.numerator,
                incidence_denominator=result.incidence.denominator,
                incidence_rate=result.incidence.rate,
                baseline_incidence_numerator=result.baseline_incidence.numerator,
                baseline_incidence_rate=result.baseline_incidence.rate,
                completeness_numerator=filled,
                completeness_denominator=required,
                completeness_rate=completeness_figure.rate,
                status_counts=counts.status_counts,
                baseline_status_counts=counts.baseline_status_counts,
                cause_counts=counts.cause_counts,
                list_counts=counts.list_counts(),
                computed_at=now,
                source=source,
            )
        )
    with transaction.atomic():
        # Serialises runs of the same round: the second waits, then replaces the rows.
        AdjustmentRound.objects.select_for_update().filter(pk=round.pk).first()
        RateSnapshot.objects.filter(round=round, region_id__in=list(paths)).delete()
        RateSnapshot.objects.bulk_create(rows, batch_size=1000)
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
