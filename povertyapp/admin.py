"""Admin site: one door for the county office and the three administrators (三权分立).

Access follows `povertyapp.security.admin_access`, by role, never Django's per-user permission
tables: the county office sees the registry (read-only, scoped to its county) and configures
poverty lines, matching rules and village years; the system administrator keeps value lists,
the holiday calendar and the jobs; the security administrator keeps accounts, their roles and
regions, and sign-in lockouts; the audit administrator reads the audit log. No administrator
sees case data.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from typing import Any

import xlsxwriter
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin
from axes.admin import AccessLogAdmin as AxesAccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_password_validators.password_history.models import (
    PasswordHistory,
    UserPasswordHistoryConfig,
)
from knox.models import AuthToken

from povertyapp import audit, audit_targets, files, roles
from povertyapp.http import request_user
from povertyapp.ledgers.layout import neutralise
from povertyapp.models import (
    AccessLog,
    BackupCodeDevice,
    CalendarDay,
    Job,
    Region,
    ResidentTeamMember,
    SecondFactorDevice,
    User,
    VillageYear,
)
from povertyapp.privacy import mask_text
from povertyapp.roles import STAFF_ROLES
from povertyapp.security import posture
from povertyapp.security.admin_access import MANAGE, VIEW, Area, RoleAdmin, RoleInline
from povertyapp.security.admin_audit import AuditedAdmin

__all__ = ["AuditedAdmin"]  # re-exported: the base every app's admin builds on

admin.site.site_header = _("精准扶贫管理系统 · 管理后台")
admin.site.site_title = _("精准扶贫管理系统")


class CaseReadOnlyAdmin(RoleAdmin):
    """Registry data in the admin: visible to the county office within its scope, read-only
    (writes go through the pages and API, which call the services). No administrator role
    sees it (三权分立: `povertyapp.security.admin_access`)."""

    area = Area.CASE
    scope_lookup = "household"  # the relation to a household, or "" for households

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if not self.scope_lookup:
            return roles.household_scope(request_user(request), queryset)
        return queryset.filter(roles.household_scope_q(request_user(request)))


class ConfigAdmin(RoleAdmin):
    """Case configuration the county office keeps (poverty lines, matching rules, standards,
    sponsors, village years): added and changed, not deleted."""

    area = Area.CASE_CONFIG


class SystemParameterAdmin(RoleAdmin):
    """System parameters the system administrator keeps (value lists, the holiday calendar)."""

    area = Area.SYSTEM


class SecurityPostureFilter(admin.SimpleListFilter):
    """安全状况: the accounts of one kind of `posture` (the security administrator's desk links
    each count here, so that the list holds exactly the accounts counted)."""

    title = _("安全状况")
    parameter_name = "security"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, posture.label(key)) for key in posture.KINDS]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in posture.KINDS:
            return queryset.filter(pk__in=posture.accounts(str(self.value())).values("pk"))
        return queryset


@admin.register(User)
class UserAdmin(RoleAdmin, DjangoUserAdmin):
    """Accounts: created, changed and disabled by the security administrator only. Every
    change of role, region, active or staff status is an audit row (`povertyapp.security.
    account_audit`), with the administrator who made it."""

    area = Area.ACCOUNTS
    list_display = ["username", "full_name", "role", "region", "is_active", "last_login"]
    list_filter = [SecurityPostureFilter, "role", "is_active"]
    search_fields = ["username", "full_name", "phone"]
    actions = ["unlock_accounts"]
    autocomplete_fields = ["region"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("角色与管辖区域"), {"fields": ("role", "region", "full_name", "unit", "post", "phone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("角色与管辖区域"), {"fields": ("role", "region", "full_name", "unit", "post", "phone")}),
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The break-glass account changes through `manage.py break_glass` only, and nobody
        # changes their own role or status (no self-promotion).
        if obj is not None and (obj.is_superuser or obj.pk == request.user.pk):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, not deleted: history and events name their actors.
        return False

    @admin.action(description=_("解除登录锁定"), permissions=["change"])
    def unlock_accounts(self, request: HttpRequest, queryset: Any) -> None:
        """Lift the sign-in locks of the selected accounts (not one's own, nor the break-glass
        account's), each with an audit row (`posture.unlock`)."""
        actor = request_user(request)
        unlocked = [
            user.username
            for user in queryset.exclude(pk=actor.pk).exclude(is_superuser=True)
            if posture.unlock(actor=actor, user=user)
        ]
        if unlocked:
            self.message_user(
                request,
                _("已解除%(count)d个账号的登录锁定：%(names)s。")
                % {"count": len(unlocked), "names": str(_("、")).join(unlocked)},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("所选账号均未处于登录锁定状态。"), messages.WARNING)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Superuser status is given by `manage.py break_glass` only, never by hand; the
        # permission tables are not used (roles decide), so they are not offered either.
        return ["is_superuser", "last_login", "date_joined"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        return [
            (name, {**options, "fields": _without_permission_tables(options["fields"])})
            for name, options in fieldsets
        ]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Staff status follows the role (the same rule as `povertyapp.services.user_create`).
        obj.is_staff = obj.role in STAFF_ROLES
        super().save_model(request, obj, form, change)


def _without_permission_tables(fields: Any) -> tuple[str, ...]:
    return tuple(
        field for field in fields if field not in {"groups", "user_permissions", "is_staff"}
    )


@admin.register(Region)
class RegionAdmin(RoleAdmin):
    """The region tree, read-only: the county office sees its subtree; the system and security
    administrators see all of it (to check the tree, and to give accounts their regions)."""

    area = Area.REGIONS
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("parent")
        user = request_user(request)
        if user.role in roles.ADMIN_ROLES or user.is_superuser:
            return queryset
        return queryset.filter(pk__in=roles.region_scope(user).values("pk"))


class ResidentTeamInline(RoleInline):
    area = Area.CASE_CONFIG
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
class CalendarDayAdmin(SystemParameterAdmin):
    """The holiday calendar the working-day deadlines count with (放假 and 调休上班 days): a
    system parameter, kept by the system administrator as each year's arrangement is published.
    A day entered by mistake is removed: the calendar is reference data, not a case."""

    role_grants = {User.Role.SYSTEM_ADMIN: MANAGE}

    list_display = ["date", "kind", "name"]
    list_filter = ["kind", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(Job)
class JobAdmin(RoleAdmin):
    """Jobs, read-only: the system administrator watches every job (kind, status, progress,
    times, errors) but not its parameters or results, which may name households; the county
    office sees the jobs of its county's users in full."""

    area = Area.SYSTEM
    role_grants = {User.Role.SYSTEM_ADMIN: VIEW, User.Role.COUNTY_OFFICER: VIEW}
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

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = list(super().get_exclude(request, obj) or [])
        if not roles.has_case_access(request_user(request)):
            excluded += ["parameters", "result"]
        return excluded

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("created_by")
        user = request_user(request)
        if not roles.has_case_access(user):
            return queryset
        region = user.region
        return queryset.filter(created_by__region__path__startswith=region.path if region else "-")


class LogRoleFilter(admin.SimpleListFilter):
    """The audit rows by the role their user held, named (the rows keep the code)."""

    title = _("角色")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(User.Role.choices)

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value():
            return queryset.filter(role=self.value())
        return queryset


@admin.register(AccessLog)
class AccessLogAdmin(RoleAdmin):
    """The audit trail, for the 审计管理员 only (三权分立: the system and security administrators
    and the county office do not read it): read-only, searchable, exported to a workbook and
    its hash chain verified here. Every read, export and verification is itself audited."""

    list_display = [
        "zoned_time",
        "username",
        "role_label",
        "ip_address",
        "action",
        "target_label",
        "object_id",
        "outcome",
        "reason",
        "request_id",
    ]
    list_filter = ["action", "outcome", LogRoleFilter, ("created_at", admin.DateFieldListFilter)]
    # A workbook found outside the system is traced by its SHA-256 to who downloaded it.
    search_fields = ["username", "target", "object_id", "=request_id", "ip_address", "=sha256"]
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/povertyapp/accesslog/change_list.html"

    area = Area.AUDIT

    @admin.display(description=_("对象"), ordering="target")
    def target_label(self, log: AccessLog) -> str:
        """The target in words, the stored text (what the search matches) on hover."""
        return format_html(
            '<span title="{}">{}</span>', log.target, audit_targets.label(log.target)
        )

    @admin.display(description=_("角色"), ordering="role")
    def role_label(self, log: AccessLog) -> str:
        """The role's name: a row keeps the role's code as it was when written."""
        return str(dict(User.Role.choices).get(log.role, log.role or "—"))

    @admin.display(description=_("时间"), ordering="created_at")
    def zoned_time(self, log: AccessLog) -> str:
        return timezone.localtime(log.created_at).strftime("%Y-%m-%d %H:%M:%S %z")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # nothing is done to audit rows, not even "delete selected"

    def get_urls(self) -> list[Any]:
        urls = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="povertyapp_accesslog_export",
            ),
            path(
                "verify/",
                self.admin_site.admin_view(self.verify_view),
                name="povertyapp_accesslog_verify",
            ),
        ]
        return urls + super().get_urls()

    def _filters(self, request: HttpRequest) -> dict[str, str]:
        return {key: mask_text(str(value)) for key, value in request.GET.items() if key != "p"}

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        if self.has_view_permission(request) and getattr(response, "status_code", 0) == 200:
            audit.record(
                AccessLog.Action.AUDIT,
                request=request,
                target="audit_log",
                reason=str(_("查阅审计日志")),
                detail={"filters": self._filters(request), "page": request.GET.get("p", "")},
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.has_view_permission(request) and getattr(response, "status_code", 0) == 200:
            audit.record(
                AccessLog.Action.AUDIT,
                request=request,
                target="audit_log",
                object_id=object_id,
                reason=str(_("查阅审计日志")),
            )
        return response

    def export_view(self, request: HttpRequest) -> FileResponse:
        """The rows the list shows (its search and filters), as a workbook written in constant
        memory to a temporary file."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("seq")
        handle = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, closed by it)
        count = _audit_workbook(handle, queryset)
        handle.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
        handle.seek(0)
        name = f"审计日志_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx"
        audit.record(
            AccessLog.Action.AUDIT,
            request=request,
            target="audit_log_export",
            reason=str(_("导出审计日志")),
            detail={"filters": self._filters(request), "rows": count, "file": name},
            sha256=digest.hexdigest(),
        )
        response = FileResponse(handle, content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = files.content_disposition(name)
        return response

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """校验完整性: walk the hash chain as `manage.py verify_audit` does (POST only)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        result = audit.verify()
        audit.record(
            AccessLog.Action.AUDIT,
            request=request,
            target="verify_audit",
            object_id=result.broken_id or "",
            outcome="ok" if result.ok else "failed",
            reason=result.message()[:255],
            detail={"rows": result.count, "via": "admin"},
        )
        if result.ok:
            messages.success(
                request,
                _("审计日志完整性校验通过：共%(count)s条，哈希链完整。") % {"count": result.count},
            )
        else:
            messages.error(
                request,
                _(
                    "审计日志完整性校验失败：第一处断链在编号%(id)s（链序号%(seq)s），%(problem)s。"
                    "请立即保全数据库与归档文件，并报告安全管理员。"
                )
                % {
                    "id": result.broken_id or "—",
                    "seq": result.broken_seq,
                    "problem": result.problem,
                },
            )
        return redirect("admin:povertyapp_accesslog_changelist")


# Roles replace Django's groups and permission tables: the groups admin would only mislead.
admin.site.unregister(Group)


VIEW_DELETE = frozenset({"view", "delete"})

# Sign-in lockouts (django-axes) are security settings: the security administrator reads the
# attempts and lockouts and lifts a lockout by deleting its attempt row.
for _model, _base in (
    (AccessAttempt, AccessAttemptAdmin),
    (AxesAccessLog, AxesAccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(
        _model,
        type(
            f"Security{_base.__name__}",
            (RoleAdmin, _base),
            {
                "area": Area.SECURITY,
                "role_grants": {
                    User.Role.SECURITY_ADMIN: VIEW_DELETE if _model is AccessAttempt else VIEW
                },
                # axes' 状态 column has no translatable name of its own.
                **(
                    {"status": admin.display(description=_("状态"))(_base.status)}
                    if _model is AccessAttempt
                    else {}
                ),
            },
        ),
    )


# Second-factor devices (django-otp): the security administrator sees who enrolled and resets
# a lost phone by deleting the device (the user enrols again at the next sign-in). django-otp's
# own admins show the TOTP secret and its QR code, and the backup codes' tokens in an inline:
# replaced by these, which show neither.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


class DeviceReadyFilter(admin.SimpleListFilter):
    """已启用: django-otp's `confirmed`, whose field has no translatable name."""

    title = _("已启用")
    parameter_name = "confirmed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("1", _("是")), ("0", _("否"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in ("0", "1"):
            return queryset.filter(confirmed=self.value() == "1")
        return queryset


class SecondFactorDeviceAdmin(RoleAdmin):
    """A device's owner, name and state, under Chinese names: django-otp's fields have none
    (`tests/povertyapp/test_admin_language.py`)."""

    area = Area.SECURITY
    role_grants = {User.Role.SECURITY_ADMIN: VIEW_DELETE}
    list_display = ["owner", "device_name", "ready"]
    list_filter = [DeviceReadyFilter]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__full_name"]
    fields = ["owner", "device_name", "ready"]
    readonly_fields = ["owner", "device_name", "ready"]

    @admin.display(description=_("用户"), ordering="user__username")
    def owner(self, device: Any) -> str:
        return str(device.user)

    @admin.display(description=_("设备名称"), ordering="name")
    def device_name(self, device: Any) -> str:
        return str(device.name)

    @admin.display(description=_("已启用"), boolean=True, ordering="confirmed")
    def ready(self, device: Any) -> bool:
        return bool(device.confirmed)


@admin.register(SecondFactorDevice)
class SecurityTOTPDeviceAdmin(SecondFactorDeviceAdmin):
    pass


@admin.register(BackupCodeDevice)
class SecurityStaticDeviceAdmin(SecondFactorDeviceAdmin):
    """Backup codes: how many are left unused, never a token (stored as digests, but still)."""

    list_display = [*SecondFactorDeviceAdmin.list_display, "unused_codes"]
    fields = [*SecondFactorDeviceAdmin.fields, "unused_codes"]
    readonly_fields = [*SecondFactorDeviceAdmin.readonly_fields, "unused_codes"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(unused_code_count=Count("token_set"))

    @admin.display(description=_("未使用的备用验证码"), ordering="unused_code_count")
    def unused_codes(self, device: BackupCodeDevice) -> int:
        return int(device.unused_code_count)


# The hashes of past passwords (django-password-validators) serve the reuse rule only.
admin.site.unregister(PasswordHistory)
admin.site.unregister(UserPasswordHistoryConfig)

# API tokens are listed and revoked by their owners (and revoked on password change and on
# disable: povertyapp.tokens); knox's own admin would show every user's tokens to the staff.
admin.site.unregister(AuthToken)


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUDIT_EXPORT_COLUMNS = (
    (_("链序号"), 8),
    (_("时间"), 26),
    (_("用户名"), 16),
    (_("角色"), 12),
    (_("IP地址"), 16),
    (_("操作"), 14),
    (_("对象"), 24),
    (_("对象说明"), 20),
    (_("对象编号"), 12),
    (_("结果"), 8),
    (_("原因"), 30),
    (_("请求编号"), 34),
    (_("详情"), 40),
    (_("文件SHA-256"), 20),
    (_("本条哈希"), 20),
)


def _audit_workbook(handle: Any, queryset: Any) -> int:
    """Write the rows to an xlsx in constant memory (XlsxWriter streams row by row); cell text
    is neutralised against formula injection as in every ledger. 对象 is the target as stored
    (the hash chain covers it), 对象说明 the same in words (`audit_targets.label`), as the list
    shows it."""
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet(str(_("审计日志")))
    bold = workbook.add_format({"bold": True})
    for column, (title, width) in enumerate(AUDIT_EXPORT_COLUMNS):
        sheet.set_column(column, column, width)
        sheet.write_string(0, column, str(title), bold)
    actions = dict(AccessLog.Action.choices)
    outcomes = dict(AccessLog.Outcome.choices)
    role_names = dict(User.Role.choices)
    targets: dict[str, str] = {}  # a few dozen targets over any number of rows
    count = 0
    for count, log in enumerate(queryset.iterator(chunk_size=2000), start=1):
        values = [
            str(log.seq),
            timezone.localtime(log.created_at).strftime("%Y-%m-%d %H:%M:%S %z"),
            log.username,
            str(role_names.get(log.role, log.role)),
            log.ip_address or "",
            str(actions.get(log.action, log.action)),
            log.target,
            targets.get(log.target)
            or targets.setdefault(log.target, audit_targets.label(log.target)),
            log.object_id,
            str(outcomes.get(log.outcome, log.outcome)),
            log.reason,
            log.request_id,
            json.dumps(log.detail, ensure_ascii=False, sort_keys=True) if log.detail else "",
            log.sha256,
            log.row_hash,
        ]
        for column, value in enumerate(values):
            sheet.write_string(count, column, neutralise(value))
    workbook.close()
    return count
