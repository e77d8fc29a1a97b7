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

from django.utils import translation

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


def register_page_links(key: str, links: PageLinks, *, reads: PageReads | None = None) -> None:
    """Register an app's links on the household page (`links(household, *, user)`), with what
    they read about the household (`reads`, `register_page_reads`), if anything."""
    _page_links[key] = links
    if reads is not None:
        register_page_reads(key, reads)


# reads(): {name: expression}: what an app reads about the household on its page, each an
# expression over the household's row (a subquery on `OuterRef("pk")`), annotated onto the
# statement that reads the household (`selectors.household_page_get_for_user`) instead of a
# statement of the app's own. They pay only built once (`page_reads` keeps them): built per
# request, five such subqueries cost the page more Python than the four statements they
# replaced (docs/performance.md).
# Names carry the app's prefix (`monitoring_current_id`); the app's code reads them with
# `read_with_page`, and queries by itself when the household came another way.
PageReads = Callable[[], dict[str, Any]]

_page_reads: dict[str, PageReads] = {}


def register_page_reads(key: str, reads: PageReads) -> None:
    """Register what an app reads about the household on its page (`reads() -> {name: expr}`)."""
    _page_reads[key] = reads
    _built.clear()


# The expressions, built once: they depend on nothing of the request, and a queryset resolves
# (copies) an annotation before it compiles it, leaving the one given as it was. A new
# registration builds a new dict: a caller may keep what it built from the last one while
# it is the same object (`selectors.household_page_get_for_user`).
_built: list[dict[str, Any]] = []


def page_reads() -> dict[str, Any]:
    """Every registered read, by name, for the household page's own statement."""
    if not _built:
        built: dict[str, Any] = {}
        for key, reads in _page_reads.items():
            for name, expression in reads().items():
                if name in built:
                    raise ValueError(f"{key} reads {name!r}, which another app reads already")
                built[name] = expression
        _built.append(built)
    return _built[0]


MISSING = object()


def read_with_page(household: Household, name: str) -> Any:
    """The value read with the household page's statement (`page_reads`), or `MISSING` when
    the household was loaded another way (after a save, in a job): then read it afresh."""
    return household.__dict__.get(name, MISSING)


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
    _warnings_built.clear()


# The conditions, built once per day and language: they depend on the date and the labels on
# the reader's language, nothing else (a query resolves a copy of them, leaving them as given).
_warnings_built: dict[tuple[datetime.date, str | None], list[tuple[str, Any]]] = {}


def list_warnings(*, on: datetime.date) -> list[tuple[str, Any]]:
    """Every registered app's labelled conditions, in the order registered."""
    key = (on, translation.get_language())
    built = _warnings_built.get(key)
    if built is None:
        built = [pair for warnings in _list_warnings.values() for pair in warnings(on=on)]
        if len(_warnings_built) >= 8:  # yesterday's, or a language nobody reads now
            _warnings_built.clear()
        _warnings_built[key] = built
    return built


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
