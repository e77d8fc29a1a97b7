"""The income method (monitoring.income): 12 months, net of compliant medical costs and payouts,
户籍 plus co-residents, the line of the period's year, pre-filled from the registry."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from households.models import HouseholdIncome
from monitoring import income
from monitoring.models import MonitoringLine

COMPONENTS = {
    "wage": Decimal("20000"),
    "production": Decimal("6000"),
    "property_income": Decimal("500"),
    "transfer": Decimal("3500"),
    "production_cost": Decimal("4000"),
    "compliant_out_of_pocket": Decimal("9000"),
    "insurance_payouts": Decimal("3000"),
}


def test_the_period_is_the_twelve_months_before_the_declaration():
    assert income.period_start(datetime.date(2025, 6, 30)) == datetime.date(2024, 7, 1)
    assert income.period_start(datetime.date(2024, 2, 29)) == datetime.date(2023, 3, 1)


def test_net_income_deducts_costs_and_the_medical_burden_net_of_payouts():
    assert income.net_income(COMPONENTS) == Decimal("20000")
    # Payouts above the out-of-pocket cost add nothing (the burden is not below 0).
    assert income.net_income({**COMPONENTS, "insurance_payouts": Decimal("12000")}) == Decimal(
        "26000"
    )


def test_an_assessment_counts_members_and_co_residents_and_takes_the_line(cast, household_a):
    period_end = datetime.date(2025, 6, 30)
    MonitoringLine.objects.create(
        region=household_a.village.parent, year=2025, kind="amount", amount=Decimal("7500")
    )
    assessment = income.assess_income(
        household=household_a,
        period_end=period_end,
        actor=cast.cadre,
        components=COMPONENTS,
        co_residents=["王五", "赵六"],
    )
    assert assessment.period_start == datetime.date(2024, 7, 1)
    assert assessment.persons == 4  # two 户籍 members and two sharers
    assert assessment.co_residents == "王五、赵六"
    assert assessment.net_income == Decimal("20000.00")
    assert assessment.per_capita == Decimal("5000.00")
    assert assessment.line == Decimal("7500.00")


def test_the_components_are_prefilled_from_the_latest_yearly_income(cast, household_a):
    values = dict.fromkeys(
        [f.name for f in HouseholdIncome._meta.fields if f.name not in ("id", "household", "year")],
        Decimal("0"),
    )
    values.pop("version", None)
    values.update(wage=Decimal("12000"), dibao=Decimal("1000"), insurance_claims=Decimal("50"))
    HouseholdIncome.objects.create(household=household_a, year=2024, **values)
    assert income.prefill(household_a)["wage"] == Decimal("12000")
    assert income.prefill(household_a)["transfer"] == Decimal("1000")
    assert income.prefill(household_a)["insurance_payouts"] == Decimal("50")
    assessment = income.assess_income(
        household=household_a, period_end=datetime.date(2025, 3, 1), actor=cast.cadre
    )
    assert assessment.net_income == Decimal("13000.00")
    assert assessment.line is None  # no line that year: kept, the rules name it missing


def test_another_village_and_negative_amounts_are_refused(cast, household_a, household_b):
    with pytest.raises(ValidationError) as caught:
        income.assess_income(
            household=household_b, period_end=datetime.date(2025, 3, 1), actor=cast.cadre
        )
    assert caught.value.code == "not_allowed"
    with pytest.raises(ValidationError) as caught:
        income.assess_income(
            household=household_a,
            period_end=datetime.date(2025, 3, 1),
            actor=cast.cadre,
            components={**COMPONENTS, "wage": Decimal("-1")},
        )
    assert "wage" in caught.value.error_dict
    assert household_a.income_assessments.count() == 0
