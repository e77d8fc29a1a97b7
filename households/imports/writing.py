"""The household import from end to end (`import_households`), and its write.

Writing: households that exist (matched by 户编号, members by ID number) are updated through
`households.services` (household_update, member_update, member_add, income_set), which keep
history and versions. New households go through `services.households_bulk_register`, which writes
the rows `household_create` writes (history rows, the 建档 event) set-wise, inside the same
transaction; docs/ledgers.md explains why. Re-importing an unchanged file writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from households import services
from households.exports import HOUSEHOLD_SHEET
from households.imports.reading import _open, locate_sheets
from households.imports.report import CellError, ImportReport
from households.imports.staging import _Staging
from households.imports.validation import _Validator
from povertyapp.models import User


def _write(
    actor: User,
    staging: _Staging,
    validator: _Validator,
    report: ImportReport,
    progress: Callable[[int], None] | None,
    tell: Callable[[str], None] | None = None,
) -> None:
    reason = _("导入")
    written = 0

    def advanced(count: int) -> None:
        nonlocal written
        written += count
        if tell is not None:
            tell(_("正在写入：已写入%(done)d户") % {"done": written})
        if progress is not None:
            progress(count)

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
        actor=actor, households=new_households(), reason=reason, progress=advanced
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
            sheet, row = validator.households.where(plan.row)
            report.errors.append(
                CellError(sheet.name, row, "户编号", plan.number, "；".join(error.messages))
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
    tell: Callable[[str], None] | None = None,
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
            actor=actor,
            households=households,
            members=members,
            report=report,
            progress=progress,
            tell=tell,
        )
        with _Staging() as staging:
            count = validator.stage(workbook, staging)
            workbook.close()
            if on_total is not None:
                on_total(count * (1 if dry_run else 2))
            validator.run(staging)
            if report.errors or dry_run:
                return report
            if tell is not None:
                tell(_("校验通过，正在写入……"))
            try:
                with transaction.atomic():
                    _write(actor, staging, validator, report, progress, tell)
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
