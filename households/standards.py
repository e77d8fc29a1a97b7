"""The standards of DOMAIN §5: poverty lines, income figures, 两不愁三保障, and the exit test.

One module owns each of these rules; pages, the API, the importer, the workflows and the
figures all call it.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Length
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext as _

from households.models import Household, HouseholdIncome, Member, PovertyLine, Standard
from povertyapp import statements

CENT = Decimal("0.01")
IN_SCHOOL_EXCLUDED = {"", "非在校生"}
SAFE_HOUSE_GRADES = {"A", "B"}


class PovertyLineMissing(LookupError):
    """No poverty line is set for the year: the year cannot be evaluated (never guessed)."""

    def __init__(self, year: int, standard: str) -> None:
        self.year = year
        self.standard = standard
        super().__init__(
            _("%(year)s年的%(standard)s扶贫标准尚未设置，无法评估。请县扶贫办先录入。")
            % {"year": year, "standard": standard}
        )


@functools.cache
def _lines_statement() -> QuerySet[PovertyLine]:
    return PovertyLine.objects.order_by("pk")


def poverty_line(*, year: int, standard: str = Standard.NATIONAL, region=None) -> Decimal:
    """The line for a year and standard. Provincial and municipal lines are looked up along the
    region's ancestors (nearest first); a household identified by the national standard uses the
    national line."""
    # Every household page and exit check asks: the statements are compiled once
    # (`statements.fetch`).
    statement = _lines_statement()
    if standard == Standard.NATIONAL or region is None:
        found = statements.fetch(
            statement.filter(year=year, standard=Standard.NATIONAL, region__isnull=True)[:1],
            statement=statement,
        )
        line = found[0] if found else None
    else:
        paths = [node.pk for node in region.ancestors(include_self=True)]
        candidates = {
            line.region_id: line
            for line in statements.fetch(
                statement.filter(year=year, standard=standard, region__in=paths),
                statement=statement,
            )
        }
        line = next((candidates[pk] for pk in reversed(paths) if pk in candidates), None)
    if line is None:
        raise PovertyLineMissing(year, standard)
    return line.amount


def poverty_line_expression(
    *, year: Combinable | int, standard: Combinable | str, village_path: Combinable
) -> Subquery:
    """`poverty_line` as a correlated subquery (`OuterRef`s for the arguments): the line's
    amount, NULL where `poverty_line` raises PovertyLineMissing. `village_path` is the path of
    the household's village, whose ancestors' lines (nearest first) a provincial or municipal
    standard uses; a national standard uses the national line. The household page reads each
    income year's line with the incomes this way, not one query per year
    (`households.selectors`); `tests/households/test_poverty_line_read.py` holds the two
    equal."""
    lines = (
        PovertyLine.objects.filter(year=year, standard=standard)
        .filter(
            Q(standard=Standard.NATIONAL, region__isnull=True)
            | (~Q(standard=Standard.NATIONAL) & StartsWith(village_path, F("region__path")))
        )
        .order_by(Length("region__path").desc(nulls_last=True))
    )
    return Subquery(lines.values("amount")[:1])


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier (28 February for 29 February in a common year): a person
    born on or before it is at least `years` old on `day`, as `Member.age_on` counts. Every
    age condition in SQL (the rates job's 信息录入率, the assistance matching rules) compares
    birth dates with it."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def living_members(members: Iterable[Member]) -> list[Member]:
    """Members living in the household: active and not dead, missing or in prison."""
    return [m for m in members if m.is_active and m.living_status == "正常"]


def per_capita_net(income: HouseholdIncome, *, persons: int) -> Decimal | None:
    """人均纯收入 = 年纯收入 ÷ 家庭人口数 (members living in the household), to the cent."""
    if persons <= 0:
        return None
    return (income.net / persons).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Check:
    """One item of an evaluation: met or not, and why."""

    key: str
    label: str
    met: bool | None  # None: not recorded, cannot be judged
    reason: str


def evaluate_two_assurances(
    household: Household, members: Iterable[Member], *, on: datetime.date
) -> list[Check]:
    """两不愁三保障 (+ safe drinking water), item by item, each with its reason."""
    people = living_members(members)
    checks: list[Check] = []

    def recorded(key: str, label: str, value: bool | None, yes: str, no: str) -> Check:
        if value is None:
            return Check(key, label, None, _("未录入"))
        return Check(key, label, value, yes if value else no)

    checks.append(
        recorded(
            "food", _("不愁吃"), household.food_secure, _("口粮稳定充足"), _("核实为吃饭有困难")
        )
    )
    checks.append(
        recorded(
            "clothing",
            _("不愁穿"),
            household.clothing_secure,
            _("四季有换季衣服、被褥"),
            _("核实为穿衣有困难"),
        )
    )

    out_of_school = [
        m
        for m in people
        if 6 <= m.age_on(on) <= 15
        and m.school_status in IN_SCHOOL_EXCLUDED
        and not m.compulsory_education_exemption
    ]
    if out_of_school:
        names = "、".join(m.name for m in out_of_school)
        checks.append(
            Check(
                "education",
                _("义务教育有保障"),
                False,
                _("适龄未在校：%(names)s") % {"names": names},
            )
        )
    else:
        checks.append(Check("education", _("义务教育有保障"), True, _("适龄成员均在校或已安排")))

    uninsured = [m for m in people if not m.has_medical_insurance and not m.is_active_soldier]
    if uninsured:
        names = "、".join(m.name for m in uninsured)
        checks.append(
            Check(
                "medical",
                _("基本医疗有保障"),
                False,
                _("未参加基本医疗保险：%(names)s") % {"names": names},
            )
        )
    else:
        checks.append(Check("medical", _("基本医疗有保障"), True, _("全部成员参加基本医疗保险")))

    if household.relocated:
        checks.append(Check("housing", _("住房安全有保障"), True, _("已易地扶贫搬迁")))
    elif household.house_renovated:
        checks.append(Check("housing", _("住房安全有保障"), True, _("已完成危房改造")))
    elif household.house_grade in SAFE_HOUSE_GRADES:
        checks.append(
            Check(
                "housing",
                _("住房安全有保障"),
                True,
                _("住房鉴定为%(grade)s级") % {"grade": household.house_grade},
            )
        )
    elif household.house_grade:
        checks.append(
            Check(
                "housing",
                _("住房安全有保障"),
                False,
                _("住房为%(grade)s级危房且未改造") % {"grade": household.house_grade},
            )
        )
    else:
        checks.append(Check("housing", _("住房安全有保障"), None, _("未录入危房等级")))

    if household.water_safe is None:
        checks.append(Check("water", _("饮水安全有保障"), None, _("未录入")))
    elif household.water_safe and not household.water_difficult:
        checks.append(Check("water", _("饮水安全有保障"), True, _("饮水安全且不困难")))
    else:
        problem = _("饮水不安全") if not household.water_safe else _("饮水困难")
        checks.append(Check("water", _("饮水安全有保障"), False, problem))
    return checks


def evaluate_exit(
    household: Household,
    members: Iterable[Member],
    income: HouseholdIncome | None,
    *,
    year: int,
    on: datetime.date,
) -> list[Check]:
    """The exit test of DOMAIN §4–§5. The household may exit only when every check is met."""
    people = living_members(members)
    checks: list[Check] = []
    if household.first_identified_year == year:
        checks.append(Check("new", _("非当年新识别"), False, _("当年新识别的贫困户不能当年退出")))
    else:
        checks.append(
            Check(
                "new",
                _("非当年新识别"),
                True,
                _("首次识别年度为%(year)s") % {"year": household.first_identified_year or "—"},
            )
        )
    if income is None:
        checks.append(
            Check(
                "income",
                _("人均纯收入超过扶贫标准"),
                False,
                _("%(year)s年收入未录入") % {"year": year},
            )
        )
    else:
        try:
            line = poverty_line(
                year=year, standard=household.identification_standard, region=household.village
            )
        except PovertyLineMissing as missing:
            checks.append(Check("income", _("人均纯收入超过扶贫标准"), None, str(missing)))
        else:
            figure = per_capita_net(income, persons=len(people))
            if figure is None:
                checks.append(Check("income", _("人均纯收入超过扶贫标准"), False, _("无在户成员")))
            else:
                met = figure > line
                checks.append(
                    Check(
                        "income",
                        _("人均纯收入超过扶贫标准"),
                        met,
                        _("人均纯收入%(figure)s元，%(year)s年标准%(line)s元")
                        % {"figure": figure, "year": year, "line": line},
                    )
                )
    checks.extend(evaluate_two_assurances(household, members, on=on))
    return checks


def failed(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.met is not True]
