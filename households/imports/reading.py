"""Reading the workbook: the hostile-file checks before anything is parsed, the two sheets found by
their header text, and the data rows streamed (`povertyapp.ledgers.reader`, on the standard
library) with each cell parsed by its column's kind. A cell that cannot be read is a `CellError`
in the report."""

from __future__ import annotations

import datetime
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from households.exports import HOUSEHOLD_SHEET, MEMBER_SHEET
from households.imports.columns import (
    HOUSEHOLD_IMPORTED,
    HOUSEHOLD_REQUIRED,
    HOUSEHOLD_SIGNATURE,
    MEMBER_IMPORTED,
    MEMBER_REQUIRED,
    MEMBER_SIGNATURE,
)
from households.imports.report import CellError, ImportRefused, ImportReport
from povertyapp import uploads
from povertyapp.ledgers import layout, reader
from povertyapp.ledgers.layout import (
    BOOLEAN,
    DATE,
    DECIMAL,
    HEALTH,
    INTEGER,
    MONEY,
    SENSITIVE,
    Column,
)
from povertyapp.ledgers.safety import max_rows
from povertyapp.privacy import HEALTH_MASK, mask

HEADER_SCAN_ROWS = 8  # a sheet's header rows are looked for among its first rows
CACHE_PER_COLUMN = 4096  # distinct cell values whose parse a column remembers


@dataclass
class SheetData:
    name: str  # the worksheet's name in the file
    part: str  # its part in the package
    columns: dict[str, int]  # key → 0-based index
    header_row: int  # the last header row (Excel number); data rows follow it


ROW_BITS = 21  # a row's place: its sheet's index above 21 bits, its Excel row (≤ 1,048,576) below


@dataclass
class Sheets:
    """The worksheets of one kind, in workbook order: the first, and every further one with
    the same header text — the continuation sheets (“人员台账（2）”…) the export writes when a
    ledger passes a worksheet's rows, or a user's sheets per township. Every row is read: a
    sheet left out would lose its households or members without a word.

    A row is known by its place (`rows()`), one int for the staging file and the checks; its
    sheet and Excel row come back from `where()`."""

    items: list[SheetData]

    @property
    def name(self) -> str:
        return self.items[0].name

    def where(self, place: int) -> tuple[SheetData, int]:
        return self.items[place >> ROW_BITS], place & ((1 << ROW_BITS) - 1)

    def xml_bytes(self, workbook: reader.XlsxReader) -> int:
        """The sheets' XML, uncompressed, as the package declares it."""
        return sum(workbook.archive.getinfo(sheet.part).file_size for sheet in self.items)

    def rows(
        self,
        workbook: reader.XlsxReader,
        columns: Sequence[Column],
        report: ImportReport,
        unreadable: set[tuple[str, int, str]],
        limit: int | None = None,
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every sheet's data rows (`data_rows`, each sheet up to `limit`), by place."""
        for index, sheet in enumerate(self.items):
            for row, values in data_rows(workbook, sheet, columns, report, unreadable, limit):
                yield index << ROW_BITS | row, values


def _shown(column: Column, value: Any) -> str:
    if value is None:
        return ""
    text = (
        value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else str(value)
    )
    if column.kind == SENSITIVE:
        return mask(text)
    if column.kind == HEALTH and text:
        return HEALTH_MASK
    return text[:100]


def _text(value: Any) -> str:
    # The reader has already decoded the `_xHHHH_` escapes (once: decoding twice would turn a
    # literal "_x000D_" into a CR).
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return layout.restore(str(value).strip())


def parse_cell(column: Column, value: Any) -> Any:
    """A cell's value as the registry stores it; raises ValueError with a Chinese message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "" if column.kind in (layout.TEXT, SENSITIVE, HEALTH) else None
    kind = column.kind
    if kind == SENSITIVE:
        if isinstance(value, (int, float)):
            raise ValueError(
                _("须以文本格式填写（数字格式会丢失末几位），请将单元格设为文本后重新录入。")
            )
        text = _text(value)
        if "*" in text:
            raise ValueError(
                _("这是脱敏后的号码，不能导入。请使用有权查看完整号码的账号导出的台账。")
            )
        return text
    if kind == HEALTH:
        text = _text(value)
        if text == HEALTH_MASK:
            raise ValueError(_("这是脱敏后的健康信息，不能导入。"))
        return text
    if kind == layout.TEXT:
        return _text(value)
    if kind == INTEGER:
        if isinstance(value, bool):
            raise ValueError(_("应为整数。"))
        if isinstance(value, (int, float)) and float(value).is_integer():
            return int(value)
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        raise ValueError(_("应为整数。"))
    if kind in (MONEY, DECIMAL):
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(_("应为数字。")) from None
        if not number.is_finite():
            raise ValueError(_("应为数字。"))
        return number.quantize(Decimal("0.01"))
    if kind == BOOLEAN:
        text = str(value).strip()
        if text in ("是", "有"):
            return True
        if text in ("否", "无"):
            return False
        raise ValueError(_("应填“是”或“否”。"))
    if kind == DATE:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = str(value).strip().replace("/", "-").replace(".", "-")
        for pattern in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return datetime.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise ValueError(_("应为日期，格式如2020-01-31。"))
    raise ValueError(kind)  # pragma: no cover - Column validates its kind


def _find_header(
    rows: list[tuple[int, tuple[Any, ...]]], columns: Sequence[Column]
) -> tuple[dict[str, int], int]:
    """(key → column index, number of the last header row) from the first rows of a sheet."""
    by_label = {column.header: column.key for column in columns}
    found: dict[str, int] = {}
    last = 0
    for number, row in rows:
        for col_index, value in enumerate(row):
            if isinstance(value, str) and value.strip() in by_label:
                key = by_label[value.strip()]
                found.setdefault(key, col_index)
                last = max(last, number)
    return found, last


def _open(path: str) -> reader.XlsxReader:
    """The workbook, after the hostile-file checks (nothing is parsed before they pass)."""
    with open(path, "rb") as handle:
        try:
            uploads.check_spreadsheet(handle, inline=False)
        except ValidationError as error:
            raise ImportRefused(error.messages[0]) from error
    try:
        return reader.XlsxReader(path)
    except reader.UnsafeXml:
        raise ImportRefused(_("文件包含不安全的XML声明，不予导入。")) from None
    except reader.UnreadableWorkbook:
        raise ImportRefused(_("文件无法作为Excel工作簿读取，请确认是.xlsx格式。")) from None


def _rows(workbook: reader.XlsxReader, part: str) -> Generator[tuple[int, tuple[Any, ...]]]:
    try:
        yield from workbook.rows(part)
    except reader.UnsafeXml:
        raise ImportRefused(_("文件包含不安全的XML声明，不予导入。")) from None
    except reader.UnreadableWorkbook:
        raise ImportRefused(_("文件无法作为Excel工作簿读取，请确认是.xlsx格式。")) from None


def locate_sheets(workbook: reader.XlsxReader, report: ImportReport) -> tuple[Sheets, Sheets]:
    """Find the households and the members sheets by their header text (each kind's first
    sheet and its continuation sheets: `Sheets`); a missing required column is an error."""
    sheets: dict[str, list[SheetData]] = {HOUSEHOLD_SHEET: [], MEMBER_SHEET: []}
    for title, part in workbook.sheets():
        head: list[tuple[int, tuple[Any, ...]]] = []
        rows = _rows(workbook, part)
        try:
            for number, values in rows:
                if number > HEADER_SCAN_ROWS:
                    break
                head.append((number, values))
        finally:
            rows.close()
        for kind, columns, signature in (
            (HOUSEHOLD_SHEET, HOUSEHOLD_IMPORTED, HOUSEHOLD_SIGNATURE),
            (MEMBER_SHEET, MEMBER_IMPORTED, MEMBER_SIGNATURE),
        ):
            found, last = _find_header(head, columns)
            labels = {column.header for column in columns if column.key in found}
            if not signature <= labels:
                continue
            if kind == HOUSEHOLD_SHEET and "姓名" in {
                str(v).strip() for _n, r in head for v in r if v
            }:
                continue  # a member sheet also carries 户编号 and 行政村
            sheets[kind].append(SheetData(name=title, part=part, columns=found, header_row=last))
            required = HOUSEHOLD_REQUIRED if kind == HOUSEHOLD_SHEET else MEMBER_REQUIRED
            for key in required:
                if key not in found:
                    header = next(column.header for column in columns if column.key == key)
                    report.errors.append(
                        CellError(
                            title,
                            last,
                            header,
                            "",
                            _("缺少必需的列“%(header)s”。") % {"header": header},
                        )
                    )
            break
    missing = [name for name in (HOUSEHOLD_SHEET, MEMBER_SHEET) if not sheets[name]]
    if missing:
        raise ImportRefused(
            _(
                "未找到%(sheets)s工作表（按表头文字识别：户台账需有“户编号”“行政村”“户状态”列，"
                "人员台账需有“户编号”“姓名”“与户主关系”列）。请使用系统导出的台账或导入模板。"
            )
            % {"sheets": "、".join(missing)}
        )
    return Sheets(sheets[HOUSEHOLD_SHEET]), Sheets(sheets[MEMBER_SHEET])


_EMPTY_TEXT = (layout.TEXT, SENSITIVE, HEALTH)


def data_rows(
    workbook: reader.XlsxReader,
    sheet: SheetData,
    columns: Sequence[Column],
    report: ImportReport,
    unreadable: set[tuple[str, int, str]],
    limit: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The sheet's data rows, each cell parsed by its column kind (streamed). A cell that
    cannot be read is an error in the report (and remembered in `unreadable`, so that the
    rules it then fails do not report it again). More than `limit` rows (default
    `LEDGER_IMPORT_MAX_ROWS`) refuse the file."""
    wanted = [
        (column.key, column, sheet.columns[column.key], "" if column.kind in _EMPTY_TEXT else None)
        for column in columns
        if column.key in sheet.columns
    ]
    # Each column's answers remembered per distinct cell value (value-list labels, 是/否,
    # years, dates repeat): most cells are a dict look-up instead of a parse. A column with
    # more distinct values than CACHE_PER_COLUMN (names, ID numbers) stops adding to its cache.
    caches: list[dict[tuple[type, Any], tuple[Any, str | None]]] = [{} for _column in wanted]
    if limit is None:
        limit = max_rows()
    count = 0
    title = sheet.name
    for number, raw in _rows(workbook, sheet.part):
        if number <= sheet.header_row or not raw:
            continue
        if all(value is None or value == "" for value in raw):
            continue
        if isinstance(raw[0], str) and raw[0].strip() == "合计":
            continue
        count += 1
        if count > limit:
            raise ImportRefused(
                _("工作表“%(sheet)s”超过%(limit)d行的上限，请分批导入。")
                % {"sheet": title, "limit": limit}
            )
        length = len(raw)
        values: dict[str, Any] = {}
        for (key, column, index, empty), cache in zip(wanted, caches, strict=True):
            cell = raw[index] if index < length else None
            if cell is None:
                values[key] = empty
                continue
            cache_key = (type(cell), cell)
            answer = cache.get(cache_key)
            if answer is None:
                try:
                    answer = (parse_cell(column, cell), None)
                except ValueError as error:
                    answer = (None, str(error))
                if len(cache) < CACHE_PER_COLUMN:
                    cache[cache_key] = answer
            parsed, problem = answer
            if problem is None:
                values[key] = parsed
            else:
                report.errors.append(
                    CellError(title, number, column.header, _shown(column, cell), problem, index)
                )
                unreadable.add((title, number, column.header))
        if count % 5000 == 0:
            report.trim()
        yield number, values
