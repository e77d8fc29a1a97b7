"""Reads with rules: everything starts from the user's scope (`povertyapp.roles`)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from assistance.models import (
    VISIT_HOUSEHOLD_FIELDS,
    Asset,
    AssetDistribution,
    AssistanceEvent,
    CoverageGap,
    CoverageRun,
    CoverageTally,
    FundMovement,
    FundSource,
    HouseholdPlan,
    Measure,
    Pairing,
    Project,
    VillageSponsor,
    Visit,
    VisitPhoto,
)
from households import detail_tabs
from households.models import Household, Member
from povertyapp import roles
from povertyapp.models import Region, ResidentTeamMember, User, VillageYear
from povertyapp.privacy import shown
from povertyapp.templatetags.offline_keys import offline_key

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

CENT = Decimal("0.01")
Kind = FundMovement.Kind


# --- the helper's scope (registered with `povertyapp.roles` by `AssistanceConfig.ready()`) ---


def helper_households_exists(user: User) -> Exists:
    """The household of the outer query has `user` as its current helper (an open pairing)."""
    return Exists(
        Pairing.objects.filter(household=OuterRef("pk"), helper=user, end_date__isnull=True)
    )


def helper_households_q(user: User) -> Q:
    """The same, as a Q over a relation named `household` (members, events, measures...)."""
    return Q(household__pairings__helper=user, household__pairings__end_date__isnull=True)


def rate(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """A percentage to two decimals (ROUND_HALF_UP), or None when there is no denominator."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


# --- households -------------------------------------------------------------------------------


class AssistanceColumns(TypedDict):
    """What `assistance_households` annotates on each household."""

    helper_name: str | None
    measure_count: int | None
    last_visit: datetime.date | None


def assistance_households(*, user: User) -> QuerySet[WithAnnotations[Household, AssistanceColumns]]:
    """The households a user may see, with what the assistance lists show: current helper,
    effective measure count, last visit."""
    current = Pairing.objects.filter(household=OuterRef("pk"), end_date__isnull=True)
    measures = (
        Measure.objects.filter(household=OuterRef("pk"))
        .exclude(status=Measure.Status.CANCELLED)
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_visit = (
        Visit.objects.filter(household=OuterRef("pk"))
        .values("household")
        .annotate(last=Max("date"))
        .values("last")
    )
    return (
        roles.household_scope(user, Household.objects.all())
        .filter(status__in=Household.REGISTERED_STATUSES)
        .select_related("village", "village__parent")
        .annotate(
            helper_name=Subquery(current.values("name")[:1]),
            measure_count=Subquery(measures[:1]),
            last_visit=Subquery(last_visit[:1]),
        )
        .order_by("number")
    )


def offline_user_key(user: User) -> str:
    """The key the phone files a user's offline data under (IndexedDB and the page cache): not
    the account id, so that a shared phone's storage does not name whose data it held. The
    same key base.html gives pwa.js on every page (`povertyapp.templatetags.offline_keys`)."""
    return offline_key(user)


# The most households one offline bundle carries (docs/offline.md): a helper has a few, a
# village cadre a village (tens to a few hundred); the county office's whole county would be
# megabytes on a phone, so it gets the first OFFLINE_LIMIT and a message saying how many.
OFFLINE_LIMIT = 1000


def offline_households(*, user: User, limit: int | None = None) -> list[dict[str, Any]]:
    """The households the offline visit page keeps on the phone (docs/offline.md): exactly the
    online list's (`assistance_households`), masked as online (`privacy.shown`), each with the
    version a synced entry must carry and the values a visit may verify; at most `limit`
    (default `OFFLINE_LIMIT`, see `offline_households_capped`)."""
    heads = Prefetch(
        "members",
        queryset=Member.objects.filter(is_active=True, relation="户主"),
        to_attr="heads",
    )
    rows = []
    queryset = assistance_households(user=user).prefetch_related(heads)
    for household in queryset[: OFFLINE_LIMIT if limit is None else limit]:
        head = household.heads[0] if household.heads else None
        rows.append(
            {
                "id": household.pk,
                "number": household.number,
                "village": f"{household.village.parent.name if household.village.parent else ''}"
                f" {household.village.name}".strip(),
                "head_name": head.name if head else "",
                "head_id_number": shown(user, head.id_number) if head else "",
                "status": household.get_status_display(),
                "helper_name": household.helper_name or "",
                "last_visit": household.last_visit.isoformat() if household.last_visit else None,
                **offline_household_state(household),
            }
        )
    return rows


def offline_households_capped(*, user: User) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The offline households and, when the user's list is longer than `OFFLINE_LIMIT`, what
    the page tells the user: `{"kept": OFFLINE_LIMIT, "total": n}` (else None)."""
    rows = offline_households(user=user, limit=OFFLINE_LIMIT + 1)
    if len(rows) <= OFFLINE_LIMIT:
        return rows, None
    return rows[:OFFLINE_LIMIT], {
        "kept": OFFLINE_LIMIT,
        "total": assistance_households(user=user).count(),
    }


def offline_household_state(household: Household) -> dict[str, Any]:
    """The household as a synced visit is checked against: its version and the values a visit
    may verify (`services.VISIT_HOUSEHOLD_FIELDS`)."""
    return {
        "version": household.version,
        "fields": {name: getattr(household, name) for name in VISIT_HOUSEHOLD_FIELDS},
    }


def household_assistance(household: Household) -> dict[str, Any]:
    """Everything the household's assistance page shows (the household is already scoped)."""
    return {
        "pairings": list(household.pairings.select_related("helper").order_by("-start_date")),
        "measures": list(
            household.measures.select_related("member", "project").order_by("-year", "status", "id")
        ),
        "plans": list(household.plans.order_by("-year")),
        "visits": list(household.visits.order_by("-date", "-id").prefetch_related("photos")),
        "events": list(
            AssistanceEvent.objects.filter(household=household)
            .select_related("actor")
            .order_by("-created_at", "-id")[:100]
        ),
    }


def plan_progress(household: Household, plan: HouseholdPlan) -> dict[str, Any]:
    """Progress of a year's plan: measures completed of those not cancelled, income effect,
    and the actual income of the year when recorded."""
    measures = household.measures.filter(year=plan.year).exclude(status=Measure.Status.CANCELLED)
    total = measures.count()
    done = measures.filter(status=Measure.Status.COMPLETED).count()
    effect = measures.aggregate(total=Sum("income_effect"))["total"] or Decimal("0")
    income = household.incomes.filter(year=plan.year).first()
    return {
        "plan": plan,
        "total": total,
        "done": done,
        "percent": rate(Decimal(done), Decimal(total)),
        "income_effect": effect,
        "actual_income": income.net if income else None,
    }


def measure_list(*, user: User) -> QuerySet[Measure]:
    return (
        Measure.objects.filter(roles.household_scope_q(user))
        .select_related("household", "household__village", "member")
        .distinct()
    )


def visit_photo_get_for_user(*, user: User, photo_id: int) -> VisitPhoto:
    """A visit's photo through its household's scope (the file door's `visit_photo`): 404
    outside it, for every role that may not see the household."""
    photo = (
        VisitPhoto.objects.filter(
            pk=photo_id, visit__in=Visit.objects.filter(roles.household_scope_q(user)).values("pk")
        )
        .select_related("visit")
        .first()
    )
    if photo is None:
        raise Http404(_("未找到该照片，或您无权查看。"))
    return photo


def household_visit_photos(household: Household) -> list[VisitPhoto]:
    """The photos of the household's visits, newest visit first (the household page's 照片)."""
    return list(
        VisitPhoto.objects.filter(visit__household=household)
        .select_related("visit")
        .order_by("-visit__date", "-visit_id", "taken_at", "id")
    )


def measure_get_for_user(*, user: User, measure_id: int, for_write: bool = False) -> Measure:
    try:
        measure = measure_list(user=user).get(pk=measure_id)
    except (Measure.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该帮扶措施，或您无权查看。")) from None
    if for_write and not roles.can_record_visits(user):
        raise PermissionDenied(_("您的角色只能查看，不能录入帮扶信息。"))
    return measure


# A household is visited at least every this many days (the helper's 走访 rhythm); one whose
# last visit will be older than that by the end of the month is due a visit this month.
VISIT_INTERVAL_DAYS = 90
# What the helper's list filters on (`/assistance/?due=...`, the work desk's links).
DUE_KINDS = ("visit", "measure", "plan")


def month_end(on: datetime.date) -> datetime.date:
    following = (on.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return following - datetime.timedelta(days=1)


def _open_overdue_measures(on: datetime.date) -> QuerySet[Measure]:
    return Measure.objects.filter(
        planned_end__lt=on, status__in=[Measure.Status.PLANNED, Measure.Status.IN_PROGRESS]
    )


# The statuses the helper's list covers: registered poor, returned and exited (an exited
# household keeps its helper through the transition period).
DUE_STATUSES = Household.POOR_STATUSES + (Household.Status.EXITED,)


def due_households(*, user: User) -> QuerySet[Household]:
    """The households the helper's list covers (`DUE_STATUSES`)."""
    return assistance_households(user=user).filter(status__in=DUE_STATUSES)


def due_conditions(on: datetime.date) -> dict[str, Q]:
    """The one rule of each kind of work due (`DUE_KINDS`), as a condition on a household of
    `DUE_STATUSES`: `visit` — no visit within `VISIT_INTERVAL_DAYS` of the month's last day (due
    this month); `measure` — a planned or started measure past its planned end; `plan` — poor,
    and no 一户一策 plan for this year. The work desk counts them (`households_due`), the
    helper's list filters on them, the household list warns of them (`list_warnings`)."""
    recent = month_end(on) - datetime.timedelta(days=VISIT_INTERVAL_DAYS)
    return {
        "visit": ~Q(Exists(Visit.objects.filter(household=OuterRef("pk"), date__gt=recent))),
        "measure": Q(Exists(_open_overdue_measures(on).filter(household=OuterRef("pk")))),
        "plan": Q(status__in=Household.POOR_STATUSES)
        & ~Q(Exists(HouseholdPlan.objects.filter(household=OuterRef("pk"), year=on.year))),
    }


def households_due(*, user: User, on: datetime.date, due: str) -> QuerySet[Household]:
    """The households of `due_households` with one kind of work due (`due_conditions`)."""
    condition = due_conditions(on).get(due)
    if condition is None:
        return Household.objects.none()
    return due_households(user=user).filter(condition)


def list_warnings(*, on: datetime.date) -> list[tuple[str, Any]]:
    """The household list's warnings of work due (`due_conditions`, the work desk's rule), each
    on the households of `DUE_STATUSES` (`detail_tabs.list_warnings`)."""
    conditions = due_conditions(on)
    labels = {
        "visit": _("本月应走访"),
        "measure": _("措施逾期"),
        "plan": _("未制定%(year)s年一户一策") % {"year": on.year},
    }
    return [
        (str(labels[kind]), Q(status__in=DUE_STATUSES) & conditions[kind]) for kind in DUE_KINDS
    ]


def due_counts(*, user: User, on: datetime.date) -> dict[str, int]:
    """How many households have each kind of work due (the work desk's figures)."""
    return {due: households_due(user=user, on=on, due=due).count() for due in DUE_KINDS}


def helper_due(*, user: User, on: datetime.date) -> list[dict[str, Any]]:
    """What is due for each of a helper's (or anyone's) households: measures below the
    minimum, open measures past their planned end, no visit in 90 days, no plan this year."""
    return due_rows(list(due_households(user=user)[:500]), on=on)


def due_rows(households: list[Any], *, on: datetime.date) -> list[dict[str, Any]]:
    """Each household (annotated by `assistance_households`) with the list of what is due."""
    from assistance.matching import standard_for

    if not households:
        return []
    minimum = standard_for(year=on.year, village=households[0].village).min_measures
    overdue = dict(
        _open_overdue_measures(on)
        .filter(household__in=households)
        .values("household")
        .annotate(n=Count("pk"))
        .values_list("household", "n")
    )
    planned = set(
        HouseholdPlan.objects.filter(household__in=households, year=on.year).values_list(
            "household", flat=True
        )
    )
    visit_by = month_end(on) - datetime.timedelta(days=VISIT_INTERVAL_DAYS)
    rows = []
    for household in households:
        due = []
        if (household.measure_count or 0) < minimum:
            due.append(_("措施不足%(n)s项") % {"n": minimum})
        if overdue.get(household.pk):
            due.append(_("%(n)s项措施逾期未完成") % {"n": overdue[household.pk]})
        if household.last_visit is None or (on - household.last_visit).days > VISIT_INTERVAL_DAYS:
            due.append(_("超过90天未走访"))
        elif household.last_visit <= visit_by:
            due.append(_("本月应走访"))
        if household.pk not in planned and household.status in Household.POOR_STATUSES:
            due.append(_("未制定%(year)s年一户一策") % {"year": on.year})
        rows.append({"household": household, "due": due})
    return rows


# --- projects and funds -----------------------------------------------------------------------


def project_list(*, user: User) -> QuerySet[Project]:
    """Projects in the user's region subtree. A helper works through households, not
    projects, and sees none."""
    if not roles.has_case_access(user) or user.role == User.Role.HELPER or user.region is None:
        return Project.objects.none()
    return Project.objects.filter(region__path__startswith=user.region.path).select_related(
        "region", "region__parent"
    )


def project_get_for_user(*, user: User, project_id: int, for_write: bool = False) -> Project:
    try:
        project = project_list(user=user).get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该项目，或您无权查看。")) from None
    if for_write and not roles.can_configure(user):
        raise PermissionDenied(_("只有县扶贫办可以管理项目和资金。"))
    return project


def measure_projects(household: Household) -> QuerySet[Project]:
    """The projects a measure of `household` may belong to: those of its village and the
    cross-village projects of its township and county (the regions above it), not closed.
    The household is in the user's scope (read through `household_get_for_user`), so these
    are too, whatever the user's level: a village cadre links the county's projects."""
    village = household.village
    regions = [region.pk for region in village.ancestors(include_self=True)]
    return (
        Project.objects.filter(region_id__in=regions)
        .exclude(status=Project.Status.CLOSED)
        .select_related("region")
        .order_by("-year", "code", "name")
    )


def measure_project_for(household: Household, project_id: Any) -> Project:
    """The project `project_id` if a measure of `household` may belong to it (API and forms);
    otherwise a ValidationError on the field, the same for a project outside the user's
    scope as for one that does not exist (nothing is told about other counties)."""
    from django.core.exceptions import ValidationError

    try:
        return measure_projects(household).get(pk=int(project_id))
    except (Project.DoesNotExist, ValueError, TypeError):
        raise ValidationError(
            {
                "project": [
                    ValidationError(
                        _("所选项目不存在，或不是本户所在村、乡镇、县的在建项目。"),
                        code="project_out_of_scope",
                    )
                ]
            }
        ) from None


def project_reconciliation(project: Project) -> dict[str, Any]:
    """The project's stored totals against the sums of its movements and fundings. `ok` is
    True when every total equals its sum (the services keep it so)."""
    sums = dict(
        project.movements.values("kind").annotate(total=Sum("amount")).values_list("kind", "total")
    )
    budget = project.fundings.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    rows = {
        "budget_total": (project.budget_total, budget),
        "allocated_total": (project.allocated_total, sums.get(Kind.ALLOCATED) or Decimal("0")),
        "arrived_total": (project.arrived_total, sums.get(Kind.ARRIVED) or Decimal("0")),
        "spent_total": (project.spent_total, sums.get(Kind.SPENT) or Decimal("0")),
        "reimbursed_total": (project.reimbursed_total, sums.get(Kind.REIMBURSED) or Decimal("0")),
    }
    return {"rows": rows, "ok": all(stored == summed for stored, summed in rows.values())}


def project_source_table(project: Project) -> list[dict[str, Any]]:
    """Per source: budget, allocated, arrived, spent, reimbursed and 报账率."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for source, kind, total in (
        project.movements.values("source", "kind")
        .annotate(total=Sum("amount"))
        .values_list("source", "kind", "total")
    ):
        sums[source][kind] = total
    rows = []
    for funding in project.fundings.all():
        values = sums[funding.source]
        rows.append(
            {
                "source": funding.source,
                "budget": funding.amount,
                "allocated": values[Kind.ALLOCATED],
                "arrived": values[Kind.ARRIVED],
                "spent": values[Kind.SPENT],
                "reimbursed": values[Kind.REIMBURSED],
                "rate": rate(values[Kind.REIMBURSED], values[Kind.ALLOCATED]),
            }
        )
    return rows


@dataclass
class IdleFunds:
    project: Project
    source: str
    amount: Decimal
    since: datetime.date


def idle_funds(projects: QuerySet[Project], *, on: datetime.date, days: int) -> list[IdleFunds]:
    """Allocated money unspent for more than `days`: per project and source, what was
    allocated up to `on − days` minus everything spent since (first in, first out)."""
    cutoff = on - datetime.timedelta(days=days)
    old = (
        FundMovement.objects.filter(project__in=projects, kind=Kind.ALLOCATED, date__lt=cutoff)
        .exclude(project__status=Project.Status.CLOSED)
        .values("project", "source")
        .annotate(total=Sum("amount"), since=Max("date"))
    )
    spent = {
        (row["project"], row["source"]): row["total"]
        for row in FundMovement.objects.filter(project__in=projects, kind=Kind.SPENT)
        .values("project", "source")
        .annotate(total=Sum("amount"))
    }
    by_id = {
        p.pk: p
        for p in Project.objects.filter(pk__in={r["project"] for r in old}).select_related("region")
    }
    rows = []
    for row in old:
        idle = row["total"] - spent.get((row["project"], row["source"]), Decimal("0"))
        if idle > 0:
            rows.append(IdleFunds(by_id[row["project"]], row["source"], idle, row["since"]))
    return sorted(rows, key=lambda item: (-item.amount, item.project.pk))


def _township_of(region: Region) -> Region | None:
    node: Region | None = region
    while node is not None and node.level != Region.Level.TOWNSHIP:
        node = node.parent
    return node


def reimbursement_rates(*, user: User) -> dict[str, list[dict[str, Any]]]:
    """报账率 = reimbursed ÷ allocated, per village, township and source, over the projects in
    the user's scope (projects at township or county level count for their own region)."""
    projects = project_list(user=user)
    totals: dict[str, dict[Any, dict[str, Decimal]]] = {
        "village": defaultdict(lambda: defaultdict(Decimal)),
        "township": defaultdict(lambda: defaultdict(Decimal)),
        "source": defaultdict(lambda: defaultdict(Decimal)),
    }
    regions = {
        r.pk: r
        for r in Region.objects.filter(pk__in=projects.values("region")).select_related(
            "parent", "parent__parent"
        )
    }
    rows = (
        FundMovement.objects.filter(project__in=projects)
        .filter(kind__in=[Kind.ALLOCATED, Kind.REIMBURSED])
        .values("project__region", "source", "kind")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        region = regions[row["project__region"]]
        totals["source"][row["source"]][row["kind"]] += row["total"]
        if region.level == Region.Level.VILLAGE:
            totals["village"][region][row["kind"]] += row["total"]
        township = _township_of(region)
        if township is not None:
            totals["township"][township][row["kind"]] += row["total"]

    def table(items: dict[Any, dict[str, Decimal]], key: Any) -> list[dict[str, Any]]:
        result = [
            {
                "name": name,
                "allocated": values[Kind.ALLOCATED],
                "reimbursed": values[Kind.REIMBURSED],
                "rate": rate(values[Kind.REIMBURSED], values[Kind.ALLOCATED]),
            }
            for name, values in items.items()
        ]
        return sorted(result, key=key)

    return {
        "village": table(totals["village"], lambda r: r["name"].code),
        "township": table(totals["township"], lambda r: r["name"].code),
        "source": table(totals["source"], lambda r: FundSource.values.index(r["name"])),
    }


# --- 资产收益 ------------------------------------------------------------------------------------


def asset_list(*, user: User) -> QuerySet[Asset]:
    """Assets in the user's region subtree; a helper sees none (as for projects)."""
    if not roles.has_case_access(user) or user.role == User.Role.HELPER or user.region is None:
        return Asset.objects.none()
    return Asset.objects.filter(village__path__startswith=user.region.path).select_related(
        "village", "village__parent", "project"
    )


def asset_get_for_user(*, user: User, asset_id: int, for_write: bool = False) -> Asset:
    try:
        asset = asset_list(user=user).get(pk=asset_id)
    except (Asset.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该资产，或您无权查看。")) from None
    if for_write and not (roles.can_configure(user) or user.role == User.Role.TOWNSHIP_REVIEWER):
        raise PermissionDenied(_("只有乡镇和县扶贫办可以登记扶贫资产。"))
    return asset


def asset_years(asset: Asset) -> list[dict[str, Any]]:
    """Per year of recorded income: the income, what is distributed, what is left, the lines."""
    lines: dict[int, list[AssetDistribution]] = defaultdict(list)
    for line in asset.distributions.select_related("household", "household__village").order_by(
        "-year", "household__number"
    ):
        lines[line.year].append(line)
    rows = []
    for income in asset.incomes.order_by("-year"):
        distributed = sum((line.amount for line in lines.get(income.year, [])), Decimal("0"))
        rows.append(
            {
                "income": income,
                "distributed": distributed,
                "left": income.amount - distributed,
                "lines": lines.get(income.year, []),
            }
        )
    return rows


def household_asset_distributions(household: Household) -> list[AssetDistribution]:
    """What the household received of assets' income, newest year first (the household is
    already scoped)."""
    return list(
        AssetDistribution.objects.filter(household=household)
        .select_related("asset", "asset__village")
        .order_by("-year", "asset__name")
    )


ASSET_TOTAL_READ = "assistance_asset_total"


def household_asset_reads() -> dict[str, Any]:
    """The household page reads the total distributed to the household with the household
    (`households.detail_tabs.page_reads`)."""
    return {
        ASSET_TOTAL_READ: Subquery(
            AssetDistribution.objects.filter(household=OuterRef("pk"))
            .order_by()
            .values("household")
            .annotate(total=Sum("amount"))
            .values("total")
        )
    }


def household_asset_links(household: Household, *, user: User) -> list[tuple[str, str]]:
    """The household page's link to the household's 资产收益 (`households.detail_tabs`): shown
    when assets' income was distributed to it, with the total received."""
    if not roles.has_case_access(user):
        return []
    total = detail_tabs.read_with_page(household, ASSET_TOTAL_READ)
    if total is detail_tabs.MISSING:
        total = AssetDistribution.objects.filter(household=household).aggregate(
            total=Sum("amount")
        )["total"]
    if not total:
        return []
    url = reverse("assistance:household", args=[household.pk]) + "?tab=assets"
    return [(_("资产收益分配（累计%(total)s元）") % {"total": format(total, ".2f")}, url)]


# --- teams --------------------------------------------------------------------------------------


def village_teams(*, user: User, year: int) -> list[dict[str, Any]]:
    """Per village in scope: 挂包单位, 第一书记, 驻村工作队 with days resident; members below
    the required days (and villages with any) are flagged."""
    from assistance.matching import standard_for

    villages = list(
        roles.region_scope(user)
        .filter(level=Region.Level.VILLAGE)
        .select_related("parent")
        .order_by("code")
    )
    if not villages:
        return []
    required = standard_for(year=year, village=villages[0]).min_days_resident
    years = {
        vy.village_id: vy for vy in VillageYear.objects.filter(village__in=villages, year=year)
    }
    team: dict[int, list[ResidentTeamMember]] = defaultdict(list)
    for member in (
        ResidentTeamMember.objects.filter(village_year__in=years.values())
        .order_by("post", "name")
        .select_related("village_year")
    ):
        member.short = member.days_resident < required  # for the template (an attribute of the row)
        team[member.village_year.village_id].append(member)
    sponsors: dict[int, list[VillageSponsor]] = defaultdict(list)
    for sponsor in VillageSponsor.objects.filter(village__in=villages, year=year):
        sponsors[sponsor.village_id].append(sponsor)
    rows = []
    for village in villages:
        members = team.get(village.pk, [])
        rows.append(
            {
                "village": village,
                "year_record": years.get(village.pk),
                "sponsors": sponsors.get(village.pk, []),
                "team": members,
                "flagged": any(m.days_resident < required for m in members),
                "required": required,
            }
        )
    return rows


# --- coverage ----------------------------------------------------------------------------------


def coverage_run_for(*, user: User, region: Region) -> CoverageRun | None:
    """The latest run covering `region`: computed for it or for one of its ancestors."""
    if not roles.region_in_scope(user, region) and user.role != User.Role.HELPER:
        raise Http404(_("未找到该区划，或您无权查看。"))
    ancestors = [node.pk for node in region.ancestors(include_self=True)]
    return (
        CoverageRun.objects.filter(region__in=ancestors)
        .select_related("region")
        .order_by("-computed_at")
        .first()
    )


def coverage_table(*, run: CoverageRun, region: Region) -> list[dict[str, Any]]:
    """Missing (应享未享) and wrongful (违规享受) counts under `region`: per village for a county
    or below; above the county per county (a province has 26,000 villages, too many rows for
    a page: each county's row leads to its own villages)."""
    by_county = region.level in (Region.Level.CITY, Region.Level.PROVINCE)
    level = Region.Level.COUNTY if by_county else Region.Level.VILLAGE
    # A village's parent is its township, the township's its county.
    key = "village__parent__parent" if by_county else "village"
    rows = (
        CoverageGap.objects.filter(run=run, village__path__startswith=region.path)
        .order_by()
        .values(key, "rule", "kind")
        .annotate(n=Count("pk"))
    )
    table: dict[int, dict[str, Any]] = {}
    for unit in Region.objects.filter(level=level, path__startswith=region.path).select_related(
        "parent"
    ):
        table[unit.pk] = {
            "region": unit,
            "village": None if by_county else unit,
            "missing": 0,
            "wrongful": 0,
            "by_rule": defaultdict(lambda: {"missing": 0, "wrongful": 0}),
        }
    for row in rows:
        entry = table.get(row[key])
        if entry is None:
            continue
        entry[row["kind"]] += row["n"]
        entry["by_rule"][row["rule"]][row["kind"]] += row["n"]
    return sorted(table.values(), key=lambda entry: entry["region"].code)


def coverage_gaps(*, user: User, run: CoverageRun, village: Region) -> QuerySet[CoverageGap]:
    """The rows behind a village's counts, within the user's scope."""
    return (
        CoverageGap.objects.filter(run=run, village=village)
        .filter(
            Exists(
                roles.household_scope(user, Household.objects.filter(pk=OuterRef("household_id")))
            )
        )
        .select_related("household", "member", "rule")
        .order_by("kind", "rule__position", "household__number", "member_id")
    )


def coverage_summary(*, run: CoverageRun, region: Region) -> dict[str, int | None]:
    """The stat cards of a run shown for `region`: the run's own totals for its region; for a
    part of it (a county of a province's run), the part's villages added up: households and
    members from the tallies the run stored, gaps counted under the part. A run stored before
    tallies existed has no households or members to give for a part (None)."""
    if region.pk == run.region_id:
        return {
            "households": run.households,
            "members": run.members,
            "missing": run.missing,
            "wrongful": run.wrongful,
        }
    checked = CoverageTally.objects.filter(run=run, village__path__startswith=region.path)
    totals = checked.aggregate(households=Sum("households"), members=Sum("members"))
    tallied = run.tallies.exists()
    gaps = dict(
        CoverageGap.objects.filter(run=run, village__path__startswith=region.path)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    return {
        "households": (totals["households"] or 0) if tallied else None,
        "members": (totals["members"] or 0) if tallied else None,
        "missing": gaps.get(CoverageGap.Kind.MISSING, 0),
        "wrongful": gaps.get(CoverageGap.Kind.WRONGFUL, 0),
    }


def rules_summary(run: CoverageRun, region: Region | None = None) -> list[dict[str, Any]]:
    """Gaps per rule of the run, under `region` when it is a part of the run's region."""
    gaps = run.gaps.all()
    if region is not None and region.pk != run.region_id:
        gaps = gaps.filter(village__path__startswith=region.path)
    counts = (
        gaps.values("rule", "rule__label", "rule__position", "kind")
        .annotate(n=Count("pk"))
        .order_by("rule__position")
    )
    table: dict[int, dict[str, Any]] = {}
    for row in counts:
        entry = table.setdefault(
            row["rule"], {"label": row["rule__label"], "missing": 0, "wrongful": 0}
        )
        entry[row["kind"]] = row["n"]
    return list(table.values())


def village_in_scope(*, user: User, region_id: int | str) -> Region:
    """A region in the user's scope, addressed by id (an int, or the text of a request
    parameter); 404 when it is outside the scope or not an id at all."""
    if isinstance(region_id, str) and not region_id.isdigit():
        raise Http404(_("未找到该区划，或您无权查看。"))
    region = roles.region_scope(user).filter(pk=region_id).first()
    if region is None:
        raise Http404(_("未找到该区划，或您无权查看。"))
    return region


# --- what the registry's data-quality rules ask of assistance (`households.quality`) ---


def helped_households(household_ids: list[int]) -> set[int]:
    """The households among `household_ids` with a helper (an open pairing): one query."""
    return set(
        Pairing.objects.filter(household_id__in=household_ids, end_date__isnull=True)
        .order_by()  # the default ordering joins the household
        .values_list("household_id", flat=True)
    )


def helped_condition() -> Exists:
    """`helped_households` as a condition on a household row (`OuterRef("pk")`)."""
    return Exists(Pairing.objects.filter(household=OuterRef("pk"), end_date__isnull=True))


def effective_measure_count() -> Coalesce:
    """`effective_measure_counts` as an expression on a household row (`OuterRef("pk")`)."""
    return Coalesce(
        Subquery(
            Measure.objects.filter(household=OuterRef("pk"))
            .exclude(status=Measure.Status.CANCELLED)
            .order_by()
            .values("household")
            .annotate(n=Count("id"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def effective_measure_counts(household_ids: list[int]) -> dict[int, int]:
    """Measures per household (cancelled ones not counted), 0 for none: one query."""
    rows = (
        Measure.objects.filter(household_id__in=household_ids)
        .exclude(status=Measure.Status.CANCELLED)
        .order_by()  # the default ordering's join to the household, for nothing
        .values("household_id")
        .annotate(n=Count("id"))
    )
    counts = {row["household_id"]: row["n"] for row in rows}
    return {pk: counts.get(pk, 0) for pk in household_ids}
