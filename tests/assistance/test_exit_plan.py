"""退出规划: households planned to exit by year and village against those that exited, the
village 出列 plan, the page and the ledger."""

from __future__ import annotations

import datetime

import openpyxl
import pytest

from assistance import exit_plans
from households.models import Household
from povertyapp.ledgers.services import ledger_write
from povertyapp.models import VillageYear
from tests import factories

EXITED = Household.Status.EXITED


@pytest.fixture
def plan(cast, county):
    """Village A planned 3 exits for 2019 (2 exited in 2019, 1 in 2020) and 2 for Y+1 (the
    coming year, one of them still poor, one exited early); village B planned 1 for 2019, still
    poor (overdue). Village A's 出列 is planned for 2020."""
    next_year = datetime.date.today().year + 1
    village_a, village_b = county.village_a, county.village_b
    households = [
        factories.household(
            actor=cast.county,
            village=village_a,
            status=EXITED,
            exit_year=2019,
            planned_exit_year=2019,
        ),
        factories.household(
            actor=cast.county,
            village=village_a,
            status=EXITED,
            exit_year=2019,
            planned_exit_year=2019,
        ),
        factories.household(
            actor=cast.county,
            village=village_a,
            status=EXITED,
            exit_year=2020,
            planned_exit_year=2019,
        ),
        factories.household(actor=cast.county, village=village_a, planned_exit_year=next_year),
        factories.household(
            actor=cast.county,
            village=village_a,
            status=EXITED,
            exit_year=2020,
            planned_exit_year=next_year,
        ),
        factories.household(actor=cast.county, village=village_b, planned_exit_year=2019),
    ]
    VillageYear.objects.create(
        village=village_a,
        year=2019,
        registered_rural_population=900,
        total_households=250,
        is_poor_village=True,
        exit_year=2020,
    )
    return {"households": households, "next_year": next_year}


def _cells(rows):
    return {
        (row["village"].name if row["village"] else "", row["year"]): (
            row["planned"],
            row["on_plan"],
            row["late"],
            row["pending"],
            row["overdue"],
            row["exited"],
        )
        for row in rows
    }


def test_progress_by_village_and_year(cast, plan):
    result = exit_plans.exit_progress(user=cast.county)
    next_year = plan["next_year"]
    assert _cells(result["rows"]) == {
        ("凤场村", 2019): (3, 2, 1, 0, 0, 2),
        ("凤场村", 2020): (0, 0, 0, 0, 0, 2),
        ("凤场村", next_year): (2, 1, 0, 1, 0, 0),
        ("西垭村", 2019): (1, 0, 0, 1, 1, 0),
    }
    assert _cells(result["years"])[("", 2019)] == (4, 2, 1, 1, 1, 2)
    rates = {(row["village"].name, row["year"]): row["rate"] for row in result["rows"]}
    assert str(rates[("凤场村", 2019)]) == "66.67"
    villages = result["villages"]
    assert [
        (row["village"].name, row["exit_year"], row["poor"], row["exited"]) for row in villages
    ] == [("凤场村", 2020, 1, 4)]


def test_the_scope_and_the_year_filter(cast, plan):
    assert {key[0] for key in _cells(exit_plans.exit_progress(user=cast.cadre)["rows"])} == {
        "凤场村"
    }
    only = exit_plans.exit_progress(user=cast.county, year=2019)["rows"]
    assert {row["year"] for row in only} == {2019}


def test_page_and_ledger(tmp_path, cast, plan, client_for):
    page = client_for(cast.county).get("/assistance/exit-plan/").content.decode()
    assert "贫困村出列计划" in page and "66.67%" in page
    assert client_for(cast.helper).get("/assistance/exit-plan/").status_code == 403
    path = str(tmp_path / "exit.xlsx")
    ledger_write(user=cast.county, key="exit_plan", filters={"year": "2019"}, path=path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["脱贫计划进度", "贫困村出列计划"]
    rows = [
        [cell.value for cell in row][1:]
        for row in workbook["脱贫计划进度"].iter_rows(min_row=5)
        if row[3].value == 2019
    ]
    assert rows == [
        ["新州镇", "凤场村", 2019, 3, 2, 1, 0, 0, 2, 66.67],
        ["旧州镇", "西垭村", 2019, 1, 0, 0, 1, 1, 0, 0],
    ]
