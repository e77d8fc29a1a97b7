"""The household import: the 户台账 + 人员台账 workbook the export writes, read back.

    upload → uploads.check_spreadsheet (before parsing) → read (a streaming reader on the standard
    library, `povertyapp.ledgers.reader`; columns matched by their Chinese header text) →
    validate every household (nothing written) → report errors, or a dry-run preview, or
    write everything in one transaction.

Memory does not grow with the file: the parsed rows of both sheets go to a temporary SQLite
file (`_Staging`), households are validated in batches of BATCH with their members fetched
from it, and the validated households wait there for the write. What stays in memory is what
the cross-row checks need: the 户编号 and ID numbers already seen in the file.

Validation uses the registry's own rules: the value lists of the year (`value_lists`), ID numbers
(`households.identity` through the services' member check), and the very functions
`households.services` runs before it writes (`_household_errors`, `_member_errors`,
`_members_set_errors`, the model's `full_clean`). Only the database look-ups are batched (which
户编号 exist, which ID numbers are active where: a few queries per batch of households).

Writing: households that exist (matched by 户编号, members by ID number) are updated through
`households.services` (household_update, member_update, member_add, income_set), which keep
history and versions. New households go through `services.households_bulk_register`, which
writes the rows `household_create` writes (history rows, the 建档 event) set-wise, inside the
same transaction; docs/ledgers.md explains why. Re-importing an unchanged file writes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import pickle
import re
import shutil
import sqlite3
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, cast

import openpyxl
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import hooks, identity, services
from households.exports import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_DERIVED,
    HOUSEHOLD_SHEET,
    INCOME_FIELDS,
    MEMBER_COLUMNS,
    MEMBER_DERIVED,
    MEMBER_SHEET,
)
from households.models import Household, HouseholdIncome, Member, ValueList
from households.selectors import province_of, value_lists
from povertyapp import jobs, roles, uploads
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
from povertyapp.models import AccessLog, Job, Region, User
from povertyapp.privacy import HEALTH_MASK, access_log_record, mask

HEADER_SCAN_ROWS = 8
BATCH = 1000  # households validated together (one set of registry look-ups)
ERROR_DETAIL_LIMIT = 20000  # errors kept with their details; the rest are counted
STATUS_BY_LABEL = {str(label): value for value, label in Household.Status.choices}
# Exported for reading only: derived figures and the post-exit policy (set by the exit workflow).
HOUSEHOLD_NOT_IMPORTED = HOUSEHOLD_DERIVED - {"township_name"} | {"exit_policy"}
HOUSEHOLD_IMPORTED = [c for c in HOUSEHOLD_COLUMNS if c.key not in HOUSEHOLD_NOT_IMPORTED]
# 增员原因 exists only on import: a member added to a registered household by the file is a
# 自然增减·增员 and takes its reason from the value list, as the household form does.
JOIN_REASON_COLUMN = Column("join_reason", "增员原因", value_list=ValueList.JOIN_REASON)
MEMBER_IMPORTED = [c for c in MEMBER_COLUMNS if c.key not in MEMBER_DERIVED] + [JOIN_REASON_COLUMN]
HOUSEHOLD_SIGNATURE = {"户编号", "行政村", "户状态"}
MEMBER_SIGNATURE = {"户编号", "姓名", "与户主关系"}
HOUSEHOLD_REQUIRED = ("number", "village_name", "status")
MEMBER_REQUIRED = ("household_number", "name", "relation", "id_number")
NULLABLE_HOUSEHOLD = {f.name for f in Household._meta.concrete_fields if f.null}
NULLABLE_MEMBER = {f.name for f in Member._meta.concrete_fields if f.null}


class ImportRefused(Exception):
    """The file cannot be read at all (hostile, not an xlsx, sheets missing)."""


@dataclass
class CellError:
    sheet: str
    row: int  # the Excel row number
    column: str  # the header text
    value: str  # masked where sensitive
    message: str
    column_index: int | None = None  # 0-based, for highlighting

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "column_index": self.column_index,
        }


@dataclass
class SheetData:
    name: str  # the worksheet's name in the file
    part: str  # its part in the package
    columns: dict[str, int]  # key → 0-based index
    header_row: int  # the last header row (Excel number); data rows follow it


@dataclass
class ImportReport:
    dry_run: bool
    errors: list[CellError] = field(default_factory=list)
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    incomes_set: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    errors_omitted: int = 0  # found beyond ERROR_DETAIL_LIMIT: counted, details not kept

    PREVIEW_LIMIT = 200

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_omitted

    def trim(self) -> None:
        """Keep the details of the first ERROR_DETAIL_LIMIT errors only (bounded memory)."""
        if len(self.errors) > ERROR_DETAIL_LIMIT:
            self.errors_omitted += len(self.errors) - ERROR_DETAIL_LIMIT
            del self.errors[ERROR_DETAIL_LIMIT:]

    def as_dict(self, *, error_limit: int = 1000) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "error_count": self.error_count,
            "errors": [error.as_dict() for error in self.errors[:error_limit]],
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged,
            "members_created": self.members_created,
            "members_updated": self.members_updated,
            "incomes_set": self.incomes_set,
            "preview": self.preview[: self.PREVIEW_LIMIT],
        }


# --- reading ----------------------------------------------------------------------------------


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


def locate_sheets(workbook: reader.XlsxReader, report: ImportReport) -> tuple[SheetData, SheetData]:
    """Find the two sheets by their header text; a missing required column is an error."""
    sheets: dict[str, SheetData] = {}
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
            if kind in sheets or not signature <= labels:
                continue
            if kind == HOUSEHOLD_SHEET and "姓名" in {
                str(v).strip() for _n, r in head for v in r if v
            }:
                continue  # a member sheet also carries 户编号 and 行政村
            sheets[kind] = SheetData(name=title, part=part, columns=found, header_row=last)
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
    missing = [name for name in (HOUSEHOLD_SHEET, MEMBER_SHEET) if name not in sheets]
    if missing:
        raise ImportRefused(
            _(
                "未找到%(sheets)s工作表（按表头文字识别：户台账需有“户编号”“行政村”“户状态”列，"
                "人员台账需有“户编号”“姓名”“与户主关系”列）。请使用系统导出的台账或导入模板。"
            )
            % {"sheets": "、".join(missing)}
        )
    return sheets[HOUSEHOLD_SHEET], sheets[MEMBER_SHEET]


_EMPTY_TEXT = (layout.TEXT, SENSITIVE, HEALTH)


def data_rows(
    workbook: reader.XlsxReader,
    sheet: SheetData,
    columns: Sequence[Column],
    report: ImportReport,
    unreadable: set[tuple[str, int, str]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The sheet's data rows, each cell parsed by its column kind (streamed). A cell that
    cannot be read is an error in the report (and remembered in `unreadable`, so that the
    rules it then fails do not report it again)."""
    wanted = [
        (column.key, column, sheet.columns[column.key], "" if column.kind in _EMPTY_TEXT else None)
        for column in columns
        if column.key in sheet.columns
    ]
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
        for key, column, index, empty in wanted:
            cell = raw[index] if index < length else None
            if cell is None:
                values[key] = empty
                continue
            try:
                values[key] = parse_cell(column, cell)
            except ValueError as error:
                report.errors.append(
                    CellError(title, number, column.header, _shown(column, cell), str(error), index)
                )
                unreadable.add((title, number, column.header))
        if count % 5000 == 0:
            report.trim()
        yield number, values


STAGING_PREFIX = "household-import-"
_CLEANED = re.compile(r"[0-9a-f]{32}\.xlsx|" + STAGING_PREFIX + r"[A-Za-z0-9_]+\.sqlite3")


class _Staging:
    """Parsed rows and validated households on disk (a temporary SQLite file, deleted on
    close), so that the import's memory does not grow with the file."""

    def __init__(self) -> None:
        # Beside the uploads (it holds the same personal data): a file left by a crash is
        # removed by the nightly clean-up with them.
        handle, self.path = tempfile.mkstemp(
            suffix=".sqlite3", prefix=STAGING_PREFIX, dir=import_directory()
        )
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(
            """
            CREATE TABLE households (seq INTEGER PRIMARY KEY, row INTEGER, number TEXT, data BLOB);
            CREATE TABLE members (seq INTEGER PRIMARY KEY, row INTEGER, number TEXT, data BLOB);
            CREATE TABLE plans (seq INTEGER PRIMARY KEY, new INTEGER, data BLOB);
            """
        )

    def close(self) -> None:
        self.db.close()
        os.unlink(self.path)

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _insert(self, table: str, rows: Iterator[tuple[Any, ...]], width: int) -> int:
        sql = f"INSERT INTO {table} VALUES (NULL{', ?' * width})"
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                self.db.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            self.db.executemany(sql, batch)
            count += len(batch)
        return count

    def add_households(self, rows: Iterator[tuple[int, dict[str, Any]]]) -> int:
        count = self._insert(
            "households",
            (
                (row, values.get("number") or "", pickle.dumps(values, pickle.HIGHEST_PROTOCOL))
                for row, values in rows
            ),
            3,
        )
        self.db.execute("CREATE INDEX households_number ON households (number)")
        return count

    def add_members(self, rows: Iterator[tuple[int, str, dict[str, Any]]]) -> int:
        count = self._insert(
            "members",
            (
                (row, number, pickle.dumps(values, pickle.HIGHEST_PROTOCOL))
                for row, number, values in rows
            ),
            3,
        )
        self.db.execute("CREATE INDEX members_number ON members (number)")
        return count

    def household_batches(self, size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        last = 0
        while True:
            found = self.db.execute(
                "SELECT seq, row, data FROM households WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, size),
            ).fetchall()
            if not found:
                return
            last = found[-1][0]
            yield [(row, pickle.loads(data)) for _seq, row, data in found]

    def members_of(self, numbers: list[str]) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """The member rows of these 户编号, in file order."""
        found: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            for number, row, data in self.db.execute(
                "SELECT number, row, data FROM members WHERE number IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY seq",
                chunk,
            ):
                found[number].append((row, pickle.loads(data)))
        return found

    def orphan_members(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """Member rows whose 户编号 is on no row of the households sheet."""
        for row, number, data in self.db.execute(
            "SELECT row, number, data FROM members WHERE number NOT IN "
            "(SELECT number FROM households) ORDER BY seq"
        ):
            yield row, number, pickle.loads(data)

    def add_plan(self, plan: Any, *, new: bool) -> None:
        self.db.execute(
            "INSERT INTO plans VALUES (NULL, ?, ?)",
            (1 if new else 0, pickle.dumps(plan, pickle.HIGHEST_PROTOCOL)),
        )

    def plans(self, *, new: bool) -> Iterator[Any]:
        last = 0
        while True:
            found = self.db.execute(
                "SELECT seq, data FROM plans WHERE new = ? AND seq > ? ORDER BY seq LIMIT 2000",
                (1 if new else 0, last),
            ).fetchall()
            if not found:
                return
            last = found[-1][0]
            for _seq, data in found:
                yield pickle.loads(data)


# --- validating -------------------------------------------------------------------------------


class _FieldCheck:
    """`Model(**values).full_clean(exclude=..., validate_unique=False,
    validate_constraints=False)` for a dict of values, without building the instance: the same
    `Field.clean` of every field (a missing value takes the field's default, as in the
    instance; blank fields skipped as Django skips them), with each field's answer remembered
    per value. Most columns repeat a few values (value-list labels, yes/no, years), so 100k
    households cost a few thousand `Field.clean` calls instead of millions. Valid only for
    models without their own `clean()` and with the foreign keys excluded (checked here)."""

    CACHE_PER_FIELD = 2000  # high-cardinality columns (names, ID numbers) stop being cached

    def __init__(self, model: type[Any], exclude: Sequence[str]) -> None:
        from django.db import models as django_models

        if model.clean is not django_models.Model.clean:
            raise TypeError(f"{model.__name__} has its own clean(): use full_clean")
        self.fields: list[tuple[Any, str, Any, dict[Any, Any]]] = []
        for model_field in model._meta.fields:
            if model_field.name in exclude or model_field.generated:
                continue
            if model_field.is_relation:
                raise TypeError(f"{model.__name__}.{model_field.name}: exclude foreign keys")
            self.fields.append((model_field, model_field.attname, model_field.get_default(), {}))

    def errors(self, values: dict[str, Any], prefix: str = "") -> dict[str, list[ValidationError]]:
        found: dict[str, list[ValidationError]] = {}
        for check, attname, default, cache in self.fields:
            value = values.get(attname, default)
            if check.blank and value in check.empty_values:
                continue
            key = (type(value), value)
            try:
                problem = cache[key]
            except KeyError:
                try:
                    check.clean(value, None)
                    problem = None
                except ValidationError as error:
                    problem = error.error_list
                if len(cache) < self.CACHE_PER_FIELD:
                    cache[key] = problem
            except TypeError:  # an unhashable value: not cached
                try:
                    check.clean(value, None)
                    problem = None
                except ValidationError as error:
                    problem = error.error_list
            if problem:
                found[prefix + check.name] = list(problem)
        return found


_HOUSEHOLD_CHECK = _FieldCheck(Household, ["village", "group", "created_by"])
_MEMBER_CHECK = _FieldCheck(Member, ["household"])
_INCOME_CHECK = _FieldCheck(HouseholdIncome, ["household"])


@dataclass
class HouseholdPlan:
    row: int
    number: str
    existing: Household | None
    values: dict[str, Any]  # Household fields (new) or the changed ones (existing)
    status: str
    exit_year: int | None
    members: list[tuple[int, dict[str, Any]]]  # (row, data) in file order
    member_changes: list[tuple[Member, dict[str, Any]]] = field(default_factory=list)
    member_additions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    income_year: int | None = None
    income: dict[str, Decimal] = field(default_factory=dict)
    income_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.values or self.member_changes or self.member_additions or self.income_changed
        )


class _Validator:
    def __init__(
        self,
        *,
        actor: User,
        households: SheetData,
        members: SheetData,
        report: ImportReport,
        progress: Callable[[int], None] | None,
    ) -> None:
        if not roles.can_write_households(actor):
            raise ImportRefused(_("您的角色只能查看，不能导入农户信息。"))
        self.actor = actor
        self.households = households
        self.members = members
        self.report = report
        self.progress = progress
        self.today = timezone.localdate()
        self.columns = {column.key: column for column in HOUSEHOLD_COLUMNS}
        self.member_columns = {
            column.key: column for column in [*MEMBER_COLUMNS, JOIN_REASON_COLUMN]
        }
        self._lists: dict[int | None, dict[str, list[str]]] = {}
        # Cells that could not be read: reported once, not again by the rules they then fail.
        self.unreadable: set[tuple[str, int, str]] = set()
        self._village_lists: dict[int, dict[str, list[str]]] = {}
        self.in_scope: set[int] = set()

    # Errors are reported on the cell they concern.
    def _household_error(self, row: int, key: str, values: dict[str, Any], message: str) -> None:
        key = {"village": "village_name", "group": "group_name"}.get(key, key)
        column = self.columns.get(key)
        index = self.households.columns.get(key)
        if column and (self.households.name, row, column.header) in self.unreadable:
            return
        self.report.errors.append(
            CellError(
                self.households.name,
                row,
                column.header if column else "",
                _shown(column, values.get(key)) if column else "",
                message,
                index,
            )
        )

    def _member_error(self, row: int, key: str, values: dict[str, Any], message: str) -> None:
        column = self.member_columns.get(key)
        index = self.members.columns.get(key)
        if column and (self.members.name, row, column.header) in self.unreadable:
            return
        self.report.errors.append(
            CellError(
                self.members.name,
                row,
                column.header if column else "",
                _shown(column, values.get(key)) if column else "",
                message,
                index,
            )
        )

    def _report(
        self,
        plan_row: int,
        household_values: dict[str, Any],
        member_rows: list[tuple[int, dict[str, Any]]],
        errors: dict[str, list[ValidationError]],
    ) -> None:
        for key, items in errors.items():
            messages = [message for item in items for message in item.messages]
            for message in messages:
                if key.startswith("members."):
                    _prefix, index, member_key = key.split(".", 2)
                    row, values = member_rows[int(index)]
                    self._member_error(row, member_key, values, message)
                elif key == "members":
                    if member_rows:
                        row, values = member_rows[0]
                        self._member_error(row, "relation", values, message)
                    else:
                        self._household_error(plan_row, "number", household_values, message)
                else:
                    self._household_error(plan_row, key, household_values, message)

    def lists_for(self, village: Region) -> dict[str, list[str]]:
        """The value lists valid for the village's province this year (cached per village)."""
        if village.pk not in self._village_lists:
            province = province_of(village)
            key = province.pk if province else None
            if key not in self._lists:
                self._lists[key] = value_lists(year=self.today.year, province=province)
            self._village_lists[village.pk] = self._lists[key]
        return self._village_lists[village.pk]

    def stage(self, workbook: reader.XlsxReader, staging: _Staging) -> int:
        """Read both sheets into the staging file; returns the number of household rows.
        The checks that need only the members sheet run here, in file order: a member row
        needs a 户编号, and an ID number may appear once in the file."""
        seen_ids: dict[str, int] = {}

        def members() -> Iterator[tuple[int, str, dict[str, Any]]]:
            for row, values in data_rows(
                workbook, self.members, MEMBER_IMPORTED, self.report, self.unreadable
            ):
                number = values.get("household_number") or ""
                if not number:
                    self._member_error(row, "household_number", values, _("请填写户编号。"))
                    continue
                raw_id = values.get("id_number") or ""
                if raw_id:
                    normal = identity.normalise_id_number(raw_id)
                    if normal in seen_ids:
                        self._member_error(
                            row,
                            "id_number",
                            values,
                            _("证件号码与本表第%(row)d行重复。") % {"row": seen_ids[normal]},
                        )
                        continue
                    seen_ids[normal] = row
                yield row, number, values

        staging.add_members(members())
        seen_ids.clear()
        return staging.add_households(
            data_rows(workbook, self.households, HOUSEHOLD_IMPORTED, self.report, self.unreadable)
        )

    def run(self, staging: _Staging) -> None:
        """Validate every household (in batches, with its members) and stage what to write."""
        report = self.report
        self.villages = self._villages()
        self.groups = self._groups()
        seen_numbers: dict[str, int] = {}
        for batch in staging.household_batches(BATCH):
            numbers = list({values.get("number") or "" for _row, values in batch} - {""})
            member_rows = staging.members_of(numbers)
            existing = self._existing(numbers)
            active_elsewhere = self._active_members(
                [
                    identity.normalise_id_number(values["id_number"])
                    for rows in member_rows.values()
                    for _row, values in rows
                    if values.get("id_number")
                ]
            )
            for row, values in batch:
                number = values.get("number") or ""
                if self.progress is not None:
                    self.progress(1)
                if not number:
                    self._household_error(row, "number", values, _("请填写户编号。"))
                    continue
                if number in seen_numbers:
                    self._household_error(
                        row,
                        "number",
                        values,
                        _("户编号与本表第%(row)d行重复。") % {"row": seen_numbers[number]},
                    )
                    continue
                seen_numbers[number] = row
                plan = self._plan(
                    row,
                    values,
                    existing.get(number),
                    member_rows.get(number, []),
                    self.villages,
                    self.groups,
                    active_elsewhere,
                )
                if plan is None or report.errors:
                    continue  # after the first error nothing will be written: stage nothing
                if plan.existing is None:
                    staging.add_plan(_NewHousehold.of(plan), new=True)
                elif plan.changed:
                    _summarise_existing(report, plan)
                    staging.add_plan(plan, new=False)
                else:
                    report.households_unchanged += 1
            report.trim()
        for row, number, values in staging.orphan_members():
            self._member_error(
                row,
                "household_number",
                values,
                _("户编号%(number)s不在户台账工作表中。") % {"number": number},
            )
        report.trim()
        report.errors.sort(key=lambda error: (error.sheet != self.households.name, error.row))

    def _villages(self) -> dict[tuple[str, str], Region]:
        scope = roles.region_scope(self.actor).filter(level=Region.Level.VILLAGE)
        villages: dict[tuple[str, str], Region] = {}
        by_name: dict[str, list[Region]] = defaultdict(list)
        for village in scope.select_related("parent__parent__parent__parent"):
            villages[(village.parent.name if village.parent else "", village.name)] = village
            by_name[village.name].append(village)
        for name, found in by_name.items():
            if len(found) == 1:
                villages[("", name)] = found[0]
        return villages

    def _groups(self) -> dict[tuple[int, str], Region]:
        scope = roles.region_scope(self.actor).filter(level=Region.Level.GROUP)
        # A group (村民小组) always has its village: the parent id is never null here.
        return {(cast(int, group.parent_id), group.name): group for group in scope}

    def _existing(self, numbers: list[str]) -> dict[str, Household]:
        found: dict[str, Household] = {}
        wanted = [number for number in numbers if number]
        for start in range(0, len(wanted), 5000):
            for household in Household.objects.filter(
                number__in=wanted[start : start + 5000]
            ).select_related("village"):
                found[household.number] = household
        if found:
            members: dict[int, list[Member]] = defaultdict(list)
            ids = [household.pk for household in found.values()]
            for start in range(0, len(ids), 5000):
                for member in Member.objects.filter(
                    household_id__in=ids[start : start + 5000], is_active=True
                ).order_by("id"):
                    members[member.household_id].append(member)
            for household in found.values():
                household._import_members = members.get(household.pk, [])  # type: ignore[attr-defined]  # carried from the prefetch to the update
            by_household: dict[int, dict[int, HouseholdIncome]] = defaultdict(dict)
            for start in range(0, len(ids), 5000):
                for income in HouseholdIncome.objects.filter(
                    household_id__in=ids[start : start + 5000]
                ):
                    by_household[income.household_id][income.year] = income
            for household in found.values():
                household._import_incomes = by_household.get(household.pk, {})  # type: ignore[attr-defined]  # carried from the prefetch to the update
            for start in range(0, len(ids), 5000):
                self.in_scope.update(
                    roles.household_scope(
                        self.actor, Household.objects.filter(pk__in=ids[start : start + 5000])
                    ).values_list("pk", flat=True)
                )
        return found

    def _active_members(self, numbers: list[str]) -> dict[str, Member]:
        found: dict[str, Member] = {}
        for start in range(0, len(numbers), 5000):
            for member in Member.objects.filter(
                id_number__in=numbers[start : start + 5000], is_active=True
            ).select_related("household", "household__village"):
                found[member.id_number] = member
        return found

    def _plan(
        self,
        row: int,
        values: dict[str, Any],
        existing: Household | None,
        member_rows: list[tuple[int, dict[str, Any]]],
        villages: dict[tuple[str, str], Region],
        groups: dict[tuple[int, str], Region],
        active_elsewhere: dict[str, Member],
    ) -> HouseholdPlan | None:
        errors_before = len(self.report.errors)
        village = villages.get(
            (values.get("township_name") or "", values.get("village_name") or "")
        )
        if village is None:
            self._household_error(
                row,
                "village_name",
                values,
                _("行政村“%(village)s”不存在或不在您的管辖范围内。")
                % {"village": values.get("village_name") or ""},
            )
            return None
        group = None
        if values.get("group_name"):
            group = groups.get((village.pk, values["group_name"]))
            if group is None:
                self._household_error(
                    row,
                    "group_name",
                    values,
                    _("村民小组“%(group)s”不属于%(village)s。")
                    % {"group": values["group_name"], "village": village.name},
                )
        status = STATUS_BY_LABEL.get(values.get("status") or "")
        if status is None:
            self._household_error(
                row,
                "status",
                values,
                _("户状态应为：%(labels)s。") % {"labels": "、".join(STATUS_BY_LABEL)},
            )
            return None
        lists = self.lists_for(village)
        data: dict[str, Any] = {}
        for key in services.HOUSEHOLD_FIELDS:
            if key == "village":
                data[key] = village
            elif key == "group":
                if "group_name" in values:  # a file without the column keeps the group
                    data[key] = group
            elif key in values:
                value = values[key]
                if value is None and key not in NULLABLE_HOUSEHOLD:
                    continue
                data[key] = value
        exit_year = values.get("exit_year")
        income_year = values.get("income_year")
        income = {key: values[key] for key in INCOME_FIELDS if values.get(key) is not None}
        if income and income_year is None:
            self._household_error(row, "income_year", values, _("填写了收入时须填写收入年度。"))
        if income_year is not None and income_year > self.today.year:
            self._household_error(row, "income_year", values, _("收入年度不能晚于今年。"))
        if existing is not None:
            if existing.pk not in self.in_scope:
                self._household_error(
                    row,
                    "number",
                    values,
                    _("户编号%(number)s已存在，且不在您的管辖范围内。")
                    % {"number": existing.number},
                )
                return None
            plan = self._plan_existing(
                row, values, existing, data, status, exit_year, member_rows, lists, active_elsewhere
            )
        else:
            plan = self._plan_new(
                row, values, data, status, exit_year, member_rows, lists, active_elsewhere
            )
        if plan is None or len(self.report.errors) > errors_before:
            return None
        if income_year is not None and income:
            incomes = getattr(existing, "_import_incomes", {}) if existing else {}
            current = incomes.get(income_year)
            problems = _INCOME_CHECK.errors({"year": income_year, **income})
            if problems:
                self._report(row, values, member_rows, problems)
                return None
            plan.income_year = income_year
            plan.income = income
            plan.income_changed = current is None or any(
                getattr(current, key) != value for key, value in income.items()
            )
        return plan

    def _member_data(self, values: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key in services.MEMBER_FIELDS:
            if key in values:
                value = values[key]
                if value is None and key not in NULLABLE_MEMBER:
                    continue
                data[key] = value
        return data

    def _plan_new(
        self,
        row: int,
        values: dict[str, Any],
        data: dict[str, Any],
        status: str,
        exit_year: int | None,
        member_rows: list[tuple[int, dict[str, Any]]],
        lists: dict[str, list[str]],
        active_elsewhere: dict[str, Member],
    ) -> HouseholdPlan | None:
        # The checks of households.services.household_create, in its order.
        errors: dict[str, list[ValidationError]] = {}
        if status != Household.Status.NON_REGISTERED and not roles.can_configure(self.actor):
            errors["status"] = [
                ValidationError(_("新建农户须经识别程序纳入；只有县扶贫办可直接登记其他状态。"))
            ]
        for key, items in services._household_errors(
            data, lists=lists, registered=status in Household.REGISTERED_STATUSES
        ).items():
            errors.setdefault(key, []).extend(items)
        if status == Household.Status.EXITED and not exit_year:
            errors.setdefault("exit_year", []).append(
                ValidationError(_("已脱贫户须填写脱贫年度。"))
            )
        if exit_year and status not in (
            Household.Status.EXITED,
            Household.Status.RETURNED,
            Household.Status.REMOVED,
        ):
            errors.setdefault("exit_year", []).append(
                ValidationError(_("未脱贫的户不能填写脱贫年度。"))
            )
        rows = [self._member_data(member_values) for _row, member_values in member_rows]
        for index, member in enumerate(rows):
            for key, items in services._member_errors(
                member, lists=lists, prefix=f"members.{index}.", today=self.today
            ).items():
                errors.setdefault(key, []).extend(items)
        for key, items in services._members_set_errors(rows, self.today).items():
            errors.setdefault(key, []).extend(items)
        for index, member in enumerate(rows):
            clash = active_elsewhere.get(member.get("id_number") or "")
            if clash is not None:
                errors.setdefault(f"members.{index}.id_number", []).append(self._elsewhere(clash))
        # The instances' full_clean (village, group, household: checked above).
        household_values = {
            **data,
            "number": values["number"],
            "status": status,
            "exit_year": exit_year,
        }
        for key, items in _HOUSEHOLD_CHECK.errors(household_values).items():
            errors.setdefault(key, []).extend(items)
        for index, member in enumerate(rows):
            member_values = {
                key: value
                for key, value in member.items()
                if key in services.MEMBER_FIELDS and value is not None
            }
            for key, items in _MEMBER_CHECK.errors(member_values, f"members.{index}.").items():
                errors.setdefault(key, []).extend(items)
        if errors:
            self._report(row, values, member_rows, errors)
            return None
        self.report.households_created += 1
        self.report.members_created += len(rows)
        self._preview(values["number"], _("新建"), _("%(count)d名成员") % {"count": len(rows)})
        return HouseholdPlan(
            row=row,
            number=values["number"],
            existing=None,
            values=data,
            status=status,
            exit_year=exit_year,
            members=[(r, m) for (r, _v), m in zip(member_rows, rows, strict=True)],
        )

    def _elsewhere(self, clash: Member) -> ValidationError:
        return ValidationError(
            _(
                "身份证号码%(id)s已是%(village)s户编号%(number)s的在户成员，"
                "一人只能是一户的在户成员。请先办理原户减员或成员迁移。"
            )
            % {
                "id": mask(clash.id_number),
                "village": clash.household.village.name,
                "number": clash.household.number,
            }
        )

    def _plan_existing(
        self,
        row: int,
        values: dict[str, Any],
        household: Household,
        data: dict[str, Any],
        status: str,
        exit_year: int | None,
        member_rows: list[tuple[int, dict[str, Any]]],
        lists: dict[str, list[str]],
        active_elsewhere: dict[str, Member],
    ) -> HouseholdPlan | None:
        # The checks of household_update, member_update and member_add.
        errors: dict[str, list[ValidationError]] = {}
        if status != household.status:
            errors["status"] = [
                ValidationError(
                    _(
                        "户状态与系统中的“%(status)s”不一致：状态变动须通过动态调整或脱贫退出办理，"
                        "不能通过导入修改。"
                    )
                    % {"status": household.get_status_display()}
                )
            ]
        if (exit_year or None) != household.exit_year:
            errors["exit_year"] = [ValidationError(_("脱贫年度不能通过导入修改。"))]
        merged = {key: getattr(household, key) for key in services.HOUSEHOLD_FIELDS}
        merged.update(data)
        for key, items in services._household_errors(
            merged, lists=lists, registered=household.is_registered
        ).items():
            errors.setdefault(key, []).extend(items)
        changed = {key: value for key, value in data.items() if getattr(household, key) != value}
        current: list[Member] = household._import_members  # type: ignore[attr-defined]  # set by the prefetch above
        by_id = {member.id_number: member for member in current if member.id_number}
        # Looked up with what a row gives, which may lack a name or a birth date.
        by_name: dict[tuple[str | None, Any], Member] = {
            (member.name, member.birth_date): member for member in current
        }
        member_changes: list[tuple[Member, dict[str, Any]]] = []
        additions: list[tuple[int, dict[str, Any]]] = []
        resulting: list[dict[str, Any]] = []
        matched: set[int] = set()
        for index, (member_row, member_values) in enumerate(member_rows):
            member_data = self._member_data(member_values)
            normal = identity.normalise_id_number(member_data.get("id_number") or "")
            match = (
                by_id.get(normal)
                if normal
                else by_name.get((member_data.get("name"), member_data.get("birth_date")))
            )
            if match is not None:
                row_data = {key: getattr(match, key) for key in services.MEMBER_FIELDS}
                row_data.update(member_data)
                member_data = row_data
            prefix = f"members.{index}."
            for key, items in services._member_errors(
                member_data, lists=lists, prefix=prefix, today=self.today
            ).items():
                errors.setdefault(key, []).extend(items)
            clash = active_elsewhere.get(member_data.get("id_number") or "")
            if clash is not None and clash.household_id != household.pk:
                errors.setdefault(prefix + "id_number", []).append(self._elsewhere(clash))
            if match is not None:
                matched.add(match.pk)
                delta = {
                    key: member_data[key]
                    for key in services.MEMBER_FIELDS
                    if key in member_data and getattr(match, key) != member_data[key]
                }
                if delta:
                    member_changes.append((match, delta))
            else:
                reason_errors = self._join_reason_errors(household, member_values, lists)
                if reason_errors:
                    errors.setdefault(prefix + "join_reason", []).extend(reason_errors)
                additions.append(
                    (member_row, {**member_data, "join_reason": member_values.get("join_reason")})
                )
            resulting.append(member_data)
        kept = [
            {
                "relation": m.relation,
                "sex": m.sex,
                "birth_date": m.birth_date,
                "id_number": m.id_number,
            }
            for m in current
            if m.pk not in matched
        ]
        set_errors = services._members_set_errors(resulting + kept, self.today)
        for key, items in set_errors.items():
            parts = key.split(".")
            if key.startswith("members.") and int(parts[1]) >= len(resulting):
                key = "members"
            errors.setdefault(key, []).extend(items)
        if errors:
            self._report(row, values, member_rows, errors)
            return None
        plan = HouseholdPlan(
            row=row,
            number=household.number,
            existing=household,
            values=changed,
            status=status,
            exit_year=exit_year,
            members=member_rows,
            member_changes=member_changes,
            member_additions=additions,
        )
        return plan

    def _join_reason_errors(
        self, household: Household, values: dict[str, Any], lists: dict[str, list[str]]
    ) -> list[ValidationError]:
        """A member the file adds to a registered household: its 增员原因 comes from the value
        list, and during the county's open round (自然增减 of the round) it is required."""
        reason = values.get("join_reason") or ""
        choices = lists.get(ValueList.JOIN_REASON, [])
        if reason and reason not in choices:
            return [
                ValidationError(
                    _("增员原因“%(reason)s”不在值列表中，请选择：%(choices)s。")
                    % {"reason": reason, "choices": "、".join(choices)}
                )
            ]
        if not reason and hooks.open_round_for(household.village) is not None:
            return [
                ValidationError(
                    _("动态调整期间新增成员须填写增员原因（%(choices)s）。")
                    % {"choices": "、".join(choices)}
                )
            ]
        return []

    def _preview(self, number: str, action: str, detail: str) -> None:
        if len(self.report.preview) < ImportReport.PREVIEW_LIMIT:
            self.report.preview.append({"number": number, "action": action, "detail": detail})


def _summarise_existing(report: ImportReport, plan: HouseholdPlan) -> None:
    """Count a changed existing household and describe it in the preview."""
    household_labels = {c.key: c.header for c in HOUSEHOLD_COLUMNS}
    member_labels = {c.key: c.header for c in MEMBER_COLUMNS}
    report.households_updated += 1
    report.members_updated += len(plan.member_changes)
    report.members_created += len(plan.member_additions)
    report.incomes_set += 1 if plan.income_changed else 0
    parts = [household_labels.get(key, key) for key in plan.values]
    for member, delta in plan.member_changes:
        parts.append(f"{member.name}：" + "、".join(member_labels.get(k, k) for k in delta))
    parts += [
        _("增员%(name)s") % {"name": data.get("name", "")} for _row, data in plan.member_additions
    ]
    if plan.income_changed:
        parts.append(_("%(year)d年收入") % {"year": plan.income_year})
    if len(report.preview) < ImportReport.PREVIEW_LIMIT:
        report.preview.append(
            {"number": plan.number, "action": _("更新"), "detail": "；".join(parts)}
        )


@dataclass
class _NewHousehold:
    """A validated new household as staged for writing (regions by primary key)."""

    number: str
    status: str
    exit_year: int | None
    village_id: int
    group_id: int | None
    values: dict[str, Any]  # HOUSEHOLD_FIELDS other than village and group
    members: list[dict[str, Any]]
    income: tuple[int, dict[str, Decimal]] | None

    @classmethod
    def of(cls, plan: HouseholdPlan) -> _NewHousehold:
        values = dict(plan.values)
        village = values.pop("village")
        group = values.pop("group", None)
        return cls(
            number=plan.number,
            status=plan.status,
            exit_year=plan.exit_year,
            village_id=village.pk,
            group_id=group.pk if group is not None else None,
            values=values,
            members=[data for _row, data in plan.members],
            income=(plan.income_year, plan.income)
            if plan.income_year is not None and plan.income
            else None,
        )


# --- writing ----------------------------------------------------------------------------------


def _write(
    actor: User,
    staging: _Staging,
    validator: _Validator,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    reason = _("导入")
    villages = {village.pk: village for village in validator.villages.values()}
    groups = {group.pk: group for group in validator.groups.values()}

    def new_households() -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], Any]]:
        for new in staging.plans(new=True):
            household = {
                **new.values,
                "number": new.number,
                "status": new.status,
                "exit_year": new.exit_year,
                "village": villages[new.village_id],
                "group": groups[new.group_id] if new.group_id is not None else None,
            }
            yield household, new.members, new.income

    _households, _members, incomes = services.households_bulk_register(
        actor=actor, households=new_households(), reason=reason, progress=progress
    )
    report.incomes_set += incomes
    if progress is not None and report.households_unchanged:
        progress(report.households_unchanged)
    for plan in staging.plans(new=False):
        try:
            household = plan.existing
            if plan.values:
                household = services.household_update(
                    actor=actor,
                    household=household,
                    data=plan.values,
                    expected_version=household.version,
                    reason=_("导入更新"),
                )
            for member, delta in plan.member_changes:
                services.member_update(
                    actor=actor,
                    member=member,
                    data=delta,
                    expected_version=member.version,
                    reason=_("导入更新"),
                )
            for _row, data in plan.member_additions:
                data = dict(data)
                join_reason = data.pop("join_reason", None)
                services.member_add(
                    actor=actor, household=household, data=data, reason=join_reason or reason
                )
            if plan.income_changed and plan.income_year is not None:
                services.income_set(
                    actor=actor, household=household, year=plan.income_year, data=plan.income
                )
        except ValidationError as error:
            report.errors.append(
                CellError(
                    HOUSEHOLD_SHEET, plan.row, "户编号", plan.number, "；".join(error.messages)
                )
            )
            raise
        if progress is not None:
            progress(1)


def import_households(
    *,
    actor: User,
    path: str,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check the whole workbook; write everything (one transaction) or nothing.

    Raises ImportRefused for a file that cannot be read at all; every other problem is a
    CellError in the report, and then nothing has been written.
    """
    report = ImportReport(dry_run=dry_run)
    workbook = _open(path)
    try:
        households, members = locate_sheets(workbook, report)
        validator = _Validator(
            actor=actor, households=households, members=members, report=report, progress=progress
        )
        with _Staging() as staging:
            count = validator.stage(workbook, staging)
            workbook.close()
            if on_total is not None:
                on_total(count * (1 if dry_run else 2))
            validator.run(staging)
            if report.errors or dry_run:
                return report
            try:
                with transaction.atomic():
                    _write(actor, staging, validator, report, progress)
            except ValidationError as error:
                if not report.errors:
                    report.errors.append(
                        CellError(HOUSEHOLD_SHEET, 0, "", "", "；".join(error.messages))
                    )
                return report
            except IntegrityError:
                report.errors.append(
                    CellError(
                        HOUSEHOLD_SHEET,
                        0,
                        "",
                        "",
                        _(
                            "写入时与他人同时提交的数据冲突（户编号或身份证号码），全部未写入，"
                            "请重新导入。"
                        ),
                    )
                )
                return report
    finally:
        workbook.close()
    report.written = True
    return report


# --- the blank template and the error workbook ------------------------------------------------

TEMPLATE_ROWS = 10000  # rows of the template that carry the drop-downs
INSTRUCTIONS = (
    "农户档案导入模板 填写说明",
    "1. 本工作簿含“户台账”和“人员台账”两张表，按表头文字识别列，"
    "列的顺序可以调整，不需要的列可以删除（户编号、行政村、户状态，户编号、姓名、证件号码、与户主关系为必需列）。",
    "2. 每户在“户台账”中占一行，户编号必填且唯一；"
    "家庭成员在“人员台账”中每人一行，用户编号与户对应。",
    "3. 证件号码、银行账号必须是文本格式（本模板已设置），"
    "不要以数字格式录入，否则末几位会丢失。15位身份证号码会自动升级为18位。"
    "出生日期和性别须与身份证号码一致，可不填，由号码自动得出。",
    "4. 带下拉箭头的列请从代码表中选择；“是/否”列填“是”或“否”。健康状况可填多项，用“、”分隔。",
    "5. 户编号已存在的户按表中内容更新（保留修改记录）；户状态和脱贫年度不能通过导入修改。",
    "6. 系统先检查整个文件，有任何错误则一条也不写入，"
    "并给出错误清单（可下载标出错误单元格的工作簿）。可先“预检”查看将新建和更新的内容，确认后再导入。",
    "7. 同一文件重复导入不会产生重复数据。"
    "以“=、+、-、@”开头的文字在导出时前加了单引号，导入时自动去除。",
)


def import_template(path: str, *, user: User) -> None:
    """The blank workbook to fill in: both sheets' headers, instructions, value-list drop-downs."""
    region = user.region
    province = province_of(region) if region is not None else None
    lists = value_lists(year=timezone.localdate().year, province=province)
    sheets = [
        layout.SheetSpec(
            name=HOUSEHOLD_SHEET,
            title=_("农户档案导入模板（户台账）"),
            columns=HOUSEHOLD_IMPORTED,
            rows=lambda: [],
            count=lambda: 0,
            with_totals=False,
        ),
        layout.SheetSpec(
            name=MEMBER_SHEET,
            title=_("农户档案导入模板（人员台账）"),
            columns=MEMBER_IMPORTED,
            rows=lambda: [],
            count=lambda: 0,
            with_totals=False,
        ),
    ]
    letterhead = layout.Letterhead(
        unit=region.name if region else "", person=user.display_name, date=timezone.localdate()
    )
    with layout.LedgerWorkbook(path, letterhead=letterhead, sensitive_visible=True) as workbook:
        book = workbook.workbook
        for sheet in sheets:
            workbook.write_sheet(sheet)
        help_sheet = book.add_worksheet(_("填写说明"))
        help_sheet.set_column(0, 0, 110)
        wrap = book.add_format({"text_wrap": True, "valign": "top", "font_name": "宋体"})
        for index, line in enumerate(INSTRUCTIONS):
            help_sheet.write_string(index, 0, line, wrap)
        codes = book.add_worksheet(_("代码表"))
        ranges: dict[str, str] = {}
        named = {
            **dict(lists),
            "__status__": list(STATUS_BY_LABEL),
            "__sex__": ["男", "女"],
            "__bool__": [layout.YES, layout.NO],
        }
        for column, (key, labels) in enumerate(named.items()):
            codes.write_string(0, column, key)
            for row, label in enumerate(labels, start=1):
                codes.write_string(row, column, label)
            letter = openpyxl.utils.get_column_letter(column + 1)
            ranges[key] = f"='{codes.name}'!${letter}$2:${letter}${len(labels) + 1}"
        codes.hide()
        for sheet in sheets:
            worksheet, first = workbook.sheets[sheet.name]
            for index, spec in enumerate(sheet.columns, start=1):
                source = None
                if spec.value_list and spec.value_list in ranges:
                    source = ranges[spec.value_list]
                elif spec.kind == BOOLEAN:
                    source = ranges["__bool__"]
                elif spec.key == "status":
                    source = ranges["__status__"]
                elif spec.key == "sex":
                    source = ranges["__sex__"]
                if source is None:
                    continue
                worksheet.data_validation(
                    first,
                    index,
                    first + TEMPLATE_ROWS,
                    index,
                    {
                        "validate": "list",
                        "source": source,
                        "error_title": _("不在代码表中"),
                        "error_message": _("请从下拉列表中选择“%(header)s”。")
                        % {"header": spec.header},
                    },
                )


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


# --- the job ----------------------------------------------------------------------------------

IMPORT_JOB = "households_import"


def import_directory() -> str:
    """Uploaded files wait here (outside MEDIA_ROOT: they hold personal information)."""
    from django.conf import settings

    directory = str(getattr(settings, "LEDGER_IMPORT_DIR", settings.BASE_DIR / "var" / "imports"))
    os.makedirs(directory, exist_ok=True)
    return directory


def import_file_path(name: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}\.xlsx", name or ""):
        raise ValueError("bad import file name")
    return os.path.join(import_directory(), name)


def import_retention_hours() -> int:
    from django.conf import settings

    return int(getattr(settings, "LEDGER_IMPORT_RETENTION_HOURS", 24))


def import_files_cleanup(*, older_than_hours: int | None = None) -> int:
    """Delete uploaded workbooks (and staging files) left in LEDGER_IMPORT_DIR for longer than
    the retention (a dry run never confirmed, a job that crashed), except the file of an import
    job that is still queued or running. Returns how many files were removed."""
    hours = import_retention_hours() if older_than_hours is None else older_than_hours
    cutoff = timezone.now().timestamp() - hours * 3600
    directory = import_directory()
    in_use = {
        parameters.get("file")
        for parameters in Job.objects.filter(
            kind=IMPORT_JOB, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).values_list("parameters", flat=True)
        if isinstance(parameters, dict)
    }
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if not _CLEANED.fullmatch(entry.name) or entry.name in in_use:
                continue
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # removed meanwhile by its own job
                continue
    return removed


def import_file_store(upload: IO[bytes]) -> str:
    """Check an uploaded file (before any parsing) and keep it for the job; returns its name.
    Raises ValidationError with the reason a hostile or wrong file is refused."""
    uploads.check_spreadsheet(upload, inline=False)
    name = f"{uuid.uuid4().hex}.xlsx"
    with open(import_file_path(name), "wb") as target:
        upload.seek(0)
        shutil.copyfileobj(upload, target)
    return name


def _error_workbook_name(job: Job) -> str:
    """The name the error workbook downloads under: 导入错误清单_<uploaded name>_<date>.xlsx."""
    uploaded = os.path.splitext(os.path.basename(job.parameters.get("filename", "")))[0]
    parts = [_("导入错误清单"), uploaded[:60], f"{timezone.localdate():%Y%m%d}"]
    return "_".join(part for part in parts if part) + ".xlsx"


@jobs.register(IMPORT_JOB, gettext_lazy("导入农户"), may_start=roles.can_write_households)
def run_import_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    user = job.created_by
    if user is None or not roles.can_write_households(user):
        raise jobs.JobFailed(_("发起人已无导入权限，任务未执行。"))
    dry_run = bool(job.parameters.get("dry_run"))
    try:
        path = import_file_path(job.parameters.get("file", ""))
    except ValueError:
        raise jobs.JobFailed(_("上传的文件不存在，请重新上传。")) from None
    if not os.path.exists(path):
        raise jobs.JobFailed(_("上传的文件已过期或不存在，请重新上传。"))
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    try:
        report = import_households(
            actor=user,
            path=path,
            dry_run=dry_run,
            progress=lambda count: progress.advance(count),
            on_total=progress.set_total,
        )
    except ImportRefused as refusal:
        os.unlink(path)
        raise jobs.JobFailed(str(refusal)) from refusal
    if report.errors:
        handle_number, report_path = tempfile.mkstemp(suffix=".xlsx", prefix="import-errors-")
        os.close(handle_number)
        try:
            error_workbook(report_path, source=path, report=report)
            with open(report_path, "rb") as handle:
                job.result_file.save(_error_workbook_name(job), File(handle), save=False)
            Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
        finally:
            os.unlink(report_path)
    access_log_record(
        user=user,
        action=AccessLog.Action.IMPORT,
        target="households_import",
        object_id=job.pk,
        fields=[],
        detail={
            "file": job.parameters.get("filename", ""),
            "sha256": digest.hexdigest(),
            "dry_run": dry_run,
            "errors": len(report.errors),
            "written": report.written,
            "households_created": report.households_created,
            "households_updated": report.households_updated,
        },
    )
    if not dry_run or report.errors:
        os.unlink(path)  # kept after a clean dry run, for the confirmation
    return report.as_dict()
