"""Assistance ledgers: 结对帮扶台账, 帮扶措施台账, 项目台账, 资金台账 (with 报账率), and the
政策落实防漏表 of the latest coverage check. Declared here, written by povertyapp.ledgers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistance import costs, exit_plans
from assistance.models import (
    Asset,
    AssetDistribution,
    CoverageGap,
    CoverageRun,
    Measure,
    Pairing,
    Project,
)
from assistance.templatetags.assistance_labels import fund_source_label
from households.models import Household
from povertyapp import ledgers
from povertyapp.ledgers.layout import DATE, INTEGER, MONEY, Column, SheetSpec
from povertyapp.ledgers.queries import choice_label, household_linked, region_linked, rows_from
from povertyapp.models import Region, User

PLACE = (Column("township", "乡（镇）"), Column("village", "行政村"))
HOUSEHOLD = (Column("number", "户编号"), Column("head", "户主姓名"))


def _head_annotation(prefix: str = "household") -> dict[str, Any]:
    """The head's name (户主姓名) of the household under `prefix` ("" for a household itself)."""
    from django.db.models import OuterRef, Subquery

    from households.models import Member

    head = Member.objects.filter(
        household=OuterRef(f"{prefix}_id" if prefix else "pk"), is_active=True, relation="户主"
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


# --- 两笔账 -------------------------------------------------------------------------------------

INVESTMENT_COLUMNS = (
    Column("township", "乡（镇）"),
    Column("place", "实施地点"),
    Column("source", "资金来源"),
    Column("category", "项目或措施类别"),
    Column("projects", "项目支出", MONEY, ("投入资金（元）",), total=True),
    Column("measures", "措施资金", MONEY, ("投入资金（元）",), total=True),
    Column("total", "合计", MONEY, ("投入资金（元）",), total=True),
)
HOUSEHOLD_INVESTMENT_COLUMNS = (
    *PLACE,
    *HOUSEHOLD,
    Column("status", "户状态"),
    Column("source", "资金来源"),
    Column("category", "项目或措施类别"),
    Column("projects", "到户项目支出", MONEY, ("投入资金（元）",), total=True),
    Column("measures", "措施资金", MONEY, ("投入资金（元）",), total=True),
    Column("total", "合计", MONEY, ("投入资金（元）",), total=True),
)
EXIT_COST_COLUMNS = (
    *PLACE,
    Column("count", "有资金记录的已脱贫户", INTEGER),
    Column("unrecorded", "无资金记录的已脱贫户", INTEGER),
    Column("minimum", "最低", MONEY, ("每户脱贫成本（元）",)),
    Column("maximum", "最高", MONEY, ("每户脱贫成本（元）",)),
    Column("mean", "平均", MONEY, ("每户脱贫成本（元）",)),
    Column("total", "合计", MONEY, ("每户脱贫成本（元）",)),
)


def _filter_region(filters: dict[str, Any]) -> Region | None:
    code = filters.get("region")
    return Region.objects.filter(code=code).first() if code else None


def _investment_sheets(user: User, filters: dict[str, Any]) -> list[SheetSpec]:
    region = _filter_region(filters)
    source = fund_source_label

    def village_rows():
        for place, account in costs.village_accounts(user=user, region=region).items():
            township = place.parent.name if place.parent else ""
            for line in account.sorted_lines():
                yield (
                    township,
                    place.name,
                    source(line.source),
                    line.category,
                    line.projects,
                    line.measures,
                    line.total,
                )

    def household_rows():
        accounts = costs.household_accounts(user=user, region=region)
        households = (
            Household.objects.filter(pk__in=accounts)
            .annotate(**_head_annotation(prefix=""))
            .select_related("village", "village__parent")
            .order_by("number")
        )
        status = choice_label(Household.Status.choices)
        for household in households.iterator(chunk_size=2000):
            for line in accounts[household.pk].sorted_lines():
                yield (
                    household.village.parent.name if household.village.parent else "",
                    household.village.name,
                    household.number,
                    getattr(household, "head_name", ""),
                    status(household.status),
                    source(line.source),
                    line.category,
                    line.projects,
                    line.measures,
                    line.total,
                )

    def exit_rows():
        result = costs.exit_costs(user=user, region=region)

        def row(township, place, stats, unrecorded):
            return (
                township,
                place,
                stats.count,
                unrecorded,
                stats.minimum,
                stats.maximum,
                stats.mean,
                stats.total,
            )

        for item in result["villages"]:
            village = item["village"]
            yield row(
                village.parent.name if village.parent else "",
                village.name,
                item["stats"],
                item["unrecorded"],
            )
        yield row(_("全县"), "", result["county"], result["unrecorded"])

    return [
        SheetSpec(
            name=_("资金投入（按村）"),
            title=_("两笔账之一：扶贫资金投入台账（按村）"),
            columns=INVESTMENT_COLUMNS,
            rows=village_rows,
            count=lambda: sum(1 for _row in village_rows()),
            date_label=_("统计截止日期"),
            totals_label=_("共%(rows)d条"),
        ),
        SheetSpec(
            name=_("资金投入（按户）"),
            title=_("两笔账之一：扶贫资金投入台账（按户）"),
            columns=HOUSEHOLD_INVESTMENT_COLUMNS,
            rows=household_rows,
            count=lambda: sum(1 for _row in household_rows()),
            date_label=_("统计截止日期"),
            totals_label=_("共%(rows)d条"),
        ),
        SheetSpec(
            name=_("脱贫成本"),
            title=_("两笔账之二：脱贫成本台账"),
            columns=EXIT_COST_COLUMNS,
            rows=exit_rows,
            count=lambda: sum(1 for _row in exit_rows()),
            date_label=_("统计截止日期"),
            with_totals=False,
        ),
    ]


# --- 资产收益分配台账 -------------------------------------------------------------------------

ASSET_DISTRIBUTION_COLUMNS = (
    *PLACE,
    Column("asset", "资产名称", width=24),
    Column("kind", "资产类型"),
    Column("project", "来源项目", width=24),
    Column("ownership", "确权归属"),
    Column("manager", "管护主体"),
    Column("value", "资产价值（元）", MONEY),
    Column("year", "收益年度", INTEGER),
    *HOUSEHOLD,
    Column("amount", "分配金额（元）", MONEY, total=True),
    Column("paid_on", "发放日期", DATE),
)


def _asset_distribution_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    kind = choice_label(Asset.Kind.choices)

    def queryset():
        return household_linked(
            AssetDistribution.objects.all(), user=user, filters=filters, year_field="year"
        )

    def rows():
        fields = (
            "asset__village__parent__name",
            "asset__village__name",
            "asset__name",
            "asset__kind",
            "asset__project__name",
            "asset__ownership",
            "asset__manager",
            "asset__value",
            "year",
            "household__number",
            "head_name",
            "amount",
            "paid_on",
        )
        ordered = (
            queryset()
            .annotate(**_head_annotation())
            .order_by(
                "asset__village__code", "asset__name", "asset_id", "year", "household__number"
            )
        )
        return rows_from(ordered, fields, lambda row: (*row[:3], kind(row[3]), *row[4:]))

    return SheetSpec(
        name=_("资产收益分配台账"),
        title=_("扶贫资产收益分配台账"),
        columns=ASSET_DISTRIBUTION_COLUMNS,
        rows=rows,
        count=lambda: queryset().count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d条"),
    )


# --- 退出规划台账 -------------------------------------------------------------------------------

EXIT_PLAN_COLUMNS = (
    *PLACE,
    Column("year", "年度", INTEGER),
    Column("planned", "计划脱贫", INTEGER, ("户数",), total=True),
    Column("on_plan", "按期脱贫", INTEGER, ("户数",), total=True),
    Column("late", "延期脱贫", INTEGER, ("户数",), total=True),
    Column("pending", "尚未脱贫", INTEGER, ("户数",), total=True),
    Column("overdue", "逾期未脱贫", INTEGER, ("户数",), total=True),
    Column("exited", "当年实际脱贫", INTEGER, ("户数",), total=True),
    Column("rate", "按期完成率（%）", MONEY),
)
VILLAGE_PLAN_COLUMNS = (
    *PLACE,
    Column("exit_year", "计划出列年度", INTEGER),
    Column("exited", "已脱贫户数", INTEGER, total=True),
    Column("poor", "未脱贫户数", INTEGER, total=True),
    Column("state", "进度"),
)


def _exit_plan_sheets(user: User, filters: dict[str, Any]) -> list[SheetSpec]:
    region = _filter_region(filters)
    year_text = str(filters.get("year") or "")
    year = int(year_text) if year_text.isdigit() else None

    def plan_rows():
        for row in exit_plans.exit_progress(user=user, region=region, year=year)["rows"]:
            village = row["village"]
            yield (
                village.parent.name if village.parent else "",
                village.name,
                row["year"],
                row["planned"],
                row["on_plan"],
                row["late"],
                row["pending"],
                row["overdue"],
                row["exited"],
                row["rate"],
            )

    def village_rows():
        for row in exit_plans.village_plans(user=user, region=region):
            village = row["village"]
            if row["due"] and row["poor"]:
                state = _("已到计划年度，仍有未脱贫户")
            elif row["due"]:
                state = _("已到计划年度")
            else:
                state = _("未到计划年度")
            yield (
                village.parent.name if village.parent else "",
                village.name,
                row["exit_year"],
                row["exited"],
                row["poor"],
                state,
            )

    return [
        SheetSpec(
            name=_("脱贫计划进度"),
            title=_("退出规划台账：计划脱贫与实际脱贫（按村、按年度）"),
            columns=EXIT_PLAN_COLUMNS,
            rows=plan_rows,
            count=lambda: sum(1 for _row in plan_rows()),
            date_label=_("统计截止日期"),
            totals_label=_("共%(rows)d条"),
        ),
        SheetSpec(
            name=_("贫困村出列计划"),
            title=_("退出规划台账：贫困村出列计划"),
            columns=VILLAGE_PLAN_COLUMNS,
            rows=village_rows,
            count=lambda: sum(1 for _row in village_rows()),
            date_label=_("统计截止日期"),
            totals_label=_("共%(rows)d个村"),
        ),
    ]


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
ledgers.register(
    ledgers.Ledger(
        key="two_ledgers",
        title=gettext_lazy("两笔账"),
        order=75,
        sheets=lambda *, user, filters: _investment_sheets(user, filters),
        description=gettext_lazy(
            "按村、按户的资金投入（项目支出和措施资金，按来源和类别），及每户、每村和全县的脱贫成本。"
        ),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="asset_distributions",
        title=gettext_lazy("资产收益分配台账"),
        order=76,
        sheets=lambda *, user, filters: [_asset_distribution_sheet(user, filters)],
        description=gettext_lazy("扶贫资产（村集体、到户）的年度收益分配到户明细。可按年度筛选。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="exit_plan",
        title=gettext_lazy("退出规划台账"),
        order=77,
        sheets=lambda *, user, filters: _exit_plan_sheets(user, filters),
        description=gettext_lazy("按村、按年度的计划脱贫与实际脱贫进度，及贫困村出列计划。"),
    )
)
