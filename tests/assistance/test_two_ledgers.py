"""两笔账 with measure money: a hand-computed county, the rule against double counting, the cost
of exit (min, max, mean) per household, village and county, the page and the ledger."""

from __future__ import annotations

import datetime
from decimal import Decimal

import openpyxl
import pytest

from assistance import costs, services
from assistance.models import Measure
from households.models import Household
from povertyapp.ledgers.services import ledger_write
from tests import factories

CENTRAL = "中央财政专项扶贫资金"
PROVINCIAL = "省级财政专项扶贫资金"
COUNTY_FUNDS = "县级财政专项扶贫资金"
D = Decimal


def _measure(household, amount, *, category, source="", project=None, status="in_progress"):
    return Measure.objects.create(
        household=household,
        year=2018,
        category=category,
        content=category,
        amount=D(amount),
        fund_source=source,
        project=project,
        status=status,
    )


@pytest.fixture
def money(cast, county):
    """Village A: h1 and h2 exited, h3 poor, h4 exited with no money; village B: h5 exited.

    Project P (凤场村, 产业, 中央): 1,000.00 spent 到户 to h1, 500.00 spent on the village.
    Measures: h1 linked to P 1,000.00 (the same money as P's 到户 movement: not counted again),
    h2 linked to P 800.00 (P names no 到户 movement for h2: counts for h2, not for the village),
    h1 教育 500.50 省级, h2 健康 300.00 (no source: 其他), h3 就业 200.00 县级, h3 cancelled 999.
    h5 (village B) 产业 2,000.00 中央.
    """
    village_a, village_b = county.village_a, county.village_b
    exited = Household.Status.EXITED
    h1 = factories.household(actor=cast.county, village=village_a, status=exited)
    h2 = factories.household(actor=cast.county, village=village_a, status=exited)
    h3 = factories.household(actor=cast.county, village=village_a)
    h4 = factories.household(actor=cast.county, village=village_a, status=exited)
    h5 = factories.household(actor=cast.county, village=village_b, status=exited)
    project = services.project_create(
        actor=cast.county,
        data={
            "name": "到户产业奖补",
            "category": "产业",
            "region": village_a,
            "year": 2018,
            "responsible_unit": "县农业农村局",
        },
        fundings={CENTRAL: "10000"},
        beneficiaries=[h1, h2],
    )
    services.project_approve(
        actor=cast.county, project=project, approved_on=datetime.date(2018, 1, 2)
    )
    services.project_publish(actor=cast.county, project=project, start=datetime.date(2018, 1, 3))
    for kind, amount, extra in (
        ("allocated", "10000", {"document_number": "黄扶发〔2018〕1号"}),
        ("arrived", "10000", {}),
        ("spent", "1000.00", {"household": h1}),
        ("spent", "500.00", {}),
    ):
        services.fund_movement_record(
            actor=cast.county,
            project=project,
            kind=kind,
            source=CENTRAL,
            amount=amount,
            date=datetime.date(2018, 3, 1),
            **extra,
        )
    _measure(h1, "1000.00", category="产业帮扶", source=CENTRAL, project=project)
    _measure(h2, "800.00", category="产业帮扶", source=CENTRAL, project=project)
    _measure(h1, "500.50", category="教育帮扶", source=PROVINCIAL)
    _measure(h2, "300.00", category="健康帮扶")
    _measure(h3, "200.00", category="就业帮扶", source=COUNTY_FUNDS)
    _measure(h3, "999.00", category="就业帮扶", source=COUNTY_FUNDS, status="cancelled")
    _measure(h5, "2000.00", category="产业帮扶", source=CENTRAL)
    return {"h1": h1, "h2": h2, "h3": h3, "h4": h4, "h5": h5, "project": project}


def _lines(account):
    return [
        (line.source, line.category, line.projects, line.measures)
        for line in account.sorted_lines()
    ]


def test_village_account_counts_project_spending_and_unlinked_measures(cast, county, money):
    accounts = costs.village_accounts(user=cast.county)
    village_a = accounts[county.village_a]
    assert _lines(village_a) == [
        (CENTRAL, "产业", D("1500.00"), D("0")),
        (PROVINCIAL, "教育帮扶", D("0"), D("500.50")),
        (COUNTY_FUNDS, "就业帮扶", D("0"), D("200.00")),
        ("其他", "健康帮扶", D("0"), D("300.00")),
    ]
    assert (village_a.projects, village_a.measures, village_a.total) == (
        D("1500.00"),
        D("1000.50"),
        D("2500.50"),
    )
    assert accounts[county.village_b].total == D("2000.00")


def test_household_account_leaves_out_measures_already_paid_to_the_household(cast, money):
    accounts = costs.household_accounts(user=cast.county)
    assert _lines(accounts[money["h1"].pk]) == [
        (CENTRAL, "产业", D("1000.00"), D("0")),
        (PROVINCIAL, "教育帮扶", D("0"), D("500.50")),
    ]
    assert _lines(accounts[money["h2"].pk]) == [
        (CENTRAL, "产业帮扶", D("0"), D("800.00")),
        ("其他", "健康帮扶", D("0"), D("300.00")),
    ]
    assert accounts[money["h1"].pk].total == D("1500.50")
    assert accounts[money["h2"].pk].total == D("1100.00")
    assert accounts[money["h3"].pk].total == D("200.00")  # the cancelled 999 counts nowhere
    assert money["h4"].pk not in accounts


def test_exit_cost_min_max_mean_per_village_and_county(cast, county, money):
    result = costs.exit_costs(user=cast.county)
    county_stats = result["county"]
    assert (
        county_stats.count,
        county_stats.minimum,
        county_stats.maximum,
        county_stats.mean,
        county_stats.total,
    ) == (3, D("1100.00"), D("2000.00"), D("1533.50"), D("4600.50"))
    assert result["unrecorded"] == 1  # h4: exited, no money recorded, not a cost of 0
    by_village = {row["village"].name: row for row in result["villages"]}
    village_a = by_village["凤场村"]["stats"]
    assert (village_a.count, village_a.minimum, village_a.maximum, village_a.mean) == (
        2,
        D("1100.00"),
        D("1500.50"),
        D("1300.25"),
    )
    assert by_village["凤场村"]["unrecorded"] == 1
    assert by_village["西垭村"]["stats"].mean == D("2000.00")


def test_two_ledgers_follow_the_user_scope(cast, county, money):
    village_cadre = costs.two_ledgers(user=cast.cadre)
    assert [row["region"].name for row in village_cadre["village_rows"]] == ["凤场村"]
    assert village_cadre["exit"]["county"].count == 2
    assert costs.two_ledgers(user=cast.helper)["total_projects"] == D("0")


def test_funds_page_shows_measure_money_and_exit_cost(cast, money, client_for):
    page = client_for(cast.county).get("/assistance/funds/").content.decode()
    assert "1,000.50" in page or "1000.50" in page  # the measure money of village A
    assert "1533.50" in page or "1,533.50" in page  # the county's mean cost of exit


def test_two_ledgers_workbook(tmp_path, cast, money):
    path = str(tmp_path / "two.xlsx")
    ledger_write(user=cast.county, key="two_ledgers", filters={}, path=path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["资金投入（按村）", "资金投入（按户）", "脱贫成本"]
    by_village = workbook["资金投入（按村）"]
    values = [
        [cell.value for cell in row] for row in by_village.iter_rows(min_row=5) if row[1].value
    ]
    totals = next(row for row in values if row[0] == "合计")
    assert totals[-3:] == [1500.0, 3000.5, 4500.5]
    cost = workbook["脱贫成本"]
    county_row = next(
        [cell.value for cell in row] for row in cost.iter_rows(min_row=5) if row[1].value == "全县"
    )
    assert county_row[3:] == [3, 1, 1100.0, 2000.0, 1533.5, 4600.5]
