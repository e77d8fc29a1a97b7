"""The 10 priority groups of the annual 集中排查 (DOMAIN §7), each a condition over the registry.

Every group is a function `(households, *, on, line) -> households` that narrows a queryset of
households to the ones the data puts in the group: `on` is the sweep's reference date (its
start; ages are counted on it), `line` the year's monitoring line (元/人·年). Each is one SQL
query (subqueries and EXISTS), so that `groups_of` can tag the 200,000 households of a county
with one query per group rather than a query per household.

Where the registry does not hold what a group is about, the function says what it uses instead
(the approximation) in its docstring. The value labels are those of the registry's value lists
(`households/migrations/0003_default_value_lists.py`): 在校生状况, 健康状况, 劳动技能, 务工状况.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from households.models import Household, HouseholdIncome, Member
from monitoring.models import Clue, MonitoringObject, PriorityGroup, RiskType

GroupRule = Callable[..., QuerySet[Household]]

# 收入偏低: the latest per-capita net income below this multiple of the year's monitoring line.
LOW_INCOME_MULTIPLE = Decimal("1.5")
# 收入下降 / 工资性收入下降: falling by more than this share from one year to the next.
FALL_SHARE = Decimal("0.2")
# 务工不稳定: a working member who worked fewer months than this in the year.
STABLE_WORK_MONTHS = 6
# 在校生状况 values of the non-compulsory stages (高中, 中职, 高职, 大专及以上).
NON_COMPULSORY_SCHOOL = (
    "高中一年级",
    "高中二年级",
    "高中三年级",
    "中职一年级",
    "中职二年级",
    "中职三年级",
    "高职一年级",
    "高职二年级",
    "高职三年级",
    "大专及以上",
)
# 务工状况 values meaning the member works outside the county (away from home).
WORKS_AWAY = ("省内", "省外")
# 务工状况 values meaning the member is not working.
NOT_WORKING = ("", "无")
HARDSHIP_RISKS = (RiskType.ILLNESS, RiskType.DISASTER, RiskType.ACCIDENT)

_MONEY = DecimalField(max_digits=16, decimal_places=2)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def born_aged(on: datetime.date, *, minimum: int | None = None, maximum: int | None = None) -> Q:
    """Members aged `minimum` to `maximum` (inclusive, whole years) on `on`, over `birth_date`."""
    condition = Q()
    if minimum is not None:
        condition &= Q(birth_date__lte=years_before(on, minimum))
    if maximum is not None:
        condition &= Q(birth_date__gt=years_before(on, maximum + 1))
    return condition


def _living_members() -> QuerySet[Member]:
    """Members living in the household (`households.standards.living_members` in SQL)."""
    return Member.objects.filter(household=OuterRef("pk"), is_active=True, living_status="正常")


def _any_member(condition: Q) -> Exists:
    return Exists(_living_members().filter(condition))


def _net_income() -> ExpressionWrapper:
    """年纯收入 as `HouseholdIncome.net` computes it, in SQL."""
    total = F("wage") + F("production") + F("property_income") - F("production_cost")
    for name in HouseholdIncome.TRANSFER_FIELDS:
        total = total + F(name)
    return ExpressionWrapper(total, output_field=_MONEY)


def _with_latest_incomes(households: QuerySet[Household]) -> Any:
    """Annotate the latest year's income (`latest_net`, `latest_wage`, `latest_dibao`,
    `latest_tekun`), the year before's (`previous_net`, `previous_wage`) and the persons living
    in the household (`persons`)."""
    incomes = HouseholdIncome.objects.filter(household=OuterRef("pk"))
    latest_year = Subquery(incomes.order_by("-year").values("year")[:1])
    annotated = households.annotate(latest_year=latest_year)
    of_year = HouseholdIncome.objects.filter(household=OuterRef("pk")).annotate(
        net_total=_net_income()
    )
    latest = of_year.filter(year=OuterRef("latest_year"))
    previous = of_year.filter(year=OuterRef("latest_year") - 1)
    persons = (
        _living_members().order_by().values("household").annotate(count=Count("pk")).values("count")
    )
    return annotated.annotate(
        latest_net=Subquery(latest.values("net_total")[:1], output_field=_MONEY),
        latest_wage=Subquery(latest.values("wage")[:1], output_field=_MONEY),
        latest_dibao=Subquery(latest.values("dibao")[:1], output_field=_MONEY),
        latest_tekun=Subquery(latest.values("tekun")[:1], output_field=_MONEY),
        previous_net=Subquery(previous.values("net_total")[:1], output_field=_MONEY),
        previous_wage=Subquery(previous.values("wage")[:1], output_field=_MONEY),
        persons=Coalesce(Subquery(persons[:1], output_field=IntegerField()), 0),
    )


# --- the groups, one by one -------------------------------------------------------------------


def exited_2020(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """2020年脱贫户: households that exited poverty with 脱贫年度 2020 and have not returned
    (status 已脱贫, `exit_year` 2020)."""
    return households.filter(status=Household.Status.EXITED, exit_year=2020)


def low_income(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """收入偏低或下降 within the range: from the latest `HouseholdIncome` year, a per-capita net
    income (年纯收入 ÷ the persons living in the household) below 1.5 × the year's monitoring
    line, or a 年纯收入 more than 20 % below the year before's. Households with no income
    recorded are not proposed by this group (nothing to judge); the visit records it."""
    annotated = _with_latest_incomes(households).filter(latest_net__isnull=False)
    ceiling = LOW_INCOME_MULTIPLE * line
    below = Q(persons__gt=0, latest_net__lt=F("persons") * ceiling)
    falling = Q(previous_net__gt=0, latest_net__lt=F("previous_net") * (1 - FALL_SHARE))
    return annotated.filter(below | falling)


def tekun(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """分散供养特困人员: a member flagged 是否特困供养人员, or 特困供养金 in the latest income year.
    The registry does not say whether support is 分散 (at home) or 集中 (in an institution);
    a household of the registry lives at home, so every 特困 household is taken as 分散供养."""
    annotated = _with_latest_incomes(households)
    return annotated.filter(_any_member(Q(is_tekun=True)) | Q(latest_tekun__gt=0))


def dibao(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """低保户: a member flagged 是否享受农村低保, or 低保金 in the latest income year. The group
    says "new applicants first", but the registry holds no 低保 application or its date: no
    data says who is new, so every 低保 household is proposed and none is ranked first."""
    annotated = _with_latest_incomes(households)
    return annotated.filter(_any_member(Q(receives_dibao=True)) | Q(latest_dibao__gt=0))


def disabled(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """残疾人家庭: a living member whose 健康状况 includes 残疾, or with a 残疾等级."""
    return households.filter(_any_member(Q(health__contains="残疾") | ~Q(disability_grade="")))


def students(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """多子女非义务教育阶段就学: two or more living members aged 16 to 22 whose 在校生状况 is a
    non-compulsory stage (高中, 中职, 高职, 大专及以上)."""
    in_school = (
        _living_members()
        .filter(born_aged(on, minimum=16, maximum=22), school_status__in=NON_COMPULSORY_SCHOOL)
        .order_by()
        .values("household")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return households.annotate(
        students=Coalesce(Subquery(in_school[:1], output_field=IntegerField()), 0)
    ).filter(students__gte=2)


def unstable_work(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """务工收入不稳定: the value list 务工状况 (乡内, 县内, 省内, 省外, 无) has no value meaning
    "unstable", so two signs stand for it: a working member (务工状况 not 无) who worked fewer
    than 6 months of the year (seasonal, casual work), or the household's 工资性收入 more than
    20 % below the year before's."""
    annotated = _with_latest_incomes(households)
    short = _any_member(~Q(work_status__in=NOT_WORKING) & Q(work_months__lt=STABLE_WORK_MONTHS))
    falling = Q(previous_wage__gt=0, latest_wage__lt=F("previous_wage") * (1 - FALL_SHARE))
    return annotated.filter(short | falling)


def hardship(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """因病因灾因意外困难: a living member whose 健康状况 includes 患有大病 (serious illness), or
    a 风险线索 of type 因病, 因自然灾害 or 因意外事故 received in the year before `on`."""
    since = years_before(on, 1)
    recent_clue = Exists(
        Clue.objects.filter(
            household=OuterRef("pk"),
            risk_type__in=HARDSHIP_RISKS,
            received_on__gt=since,
            received_on__lte=on,
        )
    )
    return households.filter(_any_member(Q(health__contains="患有大病")) | recent_clue)


def vulnerable(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """失能老人、留守儿童、困境儿童, as far as the member fields allow:

    - 失能老人: the registry has no 失能 value; a member aged 60 or more whose 健康状况 includes
      患有大病 or whose 劳动技能 is 丧失劳动力 stands for it;
    - 留守儿童: the registry does not link a child to its parents; a child under 16 in a
      household where at least one member aged 18 to 59 works outside the county (务工状况 省内
      or 省外) and no member of that age stays (every one of them works away) stands for it;
    - 困境儿童: a child under 16 whose 健康状况 includes 残疾 or 患有大病.
    """
    elderly = _any_member(
        born_aged(on, minimum=60) & (Q(health__contains="患有大病") | Q(labour_skill="丧失劳动力"))
    )
    child = born_aged(on, maximum=15)
    adults = born_aged(on, minimum=18, maximum=59)
    left_behind = (
        _any_member(child)
        & _any_member(adults & Q(work_status__in=WORKS_AWAY))
        & ~_any_member(adults & ~Q(work_status__in=WORKS_AWAY))
    )
    in_difficulty = _any_member(
        child & (Q(health__contains="残疾") | Q(health__contains="患有大病"))
    )
    return households.filter(elderly | left_behind | in_difficulty)


def unresolved(
    households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """有劳动能力监测对象一年以上未消除: a current monitoring object (监测中) identified more than
    a year before `on`, not marked 无劳动能力."""
    old = Exists(
        MonitoringObject.objects.filter(
            household=OuterRef("pk"),
            state=MonitoringObject.State.MONITORED,
            identified_on__lt=years_before(on, 1),
            no_labour_capacity=False,
        )
    )
    return households.filter(old)


GROUPS: dict[str, GroupRule] = {
    PriorityGroup.EXITED_2020: exited_2020,
    PriorityGroup.LOW_INCOME: low_income,
    PriorityGroup.TEKUN: tekun,
    PriorityGroup.DIBAO: dibao,
    PriorityGroup.DISABLED: disabled,
    PriorityGroup.STUDENTS: students,
    PriorityGroup.UNSTABLE_WORK: unstable_work,
    PriorityGroup.HARDSHIP: hardship,
    PriorityGroup.VULNERABLE: vulnerable,
    PriorityGroup.UNRESOLVED: unresolved,
}


def in_group(
    group: str, households: QuerySet[Household], *, on: datetime.date, line: Decimal
) -> QuerySet[Household]:
    """The households of `households` the data puts in `group`."""
    return GROUPS[group](households, on=on, line=line)


def groups_of(
    households: QuerySet[Household],
    *,
    groups: Iterable[str],
    on: datetime.date,
    line: Decimal,
) -> dict[int, list[str]]:
    """Household id → the chosen groups it belongs to (in the order of `PriorityGroup`), for
    the households in at least one; one query per group."""
    chosen = [group for group in PriorityGroup.values if group in set(groups)]
    found: dict[int, list[str]] = {}
    for group in chosen:
        for pk in in_group(group, households, on=on, line=line).values_list("pk", flat=True):
            found.setdefault(pk, []).append(group)
    return found
