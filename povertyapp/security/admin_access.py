"""Who may do what in the admin site: 三权分立 (等保 2.0 level 3), by role, never by the per-user
permission tables of `django.contrib.auth`.

Every ModelAdmin of the project derives from `RoleAdmin` and names the `Area` its model belongs
to. `AREA_GRANTS` says, for each area, which role may view, add, change or delete there; a model
admin may narrow its area's grants (`role_grants`), never widen them past `AREA_ROLES`, the
separation the standard asks for:

- case data and its configuration (业务数据, 业务配置) belong to the county office; no
  administrator role ever sees them;
- system parameters (系统参数: value lists, the holiday calendar, jobs) belong to the system
  administrator;
- accounts, roles, regions of users and security settings (账号与安全) belong to the security
  administrator only;
- the audit log (审计日志) is read by the audit administrator only, and changed by nobody.

The break-glass account (a superuser, see `povertyapp.security.break_glass`) holds what any
role holds in each area, nothing more: it repairs, it does not rewrite history.
`tests/povertyapp/test_admin_roles.py` opens every admin as every role.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib import admin
from django.http import HttpRequest

from povertyapp.models import User
from povertyapp.security.admin_audit import AuditedAdmin

Role = User.Role

VIEW = frozenset({"view"})
EDIT = frozenset({"view", "add", "change"})
MANAGE = frozenset({"view", "add", "change", "delete"})
NOTHING: frozenset[str] = frozenset()


class Area(enum.StrEnum):
    CASE = "case"  # 业务数据: households, events, rounds, measures, projects, campaigns
    CASE_CONFIG = "case_config"  # 业务配置: poverty lines, matching rules, village years
    REGIONS = "regions"  # 行政区划: the tree every scope is cut from (read-only here)
    SYSTEM = "system"  # 系统参数: value lists, the holiday calendar, jobs
    ACCOUNTS = "accounts"  # 账号: users, their roles and regions
    SECURITY = "security"  # 安全设置: sign-in lockouts, tokens, second factors
    AUDIT = "audit"  # 审计日志


# The roles that may ever hold a grant in an area (the separation itself), and the most each
# may hold. A model admin's `role_grants` are cut to these.
AREA_ROLES: dict[Area, dict[str, frozenset[str]]] = {
    Area.CASE: {Role.COUNTY_OFFICER: VIEW},
    Area.CASE_CONFIG: {Role.COUNTY_OFFICER: MANAGE},
    Area.REGIONS: {
        Role.COUNTY_OFFICER: VIEW,
        Role.SYSTEM_ADMIN: VIEW,
        Role.SECURITY_ADMIN: VIEW,
    },
    Area.SYSTEM: {Role.SYSTEM_ADMIN: MANAGE, Role.COUNTY_OFFICER: VIEW},
    Area.ACCOUNTS: {Role.SECURITY_ADMIN: EDIT},
    Area.SECURITY: {Role.SECURITY_ADMIN: MANAGE},
    Area.AUDIT: {Role.AUDIT_ADMIN: VIEW},
}

# What each role holds in an area unless the model admin says otherwise.
AREA_GRANTS: dict[Area, dict[str, frozenset[str]]] = {
    Area.CASE: {Role.COUNTY_OFFICER: VIEW},
    Area.CASE_CONFIG: {Role.COUNTY_OFFICER: EDIT},
    Area.REGIONS: {
        Role.COUNTY_OFFICER: VIEW,
        Role.SYSTEM_ADMIN: VIEW,
        Role.SECURITY_ADMIN: VIEW,
    },
    Area.SYSTEM: {Role.SYSTEM_ADMIN: EDIT},
    Area.ACCOUNTS: {Role.SECURITY_ADMIN: EDIT},
    Area.SECURITY: {Role.SECURITY_ADMIN: VIEW},
    Area.AUDIT: {Role.AUDIT_ADMIN: VIEW},
}


def grants_of(area: Area, role_grants: Mapping[str, frozenset[str]] | None) -> dict[str, Any]:
    """The grants a model admin of `area` holds: its own (or the area's), cut to `AREA_ROLES`."""
    wanted = AREA_GRANTS[area] if role_grants is None else role_grants
    ceiling = AREA_ROLES[area]
    return {
        role: frozenset(perms) & ceiling[role]
        for role, perms in wanted.items()
        if role in ceiling and frozenset(perms) & ceiling[role]
    }


def permissions(
    area: Area, role_grants: Mapping[str, frozenset[str]] | None, user: Any
) -> frozenset[str]:
    """What `user` may do with a model of `area` in the admin (view, add, change, delete)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return NOTHING
    grants = grants_of(area, role_grants)
    if user.is_superuser:
        # The break-glass account: what any role may do here, nothing more.
        return frozenset().union(*grants.values()) if grants else NOTHING
    return grants.get(user.role, NOTHING)


class RoleAdmin(AuditedAdmin):
    """A ModelAdmin whose permissions come from its `area` (and optional `role_grants`); every
    change made through it is audited (`AuditedAdmin`)."""

    area: ClassVar[Area]
    role_grants: ClassVar[Mapping[str, frozenset[str]] | None] = None

    def role_permissions(self, request: HttpRequest) -> frozenset[str]:
        return permissions(self.area, self.role_grants, request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return "view" in self.role_permissions(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "view" in self.role_permissions(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return "add" in self.role_permissions(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "change" in self.role_permissions(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "delete" in self.role_permissions(request)


class RoleInline(admin.TabularInline):
    """An inline: the same rule as its parent's area."""

    area: ClassVar[Area]
    role_grants: ClassVar[Mapping[str, frozenset[str]] | None] = None

    def _perms(self, request: HttpRequest) -> frozenset[str]:
        return permissions(self.area, self.role_grants, request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "view" in self._perms(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "add" in self._perms(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "change" in self._perms(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "delete" in self._perms(request)


def unguarded_admins(site: admin.AdminSite | None = None) -> list[str]:
    """The models registered in the admin whose admin is not a `RoleAdmin` (a system check and
    a test refuse them: such an admin would fall back to Django's permission tables)."""
    site = site or admin.site
    return sorted(
        model._meta.label
        for model, model_admin in site._registry.items()
        if not isinstance(model_admin, RoleAdmin)
    )
