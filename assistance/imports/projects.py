"""The 项目库 workbook (`import_projects`): sheet 项目库, one row per project with its budget by
source (one column per 资金来源, `FundSource`), and an optional sheet 受益户 of project × 户编号.

Natural key: 项目编号 (`Project.code`, unique in the 项目库). A new 项目编号 is put in the 项目库
through `project_create` (with its 受益户; 实际开工/完工日期 through `project_update_progress`).
A 项目编号 already there must carry the same content (a project is changed on its page, not by
a file): a difference is an error naming the columns; its new 受益户 are added
(`project_beneficiaries_add`), none is removed. So the same file imported twice is a no-op.
受益户数, when given beside rows of the 受益户 sheet, must equal their number (the count alone is
not stored: the 受益户 are). Every row is checked first; any error refuses the whole file."""

from __future__ import annotations

import datetime
from collections import defaultdict
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
from assistance.models import FundSource, Project
from households.models import Household
from povertyapp import audit, roles
from povertyapp.ledgers.layout import DATE, INTEGER, MONEY, Column
from povertyapp.models import Region, User

FUND_COLUMNS = tuple(
    Column(f"fund:{source}", f"{source}（元）", MONEY, width=16) for source in FundSource.values
)
PROJECT_SHEET = SheetSpec(
    name="项目库",
    columns=(
        Column("code", "项目编号", width=18),
        Column("name", "项目名称", width=30),
        Column("category", "项目类别", width=12),
        Column("region_code", "实施地点代码", width=16),
        Column("year", "年度", INTEGER),
        Column("content", "建设内容", width=36),
        *FUND_COLUMNS,
        Column("responsible_unit", "责任单位", width=24),
        Column("planned_start", "计划开工日期", DATE, width=14),
        Column("planned_end", "计划完工日期", DATE, width=14),
        Column("actual_start", "实际开工日期", DATE, width=14),
        Column("actual_end", "实际完工日期", DATE, width=14),
        Column("beneficiary_count", "受益户数", INTEGER),
        Column("performance_goal", "绩效目标", width=36),
    ),
    required=frozenset({"code", "name", "category", "region_code", "year", "responsible_unit"}),
)
BENEFICIARY_SHEET = SheetSpec(
    name="受益户",
    columns=(Column("code", "项目编号", width=18), Column("number", "户编号", width=22)),
    required=frozenset({"code", "number"}),
    optional=True,
)
INSTRUCTIONS = (
    "项目库导入模板 填写说明",
    "1. “项目库”表每行一个项目。项目编号（全县唯一）、项目名称、项目类别、实施地点代码、年度、"
    "责任单位必填。实施地点代码为行政村、乡镇或县的区划代码。",
    "2. 资金规模按资金来源分列填写（元），至少填写一项。",
    "3. “受益户”表每行一个项目的一户受益户（项目编号、户编号），可不填。"
    "填写了受益户数的，须与“受益户”表中该项目的户数一致。",
    "4. 填写实际开工日期的项目进入实施中；填写实际完工日期的，进度记为100%。",
    "5. 项目编号已在项目库中的，表中内容须与库中一致（项目内容请在项目页修改），"
    "只增加新的受益户；同一文件重复导入不会重复写入。",
    "6. 系统先检查整个文件，有任何错误则一条也不写入，并给出问题清单。",
)
COMPARED = (
    ("name", "项目名称"),
    ("category", "项目类别"),
    ("region", "实施地点代码"),
    ("year", "年度"),
    ("content", "建设内容"),
    ("responsible_unit", "责任单位"),
    ("planned_start", "计划开工日期"),
    ("planned_end", "计划完工日期"),
    ("performance_goal", "绩效目标"),
)


@dataclass
class _Line:
    row: Row
    code: str
    data: dict[str, Any]
    fundings: dict[str, Decimal]
    existing: Project | None = None
    beneficiaries: list[Household] = field(default_factory=list)


def _require_importer(actor: User) -> None:
    if not services.can_manage_funds(actor):
        raise PermissionDenied(_("只有县扶贫办可以导入项目库。"))


def projects_template(path: str, *, user: User) -> None:
    write_template(
        path,
        specs=[PROJECT_SHEET, BENEFICIARY_SHEET],
        instructions=INSTRUCTIONS,
        choices={"category": list(Project.Category.values)},
    )


def _project_lines(actor: User, rows: list[Row], problems: Problems) -> dict[str, _Line]:
    codes = {text(row, "code") for row in rows} - {""}
    existing = {
        project.code: project
        for project in Project.objects.filter(code__in=codes)
        .select_related("region")
        .prefetch_related("fundings")
    }
    regions = {
        region.code: region
        for region in Region.objects.filter(
            code__in={text(row, "region_code") for row in rows} - {""}
        )
    }
    lines: dict[str, _Line] = {}
    today = timezone.localdate()
    for row in rows:
        code = text(row, "code")
        if not code:
            problems.add(row, _("请填写项目编号。"))
            continue
        if code in lines:
            problems.add(
                row,
                _("项目编号与第%(other)d行重复。") % {"other": lines[code].row.number},
                number=code,
            )
            continue
        region = regions.get(text(row, "region_code"))
        if region is None or not roles.region_in_scope(actor, region):
            problems.add(
                row,
                _("实施地点代码“%(code)s”不存在或不在您的管辖范围内。")
                % {"code": text(row, "region_code")},
                number=code,
            )
            continue
        year = row.values["year"]
        if year is None or not 2010 <= year <= 2100:
            if "year" not in row.bad:
                problems.add(
                    row, _("请填写年度（如%(year)d）。") % {"year": today.year}, number=code
                )
            continue
        data = {
            "code": code,
            "name": text(row, "name"),
            "category": text(row, "category"),
            "region": region,
            "year": year,
            "content": text(row, "content"),
            "responsible_unit": text(row, "responsible_unit"),
            "planned_start": row.values["planned_start"],
            "planned_end": row.values["planned_end"],
            "performance_goal": text(row, "performance_goal"),
        }
        fundings = {
            column.key.split(":", 1)[1]: row.values[column.key]
            for column in FUND_COLUMNS
            if row.values[column.key]
        }
        start, end = row.values["actual_start"], row.values["actual_end"]
        for day, label in ((start, _("实际开工日期")), (end, _("实际完工日期"))):
            if day and day > today:
                problems.add(row, _("%(label)s不能晚于今天。") % {"label": label}, number=code)
        if end and not start:
            problems.add(row, _("填写实际完工日期时请同时填写实际开工日期。"), number=code)
        elif start and end and end < start:
            problems.add(row, _("实际完工日期不能早于实际开工日期。"), number=code)
        line = _Line(row=row, code=code, data=data, fundings=fundings)
        project = existing.get(code)
        if project is None:
            errors = services.project_errors(actor=actor, data=data, fundings=fundings)
            for messages in errors.values():
                for error in messages:
                    problems.add(row, "；".join(ValidationError(error).messages), number=code)
        else:
            line.existing = project
            differ = [
                label
                for name, label in COMPARED
                if (getattr(project, name) or "") != (data[name] or "")
            ]
            stored = {funding.source: funding.amount for funding in project.fundings.all()}
            if stored != fundings:
                differ.append(_("资金规模"))
            if differ:
                problems.add(
                    row,
                    _(
                        "项目编号已在项目库中（%(name)s），表中以下内容与库中不同：%(columns)s。"
                        "已入库项目请在项目页修改。"
                    )
                    % {"name": project.name, "columns": "、".join(differ)},
                    number=code,
                )
                continue
        lines[code] = line
    return lines


def _beneficiaries(
    actor: User, rows: list[Row], lines: dict[str, _Line], problems: Problems
) -> None:
    numbers = {text(row, "number") for row in rows} - {""}
    households = {
        household.number: household
        for household in roles.household_scope(
            actor, Household.objects.filter(number__in=numbers)
        ).select_related("village")
    }
    counted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        code, number = text(row, "code"), text(row, "number")
        if not code or not number:
            problems.add(row, _("请填写项目编号和户编号。"))
            continue
        line = lines.get(code)
        if line is None:
            problems.add(
                row,
                _("项目编号%(code)s不在“项目库”表中（或该行有错误）。") % {"code": code},
                number=number,
            )
            continue
        if number in counted[code]:
            problems.add(row, _("该户已列为本项目的受益户（重复行）。"), number=number)
            continue
        counted[code].add(number)
        household = households.get(number)
        if household is None:
            problems.add(row, _("户编号不存在，或该户不在您的管辖范围内。"), number=number)
            continue
        region: Region = line.data["region"]
        if not household.village.path.startswith(region.path):
            problems.add(
                row,
                _("该户不在项目%(code)s的实施地点（%(region)s）内。")
                % {"code": code, "region": region.name},
                number=number,
            )
            continue
        line.beneficiaries.append(household)
    for code, line in lines.items():
        count = line.row.values["beneficiary_count"]
        if count is not None and code in counted and count != len(counted[code]):
            problems.add(
                line.row,
                _("受益户数（%(count)d）与“受益户”表中本项目的户数（%(listed)d）不一致。")
                % {"count": count, "listed": len(counted[code])},
                number=code,
            )


def _progress(actor: User, project: Project, row: Row) -> None:
    start: datetime.date | None = row.values["actual_start"]
    end: datetime.date | None = row.values["actual_end"]
    if start is None:
        return
    services.project_update_progress(
        actor=actor,
        project=project,
        progress_percent=100 if end else 0,
        actual_start=start,
        actual_end=end,
    )


def import_projects(*, actor: User, path: str, max_rows: int) -> ImportResult:
    """Check the whole 项目库 workbook at `path`; write every project (one transaction) or none.
    Raises ValidationError with every problem (row by row) when anything is wrong."""
    _require_importer(actor)
    problems = Problems()
    sheets = read_workbook(
        path, [PROJECT_SHEET, BENEFICIARY_SHEET], max_rows=max_rows, problems=problems
    )
    if not sheets[PROJECT_SHEET.name] and not problems:
        problems.add(None, _("文件中没有项目。"))
    lines = _project_lines(actor, sheets[PROJECT_SHEET.name], problems)
    _beneficiaries(actor, sheets[BENEFICIARY_SHEET.name], lines, problems)
    problems.refuse()
    result = ImportResult()
    current: _Line | None = None
    try:
        with transaction.atomic():
            for current in lines.values():
                if current.existing is None:
                    project = services.project_create(
                        actor=actor,
                        data=current.data,
                        fundings=current.fundings,
                        beneficiaries=current.beneficiaries,
                    )
                    _progress(actor, project, current.row)
                    result.created += 1
                elif services.project_beneficiaries_add(
                    actor=actor, project=current.existing, households=current.beneficiaries
                ):
                    result.updated += 1
                else:
                    result.unchanged += 1
            audit.record(
                "import", user=actor, target="assistance.projects", detail=result.as_dict()
            )
    except ValidationError as error:
        problems.add(
            current.row if current else None,
            "；".join(error.messages),
            number=current.code if current else "",
        )
        problems.refuse()
    return result
