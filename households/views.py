"""The registry's pages: the household list and the household page with its tabs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from households import selectors, standards
from households.filters import HouseholdFilter
from households.models import HouseholdIncome
from households.services import INCOME_FIELDS
from povertyapp import roles
from povertyapp.privacy import access_log_record, mask, shown, shown_health

PAGE_SIZES = (20, 50, 100)
TABS = (
    ("basic", _("基本信息")),
    ("members", _("家庭成员")),
    ("conditions", _("生产生活条件")),
    ("income", _("收入情况")),
    ("assurance", _("两不愁三保障")),
    ("status", _("状态变动")),
    ("history", _("修改记录")),
)


def _require_case_access(request: HttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不查看农户信息。"))


@login_required
def household_list_view(request: HttpRequest) -> HttpResponse:
    _require_case_access(request)
    scoped = selectors.household_list(user=request.user)
    household_filter = HouseholdFilter(request.GET or None, queryset=scoped, user=request.user)
    queryset = household_filter.qs if household_filter.is_bound else scoped
    try:
        page_size = int(request.GET.get("page_size", 20))
    except ValueError:
        page_size = 20
    page_size = page_size if page_size in PAGE_SIZES else 20
    page = Paginator(queryset, page_size).get_page(request.GET.get("page"))
    for household in page.object_list:
        household.head_id_shown = mask(household.head_id_number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "households/household_list.html",
        {
            "filter": household_filter,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "query": query.urlencode(),
            "can_write": roles.can_write_households(request.user),
        },
    )


@login_required
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    _require_case_access(request)
    household = selectors.household_get_for_user(user=request.user, household_id=household_id)
    tab = request.GET.get("tab", "basic")
    if tab not in dict(TABS):
        tab = "basic"
    members = selectors.household_members(household)
    today = timezone.localdate()
    context: dict[str, object] = {
        "household": household,
        "tabs": TABS,
        "tab": tab,
        "bank_account": shown(request.user, household.bank_account),
        "can_write": roles.can_write_households(request.user),
        "can_view_sensitive": roles.can_view_sensitive(request.user),
    }
    if tab in ("basic", "members"):
        for member in members:
            member.id_shown = shown(request.user, member.id_number)
            member.health_shown = shown_health(request.user, member.health)
            member.age = member.age_on(today)
        context["members"] = members
        if roles.can_view_sensitive(request.user):
            access_log_record(
                user=request.user, action="view_sensitive", target="household",
                object_id=household.pk, fields=["id_number", "bank_account", "health"],
                detail={"via": "page", "tab": tab}, request=request,
            )
    if tab == "income":
        incomes = list(household.incomes.order_by("-year"))
        income_fields = [HouseholdIncome._meta.get_field(name) for name in INCOME_FIELDS]
        persons = len(standards.living_members(members))
        rows = []
        for income in incomes:
            try:
                line = standards.poverty_line(
                    year=income.year, standard=household.identification_standard,
                    region=household.village,
                )
                line_error = ""
            except standards.PovertyLineMissing as missing:
                line, line_error = None, str(missing)
            per_capita = standards.per_capita_net(income, persons=persons)
            rows.append({"income": income, "per_capita": per_capita, "line": line,
                         "items": [(field.verbose_name, getattr(income, field.name))
                                   for field in income_fields],
                         "line_error": line_error,
                         "above": per_capita is not None and line is not None
                         and per_capita > line})
        context.update(incomes=rows, persons=persons)
    if tab == "assurance":
        context["checks"] = standards.evaluate_two_assurances(household, members, on=today)
    if tab == "status":
        context["events"] = selectors.household_events(household)
    if tab == "history":
        history = selectors.household_change_history(household)
        for entry in history:
            for change in entry["changes"]:
                if change["field"] in MASKED_HISTORY_FIELDS:
                    change["old"] = shown(request.user, change["old"])
                    change["new"] = shown(request.user, change["new"])
                elif change["field"] in HEALTH_HISTORY_FIELDS:
                    change["old"] = shown_health(request.user, change["old"])
                    change["new"] = shown_health(request.user, change["new"])
        context["history"] = history
    if tab == "conditions":
        context["condition_fields"] = [
            (field.verbose_name, getattr(household, field.name))
            for field in household._meta.fields
            if field.name in CONDITION_FIELDS
        ]
    return render(request, "households/household_detail.html", context)


MASKED_HISTORY_FIELDS = {"id_number", "bank_account"}
HEALTH_HISTORY_FIELDS = {"health", "illness_name", "disability_certificate", "disability_grade"}
CONDITION_FIELDS = (
    "cultivated_land", "irrigated_land", "forest_land", "returned_farmland", "orchard_land",
    "pasture_land", "water_surface", "has_production_power", "has_household_power",
    "has_broadcast_tv", "distance_to_road_km", "road_type", "housing_area", "house_grade",
    "house_renovated", "water_safe", "water_difficult", "fuel_type", "has_sanitary_toilet",
    "relocated", "relocation_mode", "relocation_place", "food_secure", "clothing_secure",
)
