"""Admin site: the county office's configuration and registry browser; accounts for sysadmins.

Access follows the roles module, not Django's per-model permissions: the county office sees the
registry (read-only, scoped to its county) and configures value lists, lines and village years;
the system administrator manages accounts and sees no case data.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from povertyapp import files, roles
from povertyapp.http import request_user
from povertyapp.models import (
    AccessLog,
    CalendarDay,
    Job,
    Region,
    ResidentTeamMember,
    User,
    VillageYear,
)

admin.site.site_header = _("精准扶贫管理系统 · 管理后台")
admin.site.site_title = _("精准扶贫管理系统")


def _is_account_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.role == User.Role.SYSTEM_ADMIN)
    )


class CaseReadOnlyAdmin(admin.ModelAdmin):
    """Registry data in the admin: visible to the county office within its scope, read-only
    (writes go through the pages and API, which call the services)."""

    scope_lookup = "household"  # the relation to a household, or "" for households

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff and roles.can_configure(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if not self.scope_lookup:
            return roles.household_scope(request_user(request), queryset)
        return queryset.filter(roles.household_scope_q(request_user(request)))


class ConfigAdmin(admin.ModelAdmin):
    """Reference data the county office configures (value lists, lines, village years)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff and roles.can_configure(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    has_add_permission = has_view_permission
    has_change_permission = has_view_permission

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "role", "region", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name", "phone"]
    autocomplete_fields = ["region"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("角色与管辖区域"), {"fields": ("role", "region", "full_name", "unit", "post", "phone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("角色与管辖区域"), {"fields": ("role", "region", "full_name", "unit", "post", "phone")}),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_account_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_account_admin(request)

    has_add_permission = has_view_permission
    has_change_permission = has_view_permission

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, not deleted: history and events name their actors.
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(
            request.user.is_staff
            and (roles.can_configure(request.user) or _is_account_admin(request))
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("parent")
        if _is_account_admin(request):
            return queryset
        return queryset.filter(pk__in=roles.region_scope(request_user(request)).values("pk"))


class ResidentTeamInline(admin.TabularInline):
    model = ResidentTeamMember
    extra = 0


@admin.register(VillageYear)
class VillageYearAdmin(ConfigAdmin):
    list_display = [
        "village",
        "year",
        "registered_rural_population",
        "total_households",
        "is_poor_village",
        "exit_year",
        "condition",
        "first_secretary",
    ]
    list_filter = ["year", "is_poor_village", "condition"]
    search_fields = ["village__name", "village__code"]
    inlines = [ResidentTeamInline]
    raw_id_fields = ["village"]

    def get_queryset(self, request: HttpRequest):
        region = request_user(request).region
        return (
            super()
            .get_queryset(request)
            .filter(village__path__startswith=region.path if region else "-")
        )


@admin.register(CalendarDay)
class CalendarDayAdmin(ConfigAdmin):
    """The holiday calendar the working-day deadlines count with (放假 and 调休上班 days)."""

    list_display = ["date", "kind", "name"]
    list_filter = ["kind", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A day entered by mistake is removed; the calendar is reference data, not a case.
        return self.has_module_permission(request)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress", "total", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    # A stored file has no URL (the door serves it to the job's owner only): show its name.
    exclude = ["result_file"]
    readonly_fields = ["result_file_state"]

    @admin.display(description=_("结果文件"))
    def result_file_state(self, job: Job) -> str:
        if job.result_file:
            return files.original_name(job.result_file.name or "")
        if job.result_file_deleted_at:
            return _("已于%(when)s过期删除") % {
                "when": formats.date_format(
                    timezone.localtime(job.result_file_deleted_at), "DATETIME_FORMAT"
                )
            }
        return "—"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff and roles.can_configure(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(created_by__region=request_user(request).region)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "action", "target", "object_id", "ip_address"]
    list_filter = ["action", "target"]
    # A workbook found outside the system is traced by its SHA-256 to who downloaded it.
    search_fields = ["username", "object_id", "=sha256"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_account_admin(request) or bool(
            request.user.is_staff and roles.can_configure(request.user)
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
