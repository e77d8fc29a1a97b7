"""The value lists' labels (致贫原因, 贫困户属性, 与户主关系 ...): national items plus a province's
own, valid in a year. Read by the forms, the imports, the services and the list's filters; a
module of its own below `selectors` and `filters`, which both read it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Q

from households.models import ValueList, ValueListItem
from povertyapp.models import Region, User


def value_lists(
    *,
    year: int,
    province: Region | None = None,
    province_code: str | None = None,
    lists: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """The value lists' labels valid in a year: national items plus the province's own (the
    province given as a region or by its code), every list or only `lists`."""
    items = ValueListItem.objects.filter(year_from__lte=year).filter(
        Q(year_to__isnull=True) | Q(year_to__gte=year)
    )
    if lists is not None:
        items = items.filter(list__in=list(lists))
    if province is not None:
        items = items.filter(Q(province__isnull=True) | Q(province=province))
    elif province_code:
        items = items.filter(Q(province__isnull=True) | Q(province__code=province_code))
    else:
        items = items.filter(province__isnull=True)
    labels: dict[str, list[str]] = defaultdict(list)
    for list_key, label in items.order_by("list", "position", "label").values_list("list", "label"):
        if label not in labels[list_key]:
            labels[list_key].append(label)
    return dict(labels)


LIST_FILTER_CHOICES_SECONDS = 300


def list_filter_choices(*, user: User, year: int) -> dict[str, list[str]]:
    """The labels the household list offers for 致贫原因 and 贫困户属性 (`value_lists` of the user's
    province). Cached for five minutes per province and year, keyed by the province's code (the
    first of the user's region path, so no query finds the province), so the list page does
    not read the value lists on every request: an edited value list shows in its filters
    within five minutes, while the forms read them afresh."""
    codes = [code for code in (user.region.path if user.region else "").split("/") if code]
    province_code = codes[0] if codes else ""
    key = f"households:list-filter-choices:{province_code}:{year}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    wanted = (ValueList.CAUSE, ValueList.POVERTY_ATTRIBUTE)
    choices: dict[str, list[str]] = {name: [] for name in wanted} | value_lists(
        year=year, province_code=province_code, lists=wanted
    )
    cache.set(key, choices, LIST_FILTER_CHOICES_SECONDS)
    return choices
