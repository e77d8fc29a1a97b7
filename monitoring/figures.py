"""The monitoring dashboard's figures (issue 15): monitoring objects by type and by risk, newly
identified, eliminated by way, open over a year, clues by channel and by department with their
overdue counts, the average days from clue to decision, the 三保障 zero-lists, the trend of the
last 12 months and the same figures per child region.

Every figure is an SQL aggregate over the region's subtree (`path` prefix, one indexed match):
no per-household loop, a fixed number of statements whatever the region's size. The result is
plain data (numbers and choice keys, translated when a page shows them), cached per region and
day with the generation number that every write of the rows it counts bumps (`register_figures`,
connected from `MonitoringConfig.ready`) and the time it was computed; writes that bypass the
model's signals (bulk updates) are bounded by MONITORING_DASHBOARD_CACHE_SECONDS. A stale entry
is recomputed by one request while the others are answered it (`dashboard_figures`).

The 三保障 checks are the registry's (`households.standards.evaluate_two_assurances`) written as
SQL conditions over the same constants; `tests/monitoring/test_dashboard.py` holds the two
to the same verdicts.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Substr, TruncMonth
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from households.models import Household, Member
from households.standards import IN_SCHOOL_EXCLUDED, SAFE_HOUSE_GRADES
from monitoring.models import (
    Clue,
    EliminationWay,
    MonitoringObject,
    ObjectRisk,
    ObjectType,
    RiskType,
)
from povertyapp.jobs import broker_errors
from povertyapp.models import Region, User

CURRENT = MonitoringObject.CURRENT_STATES
OPEN_CLUES = Clue.OPEN_STATES
# Clues still waiting for the decision (纳入监测 / 不纳入): the identification clock runs.
UNDECIDED = (Clue.State.PENDING, Clue.State.VERIFIED, Clue.State.IDENTIFYING)
ASSURANCE_ITEMS = ("education", "medical", "housing", "water")
# Segment of a region's path per level: "/" and a 12-digit code (paths end with "/").
PATH_SEGMENT = 13
logger = logging.getLogger(__name__)

GENERATION_KEY = "monitoring:figures:generation"
FIGURES_VERSION = 1  # bump when the shape of `compute`'s result changes


# --- scopes ------------------------------------------------------------------------------------


def objects_in(region: Region) -> QuerySet[MonitoringObject]:
    return MonitoringObject.objects.filter(household__village__path__startswith=region.path)


def clues_in(region: Region) -> QuerySet[Clue]:
    return Clue.objects.filter(region__path__startswith=region.path)


# --- dates -------------------------------------------------------------------------------------


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def month_starts(today: datetime.date, months: int = 12) -> list[datetime.date]:
    """The first days of the last `months` months, oldest first, this month last."""
    starts = []
    year, month = today.year, today.month
    for _step in range(months):
        starts.append(datetime.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(starts))


# --- 三保障 as SQL (the registry's rules, households.standards) ---------------------------------


def _living(prefix: str = "") -> Q:
    return Q(**{f"{prefix}is_active": True, f"{prefix}living_status": "正常"})


def assurance_failures(today: datetime.date) -> dict[str, Any]:
    """For a queryset of monitoring objects: one condition per item of 义务教育 / 基本医疗 / 住房 /
    饮水 that is *known to fail* (an unrecorded item is not a failure, as in the registry)."""
    members = Member.objects.filter(_living(), household=OuterRef("household_id"))
    out_of_school = members.filter(
        # Aged 6 to 15 on `today` (Member.age_on): born after today−16y, on or before today−6y.
        birth_date__gt=years_before(today, 16),
        birth_date__lte=years_before(today, 6),
        school_status__in=IN_SCHOOL_EXCLUDED,
        compulsory_education_exemption="",
    )
    uninsured = members.filter(has_medical_insurance=False, is_active_soldier=False)
    return {
        "education": Exists(out_of_school),
        "medical": Exists(uninsured),
        "housing": Q(household__relocated=False, household__house_renovated=False)
        & ~Q(household__house_grade__in=SAFE_HOUSE_GRADES)
        & ~Q(household__house_grade=""),
        "water": Q(household__water_safe=False)
        | Q(household__water_safe=True, household__water_difficult=True),
    }


def _assurance_filter(item: str, today: datetime.date) -> Q:
    condition = assurance_failures(today)[item]
    return condition if isinstance(condition, Q) else Q(condition)


# --- the figures -------------------------------------------------------------------------------


def _rows(queryset: Any) -> list[dict[str, Any]]:
    """The rows of a `values()` query with annotations (typed loosely: the stubs know only
    the named fields)."""
    return list(queryset)


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


def _objects_figures(region: Region, today: datetime.date) -> dict[str, Any]:
    year_start = datetime.date(today.year, 1, 1)
    month_start = today.replace(day=1)
    objects = objects_in(region)
    current = Q(state__in=CURRENT)
    totals = objects.aggregate(
        current=_count(current),
        identifying=_count(Q(state=MonitoringObject.State.IDENTIFYING)),
        identified_year=_count(Q(identified_on__gte=year_start, identified_on__lte=today)),
        identified_month=_count(Q(identified_on__gte=month_start, identified_on__lte=today)),
        # Monitored for over a year and not eliminated (标注风险消除 overdue for review).
        long_open=_count(current & Q(identified_on__lte=years_before(today, 1))),
        green_channel=_count(current & Q(green_channel=True)),
        no_labour=_count(current & Q(no_labour_capacity=True)),
    )
    by_type = {
        row["object_type"]: {"households": row["households"], "persons": row["persons"]}
        for row in objects.filter(current)
        .values("object_type")
        .annotate(
            households=Count("pk", distinct=True),
            persons=Count("household__members", filter=Q(household__members__is_active=True)),
        )
        .order_by()
    }
    by_type = {key: by_type.get(key, {"households": 0, "persons": 0}) for key in ObjectType.values}
    by_risk = dict(
        ObjectRisk.objects.filter(
            monitoring_object__in=objects.filter(current), resolved_on__isnull=True
        )
        .values("risk_type")
        .annotate(households=Count("monitoring_object", distinct=True))
        .order_by()
        .values_list("risk_type", "households")
    )
    eliminated: dict[str, dict[str, int]] = {
        way: {"year": 0, "total": 0} for way in EliminationWay.values
    }
    for row in (
        objects.filter(state=MonitoringObject.State.ELIMINATED)
        .values("elimination_way")
        .annotate(
            total=Count("pk"),
            year=_count(Q(eliminated_on__gte=year_start, eliminated_on__lte=today)),
        )
        .order_by()
    ):
        if row["elimination_way"] in eliminated:
            eliminated[row["elimination_way"]] = {"year": row["year"], "total": row["total"]}
    conditions = assurance_failures(today)
    annotated = objects.filter(current).annotate(
        fails_education=conditions["education"], fails_medical=conditions["medical"]
    )
    assurance = annotated.aggregate(
        education=_count(Q(fails_education=True)),
        medical=_count(Q(fails_medical=True)),
        housing=_count(conditions["housing"]),
        water=_count(conditions["water"]),
        any=_count(
            Q(fails_education=True)
            | Q(fails_medical=True)
            | conditions["housing"]
            | conditions["water"]
        ),
    )
    return {
        **totals,
        "by_type": by_type,
        "by_risk": by_risk,
        "eliminated": eliminated,
        "assurance": assurance,
    }


def _clue_counts(today: datetime.date) -> dict[str, Count]:
    year_start = datetime.date(today.year, 1, 1)
    return {
        "received": _count(Q(received_on__gte=year_start, received_on__lte=today)),
        "open": _count(Q(state__in=OPEN_CLUES)),
        "unregistered": _count(Q(state=Clue.State.UNREGISTERED)),
        # 入户核实 not done by its due day; the decision not made by its due day.
        "verify_overdue": _count(Q(state=Clue.State.PENDING, verify_due__lt=today)),
        "decide_overdue": _count(Q(state__in=UNDECIDED, decide_due__lt=today)),
    }


def _clue_figures(region: Region, today: datetime.date) -> dict[str, Any]:
    clues = clues_in(region)
    counts = _clue_counts(today)
    zero = dict.fromkeys(counts, 0)
    by_channel = {key: dict(zero) for key in Clue.Channel.values}
    for row in _rows(clues.values("channel").annotate(**counts).order_by()):
        by_channel[row["channel"]] = {key: row[key] for key in counts}
    by_department = {
        row["department"]: {key: row[key] for key in counts}
        for row in _rows(
            clues.filter(channel=Clue.Channel.DEPARTMENT)
            .values("department")
            .annotate(**counts)
            .order_by("department")
        )
    }
    totals = {key: sum(row[key] for row in by_channel.values()) for key in counts}
    year_start = datetime.date(today.year, 1, 1)
    decided = clues.filter(
        decided_on__isnull=False, decided_on__gte=year_start, decided_on__lte=today
    ).aggregate(
        decided=Count("pk"),
        average=Avg(
            ExpressionWrapper(F("decided_on") - F("received_on"), output_field=DurationField())
        ),
    )
    average = decided["average"]
    return {
        "by_channel": by_channel,
        "by_department": by_department,
        "totals": totals,
        "decided": decided["decided"],
        "average_days": (
            round(average.total_seconds() / 86400, 1) if average is not None else None
        ),
    }


def _trend(region: Region, today: datetime.date) -> list[dict[str, Any]]:
    starts = month_starts(today)
    first = starts[0]

    def monthly(queryset: QuerySet[Any], field: str) -> dict[str, int]:
        rows = (
            queryset.filter(**{f"{field}__gte": first, f"{field}__lte": today})
            .annotate(month=TruncMonth(field))
            .values("month")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {f"{row['month']:%Y-%m}": row["n"] for row in rows}

    objects = objects_in(region)
    identified = monthly(objects, "identified_on")
    eliminated = monthly(objects.filter(state=MonitoringObject.State.ELIMINATED), "eliminated_on")
    clues = monthly(clues_in(region), "received_on")
    return [
        {
            "month": key,
            "identified": identified.get(key, 0),
            "eliminated": eliminated.get(key, 0),
            "clues": clues.get(key, 0),
        }
        for key in (f"{start:%Y-%m}" for start in starts)
    ]


def _children(region: Region, today: datetime.date) -> list[dict[str, Any]]:
    """The figures per child region (none for a village: its drill-down is the households)."""
    if region.level == Region.Level.VILLAGE:
        return []
    children = list(
        Region.objects.filter(parent=region)
        .exclude(level=Region.Level.GROUP)
        .order_by("code")
        .values("code", "name", "path")
    )
    if not children:
        return []
    depth = len(region.path) + PATH_SEGMENT
    current = Q(state__in=CURRENT)
    object_keys = ("current", "long_open", *(f"type_{key}" for key in ObjectType.values))
    objects = {
        row["child"]: {key: row[key] for key in object_keys}
        for row in _rows(
            objects_in(region)
            .annotate(child=Substr("household__village__path", 1, depth))
            .values("child")
            .annotate(
                current=_count(current),
                **{
                    f"type_{key}": _count(current & Q(object_type=key)) for key in ObjectType.values
                },
                long_open=_count(current & Q(identified_on__lte=years_before(today, 1))),
            )
            .order_by()
        )
    }
    counts = _clue_counts(today)
    clue_keys = ("open", "verify_overdue", "decide_overdue")
    clues = {
        row["child"]: {key: row[key] for key in clue_keys}
        for row in _rows(
            clues_in(region)
            .annotate(child=Substr("region__path", 1, depth))
            .values("child")
            .annotate(**{key: counts[key] for key in clue_keys})
            .order_by()
        )
    }
    object_zero = {"current": 0, "long_open": 0, **{f"type_{k}": 0 for k in ObjectType.values}}
    clue_zero = {"open": 0, "verify_overdue": 0, "decide_overdue": 0}
    return [
        {
            "code": child["code"],
            "name": child["name"],
            **objects.get(child["path"], object_zero),
            **clues.get(child["path"], clue_zero),
        }
        for child in children
    ]


def compute(region: Region, *, today: datetime.date) -> dict[str, Any]:
    """Every figure of the region's dashboard on `today` (uncached)."""
    return {
        "version": FIGURES_VERSION,
        "today": today.isoformat(),
        "objects": _objects_figures(region, today),
        "clues": _clue_figures(region, today),
        "trend": _trend(region, today),
        "children": _children(region, today),
    }


# --- the cache ---------------------------------------------------------------------------------


def cache_seconds() -> int:
    return int(getattr(settings, "MONITORING_DASHBOARD_CACHE_SECONDS", 600))


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    return int(value) if value is not None else 0


def invalidate(**_kwargs: Any) -> None:
    """A counted row changed: every cached dashboard is stale (the generation moves on)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted)
        cache.set(GENERATION_KEY, generation() + 1, None)


# How long a request waits for another that is computing a region's first figures of the day,
# and how long a computation may hold the region (a crashed worker's hold ends by itself).
WAIT_SECONDS = 15
HOLD_SECONDS = 120


def _key(region_id: int, day: datetime.date) -> str:
    return f"monitoring:figures:{FIGURES_VERSION}:{region_id}:{day.isoformat()}"


def refresh(region_id: int, day: datetime.date) -> dict[str, Any]:
    """Compute a region's figures, keep them for the day with the generation they were
    computed under, and release the region's hold."""
    key = _key(region_id, day)
    current = generation()
    try:
        region = Region.objects.get(pk=region_id)
        figures = {**compute(region, today=day), "computed_at": timezone.now()}
        # Kept for the day: whether they are current is the generation's and `computed_at`'s.
        cache.set(key, {"generation": current, "figures": figures}, 24 * 3600)
    finally:
        cache.delete(f"{key}:computing")
    return figures


@shared_task(acks_late=True, soft_time_limit=110, time_limit=115)
def refresh_figures_task(region_id: int, day: str) -> None:
    """Recompute one region's figures in the background (`dashboard_figures` sends it when a
    cached entry went stale; the pages meanwhile show the entry it replaces). Lost, it costs
    nothing: the hold it was sent under expires and the next page sends it again."""
    refresh(region_id, datetime.date.fromisoformat(day))


def dashboard_figures(region: Region, *, today: datetime.date) -> dict[str, Any]:
    """`compute`, cached per region and day, with the time it was computed (`computed_at`).

    An entry is current while the generation it was computed under is the current one and it
    is younger than MONITORING_DASHBOARD_CACHE_SECONDS. Once it is not (a counted row was
    written, or time passed), the first request takes the region's hold and sends the
    recomputation to a worker (`refresh_figures_task`; inline when Celery is
    eager or the broker is away), and every page is answered the entry it replaces until the
    new one is there: a county's save every few seconds never sets users computing the same
    county at once, nor keeps one waiting for it. With no entry at all (the region's first
    page of the day), one request computes and the others wait for it, up to WAIT_SECONDS,
    before computing themselves."""
    key = _key(region.pk, today)
    entry = cache.get(key)
    if (
        entry is not None
        and entry["generation"] == generation()
        and timezone.now()
        < entry["figures"]["computed_at"] + datetime.timedelta(seconds=cache_seconds())
    ):
        return entry["figures"]
    if cache.add(f"{key}:computing", 1, HOLD_SECONDS):
        if entry is None:
            return refresh(region.pk, today)
        try:
            refresh_figures_task.apply_async((region.pk, today.isoformat()), retry=False)
        except broker_errors() as error:
            logger.warning("Dashboard figures refreshed in the request: %s", error)
            return refresh(region.pk, today)
        # Eager (the demo, the tests): already recomputed.
        entry = cache.get(key) or entry
        return entry["figures"]
    if entry is not None:
        return entry["figures"]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)
        entry = cache.get(key)
        if entry is not None:
            return entry["figures"]
    return {**compute(region, today=today), "computed_at": timezone.now()}


# Models whose writes change a figure: the monitoring rows, and the registry rows the 三保障
# lists and the person counts read.
COUNTED_MODELS = (MonitoringObject, ObjectRisk, Clue, Household, Member)


def register_figures() -> None:
    """Connect the cache's invalidation (called from `MonitoringConfig.ready`)."""
    for model in COUNTED_MODELS:
        uid = f"monitoring-figures-{model._meta.label_lower}"
        post_save.connect(invalidate, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"{uid}-delete")


# --- the households behind a number -------------------------------------------------------------

LISTS = (
    "current",
    "identifying",
    "type",
    "risk",
    "identified_year",
    "identified_month",
    "long_open",
    "eliminated",
    "assurance",
)


def objects_behind(
    *, user: User, region: Region, kind: str, value: str, today: datetime.date
) -> QuerySet[MonitoringObject]:
    """The monitoring objects behind one number of the region's dashboard, within the user's
    household scope (`roles.household_scope`; a helper sees the paired households only).
    Unknown list kinds or values give an empty list."""
    from povertyapp import roles

    objects = objects_in(region).filter(
        household__in=roles.household_scope(user, Household.objects.all())
    )
    current = Q(state__in=CURRENT)
    year_start = datetime.date(today.year, 1, 1)
    if kind == "current":
        objects = objects.filter(current)
    elif kind == "identifying":
        objects = objects.filter(state=MonitoringObject.State.IDENTIFYING)
    elif kind == "type" and value in ObjectType.values:
        objects = objects.filter(current, object_type=value)
    elif kind == "risk" and value in RiskType.values:
        objects = objects.filter(
            current, risks__risk_type=value, risks__resolved_on__isnull=True
        ).distinct()
    elif kind == "identified_year":
        objects = objects.filter(identified_on__gte=year_start, identified_on__lte=today)
    elif kind == "identified_month":
        objects = objects.filter(identified_on__gte=today.replace(day=1), identified_on__lte=today)
    elif kind == "long_open":
        objects = objects.filter(current, identified_on__lte=years_before(today, 1))
    elif kind == "eliminated" and value in EliminationWay.values:
        objects = objects.filter(state=MonitoringObject.State.ELIMINATED, elimination_way=value)
    elif kind == "assurance" and value in ASSURANCE_ITEMS:
        objects = objects.filter(current).filter(_assurance_filter(value, today))
    else:
        return objects.none()
    return objects
