"""The import reads every sheet of a kind: a ledger longer than a worksheet continues on
“户台账（2）”, “人员台账（2）”… (`LEDGER_SHEET_MAX_ROWS`), and the households and members on
those sheets are imported like the first sheet's. Before, the import read the first sheet of
each kind only and wrote the rest of the file's households and members nowhere, without an
error."""

from __future__ import annotations

import datetime

import openpyxl
import pytest

from households.imports import error_workbook, import_households
from households.models import Household, Member
from tests import factories
from tests.ledgers.test_import import _export, _snapshot, _varied_households, _wipe_registry
from tests.ledgers.test_import_streaming import couples


def _errors(report) -> list[tuple]:
    return [(e.sheet, e.row, e.column, e.message, e.column_index) for e in report.errors]


@pytest.mark.parametrize("sheet_rows", [7, 8, 9])
def test_a_ledger_continued_on_further_sheets_imports_whole(
    tmp_path, cast, county, settings, reading, sheet_rows
):
    """Exported with 1, 2 and 3 data rows a worksheet (so that households and their members
    are cut across sheets at every place), imported back: every household and member, as
    they were, in both ways of reading the households sheets."""
    _varied_households(cast, county)
    couples(cast, county, 2)
    before = _snapshot()
    settings.LEDGER_SHEET_MAX_ROWS = sheet_rows  # title, letterhead, 3 header rows, data, 合计
    path = _export(tmp_path, cast.county)
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "户台账（2）" in names and "人员台账（2）" in names, names
    _wipe_registry()
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert (_errors(report), report.written) == ([], True)
    assert (report.households_created, report.members_created) == (5, 9)
    assert _snapshot() == before


def _workbook(path: str, sheets: list[tuple[str, list[str], list[list]]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


HOUSEHOLD_HEADER = ["户编号", "乡（镇）", "行政村", "户状态", "主要致贫原因"]
MEMBER_HEADER = ["户编号", "姓名", "证件号码", "性别", "出生日期", "与户主关系"]


def test_errors_name_the_continuation_sheet_its_row_and_column(
    tmp_path, cast, county, settings, reading
):
    """A 户编号 or an ID number met on an earlier sheet of the same kind is a duplicate that
    names that sheet; each error points at its own sheet's row and column, a continuation
    sheet's columns in their own order; the error workbook marks them there."""
    head = factories.id_number(datetime.date(1970, 1, 2), "男")
    other = factories.id_number(datetime.date(1971, 3, 4), "男")
    path = str(tmp_path / "continued.xlsx")
    reordered = ["姓名", "与户主关系", "证件号码", "性别", "出生日期", "户编号"]
    _workbook(
        path,
        [
            ("户台账", HOUSEHOLD_HEADER, [["N1", "新州镇", "凤场村", "未脱贫", "因病"]]),
            (
                "户台账（2）",
                HOUSEHOLD_HEADER,
                [
                    ["N2", "新州镇", "凤场村", "未脱贫", "因病"],
                    ["N1", "新州镇", "凤场村", "未脱贫", "因病"],
                ],
            ),
            ("人员台账", MEMBER_HEADER, [["N1", "甲", head, "男", None, "户主"]]),
            (
                "人员台账（2）",
                reordered,
                [
                    ["乙", "户主", other, "男", None, "N2"],
                    ["丙", "之子", head, "男", None, "N2"],
                    ["丁", "之女", "1", "女", None, "N9"],
                ],
            ),
        ],
    )
    report = import_households(actor=cast.county, path=path, dry_run=True)
    found = _errors(report)
    assert ("户台账（2）", 3, "户编号", "户编号与“户台账”工作表第2行重复。", 0) in found
    assert ("人员台账（2）", 3, "证件号码", "证件号码与“人员台账”工作表第2行重复。", 2) in found
    assert [e for e in found if e[:3] == ("人员台账（2）", 4, "户编号")], found
    sheets = [e[0] for e in found]
    assert sheets == sorted(
        sheets, key=["户台账", "户台账（2）", "人员台账", "人员台账（2）"].index
    )
    out = str(tmp_path / "errors.xlsx")
    error_workbook(out, source=path, report=report)
    marked = openpyxl.load_workbook(out)["人员台账（2）（出错行）"]
    assert [marked.cell(row, 1).value for row in (2, 3)] == [3, 4]
    assert marked.cell(2, 4).comment is not None  # 证件号码, the sheet's third column
    assert Household.objects.count() == Member.objects.count() == 0


def test_the_same_value_twice_on_one_sheet_keeps_its_wording(tmp_path, cast, county, reading):
    path = str(tmp_path / "twice.xlsx")
    head = factories.id_number(datetime.date(1970, 1, 2), "男")
    _workbook(
        path,
        [
            (
                "户台账",
                HOUSEHOLD_HEADER,
                [
                    ["N1", "新州镇", "凤场村", "未脱贫", "因病"],
                    ["N1", "新州镇", "凤场村", "未脱贫", "因病"],
                ],
            ),
            (
                "人员台账",
                MEMBER_HEADER,
                [["N1", "甲", head, "男", None, "户主"], ["N1", "乙", head, "男", None, "之子"]],
            ),
        ],
    )
    found = _errors(import_households(actor=cast.county, path=path, dry_run=True))
    assert ("户台账", 3, "户编号", "户编号与本表第2行重复。", 0) in found
    assert ("人员台账", 3, "证件号码", "证件号码与本表第2行重复。", 2) in found
