"""Reading an assistance workbook: the hostile-file checks before anything is parsed, each
sheet found by its header text (the Chinese column names of the template, in any order), the
data rows streamed by `povertyapp.ledgers.reader` and each cell parsed by its column's kind
(`households.imports.reading.parse_cell`, the household import's rules). A cell that cannot be
read is a row error; a file that cannot be read at all, or lacks a sheet or a required column,
is refused as a whole. Every error is a message naming the sheet and the Excel row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from households.imports.reading import parse_cell
from povertyapp import uploads
from povertyapp.ledgers import reader
from povertyapp.ledgers.layout import Column

HEADER_SCAN_ROWS = 8  # the header row is looked for among a sheet's first rows


@dataclass(frozen=True)
class SheetSpec:
    """One sheet an import reads: its name in the template, its columns (matched by header
    text), the columns it must have, and whether the file may leave it out."""

    name: str
    columns: Sequence[Column]
    required: frozenset[str]  # column keys
    optional: bool = False

    @property
    def signature(self) -> set[str]:
        """The headers that identify the sheet: its required columns."""
        return {column.header for column in self.columns if column.key in self.required}


@dataclass
class Row:
    sheet: str  # the worksheet's name in the file
    number: int  # the Excel row number
    values: dict[str, Any]
    bad: set[str] = field(default_factory=set)  # keys of cells that could not be read

    def where(self, number: str = "") -> str:
        """“帮扶措施”第5行 (户编号 …): the prefix of this row's messages."""
        place = _("“%(sheet)s”第%(row)d行") % {"sheet": self.sheet, "row": self.number}
        return f"{place}（{number}）" if number else place


class Problems:
    """The errors found in a file, in the order found; `refuse()` raises them all."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, row: Row | None, message: str, *, number: str = "") -> None:
        self.messages.append(f"{row.where(number)}：{message}" if row is not None else message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def refuse(self) -> None:
        if self.messages:
            raise ValidationError(
                [ValidationError(message, code="invalid_row") for message in self.messages]
            )


def _open(path: str) -> reader.XlsxReader:
    with open(path, "rb") as handle:
        uploads.check_spreadsheet(handle, inline=False)
    try:
        return reader.XlsxReader(path)
    except reader.UnsafeXml:
        raise ValidationError(_("文件包含不安全的XML声明，不予导入。"), code="unsafe") from None
    except reader.UnreadableWorkbook:
        raise ValidationError(
            _("文件无法作为Excel工作簿读取，请确认是.xlsx格式。"), code="bad_file"
        ) from None


def _header(rows: list[tuple[int, tuple[Any, ...]]], spec: SheetSpec) -> tuple[dict[str, int], int]:
    """(key → column index, the header's row number): the first row holding the signature."""
    by_header = {column.header: column.key for column in spec.columns}
    for number, values in rows:
        found: dict[str, int] = {}
        for index, value in enumerate(values):
            if isinstance(value, str) and value.strip() in by_header:
                found.setdefault(by_header[value.strip()], index)
        if spec.required <= set(found):
            return found, number
    return {}, 0


def read_workbook(
    path: str, specs: Sequence[SheetSpec], *, max_rows: int, problems: Problems
) -> dict[str, list[Row]]:
    """Every data row of each sheet in `specs` (by spec name), cells parsed: of every sheet
    whose header identifies it as the spec's, in workbook order (a sheet continued on
    “帮扶措施（2）”, or one sheet per township; each row keeps its sheet's name), each sheet
    read by one spec only. Raises ValidationError for a file that cannot be read, a missing
    sheet or too many rows on one sheet; cells that cannot be read are added to `problems`
    (and their keys to `Row.bad`)."""
    workbook = _open(path)
    found: dict[str, list[Row]] = {}
    claimed: set[str] = set()  # the parts a spec has read
    try:
        sheets = list(workbook.sheets())
        for spec in specs:
            for title, part in sheets:
                if part in claimed:
                    continue
                head = []
                for number, values in workbook.rows(part):
                    if number > HEADER_SCAN_ROWS:
                        break
                    head.append((number, values))
                columns, header_row = _header(head, spec)
                if columns:
                    claimed.add(part)
                    found.setdefault(spec.name, []).extend(
                        _rows(workbook, part, title, spec, columns, header_row, max_rows, problems)
                    )
            if spec.name not in found:
                if not spec.optional:
                    raise ValidationError(
                        _("未找到“%(sheet)s”表：须有一张表的表头含%(columns)s列。请使用导入模板。")
                        % {
                            "sheet": spec.name,
                            "columns": _("、").join(f"“{header}”" for header in spec.signature),
                        },
                        code="sheet_missing",
                    )
                found[spec.name] = []
    except reader.UnsafeXml:
        raise ValidationError(_("文件包含不安全的XML声明，不予导入。"), code="unsafe") from None
    except reader.UnreadableWorkbook:
        raise ValidationError(
            _("文件无法作为Excel工作簿读取，请确认是.xlsx格式。"), code="bad_file"
        ) from None
    finally:
        workbook.close()
    return found


def _rows(
    workbook: reader.XlsxReader,
    part: str,
    title: str,
    spec: SheetSpec,
    columns: dict[str, int],
    header_row: int,
    max_rows: int,
    problems: Problems,
) -> Any:
    wanted = [(column, columns[column.key]) for column in spec.columns if column.key in columns]
    count = 0
    for number, raw in workbook.rows(part):
        if number <= header_row or not raw:
            continue
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in raw):
            continue
        count += 1
        if count > max_rows:
            raise ValidationError(
                _("工作表“%(sheet)s”超过%(limit)d行的上限，请拆分后分批导入。")
                % {"sheet": title, "limit": max_rows},
                code="too_many_rows",
            )
        row = Row(sheet=title, number=number, values={})
        for column, index in wanted:
            cell = raw[index] if index < len(raw) else None
            try:
                row.values[column.key] = parse_cell(column, cell)
            except ValueError as error:
                row.values[column.key] = None
                row.bad.add(column.key)
                problems.add(
                    row, _("“%(column)s”%(message)s") % {"column": column.header, "message": error}
                )
        for column in spec.columns:
            row.values.setdefault(column.key, None)
        yield row


def text(row: Row, key: str) -> str:
    value = row.values.get(key)
    return "" if value is None else str(value).strip()
