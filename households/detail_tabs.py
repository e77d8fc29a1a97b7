"""What other apps add to the household page (户详情): the warning badge of their tab, and
links to their own pages about the household (monitoring: 识别为监测对象, 收入核算).

The page links to tabs that other apps own (帮扶, `assistance`) and shows, loaded by htmx after
the page, how many warnings each has. The registry imports none of those apps: each registers
its count from its `AppConfig.ready()` (`register_tab_warnings`), and a tab with nothing
registered shows no badge.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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


# links(household, *, user): the (label, url) pairs an app offers on the household's page for
# this user (empty: none), e.g. monitoring's 识别为监测对象 and 收入核算.
PageLinks = Callable[..., list[tuple[str, str]]]

_page_links: dict[str, PageLinks] = {}


def register_page_links(key: str, links: PageLinks) -> None:
    """Register an app's links on the household page (`links(household, *, user)`)."""
    _page_links[key] = links


def page_links(household: Household, *, user: Any) -> list[tuple[str, str]]:
    """Every registered app's links for the household and user, in the order registered."""
    return [link for links in _page_links.values() for link in links(household, user=user)]


# warnings(*, on): [(label, condition), ...]: what an app warns of on the household list, each
# a boolean condition on a household row (a `Q`, or an `Exists` over `OuterRef("pk")`) with its
# label in the reader's language. The list evaluates every condition in the one statement that
# reads its page's rows (`selectors.household_list_rows`): no statement of an app's own,
# whatever the page's size.
ListWarnings = Callable[..., list[tuple[str, Any]]]

_list_warnings: dict[str, ListWarnings] = {}


def register_list_warnings(key: str, warnings: ListWarnings) -> None:
    """Register what an app warns of on the household list's line of warnings (the phone's
    card and the desktop's 提示 column): `warnings(*, on)`, its labelled conditions.
    Registering the same key again replaces it (`ready()` may run more than once)."""
    _list_warnings[key] = warnings


def list_warnings(*, on: datetime.date) -> list[tuple[str, Any]]:
    """Every registered app's labelled conditions, in the order registered."""
    return [pair for warnings in _list_warnings.values() for pair in warnings(on=on)]


# The household page's 照片 section: the field photos of the apps above (the visits' photos,
# `assistance`) and of the registry's own procedure steps, each with the file kind that serves
# it inline through the door (`povertyapp.files`).
@dataclass(frozen=True)
class Photo:
    kind: str  # the file kind (`povertyapp.files.register(..., image=True)`)
    record: Any  # a `povertyapp.photos.PhotoBase` row
    caption: str


PhotoSource = Callable[[Household], list[Photo]]

_photo_sources: dict[str, PhotoSource] = {}


def register_photos(key: str, source: PhotoSource) -> None:
    """Register an app's photos of a household (`source(household) -> [Photo]`). The page
    shows them only to a user who may see the household (its own access path)."""
    _photo_sources[key] = source


def household_photos(household: Household) -> list[Photo]:
    """Every registered app's photos of the household, in the order registered."""
    return [photo for source in _photo_sources.values() for photo in source(household)]
