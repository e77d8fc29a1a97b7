"""Admin: the county office edits the matching rules, thresholds and village sponsors (data,
not code); the case records are shown read-only and scoped (writes go through the services)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from assistance.models import (
    AssistanceStandard,
    CoverageRun,
    FundMovement,
    MatchingRule,
    Measure,
    Pairing,
    Project,
    VillageSponsor,
    Visit,
)
from povertyapp import roles
from povertyapp.admin import CaseReadOnlyAdmin, ConfigAdmin
from povertyapp.http import request_user


@admin.register(Pairing)
class PairingAdmin(CaseReadOnlyAdmin):
    list_display = ["household", "name", "unit", "post", "start_date", "end_date"]
    search_fields = ["household__number", "name"]
    list_select_related = ["household"]


@admin.register(MatchingRule)
class MatchingRuleAdmin(ConfigAdmin, SimpleHistoryAdmin):
    """帮扶匹配规则: which households and members need which measures and policies. Used by
    the household assistance page, the coverage table and the demo."""

    list_display = [
        "position",
        "code",
        "label",
        "kind",
        "level",
        "condition",
        "values",
        "categories",
        "flag_labels",
        "check_wrongful",
        "is_active",
        "year_from",
        "year_to",
    ]
    list_display_links = ["code", "label"]
    list_filter = ["kind", "level", "is_active"]
    search_fields = ["code", "label", "values", "categories"]
    ordering = ["position", "code"]

    @admin.display(description=_("满足条件的享受标志"))
    def flag_labels(self, rule: MatchingRule) -> str:
        """The flags by name (the rule stores their codes, as the form takes them)."""
        names = dict(MatchingRule.Flag.choices)
        return str(_("、")).join(str(names.get(flag, flag)) for flag in rule.flag_list) or "—"


@admin.register(AssistanceStandard)
class AssistanceStandardAdmin(ConfigAdmin):
    list_display = ["year_from", "province", "min_measures", "idle_fund_days", "min_days_resident"]


@admin.register(VillageSponsor)
class VillageSponsorAdmin(ConfigAdmin):
    list_display = ["village", "year", "unit", "leader", "phone"]
    list_filter = ["year"]
    search_fields = ["village__name", "unit"]
    raw_id_fields = ["village"]

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .filter(village__in=roles.region_scope(request_user(request)))
        )


@admin.register(Measure)
class MeasureAdmin(CaseReadOnlyAdmin):
    list_display = ["household", "year", "category", "content", "amount", "status"]
    list_filter = ["status", "category", "year"]
    search_fields = ["household__number", "content"]
    list_select_related = ["household"]


@admin.register(Visit)
class VisitAdmin(CaseReadOnlyAdmin):
    list_display = ["household", "date", "visitor_name"]
    search_fields = ["household__number", "visitor_name"]
    list_select_related = ["household"]


class ProjectScopedReadOnly(CaseReadOnlyAdmin):
    region_lookup = "region"

    def get_queryset(self, request: HttpRequest):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        region = request_user(request).region
        if region is None:
            return queryset.none()
        return queryset.filter(**{f"{self.region_lookup}__path__startswith": region.path})


@admin.register(Project)
class ProjectAdmin(ProjectScopedReadOnly):
    list_display = [
        "name",
        "year",
        "region",
        "status",
        "budget_total",
        "allocated_total",
        "reimbursed_total",
    ]
    list_filter = ["status", "year", "category"]
    search_fields = ["name"]


@admin.register(FundMovement)
class FundMovementAdmin(ProjectScopedReadOnly):
    region_lookup = "project__region"
    list_display = ["project", "kind", "source", "amount", "date", "household"]
    list_filter = ["kind", "source"]


@admin.register(CoverageRun)
class CoverageRunAdmin(ProjectScopedReadOnly):
    list_display = ["region", "computed_at", "households", "members", "missing", "wrongful"]
