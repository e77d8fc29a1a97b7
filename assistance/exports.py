"""Assistance ledgers: 结对帮扶台账, 帮扶措施台账, 项目台账, 资金台账 (with 报账率), and the
政策落实防漏表 of the latest coverage check. Declared here, written by povertyapp.ledgers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistance.models import CoverageGap, CoverageRun, Measure, Pairing, Project
from povertyapp import ledgers
from povertyapp.ledgers.layout import DATE, INTEGER, MONEY, Column, SheetSpec
from povertyapp.ledgers.queries import choice_label, household_linked, region_linked, rows_from
from povertyapp.models import User

PLACE = (Column("township", "乡（镇）"), Column("village", "行政村"))
HOUSEHOLD = (Column("number", "户编号"), Column("head", "户主姓名"))


def _head_annotation(prefix: str = "household") -> dict[str, Any]:
    from django.db.models import OuterRef, Subquery

    from households.models import Member

    head = Member.objects.filter(
        household=OuterRef(f"{prefix}_id"), is_active=True, relation="户主"
    ).values("name")[:1]
    return {"head_name": Subquery(head)}


# --- 结对帮扶台账 ------------------------------------------------------------------------------

PAIRING_COLUMNS = (
    *PLACE,
    *HOUSEHOLD,
    Column("name", "帮扶责任人", group=("帮扶责任人",)),
    Column("unit", "工作单位", group=("帮扶责任人",)),
    Column("post", "职务", group=("帮扶责任人",)),
    Column("phone", "联系电话", group=("帮扶责任人",)),
    Column("start", "开始日期", DATE, ("帮扶时间",)),
    Column("end", "结束日期", DATE, ("帮扶时间",)),
    Column("current", "当前状态"),
)


def _pairing_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    def queryset():
        return household_linked(Pairing.objects.all(), user=user, filters=filters)

    def rows():
        fields = (
            "household__village__parent__name",
            "household__village__name",
            "household__number",
            "head_name",
            "name",
            "unit",
            "post",
            "phone",
            "start_date",
            "end_date",
        )
        ordered = (
            queryset()
            .annotate(**_head_annotation())
            .order_by("household__number", "start_date", "pk")
        )
        return rows_from(
            ordered, fields, lambda row: (*row, _("在帮") if row[9] is None else _("已结束"))
        )

    return SheetSpec(
        name=_("结对帮扶台账"),
        title=_("结对帮扶台账"),
        columns=PAIRING_COLUMNS,
        rows=rows,
        count=lambda: queryset().count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d条"),
    )


# --- 帮扶措施台账 ------------------------------------------------------------------------------

MEASURE_COLUMNS = (
    *PLACE,
    *HOUSEHOLD,
    Column("member", "受益成员"),
    Column("year", "帮扶年度", INTEGER),
    Column("category", "措施类别"),
    Column("content", "措施内容", width=30),
    Column("planned_start", "计划开始", DATE, ("计划时间",)),
    Column("planned_end", "计划完成", DATE, ("计划时间",)),
    Column("actual_start", "实际开始", DATE, ("实际时间",)),
    Column("actual_end", "实际完成", DATE, ("实际时间",)),
    Column("responsible", "责任人"),
    Column("amount", "帮扶资金", MONEY, ("资金（元）",), total=True),
    Column("fund_source", "资金来源", group=("资金（元）",)),
    Column("status", "状态"),
    Column("result", "帮扶成效", width=24),
    Column("income_effect", "增收效果（元/年）", MONEY, total=True),
)


def _measure_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    status = choice_label(Measure.Status.choices)

    def queryset():
        return household_linked(
            Measure.objects.all(), user=user, filters=filters, year_field="year"
        )

    def rows():
        fields = (
            "household__village__parent__name",
            "household__village__name",
            "household__number",
            "head_name",
            "member__name",
            "year",
            "category",
            "content",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "responsible",
            "amount",
            "fund_source",
            "status",
            "result",
            "income_effect",
        )
        ordered = (
            queryset().annotate(**_head_annotation()).order_by("household__number", "year", "pk")
        )
        return rows_from(ordered, fields, lambda row: (*row[:15], status(row[15]), *row[16:]))

    return SheetSpec(
        name=_("帮扶措施台账"),
        title=_("帮扶措施台账"),
        columns=MEASURE_COLUMNS,
        rows=rows,
        count=lambda: queryset().count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d项"),
    )


# --- 项目台账 and 资金台账 -----------------------------------------------------------------------

PROJECT_COLUMNS = (
    Column("name", "项目名称", width=28),
    Column("category", "项目类别"),
    Column("region", "实施地点"),
    Column("year", "年度", INTEGER),
    Column("unit", "责任单位"),
    Column("content", "建设内容", width=30),
    Column("planned_start", "计划开工", DATE, ("计划工期",)),
    Column("planned_end", "计划完工", DATE, ("计划工期",)),
    Column("actual_start", "实际开工", DATE, ("实际工期",)),
    Column("actual_end", "实际完工", DATE, ("实际工期",)),
    Column("progress", "进度（%）", INTEGER),
    Column("status", "状态"),
    Column("accepted_on", "验收日期", DATE),
    Column("budget", "资金规模（元）", MONEY, total=True),
    Column("goal", "绩效目标", width=24),
)
FUND_COLUMNS = (
    Column("name", "项目名称", width=28),
    Column("category", "项目类别"),
    Column("region", "实施地点"),
    Column("year", "年度", INTEGER),
    Column("budget", "资金规模", MONEY, ("资金（元）",), total=True),
    Column("allocated", "已下达", MONEY, ("资金（元）",), total=True),
    Column("arrived", "已到位", MONEY, ("资金（元）",), total=True),
    Column("spent", "已支出", MONEY, ("资金（元）",), total=True),
    Column("reimbursed", "已报账", MONEY, ("资金（元）",), total=True),
    Column("rate", "报账率（%）", MONEY),
    Column("unreimbursed", "未报账", MONEY, ("资金（元）",), total=True),
)


def _projects(user: User, filters: dict[str, Any]):
    return region_linked(Project.objects.all(), user=user, filters=filters, year_field="year")


def _project_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    status = choice_label(Project.Status.choices)

    def rows():
        fields = (
            "name",
            "category",
            "region__name",
            "year",
            "responsible_unit",
            "content",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "progress_percent",
            "status",
            "accepted_on",
            "budget_total",
            "performance_goal",
        )
        return rows_from(
            _projects(user, filters).order_by("year", "region__code", "pk"),
            fields,
            lambda row: (*row[:11], status(row[11]), *row[12:]),
        )

    return SheetSpec(
        name=_("项目台账"),
        title=_("扶贫项目台账"),
        columns=PROJECT_COLUMNS,
        rows=rows,
        count=lambda: _projects(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d个项目"),
    )


def reimbursement_rate(reimbursed: Decimal, allocated: Decimal) -> Decimal | None:
    """报账率 = reimbursed ÷ allocated, in percent with two decimals (none when nothing
    was allocated)."""
    if not allocated:
        return None
    return (reimbursed * 100 / allocated).quantize(Decimal("0.01"))


def _fund_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    def transform(row: Sequence[Any]) -> Sequence[Any]:
        name, category, region, year, budget, allocated, arrived, spent, reimbursed = row
        return (
            name,
            category,
            region,
            year,
            budget,
            allocated,
            arrived,
            spent,
            reimbursed,
            reimbursement_rate(reimbursed, allocated),
            allocated - reimbursed,
        )

    def rows():
        fields = (
            "name",
            "category",
            "region__name",
            "year",
            "budget_total",
            "allocated_total",
            "arrived_total",
            "spent_total",
            "reimbursed_total",
        )
        return rows_from(
            _projects(user, filters).order_by("year", "region__code", "pk"), fields, transform
        )

    return SheetSpec(
        name=_("资金台账"),
        title=_("扶贫资金台账（含报账率）"),
        columns=FUND_COLUMNS,
        rows=rows,
        count=lambda: _projects(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d个项目"),
    )


# --- 政策落实防漏表 -----------------------------------------------------------------------------

COVERAGE_COLUMNS = (
    *PLACE,
    *HOUSEHOLD,
    Column("member", "成员"),
    Column("rule", "应享措施或政策"),
    Column("kind", "问题类型"),
)


def _coverage_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    kind = choice_label(CoverageGap.Kind.choices)

    def queryset():
        runs = region_linked(CoverageRun.objects.all(), user=user, filters={})
        latest = runs.order_by("-pk").values_list("pk", flat=True).first()
        gaps = CoverageGap.objects.filter(run_id=latest) if latest else CoverageGap.objects.none()
        return household_linked(gaps, user=user, filters=filters)

    def rows():
        fields = (
            "household__village__parent__name",
            "household__village__name",
            "household__number",
            "head_name",
            "member__name",
            "rule__label",
            "kind",
        )
        ordered = queryset().annotate(**_head_annotation()).order_by("household__number", "pk")
        return rows_from(ordered, fields, lambda row: (*row[:6], kind(row[6])))

    return SheetSpec(
        name=_("政策落实防漏表"),
        title=_("优惠政策落实防漏表（应享未享、违规享受）"),
        columns=COVERAGE_COLUMNS,
        rows=rows,
        count=lambda: queryset().count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d条"),
    )


ledgers.register(
    ledgers.Ledger(
        key="pairings",
        title=gettext_lazy("结对帮扶台账"),
        order=40,
        sheets=lambda *, user, filters: [_pairing_sheet(user, filters)],
        description=gettext_lazy("每户的帮扶责任人及帮扶起止时间。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="measures",
        title=gettext_lazy("帮扶措施台账"),
        order=50,
        sheets=lambda *, user, filters: [_measure_sheet(user, filters)],
        description=gettext_lazy("每项帮扶措施：类别、内容、时间、资金、成效。可按年度筛选。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="projects",
        title=gettext_lazy("项目台账"),
        order=60,
        sheets=lambda *, user, filters: [_project_sheet(user, filters)],
        description=gettext_lazy("项目库：类别、地点、工期、进度、验收、资金规模。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="funds",
        title=gettext_lazy("资金台账"),
        order=70,
        sheets=lambda *, user, filters: [_fund_sheet(user, filters)],
        description=gettext_lazy("各项目资金下达、到位、支出、报账及报账率。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="coverage",
        title=gettext_lazy("政策落实防漏表"),
        order=80,
        sheets=lambda *, user, filters: [_coverage_sheet(user, filters)],
        available=lambda: CoverageRun.objects.exists(),
        description=gettext_lazy("最近一次政策落实核查的应享未享、违规享受名单。"),
    )
)
