"""The household import: the 户台账 + 人员台账 workbook the export writes, read back.

    upload → safety.check_xlsx (before parsing) → read (read-only, defusedxml, columns matched by
    their Chinese header text) → validate every row (nothing written) → report errors, or a
    dry-run preview, or write everything in one transaction.

Validation uses the registry's own rules: the value lists of the year (`value_lists`), ID numbers
(`households.identity` through the services' member check), and the very functions
`households.services` runs before it writes (`_household_errors`, `_member_errors`,
`_members_set_errors`, the model's `full_clean`). Only the database look-ups are batched (which
户编号 exist, which ID numbers are active where), so 100k households need a handful of queries
instead of several per household.

Writing: households that exist (matched by 户编号, members by ID number) are updated through
`households.services` (household_update, member_update, member_add, income_set), which keep
history and versions. New households are written in bulk (`bulk_create_with_history`), with the
history rows and the 建档 event row that `household_create` writes for each, inside the same
transaction; docs/ledgers.md explains why. Re-importing an unchanged file writes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import openpyxl
from defusedxml import DefusedXmlException
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from households import identity, services
from households.exports import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_DERIVED,
    HOUSEHOLD_SHEET,
    INCOME_FIELDS,
    MEMBER_COLUMNS,
    MEMBER_DERIVED,
    MEMBER_SHEET,
)
from households.models import Household, HouseholdEvent, HouseholdIncome, Member
from households.selectors import province_of, value_lists
from povertyapp import jobs, roles
from povertyapp.ledgers import layout
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
from povertyapp.ledgers.safety import check_xlsx, max_rows
from povertyapp.models import AccessLog, Job, Region, User
from povertyapp.privacy import HEALTH_MASK, access_log_record, mask

HEADER_SCAN_ROWS = 8
BATCH = 1000
STATUS_BY_LABEL = {str(label): value for value, label in Household.Status.choices}
# Exported for reading only: derived figures and the post-exit policy (set by the exit workflow).
HOUSEHOLD_NOT_IMPORTED = HOUSEHOLD_DERIVED - {"township_name"} | {"exit_policy"}
HOUSEHOLD_IMPORTED = [c for c in HOUSEHOLD_COLUMNS if c.key not in HOUSEHOLD_NOT_IMPORTED]
MEMBER_IMPORTED = [c for c in MEMBER_COLUMNS if c.key not in MEMBER_DERIVED]
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
    columns: dict[str, int]  # key → 0-based index
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


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

    PREVIEW_LIMIT = 200

    def as_dict(self, *, error_limit: int = 1000) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "error_count": len(self.errors),
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
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return layout.restore(layout.decode_ooxml(str(value).strip()))


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
    rows: list[tuple[Any, ...]], columns: Sequence[Column]
) -> tuple[dict[str, int], int]:
    by_label = {column.header: column.key for column in columns}
    found: dict[str, int] = {}
    last = -1
    for row_index, row in enumerate(rows):
        for col_index, value in enumerate(row):
            if isinstance(value, str) and value.strip() in by_label:
                key = by_label[value.strip()]
                found.setdefault(key, col_index)
                last = max(last, row_index)
    return found, last


def read_workbook(path: str, report: ImportReport) -> tuple[SheetData, SheetData]:
    """Read both sheets (matched by header text); cell errors go to `report.errors`."""
    with open(path, "rb") as handle:
        try:
            check_xlsx(handle)
        except ValidationError as error:
            raise ImportRefused(error.messages[0]) from error
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        if isinstance(error, DefusedXmlException) or isinstance(
            error.__cause__, DefusedXmlException
        ):
            raise ImportRefused(_("文件包含不安全的XML声明，不予导入。")) from None
        raise ImportRefused(_("文件无法作为Excel工作簿读取，请确认是.xlsx格式。")) from None
    sheets: dict[str, SheetData] = {}
    try:
        for worksheet in workbook.worksheets:
            rows = worksheet.iter_rows(values_only=True)
            head = []
            for _index in range(HEADER_SCAN_ROWS):
                try:
                    head.append(next(rows))
                except StopIteration:
                    break
            for kind, columns, signature in (
                (HOUSEHOLD_SHEET, HOUSEHOLD_IMPORTED, HOUSEHOLD_SIGNATURE),
                (MEMBER_SHEET, MEMBER_IMPORTED, MEMBER_SIGNATURE),
            ):
                found, last = _find_header(head, columns)
                labels = {column.header for column in columns if column.key in found}
                if kind in sheets or not signature <= labels:
                    continue
                if kind == HOUSEHOLD_SHEET and "姓名" in {
                    str(v).strip() for r in head for v in r if v
                }:
                    continue  # a member sheet also carries 户编号 and 行政村
                sheets[kind] = _read_rows(
                    worksheet.title, columns, found, head[last + 1 :], rows, last + 2, report
                )
                break
    except DefusedXmlException:
        raise ImportRefused(_("文件包含不安全的XML声明，不予导入。")) from None
    finally:
        workbook.close()
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


def _read_rows(
    title: str,
    columns: Sequence[Column],
    found: dict[str, int],
    first: list[tuple[Any, ...]],
    rest: Iterable[tuple[Any, ...]],
    first_row_number: int,
    report: ImportReport,
) -> SheetData:
    data = SheetData(name=title, columns=found)
    wanted = [(column, found[column.key]) for column in columns if column.key in found]
    required = HOUSEHOLD_REQUIRED if columns is HOUSEHOLD_IMPORTED else MEMBER_REQUIRED
    for key in required:
        if key not in found:
            header = next(column.header for column in columns if column.key == key)
            report.errors.append(
                CellError(
                    title,
                    first_row_number - 1,
                    header,
                    "",
                    _("缺少必需的列“%(header)s”。") % {"header": header},
                )
            )
    limit = max_rows()
    row_number = first_row_number - 1

    def rows() -> Iterable[tuple[Any, ...]]:
        yield from first
        yield from rest

    for raw in rows():
        row_number += 1
        if not raw or all(value is None or value == "" for value in raw):
            continue
        if isinstance(raw[0], str) and raw[0].strip() == "合计":
            continue
        if len(data.rows) >= limit:
            raise ImportRefused(
                _("工作表“%(sheet)s”超过%(limit)d行的上限，请分批导入。")
                % {"sheet": title, "limit": limit}
            )
        values: dict[str, Any] = {}
        for column, index in wanted:
            cell = raw[index] if index < len(raw) else None
            try:
                values[column.key] = parse_cell(column, cell)
            except ValueError as error:
                report.errors.append(
                    CellError(
                        title, row_number, column.header, _shown(column, cell), str(error), index
                    )
                )
        data.rows.append((row_number, values))
    return data


# --- validating -------------------------------------------------------------------------------


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
        self.actor = actor
        self.households = households
        self.members = members
        self.report = report
        self.progress = progress
        self.today = timezone.localdate()
        self.columns = {column.key: column for column in HOUSEHOLD_COLUMNS}
        self.member_columns = {column.key: column for column in MEMBER_COLUMNS}
        self._lists: dict[int | None, dict[str, list[str]]] = {}
        self.read_errors = len(report.errors)
        self._village_lists: dict[int, dict[str, list[str]]] = {}
        self.in_scope: set[int] = set()

    # Errors are reported on the cell they concern.
    def _household_error(self, row: int, key: str, values: dict[str, Any], message: str) -> None:
        key = {"village": "village_name", "group": "group_name"}.get(key, key)
        column = self.columns.get(key)
        index = self.households.columns.get(key)
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

    def run(self) -> list[HouseholdPlan]:
        report = self.report
        if not roles.can_write_households(self.actor):
            raise ImportRefused(_("您的角色只能查看，不能导入农户信息。"))
        villages = self._villages()
        groups = self._groups()
        numbers = [values.get("number") or "" for _row, values in self.households.rows]
        existing = self._existing(numbers)
        member_rows: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        seen_ids: dict[str, int] = {}
        for row, values in self.members.rows:
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
            member_rows[number].append((row, values))
        active_elsewhere = self._active_members(list(seen_ids))
        seen_numbers: dict[str, int] = {}
        plans: list[HouseholdPlan] = []
        for row, values in self.households.rows:
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
                villages,
                groups,
                active_elsewhere,
            )
            if plan is not None:
                plans.append(plan)
        for number, rows in member_rows.items():
            if number not in seen_numbers:
                for row, values in rows:
                    self._member_error(
                        row,
                        "household_number",
                        values,
                        _("户编号%(number)s不在户台账工作表中。") % {"number": number},
                    )
        # A cell that could not be read is reported once, not again by the rules it then fails.
        unreadable = {(e.sheet, e.row, e.column) for e in report.errors[: self.read_errors]}
        report.errors[self.read_errors :] = [
            e
            for e in report.errors[self.read_errors :]
            if (e.sheet, e.row, e.column) not in unreadable
        ]
        report.errors.sort(key=lambda error: (error.sheet != self.households.name, error.row))
        return plans

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
        return {(group.parent_id, group.name): group for group in scope}

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
                household._import_members = members.get(household.pk, [])  # type: ignore[attr-defined]
            by_household: dict[int, dict[int, HouseholdIncome]] = defaultdict(dict)
            for start in range(0, len(ids), 5000):
                for income in HouseholdIncome.objects.filter(
                    household_id__in=ids[start : start + 5000]
                ):
                    by_household[income.household_id][income.year] = income
            for household in found.values():
                household._import_incomes = by_household.get(household.pk, {})  # type: ignore[attr-defined]
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
            candidate = HouseholdIncome(
                household_id=existing.pk if existing else None, year=income_year, **income
            )
            try:
                candidate.full_clean(
                    exclude=["household"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as error:
                self._report(
                    row,
                    values,
                    member_rows,
                    {
                        key: [ValidationError(message) for message in messages]
                        for key, messages in error.message_dict.items()
                    },
                )
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
        household = Household(number=values["number"], status=status, exit_year=exit_year, **data)
        try:
            household.full_clean(
                exclude=["village", "group", "created_by"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            for key, items in error.error_dict.items():
                errors.setdefault(key, []).extend(items)
        for index, member in enumerate(rows):
            instance = Member(
                **{
                    key: value
                    for key, value in member.items()
                    if key in services.MEMBER_FIELDS and value is not None
                }
            )
            try:
                instance.full_clean(
                    exclude=["household"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as error:
                for key, items in error.error_dict.items():
                    errors.setdefault(f"members.{index}.{key}", []).extend(items)
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
        current: list[Member] = household._import_members  # type: ignore[attr-defined]
        by_id = {member.id_number: member for member in current if member.id_number}
        by_name = {(member.name, member.birth_date): member for member in current}
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
                additions.append((member_row, member_data))
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

    def _preview(self, number: str, action: str, detail: str) -> None:
        if len(self.report.preview) < ImportReport.PREVIEW_LIMIT:
            self.report.preview.append({"number": number, "action": action, "detail": detail})


def _summarise_existing(report: ImportReport, plans: list[HouseholdPlan]) -> None:
    household_labels = {c.key: c.header for c in HOUSEHOLD_COLUMNS}
    member_labels = {c.key: c.header for c in MEMBER_COLUMNS}
    for plan in plans:
        if plan.existing is None:
            continue
        if not plan.changed:
            report.households_unchanged += 1
            continue
        report.households_updated += 1
        report.members_updated += len(plan.member_changes)
        report.members_created += len(plan.member_additions)
        report.incomes_set += 1 if plan.income_changed else 0
        parts = [household_labels.get(key, key) for key in plan.values]
        for member, delta in plan.member_changes:
            parts.append(f"{member.name}：" + "、".join(member_labels.get(k, k) for k in delta))
        parts += [
            _("增员%(name)s") % {"name": data.get("name", "")}
            for _row, data in plan.member_additions
        ]
        if plan.income_changed:
            parts.append(_("%(year)d年收入") % {"year": plan.income_year})
        if len(report.preview) < ImportReport.PREVIEW_LIMIT:
            report.preview.append(
                {"number": plan.number, "action": _("更新"), "detail": "；".join(parts)}
            )


# --- writing ----------------------------------------------------------------------------------


def _write(
    actor: User,
    plans: list[HouseholdPlan],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    today = timezone.localdate()
    reason = _("导入")
    new = [plan for plan in plans if plan.existing is None]
    for start in range(0, len(new), BATCH):
        batch = new[start : start + BATCH]
        households = [
            Household(
                number=plan.number,
                status=plan.status,
                exit_year=plan.exit_year,
                created_by=actor,
                **plan.values,
            )
            for plan in batch
        ]
        households = bulk_create_with_history(
            households, Household, default_user=actor, default_change_reason=reason
        )
        members: list[Member] = []
        incomes: list[HouseholdIncome] = []
        events: list[HouseholdEvent] = []
        for plan, household in zip(batch, households, strict=True):
            for _row, data in plan.members:
                members.append(
                    Member(
                        household=household,
                        joined_on=today,
                        **{
                            key: value
                            for key, value in data.items()
                            if key in services.MEMBER_FIELDS and value is not None
                        },
                    )
                )
            if plan.income_year is not None and plan.income:
                incomes.append(
                    HouseholdIncome(household=household, year=plan.income_year, **plan.income)
                )
            events.append(
                HouseholdEvent(
                    household=household,
                    kind=HouseholdEvent.Kind.REGISTERED,
                    from_status="",
                    to_status=plan.status,
                    effective_date=today,
                    reason=reason,
                    persons=len(plan.members),
                    proposed_by=actor,
                    created_by=actor,
                    data={},
                )
            )
        bulk_create_with_history(members, Member, default_user=actor, default_change_reason=reason)
        if incomes:
            bulk_create_with_history(
                incomes, HouseholdIncome, default_user=actor, default_change_reason=reason
            )
        HouseholdEvent.objects.bulk_create(events)
        report.incomes_set += len(incomes)
        if progress is not None:
            progress(len(batch))
    for plan in plans:
        if plan.existing is None or not plan.changed:
            if plan.existing is not None and progress is not None:
                progress(1)
            continue
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
                services.member_add(actor=actor, household=household, data=data, reason=reason)
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
    households, members = read_workbook(path, report)
    if on_total is not None:
        on_total(len(households.rows) * (1 if dry_run else 2))
    plans = _Validator(
        actor=actor, households=households, members=members, report=report, progress=progress
    ).run()
    if report.errors:
        return report
    _summarise_existing(report, plans)
    if dry_run:
        return report
    try:
        with transaction.atomic():
            _write(actor, plans, report, progress)
    except ValidationError:
        return report
    except IntegrityError:
        report.errors.append(
            CellError(
                HOUSEHOLD_SHEET,
                0,
                "",
                "",
                _("写入时与他人同时提交的数据冲突（户编号或身份证号码），全部未写入，请重新导入。"),
            )
        )
        return report
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
    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        for worksheet in workbook.worksheets:
            bad_rows = by_sheet.get(worksheet.title)
            if not bad_rows:
                continue
            out = book.add_worksheet(f"{worksheet.title}（出错行）"[:31])
            out.write_string(0, 0, _("原行号"), header)
            masked_columns: set[int] = set()
            rows = worksheet.iter_rows(values_only=True)
            out_row = 1
            for number, values in enumerate(rows, start=1):
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
                cells = bad_rows.get(number)
                if cells is None:
                    continue
                out.write_number(out_row, 0, number, plain)
                for index, value in enumerate(values):
                    text = "" if value is None else str(value)
                    if index in masked_columns and text:
                        text = mask(text) if len(text) > 7 else HEALTH_MASK
                    message = cells.get(index)
                    out.write_string(
                        out_row, index + 1, layout.neutralise(text), bad if message else plain
                    )
                    if message:
                        out.write_comment(out_row, index + 1, message)
                if None in cells:
                    out.write_comment(out_row, 0, cells[None])
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


def import_file_store(upload: IO[bytes]) -> str:
    """Check an uploaded file (before any parsing) and keep it for the job; returns its name.
    Raises ValidationError with the reason a hostile or wrong file is refused."""
    check_xlsx(upload)
    name = f"{uuid.uuid4().hex}.xlsx"
    with open(import_file_path(name), "wb") as target:
        upload.seek(0)
        shutil.copyfileobj(upload, target)
    return name


@jobs.register(IMPORT_JOB, gettext_lazy("导入农户"))
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
                job.result_file.save(_("导入错误清单.xlsx"), File(handle), save=False)
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
