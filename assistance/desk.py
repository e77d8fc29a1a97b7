"""The home page's 工作台 panel of assistance (registered with `povertyapp.desk` by
`AssistanceConfig`): the households with work due — a visit this month, a measure overdue, no
plan this year (`selectors.households_due`) — for the helper (my households) and the village,
township and county (their area). Each count links to `/assistance/?due=...`, the list of
exactly those households."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance import selectors
from povertyapp import roles
from povertyapp.desk import Item
from povertyapp.models import User


def visible(user: User) -> bool:
    """The roles that record visits and measures, and the township that follows them; the
    auditor's work is the campaigns."""
    return roles.has_case_access(user) and user.role != User.Role.AUDITOR


def due_items(user: User) -> list[Item]:
    today = timezone.localdate()
    counts = selectors.due_counts(user=user, on=today)
    url = reverse("assistance:index")
    month_end = selectors.month_end(today)
    return [
        Item(
            label=_("本月应走访的户"),
            url=f"{url}?due=visit",
            count=counts["visit"],
            note=_("%(days)s天内未走访（截至%(date)s）")
            % {"days": selectors.VISIT_INTERVAL_DAYS, "date": month_end.isoformat()},
        ),
        Item(
            label=_("有逾期未完成措施的户"),
            url=f"{url}?due=measure",
            count=counts["measure"],
            late=True,
        ),
        Item(
            label=_("未制定今年一户一策的户"),
            url=f"{url}?due=plan",
            count=counts["plan"],
        ),
    ]


def register_desk_panels() -> None:
    from django.utils.translation import gettext_lazy

    from povertyapp import desk

    desk.items_panel(
        key="assistance.due",
        title=gettext_lazy("帮扶待办"),
        items=due_items,
        order=30,
        visible=visible,
    )
