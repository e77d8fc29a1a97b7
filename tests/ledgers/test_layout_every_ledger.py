"""Every ledger the project can export keeps the government layout (DOMAIN §10), read back with
openpyxl, and a sheet longer than a worksheet goes on in further worksheets (issue 19).

Each registered ledger's sheets (offered or not: a ledger whose data does not exist yet is
still a layout the county may export tomorrow) are written with a few known rows in every
column kind through the one writer, `LedgerWorkbook`, and every cell that matters is read back.
"""

from __future__ import annotations

import csv
import datetime
import glob
import os
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from households import services as household_services
from povertyapp import ledgers
from povertyapp.ledgers import layout
from povertyapp.ledgers.layout import LedgerWorkbook, Letterhead
from povertyapp.ledgers.services import ledger_write

LETTERHEAD = Letterhead(unit="黄平县", person="县扶贫办", date=datetime.date(2026, 12, 4))
NUMBER_FORMATS = {
    layout.TEXT: "@",
    layout.SENSITIVE: "@",
    layout.HEALTH: "@",
    layout.BOOLEAN: "@",
    layout.INTEGER: "0",
    layout.MONEY: "#,##0.00",
    layout.DECIMAL: "0.00",
    layout.DATE: "yyyy-mm-dd",
}
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# UTF-8 (76), comma-separated, every sheet (-1) into its own file: LibreOffice ≥ 7.2.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def _value(kind: str, row: int, col: int):
    """The value written in data row `row` (from 1) of column `col` (from 0)."""
    if kind == layout.SENSITIVE:
        return f"5226221990010{row:04d}{col % 10}"
    if kind in (layout.TEXT, layout.HEALTH):
        return f"凤场村{row}-{col}"
    if kind == layout.INTEGER:
        return row * 10 + col
    if kind in (layout.MONEY, layout.DECIMAL):
        return Decimal(f"{row * 100 + col}.25")
    if kind == layout.BOOLEAN:
        return row % 2 == 1
    return datetime.date(2020, 1, row)


def _read_back(kind: str, value):
    """What openpyxl reads for a written value."""
    if kind in (layout.MONEY, layout.DECIMAL):
        return float(value)
    if kind == layout.BOOLEAN:
        return "是" if value else "否"
    if kind == layout.DATE:
        return datetime.datetime.combine(value, datetime.time())
    return value


def _with_rows(sheet: layout.SheetSpec, count: int) -> layout.SheetSpec:
    kinds = [column.kind for column in sheet.columns]

    def rows():
        for row in range(1, count + 1):
            yield tuple(_value(kind, row, col) for col, kind in enumerate(kinds))

    return replace(sheet, rows=rows, count=lambda: count)


def _every_sheet(user) -> list[tuple[str, layout.SheetSpec]]:
    found = []
    for key in ledgers.ledger_keys():
        ledger = ledgers._LEDGERS[key]  # every registered ledger, offered or not
        for sheet in ledger.sheets(user=user, filters=ledger.default_filters()):
            found.append((key, sheet))
    return found


def _write(path, sheet: layout.SheetSpec) -> int:
    with LedgerWorkbook(str(path), letterhead=LETTERHEAD, sensitive_visible=True) as workbook:
        return workbook.write_sheet(sheet)


def _expected_merges(columns) -> set[str]:
    """The title across every column and the header merges, as A1 ranges."""
    _grid, merges = layout.header_grid(columns)
    ranges = {f"A1:{get_column_letter(len(columns) + 1)}1"}
    for first_row, first_col, last_row, last_col in merges:
        ranges.add(
            f"{get_column_letter(first_col + 1)}{3 + first_row}:"
            f"{get_column_letter(last_col + 1)}{3 + last_row}"
        )
    return ranges


def _widths(worksheet) -> dict[int, float]:
    """Column widths by column number (a <col> element may cover several equal columns)."""
    widths = {}
    for dimension in worksheet.column_dimensions.values():
        for number in range(dimension.min, dimension.max + 1):
            widths[number] = dimension.width
    return widths


def _header_rows(worksheet, depth: int) -> list[list]:
    return [
        [cell.value for cell in row] for row in worksheet.iter_rows(min_row=3, max_row=2 + depth)
    ]


def test_every_ledger_is_covered(cast):
    covered = {key for key, _sheet in _every_sheet(cast.county)}
    assert covered == set(ledgers.ledger_keys())
    assert {"households", "members", "registry", "measures", "funds", "round_lists"} <= covered


def test_every_ledger_sheet_follows_the_government_layout(tmp_path, cast):
    rows = 3
    for number, (key, source) in enumerate(_every_sheet(cast.county)):
        sheet = _with_rows(source, rows)
        columns = list(sheet.columns)
        path = tmp_path / f"{number}-{key}.xlsx"
        assert _write(path, sheet) == rows
        worksheet = openpyxl.load_workbook(path).worksheets[0]
        depth = layout.header_depth(columns)
        first_data = 3 + depth  # 1-based: title, letterhead, header rows
        where = f"{key}/{sheet.name}"

        assert worksheet.title == sheet.name, where
        assert worksheet["A1"].value == sheet.title, where
        assert worksheet["A2"].value == "填报单位：黄平县", where
        letterhead = [cell.value for cell in worksheet[2] if cell.value]
        assert letterhead[1:] == [
            "填报人：县扶贫办",
            f"{sheet.date_label or '填报日期'}：2026-12-04",
        ], where
        # Merged title and header groups, 序号 merged down through every header row.
        merged = {str(cell_range) for cell_range in worksheet.merged_cells.ranges}
        assert merged == _expected_merges(columns), where
        if depth > 1:
            assert f"A3:A{2 + depth}" in merged, where
        grid, _merges = layout.header_grid(columns)
        assert _header_rows(worksheet, depth) == grid, where
        assert worksheet.cell(3, 1).value == "序号", where
        # Frozen below the header and right of 序号; header rows printed on every page.
        assert worksheet.freeze_panes == f"B{first_data}", where
        assert worksheet.print_title_rows == f"$3:${2 + depth}", where
        assert worksheet.page_setup.orientation == "landscape", where
        assert int(worksheet.page_setup.paperSize) == 9, where
        assert worksheet.sheet_properties.pageSetUpPr.fitToPage is True, where
        # One page wide (fitToWidth absent: the OOXML default, 1), as many pages tall as needed.
        assert worksheet.page_setup.fitToWidth is None, where
        assert worksheet.page_setup.fitToHeight == 0, where
        # 序号, every value and its number format.
        for row in range(1, rows + 1):
            excel_row = first_data + row - 1
            sequence = worksheet.cell(excel_row, 1)
            assert (sequence.value, sequence.number_format) == (row, "0"), where
            for col, column in enumerate(columns):
                cell = worksheet.cell(excel_row, col + 2)
                expected = _read_back(column.kind, _value(column.kind, row, col))
                assert cell.value == expected, f"{where} {column.header} row {row}"
                assert cell.number_format == NUMBER_FORMATS[column.kind], f"{where} {column.header}"
        # Widths fitted to the header (CJK counts double), 序号 narrow.
        widths = _widths(worksheet)
        assert 6 <= widths[1] < 8, where
        for col, column in enumerate(columns):
            fitted = column.width or min(layout.display_width(column.header) + 2, 50)
            assert widths[col + 2] >= fitted, f"{where} {column.header}"
        # The 合计 row: written sums, never a formula.
        totals_row = first_data + rows
        assert not any(
            cell.data_type == "f" for row_cells in worksheet.iter_rows() for cell in row_cells
        ), where
        if not sheet.with_totals:
            assert worksheet.max_row == totals_row - 1, where
            continue
        assert worksheet.max_row == totals_row, where
        assert worksheet.cell(totals_row, 1).value == "合计", where
        label = (sheet.totals_label or "共%(rows)d行") % {"rows": rows}
        if not columns[0].total:
            assert worksheet.cell(totals_row, 2).value == label, where
        for col, column in enumerate(columns):
            cell = worksheet.cell(totals_row, col + 2)
            if column.total:
                total = sum(_value(column.kind, row, col) for row in range(1, rows + 1))
                assert (cell.value, cell.data_type) == (float(total), "n"), f"{where} {column}"


def test_the_default_row_limit_is_excels():
    assert layout.EXCEL_MAX_ROWS == 1_048_576
    assert layout.sheet_row_limit() == 1_048_576


def test_every_ledger_sheet_goes_on_past_the_row_limit_without_losing_a_row(
    tmp_path, cast, settings
):
    rows, per_worksheet = 5, 2
    for number, (key, source) in enumerate(_every_sheet(cast.county)):
        sheet = _with_rows(source, rows)
        columns = list(sheet.columns)
        depth = layout.header_depth(columns)
        first_data = 3 + depth
        settings.LEDGER_SHEET_MAX_ROWS = first_data - 1 + per_worksheet + int(sheet.with_totals)
        path = tmp_path / f"{number}-{key}.xlsx"
        assert _write(path, sheet) == rows
        book = openpyxl.load_workbook(path)
        where = f"{key}/{sheet.name}"
        assert book.sheetnames == [
            sheet.name,
            layout.continuation_name(sheet.name, 2),
            layout.continuation_name(sheet.name, 3),
        ], where
        first = book.worksheets[0]
        read = []
        for part, worksheet in enumerate(book.worksheets, start=1):
            assert worksheet.max_row <= settings.LEDGER_SHEET_MAX_ROWS, where
            title = sheet.title if part == 1 else f"{sheet.title}（{part}）"
            assert worksheet["A1"].value == title, where
            # The same header rows, merges, frozen panes and print titles on every worksheet.
            assert _header_rows(worksheet, depth) == _header_rows(first, depth), where
            merged = {str(cell_range) for cell_range in worksheet.merged_cells.ranges}
            assert merged == _expected_merges(columns), where
            assert worksheet.freeze_panes == f"B{first_data}", where
            assert worksheet.print_title_rows == f"$3:${2 + depth}", where
            for row_cells in worksheet.iter_rows(min_row=first_data, values_only=True):
                if isinstance(row_cells[0], int):
                    read.append(row_cells)
            labels = [row_cells[0] for row_cells in worksheet.iter_rows(values_only=True)]
            assert ("合计" in labels) == (sheet.with_totals and part == 3), where
        # 序号 runs on across the worksheets and every row is there, value for value.
        assert [row_cells[0] for row_cells in read] == [1, 2, 3, 4, 5], where
        for row, row_cells in enumerate(read, start=1):
            assert list(row_cells[1:]) == [
                _read_back(column.kind, _value(column.kind, row, col))
                for col, column in enumerate(columns)
            ], where
        if sheet.with_totals:
            last = book.worksheets[-1]
            totals = next(r for r in last.iter_rows(values_only=True) if r[0] == "合计")
            for col, column in enumerate(columns):
                if column.total:
                    expected = sum(_value(column.kind, row, col) for row in range(1, rows + 1))
                    assert totals[col + 1] == float(expected), where


def test_the_household_export_goes_on_in_a_second_worksheet(
    tmp_path, cast, household_a, household_b, settings
):
    household_services.income_set(
        actor=cast.county, household=household_b, year=2025, data={"wage": Decimal("100.50")}
    )
    # Title, letterhead, 3 header rows and the 合计 row leave one household per worksheet.
    settings.LEDGER_SHEET_MAX_ROWS = 7
    path = str(tmp_path / "households.xlsx")
    result = ledger_write(
        user=cast.county, key="households", filters={"income_year": "2025"}, path=path
    )
    assert result.rows == 2
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["户台账", "户台账（2）"]
    first, second = book.worksheets
    assert [first["A6"].value, second["A6"].value] == [1, 2]
    numbers = {first["B6"].value, second["B6"].value}
    assert numbers == {household_a.number, household_b.number}
    assert _header_rows(second, 3) == _header_rows(first, 3)
    assert second["A7"].value == "合计"
    assert second["B7"].value == "共2户"
    assert first.max_row == 6


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_a_continued_ledger_opens_cleanly_in_libreoffice(tmp_path, cast, settings):
    source = next(sheet for key, sheet in _every_sheet(cast.county) if key == "members")
    sheet = _with_rows(source, 5)
    settings.LEDGER_SHEET_MAX_ROWS = 2 + layout.header_depth(sheet.columns) + 2 + 1
    workbook = tmp_path / "members.xlsx"
    _write(workbook, sheet)
    outdir = tmp_path / "csv"
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(outdir),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr
    files = sorted(glob.glob(str(outdir / "*.csv")))
    assert len(files) == 3
    sequence = []
    for name in files:
        with open(name, encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        assert table[0][0] == sheet.title or table[0][0].startswith(f"{sheet.title}（")
        assert table[2][0] == "序号"
        sequence += [int(row[0]) for row in table if row and row[0].isdigit()]
    assert sequence == [1, 2, 3, 4, 5]
