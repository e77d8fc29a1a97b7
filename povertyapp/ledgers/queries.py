"""Helpers for ledgers over other apps' records: scope, region and year filters, row mapping.

A ledger over household-linked records (measures, pairings, findings...) is scoped with
`roles.household_scope_q` through the relation to the household; one over regional records
(projects, rectification items) with the user's region subtree. Both take the same `region`
(code, checked in scope by the export service) and `year` filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

from povertyapp import roles
from povertyapp.models import Region, User


def _region(filters: dict[str, Any]) -> Region | None:
    code = filters.get("region")
    return Region.objects.filter(code=code).first() if code else None


def _year(filters: dict[str, Any]) -> int | None:
    try:
        year = int(filters.get("year") or 0)
    except (TypeError, ValueError):
        return None
    return year if 2010 <= year <= 2100 else None


def household_linked(
    queryset: QuerySet,
    *,
    user: User,
    filters: dict[str, Any],
    household: str = "household",
    year_field: str | None = None,
) -> QuerySet:
    """Records reached through a household relation, within the user's scope and filters."""
    if household == "household":
        queryset = queryset.filter(roles.household_scope_q(user))
    elif not roles.has_case_access(user) or user.region is None or user.role == User.Role.HELPER:
        return queryset.none()
    else:
        queryset = queryset.filter(**{f"{household}__village__path__startswith": user.region.path})
    region = _region(filters)
    if region is not None:
        queryset = queryset.filter(**{f"{household}__village__path__startswith": region.path})
    year = _year(filters)
    if year is not None and year_field:
        queryset = queryset.filter(**{year_field: year})
    return queryset


def region_linked(
    queryset: QuerySet,
    *,
    user: User,
    filters: dict[str, Any],
    region_field: str = "region",
    year_field: str | None = None,
) -> QuerySet:
    """Records attached to a region, within the user's region subtree and filters."""
    if not roles.has_case_access(user) or user.region is None:
        return queryset.none()
    queryset = queryset.filter(**{f"{region_field}__path__startswith": user.region.path})
    region = _region(filters)
    if region is not None:
        queryset = queryset.filter(**{f"{region_field}__path__startswith": region.path})
    year = _year(filters)
    if year is not None and year_field:
        queryset = queryset.filter(**{year_field: year})
    return queryset


def rows_from(
    queryset: QuerySet,
    fields: Sequence[str],
    transform: Callable[[tuple[Any, ...]], Sequence[Any]] | None = None,
    chunk: int = 2000,
) -> Iterator[Sequence[Any]]:
    for row in queryset.values_list(*fields).iterator(chunk_size=chunk):
        yield transform(row) if transform is not None else row


def choice_label(choices: Any) -> Callable[[str], str]:
    labels = {value: str(label) for value, label in choices}
    return lambda value: labels.get(value, value)
