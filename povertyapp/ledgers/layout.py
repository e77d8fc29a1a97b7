"""The government ledger layout (DOMAIN §10), written with xlsxwriter in constant-memory mode.

A sheet is: row 1 the title merged across all columns; row 2 填报单位 / 填报人 / 填报日期 (or
统计截止日期); 1–3 header rows with merged groups (a column's `group` is the path of group titles
above it); the data rows with 序号 first; a 合计 row at the bottom or the top (a setting); frozen
header; widths fitted to Chinese text; yuan with two decimals; landscape A4 with the header rows
repeated on every printed page.

Why xlsxwriter: in constant-memory mode it writes each row to a temporary file as soon as the
next row starts, so memory stays flat however long the ledger, and it measured faster than
openpyxl's write-only mode (docs/performance.md). The price is that rows must be written in
order: header cells are therefore written row by row and their merge ranges registered
directly (see `_write_headers`), and a 合计 row at the top needs the totals before the rows
(a first pass over the rows computes them).

Every text value goes through `neutralise`: no cell is ever a formula (strings are written with
`write_string`, never `write`), and text that a spreadsheet or a CSV consumer would read as a
formula gets an apostrophe in front; `restore` is its exact inverse for the importer.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

# Characters that make a spreadsheet (or a CSV reader) evaluate a cell.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
NEUTRALISED_FIRST = frozenset((*FORMULA_TRIGGERS, QUOTE))  # first characters that get a quote

TEXT = "text"  # plain text
SENSITIVE = "sensitive"  # ID or account number: a text cell, masked for roles without the right
HEALTH = "health"  # health details: masked (***) for roles without the right
INTEGER = "int"
MONEY = "money"  # yuan, two decimals
DECIMAL = "decimal"  # areas, distances: two decimals
BOOLEAN = "bool"  # 是 / 否
DATE = "date"
KINDS = {TEXT, SENSITIVE, HEALTH, INTEGER, MONEY, DECIMAL, BOOLEAN, DATE}
YES, NO = "是", "否"
EXCEL_MAX_ROWS = 1_048_576  # rows of one worksheet (Excel 2007 and later)


def neutralise(text: str) -> str:
    """Text as written to a cell: an apostrophe before a formula trigger (and before a leading
    apostrophe, so that `restore` is exact)."""
    if text and (text[0] in FORMULA_TRIGGERS or text[0] == QUOTE):
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The inverse of `neutralise` (used by the importer)."""
    if len(text) > 1 and text[0] == QUOTE and (text[1] in FORMULA_TRIGGERS or text[1] == QUOTE):
        return text[1:]
    return text


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_ooxml(text: str) -> str:
    """Undo the OOXML `_xHHHH_` escapes (xlsxwriter writes a CR as `_x000D_`; Excel and
    LibreOffice decode it, openpyxl does not for inline strings)."""
    if "_x" not in text:
        return text
    return _OOXML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def header_footer_text(text: str, *, limit: int = 100) -> str:
    """`text` as literal text of an Excel page header or footer: `&` doubled (a single one starts
    a code such as &P), line breaks removed, cut to `limit` characters (Excel refuses a header
    or footer longer than 255 characters, codes included)."""
    flat = " ".join(text.split())[:limit]
    return flat.replace("&", "&&")


def display_width(text: str) -> int:
    """Width in Excel character units: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


@dataclass(frozen=True)
class Column:
    """One ledger column. `key` names the value (and the importer's field)."""

    key: str
    header: str
    kind: str = TEXT
    group: tuple[str, ...] = ()
    width: float | None = None  # a fixed width; otherwise fitted to the header and values
    value_list: str = ""  # households.models.ValueList key, for the template's drop-downs
    required: bool = False
    total: bool = False  # summed in the 合计 row

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}")


@dataclass
class SheetSpec:
    """What one worksheet of a ledger holds. `rows()` yields one sequence of values per row in
    column order (without 序号); it may be called twice (合计 at the top)."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Callable[[], Iterable[Sequence[Any]]]
    count: Callable[[], int]
    date_label: str = ""  # 填报日期 or 统计截止日期
    totals_label: str = ""  # e.g. 共%(rows)d户
    with_totals: bool = True  # False for the blank import template


@dataclass
class Letterhead:
    unit: str  # 填报单位
    person: str  # 填报人
    date: datetime.date
    # 数据时点: the time the data stands at (a read replica's replay time, else the primary's
    # clock; povertyapp.db_router.data_as_of). Not shown when None (templates, benchmarks).
    data_as_of: datetime.datetime | None = None


def sheet_row_limit() -> int:
    """Rows a worksheet may hold (LEDGER_SHEET_MAX_ROWS, default Excel's 1,048,576): a longer
    sheet goes on in continuation worksheets."""
    return int(getattr(settings, "LEDGER_SHEET_MAX_ROWS", EXCEL_MAX_ROWS))


def continuation_name(name: str, part: int) -> str:
    """The name of a sheet's `part`-th worksheet, within Excel's 31 characters."""
    suffix = f"（{part}）"
    return name[: 31 - len(suffix)] + suffix


def totals_position() -> str:
    position = getattr(settings, "LEDGER_TOTALS_POSITION", "bottom")
    return position if position in ("top", "bottom") else "bottom"


@dataclass
class _Formats:
    title: Any
    letterhead: Any
    header: Any
    text: Any
    integer: Any
    money: Any
    decimal: Any
    date: Any
    total_label: Any
    total_money: Any
    total_integer: Any


def _formats(workbook: xlsxwriter.Workbook) -> _Formats:
    base = {"border": 1, "font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    return _Formats(
        title=workbook.add_format(
            {
                "bold": True,
                "font_size": 16,
                "font_name": "黑体",
                "align": "center",
                "valign": "vcenter",
            }
        ),
        letterhead=workbook.add_format({"font_name": "宋体", "font_size": 10}),
        header=workbook.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"}
        ),
        text=workbook.add_format({**base, "num_format": "@"}),
        integer=workbook.add_format({**base, "num_format": "0"}),
        money=workbook.add_format({**base, "num_format": "#,##0.00"}),
        decimal=workbook.add_format({**base, "num_format": "0.00"}),
        date=workbook.add_format({**base, "num_format": "yyyy-mm-dd"}),
        total_label=workbook.add_format({**base, "bold": True, "align": "center"}),
        total_money=workbook.add_format({**base, "bold": True, "num_format": "#,##0.00"}),
        total_integer=workbook.add_format({**base, "bold": True, "num_format": "0"}),
    )


def header_depth(columns: Sequence[Column]) -> int:
    return 1 + max((len(column.group) for column in columns), default=0)


def header_grid(
    columns: Sequence[Column],
) -> tuple[list[list[str | None]], list[tuple[int, int, int, int]]]:
    """The header rows (序号 first) as a grid of labels and the merge ranges
    (first_row, first_col, last_row, last_col), relative to the first header row."""
    depth = header_depth(columns)
    labels: list[tuple[str, ...]] = [((_("序号"),))]
    labels += [(*column.group, column.header) for column in columns]
    width = len(labels)
    grid: list[list[str | None]] = [[None] * width for _row in range(depth)]
    merges: list[tuple[int, int, int, int]] = []
    # A column's own header spans from below its groups down to the last header row.
    for col, path in enumerate(labels):
        top = len(path) - 1
        grid[top][col] = path[-1]
        if top < depth - 1:
            merges.append((top, col, depth - 1, col))
    # Adjacent columns sharing a group path prefix share one merged group cell.
    for level in range(depth - 1):
        col = 0
        while col < width:
            path = labels[col]
            if len(path) - 1 <= level:
                col += 1
                continue
            prefix = path[: level + 1]
            end = col
            while (
                end + 1 < width
                and len(labels[end + 1]) - 1 > level
                and labels[end + 1][: level + 1] == prefix
            ):
                end += 1
            grid[level][col] = prefix[-1]
            if end > col:
                merges.append((level, col, level, end))
            col = end + 1
    return grid, merges


class LedgerWorkbook:
    """Writes ledger sheets to `path`. Use as a context manager; `write_sheet` per sheet."""

    SAMPLE_ROWS = 300  # rows looked at to fit the column widths

    def __init__(
        self, path: str, *, letterhead: Letterhead, sensitive_visible: bool, watermark: str = ""
    ) -> None:
        self.workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        self.formats = _formats(self.workbook)
        self.letterhead = letterhead
        self.sensitive_visible = sensitive_visible
        # Printed in every sheet's page header and footer (unmasked exports: who, when).
        self.watermark = watermark
        # name → (worksheet, first data row), for callers that add data validation.
        self.sheets: dict[str, tuple[Any, int]] = {}

    def __enter__(self) -> LedgerWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.workbook.close()

    def write_sheet(
        self, sheet: SheetSpec, *, on_rows: Callable[[int], None] | None = None, batch: int = 1000
    ) -> int:
        """Write one sheet; `on_rows(n)` is called every `batch` rows. Returns the row count.

        A sheet whose rows do not fit in one worksheet (Excel's 1,048,576 rows,
        `sheet_row_limit()`) goes on in continuation worksheets, "name（2）", "name（3）"…, each
        with the title, letterhead and header rows; 序号 runs on across them and the 合计 row
        (of every row) is on the first worksheet (top) or the last (bottom)."""
        columns = list(sheet.columns)
        depth = header_depth(columns)
        first_data = 2 + depth
        position = totals_position() if sheet.with_totals else "none"
        per_sheet = sheet_row_limit() - first_data - (0 if position == "none" else 1)
        if per_sheet < 1:
            raise ValueError("LEDGER_SHEET_MAX_ROWS leaves no room for data rows")
        summed = [index for index, column in enumerate(columns) if column.total]
        totals = [Decimal("0") if column.total else None for column in columns]
        widths = [max(display_width(column.header) + 2, 6) for column in columns]
        sample = [
            index
            for index, column in enumerate(columns)
            if column.kind in (TEXT, SENSITIVE, HEALTH) and not column.width
        ]
        part = 1
        worksheet, writers, row_number = self._begin_sheet(
            sheet, columns, part=part, totals_on_top=position == "top"
        )
        if position == "top":
            for values in sheet.rows():
                _add_totals(totals, summed, values)
            self._write_totals(worksheet, row_number, columns, totals, sheet.count(), sheet)
            row_number += 1
        count = 0
        in_sheet = 0
        sequence_format = self.formats.integer
        write_number = worksheet._write_number  # undecorated write_number (no A1 parsing)
        cell_columns = range(1, len(columns) + 1)
        for values in sheet.rows():
            if in_sheet == per_sheet:
                self._finish_sheet(worksheet, columns, widths)
                part += 1
                worksheet, writers, row_number = self._begin_sheet(
                    sheet, columns, part=part, totals_on_top=False
                )
                write_number = worksheet._write_number
                in_sheet = 0
            count += 1
            in_sheet += 1
            write_number(row_number, 0, count, sequence_format)
            for col, writer, value in zip(cell_columns, writers, values, strict=True):
                if value is not None:
                    writer(row_number, col, value)
            if position == "bottom":
                _add_totals(totals, summed, values)
            if count <= self.SAMPLE_ROWS:
                for index in sample:
                    value = values[index]
                    if value is not None:
                        widths[index] = max(widths[index], display_width(str(value)) + 2)
            row_number += 1
            if on_rows is not None and count % batch == 0:
                on_rows(batch)
        if on_rows is not None and count % batch:
            on_rows(count % batch)
        if position == "bottom":
            self._write_totals(worksheet, row_number, columns, totals, count, sheet)
        self._finish_sheet(worksheet, columns, widths)
        return count

    def _begin_sheet(
        self, sheet: SheetSpec, columns: list[Column], *, part: int, totals_on_top: bool
    ) -> tuple[Any, list[Callable[[int, int, Any], Any]], int]:
        """Add a worksheet (the `part`-th of `sheet`) with its title, letterhead and headers:
        the worksheet, a cell writer per column and the first data row."""
        from povertyapp.privacy import HEALTH_MASK, mask

        formats = self.formats
        name = sheet.name if part == 1 else continuation_name(sheet.name, part)
        title = sheet.title if part == 1 else f"{sheet.title}（{part}）"
        worksheet = self.workbook.add_worksheet(name)
        last_col = len(columns)  # 序号 is column 0
        header_top = 2
        first_data = header_top + header_depth(columns)
        self.sheets[name] = (worksheet, first_data + (1 if totals_on_top else 0))

        worksheet.set_landscape()
        worksheet.set_paper(9)  # A4
        worksheet.fit_to_pages(1, 0)
        worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        worksheet.repeat_rows(header_top, first_data - 1)
        worksheet.freeze_panes(first_data + (1 if totals_on_top else 0), 1)
        page_of = "&C" + _("第 &P 页，共 &N 页")
        if self.watermark:
            mark = header_footer_text(self.watermark)
            worksheet.set_header("&C&10" + mark)
            worksheet.set_footer("&L&8" + mark + page_of)
        else:
            worksheet.set_footer(page_of)

        # Row 1: the title, merged across every column.
        worksheet.set_row(0, 30)
        worksheet.merge_range(0, 0, 0, last_col, title, formats.title)
        # Row 2: 填报单位 / 填报人 / 填报日期 (/ 数据时点), spread over the width.
        letterhead = [
            _("填报单位：%(unit)s") % {"unit": self.letterhead.unit},
            _("填报人：%(person)s") % {"person": self.letterhead.person},
            _("%(label)s：%(date)s")
            % {
                "label": sheet.date_label or _("填报日期"),
                "date": self.letterhead.date.isoformat(),
            },
        ]
        if self.letterhead.data_as_of is not None:
            letterhead.append(
                _("数据时点：%(time)s")
                % {"time": f"{timezone.localtime(self.letterhead.data_as_of):%Y-%m-%d %H:%M:%S}"}
            )
        step = max(1, (last_col + 1) // len(letterhead))
        cells: dict[int, str] = {}
        for index, text in enumerate(letterhead):
            # A sheet narrower than its letterhead puts the rest in its last cell.
            position = min(index * step, last_col)
            cells[position] = f"{cells[position]}  {text}" if position in cells else text
        for position, text in cells.items():
            worksheet.write_string(1, position, text, formats.letterhead)
        self._write_headers(worksheet, columns, header_top)
        # The per-row path: one prebuilt writer per column (kind, format, masking and
        # neutralisation decided once per worksheet), None skipped.
        writers = [self._cell_writer(worksheet, column, mask, HEALTH_MASK) for column in columns]
        return worksheet, writers, first_data

    def _finish_sheet(self, worksheet: Any, columns: list[Column], widths: list[int]) -> None:
        worksheet.set_column(0, 0, 6)
        for index, column in enumerate(columns):
            width = column.width or min(max(widths[index], _minimum_width(column)), 50)
            worksheet.set_column(index + 1, index + 1, width)

    def _write_headers(self, worksheet: Any, columns: list[Column], top: int) -> None:
        grid, merges = header_grid(columns)
        # Cells are written row by row (constant memory); merge ranges are registered
        # afterwards without writing cells, which merge_range would do out of row order.
        for offset, labels in enumerate(grid):
            worksheet.set_row(top + offset, 30)
            for col, label in enumerate(labels):
                if label is None:
                    worksheet.write_blank(top + offset, col, None, self.formats.header)
                else:
                    worksheet.write_string(top + offset, col, label, self.formats.header)
        for first_row, first_col, last_row, last_col in merges:
            worksheet.merge.append([top + first_row, first_col, top + last_row, last_col])

    def _write_totals(
        self,
        worksheet: Any,
        row: int,
        columns: list[Column],
        totals: list[Decimal | None],
        count: int,
        sheet: SheetSpec,
    ) -> None:
        formats = self.formats
        worksheet.write_string(row, 0, _("合计"), formats.total_label)
        label = (sheet.totals_label or _("共%(rows)d行")) % {"rows": count}
        for index, column in enumerate(columns):
            total = totals[index]
            if total is not None:
                fmt = formats.total_integer if column.kind == INTEGER else formats.total_money
                worksheet.write_number(row, index + 1, float(total), fmt)
            elif index == 0:
                worksheet.write_string(row, 1, label, formats.total_label)
            else:
                worksheet.write_blank(row, index + 1, None, formats.total_label)

    def _cell_writer(
        self, worksheet: Any, column: Column, mask: Callable[[str], str], health_mask: str
    ) -> Callable[[int, int, Any], Any]:
        """The function writing one non-None value of `column`. It calls xlsxwriter's
        undecorated `_write_string`/`_write_number` (the public methods minus the wrapper that
        parses A1 notation), which is the innermost loop of a ledger."""
        formats = self.formats
        write_string, write_number = worksheet._write_string, worksheet._write_number
        kind = column.kind
        text_format = formats.text

        if kind == SENSITIVE and not self.sensitive_visible:

            def masked(row: int, col: int, value: Any) -> None:
                value = str(value)
                if value:
                    write_string(row, col, mask(value), text_format)

            return masked
        if kind == HEALTH and not self.sensitive_visible:

            def hidden(row: int, col: int, value: Any) -> None:
                if value != "":
                    write_string(row, col, health_mask, text_format)

            return hidden
        if kind in (TEXT, SENSITIVE, HEALTH):

            def text(row: int, col: int, value: Any) -> None:
                if value.__class__ is not str:
                    value = str(value)
                if value:
                    if value[0] in NEUTRALISED_FIRST:
                        value = QUOTE + value
                    write_string(row, col, value, text_format)

            return text
        if kind == INTEGER:
            integer_format = formats.integer

            def integer(row: int, col: int, value: Any) -> None:
                if value != "":
                    write_number(row, col, value, integer_format)

            return integer
        if kind in (MONEY, DECIMAL):
            number_format = formats.money if kind == MONEY else formats.decimal

            def number(row: int, col: int, value: Any) -> None:
                if value != "":
                    write_number(row, col, float(value), number_format)

            return number
        if kind == BOOLEAN:

            def boolean(row: int, col: int, value: Any) -> None:
                if value != "":
                    write_string(row, col, YES if value else NO, text_format)

            return boolean
        date_format = formats.date
        write_datetime = worksheet.write_datetime

        def date(row: int, col: int, value: Any) -> None:
            if value == "":
                return
            serial = _excel_serial(value)
            if serial is None:
                write_datetime(
                    row, col, datetime.datetime.combine(value, datetime.time()), date_format
                )
            else:
                write_number(row, col, serial, date_format)

        return date


def _add_totals(totals: list[Decimal | None], summed: list[int], values: Sequence[Any]) -> None:
    """Add a row's summed columns (exact: Decimal; a float is converted by its repr)."""
    for index in summed:
        value = values[index]
        if value is not None and value != "":
            totals[index] += value if value.__class__ is not float else Decimal(repr(value))  # type: ignore[operator]  # summed columns start at Decimal 0, never None


# Excel's serial day numbers (1900 date system): day 1 is 1900-01-01, and Excel counts a
# 1900-02-29 that never was, so from 1900-03-01 on the serial is the days since 1899-12-30.
_SERIAL_EPOCH = datetime.date(1899, 12, 30).toordinal()
_FIRST_PLAIN_SERIAL = datetime.date(1900, 3, 1)


def _excel_serial(value: Any) -> int | None:
    """A date's Excel serial number (what xlsxwriter's write_datetime writes for it), or None
    for a datetime or a date before 1900-03-01, which go through write_datetime itself."""
    if value.__class__ is datetime.date and value >= _FIRST_PLAIN_SERIAL:
        return value.toordinal() - _SERIAL_EPOCH
    return None


def _minimum_width(column: Column) -> int:
    return {SENSITIVE: 21, DATE: 12, MONEY: 12, DECIMAL: 10}.get(column.kind, 6)
