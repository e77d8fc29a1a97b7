"""The home page's 工作台 (work desk): a column of panels the domain apps register.

The platform draws the page; what the desk shows is the apps' own: each registers its panels
from its `AppConfig.ready()` (the platform imports no domain app). A panel is a template
fragment and the function that gives it its values for the user; the page shows the panels the
user's role admits (`visible`: case roles unless the panel says otherwise), in `order`.

Most panels are a title over a few `Item`s — a count and the link to the filtered list that
shows exactly those items, scoped exactly like that list (the desk's tests open every link and
compare its count). `items_panel` builds such a panel over the shared template
`desk/items.html`. A link the user could not open (403) is never shown: a panel's function
returns only the items of lists the role may read.

The platform's own panels (`register_platform_panels`): the jobs the user started, and for the
administrators (三权分立) the admin pages their role opens.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from povertyapp import roles
from povertyapp.jobs import kind_label
from povertyapp.models import Job, User
from povertyapp.security import posture, second_factor

# How far back the desk lists the jobs a user started.
RECENT_JOB_DAYS = 7
RECENT_JOB_LIMIT = 5


@dataclass(frozen=True)
class Item:
    """One line of a panel: `count` things, and `url`, the list that shows exactly them (or,
    with `count` None, a page the user may act on). `late` marks a count past a deadline;
    `note` says the rule behind it (a deadline, a period)."""

    label: str
    url: str
    count: int | None = None
    late: bool = False
    note: str = ""


@dataclass(frozen=True)
class Panel:
    """A desk panel: `template` rendered with the page's context plus `context(user)` (as
    `desk`), for the users `visible(user)` admits (by default the case roles)."""

    key: str
    template: str
    context: Callable[[User], dict[str, Any]]
    order: int = 100
    visible: Callable[[User], bool] = roles.has_case_access


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    """Add (or, under the same key, replace) a panel of the desk."""
    _PANELS[panel.key] = panel
    return panel


def items_panel(
    *,
    key: str,
    title: Any,
    items: Callable[[User], list[Item]],
    order: int = 100,
    visible: Callable[[User], bool] = roles.has_case_access,
) -> Panel:
    """Register a panel that is a title over `items(user)` (shown only when there are items)."""
    return register(
        Panel(
            key=key,
            template="desk/items.html",
            context=lambda user: {"title": str(title), "items": items(user)},
            order=order,
            visible=visible,
        )
    )


def panels_for(user: User) -> list[tuple[Panel, dict[str, Any]]]:
    """The panels the user sees, in order, each with its values."""
    return [
        (panel, panel.context(user))
        for panel in sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.key))
        if panel.visible(user)
    ]


def items_for(user: User) -> list[Item]:
    """Every item of every panel the user sees (what the desk's tests walk)."""
    return [item for _panel, values in panels_for(user) for item in values.get("items", [])]


# --- the platform's own panels ----------------------------------------------------------------


def recent_jobs(user: User) -> dict[str, Any]:
    """The jobs the user started in the last `RECENT_JOB_DAYS` days (exports, imports, checks),
    newest first: each opens its progress page, which is its owner's (`jobs.job_get_for_user`)."""
    since = timezone.now() - datetime.timedelta(days=RECENT_JOB_DAYS)
    jobs = Job.objects.filter(created_by=user, created_at__gte=since).order_by(
        "-created_at", "-id"
    )[:RECENT_JOB_LIMIT]
    return {
        "jobs": [{"job": job, "label": kind_label(job.kind)} for job in jobs],
        "days": RECENT_JOB_DAYS,
    }


def has_recent_jobs_panel(user: User) -> bool:
    """Every signed-in account may have started a job (a case role's export, a department's
    upload, the county office's recount)."""
    return bool(user.is_authenticated and user.is_active)


def exempt(key: str) -> bool:
    """Whether this environment waives what the posture kind `key` counts (the demo's second
    factor, `DEMO_WITHOUT_SECOND_FACTOR`; production refuses the waiver)."""
    return key == "no_second_factor" and second_factor.demo_exempt()


def admin_items(user: User) -> list[Item]:
    """The admin pages each administrator of 三权分立 opens (their own share, no case data)."""
    items = []
    if roles.can_manage_accounts(user):
        accounts = reverse("admin:povertyapp_user_changelist")
        items.append(Item(label=_("账号与角色"), url=accounts))
        # What needs doing today (等保: locked, second factors owed, passwords expiring,
        # accounts about to be disabled), each counting exactly the list its link opens.
        for key in posture.KINDS:
            count = posture.accounts(key).count()
            items.append(
                Item(
                    label=posture.label(key),
                    url=f"{accounts}?security={key}",
                    count=count,
                    late=bool(count) and key != "dormant" and not exempt(key),
                    note=_("本环境免除双因素认证（演示）") if exempt(key) else "",
                )
            )
    if roles.can_read_audit_log(user):
        items.append(
            Item(label=_("审计日志"), url=reverse("admin:povertyapp_accesslog_changelist"))
        )
    if roles.can_watch_jobs(user):
        items.append(Item(label=_("后台任务"), url=reverse("admin:povertyapp_job_changelist")))
    return items


def is_administrator(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles.ADMIN_ROLES)


def register_platform_panels() -> None:
    """The platform's panels (called from `PovertyappConfig.ready()`)."""
    register(
        Panel(
            key="povertyapp.jobs",
            template="desk/jobs.html",
            context=recent_jobs,
            order=900,
            visible=has_recent_jobs_panel,
        )
    )
    items_panel(
        key="povertyapp.admin",
        title=gettext_lazy("管理工作"),
        items=admin_items,
        order=10,
        visible=is_administrator,
    )
