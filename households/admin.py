from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import Combinable
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from households import sensitive_reads
from households.filters import HouseholdFilter
from households.identity import normalise_id_number
from households.models import Household, HouseholdEvent, Member, PovertyLine, ValueListItem
from povertyapp import roles
from povertyapp.admin import CaseReadOnlyAdmin, ConfigAdmin, SystemParameterAdmin
from povertyapp.http import request_user
from povertyapp.models import Region
from povertyapp.privacy import mask, shown

# The member inline's columns, all read-only: the inline neither adds, changes nor deletes.
MEMBER_INLINE_FIELDS: tuple[str, ...] = (
    "name",
    "relation",
    "id_shown",
    "sex",
    "birth_date",
    "education",
    "health_shown",
    "labour_skill",
    "is_active",
    "left_reason",
)


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    can_delete = False
    fields = MEMBER_INLINE_FIELDS
    readonly_fields = MEMBER_INLINE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request: HttpRequest | None = None

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        self.request = request
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("证件号码"))
    def id_shown(self, member: Member) -> str:
        return shown(request_user(self.request), member.id_number) if self.request else ""

    @admin.display(description=_("健康状况"))
    def health_shown(self, member: Member) -> str:
        if self.request and roles.can_view_sensitive(request_user(self.request)):
            return member.health
        return "***" if member.health else ""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff and roles.can_configure(request.user))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VillageFilter(admin.SimpleListFilter):
    title = _("乡镇")
    parameter_name = "township"

    def lookups(self, request: HttpRequest, model_admin: Any):
        townships = roles.region_scope(request_user(request)).filter(level=Region.Level.TOWNSHIP)
        return [(region.code, region.name) for region in townships]

    def queryset(self, request: HttpRequest, queryset: Any):
        if self.value():
            return HouseholdFilter({"region": self.value()}, queryset=queryset).qs
        return queryset


class MaskedHistoryChanges(HistoricalRecordContextHelper):
    """The admin's 历史 list of a household shows a changed bank account masked, to every
    role: the household page's 修改记录 tab is where the roles that may read it read it in
    full, with an access-log row (`sensitive_reads`)."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        if change.field == "bank_account":
            return mask(value) if value else value
        return super().prepare_delta_change_value(change, value)


@admin.register(Household)
class HouseholdAdmin(CaseReadOnlyAdmin, SimpleHistoryAdmin):
    scope_lookup = ""
    list_display = [
        "number",
        "village",
        "status",
        "main_cause",
        "poverty_attribute",
        "first_identified_year",
        "exit_year",
    ]
    list_filter = [VillageFilter, "status", "main_cause", "poverty_attribute"]
    search_fields = ["number"]
    search_help_text = _("按户编号、成员姓名或完整身份证号码搜索")
    inlines = [MemberInline]
    exclude = ["bank_account"]
    readonly_fields = ["bank_account_shown"]
    list_select_related = ["village"]
    history_list_display = ["status", "version"]

    @admin.display(description=_("银行账号"))
    def bank_account_shown(self, household: Household) -> str:
        return shown(request_user(self._request), household.bank_account)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        self._request = request
        return super().get_form(request, obj, change=change, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._request = request
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and isinstance(response, TemplateResponse):
            # The page shows the bank account and the members' ID numbers and health in full
            # to the county office (`bank_account_shown`, `MemberInline`).
            household = (response.context_data or {}).get("original")
            if household is not None:
                sensitive_reads.record_read(
                    request,
                    target="household",
                    object_id=household.pk,
                    fields=sensitive_reads.household_fields(household)
                    + sensitive_reads.member_fields(household.members.all()),
                    via="admin",
                )
        return response

    def get_historical_record_context_helper(self, request: HttpRequest, historical_record: Any):
        return MaskedHistoryChanges(self.model, historical_record)

    def render_history_view(
        self, request: HttpRequest, template: str, context: dict[str, Any], **kwargs: Any
    ) -> HttpResponse:
        if template == self.object_history_form_template and request.method == "GET":
            # A past version's page shows that version's bank account in full to the county
            # office (`bank_account_shown`): a read like the change page's.
            household = context.get("original")
            if household is not None:
                match = request.resolver_match
                sensitive_reads.record_read(
                    request,
                    target="household",
                    object_id=household.pk,
                    fields=sensitive_reads.household_fields(household),
                    via="admin_history",
                    version=match.kwargs.get("version_id") if match else None,
                )
        return super().render_history_view(request, template, context, **kwargs)

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        number = normalise_id_number(term)
        members = Member.objects.filter(household=OuterRef("pk"))
        # Q | Exists is a Q at run time; the stubs type it as Combinable.
        condition: Q | Combinable = Q(number__startswith=term) | Exists(
            members.filter(name__contains=term)
        )
        if len(number) == 18:
            # Exact only: the column is encrypted, found by its blind index.
            condition |= Exists(
                Member.objects.with_id_number(number).filter(household=OuterRef("pk"))
            )
        return queryset.filter(condition), False


@admin.register(HouseholdEvent)
class HouseholdEventAdmin(CaseReadOnlyAdmin):
    list_display = [
        "household",
        "kind",
        "from_status",
        "to_status",
        "effective_date",
        "round",
        "created_by",
    ]
    list_filter = ["kind", "round"]
    search_fields = ["household__number"]
    list_select_related = ["household", "round", "created_by"]


@admin.register(ValueListItem)
class ValueListItemAdmin(SystemParameterAdmin):
    """Value lists (代码表): a system parameter the system administrator keeps."""

    list_display = ["list", "label", "year_from", "year_to", "province", "position"]
    list_filter = ["list", "province"]
    search_fields = ["label"]
    list_editable = ["position"]


@admin.register(PovertyLine)
class PovertyLineAdmin(ConfigAdmin):
    list_display = ["year", "standard", "region", "amount", "monitoring_amount"]
    list_filter = ["standard"]
