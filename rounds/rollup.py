"""Above the county (issue 16): the figures of cities and provinces, rolled up from the county
snapshots.

A round is a county's and a year's (`AdjustmentRound`), so a city's or province's figures are
keyed by (region, year): `RollupSnapshot`. `rollup_compute(region=..., year=...)` reads the
county row (`RateSnapshot` of the county region for its round of that year) of every county
under `region`, sums every numerator and denominator (and the status, cause and list counts)
into each city and province of the subtree and `region` itself, and replaces their rows in one
transaction: a rate is always the quotient of the summed numerator and denominator, never an
average of the counties' rates. One statement reads the counties' rows (a province of 30
counties: 30 rows), so the roll-up costs a few milliseconds whatever the counties' size.

The province's rates job (`province_rates_enqueue`) fans out one rates job per county (as
`rates.rates_enqueue_group`) and runs the roll-up once after the last of them, as the body of
a Celery chord (`povertyapp.jobs.job_dispatch_chord`; in eager mode the chord runs in place).
Rerunning replaces the rows: the roll-up is idempotent.

A city's or province's office starts that fan-out itself (`province_rates_start`, the button
on its dashboard, audited; its progress on `rollup_views.rollup_run_view`: the counties' jobs
and the roll-up), and so does `manage.py compute_rates --province CODE`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from povertyapp import audit, jobs, roles
from povertyapp.models import Job, Region, User, path_prefixes
from rounds import figures, history, rates
from rounds.models import AdjustmentRound, RateSnapshot, RollupSnapshot
from rounds.rates import KIND as RATES_KIND
from rounds.rates import rates_check_recompute

KIND = "rollup_rates"
ROLLUP_LEVELS = (Region.Level.PROVINCE, Region.Level.CITY)
FIGURE_KEYS = ("wrongful_inclusion", "omission", "wrongful_exit", "incidence", "completeness")
# The summed columns of a county row, beside the JSON counts.
SUMMED = (
    *(f"{key}_{part}" for key in FIGURE_KEYS for part in ("numerator", "denominator")),
    "baseline_incidence_numerator",
)
COUNTS = ("status_counts", "baseline_status_counts", "cause_counts", "list_counts")


def _add_counts(total: dict[str, dict[str, int]], part: dict[str, dict[str, int]]) -> None:
    """Add {key: {"households": n, "persons": n}} ``part`` into ``total``."""
    for key, values in part.items():
        into = total.setdefault(key, {})
        for name, value in values.items():
            into[name] = into.get(name, 0) + int(value or 0)


def rollup_rows(*, region: Region, year: int) -> dict[int, dict[str, Any]]:
    """The summed figures of `region` and of every city and province under it for `year`,
    by region id (nothing is stored). A county without a snapshot for the year is counted in
    `counties_expected` and named in `source["missing"]`."""
    if region.level not in ROLLUP_LEVELS:
        raise ValueError(f"a roll-up is a city's or a province's, not a {region.level}'s")
    above = {
        item.pk: item
        for item in Region.objects.filter(path__startswith=region.path, level__in=ROLLUP_LEVELS)
    }
    by_path = {item.path: item.pk for item in above.values()}
    counties = list(
        Region.objects.filter(path__startswith=region.path, level=Region.Level.COUNTY).values_list(
            "id", "code", "path"
        )
    )
    snapshots = {
        row["region_id"]: row
        for row in RateSnapshot.objects.filter(
            region_id__in=[county_id for county_id, _code, _path in counties],
            round__year=year,
            region_id=F("round__county_id"),
        ).values("region_id", "round_id", "computed_at", *SUMMED, *COUNTS)
    }
    rows: dict[int, dict[str, Any]] = {
        region_id: {
            "region_id": region_id,
            "level": item.level,
            "counties": 0,
            "counties_expected": 0,
            **dict.fromkeys(SUMMED, 0),
            **{name: {} for name in COUNTS},
            "source": {"rounds": [], "missing": []},
        }
        for region_id, item in above.items()
    }
    for county_id, code, path in counties:
        targets = [rows[by_path[prefix]] for prefix in path_prefixes(path) if prefix in by_path]
        snapshot = snapshots.get(county_id)
        for row in targets:
            row["counties_expected"] += 1
            if snapshot is None:
                row["source"]["missing"].append(code)
                continue
            row["counties"] += 1
            row["source"]["rounds"].append(snapshot["round_id"])
            for name in SUMMED:
                row[name] += snapshot[name]
            for name in COUNTS:
                _add_counts(row[name], snapshot[name])
    for row in rows.values():
        for key in FIGURE_KEYS:
            row[f"{key}_rate"] = figures.ratio(
                row[f"{key}_numerator"], row[f"{key}_denominator"]
            ).rate
        row["baseline_incidence_rate"] = figures.ratio(
            row["baseline_incidence_numerator"], row["incidence_denominator"]
        ).rate
        row["source"]["rounds"].sort()
        row["source"]["missing"].sort()
    return rows


def rollup_compute(*, region: Region, year: int, job: Job | None = None) -> dict[str, Any]:
    """Compute and store (replace) the roll-up of `region` (a city or province) and of every
    city and province under it for `year`. Returns a summary."""
    rows = rollup_rows(region=region, year=year)
    now = timezone.now()
    with transaction.atomic():
        for row in rows.values():
            values = {key: value for key, value in row.items() if key != "region_id"}
            values["computed_at"] = now
            values["source"] = {**row["source"], "job": job.pk if job else None}
            RollupSnapshot.objects.update_or_create(
                region_id=row["region_id"], year=year, defaults=values
            )
        history.history_record(rows.values(), year=year, computed_at=now)
    top = rows[region.pk]
    return {
        "region": region.code,
        "year": year,
        "regions": len(rows),
        "counties": top["counties"],
        "counties_expected": top["counties_expected"],
        "missing": top["source"]["missing"],
        "computed_at": now.isoformat(),
    }


def _may_start_rollup(user: User) -> bool:
    """The roll-up: a township or the county office (as the rates job), or the city's or the
    province's office, whose figures it is."""
    return roles.can_review(user) or roles.is_rollup_officer(user)


@jobs.register(KIND, gettext_lazy("汇总上级指标"), may_start=_may_start_rollup)
def rollup_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    region = job.region
    year = job.parameters.get("year")
    if region is None or region.level not in ROLLUP_LEVELS or not isinstance(year, int):
        raise jobs.JobFailed(_("汇总需要市或省的区划和年度。"))
    progress.set_total(1)
    summary = rollup_compute(region=region, year=year, job=job)
    progress.advance(1, message=_("已汇总各县指标"))
    return summary


def rollup_rounds(*, region: Region, year: int) -> list[AdjustmentRound]:
    """The rounds of `year` of every county under `region`."""
    return list(
        AdjustmentRound.objects.filter(
            county__path__startswith=region.path, county__level=Region.Level.COUNTY, year=year
        ).select_related("county")
    )


def province_rates_enqueue(
    *,
    user: User | None,
    region: Region,
    year: int,
    rounds: Iterable[AdjustmentRound] | None = None,
    counties_by_system: bool = False,
) -> tuple[list[Job], Job]:
    """The rates of every county of `region` (a city or province) for `year`, one job each, then
    the roll-up as one job after all of them (a Celery chord, sent when the surrounding
    transaction commits). A county whose round's figures are final is not recomputed: its
    stored figures are rolled up as they are. With `counties_by_system` the county jobs are the
    system's (a city's or province's office may start the roll-up, not a county's rates job);
    the roll-up job is `user`'s and names them (`parameters["county_jobs"]`). Returns (the
    county jobs, the roll-up job)."""
    if region.level not in ROLLUP_LEVELS:
        raise ValueError(f"a roll-up is a city's or a province's, not a {region.level}'s")
    open_rounds = []
    for round in rollup_rounds(region=region, year=year) if rounds is None else rounds:
        try:
            rates_check_recompute(round)
        except ValidationError:  # final figures: rolled up as stored
            continue
        open_rounds.append(round)
    parameters: dict[str, Any] = {"serial": True} if len(open_rounds) > 1 else {}
    county_jobs = [
        jobs.job_create(
            user=None if counties_by_system else user,
            kind=RATES_KIND,
            region=round.county,
            parameters={"round": round.pk, **parameters},
        )
        for round in open_rounds
    ]
    rollup = jobs.job_create(
        user=user,
        kind=KIND,
        region=region,
        parameters={"year": year, "county_jobs": [job.pk for job in county_jobs]},
    )
    jobs.job_dispatch_chord_on_commit([job.pk for job in county_jobs], rollup.pk)
    return county_jobs, rollup


def can_start_rollup(user: User, region: Region) -> bool:
    """Whether `user` may start the fan-out of `region`: the office of that city or province,
    or of a province above it (a city of its province)."""
    # By path, with the user's region the request already read: no query (the cached
    # dashboard reads nothing but its state, tests/rounds/test_rollup.py).
    return (
        roles.is_rollup_officer(user)
        and region.level in ROLLUP_LEVELS
        and user.region is not None
        and region.path.startswith(user.region.path)
    )


def rollup_years(region: Region) -> list[int]:
    """The years with a round in a county under `region`, latest first."""
    return sorted(
        set(
            AdjustmentRound.objects.filter(
                county__path__startswith=region.path, county__level=Region.Level.COUNTY
            ).values_list("year", flat=True)
        ),
        reverse=True,
    )


@transaction.atomic
def province_rates_start(*, user: User, region: Region, year: int) -> Job:
    """A city's or province's office starts its fan-out (every county's rates job, then the
    roll-up, `province_rates_enqueue`) for `year`; audited. Returns the roll-up job, whose
    page shows the counties' progress."""
    if not can_start_rollup(user, region):
        raise PermissionDenied(_("只有本市、本省的乡村振兴部门可以发起本区域的汇总计算。"))
    if year not in rollup_years(region):
        raise ValidationError(
            _("%(year)s年本区域各县没有动态调整批次，无可汇总。") % {"year": year},
            code="no_rounds",
        )
    county_jobs, rollup = province_rates_enqueue(
        user=user, region=region, year=year, counties_by_system=True
    )
    audit.record(
        "rollup_start",
        user=user,
        target="rounds.rollup",
        object_id=rollup.pk,
        detail={"region": region.code, "year": year, "county_jobs": len(county_jobs)},
    )
    return rollup


def rollup_run(rollup: Job) -> dict[str, Any]:
    """The progress of a fan-out: its county jobs (region, status) and the roll-up job; done
    counts finished county jobs and the roll-up, out of their number + 1."""
    ids = rollup.parameters.get("county_jobs", [])
    county_jobs = list(
        Job.objects.filter(pk__in=ids).select_related("region").order_by("region__code")
    )
    finished = (Job.Status.SUCCEEDED, Job.Status.FAILED)
    done = sum(job.status in finished for job in county_jobs) + (rollup.status in finished)
    total = len(county_jobs) + 1
    return {
        "rollup": rollup,
        "county_jobs": county_jobs,
        "done": done,
        "total": total,
        "percent": done * 100 // total,
        "finished": rollup.status in finished,
    }


def snapshot_for_year(*, region: Region, year: int | None) -> RollupSnapshot | None:
    """The region's roll-up of `year` (default: the latest year it has one)."""
    queryset = RollupSnapshot.objects.filter(region=region)
    if year is not None:
        return queryset.filter(year=year).first()
    return queryset.order_by("-year").first()


def open_rounds_rollup_enqueue() -> list[Job]:
    """The nightly run (`rounds.tasks.compute_open_rounds_task`): every open round, one job
    each, as `rates.open_rounds_enqueue`; the counties under a city or province root are sent
    per (root, year) as its rates job (`province_rates_enqueue`: the chord whose body rolls
    them up), so the dashboards above the county follow the counties' figures every night.
    Returns every job created (the roll-ups included)."""
    groups: dict[tuple[int, int], list[AdjustmentRound]] = {}
    alone: list[AdjustmentRound] = []
    rounds = AdjustmentRound.objects.filter(status=AdjustmentRound.Status.OPEN).select_related(
        "county"
    )
    roots = {
        region.path: region
        for region in Region.objects.filter(parent__isnull=True, level__in=ROLLUP_LEVELS)
    }
    for round in rounds:
        root = roots.get(path_prefixes(round.county.path)[0])
        if root is None:
            alone.append(round)
        else:
            groups.setdefault((root.pk, round.year), []).append(round)
    created = rates.rates_enqueue_group(user=None, rounds=alone) if alone else []
    by_id = {root.pk: root for root in roots.values()}
    for (root_id, year), members in sorted(groups.items()):
        county_jobs, rollup_job = province_rates_enqueue(
            user=None, region=by_id[root_id], year=year, rounds=members
        )
        created += [*county_jobs, rollup_job]
    return created
