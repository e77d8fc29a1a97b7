"""The home page's 工作台 (work desk): a column of panels the domain apps register.

The platform draws the page and knows who may see case data (`roles.has_case_access`); what
the desk shows — counts of households, 待办 and overdue cases, the households updated last — is
the apps' own: each registers a panel from its `AppConfig.ready()` (`households` registers the
counts and the recent households). A panel is a template fragment (`templates/<app>/desk/...`)
and the function that gives it its values for the user; the page shows the panels in `order`.
With nothing registered a case user sees the page's title only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from povertyapp.models import User


@dataclass(frozen=True)
class Panel:
    """A desk panel: `template` rendered with the page's context plus `context(user)`, for the
    users `visible(user)` admits (case roles only: the page shows panels to no one else)."""

    key: str
    template: str
    context: Callable[[User], dict[str, Any]]
    order: int = 100
    visible: Callable[[User], bool] = lambda user: True


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    """Add (or, under the same key, replace) a panel of the desk."""
    _PANELS[panel.key] = panel
    return panel


def panels_for(user: User) -> list[tuple[Panel, dict[str, Any]]]:
    """The panels the user sees, in order, each with its values."""
    return [
        (panel, panel.context(user))
        for panel in sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.key))
        if panel.visible(user)
    ]
