"""What other apps add to the household page (户详情): the warning badge of their tab.

The page links to tabs that other apps own (帮扶, `assistance`) and shows, loaded by htmx after
the page, how many warnings each has. The registry imports none of those apps: each registers
its count from its `AppConfig.ready()` (`register_tab_warnings`), and a tab with nothing
registered shows no badge.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from households.models import Household, Member

# count(household, on=..., members=...): the household's members (every one, loaded with the
# page) are handed over so that the count need not read them again.
WarningCount = Callable[..., int]

_tab_warnings: dict[str, WarningCount] = {}


def register_tab_warnings(tab: str, count: WarningCount) -> None:
    """Register the warning count of a tab (`count(household, *, on, members) -> int`)."""
    _tab_warnings[tab] = count


def tab_warnings(
    tab: str, household: Household, *, on: datetime.date, members: Iterable[Member]
) -> int:
    """The tab's warning count for the household; 0 when no app registered one."""
    count = _tab_warnings.get(tab)
    if count is None:
        return 0
    return count(household, on=on, members=members)
