"""The monitoring home and dashboard (issue 15): the figures of a region (`monitoring.figures`),
drill-down county → township → village → the monitoring objects behind a number.

Case roles with a region only (the rule of the other dashboards, `roles.can_view_dashboards`):
department accounts, the city's and province's offices and the administrators are refused
(403); a region outside the user's subtree is 404 (`region_get_for_user`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Member
from households.selectors import region_get_for_user
from households.services import common
from monitoring import figures, identities, inbox
from monitoring.models import Clue, EliminationWay, ObjectRisk, ObjectType, RiskType
from monitoring.sweeps import can_see_sweeps
from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region, User
from povertyapp.privacy import mask
from rounds import dashboards

ASSURANCE_LABELS = {
    "education": gettext_lazy("义务教育有保障"),
    "medical": gettext_lazy("基本医疗有保障"),
    "housing": gettext_lazy("住房安全有保障"),
    "water": gettext_lazy("饮水安全有保障"),
}
LIST_LABELS = {
    "current": gettext_lazy("当前监测对象"),
    "identifying": gettext_lazy("识别中"),
    "type": gettext_lazy("监测对象类型"),
    "risk": gettext_lazy("风险类型"),
    "identified_year": gettext_lazy("本年新识别"),
    "identified_month": gettext_lazy("本月新识别"),
    "long_open": gettext_lazy("纳入监测超过一年未消除"),
    "eliminated": gettext_lazy("风险已消除"),
    "assurance": gettext_lazy("三保障和饮水安全未保障"),
}
# The sections built by the other parts of issue 15, linked by URL name when they exist.
# The home's sections, each with the rule its page's view checks: a section is offered only to
# the users its page lets in (`tests/povertyapp/test_page_links.py` follows every link of every
# page as every role).
SECTIONS: tuple[tuple[str, Any, Callable[[User], bool]], ...] = (
    ("monitoring:clues", gettext_lazy("风险线索"), inbox.can_read_inbox),
    ("monitoring:objects", gettext_lazy("监测对象"), roles.has_case_access),
    ("monitoring:sweeps", gettext_lazy("集中排查"), can_see_sweeps),
    ("monitoring:lists", gettext_lazy("部门名单"), roles.can_push_department_lists),
    ("monitoring:scrutiny", gettext_lazy("剔除核查"), roles.sees_exclusion_scrutiny),
    ("monitoring:identities", gettext_lazy("农村低收入人口"), identities.may_read),
)


def _require_dashboard(user: User) -> None:
    # Case roles only: the city's and province's offices (issue 16) read the rolled-up
    # dynamic-adjustment figures, not this dashboard's drill-down to the monitoring objects.
    if not (roles.has_case_access(user) and roles.can_view_dashboards(user)):
        raise PermissionDenied(_("您的账号没有可查看的区域。"))


def _sections(user: User) -> list[dict[str, str]]:
    links = []
    for name, label, allowed in SECTIONS:
        if not allowed(user):
            continue
        try:
            links.append({"url": reverse(name), "label": str(label)})
        except NoReverseMatch:  # that part of issue 15 is not deployed
            continue
    return links


def _overdue_class(region: Region) -> str:
    """Overdue tasks turn orange for the township and red for the county (and above)."""
    if region.level == Region.Level.VILLAGE:
        return "warn"
    if region.level == Region.Level.TOWNSHIP:
        return "warn"
    return "bad"


def _context(user: User, region: Region) -> dict[str, Any]:
    today = common.today()
    data = figures.dashboard_figures(region, today=today)
    objects, clues = data["objects"], data["clues"]
    types = dict(ObjectType.choices)
    risks = dict(RiskType.choices)
    ways = dict(EliminationWay.choices)
    channels = dict(Clue.Channel.choices)
    departments = dict(User.Department.choices)
    return {
        "region": region,
        "ancestors": dashboards.ancestors_in_scope(user=user, region=region),
        "today": today,
        "figures": data,
        "overdue_class": _overdue_class(region),
        "type_rows": [
            {"key": key, "label": types[key], **objects["by_type"][key]} for key in types
        ],
        "risk_rows": [
            {"key": key, "label": label, "households": objects["by_risk"].get(key, 0)}
            for key, label in risks.items()
        ],
        "elimination_rows": [
            {"key": key, "label": ways[key], **objects["eliminated"][key]} for key in ways
        ],
        "channel_rows": [
            {"key": key, "label": channels[key], **clues["by_channel"][key]} for key in channels
        ],
        "department_rows": [
            {"key": key, "label": departments.get(key, key or _("未注明")), **row}
            for key, row in clues["by_department"].items()
        ],
        "assurance_rows": [
            {"key": key, "label": label, "households": objects["assurance"][key]}
            for key, label in ASSURANCE_LABELS.items()
        ],
        "type_keys": [(f"type_{key}", label) for key, label in types.items()],
        "child_rows": [
            {**row, "types": [row[f"type_{key}"] for key in types]} for row in data["children"]
        ],
        "objects_url": reverse("monitoring:dashboard-objects", args=[region.code]),
    }


@login_required
def monitoring_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The monitoring home: the sections and the dashboard of the user's own region."""
    user = request.user
    if not roles.has_case_access(user):
        raise PermissionDenied(_("您的账号不能查看防返贫监测。"))
    context: dict[str, Any] = {"sections": _sections(user), "home": True}
    if user.region is not None:
        context.update(_context(user, user.region))
    return render(request, "monitoring/index.html", context)


@login_required
def monitoring_dashboard(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    user = request.user
    _require_dashboard(user)
    region = region_get_for_user(user=user, code=code)
    return render(request, "monitoring/dashboard.html", _context(user, region))


def _value_label(kind: str, value: str) -> str:
    labels: dict[str, Any] = {
        "type": dict(ObjectType.choices),
        "risk": dict(RiskType.choices),
        "eliminated": dict(EliminationWay.choices),
        "assurance": ASSURANCE_LABELS,
    }.get(kind, {})
    return str(labels.get(value, ""))


@login_required
def monitoring_dashboard_objects(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The monitoring objects behind a number of the dashboard (`?list=kind&value=…`), in the
    user's household scope, ID numbers masked."""
    user = request.user
    _require_dashboard(user)
    region = region_get_for_user(user=user, code=code)
    kind = request.GET.get("list") or "current"
    value = request.GET.get("value", "")
    if kind not in figures.LISTS:
        raise Http404(_("未知的名单。"))
    head = Member.objects.filter(
        household=OuterRef("household_id"), is_active=True, relation="户主"
    ).order_by()
    queryset = (
        figures.objects_behind(
            user=user, region=region, kind=kind, value=value, today=common.today()
        )
        .select_related("household__village")
        .annotate(
            head_name=Subquery(head.values("name")[:1]),
            head_id_number=Subquery(head.values("id_number")[:1]),
        )
        .order_by("household__village__code", "household__number", "pk")
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    risks: dict[int, list[str]] = {}
    labels = dict(RiskType.choices)
    order = {key: index for index, key in enumerate(labels)}
    found = ObjectRisk.objects.filter(monitoring_object__in=[row.pk for row in rows])
    for object_id, risk_type in sorted(
        found.values_list("monitoring_object_id", "risk_type"),
        key=lambda pair: (pair[0], order.get(pair[1], len(order))),
    ):
        risks.setdefault(object_id, []).append(str(labels.get(risk_type, risk_type)))
    for row in rows:
        row.head_id_shown = mask(row.head_id_number)  # type: ignore[attr-defined]  # for the template
        row.risk_labels = _("、").join(risks.get(row.pk, []))  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "monitoring/dashboard_objects.html",
        {
            "region": region,
            "page": page,
            "rows": rows,
            "list_label": LIST_LABELS[kind],
            "value_label": _value_label(kind, value),
        },
    )
