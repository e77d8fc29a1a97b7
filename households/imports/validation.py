"""Validating the household import, every household before anything is written.

Validation uses the registry's own rules: the value lists of the year (`value_lists`), ID numbers
(`households.identity` through the services' member check), and the very functions
`households.services` runs before it writes (`_household_errors`, `_member_errors`,
`_members_set_errors`, the model's `full_clean`). Only the database look-ups are batched (which
户编号 exist, which ID numbers are active where: a few queries per batch of BATCH households). What
stays in memory is what the cross-row checks need: the 户编号 and ID numbers already seen in the
file."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from households import hooks, identity, services
from households.exports import HOUSEHOLD_COLUMNS, INCOME_FIELDS, MEMBER_COLUMNS
from households.imports.beside import HouseholdSheetReader
from households.imports.columns import (
    HOUSEHOLD_IMPORTED,
    JOIN_REASON_COLUMN,
    MEMBER_IMPORTED,
    STATUS_BY_LABEL,
)
from households.imports.reading import Sheets, _shown
from households.imports.report import CellError, ImportRefused, ImportReport
from households.imports.staging import _Staging
from households.models import Household, HouseholdIncome, Member, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import roles, yearlock
from povertyapp.ledgers import reader
from povertyapp.ledgers.safety import max_rows
from povertyapp.models import Region, User
from povertyapp.privacy import mask

BATCH = 1000  # households validated together (one set of registry look-ups)
READ_STEP = 10_000  # rows read between two messages of the reading's progress
NULLABLE_HOUSEHOLD = {f.name for f in Household._meta.concrete_fields if f.null}
NULLABLE_MEMBER = {f.name for f in Member._meta.concrete_fields if f.null}


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
        self.by_attname = {
            attname: (check, cache, _certainly_clean(check))
            for check, attname, _d, cache in self.fields
        }
        self.order = {attname: index for index, (_c, attname, _d, _m) in enumerate(self.fields)}
        # What a missing value (the field's default) gets: worked out once, on first use (the
        # messages are translated then); a member's row lacks about half the model's fields.
        self._missing: list[tuple[str, list[ValidationError]]] | None = None

    def errors(self, values: dict[str, Any], prefix: str = "") -> dict[str, list[ValidationError]]:
        """Each field's errors, keyed `prefix` + field name, in the model's field order."""
        found: dict[str, list[ValidationError]] = {}
        by_attname = self.by_attname
        for attname, value in values.items():
            entry = by_attname.get(attname)
            if entry is None:  # not a field checked here
                continue
            check, cache, certainly_clean = entry
            if certainly_clean is not None and certainly_clean(value):
                continue  # a name or an ID number: too many values to remember
            try:
                # A remembered value costs one look-up, its blank test included.
                problem = cache[type(value), value]
            except KeyError:
                problem = self._problem(check, value)
                if len(cache) < self.CACHE_PER_FIELD:
                    cache[type(value), value] = problem
            except TypeError:  # an unhashable value: not remembered
                problem = self._problem(check, value)
            if problem:
                found[attname] = list(problem)
        for attname, problem in self._missing_problems():
            if attname not in values:
                found[attname] = list(problem)
        if len(found) > 1:
            found = {name: found[name] for name in sorted(found, key=self.order.__getitem__)}
        return {prefix + self.by_attname[name][0].name: items for name, items in found.items()}

    def _missing_problems(self) -> list[tuple[str, list[ValidationError]]]:
        """(attname, errors) of the fields whose default fails its own check."""
        if self._missing is None:
            self._missing = [
                (attname, problem)
                for check, attname, default, _cache in self.fields
                if (problem := self._problem(check, default))
            ]
        return self._missing

    @staticmethod
    def _problem(check: Any, value: Any) -> list[ValidationError] | None:
        """What `full_clean` says of one field's value: nothing for a blank value of a field
        that may be blank (Django skips those), else `Field.clean`'s errors."""
        if check.blank and value in check.empty_values:
            return None
        try:
            check.clean(value, None)
        except ValidationError as error:
            problems = cast(list[ValidationError], error.error_list)
        else:
            return None
        # The answer is remembered for the rest of the process: without its traceback and
        # context, which would keep alive the frames that raised it and every local of them
        # (a batch of staged rows, the validator).
        for problem in problems:
            problem.__traceback__ = problem.__context__ = problem.__cause__ = None
        return problems


def _certainly_clean(check: Any) -> Callable[[Any], bool] | None:
    """For a field whose `Field.clean` is Django's own plain text or date check, a test that
    answers True only for values that `clean` certainly passes (a non-empty text within its
    `max_length`, a date): the columns of a name, an ID number, a phone or a birth date hold
    nearly as many values as rows, which no cache of answers serves. None for any other field,
    and every other value goes to `clean` (`_FieldCheck._problem`), errors and all."""
    from django.core.validators import MaxLengthValidator
    from django.db import models as django_models

    if (
        check.choices
        or not check.editable
        or type(check).validate is not django_models.Field.validate
        or type(check).run_validators is not django_models.Field.run_validators
    ):
        return None
    validators = check.validators
    if (
        isinstance(check, django_models.CharField)
        and type(check).to_python is django_models.CharField.to_python
        and check.max_length is not None
        and all(
            type(validator) is MaxLengthValidator and validator.limit_value == check.max_length
            for validator in validators
        )
    ):
        limit = check.max_length
        return lambda value: type(value) is str and 0 < len(value) <= limit
    if (
        type(check) is django_models.DateField
        and type(check).to_python is django_models.DateField.to_python
        and not validators
    ):
        return lambda value: type(value) is datetime.date
    return None


_MEMBER_KEYS = frozenset(services.MEMBER_FIELDS)
_HOUSEHOLD_CHECK = _FieldCheck(Household, ["village", "group", "created_by", "county"])
_MEMBER_CHECK = _FieldCheck(Member, ["household", "county"])
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
        households: Sheets,
        members: Sheets,
        report: ImportReport,
        progress: Callable[[int], None] | None,
        tell: Callable[[str], None] | None = None,
    ) -> None:
        if not roles.can_write_households(actor):
            raise ImportRefused(_("您的角色只能查看，不能导入农户信息。"))
        self.actor = actor
        self.households = households
        self.members = members
        self.report = report
        self.progress = progress
        self.tell = tell  # where the phase and its counts go (the job's message), if anywhere
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
        # The signed years (one query): a row that would write into one is a row error here,
        # not a failure at write time (the whole file is then refused, nothing written).
        self.locks = yearlock.LockIndex()

    # Errors are reported on the cell they concern; `place` is the row's (`Sheets.rows`).
    def _household_error(self, place: int, key: str, values: dict[str, Any], message: str) -> None:
        key = {"village": "village_name", "group": "group_name"}.get(key, key)
        column = self.columns.get(key)
        sheet, row = self.households.where(place)
        index = sheet.columns.get(key)
        if column and (sheet.name, row, column.header) in self.unreadable:
            return
        self.report.errors.append(
            CellError(
                sheet.name,
                row,
                column.header if column else "",
                _shown(column, values.get(key)) if column else "",
                message,
                index,
            )
        )

    def _member_error(self, place: int, key: str, values: dict[str, Any], message: str) -> None:
        column = self.member_columns.get(key)
        sheet, row = self.members.where(place)
        index = sheet.columns.get(key)
        if column and (sheet.name, row, column.header) in self.unreadable:
            return
        self.report.errors.append(
            CellError(
                sheet.name,
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
        limit = max_rows()

        def members() -> Iterator[tuple[int, str, str | None, dict[str, Any]]]:
            for row, values in self.members.rows(
                workbook, MEMBER_IMPORTED, self.report, self.unreadable, limit
            ):
                number = values.get("household_number") or ""
                if not number:
                    self._member_error(row, "household_number", values, _("请填写户编号。"))
                    continue
                raw_id = values.get("id_number") or ""
                yield row, number, identity.normalise_id_number(raw_id) if raw_id else None, values

        # The households sheet in a second process meanwhile, when it is large (`beside`).
        beside = HouseholdSheetReader.start(workbook, self.households, limit)
        try:
            members_read = staging.add_members(self._counted(members(), self.members.name))
            for row, first, values in staging.repeated_members():
                members_read -= 1
                self._member_error(
                    row,
                    "id_number",
                    values,
                    self._repeated(
                        self.members,
                        row,
                        first,
                        _("证件号码与本表第%(row)d行重复。"),
                        _("证件号码与“%(sheet)s”工作表第%(row)d行重复。"),
                    ),
                )
            households_read = None
            if beside is not None:
                if self.tell is not None:
                    self.tell(_("正在读取“%(sheet)s”工作表……") % {"sheet": self.households.name})
                households_read = beside.take(staging, self.report, self.unreadable)
            if households_read is None:  # small, or the reader process failed: read it here
                households_read = staging.add_households(
                    self._counted(
                        self.households.rows(
                            workbook, HOUSEHOLD_IMPORTED, self.report, self.unreadable, limit
                        ),
                        self.households.name,
                    )
                )
        finally:
            if beside is not None:
                beside.stop()
        if self.tell is not None:
            self.tell(
                _("已读取%(households)d户、%(members)d名成员，正在校验……")
                % {"households": households_read, "members": members_read}
            )
        return households_read

    def _counted(self, rows: Iterator[Any], sheet: str) -> Iterator[Any]:
        """The rows, with the number read so far told every READ_STEP rows."""
        if self.tell is None:
            yield from rows
            return
        self.tell(_("正在读取“%(sheet)s”工作表……") % {"sheet": sheet})
        for count, row in enumerate(rows, start=1):
            if count % READ_STEP == 0:
                self.tell(
                    _("正在读取“%(sheet)s”工作表：已读取%(rows)d行")
                    % {"sheet": sheet, "rows": count}
                )
            yield row

    def run(self, staging: _Staging) -> None:
        """Validate every household (in batches, with its members) and stage what to write."""
        report = self.report
        self.villages = self._villages()
        self.groups = self._groups()
        checked = 0
        for batch in staging.household_batches(BATCH):
            if self.tell is not None and checked:
                self.tell(_("正在校验：已校验%(done)d户") % {"done": checked})
            checked += len(batch)
            numbers = list({values.get("number") or "" for _row, values, _first in batch} - {""})
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
            for row, values, first in batch:
                number = values.get("number") or ""
                if self.progress is not None:
                    self.progress(1)
                if not number:
                    self._household_error(row, "number", values, _("请填写户编号。"))
                    continue
                if first is not None:  # an earlier row holds this 户编号
                    self._household_error(
                        row,
                        "number",
                        values,
                        self._repeated(
                            self.households,
                            row,
                            first,
                            _("户编号与本表第%(row)d行重复。"),
                            _("户编号与“%(sheet)s”工作表第%(row)d行重复。"),
                        ),
                    )
                    continue
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
        order = {
            sheet.name: index
            for index, sheet in enumerate([*self.households.items, *self.members.items])
        }
        report.errors.sort(key=lambda error: (order.get(error.sheet, len(order)), error.row))

    @staticmethod
    def _repeated(sheets: Sheets, place: int, first: int, same: str, other: str) -> str:
        """The message of a value (户编号, 证件号码) met before, at `first`: `same` when that
        was on this sheet, `other` (which names the sheet) when on another of the same kind."""
        here, _row = sheets.where(place)
        there, row = sheets.where(first)
        if there is here:
            return same % {"row": row}
        return other % {"sheet": there.name, "row": row}

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
            for member in (
                Member.objects.with_id_numbers(numbers[start : start + 5000])
                .filter(is_active=True)
                .select_related("household", "household__village")
            ):
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
                _("户状态应为：%(labels)s。") % {"labels": _("、").join(STATUS_BY_LABEL)},
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
        if self.locks and plan.changed:
            # A changed income is a row of its year; any write records an event dated today.
            for key, year in (
                ("income_year", plan.income_year if plan.income_changed else None),
                ("number", self.today.year),
            ):
                locked = self.locks.error(village.path, year)
                if locked is not None:
                    self._household_error(row, key, values, locked)
                    return None
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
                if value is not None and key in _MEMBER_KEYS
            }
            for key, items in _MEMBER_CHECK.errors(member_values, f"members.{index}.").items():
                errors.setdefault(key, []).extend(items)
        if errors:
            self._report(row, values, member_rows, errors)
            return None
        self.report.households_created += 1
        self.report.members_created += len(rows)
        if self._previewing():  # the texts are translated for the shown households only
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
                    % {"reason": reason, "choices": _("、").join(choices)}
                )
            ]
        if not reason and hooks.open_round_for(household.village) is not None:
            return [
                ValidationError(
                    _("动态调整期间新增成员须填写增员原因（%(choices)s）。")
                    % {"choices": _("、").join(choices)}
                )
            ]
        return []

    def _previewing(self) -> bool:
        return len(self.report.preview) < ImportReport.PREVIEW_LIMIT

    def _preview(self, number: str, action: str, detail: str) -> None:
        if self._previewing():
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
        parts.append(f"{member.name}：" + _("、").join(member_labels.get(k, k) for k in delta))
    parts += [
        _("增员%(name)s") % {"name": data.get("name", "")} for _row, data in plan.member_additions
    ]
    if plan.income_changed:
        parts.append(_("%(year)d年收入") % {"year": plan.income_year})
    if len(report.preview) < ImportReport.PREVIEW_LIMIT:
        report.preview.append(
            {"number": plan.number, "action": _("更新"), "detail": _("；").join(parts)}
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
