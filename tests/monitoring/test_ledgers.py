"""The monitoring ledgers (issue 15): headers, rows, masking, scope, and the sheet chunking of
the ledger machinery (a setting makes the Excel row limit small enough to see the split)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import openpyxl
import pytest

from households import services
from monitoring.models import IncomeAssessment, Sweep, SweepHousehold
from povertyapp.ledgers import all_ledgers
from povertyapp.ledgers.layout import continuation_name
from povertyapp.ledgers.services import ledger_write
from povertyapp.privacy import mask
from tests.monitoring import dashboard_world
from tests.monitoring.dashboard_world import TODAY


@pytest.fixture
def world(cast, county, household_a, household_b, monkeypatch):
    monkeypatch.setattr(services.common, "today", lambda: TODAY)
    return dashboard_world.build(cast, county, household_a, household_b)


def _book(tmp_path, user, key, filters=None):
    path = str(tmp_path / f"{key}.xlsx")
    result = ledger_write(user=user, key=key, filters=filters or {}, path=path)
    return openpyxl.load_workbook(path), result


def _headers(sheet, rows=(3, 4)):
    return {
        cell.value: cell.column
        for row in sheet.iter_rows(min_row=rows[0], max_row=rows[1])
        for cell in row
        if cell.value
    }


def _rows(sheet, first=5):
    """The data rows (序号 a number), as lists of values."""
    return [
        [cell.value for cell in row]
        for row in sheet.iter_rows(min_row=first)
        if isinstance(row[0].value, int)
    ]


def test_the_monitoring_ledgers_are_offered(db):
    keys = {ledger.key for ledger in all_ledgers()}
    assert {"monitoring_objects", "monitoring_clues", "risk_elimination", "sweep_progress"} <= keys


def test_object_ledger_has_one_row_per_object_with_masked_ids(tmp_path, world, cast):
    book, result = _book(tmp_path, cast.auditor, "monitoring_objects")
    sheet = book.worksheets[0]
    assert result.rows == 6
    assert sheet.cell(1, 1).value == "防止返贫监测对象台账"
    headers = _headers(sheet)
    for header in (
        "乡（镇）",
        "行政村",
        "户编号",
        "户主姓名",
        "户主身份证号",
        "监测对象类型",
        "风险类型",
        "识别纳入日期",
        "监测状态",
        "帮扶措施数",
        "风险消除方式",
        "风险消除日期",
    ):
        assert header in headers, header
    rows = {row[headers["户编号"] - 1]: row for row in _rows(sheet)}
    row = rows[world.households["a"].number]
    head = world.households["a"].members.get(relation="户主")
    assert row[headers["行政村"] - 1] == "凤场村"
    assert row[headers["监测对象类型"] - 1] == "边缘易致贫户"
    assert row[headers["风险类型"] - 1] == "因病、因学"
    assert row[headers["监测状态"] - 1] == "监测中"
    assert row[headers["识别纳入日期"] - 1] == datetime.datetime(2025, 3, 1)
    # The auditor may not see ID numbers: masked, never in full.
    shown = row[headers["户主身份证号"] - 1]
    assert shown == mask(head.id_number) != head.id_number
    eliminated = rows[world.households["a_eliminated"].number]
    assert eliminated[headers["风险消除方式"] - 1] == "帮扶消除"
    assert eliminated[headers["风险消除日期"] - 1] == datetime.datetime(2026, 2, 10)


def test_object_ledger_is_unmasked_for_the_county_and_scoped_for_a_cadre(tmp_path, world, cast):
    book, _result = _book(tmp_path, cast.county, "monitoring_objects")
    sheet = book.worksheets[0]
    headers = _headers(sheet)
    head = world.households["a"].members.get(relation="户主")
    assert head.id_number in [row[headers["户主身份证号"] - 1] for row in _rows(sheet)]
    _book_b, result_b = _book(tmp_path, cast.cadre2, "monitoring_objects")
    assert result_b.rows == 2  # village B: household_b and b_eliminated


def test_clue_ledger_has_a_sheet_per_source_and_department(tmp_path, world, cast):
    book, result = _book(tmp_path, cast.county, "monitoring_clues")
    assert book.sheetnames == ["农户自主申报", "基层干部排查", "民政", "医保"]
    assert result.rows == 6
    medical = book["医保"]
    assert medical.cell(1, 1).value == "风险线索台账（医保）"
    headers = _headers(medical)
    rows = _rows(medical)
    assert [row[headers["线索日期"] - 1] for row in rows] == [
        datetime.datetime(2025, 12, 1),
        datetime.datetime(2026, 1, 10),
        datetime.datetime(2026, 3, 1),
    ]
    first, included, refused = rows
    assert first[headers["是否超期"] - 1] == "入户核实超期、识别超期"
    assert first[headers["行政村"] - 1] == "凤场村"
    assert included[headers["办理状态"] - 1] == "纳入监测"
    assert refused[headers["处理结果"] - 1] == "收入高于监测标准"
    assert refused[headers["是否超期"] - 1] == "否"
    # The unmatched 民政 clue belongs to the county: no village.
    civil = _rows(book["民政"])[0]
    assert civil[_headers(book["民政"])["办理状态"] - 1] == "待登记"
    assert civil[_headers(book["民政"])["行政村"] - 1] is None


def test_clue_ledger_of_a_year(tmp_path, world, cast):
    _book_all, result = _book(tmp_path, cast.county, "monitoring_clues", {"year": "2025"})
    assert result.rows == 1


def test_elimination_ledger_shows_the_income_at_elimination(tmp_path, world, cast):
    household = world.households["a_eliminated"]
    for end, per_capita in ((datetime.date(2025, 12, 31), "9100.00"), (TODAY, "9900.00")):
        IncomeAssessment.objects.create(
            household=household,
            period_start=end - datetime.timedelta(days=365),
            period_end=end,
            persons=2,
            net_income=Decimal(per_capita) * 2,
            per_capita=Decimal(per_capita),
            line=Decimal("8700.00"),
        )
    book, result = _book(tmp_path, cast.county, "risk_elimination")
    sheet = book.worksheets[0]
    assert result.rows == 2
    headers = _headers(sheet)
    assert {
        "风险消除方式",
        "风险消除日期",
        "风险消除依据",
        "人均纯收入（元）",
        "监测标准（元）",
    } <= set(headers)
    rows = {row[headers["户编号"] - 1]: row for row in _rows(sheet)}
    row = rows[household.number]
    assert row[headers["风险消除方式"] - 1] == "帮扶消除"
    assert row[headers["风险消除依据"] - 1] == "人均纯收入稳定超过监测标准"
    # The assessment up to the elimination day (2026-02-10), not the later one.
    assert row[headers["人均纯收入（元）"] - 1] == 9100
    assert row[headers["监测标准（元）"] - 1] == 8700
    assert rows[world.households["b_eliminated"].number][headers["人均纯收入（元）"] - 1] is None


def test_sweep_progress_per_village(tmp_path, world, cast, county):
    sweep = Sweep.objects.create(
        county=county.county,
        year=2026,
        name="2026年集中排查",
        start_date=datetime.date(2026, 5, 1),
        end_date=datetime.date(2026, 7, 31),
        line=Decimal("8700"),
    )
    states = {
        "a": ("visited", True),
        "a_unstable": ("visited", False),
        "a_eliminated": ("skipped", False),
        "b": ("pending", False),
        "b_eliminated": ("visited", True),
    }
    for key, (state, risk) in states.items():
        household = world.households[key]
        SweepHousehold.objects.create(
            sweep=sweep,
            household=household,
            village=household.village,
            state=state,
            risk_found=risk,
        )
    book, result = _book(tmp_path, cast.county, "sweep_progress")
    sheet = book.worksheets[0]
    assert result.rows == 2
    headers = _headers(sheet)
    rows = {row[headers["行政村"] - 1]: row for row in _rows(sheet)}
    village_a = rows["凤场村"]
    values = [
        village_a[headers[key] - 1]
        for key in ("排查户数", "已排查", "未入户（已说明）", "待排查", "发现风险户数")
    ]
    assert values == [3, 2, 1, 0, 1]
    assert village_a[headers["完成率"] - 1] == "100.0%"
    village_b = rows["西垭村"]
    assert village_b[headers["待排查"] - 1] == 1
    assert village_b[headers["完成率"] - 1] == "50.0%"
    totals = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "合计")
    assert totals[headers["排查户数"] - 1] == 5


def test_a_sheet_past_the_row_limit_goes_on_in_more_sheets(tmp_path, world, cast, settings):
    # 4 header rows (title, letterhead, 2 header rows) and the 合计 row leave 3 data rows.
    settings.LEDGER_SHEET_MAX_ROWS = 8
    book, result = _book(tmp_path, cast.county, "monitoring_objects")
    assert result.rows == 6
    assert book.sheetnames == ["监测对象台账", "监测对象台账（2）"]
    first, second = book.worksheets
    assert [row[0] for row in _rows(first)] == [1, 2, 3]
    assert [row[0] for row in _rows(second)] == [4, 5, 6]
    assert second.cell(1, 1).value == "防止返贫监测对象台账（2）"
    assert _headers(second) == _headers(first)
    assert first.max_row <= 8 and second.max_row <= 8
    # The 合计 row (of every row) closes the last sheet only.
    assert "合计" not in [row[0] for row in first.iter_rows(values_only=True)]
    totals = [row for row in second.iter_rows(values_only=True) if row[0] == "合计"]
    assert totals and totals[0][1] == "共6户"


def test_chunking_applies_to_every_ledger_and_keeps_names_short(tmp_path, world, cast, settings):
    settings.LEDGER_SHEET_MAX_ROWS = 6  # 1 data row per sheet under 4 header rows and 合计
    book, result = _book(tmp_path, cast.county, "monitoring_clues")
    assert result.rows == 6
    assert book.sheetnames == [
        "农户自主申报",
        "基层干部排查",
        "民政",
        "医保",
        "医保（2）",
        "医保（3）",
    ]
    assert continuation_name("很" * 40, 12) == "很" * 27 + "（12）"
    assert len(continuation_name("很" * 40, 12)) == 31
