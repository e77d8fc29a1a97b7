"""Reads for the dashboards and the rates API: stored snapshots only (never a recomputation).

Every region comes through `households.selectors.region_get_for_user` (404 outside the user's
scope); every round through `rounds.services.round_get_for_user`.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from households.models import Household
from povertyapp import db_router, roles
from povertyapp.db_router import read_from_replica
from povertyapp.models import Region, RegionName, User, path_prefixes
from rounds import figures
from rounds import services as round_services
from rounds.models import AdjustmentRound, RateSnapshot, RollupSnapshot
from rounds.rollup import ROLLUP_LEVELS

FIGURES = (
    # key, label, threshold attribute (None: no exit threshold), which list explains it
    ("wrongful_inclusion", gettext_noop("错评率"), None, "removed"),
    ("omission", gettext_noop("漏评率"), "omission", "identified"),
    ("wrongful_exit", gettext_noop("错退率"), "wrongful_exit", "returned"),
    ("incidence", gettext_noop("贫困发生率"), "village_incidence", ""),
)
FIGURE_KEYS = tuple(key for key, *_rest in FIGURES)


def region_get_for_figures(*, user: User, code: str) -> Region:
    """The region whose figures (dashboard, rates API) `user` asks for: in the user's figures
    scope (`roles.figures_region_scope`: the case roles' regions, and the subtree of a city's or
    province's office), else 404."""
    region = roles.figures_region_scope(user).select_related("parent").filter(code=code).first()
    if region is None:
        raise Http404(_("未找到该区划，或您无权查看。"))
    return region


def figures_region_of_round(*, user: User, county: Region) -> Region:
    """The region whose figures of a round of `county` the user opens from the round pages:
    the county for a user of the county or above, else the user's own township or village
    (whose figures `round_for_region` gives for the county's rounds), so that the link never
    leads out of the user's figures scope."""
    region = user.region
    if region is not None and region.path != county.path and region.path.startswith(county.path):
        return region
    return county


def is_rollup_region(region: Region) -> bool:
    """A city or a province: its figures are the roll-up of its counties' (`RollupSnapshot`)."""
    return region.level in ROLLUP_LEVELS


def county_of(region: Region) -> Region | None:
    for node in region.ancestors(include_self=True):
        if node.level == Region.Level.COUNTY:
            return node
    return None


def rounds_for_region(
    region: Region, *, ancestors: list[Region] | None = None
) -> QuerySet[AdjustmentRound]:
    """The rounds of the region's county, latest first.

    The county is the region or one of its ancestors: taken from the region or from
    `ancestors` (any of them the caller has loaded) when it is there, else found by the
    prefixes of the region's `path` in the same query (no query for the ancestors)."""
    for node in (region, *(ancestors or ())):
        if node.level == Region.Level.COUNTY and region.path.startswith(node.path):
            return AdjustmentRound.objects.filter(county_id=node.pk).order_by("-year")
    if not region.path:
        county = county_of(region)
        if county is None:
            return AdjustmentRound.objects.none()
        return AdjustmentRound.objects.filter(county=county).order_by("-year")
    return AdjustmentRound.objects.filter(
        county__path__in=path_prefixes(region.path), county__level=Region.Level.COUNTY
    ).order_by("-year")


def ancestors_in_scope(*, user: User, region: Region) -> list[Region]:
    """The region's ancestors the user may open (from the user's own region down to the
    parent), root first: the breadcrumb of a dashboard.

    They are the user's region and the nodes between it and `region`; the parent (read with
    the region by `region_list`) and the user's region are already loaded, so most pages
    (county, township, village seen from the county) need no query; deeper gaps fall back to
    `Region.ancestors()` (one query)."""
    top = user.region
    if top is None or not region.path.startswith(top.path) or region.pk == top.pk:
        return []
    parent_field = Region._meta.get_field("parent")
    chain: list[Region] = []
    node_id = region.parent_id
    holder = region
    while node_id is not None:
        if node_id == top.pk:
            chain.append(top)
            return chain[::-1]
        if not parent_field.is_cached(holder):
            return [node for node in region.ancestors() if node.path.startswith(top.path)]
        node = holder.parent
        assert node is not None
        chain.append(node)
        holder, node_id = node, node.parent_id
    return []


def round_for_region(
    *,
    user: User,
    region: Region,
    round_id: Any = None,
    trend: list[RateSnapshot] | None = None,
) -> AdjustmentRound:
    """The round asked for (must be the region's county's), else the latest with a snapshot
    (taken from the region's `trend` when the caller has it, saving a query)."""
    if round_id not in (None, ""):
        round = _round_get_for_figures(user=user, round_id=round_id)
        if not region.path.startswith(round.county.path):
            raise Http404(_("该批次不属于所选区域所在的县。"))
        return round
    if trend is not None:
        latest = trend[-1].round if trend else None
    else:
        latest = (
            rounds_for_region(region)
            .filter(rate_snapshots__region=region)
            .order_by("-year")
            .first()
        )
    if latest is None:
        raise Http404(_("该区域尚无动态调整指标。"))
    return latest


def _round_get_for_figures(*, user: User, round_id: Any) -> AdjustmentRound:
    """A round whose figures the user may read: the case roles through
    `rounds.services.round_get_for_user`; a city's or province's office, a round of a county of
    its subtree (404 otherwise)."""
    if not roles.is_rollup_officer(user) or user.region is None:
        return round_services.round_get_for_user(user=user, round_id=round_id)
    try:
        return AdjustmentRound.objects.select_related("county").get(
            pk=round_id, county__path__startswith=user.region.path
        )
    except (AdjustmentRound.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该动态调整批次，或您无权查看。")) from None


@read_from_replica()
def snapshot_for(
    *, region: Region, round: AdjustmentRound, trend: list[RateSnapshot] | None = None
) -> RateSnapshot:
    if trend is not None:
        snapshot = next((item for item in trend if item.round_id == round.pk), None)
    else:
        snapshot = RateSnapshot.objects.filter(region=region, round=round).first()
    if snapshot is None:
        raise Http404(_("该批次尚未计算指标，请先计算。"))
    return snapshot


def snapshot_figure(snapshot: RateSnapshot | RollupSnapshot, key: str) -> figures.Figure:
    return figures.Figure(
        getattr(snapshot, f"{key}_numerator"), getattr(snapshot, f"{key}_denominator")
    )


def snapshot_payload(snapshot: RateSnapshot) -> dict[str, Any]:
    """The API's (and the dashboard's) view of a snapshot; rates as strings with 8 places."""
    region = snapshot.region
    thresholds = figures.exit_thresholds_for(region)
    payload: dict[str, Any] = {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "round": {
            "id": snapshot.round_id,
            "name": snapshot.round.display_name,
            "year": snapshot.round.year,
            "status": snapshot.round.status,
        },
        "computed_at": snapshot.computed_at,
        "source": snapshot.source,
        "figures": {key: snapshot_figure(snapshot, key).as_dict() for key in FIGURE_KEYS},
        "baseline_incidence": figures.Figure(
            snapshot.baseline_incidence_numerator, snapshot.incidence_denominator
        ).as_dict(),
        "completeness": figures.Figure(
            snapshot.completeness_numerator, snapshot.completeness_denominator
        ).as_dict(),
        "year": snapshot.round.year,
        "counties": None,
        "status_counts": snapshot.status_counts,
        "baseline_status_counts": snapshot.baseline_status_counts,
        "cause_counts": snapshot.cause_counts,
        "list_counts": snapshot.list_counts,
        "thresholds": {
            "comprehensive_incidence": str(thresholds.comprehensive_incidence),
            "wrongful_exit": str(thresholds.wrongful_exit),
            "omission": str(thresholds.omission),
            "approval": str(thresholds.approval),
            "village_incidence": str(thresholds.village_incidence),
        },
    }
    return payload


CHILD_COLUMNS = (
    "region__code",
    "region__name",
    *(f"{key}_{part}" for key in FIGURE_KEYS for part in ("numerator", "denominator", "rate")),
    "completeness_rate",
)


@read_from_replica()
def child_snapshots(*, region: Region, round: AdjustmentRound) -> list[dict[str, Any]]:
    """The figures of the region's children in `round`, ordered by code: only the columns a
    child row shows (`CHILD_COLUMNS`), as dicts keyed by them (not the JSON breakdowns, which
    only the child's own dashboard shows)."""
    rows = list(
        RateSnapshot.objects.filter(round_id=round.pk, region__parent_id=region.pk)
        .order_by()
        .values(*CHILD_COLUMNS)
    )
    rows.sort(key=lambda row: row["region__code"])  # here, not in SQL: the view sorts again
    return rows


@read_from_replica()
def trend(*, region: Region, rounds: list[AdjustmentRound] | None = None) -> list[RateSnapshot]:
    """The region's snapshots, oldest round first (their `region` is the one given).

    Their rounds are taken from `rounds` (the county's, `rounds_for_region`) when the caller
    has read them already: the snapshots are then read without a join."""
    queryset = RateSnapshot.objects.filter(region=region).order_by()
    snapshots = list(queryset) if rounds is not None else []
    by_id = {item.pk: item for item in rounds or ()}
    if rounds is None or any(snapshot.round_id not in by_id for snapshot in snapshots):
        snapshots = list(queryset.select_related("round"))
    else:
        for snapshot in snapshots:
            snapshot.round = by_id[snapshot.round_id]
    snapshots.sort(key=lambda snapshot: (snapshot.round.year, snapshot.round_id))
    for snapshot in snapshots:
        snapshot.region = region
    return snapshots


# The households behind a number: the round's events of one list, or the poor after the round.
LIST_EVENT_KINDS = {
    "removed": "removed",
    "identified": "identified",
    "returned": "returned",
    "exited": "exited",
}


def households_behind(
    *, user: User, region: Region, round: AdjustmentRound, list_kind: str
) -> QuerySet[Household]:
    """The households a figure counts (scoped: only what the user may see), in the region the
    figures count them in (the baseline village): a list's households are the round's list
    events (`rounds.round_list_events`, the one source the figures and the ledger share)."""
    from households.selectors import household_list

    scoped = household_list(user=user)
    if list_kind in LIST_EVENT_KINDS:
        listed = round_services.round_list_events(round=round, path_prefix=region.path).filter(
            kind=LIST_EVENT_KINDS[list_kind]
        )
        return scoped.filter(pk__in=listed.values("household_id"))
    baseline = round.baseline.filter(village__path__startswith=region.path)
    if list_kind == "baseline_registered":
        return scoped.filter(
            pk__in=baseline.filter(status__in=figures.REGISTERED_STATUSES).values("household_id")
        )
    if list_kind == "baseline_exited":
        return scoped.filter(pk__in=baseline.filter(status="exited").values("household_id"))
    raise Http404(_("未知的名单。"))


# --- above the county: cities and provinces (issue 16) -----------------------------------------


def rollup_years(region: Region) -> list[int]:
    """The years the region has a roll-up of, latest first."""
    return list(
        RollupSnapshot.objects.filter(region=region)
        .order_by("-year")
        .values_list("year", flat=True)
    )


@read_from_replica()
def rollup_trend(region: Region) -> list[RollupSnapshot]:
    """The region's roll-ups, oldest year first (their `region` is the one given)."""
    snapshots = list(RollupSnapshot.objects.filter(region=region).order_by("year"))
    for snapshot in snapshots:
        snapshot.region = region
    return snapshots


def rollup_for(*, region: Region, year: Any, trend: list[RollupSnapshot]) -> RollupSnapshot:
    """The roll-up of the year asked for (default: the latest), from the region's `trend`."""
    if not trend:
        raise Http404(_("该区域尚无汇总指标。"))
    if year in (None, ""):
        return trend[-1]
    try:
        wanted = int(year)
    except (TypeError, ValueError):
        raise Http404(_("该区域尚无该年度的汇总指标。")) from None
    found = next((item for item in trend if item.year == wanted), None)
    if found is None:
        raise Http404(_("该区域尚无该年度的汇总指标。"))
    return found


ROLLUP_CHILD_COLUMNS = (
    "region__code",
    "region__name",
    "region__level",
    *(f"{key}_{part}" for key in FIGURE_KEYS for part in ("numerator", "denominator", "rate")),
    "completeness_rate",
)


@read_from_replica()
def rollup_children(*, region: Region, year: int) -> list[dict[str, Any]]:
    """The figures of the region's children for `year`: the cities' roll-ups under a province,
    the counties' snapshots (their round of the year, `round_id` for the drill-down) under a
    city (a province's counties directly under it, as for 直辖 counties, too). By code."""
    rows = [
        {**row, "round_id": None}
        for row in RollupSnapshot.objects.filter(region__parent_id=region.pk, year=year)
        .order_by()
        .values(*ROLLUP_CHILD_COLUMNS)
    ]
    rows += list(
        RateSnapshot.objects.filter(
            region__parent_id=region.pk,
            region__level=Region.Level.COUNTY,
            round__year=year,
            region_id=F("round__county_id"),
        )
        .order_by()
        .values(*ROLLUP_CHILD_COLUMNS, "round_id")
    )
    rows.sort(key=lambda row: row["region__code"])
    return rows


def rollup_payload(snapshot: RollupSnapshot) -> dict[str, Any]:
    """The rates API's view of a city's or province's roll-up (the shape of `snapshot_payload`,
    with no round: `year` and the counties it sums)."""
    region = snapshot.region
    thresholds = figures.exit_thresholds_for(region)
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "round": None,
        "year": snapshot.year,
        "counties": {
            "included": snapshot.counties,
            "expected": snapshot.counties_expected,
            "missing": snapshot.source.get("missing", []),
        },
        "computed_at": snapshot.computed_at,
        "source": snapshot.source,
        "figures": {key: snapshot_figure(snapshot, key).as_dict() for key in FIGURE_KEYS},
        "baseline_incidence": figures.Figure(
            snapshot.baseline_incidence_numerator, snapshot.incidence_denominator
        ).as_dict(),
        "completeness": figures.Figure(
            snapshot.completeness_numerator, snapshot.completeness_denominator
        ).as_dict(),
        "status_counts": snapshot.status_counts,
        "baseline_status_counts": snapshot.baseline_status_counts,
        "cause_counts": snapshot.cause_counts,
        "list_counts": snapshot.list_counts,
        "thresholds": {
            "comprehensive_incidence": str(thresholds.comprehensive_incidence),
            "wrongful_exit": str(thresholds.wrongful_exit),
            "omission": str(thresholds.omission),
            "approval": str(thresholds.approval),
            "village_incidence": str(thresholds.village_incidence),
        },
    }


# One row: the state of everything a city's or province's page is drawn from, in its subtree.
ROLLUP_STATE_SQL = """
SELECT rollups.n, rollups.latest, counties.n, counties.latest, regions.n, regions.last_id,
       regions.renames, regions.renamed, rounds.n, rounds.last_id
FROM (SELECT COUNT(*) AS n, MAX(s.computed_at) AS latest
      FROM {rollup} s JOIN {region} r ON r.id = s.region_id
      WHERE r.path LIKE %s) rollups,
     (SELECT COUNT(*) AS n, MAX(s.computed_at) AS latest
      FROM {rate} s JOIN {region} r ON r.id = s.region_id
      WHERE r.level = %s AND r.path LIKE %s) counties,
     (SELECT COUNT(DISTINCT r.id) AS n, MAX(r.id) AS last_id, COUNT(f.id) AS renames,
             MAX(f.recorded_at) AS renamed
      FROM {region} r LEFT JOIN {name} f ON f.region_id = r.id
      WHERE r.level IN (%s, %s, %s) AND r.path LIKE %s) regions,
     (SELECT COUNT(*) AS n, MAX(a.id) AS last_id
      FROM {round} a JOIN {region} r ON r.id = a.county_id
      WHERE r.path LIKE %s) rounds
"""


@read_from_replica()
def rollup_state(region: Region) -> tuple[Any, ...]:
    """The state of a city's or province's figures, in one statement: how many roll-up rows
    its subtree holds and when the latest was computed, the same for its counties' own rows
    (`RateSnapshot` of the county region, every round), and how many provinces, cities and
    counties it holds (with the highest id, how many former names they have and when the
    latest was recorded), and how many rounds its counties have opened (with the highest id:
    the years the office's start button offers, `rounds.rollup.rollup_years`).

    Every write that changes what the page shows changes this tuple: a recomputed roll-up or
    county (`computed_at` is set to the time of the run on every row it writes, so the
    maximum moves forward), a new or removed row or region (the counts), a renamed or
    re-coded region (the only way is the region import, which records the former name:
    `RegionName`; regions are read-only in the admin), a county moved to another city (the
    counts of both cities' subtrees). It relies on the servers' clocks moving forward (a
    recomputation stamped earlier than the latest row would go unseen).

    It reads where the snapshots are read (the replica when one is in use): a state read on
    the primary ahead of a lagging replica would key the replica's older figures under the new
    state, and they would stay cached until the next change."""
    sql = ROLLUP_STATE_SQL.format(
        rollup=RollupSnapshot._meta.db_table,
        rate=RateSnapshot._meta.db_table,
        region=Region._meta.db_table,
        name=RegionName._meta.db_table,
        round=AdjustmentRound._meta.db_table,
    )
    subtree = f"{region.path}%"  # codes and slashes only: no LIKE wildcard in a path
    levels = (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY)
    with connections[db_router.read_alias()].cursor() as cursor:
        cursor.execute(sql, [subtree, Region.Level.COUNTY, subtree, *levels, subtree, subtree])
        row = cursor.fetchone()
    return tuple(row) if row else ()
