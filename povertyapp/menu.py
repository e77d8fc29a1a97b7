"""The main menu: each entry is shown to exactly the users its page lets in.

Each entry names its page and the rule of `povertyapp/roles.py` that the page's view checks
(the view raises PermissionDenied when the same function says no), so the menu cannot offer a
page that answers 403: `tests/povertyapp/test_menu.py` opens every entry as every role and
checks both directions. A new menu entry names its view's rule here; the platform names the
domain apps' pages by URL name only, never importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from povertyapp import roles
from povertyapp.models import User


@dataclass(frozen=True)
class MenuEntry:
    url_name: str
    label: str | Promise
    allowed: Callable[[User], bool]


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("households:list", _("农户档案"), roles.has_case_access),
    MenuEntry("households:todo", _("待办事项"), roles.has_case_access),
    MenuEntry("households:batches", _("批量办理"), roles.has_case_access),
    MenuEntry("households:quality", _("问题数据"), roles.has_case_access),
    MenuEntry("dashboards:home", _("指标看板"), roles.can_view_dashboards),
    MenuEntry("rounds:list", _("动态调整"), roles.has_case_access),
    MenuEntry("years:signoff", _("年度签署"), roles.has_case_access_in_region),
    MenuEntry("years:edit-reviews", _("审定后修改"), roles.can_review),
    MenuEntry("assistance:index", _("帮扶工作"), roles.has_case_access),
    MenuEntry("monitoring:index", _("防返贫监测"), roles.has_case_access),
    MenuEntry("monitoring:clues", _("风险线索"), roles.has_case_access),
    MenuEntry("monitoring:scrutiny", _("剔除核查"), roles.sees_exclusion_scrutiny),
    MenuEntry("ledgers:index", _("台账"), roles.can_use_ledgers),
    MenuEntry("years:onboarding", _("上线准备"), roles.can_configure),
    MenuEntry("years:rollover", _("年度切换"), roles.can_configure),
    MenuEntry("households:national", _("国家系统"), roles.can_exchange_with_national_system),
    MenuEntry("inspections:campaigns", _("考核评估"), roles.has_case_access),
    MenuEntry("inspections:rectification-list", _("督查整改"), roles.has_case_access),
    MenuEntry("monitoring:department-home", _("部门名单结果"), roles.is_department),
    MenuEntry("monitoring:lists", _("部门名单"), roles.can_push_department_lists),
    # Onboarding a county (issue 16): the region tree, village-year data, resident teams.
    MenuEntry("households:import_regions", _("导入行政区划"), roles.can_configure),
    MenuEntry("households:import_village_years", _("导入村年度信息"), roles.can_configure),
    MenuEntry("households:import_resident_teams", _("导入驻村工作队"), roles.can_configure),
    # The three administrators (三权分立) each find their share first, then the admin site.
    MenuEntry("admin:povertyapp_user_changelist", _("账号管理"), roles.can_manage_accounts),
    MenuEntry("admin:povertyapp_accesslog_changelist", _("审计日志"), roles.can_read_audit_log),
    MenuEntry("admin:povertyapp_job_changelist", _("后台任务"), roles.can_watch_jobs),
    MenuEntry("admin:index", _("系统管理"), roles.can_open_admin),
)


@dataclass(frozen=True)
class MenuLink:
    url: str
    label: str | Promise
    current: bool


# The entries' URLs, reversed once per URLconf, script prefix and language: every page draws
# the menu, and reversing its 28 names cost a quarter of a millisecond of each request.
_urls: dict[tuple[Any, str, str | None, str], str] = {}


def _url(name: str) -> str:
    key = (get_urlconf(), get_script_prefix(), get_language(), name)
    url = _urls.get(key)
    if url is None:
        url = _urls[key] = reverse(name)
    return url


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs: Any) -> None:
    """A test's own URLconf (`override_settings(ROOT_URLCONF=...)`) reverses afresh."""
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _urls.clear()


def menu_for(user: User, path: str = "") -> list[MenuLink]:
    """The links of the menu `user` may open, in menu order (none for an anonymous user)."""
    if not user.is_authenticated:
        return []
    entries = [(_url(entry.url_name), entry) for entry in MENU if entry.allowed(user)]
    # The current entry is the nearest one above the page: /households/batches/ is under
    # /households/ too, and only 批量办理 is marked there.
    above = [url for url, _entry in entries if path.startswith(url)]
    nearest = max(above, key=len, default=None)
    return [MenuLink(url=url, label=entry.label, current=url == nearest) for url, entry in entries]


def menu_context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: `menu`, the current user's links (computed when used)."""
    user = getattr(request, "user", None)
    if user is None:
        return {"menu": []}
    return {"menu": SimpleLazyObject(lambda: menu_for(user, request.path))}
