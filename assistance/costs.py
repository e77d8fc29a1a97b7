"""两笔账 (DOMAIN §6): the money invested per village and per household by source and type, and
the cost of exit per exited household, per village and for the county (min, max, mean).

Two kinds of money count: the projects' fund movements (支出, what was actually spent) and the
measures' own amounts (`Measure.amount` by `fund_source`). The rule that keeps a yuan from being
counted twice (docs/assistance.md, "两笔账"):

- per village (实施地点): every 支出 of the projects located there, plus the amounts of the
  measures of its households that are **not linked to a project** (a linked measure's money is
  part of its project's spending, already counted where the project is);
- per household: the project 支出 that names the household (到户), plus the amounts of its
  measures, **except** a measure linked to a project whose 到户 支出 already names this household
  (that money is in the movement); a measure linked to a project with no 到户 movement for the
  household counts for the household, since nothing else traces the money to it;
- cancelled measures and measures without an amount count nowhere; a measure without a fund
  source counts as 其他.

The cost of exit of an exited household is its household total; of a village, the statistics
over its exited households (and, for villages that have 出列, the village total); of the county,
the statistics over every exited household in scope. Exited households with no money recorded
are counted apart, never as a cost of 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum

from assistance.models import FundMovement, FundSource, Measure
from assistance.selectors import project_list
from households.models import Household
from povertyapp import roles
from povertyapp.models import Region, User, VillageYear

CENT = Decimal("0.01")
ZERO = Decimal("0")
SPENT = FundMovement.Kind.SPENT


@dataclass
class Stats:
    """Minimum, maximum, mean (to the cent, ROUND_HALF_UP) and total of some amounts."""

    count: int = 0
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    mean: Decimal | None = None
    total: Decimal = field(default_factory=lambda: Decimal("0"))


def stats(values: list[Decimal]) -> Stats:
    if not values:
        return Stats()
    total = sum(values, ZERO)
    return Stats(
        len(values),
        min(values),
        max(values),
        (total / len(values)).quantize(CENT, ROUND_HALF_UP),
        total,
    )


@dataclass
class Line:
    """Money of one place or household from one source for one type (项目类别 or 措施类别)."""

    source: str
    category: str
    projects: Decimal = ZERO
    measures: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.projects + self.measures


@dataclass
class Account:
    """The money of a village (实施地点) or a household, line by line."""

    lines: dict[tuple[str, str], Line] = field(default_factory=dict)

    def add(
        self, source: str, category: str, *, projects: Decimal = ZERO, measures: Decimal = ZERO
    ):
        line = self.lines.setdefault((source, category), Line(source, category))
        line.projects += projects
        line.measures += measures

    @property
    def projects(self) -> Decimal:
        return sum((line.projects for line in self.lines.values()), ZERO)

    @property
    def measures(self) -> Decimal:
        return sum((line.measures for line in self.lines.values()), ZERO)

    @property
    def total(self) -> Decimal:
        return self.projects + self.measures

    def sorted_lines(self) -> list[Line]:
        order = {value: index for index, value in enumerate(FundSource.values)}
        return sorted(
            self.lines.values(), key=lambda line: (order.get(line.source, 99), line.category)
        )


def _measures(user: User, region: Region | None) -> Any:
    measures = (
        Measure.objects.filter(roles.household_scope_q(user))
        .exclude(status=Measure.Status.CANCELLED)
        .filter(amount__gt=0)
    )
    if region is not None:
        measures = measures.filter(household__village__path__startswith=region.path)
    return measures.order_by()


def _projects(user: User, region: Region | None) -> Any:
    projects = project_list(user=user)
    if region is not None:
        projects = projects.filter(region__path__startswith=region.path)
    return projects


def village_accounts(*, user: User, region: Region | None = None) -> dict[Region, Account]:
    """Money invested per 实施地点 (a village, or the township or county of a project above
    the village), by source and type, in the user's scope (and under `region`)."""
    accounts: dict[int, Account] = defaultdict(Account)
    spent = (
        FundMovement.objects.filter(project__in=_projects(user, region), kind=SPENT)
        .order_by()
        .values_list("project__region", "source", "project__category")
        .annotate(total=Sum("amount"))
    )
    for region_id, source, category, total in spent:
        accounts[region_id].add(source, category, projects=total)
    unlinked = (
        _measures(user, region)
        .filter(project__isnull=True)
        .values_list("household__village", "fund_source", "category")
        .annotate(total=Sum("amount"))
    )
    for village_id, source, category, total in unlinked:
        accounts[village_id].add(source or FundSource.OTHER, category, measures=total)
    regions = Region.objects.filter(pk__in=accounts).select_related("parent")
    return {place: accounts[place.pk] for place in sorted(regions, key=lambda r: r.code)}


def household_accounts(*, user: User, region: Region | None = None) -> dict[int, Account]:
    """Money that reached each household (到户 支出 and measure amounts), by source and type,
    keyed by household id, in the user's scope (and under `region`)."""
    accounts: dict[int, Account] = defaultdict(Account)
    to_households = (
        FundMovement.objects.filter(project__in=_projects(user, region), kind=SPENT)
        .filter(household__isnull=False)
        .filter(roles.household_scope_q(user))
        .order_by()
        .values_list("household", "source", "project__category")
        .annotate(total=Sum("amount"))
    )
    for household_id, source, category, total in to_households:
        accounts[household_id].add(source, category, projects=total)
    already_to_household = FundMovement.objects.filter(
        project=OuterRef("project"), household=OuterRef("household"), kind=SPENT
    )
    measures = (
        _measures(user, region)
        .filter(Q(project__isnull=True) | ~Exists(already_to_household))
        .values_list("household", "fund_source", "category")
        .annotate(total=Sum("amount"))
    )
    for household_id, source, category, total in measures:
        accounts[household_id].add(source or FundSource.OTHER, category, measures=total)
    return dict(accounts)


def exit_costs(
    *, user: User, region: Region | None = None, accounts: dict[int, Account] | None = None
) -> dict[str, Any]:
    """The cost of exit: per exited household (its household total), per village (statistics
    over its exited households), for the county (over all of them), and over the villages that
    have 出列 (their village totals)."""
    if accounts is None:
        accounts = household_accounts(user=user, region=region)
    exited = roles.household_scope(
        user, Household.objects.filter(status=Household.Status.EXITED)
    ).order_by()
    if region is not None:
        exited = exited.filter(village__path__startswith=region.path)
    by_village: dict[int, list[Decimal]] = defaultdict(list)
    unrecorded: dict[int, int] = defaultdict(int)
    for household_id, village_id in exited.values_list("pk", "village"):
        account = accounts.get(household_id)
        if account is not None and account.total > 0:
            by_village[village_id].append(account.total)
        else:
            unrecorded[village_id] += 1
    villages = Region.objects.filter(pk__in=set(by_village) | set(unrecorded)).select_related(
        "parent"
    )
    rows = [
        {
            "village": village,
            "stats": stats(by_village.get(village.pk, [])),
            "unrecorded": unrecorded.get(village.pk, 0),
        }
        for village in sorted(villages, key=lambda v: v.code)
    ]
    every = [amount for amounts in by_village.values() for amount in amounts]
    return {
        "villages": rows,
        "county": stats(every),
        "unrecorded": sum(unrecorded.values()),
    }


def two_ledgers(*, user: User, region: Region | None = None) -> dict[str, Any]:
    """Everything the 两笔账 page shows: the village and household accounts, the cost of exit
    per household, village and county, and the cost of the villages that have 出列."""
    villages = village_accounts(user=user, region=region)
    households = household_accounts(user=user, region=region)
    records = {
        h.pk: h
        for h in Household.objects.filter(pk__in=households).select_related(
            "village", "village__parent"
        )
    }
    household_rows: list[dict[str, Any]] = [
        {"household": records[pk], "account": households[pk]}
        for pk in sorted(records, key=lambda pk: records[pk].number)
    ]
    exited_villages = set(
        VillageYear.objects.filter(exit_year__isnull=False).values_list("village", flat=True)
    )
    return {
        "village_rows": [
            {"region": place, "account": account} for place, account in villages.items()
        ],
        "household_rows": household_rows,
        "exit": exit_costs(user=user, region=region, accounts=households),
        "exit_village": stats(
            [account.total for place, account in villages.items() if place.pk in exited_villages]
        ),
        "total_projects": sum((a.projects for a in villages.values()), ZERO),
        "total_measures": sum((a.measures for a in villages.values()), ZERO),
        "total": sum((a.total for a in villages.values()), ZERO),
    }
