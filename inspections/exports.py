"""Assessment ledgers: 抽样核查结果 (findings of campaigns whose visit day has come, so the
secret sample list is never exported early) and the 督查整改清单."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspections.models import Finding, RectificationItem, SampleKind
from povertyapp import ledgers
from povertyapp.ledgers.layout import BOOLEAN, DATE, INTEGER, MONEY, Column, SheetSpec
from povertyapp.ledgers.queries import choice_label, region_linked, rows_from
from povertyapp.models import User

ASSURANCE = ("两不愁三保障",)
FINDING_COLUMNS = (
    Column("campaign", "考核评估"),
    Column("township", "乡（镇）"),
    Column("village", "行政村"),
    Column("number", "户编号"),
    Column("head_name", "户主姓名"),
    Column("kind", "样本类型"),
    Column("persons", "家庭人口", INTEGER, total=True),
    Column("stated", "填报人均纯收入", MONEY, ("收入核查（元）",)),
    Column("verified", "核实人均纯收入", MONEY, ("收入核查（元）",)),
    Column("food", "不愁吃", BOOLEAN, ASSURANCE),
    Column("clothing", "不愁穿", BOOLEAN, ASSURANCE),
    Column("education", "义务教育", BOOLEAN, ASSURANCE),
    Column("medical", "基本医疗", BOOLEAN, ASSURANCE),
    Column("housing", "住房安全", BOOLEAN, ASSURANCE),
    Column("water", "饮水安全", BOOLEAN, ASSURANCE),
    Column("eligible", "符合建档立卡标准", BOOLEAN),
    Column("result", "核查结论"),
    Column("error_persons", "问题人数", INTEGER, total=True),
    Column("approval", "认可度"),
    Column("disapproval", "不认可原因"),
    Column("notes", "备注", width=24),
    Column("status", "状态"),
)


def _findings(user: User, filters: dict[str, Any]):
    visible = Finding.objects.filter(sample__campaign__visit_date__lte=timezone.localdate())
    return region_linked(
        visible,
        user=user,
        filters=filters,
        region_field="sample__sample_village__village",
        year_field="sample__campaign__year",
    )


def _finding_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    kind = choice_label(SampleKind.choices)
    status = choice_label(Finding.Status.choices)

    def rows():
        fields = (
            "sample__campaign__name",
            "sample__sample_village__village__parent__name",
            "sample__sample_village__village__name",
            "sample__number",
            "sample__head_name",
            "sample__kind",
            "sample__persons",
            "stated_per_capita_income",
            "verified_per_capita_income",
            "food_secure",
            "clothing_secure",
            "education_secure",
            "medical_secure",
            "housing_secure",
            "water_secure",
            "eligible",
            "result",
            "error_persons",
            "approval",
            "disapproval_reason",
            "notes",
            "status",
        )
        ordered = _findings(user, filters).order_by(
            "sample__campaign_id", "sample__sample_village__position", "sample__position"
        )
        return rows_from(
            ordered, fields, lambda row: (*row[:5], kind(row[5]), *row[6:21], status(row[21]))
        )

    return SheetSpec(
        name=_("抽样核查结果"),
        title=_("抽样核查结果（入户核查）"),
        columns=FINDING_COLUMNS,
        rows=rows,
        count=lambda: _findings(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d户"),
    )


RECTIFICATION_COLUMNS = (
    Column("region", "所在区域"),
    Column("source", "问题来源"),
    Column("category", "问题类别"),
    Column("problem", "问题描述", width=30),
    Column("unit", "责任单位", group=("责任主体",)),
    Column("person", "责任人", group=("责任主体",)),
    Column("deadline", "整改时限", DATE),
    Column("measures", "整改措施", width=30),
    Column("status", "整改状态"),
    Column("done_at", "完成日期", DATE),
    Column("overdue", "是否逾期", BOOLEAN),
)


def _rectification_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    source = choice_label(RectificationItem.Source.choices)
    today = timezone.localdate()
    open_statuses = set(RectificationItem.OPEN_STATUSES)

    def queryset():
        return region_linked(RectificationItem.objects.all(), user=user, filters=filters)

    def rows():
        fields = (
            "region__name",
            "source",
            "category",
            "problem",
            "responsible_unit",
            "responsible_person",
            "deadline",
            "measures",
            "status",
            "done_at",
        )
        return rows_from(
            queryset().order_by("deadline", "pk"),
            fields,
            lambda row: (
                row[0],
                source(row[1]),
                *row[2:10],
                row[8] in open_statuses and row[6] < today,
            ),
        )

    return SheetSpec(
        name=_("督查整改清单"),
        title=_("督查整改清单"),
        columns=RECTIFICATION_COLUMNS,
        rows=rows,
        count=lambda: queryset().count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d项"),
    )


ledgers.register(
    ledgers.Ledger(
        key="findings",
        title=gettext_lazy("抽样核查结果"),
        order=90,
        sheets=lambda *, user, filters: [_finding_sheet(user, filters)],
        available=lambda: Finding.objects.exists(),
        description=gettext_lazy("考核评估入户核查结果（只含已到入户日期的评估）。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="rectification",
        title=gettext_lazy("督查整改清单"),
        order=100,
        sheets=lambda *, user, filters: [_rectification_sheet(user, filters)],
        description=gettext_lazy("问题、责任单位和责任人、整改时限、措施、状态，逾期项标出。"),
    )
)
