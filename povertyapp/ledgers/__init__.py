"""Excel ledgers (台账): the generic machinery. See docs/ledgers.md.

Each app declares its ledgers in its own `exports.py` with `@ledgers.register`; this package
finds them (`autodiscover_modules("exports")`), checks who may export what over which region,
writes the workbook (`layout`), streams small ones and runs large ones as jobs (`services`),
and logs every export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from povertyapp.ledgers.layout import Column, SheetSpec

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SheetsFunction = Callable[..., Sequence[SheetSpec]]


@dataclass(frozen=True)
class Ledger:
    """A ledger kind. `sheets(user=, filters=, sensitive_visible=)` builds its sheets;
    `available()` says whether its data exists in this deployment (else it is not offered).

    The ledger page has one filter form for every ledger: the `filter_form` of the first
    ledger (in `order`) that declares one, its fields starting from that ledger's
    `default_filters()` (e.g. 户台账's income year); a form that defines `offer_value_lists()`
    is asked to turn its fields of value-list labels into selects before the page draws it.
    `may_export(user)` narrows who may export it (the page offers it only to them)."""

    key: str
    title: str | StrPromise  # lazy: ledgers register at import, before a language is active
    sheets: SheetsFunction
    order: int = 100
    filter_form: Callable[..., Any] | None = None  # a django-filter FilterSet class
    available: Callable[[], bool] = lambda: True
    description: str | StrPromise = ""
    default_filters: Callable[[], dict[str, Any]] = dict
    # Who may export it, beyond the export roles (`roles.can_export`): e.g. the national
    # system's layouts are the county office's only (issue 16).
    may_export: Callable[[Any], bool] = lambda user: True


_LEDGERS: dict[str, Ledger] = {}
_discovered = False


def register(ledger: Ledger) -> Ledger:
    _LEDGERS[ledger.key] = ledger
    return ledger


def discover() -> None:
    """Import every app's `exports.py` and `imports.py`. Called lazily by the pages; the
    worker needs it at start-up (AppConfig.ready) so that the job kind `households_import` is
    registered there too. The export job (`ledger_export`, `povertyapp.ledgers.services`) is
    imported by `PovertyappConfig.ready`: the machinery below does not import its own job."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("exports", "imports")
        _discovered = True


def ledger_keys() -> list[str]:
    """Every registered ledger's key, available or not: read without the database (a command's
    help is built at import, before the database may exist)."""
    discover()
    return sorted(_LEDGERS)


def all_ledgers() -> list[Ledger]:
    discover()
    return sorted(
        (ledger for ledger in _LEDGERS.values() if ledger.available()),
        key=lambda ledger: (ledger.order, ledger.key),
    )


def index_filters() -> tuple[Any, dict[str, Any]]:
    """The ledger page's filter form (a FilterSet class, or None when no ledger declares one)
    and the values its fields start from. Every registered ledger counts, offered or not: the
    form does not change with the data of the deployment."""
    discover()
    for ledger in sorted(_LEDGERS.values(), key=lambda ledger: (ledger.order, ledger.key)):
        if ledger.filter_form is not None:
            return ledger.filter_form, ledger.default_filters()
    return None, {}


def ledger_get(key: str) -> Ledger | None:
    discover()
    ledger = _LEDGERS.get(key)
    return ledger if ledger is not None and ledger.available() else None


__all__ = [
    "Column",
    "Ledger",
    "SheetSpec",
    "all_ledgers",
    "discover",
    "index_filters",
    "ledger_get",
    "register",
]
