"""A project against the measures linked to it (DOMAIN §6: 项目 ↔ 到户措施).

The 项目库 records who benefits (受益户) and where the money went (资金流水, some of it 到户: a
支出 to one household); the households' 帮扶措施 record what each household received and may
name the project. The two are kept by different people (the county office and the village),
so they drift. `project_measure_differences` compares them for one project, household by
household; `projects_with_differences` runs it over many projects for the check command
(`manage.py check_project_measures`).

A difference is one of:
- 到户资金无关联措施: money was spent to the household under the project, and the household has
  no (not cancelled) measure linked to the project;
- 金额不一致: the household's linked measures' 帮扶资金 differ from the project's 到户 支出 to it
  (compared only in a project that pays money 到户: a road or a workshop pays nobody, and the
  measures it carries — a 公益岗位's wage — are paid from elsewhere);
- 受益户无关联措施: a 受益户 of the project without a linked measure;
- 非受益户: a household with a measure linked to the project that is not one of its 受益户.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from assistance.models import FundMovement, Measure, Project
from households.models import Household

NO_MEASURE = "no_measure"
AMOUNT = "amount"
BENEFICIARY_WITHOUT_MEASURE = "beneficiary_without_measure"
NOT_BENEFICIARY = "not_beneficiary"
PROBLEMS = {
    NO_MEASURE: _("到户资金无关联措施"),
    AMOUNT: _("金额不一致"),
    BENEFICIARY_WITHOUT_MEASURE: _("受益户无关联措施"),
    NOT_BENEFICIARY: _("非受益户"),
}


@dataclass
class HouseholdLine:
    household: Household
    beneficiary: bool
    measures: int
    measure_amount: Decimal
    moved_amount: Decimal
    problems: list[str] = field(default_factory=list)

    @property
    def problem_labels(self) -> list[str]:
        return [str(PROBLEMS[problem]) for problem in self.problems]


@dataclass
class Reconciliation:
    project: Project
    lines: list[HouseholdLine]  # the households with a difference, by 户编号
    measures: int  # linked measures (not cancelled)
    measure_amount: Decimal
    moved_amount: Decimal  # the project's 到户 支出
    beneficiaries: int

    @property
    def ok(self) -> bool:
        return not self.lines


def project_measure_differences(project: Project) -> Reconciliation:
    """The project's 受益户 and 到户 支出 against its linked measures, household by household."""
    measure_rows = (
        Measure.objects.filter(project=project)
        .exclude(status=Measure.Status.CANCELLED)
        .values("household")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .values_list("household", "total", "count")
    )
    measures = {
        household: (total or Decimal("0"), count) for household, total, count in measure_rows
    }
    moved: dict[int, Decimal] = defaultdict(Decimal)
    for household, total in (
        FundMovement.objects.filter(
            project=project, kind=FundMovement.Kind.SPENT, household__isnull=False
        )
        .values("household")
        .annotate(total=Sum("amount"))
        .values_list("household", "total")
    ):
        moved[household] += total
    beneficiaries = set(project.beneficiaries.values_list("pk", flat=True))
    ids = set(measures) | set(moved) | beneficiaries
    households = Household.objects.in_bulk(ids)
    lines = []
    for household_id in ids:
        amount, count = measures.get(household_id, (Decimal("0"), 0))
        spent = moved.get(household_id, Decimal("0"))
        line = HouseholdLine(
            household=households[household_id],
            beneficiary=household_id in beneficiaries,
            measures=count,
            measure_amount=amount,
            moved_amount=spent,
        )
        if spent and not count:
            line.problems.append(NO_MEASURE)
        elif count and moved and amount != spent:
            line.problems.append(AMOUNT)
        if line.beneficiary and not count and not spent:
            line.problems.append(BENEFICIARY_WITHOUT_MEASURE)
        if count and not line.beneficiary:
            line.problems.append(NOT_BENEFICIARY)
        if line.problems:
            lines.append(line)
    lines.sort(key=lambda line: line.household.number)
    return Reconciliation(
        project=project,
        lines=lines,
        measures=sum(count for _amount, count in measures.values()),
        measure_amount=sum((amount for amount, _count in measures.values()), Decimal("0")),
        moved_amount=sum(moved.values(), Decimal("0")),
        beneficiaries=len(beneficiaries),
    )


def projects_with_differences(projects: Iterable[Project]) -> list[Reconciliation]:
    """The reconciliation of every project given that has a difference."""
    found = []
    for project in projects:
        result = project_measure_differences(project)
        if not result.ok:
            found.append(result)
    return found
