"""The error workbook attached to an import job whose file has errors."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from households.exports import HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET
from households.imports.reading import HEADER_SCAN_ROWS, _open, _rows
from households.imports.report import ImportReport
from povertyapp.ledgers import layout
from povertyapp.ledgers.layout import HEALTH, SENSITIVE
from povertyapp.privacy import HEALTH_MASK, mask


def error_workbook(path: str, *, source: str, report: ImportReport) -> None:
    """The errors as a workbook: a list, then each sheet's bad rows with the bad cells
    highlighted and the message as a comment. Sensitive values are masked throughout."""
    import xlsxwriter

    by_sheet: dict[str, dict[int, dict[int | None, str]]] = defaultdict(lambda: defaultdict(dict))
    for error in report.errors:
        if error.row:
            cells = by_sheet[error.sheet][error.row]
            previous = cells.get(error.column_index)
            cells[error.column_index] = (
                f"{previous}\n{error.message}" if previous else error.message
            )
    book = xlsxwriter.Workbook(
        path, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    header = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    bad = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "border": 1})
    plain = book.add_format({"border": 1, "num_format": "@"})
    listing = book.add_worksheet(_("错误清单"))
    for col, (label, width) in enumerate(
        (
            (_("工作表"), 12),
            (_("行号"), 8),
            (_("列"), 20),
            (_("值（已脱敏）"), 24),
            (_("错误说明"), 80),
        )
    ):
        listing.write_string(0, col, label, header)
        listing.set_column(col, col, width)
    for row, error in enumerate(report.errors, start=1):
        listing.write_string(row, 0, error.sheet)
        listing.write_number(row, 1, error.row)
        listing.write_string(row, 2, error.column)
        listing.write_string(row, 3, layout.neutralise(error.value))
        listing.write_string(row, 4, error.message)
    listing.freeze_panes(1, 0)
    columns_by_sheet = {HOUSEHOLD_SHEET: HOUSEHOLD_COLUMNS, MEMBER_SHEET: MEMBER_COLUMNS}
    workbook = _open(source)
    try:
        for title, part in workbook.sheets():
            bad_rows = by_sheet.get(title)
            if not bad_rows:
                continue
            out = book.add_worksheet(f"{title}（出错行）"[:31])
            out.write_string(0, 0, _("原行号"), header)
            masked_columns: set[int] = set()
            out_row = 1
            for number, values in _rows(workbook, part):
                if number <= HEADER_SCAN_ROWS and number not in bad_rows:
                    # Header rows: copied once, to find which columns hold sensitive data.
                    labels = {
                        c.header: c
                        for c in columns_by_sheet.get(
                            HOUSEHOLD_SHEET if "户状态" in values else MEMBER_SHEET, ()
                        )
                    }
                    for index, value in enumerate(values):
                        if isinstance(value, str) and value.strip() in labels:
                            out.write_string(0, index + 1, value.strip(), header)
                            if labels[value.strip()].kind in (SENSITIVE, HEALTH):
                                masked_columns.add(index)
                    continue
                row_cells = bad_rows.get(number)
                if row_cells is None:
                    continue
                out.write_number(out_row, 0, number, plain)
                for index, value in enumerate(values):
                    text = "" if value is None else str(value)
                    if index in masked_columns and text:
                        text = mask(text) if len(text) > 7 else HEALTH_MASK
                    message = row_cells.get(index)
                    out.write_string(
                        out_row, index + 1, layout.neutralise(text), bad if message else plain
                    )
                    if message:
                        out.write_comment(out_row, index + 1, message)
                if None in row_cells:
                    out.write_comment(out_row, 0, row_cells[None])
                out_row += 1
            out.freeze_panes(1, 1)
    finally:
        workbook.close()
        book.close()
