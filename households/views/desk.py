"""The home page's 工作台 panels of the registry (registered with `povertyapp.desk` by
`HouseholdsConfig`): the procedure steps due (DOMAIN's deadlines, `workflows.deadline_for`),
my cases waiting on others, the overdue cases a township or county supervises (by village),
the problem data to act on, and the households updated last. Every count is the count of the
filtered list it links to (`workflows.case_list`, the 问题数据 list by state)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from households import quality, selectors, workflows
from households.models import DataProblem
from povertyapp.desk import Item
from povertyapp.models import User

SUPERVISORS = (User.Role.TOWNSHIP_REVIEWER, User.Role.COUNTY_OFFICER)
# The villages listed by name under 辖区逾期案件 (the worst first); the total links to them all.
OVERDUE_VILLAGES_SHOWN = 8


def _todo_url(show: str, village_code: str = "") -> str:
    url = f"{reverse('households:todo')}?show={show}"
    return f"{url}&village={village_code}" if village_code else url


def case_items(user: User) -> list[Item]:
    """待我办理 (with the nearest deadline), of them 已逾期, my cases waiting on others; for a
    township or county the overdue cases of its area, in all and by village."""
    if workflows.user_level(user) is None:
        return []
    today = timezone.localdate()
    mine = workflows.case_list(user, "mine", today).aggregate(
        count=Count("pk"), nearest=Min("deadline")
    )
    late = workflows.case_list(user, "late", today).count()
    waiting = workflows.case_list(user, "waiting", today).count()
    nearest = mine["nearest"]
    items = [
        Item(
            label=_("待我办理的程序步骤"),
            url=_todo_url("mine"),
            count=mine["count"],
            note=(
                _("最近期限%(date)s") % {"date": date_format(nearest, "Y-m-d")}
                if nearest and mine["count"]
                else ""
            ),
        ),
        Item(label=_("其中已逾期"), url=_todo_url("late"), count=late, late=True),
        Item(label=_("我的案件（等待他人办理）"), url=_todo_url("waiting"), count=waiting),
    ]
    if user.role in SUPERVISORS:
        by_village = list(
            workflows.case_list(user, "overdue", today)
            .order_by()
            .values("household__village__code", "household__village__name")
            .annotate(count=Count("pk"))
            .order_by("-count", "household__village__code")
        )
        items.append(
            Item(
                label=_("辖区逾期案件"),
                url=_todo_url("overdue"),
                count=sum(row["count"] for row in by_village),
                late=True,
            )
        )
        items += [
            Item(
                label=row["household__village__name"],
                url=_todo_url("overdue", row["household__village__code"]),
                count=row["count"],
                late=True,
                note=_("逾期案件"),
            )
            for row in by_village[:OVERDUE_VILLAGES_SHOWN]
        ]
    return items


def problem_items(user: User) -> list[Item]:
    """问题数据: the village explains its open problems, the township reviews the explanations;
    the county sees both."""
    url = reverse("households:quality")
    counts = dict(
        quality.problem_list(user)
        .filter(state__in=[DataProblem.State.OPEN, DataProblem.State.EXPLAINED])
        .order_by()
        .values("state")
        .annotate(count=Count("pk"))
        .values_list("state", "count")
    )
    items = []
    if user.role in (User.Role.VILLAGE_CADRE, User.Role.COUNTY_OFFICER):
        items.append(
            Item(
                label=_("待处理问题数据"),
                url=f"{url}?state={DataProblem.State.OPEN}",
                count=counts.get(DataProblem.State.OPEN, 0),
            )
        )
    if user.role in SUPERVISORS:
        items.append(
            Item(
                label=_("待审核的问题说明"),
                url=f"{url}?state={DataProblem.State.EXPLAINED}",
                count=counts.get(DataProblem.State.EXPLAINED, 0),
            )
        )
    return items


def registry_items(user: User) -> list[Item]:
    """The desk's registry panel: my procedure steps and problem data (the roles that keep or
    review the registry; a helper's and an auditor's work is elsewhere)."""
    return [*case_items(user), *problem_items(user)]


def desk_counts(user: User) -> dict[str, Any]:
    """管辖范围内农户: the households of the user's scope (the registry's list), read from the
    counts the database keeps (`selectors.household_list_counts`: 88 county rows for a province,
    not a count of its households)."""
    return {
        "household_count": selectors.household_list_counts(user=user).total,
        # A helper (帮扶责任人) has no area: their scope is the households paired with them.
        "paired": user.role == User.Role.HELPER,
    }


def desk_recent(user: User) -> dict[str, Any]:
    """The eight households of the user's scope updated last."""
    return {"recent": selectors.household_list(user=user).order_by("-updated_at")[:8]}
