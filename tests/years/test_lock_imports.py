"""Imports into a signed year: each import reports a row that would write into a locked year as
a row error of its validation pass (the whole file refused, nothing written, the message in the
user's language), and a re-import of the signed year's unchanged rows stays a no-op."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from assistance.imports import import_measures
from assistance.imports.measures import SHEET as MEASURE_SHEET
from assistance.models import Measure
from households import services as household_services
from households.imports import import_households
from households.models import HouseholdIncome
from households.onboarding import import_resident_teams, import_village_years
from povertyapp import yearlock
from povertyapp.ledgers.services import ledger_write
from povertyapp.models import ResidentTeamMember, VillageYear

LOCKED = 2023
OPEN = 2024
MEASURE_HEADERS = [column.header for column in MEASURE_SHEET.columns]
LOCK_MESSAGE = f"{LOCKED}年度已由县级签署封账"


def _xlsx(tmp_path, sheets: dict[str, list[list[Any]]], name: str) -> str:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return str(path)


def _lock(county) -> None:
    yearlock.lock(county=county.county, year=LOCKED, actor=None)


# --- 帮扶措施 -----------------------------------------------------------------------------------


def _measure_row(household, year: int, content: str) -> list[Any]:
    values = {
        "户编号": household.number,
        "帮扶年度": year,
        "措施类别": "产业帮扶",
        "措施内容": content,
        "计划开始日期": f"{year}-03-01",
        "帮扶资金（元）": 6000,
        "资金来源": "整合资金",
    }
    return [values.get(header) for header in MEASURE_HEADERS]


def test_measures_of_a_locked_year_are_row_errors_and_nothing_is_written(
    tmp_path, cast, county, household_a
):
    _lock(county)
    path = _xlsx(
        tmp_path,
        {
            "帮扶措施": [
                MEASURE_HEADERS,
                _measure_row(household_a, OPEN, "养殖黄牛2头"),
                _measure_row(household_a, LOCKED, "种植茶叶5亩"),
            ]
        },
        "measures.xlsx",
    )
    with pytest.raises(ValidationError) as refusal:
        import_measures(actor=cast.cadre, path=path, max_rows=100)
    messages = "\n".join(refusal.value.messages)
    assert "第3行" in messages
    assert LOCK_MESSAGE in messages
    assert "第2行" not in messages
    assert Measure.objects.count() == 0


def test_measures_reimport_of_a_signed_year_unchanged_is_a_no_op(
    tmp_path, cast, county, household_a
):
    path = _xlsx(
        tmp_path,
        {"帮扶措施": [MEASURE_HEADERS, _measure_row(household_a, LOCKED, "种植茶叶5亩")]},
        "measures.xlsx",
    )
    assert import_measures(actor=cast.cadre, path=path, max_rows=100).created == 1
    _lock(county)
    again = import_measures(actor=cast.cadre, path=path, max_rows=100)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_measures_lock_message_is_in_the_users_language(tmp_path, cast, county, household_a):
    _lock(county)
    path = _xlsx(
        tmp_path,
        {"帮扶措施": [MEASURE_HEADERS, _measure_row(household_a, LOCKED, "种植茶叶5亩")]},
        "measures.xlsx",
    )
    with translation.override("en"), pytest.raises(ValidationError) as refusal:
        import_measures(actor=cast.cadre, path=path, max_rows=100)
    messages = "\n".join(refusal.value.messages)
    assert "signed off" in messages.lower() or "locked" in messages.lower(), messages
    assert LOCK_MESSAGE not in messages
    assert Measure.objects.count() == 0


# --- 农户信息 (household import) -----------------------------------------------------------------


def _income_cell(path: str, number: str) -> tuple[openpyxl.Workbook, Any]:
    book = openpyxl.load_workbook(path)
    sheet = book["户台账"]
    header = {
        c.value: c.column for r in sheet.iter_rows(min_row=3, max_row=5) for c in r if c.value
    }
    row = next(r for r in range(6, sheet.max_row + 1) if sheet.cell(r, 2).value == number)
    return book, sheet.cell(row, header["工资性收入"])


def test_household_import_refuses_a_changed_income_of_a_locked_year(
    tmp_path, cast, county, household_a
):
    household_services.income_set(
        actor=cast.county, household=household_a, year=LOCKED, data={"wage": Decimal("15000")}
    )
    path = str(tmp_path / "registry.xlsx")
    ledger_write(user=cast.county, key="registry", filters={"income_year": str(LOCKED)}, path=path)
    _lock(county)
    # Unchanged: no write, no error (re-importing the signed year's ledger is a no-op).
    same = import_households(actor=cast.county, path=path, dry_run=False)
    assert same.errors == []
    assert (same.households_created, same.households_updated) == (0, 0)

    book, cell = _income_cell(path, household_a.number)
    cell.value = 18000
    book.save(path)
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert len(report.errors) == 1
    assert LOCK_MESSAGE in report.errors[0].message
    assert report.errors[0].column == "收入年度"
    assert HouseholdIncome.objects.get(household=household_a, year=LOCKED).wage == Decimal(
        "15000.00"
    )


# --- 村年度信息, 驻村工作队 (onboarding) ---------------------------------------------------------

VILLAGE_YEAR_HEADER = ["村代码", "户籍人口", "户籍农业人口", "总户数", "贫困村", "出列年度"]
TEAM_HEADER = ["村代码", "年度", "姓名", "职务", "派出单位", "联系电话", "驻村天数"]


def test_village_years_of_a_locked_year_are_refused_and_unchanged_ones_pass(tmp_path, cast, county):
    path = _xlsx(
        tmp_path,
        {"村年度信息": [VILLAGE_YEAR_HEADER, ["522622100200", 1200, 1100, 310, "否", None]]},
        "villages.xlsx",
    )
    first = import_village_years(actor=cast.county, path=path, year=LOCKED, dry_run=False)
    assert (first.errors, first.created) == ([], 1)
    _lock(county)
    again = import_village_years(actor=cast.county, path=path, year=LOCKED, dry_run=False)
    assert (again.errors, again.unchanged) == ([], 1)

    changed = _xlsx(
        tmp_path,
        {
            "村年度信息": [
                VILLAGE_YEAR_HEADER,
                ["522622100200", 1300, 1100, 310, "否", None],
                ["522622100201", 900, 850, 240, "否", None],
            ]
        },
        "villages2.xlsx",
    )
    report = import_village_years(actor=cast.county, path=changed, year=LOCKED, dry_run=False)
    assert [(error.row, error.column) for error in report.errors] == [(2, "村代码"), (3, "村代码")]
    assert all(LOCK_MESSAGE in error.message for error in report.errors)
    assert report.written is False
    assert VillageYear.objects.get(village=county.village_a, year=LOCKED).registered_population == (
        1200
    )
    assert VillageYear.objects.filter(year=LOCKED).count() == 1
    # The open year is not refused.
    open_year = import_village_years(actor=cast.county, path=changed, year=OPEN, dry_run=False)
    assert (open_year.errors, open_year.created) == ([], 2)


def test_resident_teams_of_a_locked_year_are_refused(tmp_path, cast, county):
    villages = _xlsx(
        tmp_path,
        {"村年度信息": [VILLAGE_YEAR_HEADER, ["522622100200", 1200, 1100, 310, "否", None]]},
        "villages.xlsx",
    )
    for year in (LOCKED, OPEN):
        import_village_years(actor=cast.county, path=villages, year=year, dry_run=False)
    _lock(county)
    path = _xlsx(
        tmp_path,
        {
            "驻村工作队": [
                TEAM_HEADER,
                ["522622100200", OPEN, "王书记", "第一书记", "县财政局", "13800000001", 230],
                ["522622100200", LOCKED, "李队员", "队员", "县农业农村局", "", 180],
            ]
        },
        "teams.xlsx",
    )
    report = import_resident_teams(actor=cast.county, path=path, dry_run=False)
    assert [(error.row, error.column) for error in report.errors] == [(3, "年度")]
    assert LOCK_MESSAGE in report.errors[0].message
    assert ResidentTeamMember.objects.count() == 0


def test_the_lock_index_reads_the_locks_once(django_assert_num_queries, county):
    _lock(county)
    with django_assert_num_queries(1):
        index = yearlock.LockIndex()
    assert index.locked(county.village_a.path, LOCKED) is True
    assert index.locked(county.village_a.path, OPEN) is False
    assert index.error(county.village_a.path, OPEN) is None
    assert index.error(None, LOCKED) is None
