"""Hooks through which apps above the registry take part in its writes.

The registry's services (`households.services`) must not import the apps built on top of
them. Two concerns of the 动态调整 rounds reach into every registry write, so the rounds app
fills these registries from its `AppConfig.ready()` instead:

- **Edit checks.** Before a household or its members are edited, the services call every
  registered check as `check(household=household)`; a check refuses the edit by raising a
  `ValidationError` with a code (the county's decision on a village's round locks the
  village's households: `round_under_approval`). With no check registered, every edit passes.
- **The round provider.** A change made while the county has an open round belongs to that
  round: its event is stamped with it (`open_round_for`). When an approved line of a round is
  applied, the services lock that round's row again and refuse if it was closed meanwhile
  (`round_lock`, `round_is_open`). With no provider registered there is no round: events get
  `round=None`, and a caller that passes a round anyway is a programming error.

A round is typed as a plain `models.Model`: the registry stores it in its events' `round`
foreign key and hands it back to the provider, and never reads its fields itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db import models

    from households.models import Household
    from povertyapp.models import Region

EditCheck = Callable[..., None]
"""Called as `check(household=household)`; raises ValidationError to refuse the edit."""


@dataclass(frozen=True)
class RoundProvider:
    """How the registry finds and locks a county's 动态调整 round (the rounds app provides it)."""

    open_round_for: Callable[[Region], models.Model | None]
    """The open round of the county a region belongs to, or None."""
    round_lock: Callable[[models.Model], models.Model]
    """The round read again with its row locked (select_for_update) for this transaction."""
    round_is_open: Callable[[models.Model], bool]
    """Whether changes may still be recorded in the round."""


_edit_checks: list[EditCheck] = []
_round_provider: RoundProvider | None = None


def register_edit_check(check: EditCheck) -> None:
    """Call `check(household=...)` before every edit of a household or its members.
    Registering the same function again is a no-op (`ready()` may run more than once)."""
    if check not in _edit_checks:
        _edit_checks.append(check)


def unregister_edit_check(check: EditCheck) -> None:
    """Take a check out again (tests); a check not registered is ignored."""
    if check in _edit_checks:
        _edit_checks.remove(check)


def edit_check(*, household: Household) -> None:
    """Run every registered edit check, in the order registered; the first refusal raises."""
    for check in list(_edit_checks):
        check(household=household)


def register_round_provider(provider: RoundProvider | None) -> RoundProvider | None:
    """Install the round provider (None removes it); returns the one it replaces, so that a
    test can put it back."""
    global _round_provider
    previous, _round_provider = _round_provider, provider
    return previous


def open_round_for(region: Region) -> models.Model | None:
    """The round a change in `region` is recorded in: the open round of its county, or None
    (also when no provider is registered)."""
    if _round_provider is None:
        return None
    return _round_provider.open_round_for(region)


def round_lock(round: models.Model) -> models.Model:
    """`round` read again with its row locked. Only callers that hold a round call this, and a
    round exists only when a provider is registered."""
    if _round_provider is None:
        raise RuntimeError("a round was given but no round provider is registered")
    return _round_provider.round_lock(round)


def round_is_open(round: models.Model) -> bool:
    """Whether `round` still takes changes (see `round_lock` for when a provider is needed)."""
    if _round_provider is None:
        raise RuntimeError("a round was given but no round provider is registered")
    return _round_provider.round_is_open(round)


# --- Region merges (撤并) ------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeFollower:
    """How the rows of one concern follow a unit merged into another (`import_regions`' 撤并).

    `check(former=, into=, date=)` returns the reasons (translated sentences) the merge cannot
    be made (`into` is None when the survivor is created by the same file, so it has no rows
    yet); `move(former=, into=, date=)` moves the live rows that point at `former` to `into`
    and returns {what: count} for the import's report. Rows that record what was (a past
    round's baseline, snapshots, samples) stay with the former unit, which is ended, not
    deleted."""

    check: Callable[..., list[str]]
    move: Callable[..., dict[str, int]]


_merge_followers: dict[str, MergeFollower] = {}


def register_merge_follower(name: str, follower: MergeFollower) -> None:
    """Register (or replace) the follower `name` (from an `AppConfig.ready()`)."""
    _merge_followers[name] = follower


def merge_followers() -> list[MergeFollower]:
    return [_merge_followers[name] for name in sorted(_merge_followers)]
