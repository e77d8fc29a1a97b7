"""退出规划: the planned exits by year and village and the progress against them (DOMAIN §4, §6).

A household's plan is the registry's `Household.planned_exit_year` (计划脱贫年度); a village's
出列 plan is `VillageYear.exit_year` (出列年度) of its latest year record. Progress for a
village and year Y: the households planned for Y, of them those exited by Y (on plan), those
exited later, those still poor (overdue once Y has passed); and every household that exited in
Y whatever its plan.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from assistance.selectors import rate
from households.models import Household
from povertyapp import roles
from povertyapp.models import Region, User, VillageYear

COUNTERS = ("planned", "on_plan", "late", "pending", "exited")


def _households(user: User, region: Region | None) -> Any:
    households = roles.household_scope(
        user, Household.objects.filter(status__in=Household.REGISTERED_STATUSES)
    ).order_by()
    if region is not None:
        households = households.filter(village__path__startswith=region.path)
    return households


def exit_progress(
    *, user: User, region: Region | None = None, year: int | None = None
) -> dict[str, Any]:
    """Per village and year: planned (计划脱贫), exited on plan (by the planned year), exited
    late, still poor (未脱贫; overdue when the year has passed), and exited in that year; the
    yearly totals over the villages; and each village's 出列 plan."""
    today = timezone.localdate()
    households = _households(user, region)
    cells: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    planned = households.filter(planned_exit_year__isnull=False)
    exited = Q(status=Household.Status.EXITED)
    for row in planned.values("village", "planned_exit_year").annotate(
        planned=Count("pk"),
        on_plan=Count("pk", filter=exited & Q(exit_year__lte=F("planned_exit_year"))),
        late=Count("pk", filter=exited & Q(exit_year__gt=F("planned_exit_year"))),
        pending=Count("pk", filter=~exited),
    ):
        cell = cells[(row["village"], row["planned_exit_year"])]
        for key in ("planned", "on_plan", "late", "pending"):
            cell[key] = row[key]
    for row in (
        households.filter(exited, exit_year__isnull=False)
        .values("village", "exit_year")
        .annotate(n=Count("pk"))
    ):
        cells[(row["village"], row["exit_year"])]["exited"] = row["n"]
    if year is not None:
        cells = defaultdict(
            lambda: dict.fromkeys(COUNTERS, 0),
            {key: value for key, value in cells.items() if key[1] == year},
        )
    villages = {
        v.pk: v
        for v in Region.objects.filter(pk__in={key[0] for key in cells}).select_related("parent")
    }
    rows = []
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for (village_id, cell_year), cell in sorted(
        cells.items(), key=lambda item: (villages[item[0][0]].code, item[0][1])
    ):
        rows.append(_row(village=villages[village_id], year=cell_year, cell=cell, today=today))
        for key in COUNTERS:
            totals[cell_year][key] += cell[key]
    return {
        "rows": rows,
        "years": [
            _row(village=None, year=cell_year, cell=cell, today=today)
            for cell_year, cell in sorted(totals.items())
        ],
        "villages": village_plans(user=user, region=region),
    }


def _row(*, village: Region | None, year: int, cell: dict[str, int], today: Any) -> dict[str, Any]:
    return {
        "village": village,
        "year": year,
        **cell,
        "overdue": cell["pending"] if year < today.year else 0,
        "rate": rate(Decimal(cell["on_plan"]), Decimal(cell["planned"])),
    }


def village_plans(*, user: User, region: Region | None = None) -> list[dict[str, Any]]:
    """The village 出列 plan: each village in scope with a planned 出列 year (its latest year
    record's), its households still poor and exited today, and whether it is due."""
    villages = roles.region_scope(user).filter(level=Region.Level.VILLAGE)
    if region is not None:
        villages = villages.filter(path__startswith=region.path)
    plans: dict[int, int] = {}
    for village_id, exit_year in (
        VillageYear.objects.filter(village__in=villages, exit_year__isnull=False)
        .order_by("village", "year")
        .values_list("village", "exit_year")
    ):
        if exit_year is not None:  # filtered above; the type does not know it
            plans[village_id] = exit_year  # the latest year record wins
    counts = {
        row["village"]: row
        for row in _households(user, region)
        .filter(village__in=list(plans))
        .values("village")
        .annotate(
            poor=Count("pk", filter=Q(status__in=Household.POOR_STATUSES)),
            exited=Count("pk", filter=Q(status=Household.Status.EXITED)),
        )
    }
    today = timezone.localdate()
    rows = []
    for village in villages.filter(pk__in=list(plans)).select_related("parent").order_by("code"):
        count = counts.get(village.pk, {"poor": 0, "exited": 0})
        rows.append(
            {
                "village": village,
                "exit_year": plans[village.pk],
                "poor": count["poor"],
                "exited": count["exited"],
                "due": plans[village.pk] <= today.year,
            }
        )
    return rows
