"""The income method (收入核算) that monitoring and 低保 share (DOMAIN §7; issue 15): one method,
one table (`IncomeAssessment`), so that the household's figure is the same whichever office
asks. 民政's 低保 income check uses `assess_income` as it stands.

The method, precisely:

- **Period**: the 12 months before the declaration or sweep: `period_end` is the day of the
  declaration (or of the sweep's visit), `period_start = period_end − 12 months + 1 day`
  (2025-06-30 → 2024-07-01; a 29 February end starts on 1 March).
- **Income** (家庭总收入) = 工资性 + 生产经营性 + 财产性 + 转移性 收入.
- **Medical burden** (医疗负担) = 合规自付医疗支出 − 保险理赔, never below 0 (a payout larger
  than the out-of-pocket cost adds nothing to the income).
- **Net** (家庭年纯收入) = income − 生产经营性支出 − medical burden (it may be negative: a
  failed harvest with its costs spent).
- **Persons** (共同生活人口) = the household's active 户籍 members living in it (not dead,
  missing or in prison: `households.standards.living_members`) plus the co-resident sharers
  declared by name (who actually live and share income with it).
- **Per capita** (人均纯收入) = net ÷ persons, to the cent (half up).
- **Line** = the monitoring line of the household's village in `period_end`'s year
  (`monitoring.lines`); empty when that year has no line yet (the assessment is still kept;
  every rule that compares with the line then says the line is missing).

Example: wage 20,000 + production 6,000 + property 500 + transfer 3,500 = 30,000; production
cost 4,000; out-of-pocket 9,000 − payouts 3,000 = 6,000; net = 30,000 − 4,000 − 6,000 =
20,000; three members and one co-resident: per capita 5,000.00.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import standards
from households.models import Household, HouseholdIncome
from households.services import common
from monitoring import lines
from monitoring.models import IncomeAssessment
from povertyapp import roles
from povertyapp.models import User

CENT = Decimal("0.01")
ZERO = Decimal("0")

# The entered components and their labels (the form, the page and the messages use them).
COMPONENTS: dict[str, Any] = {
    "wage": gettext_lazy("工资性收入"),
    "production": gettext_lazy("生产经营性收入"),
    "property_income": gettext_lazy("财产性收入"),
    "transfer": gettext_lazy("转移性收入"),
    "production_cost": gettext_lazy("生产经营性支出"),
    "compliant_out_of_pocket": gettext_lazy("合规自付医疗支出"),
    "insurance_payouts": gettext_lazy("保险理赔"),
}


def period_start(period_end: datetime.date) -> datetime.date:
    """The first day of the 12 months ending on `period_end` (period_end − 12 months + 1 day)."""
    try:
        year_before = period_end.replace(year=period_end.year - 1)
    except ValueError:  # 29 February: the year before has none
        year_before = period_end.replace(year=period_end.year - 1, day=28)
    return year_before + datetime.timedelta(days=1)


def medical_burden(out_of_pocket: Decimal, payouts: Decimal) -> Decimal:
    """合规自付医疗支出 − 保险理赔, not below 0."""
    return max(out_of_pocket - payouts, ZERO)


def net_income(components: Mapping[str, Decimal]) -> Decimal:
    """家庭年纯收入 by the method above."""
    income = (
        components["wage"]
        + components["production"]
        + components["property_income"]
        + components["transfer"]
    )
    return (
        income
        - components["production_cost"]
        - medical_burden(components["compliant_out_of_pocket"], components["insurance_payouts"])
    )


def registered_persons(household: Household) -> int:
    """The household's active 户籍 members living in it."""
    return len(standards.living_members(household.members.filter(is_active=True)))


def prefill(household: Household) -> dict[str, Decimal]:
    """The components from the household's latest `HouseholdIncome` (the registry's yearly
    income), for the form to start from; zeros without one."""
    income = HouseholdIncome.objects.filter(household=household).order_by("-year").first()
    if income is None:
        return dict.fromkeys(COMPONENTS, ZERO)
    return {
        "wage": income.wage,
        "production": income.production,
        "property_income": income.property_income,
        "transfer": income.transfer,
        "production_cost": income.production_cost,
        "compliant_out_of_pocket": income.compliant_out_of_pocket,
        "insurance_payouts": income.insurance_claims,
    }


def _money(value: Any, field: str, errors: dict[str, list[ValidationError]]) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        errors[field] = [ValidationError(_("请填写金额（元）。"), code="invalid")]
        return ZERO
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        errors[field] = [
            ValidationError(
                _("%(label)s应为不小于0的金额。"),
                code="invalid_amount",
                params={"label": COMPONENTS[field]},
            )
        ]
        return ZERO
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def assess_income(
    *,
    household: Household,
    period_end: datetime.date,
    actor: User,
    components: Mapping[str, Any] | None = None,
    co_residents: Sequence[str] = (),
) -> IncomeAssessment:
    """Record one assessment of `household` over the 12 months ending `period_end`, by the
    method of this module. `components` are the entered amounts (missing ones: the household's
    latest yearly income, see `prefill`); `co_residents` the names of the non-户籍 people who
    live and share income with it. A village cadre or the county office of the household's
    area records it."""
    if not roles.can_write_households(actor) or not roles.region_in_scope(actor, household.village):
        raise ValidationError(_("您无权为该户核算收入。"), code="not_allowed")
    errors: dict[str, list[ValidationError]] = {}
    today = common.today()
    if period_end is None:
        errors["period_end"] = [ValidationError(_("请填写核算截止日期。"), code="required")]
    elif period_end > today:
        errors["period_end"] = [
            ValidationError(
                _("核算截止日期（%(date)s）不能晚于今天。"),
                code="date_in_future",
                params={"date": period_end.isoformat()},
            )
        ]
    start = prefill(household)
    given = dict(components or {})
    amounts = {
        field: _money(given[field] if field in given else start[field], field, errors)
        for field in COMPONENTS
    }
    names = [name.strip() for name in co_residents if name and name.strip()]
    persons = registered_persons(household) + len(names)
    if persons == 0:
        errors["co_residents"] = [
            ValidationError(_("该户无在户成员，无法计算人均纯收入。"), code="no_persons")
        ]
    if errors:
        raise ValidationError(errors)
    net = net_income(amounts)
    try:
        line: Decimal | None = lines.monitoring_line(household.village, period_end.year)
    except ValidationError:
        line = None  # kept without a line: the rules that need it name it missing
    assessment = IncomeAssessment(
        household=household,
        period_end=period_end,
        period_start=period_start(period_end),
        persons=persons,
        co_residents="、".join(names),
        net_income=net,
        per_capita=(net / persons).quantize(CENT, rounding=ROUND_HALF_UP),
        line=line,
        recorded_by=actor,
        **amounts,
    )
    assessment.full_clean()
    assessment.save()
    return assessment
