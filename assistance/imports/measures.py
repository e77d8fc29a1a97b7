"""The 帮扶措施 workbook (`import_measures`): one row per measure of a household (or of one
member, by 证件号码), with its plan, money, status, result and the project it belongs to
(项目编号 and/or 项目名称, a project of the household's village, township or county).

Natural key: 户编号 + 证件号码 (blank for the whole household) + 帮扶年度 + 措施类别 + 措施内容. A
row whose key matches a measure already recorded updates it (its plan, through
`measure_update`; its status forward, through `measure_change_status`); an identical row
writes nothing, so the same file imported twice is a no-op. Every row is checked first; any
error refuses the whole file and nothing is written."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance import services
from assistance.imports.reading import Problems, Row, SheetSpec, read_workbook, text
from assistance.imports.result import ImportResult
from assistance.imports.template import write_template
from assistance.models import FundSource, Measure, Project
from assistance.selectors import measure_projects
from households.identity import normalise_id_number
from households.models import Household, Member, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import audit, roles, yearlock
from povertyapp.ledgers.layout import DATE, INTEGER, MONEY, SENSITIVE, Column
from povertyapp.models import User

SHEET = SheetSpec(
    name="帮扶措施",
    columns=(
        Column("number", "户编号", width=22),
        Column("id_number", "证件号码", SENSITIVE, width=22),
        Column("year", "帮扶年度", INTEGER),
        Column("category", "措施类别", width=14),
        Column("content", "措施内容", width=36),
        Column("planned_start", "计划开始日期", DATE, width=14),
        Column("planned_end", "计划完成日期", DATE, width=14),
        Column("actual_start", "实际开始日期", DATE, width=14),
        Column("actual_end", "实际完成日期", DATE, width=14),
        Column("responsible", "责任人"),
        Column("amount", "帮扶资金（元）", MONEY, width=14),
        Column("fund_source", "资金来源", width=24),
        Column("status", "状态"),
        Column("result", "帮扶成效", width=30),
        Column("income_effect", "增收效果（元/年）", MONEY, width=16),
        Column("project_code", "项目编号", width=18),
        Column("project_name", "项目名称", width=30),
    ),
    required=frozenset({"number", "category", "content"}),
)
INSTRUCTIONS = (
    "帮扶措施导入模板 填写说明",
    "1. 每行一项帮扶措施。户编号、措施类别、措施内容必填；针对某位成员的措施填写其证件号码"
    "（文本格式），全户措施留空。",
    "2. 帮扶年度留空时取计划开始日期的年度，再无则为当年。措施类别从代码表中选择。",
    "3. 有帮扶资金时须填写资金来源。状态为计划、实施中、已完成、已取消，留空为计划；"
    "实施中须填实际开始日期，已完成须填实际完成日期和帮扶成效，已取消须在帮扶成效中说明原因。",
    "4. 所属项目填项目编号或项目名称（或两者），须为本户所在村或所在乡镇、县的未关闭项目。",
    "5. 同一户、同一成员、同一年度、同一类别、同一内容的措施视为同一项：已有的按表中内容更新"
    "（已完成或已取消的不能修改），状态只能向前推进。同一文件重复导入不会重复写入。",
    "6. 系统先检查整个文件，有任何错误则一条也不写入，并给出问题清单。",
)
STATUS_BY_LABEL = {str(label): value for value, label in Measure.Status.choices}
# Chinese labels whatever the user's language: the template's words, not the page's.
STATUS_LABELS = ("计划", "实施中", "已完成", "已取消")
PLAN_FIELDS = (
    "member",
    "planned_start",
    "planned_end",
    "responsible",
    "amount",
    "fund_source",
    "project",
)


@dataclass
class _Line:
    row: Row
    household: Household
    data: dict[str, Any]
    status: str
    existing: Measure | None = None
    delta: dict[str, Any] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)  # statuses to pass through, in order


def _require_importer(actor: User) -> None:
    if not roles.can_write_households(actor):
        raise PermissionDenied(_("只有村级录入员和县扶贫办可以导入帮扶措施。"))


def measures_template(path: str, *, user: User) -> None:
    region = user.region
    province = province_of(region) if region is not None else None
    categories = value_lists(year=timezone.localdate().year, province=province).get(
        ValueList.MEASURE_CATEGORY, []
    )
    write_template(
        path,
        specs=[SHEET],
        instructions=INSTRUCTIONS,
        choices={
            "category": categories,
            "fund_source": list(FundSource.values),
            "status": list(STATUS_LABELS),
        },
    )


def _project(
    row: Row, household: Household, projects: list[Project], problems: Problems
) -> Project | None | bool:
    """The project the row names, None for none, False after an error."""
    code, name = text(row, "project_code"), text(row, "project_name")
    if not code and not name:
        return None
    matches = [
        project
        for project in projects
        if (not code or project.code == code) and (not name or project.name == name)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        problems.add(
            row,
            _(
                "所属项目“%(project)s”不是本户所在村或所在乡镇、县的未关闭项目"
                "（或项目编号与项目名称不符）。"
            )
            % {"project": code or name},
            number=household.number,
        )
    else:
        problems.add(
            row,
            _("项目名称“%(name)s”对应多个项目，请填写项目编号。") % {"name": name},
            number=household.number,
        )
    return False


def _steps(row: Row, current: str, target: str, problems: Problems, number: str) -> list[str]:
    """The status changes from `current` to `target` (planned → in progress → completed)."""
    if target == current:
        return []
    if target not in Measure.TRANSITIONS[current]:
        problems.add(
            row,
            _("措施状态不能从“%(old)s”改为“%(new)s”。")
            % {"old": Measure.Status(current).label, "new": Measure.Status(target).label},
            number=number,
        )
        return []
    if (
        target == Measure.Status.COMPLETED
        and current == Measure.Status.PLANNED
        and row.values["actual_start"]
    ):
        return [Measure.Status.IN_PROGRESS, Measure.Status.COMPLETED]
    return [target]


def _status_errors(row: Row, status: str, problems: Problems, number: str) -> None:
    start, end = row.values["actual_start"], row.values["actual_end"]
    today = timezone.localdate()
    for day, label in ((start, _("实际开始日期")), (end, _("实际完成日期"))):
        if day and day > today:
            problems.add(row, _("%(label)s不能晚于今天。") % {"label": label}, number=number)
    if start and end and end < start:
        problems.add(row, _("实际完成日期不能早于实际开始日期。"), number=number)
    if status == Measure.Status.IN_PROGRESS and not start:
        problems.add(row, _("状态为实施中时请填写实际开始日期。"), number=number)
    if status == Measure.Status.COMPLETED:
        if not end:
            problems.add(row, _("状态为已完成时请填写实际完成日期。"), number=number)
        if not text(row, "result"):
            problems.add(row, _("状态为已完成时请填写帮扶成效。"), number=number)
    if status == Measure.Status.CANCELLED and not text(row, "result"):
        problems.add(row, _("状态为已取消时请在帮扶成效中说明原因。"), number=number)
    if status not in (Measure.Status.COMPLETED,) and row.values["income_effect"]:
        problems.add(row, _("只有已完成的措施填写增收效果。"), number=number)


def _validate(actor: User, rows: list[Row], problems: Problems) -> list[_Line]:
    numbers = {text(row, "number") for row in rows} - {""}
    households = {
        household.number: household
        for household in roles.household_scope(
            actor, Household.objects.filter(number__in=numbers)
        ).select_related("village")
    }
    existing: dict[tuple[Any, ...], Measure] = {}
    for recorded in Measure.objects.filter(household__in=households.values()).select_related(
        "project"
    ):
        existing[
            (
                recorded.household_id,
                recorded.member_id,
                recorded.year,
                recorded.category,
                recorded.content.strip(),
            )
        ] = recorded
    projects: dict[int, list[Project]] = {}
    seen: dict[tuple[Any, ...], Row] = {}
    locks = yearlock.LockIndex()  # the signed years, read once
    lines = []
    today = timezone.localdate()
    for row in rows:
        number = text(row, "number")
        if not number:
            problems.add(row, _("请填写户编号。"))
            continue
        household = households.get(number)
        if household is None:
            problems.add(row, _("户编号不存在，或该户不在您的管辖范围内。"), number=number)
            continue
        member: Member | None = None
        id_number = text(row, "id_number")
        if id_number and "id_number" not in row.bad:
            member = (
                Member.objects.with_id_number(normalise_id_number(id_number))
                .filter(household=household, is_active=True)
                .first()
            )
            if member is None:
                problems.add(row, _("该证件号码不是本户的在户成员。"), number=number)
                continue
        status_label = text(row, "status")
        status = STATUS_BY_LABEL.get(status_label, "") if status_label else Measure.Status.PLANNED
        if not status:
            problems.add(
                row,
                _("状态“%(value)s”无效（应为：%(labels)s）。")
                % {"value": status_label, "labels": "、".join(STATUS_LABELS)},
                number=number,
            )
            continue
        year = row.values["year"]
        if year is None:
            first = row.values["planned_start"] or row.values["actual_start"]
            year = first.year if first else today.year
        if household.village_id not in projects:
            projects[household.village_id] = list(measure_projects(household))
        project = _project(row, household, projects[household.village_id], problems)
        if project is False:
            continue
        data: dict[str, Any] = {
            "member": member,
            "year": year,
            "category": text(row, "category"),
            "content": text(row, "content"),
            "planned_start": row.values["planned_start"],
            "planned_end": row.values["planned_end"],
            "responsible": text(row, "responsible"),
            "amount": row.values["amount"] if row.values["amount"] is not None else Decimal("0"),
            "fund_source": text(row, "fund_source"),
            "project": project,
        }
        for errors in services.measure_errors(household, data, actor).values():
            for error in errors:
                problems.add(row, "；".join(ValidationError(error).messages), number=number)
        key = (
            household.pk,
            member.pk if member else None,
            data["year"],
            data["category"],
            data["content"],
        )
        if key in seen:
            problems.add(
                row,
                _("与第%(other)d行是同一项措施（同户、同成员、同年度、同类别、同内容）。")
                % {"other": seen[key].number},
                number=number,
            )
            continue
        seen[key] = row
        _status_errors(row, status, problems, number)
        line = _Line(row=row, household=household, data=data, status=status)
        measure = existing.get(key)
        if measure is None:
            line.steps = _steps(row, Measure.Status.PLANNED, status, problems, number)
        else:
            line.existing = measure
            stored: dict[str, Any] = {name: getattr(measure, name) for name in PLAN_FIELDS}
            line.delta = {name: data[name] for name in PLAN_FIELDS if data[name] != stored[name]}
            if line.delta and measure.status in (
                Measure.Status.COMPLETED,
                Measure.Status.CANCELLED,
            ):
                problems.add(
                    row,
                    _("该措施已%(status)s，不能通过导入修改（表中内容与系统不同）。")
                    % {"status": measure.get_status_display()},
                    number=number,
                )
                continue
            line.steps = _steps(row, measure.status, status, problems, number)
        # A row that writes (a new measure, a change) into a signed year is refused here; an
        # unchanged row of a signed year is no write, so re-importing last year's file passes.
        if line.existing is None or line.delta or line.steps:
            locked = locks.error(household.village.path, year)
            if locked is not None:
                problems.add(row, locked, number=number)
                continue
        lines.append(line)
    return lines


def _advance(actor: User, measure: Measure, line: _Line) -> Measure:
    values = line.row.values
    for step in line.steps:
        on: datetime.date | None = None
        if step == Measure.Status.IN_PROGRESS:
            on = values["actual_start"]
        elif step == Measure.Status.COMPLETED:
            on = values["actual_end"]
        measure = services.measure_change_status(
            actor=actor,
            measure=measure,
            status=step,
            on=on,
            result=text(line.row, "result"),
            income_effect=values["income_effect"] if step == Measure.Status.COMPLETED else None,
            expected_version=measure.version,
        )
    return measure


def import_measures(*, actor: User, path: str, max_rows: int) -> ImportResult:
    """Check the whole 帮扶措施 workbook at `path`; write every row (one transaction) or none.
    Raises ValidationError with every problem (row by row) when anything is wrong."""
    _require_importer(actor)
    problems = Problems()
    rows = read_workbook(path, [SHEET], max_rows=max_rows, problems=problems)[SHEET.name]
    if not rows and not problems:
        problems.add(None, _("文件中没有帮扶措施。"))
    lines = _validate(actor, rows, problems)
    problems.refuse()
    result = ImportResult()
    current: _Line | None = None
    try:
        with transaction.atomic():
            for current in lines:
                if current.existing is None:
                    measure = services.measure_create(
                        actor=actor, household=current.household, data=current.data
                    )
                    _advance(actor, measure, current)
                    result.created += 1
                elif current.delta or current.steps:
                    measure = current.existing
                    if current.delta:
                        measure = services.measure_update(
                            actor=actor,
                            measure=measure,
                            data=current.delta,
                            expected_version=measure.version,
                        )
                    _advance(actor, measure, current)
                    result.updated += 1
                else:
                    result.unchanged += 1
            audit.record(
                "import",
                user=actor,
                target="assistance.measures",
                detail=result.as_dict(),
            )
    except ValidationError as error:
        problems.add(
            current.row if current else None,
            "；".join(error.messages),
            number=current.household.number if current else "",
        )
        problems.refuse()
    return result
