"""The tables the onboarding imports read: an .xlsx workbook (the streaming reader of
`povertyapp.ledgers.reader`, after the hostile-file checks) or a CSV file in UTF-8 or GBK
(detected), each sheet found by its header text; the report of what an import found; the
error workbook; and the blank templates (the ledger layout of DOMAIN §10).

Cells are parsed by the household import's `parse_cell`, and errors are its `CellError`s, so
the three onboarding imports speak as the household import does."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from households.imports.reading import HEADER_SCAN_ROWS, _open, _rows, _shown, parse_cell
from households.imports.report import CellError, ImportRefused
from povertyapp.ledgers import layout
from povertyapp.ledgers.layout import Column
from povertyapp.ledgers.safety import max_rows
from povertyapp.models import User

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class SheetSpec:
    """A sheet an import reads: its name (in the template), its columns, the keys that must be
    there, other header texts accepted for a column, and whether a file must hold it."""

    name: str
    columns: Sequence[Column]
    required: Sequence[str]
    aliases: dict[str, str] = field(default_factory=dict)  # other header text → key
    optional: bool = False

    def headers(self) -> dict[str, str]:
        return {**{column.header: column.key for column in self.columns}, **self.aliases}

    def header_of(self, key: str) -> str:
        return next(column.header for column in self.columns if column.key == key)


@dataclass
class Row:
    number: int  # the row number in the file (Excel's, or the CSV line)
    values: dict[str, Any]
    raw: tuple[Any, ...]
    unreadable: bool = False  # a cell could not be read (already an error): no further checks


@dataclass
class Table:
    spec: SheetSpec
    title: str  # the sheet's name in the file ("CSV" for a CSV file)
    columns: dict[str, int]  # key → 0-based index
    header: tuple[Any, ...]
    rows: list[Row]

    def cell_error(self, row: Row, key: str, message: str) -> CellError:
        """An error on one cell of a row (or on the whole row, for a key the file lacks)."""
        index = self.columns.get(key)
        column = next((column for column in self.spec.columns if column.key == key), None)
        value = row.raw[index] if index is not None and index < len(row.raw) else None
        return CellError(
            self.title,
            row.number,
            column.header if column else key,
            _shown(column, value) if column else "",
            message,
            index,
        )


@dataclass
class OnboardingReport:
    """What an onboarding import found and did."""

    dry_run: bool
    errors: list[CellError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0  # regions merged away (撤并)
    households_moved: int = 0
    # Other rows that followed a merged unit to the survivor ({what: count}: users, data
    # problems, village-year rows, projects, assets …; `households.hooks.MergeFollower`).
    rows_moved: dict[str, int] = field(default_factory=dict)
    written: bool = False

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.ended

    def summary(self) -> str:
        text = _(
            "新增%(created)d条、更新%(updated)d条、撤并%(ended)d条、无变化%(unchanged)d条"
            "（共%(changed)d条变化）"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "ended": self.ended,
            "unchanged": self.unchanged,
            "changed": self.changed,
        }
        if self.households_moved:
            text += _("；%(count)d户随撤并的村迁入新村") % {"count": self.households_moved}
        if self.dry_run:
            text += _("（预检，未写入）")
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "error_count": len(self.errors),
            "errors": [error.as_dict() for error in self.errors[:1000]],
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "ended": self.ended,
            "changed": self.changed,
            "households_moved": self.households_moved,
            "rows_moved": self.rows_moved,
            "summary": self.summary(),
        }


def is_workbook(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def _locate(
    title: str, head: list[tuple[int, tuple[Any, ...]]], spec: SheetSpec
) -> tuple[dict[str, int], int, tuple[Any, ...]] | None:
    """The header row of a sheet (key → index, its number, its cells), or None when none of the
    first rows holds every required header."""
    headers = spec.headers()
    for number, values in head:
        found: dict[str, int] = {}
        for index, value in enumerate(values):
            if isinstance(value, str) and value.strip() in headers:
                found.setdefault(headers[value.strip()], index)
        if all(key in found for key in spec.required):
            return found, number, values
    return None


def _refuse_a_second(
    title: str,
    head: list[tuple[int, tuple[Any, ...]]],
    specs: Sequence[SheetSpec],
    tables: dict[str, Table],
) -> None:
    """A sheet whose header is that of a table already read refuses the file: reading one of
    the two would leave the other's rows out without a word (these files are small: one sheet
    a table)."""
    for spec in specs:
        if spec.name in tables and _locate(title, head, spec) is not None:
            raise ImportRefused(
                _(
                    "“%(first)s”和“%(second)s”两张表的表头都是“%(sheet)s”表的表头：请合并为"
                    "一张表后重新导入，未写入任何数据。"
                )
                % {"first": tables[spec.name].title, "second": title, "sheet": spec.name}
            )


def _parse_rows(
    title: str,
    spec: SheetSpec,
    columns: dict[str, int],
    header_row: int,
    rows: Any,
    errors: list[CellError],
) -> list[Row]:
    wanted = [column for column in spec.columns if column.key in columns]
    parsed: list[Row] = []
    limit = max_rows()
    for number, raw in rows:
        if number <= header_row or not raw:
            continue
        raw = tuple(raw)
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in raw):
            continue
        if isinstance(raw[0], str) and raw[0].strip() == "合计":
            continue
        if len(parsed) >= limit:
            raise ImportRefused(
                _("工作表“%(sheet)s”超过%(limit)d行的上限，请分批导入。")
                % {"sheet": title, "limit": limit}
            )
        values: dict[str, Any] = {}
        unreadable = False
        for column in wanted:
            index = columns[column.key]
            cell = raw[index] if index < len(raw) else None
            try:
                values[column.key] = parse_cell(column, cell)
            except ValueError as error:
                errors.append(
                    CellError(title, number, column.header, _shown(column, cell), str(error), index)
                )
                values[column.key] = None
                unreadable = True
        parsed.append(Row(number, values, raw, unreadable))
    return parsed


def _decode(data: bytes) -> str:
    """UTF-8 (with or without its BOM) or GBK (read as GB18030, its superset), whichever the
    bytes are: the statistics office and Excel in China save CSV in either."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportRefused(_("CSV文件的编码无法识别，请保存为UTF-8或GBK编码。")) from None


def read_tables(path: str, specs: Sequence[SheetSpec]) -> tuple[dict[str, Table], list[CellError]]:
    """The sheets of the file by spec name, and the cells that could not be read. A CSV file
    holds the first spec only. A required sheet that is missing refuses the file."""
    errors: list[CellError] = []
    tables: dict[str, Table] = {}
    if is_workbook(path):
        workbook = _open(path)
        try:
            for title, part in workbook.sheets():
                head: list[tuple[int, tuple[Any, ...]]] = []
                stream = _rows(workbook, part)
                try:
                    for number, values in stream:
                        if number > HEADER_SCAN_ROWS:
                            break
                        head.append((number, values))
                finally:
                    stream.close()
                for spec in specs:
                    if spec.name in tables:
                        continue
                    located = _locate(title, head, spec)
                    if located is None:
                        continue
                    columns, header_row, header = located
                    rows = _parse_rows(
                        title, spec, columns, header_row, _rows(workbook, part), errors
                    )
                    tables[spec.name] = Table(spec, title, columns, header, rows)
                    break
                else:
                    _refuse_a_second(title, head, specs, tables)
        finally:
            workbook.close()
    else:
        with open(path, "rb") as handle:
            text = _decode(handle.read())
        if "\0" in text:
            raise ImportRefused(_("文件不是CSV文本文件，也不是Excel工作簿。"))
        lines = list(enumerate(csv.reader(io.StringIO(text)), start=1))
        head = [(number, tuple(values)) for number, values in lines[:HEADER_SCAN_ROWS]]
        spec = specs[0]
        located = _locate("CSV", head, spec)
        if located is not None:
            columns, header_row, header = located
            rows = _parse_rows(
                "CSV", spec, columns, header_row, ((n, tuple(v)) for n, v in lines), errors
            )
            tables[spec.name] = Table(spec, "CSV", columns, header, rows)
    missing = [spec for spec in specs if not spec.optional and spec.name not in tables]
    if missing:
        raise ImportRefused(
            _("未找到“%(sheet)s”表：按表头文字识别，须有“%(headers)s”列。请使用导入模板。")
            % {
                "sheet": missing[0].name,
                "headers": "”“".join(missing[0].header_of(key) for key in missing[0].required),
            }
        )
    return tables, errors


def error_workbook(path: str, *, report: OnboardingReport, tables: dict[str, Table]) -> None:
    """The errors as a workbook: the list, then each sheet's bad rows, the bad cells
    highlighted with the message as a comment."""
    import xlsxwriter

    by_sheet: dict[str, dict[int, dict[int | None, str]]] = defaultdict(lambda: defaultdict(dict))
    for error in report.errors:
        cells = by_sheet[error.sheet][error.row]
        previous = cells.get(error.column_index)
        cells[error.column_index] = f"{previous}\n{error.message}" if previous else error.message
    book = xlsxwriter.Workbook(
        path, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    header = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    bad = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "border": 1})
    plain = book.add_format({"border": 1, "num_format": "@"})
    listing = book.add_worksheet(_("错误清单"))
    for col, (label, width) in enumerate(
        ((_("工作表"), 12), (_("行号"), 8), (_("列"), 20), (_("值"), 24), (_("错误说明"), 80))
    ):
        listing.write_string(0, col, label, header)
        listing.set_column(col, col, width)
    for line, error in enumerate(report.errors, start=1):
        listing.write_string(line, 0, error.sheet)
        listing.write_number(line, 1, error.row)
        listing.write_string(line, 2, error.column)
        listing.write_string(line, 3, layout.neutralise(error.value))
        listing.write_string(line, 4, error.message)
    listing.freeze_panes(1, 0)
    for table in tables.values():
        bad_rows = by_sheet.get(table.title)
        if not bad_rows:
            continue
        out = book.add_worksheet(f"{table.title}（出错行）"[:31])
        out.write_string(0, 0, _("原行号"), header)
        for index, value in enumerate(table.header):
            out.write_string(0, index + 1, "" if value is None else str(value), header)
        out_row = 1
        for row in table.rows:
            found = bad_rows.get(row.number)
            if found is None:
                continue
            cells = found
            out.write_number(out_row, 0, row.number, plain)
            for index, value in enumerate(row.raw):
                message = cells.get(index)
                text = layout.neutralise("" if value is None else str(value))
                out.write_string(out_row, index + 1, text, bad if message else plain)
                if message:
                    out.write_comment(out_row, index + 1, message)
            if None in cells:
                out.write_comment(out_row, 0, cells[None])
            out_row += 1
        out.freeze_panes(1, 1)
    book.close()


def template_workbook(
    path: str,
    *,
    user: User | None,
    sheets: Sequence[tuple[SheetSpec, str]],
    help_lines: Sequence[str],
) -> None:
    """A blank template in the ledger layout: each sheet's Chinese headers under its title, and
    the instructions."""
    region = user.region if user is not None else None
    letterhead = layout.Letterhead(
        unit=region.name if region else "",
        person=user.display_name if user is not None else "",
        date=timezone.localdate(),
    )
    with layout.LedgerWorkbook(path, letterhead=letterhead, sensitive_visible=True) as workbook:
        for spec, title in sheets:
            workbook.write_sheet(
                layout.SheetSpec(
                    name=spec.name,
                    title=title,
                    columns=spec.columns,
                    rows=lambda: [],
                    count=lambda: 0,
                    with_totals=False,
                )
            )
        help_sheet = workbook.workbook.add_worksheet(_("填写说明"))
        help_sheet.set_column(0, 0, 110)
        wrap = workbook.workbook.add_format({"text_wrap": True, "valign": "top"})
        for index, line in enumerate(help_lines):
            help_sheet.write_string(index, 0, line, wrap)
