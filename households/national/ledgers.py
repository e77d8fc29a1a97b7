"""The national exports, registered with the platform's ledger machinery (scope, reason,
access log, masking, job for a county): 户 and 人 in the national layouts, coded through the
code tables. A value without a national code is never a silent blank: each workbook ends with
a sheet listing every such value (record, column, our value), and the exchange page checks the
same before an export (`code_problems`).

The 四类名单 export is the rounds' (`rounds/exports.py`), over the same layouts and tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.filters import HouseholdFilter
from households.national import codes
from households.national.layouts import (
    HOUSEHOLD_LAYOUT,
    MEMBER_LAYOUT,
    CodeProblem,
    Layout,
    encode_record,
)
from households.national.records import (
    household_records,
    member_record_name,
    member_records,
    national_households,
    national_members,
)
from povertyapp import ledgers, roles
from povertyapp.ledgers.layout import Column, SheetSpec
from povertyapp.models import User

PROBLEM_COLUMNS = (
    Column("record", "记录", width=24),
    Column("header", "项目"),
    Column("value", "取值（无国家代码）", width=20),
)
HOUSEHOLD_KEY = "national_households"
MEMBER_KEY = "national_members"
ROUND_LIST_KEY = "national_round_lists"


def sheet_title(layout: Layout) -> str:
    return _("全国防返贫监测信息系统 %(title)s（格式版本%(version)s）") % {
        "title": layout.title,
        "version": codes.LAYOUT_VERSION,
    }


class ProblemCollector:
    """The values without a code met while a sheet's rows were written. A sheet's rows may be
    read twice (合计 at the top): each pass starts the list again."""

    def __init__(self) -> None:
        self.problems: list[CodeProblem] = []

    def encoded(
        self,
        layout: Layout,
        records: Callable[[], Iterable[dict[str, Any]]],
        name: Callable[[dict[str, Any]], str],
    ) -> Iterator[Sequence[Any]]:
        self.problems = []
        for record in records():
            cells, problems = encode_record(
                layout, record, record_name=name(record), version=codes.LAYOUT_VERSION
            )
            self.problems.extend(problems)
            yield cells

    def sheet(self) -> SheetSpec:
        return SheetSpec(
            name=_("无国家代码的取值"),
            title=_("无国家代码的取值（这些单元格为空，请先补齐代码表或更正记录）"),
            columns=PROBLEM_COLUMNS,
            rows=lambda: (
                (problem.record, problem.header, problem.value) for problem in self.problems
            ),
            count=lambda: 0,  # known only once the sheets before it are written
            with_totals=False,
        )


def _household_name(record: dict[str, Any]) -> str:
    return str(record.get("number", ""))


def household_sheets(*, user: User, filters: dict[str, Any]) -> list[SheetSpec]:
    collector = ProblemCollector()
    return [
        SheetSpec(
            name=HOUSEHOLD_LAYOUT.title,
            title=sheet_title(HOUSEHOLD_LAYOUT),
            columns=HOUSEHOLD_LAYOUT.columns(),
            rows=lambda: collector.encoded(
                HOUSEHOLD_LAYOUT,
                lambda: household_records(user=user, filters=filters),
                _household_name,
            ),
            count=lambda: national_households(user=user, filters=filters).count(),
            date_label=_("统计截止日期"),
            with_totals=False,
        ),
        collector.sheet(),
    ]


def member_sheets(*, user: User, filters: dict[str, Any]) -> list[SheetSpec]:
    collector = ProblemCollector()
    return [
        SheetSpec(
            name=MEMBER_LAYOUT.title,
            title=sheet_title(MEMBER_LAYOUT),
            columns=MEMBER_LAYOUT.columns(),
            rows=lambda: collector.encoded(
                MEMBER_LAYOUT,
                lambda: member_records(user=user, filters=filters),
                member_record_name,
            ),
            count=lambda: national_members(user=user, filters=filters).count(),
            date_label=_("统计截止日期"),
            with_totals=False,
        ),
        collector.sheet(),
    ]


def code_problems(*, user: User, filters: dict[str, Any]) -> list[CodeProblem]:
    """Every value of the national exports (户 and 人) with these filters that has no
    national code: what the exchange page shows before an export."""
    problems: list[CodeProblem] = []
    for layout, records, name in (
        (HOUSEHOLD_LAYOUT, household_records, _household_name),
        (MEMBER_LAYOUT, member_records, member_record_name),
    ):
        for record in records(user=user, filters=filters):
            problems.extend(
                encode_record(
                    layout, record, record_name=name(record), version=codes.LAYOUT_VERSION
                )[1]
            )
    return problems


ledgers.register(
    ledgers.Ledger(
        key=HOUSEHOLD_KEY,
        title=gettext_lazy("国家系统格式：户基本信息"),
        order=200,
        filter_form=HouseholdFilter,
        sheets=household_sheets,
        description=gettext_lazy("全国防返贫监测信息系统的户记录格式和代码表，供录入国家系统。"),
        may_export=roles.can_exchange_with_national_system,
    )
)
ledgers.register(
    ledgers.Ledger(
        key=MEMBER_KEY,
        title=gettext_lazy("国家系统格式：家庭成员信息"),
        order=210,
        filter_form=HouseholdFilter,
        sheets=member_sheets,
        description=gettext_lazy("全国防返贫监测信息系统的人记录格式和代码表，供录入国家系统。"),
        may_export=roles.can_exchange_with_national_system,
    )
)
