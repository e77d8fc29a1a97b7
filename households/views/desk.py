"""The home page's 工作台 panels of the registry (registered with `povertyapp.desk` by
`HouseholdsConfig`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from households import selectors, workflows
from povertyapp.models import User


def desk_counts(user: User) -> dict[str, Any]:
    """管辖范围内农户, 待我办理 and the overdue cases (issue 13): my steps past their deadline,
    or, for a township or county, the overdue cases it supervises."""
    todo = workflows.todo_list(user)
    return {
        "household_count": selectors.household_list(user=user).count(),
        "todo_count": todo.count(),
        "overdue_count": (
            workflows.overdue_list(user).count()
            if user.role in (user.Role.TOWNSHIP_REVIEWER, user.Role.COUNTY_OFFICER)
            else todo.filter(deadline__lt=timezone.localdate()).count()
        ),
    }


def desk_recent(user: User) -> dict[str, Any]:
    """The eight households of the user's scope updated last."""
    return {"recent": selectors.household_list(user=user).order_by("-updated_at")[:8]}
