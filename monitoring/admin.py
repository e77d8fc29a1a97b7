"""Monitoring in the admin site.

The configuration the county office keeps (业务配置): the monitoring lines, the 农村低保
standards, the local rules and 帮扶 by risk type, added and changed like every `ConfigAdmin`.

The case records (业务数据): clues, monitoring objects with their risks, income assessments,
department lists, scrutiny tasks, cadres' relations and the sweeps with their teams and
households. The county office reads them within its region, read-only: they change through the
services (the inbox, the procedures, the list import, the 排查表), which check the rules, lock
the rows, write the events and the audit. No administrator role sees them (三权分立,
`povertyapp.security.admin_access`). `CadreRelation` is among them, not configuration: a village
cadre registers a member's relation to a cadre on the scrutiny pages, and the service marks the
household's open scrutiny tasks as a cadre's relative's at the same time.

ID numbers and phones are always masked here, and free text and department data are shown with
every ID-looking number masked: the admin is an overview that records no sensitive read, so the
full values stay on the case pages, which do.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from households.identity import normalise_id_number
from monitoring import layouts
from monitoring.models import (
    CadreRelation,
    Clue,
    DepartmentList,
    DibaoStandard,
    IncomeAssessment,
    LocalRules,
    MonitoringLine,
    MonitoringObject,
    ObjectRisk,
    PriorityGroup,
    RiskMeasureRule,
    RiskType,
    ScrutinyTask,
    Sweep,
    SweepHousehold,
    SweepTeam,
)
from monitoring.sweeps import with_group
from povertyapp import roles
from povertyapp.admin import ConfigAdmin
from povertyapp.crypto import blind_index
from povertyapp.http import request_user
from povertyapp.models import Region
from povertyapp.privacy import mask, mask_text
from povertyapp.security.admin_access import Area, RoleAdmin, RoleInline

# --- configuration ------------------------------------------------------------------------------


@admin.register(MonitoringLine)
class MonitoringLineAdmin(ConfigAdmin):
    list_display = ["year", "region", "kind", "amount", "multiple", "basis"]
    list_filter = ["kind", "year"]


@admin.register(DibaoStandard)
class DibaoStandardAdmin(ConfigAdmin):
    list_display = ["year", "region", "amount"]
    list_filter = ["year"]


@admin.register(LocalRules)
class LocalRulesAdmin(ConfigAdmin):
    list_display = [
        "region",
        "identify_days",
        "identify_in_working_days",
        "notice_days",
        "measure_start_days",
        "stable_months",
    ]


@admin.register(RiskMeasureRule)
class RiskMeasureRuleAdmin(ConfigAdmin):
    list_display = ["risk_type", "measure_category", "active", "note"]
    list_filter = ["risk_type", "active"]


# --- case records: the shared parts -------------------------------------------------------------


def _masked_text(text: str | None) -> str | None:
    """Free text with every ID-looking number masked. These helpers answer None for nothing:
    the admin shows its empty value, as in an empty column."""
    return mask_text(text) if text else None


def _masked_json(value: Any) -> str | None:
    """A JSON column (department data, evidence, answers) with every ID-looking number masked."""
    if not value:
        return None
    return mask_text(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _labels(values: Any, choices: Any) -> str | None:
    names = dict(choices)
    return "、".join(str(names.get(value, value)) for value in values or []) or None


class MonitoringCaseAdmin(RoleAdmin):
    """A monitoring case record: the county office reads the rows whose region (`region_lookup`,
    a relation to a `Region`) lies in its own; nobody adds, changes or deletes them here."""

    area = Area.CASE
    region_lookup: ClassVar[str] = ""
    show_full_result_count = False  # one COUNT per page, not two, on the county's big tables

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Every field the change page lists is read-only: the method fields (masked values)
        # need it, and nothing here is edited anyway.
        return [*super().get_readonly_fields(request, obj), *flatten(self.fields or ())]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        region = request_user(request).region
        if region is None:
            return queryset.none()
        return queryset.filter(**{f"{self.region_lookup}__path__startswith": region.path})


def township_filter(region_lookup: str) -> type[admin.SimpleListFilter]:
    """A list filter by the townships of the user's region, over the record's region relation.
    Its parameter is `region`: the search-terms middleware lets a region code pass there (a
    12-digit value in any other parameter looks like a bank account and is moved to a token)."""

    class TownshipFilter(admin.SimpleListFilter):
        title = _("乡镇")
        parameter_name = "region"

        def _townships(self, request: HttpRequest) -> QuerySet[Region]:
            return (
                roles.region_scope(request_user(request))
                .filter(level=Region.Level.TOWNSHIP)
                .order_by("code")
            )

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(region.code, region.name) for region in self._townships(request)]

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            if not self.value():
                return queryset
            township = self._townships(request).filter(code=self.value()).first()
            if township is None:
                return queryset.none()
            return queryset.filter(**{f"{region_lookup}__path__startswith": township.path})

    return TownshipFilter


# --- clues --------------------------------------------------------------------------------------


@admin.register(Clue)
class ClueAdmin(MonitoringCaseAdmin):
    """风险线索 of every channel, as the inbox holds them."""

    region_lookup = "region"
    list_display = [
        "received_on",
        "channel",
        "department",
        "region",
        "household",
        "name",
        "id_number_masked",
        "risk_type",
        "state",
        "verify_due",
        "decide_due",
    ]
    list_filter = [
        "state",
        "channel",
        "department",
        "risk_type",
        "via_hotline",
        township_filter("region"),
    ]
    search_fields = ["household__number", "name"]
    search_help_text = _("按户编号、姓名或完整身份证号码搜索")
    list_select_related = ["region", "household"]
    date_hierarchy = "received_on"
    fields = [
        "channel",
        "via_hotline",
        "department",
        "source_list",
        "source_row",
        "region",
        "household",
        "member",
        "name",
        "id_number_masked",
        "phone_masked",
        "risk_type",
        "difficulty_masked",
        "amount",
        "details_masked",
        "received_on",
        "accepted_on",
        "verify_due",
        "decide_due",
        "state",
        "duplicate_of",
        "verified_on",
        "verified_by",
        "verification_note_masked",
        "decided_on",
        "decided_by",
        "result_reason",
        "monitoring_object",
        "created_by",
        "created_at",
        "version",
    ]

    @admin.display(description=_("身份证号"))
    def id_number_masked(self, clue: Clue) -> str:
        return mask(clue.id_number)

    @admin.display(description=_("手机号"))
    def phone_masked(self, clue: Clue) -> str | None:
        return mask(clue.phone) or None

    @admin.display(description=_("家庭困难情况"))
    def difficulty_masked(self, clue: Clue) -> str | None:
        return _masked_text(clue.difficulty)

    @admin.display(description=_("部门数据"))
    def details_masked(self, clue: Clue) -> str | None:
        return _masked_json(clue.details)

    @admin.display(description=_("核实情况"))
    def verification_note_masked(self, clue: Clue) -> str | None:
        return _masked_text(clue.verification_note)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        number = normalise_id_number(search_term.strip())
        if len(number) == 18:
            # Exact only: the column is encrypted, found by its blind index.
            found = found | queryset.filter(id_number_index=blind_index(number))
        return found, duplicates


# --- monitoring objects -------------------------------------------------------------------------


class ObjectRiskInline(RoleInline):
    """The object's risks, each with its resolution (shown with the object, never apart)."""

    area = Area.CASE
    model = ObjectRisk
    extra = 0
    fields = ["risk_type", "note", "resolved_on"]
    readonly_fields = ["risk_type", "note", "resolved_on"]


@admin.register(MonitoringObject)
class MonitoringObjectAdmin(MonitoringCaseAdmin):
    """监测对象, from identification to 风险消除, with their risks."""

    region_lookup = "household__village"
    list_display = [
        "household",
        "village",
        "object_type",
        "state",
        "risk_list",
        "clue_date",
        "identified_on",
        "green_channel",
        "no_labour_capacity",
        "elimination_way",
        "eliminated_on",
    ]
    list_filter = [
        "state",
        "object_type",
        "risks__risk_type",
        "elimination_way",
        "green_channel",
        "no_labour_capacity",
        township_filter("household__village"),
    ]
    search_fields = ["household__number"]
    list_select_related = ["household__village"]
    inlines = [ObjectRiskInline]
    fields = [
        "household",
        "object_type",
        "state",
        "clue_date",
        "identified_on",
        "identification",
        "assessment",
        "consent_state",
        "consent_signed_on",
        "green_channel",
        "green_channel_reason",
        "no_labour_capacity",
        "elimination_way",
        "eliminated_on",
        "elimination_basis",
        "elimination",
        "note",
        "created_by",
        "created_at",
        "version",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("risks")

    @admin.display(description=_("村"), ordering="household__village__code")
    def village(self, item: MonitoringObject) -> str:
        return item.household.village.name

    @admin.display(description=_("风险类型"))
    def risk_list(self, item: MonitoringObject) -> str | None:
        return _labels([risk.risk_type for risk in item.risks.all()], RiskType.choices)

    @admin.display(description=_("承诺授权书"))
    def consent_state(self, item: MonitoringObject) -> str | None:
        # A stored file has no URL: the file door serves it on the object's page.
        return str(_("已上传")) if item.consent else None


@admin.register(IncomeAssessment)
class IncomeAssessmentAdmin(MonitoringCaseAdmin):
    """收入核算 by the one income method monitoring and 低保 share."""

    region_lookup = "household__village"
    list_display = [
        "household",
        "period_start",
        "period_end",
        "persons",
        "net_income",
        "per_capita",
        "line",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = [township_filter("household__village")]
    search_fields = ["household__number"]
    list_select_related = ["household", "recorded_by"]
    date_hierarchy = "period_end"
    readonly_fields = ["recorded_at"]


# --- department lists and exclusion scrutiny -----------------------------------------------------


@admin.register(DepartmentList)
class DepartmentListAdmin(MonitoringCaseAdmin):
    """Lists pushed by the departments, with their counts and state."""

    region_lookup = "county"
    list_display = [
        "uploaded_at",
        "department",
        "purpose",
        "layout_label",
        "period",
        "file_name",
        "state",
        "rows_total",
        "rows_matched",
        "rows_unmatched",
        "rows_duplicate",
        "rows_below",
        "uploaded_by",
    ]
    list_filter = ["department", "purpose", "state", "layout"]
    search_fields = ["file_name", "period"]
    list_select_related = ["uploaded_by"]
    fields = [
        "county",
        "department",
        "purpose",
        "layout",
        "layout_label",
        "period",
        "file_name",
        "state",
        "refusal_masked",
        "rows_total",
        "rows_matched",
        "rows_unmatched",
        "rows_duplicate",
        "rows_below",
        "job",
        "uploaded_by",
        "uploaded_at",
    ]

    @admin.display(description=_("名单名称"))
    def layout_label(self, item: DepartmentList) -> str:
        layout = layouts.get(item.layout)
        return str(layout.label) if layout else item.layout

    @admin.display(description=_("拒收原因"))
    def refusal_masked(self, item: DepartmentList) -> str | None:
        return _masked_text(item.refusal)


@admin.register(ScrutinyTask)
class ScrutinyTaskAdmin(MonitoringCaseAdmin):
    """剔除核查 tasks raised by the departments' lists."""

    region_lookup = "village"
    list_display = [
        "source_list",
        "source_row",
        "household",
        "member",
        "village",
        "cadre_relative",
        "state",
        "checked_result",
        "checked_on",
        "reviewed_on",
    ]
    list_filter = [
        "state",
        "cadre_relative",
        "checked_result",
        "source_list__department",
        township_filter("village"),
    ]
    search_fields = ["household__number", "member__name"]
    list_select_related = ["source_list", "household", "member", "village"]
    fields = [
        "source_list",
        "source_row",
        "household",
        "member",
        "village",
        "evidence_masked",
        "cadre_relative",
        "state",
        "finding_masked",
        "checked_by",
        "checked_on",
        "checked_result",
        "reviewed_by",
        "reviewed_on",
        "round_change",
        "version",
    ]

    @admin.display(description=_("比对证据"))
    def evidence_masked(self, task: ScrutinyTask) -> str | None:
        return _masked_json(task.evidence)

    @admin.display(description=_("核查情况"))
    def finding_masked(self, task: ScrutinyTask) -> str | None:
        return _masked_text(task.finding)


@admin.register(CadreRelation)
class CadreRelationAdmin(MonitoringCaseAdmin):
    """Members' registered relations to 村干部, 驻村干部 and 乡镇干部 (see the module's note)."""

    region_lookup = "member__household__village"
    list_display = [
        "member",
        "household_number",
        "village",
        "cadre_name",
        "cadre_post",
        "relation",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["cadre_post", township_filter("member__household__village")]
    search_fields = ["member__household__number", "member__name", "cadre_name"]
    list_select_related = ["member__household__village", "recorded_by"]
    fields = ["member", "cadre_name", "cadre_post", "relation", "recorded_by", "recorded_at"]

    @admin.display(description=_("户编号"), ordering="member__household__number")
    def household_number(self, item: CadreRelation) -> str:
        return item.member.household.number

    @admin.display(description=_("村"))
    def village(self, item: CadreRelation) -> str:
        return item.member.household.village.name


# --- the 集中排查 -------------------------------------------------------------------------------


@admin.register(Sweep)
class SweepAdmin(MonitoringCaseAdmin):
    """The county's yearly 集中排查, with its households and how many are still pending."""

    region_lookup = "county"
    list_display = [
        "name",
        "county",
        "year",
        "start_date",
        "end_date",
        "line",
        "state",
        "household_count",
        "pending_count",
        "closed_at",
    ]
    list_filter = ["state", "year"]
    search_fields = ["name"]
    list_select_related = ["county"]
    fields = [
        "county",
        "year",
        "name",
        "start_date",
        "end_date",
        "line",
        "group_labels",
        "state",
        "created_by",
        "created_at",
        "closed_at",
        "version",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                household_total=Count("households"),
                pending_total=Count(
                    "households", filter=Q(households__state=SweepHousehold.State.PENDING)
                ),
            )
        )

    @admin.display(description=_("排查户数"), ordering="household_total")
    def household_count(self, sweep: Any) -> int:
        return sweep.household_total

    @admin.display(description=_("待排查户数"), ordering="pending_total")
    def pending_count(self, sweep: Any) -> int:
        return sweep.pending_total

    @admin.display(description=_("重点群体"))
    def group_labels(self, sweep: Sweep) -> str | None:
        return _labels(sweep.priority_groups, PriorityGroup.choices)


@admin.register(SweepTeam)
class SweepTeamAdmin(MonitoringCaseAdmin):
    """The two-person teams of the sweeps and their villages."""

    region_lookup = "sweep__county"
    list_display = [
        "name",
        "sweep",
        "first_member",
        "second_member",
        "village_names",
        "household_count",
    ]
    list_filter = [("sweep", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "first_member", "second_member"]
    list_select_related = ["sweep"]
    fields = ["sweep", "name", "first_member", "second_member", "village_names"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("villages")
            .annotate(household_total=Count("households"))
        )

    @admin.display(description=_("负责村"))
    def village_names(self, team: SweepTeam) -> str | None:
        names = sorted(team.villages.all(), key=lambda village: village.code)
        return "、".join(village.name for village in names) or None

    @admin.display(description=_("排查户数"), ordering="household_total")
    def household_count(self, team: Any) -> int:
        return team.household_total


class PriorityGroupFilter(admin.SimpleListFilter):
    title = _("重点群体")
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return PriorityGroup.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in PriorityGroup.values:
            return with_group(queryset, str(self.value()))
        return queryset


@admin.register(SweepHousehold)
class SweepHouseholdAdmin(MonitoringCaseAdmin):
    """Every household of a sweep and its 排查表 (visited, or why not)."""

    region_lookup = "village"
    list_display = [
        "household",
        "village",
        "sweep",
        "team",
        "state",
        "visited_on",
        "group_list",
        "risk_found",
        "skip_reason",
    ]
    list_filter = [
        ("sweep", admin.RelatedOnlyFieldListFilter),
        "state",
        "risk_found",
        PriorityGroupFilter,
        township_filter("village"),
    ]
    search_fields = ["household__number", "village__name"]
    list_select_related = ["household", "village", "sweep", "team"]
    fields = [
        "sweep",
        "household",
        "village",
        "group_list",
        "team",
        "state",
        "visited_on",
        "first_surveyor",
        "second_surveyor",
        "per_capita_income",
        "answers_masked",
        "risk_found",
        "risk_list",
        "note_masked",
        "skip_reason",
        "clue",
        "recorded_by",
        "version",
    ]

    @admin.display(description=_("重点群体"))
    def group_list(self, row: SweepHousehold) -> str | None:
        return _labels(row.groups, PriorityGroup.choices)

    @admin.display(description=_("发现的风险类型"))
    def risk_list(self, row: SweepHousehold) -> str | None:
        return _labels(row.risk_types, RiskType.choices)

    @admin.display(description=_("排查表"))
    def answers_masked(self, row: SweepHousehold) -> str | None:
        return _masked_json(row.answers)

    @admin.display(description=_("情况说明"))
    def note_masked(self, row: SweepHousehold) -> str | None:
        return _masked_text(row.note)
