"""Services of measures, plans and visits: scope, bad input refused with nothing written,
events written with every change."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assistance import services
from assistance.models import AssistanceEvent, HouseholdPlan, Measure, Visit
from povertyapp.conflicts import ConflictError

GOOD = {
    "year": 2020,
    "category": "产业帮扶",
    "content": "养殖黄牛2头",
    "amount": "6000",
    "fund_source": "整合资金",
}


def _codes(error: ValidationError) -> set[str]:
    lists = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
    return {item.code for errors in lists for item in errors}


def test_measure_for_a_household_outside_scope_is_refused(cast, household_b):
    for actor in (cast.cadre, cast.helper):
        with pytest.raises(ValidationError) as error:
            services.measure_create(actor=actor, household=household_b, data=GOOD)
        assert _codes(error.value) == {"out_of_scope"}
    assert Measure.objects.count() == 0
    assert AssistanceEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": "-1"}, "negative_amount"),
        ({"amount": "12.345"}, "too_many_decimals"),
        ({"category": "发钱"}, "not_in_value_list"),
        ({"content": " "}, "required"),
        ({"fund_source": ""}, "source_required"),
        (
            {"planned_start": datetime.date(2020, 5, 1), "planned_end": datetime.date(2020, 4, 1)},
            "dates_out_of_order",
        ),
    ],
)
def test_bad_measure_input_is_refused(cast, household_a, changes, code):
    with pytest.raises(ValidationError) as error:
        services.measure_create(actor=cast.cadre, household=household_a, data=GOOD | changes)
    assert code in _codes(error.value)
    assert Measure.objects.count() == 0


def test_member_of_another_household_is_refused(cast, household_a, household_b):
    stranger = household_b.members.first()
    with pytest.raises(ValidationError) as error:
        services.measure_create(
            actor=cast.county, household=household_a, data=GOOD | {"member": stranger}
        )
    assert _codes(error.value) == {"member_not_in_household"}


def test_measure_amount_is_decimal_yuan(cast, household_a):
    measure = services.measure_create(
        actor=cast.cadre, household=household_a, data=GOOD | {"amount": "0.10"}
    )
    measure.refresh_from_db()
    assert measure.amount == Decimal("0.10")
    assert AssistanceEvent.objects.get(measure=measure).kind == "measure_added"


def test_completing_needs_a_result_and_cannot_go_back(cast, household_a):
    measure = services.measure_create(actor=cast.cadre, household=household_a, data=GOOD)
    with pytest.raises(ValidationError) as error:
        services.measure_change_status(
            actor=cast.cadre, measure=measure, status="completed", on=datetime.date(2020, 9, 1)
        )
    assert _codes(error.value) == {"result_required"}
    services.measure_change_status(
        actor=cast.cadre,
        measure=measure,
        status="completed",
        on=datetime.date(2020, 9, 1),
        result="出栏，增收",
        income_effect="3000.00",
    )
    with pytest.raises(ValidationError) as error:
        services.measure_change_status(actor=cast.cadre, measure=measure, status="planned")
    assert _codes(error.value) == {"bad_transition"}


def test_stale_measure_version_is_a_conflict(cast, household_a):
    measure = services.measure_create(actor=cast.cadre, household=household_a, data=GOOD)
    services.measure_update(
        actor=cast.cadre, measure=measure, data={"content": "养殖黄牛3头"}, expected_version=1
    )
    with pytest.raises(ConflictError):
        services.measure_update(
            actor=cast.helper, measure=measure, data={"content": "养殖黄牛1头"}, expected_version=1
        )
    measure.refresh_from_db()
    assert (measure.content, measure.version) == ("养殖黄牛3头", 2)


def test_plan_progress_counts_the_years_measures(cast, household_a):
    from assistance.selectors import plan_progress

    plan = services.plan_set(
        actor=cast.helper,
        household=household_a,
        year=2020,
        goals="发展产业，稳定务工",
        expected_income="15000.00",
    )
    first = services.measure_create(actor=cast.cadre, household=household_a, data=GOOD)
    services.measure_create(
        actor=cast.cadre,
        household=household_a,
        data=GOOD | {"category": "就业帮扶", "content": "务工"},
    )
    services.measure_change_status(
        actor=cast.cadre,
        measure=first,
        status="completed",
        on=datetime.date(2020, 9, 1),
        result="出栏",
        income_effect="2500.00",
    )
    progress = plan_progress(household_a, plan)
    assert (
        progress["done"],
        progress["total"],
        progress["percent"],
        progress["income_effect"],
    ) == (1, 2, Decimal("50.00"), Decimal("2500.00"))
    with pytest.raises(ConflictError):
        services.plan_set(
            actor=cast.cadre,
            household=household_a,
            year=2020,
            goals="x",
            expected_income="1",
            expected_version=7,
        )
    assert HouseholdPlan.objects.get().goals == "发展产业，稳定务工"


def test_visit_updates_household_through_the_registry_service(cast, household_a):
    services.visit_record(
        actor=cast.cadre,
        household=household_a,
        date=datetime.date(2020, 6, 1),
        seen="自来水管破裂，饮水困难",
        answers={"water": "否"},
        household_updates={"water_difficult": True},
        expected_version=household_a.version,
    )
    household_a.refresh_from_db()
    assert household_a.water_difficult is True
    record = household_a.history.latest("history_id")
    assert record.history_change_reason.startswith("走访核实")
    assert record.history_user == cast.cadre


def test_helper_cannot_change_household_data_through_a_visit(cast, household_a):
    with pytest.raises(ValidationError) as error:
        services.visit_record(
            actor=cast.helper,
            household=household_a,
            date=datetime.date(2020, 6, 1),
            seen="走访",
            household_updates={"water_difficult": True},
            expected_version=household_a.version,
        )
    assert _codes(error.value) == {"read_only"}
    household_a.refresh_from_db()
    assert household_a.water_difficult is False
    assert Visit.objects.count() == 0  # the whole visit rolled back


def test_visit_answers_must_be_choices_and_date_not_future(cast, household_a):
    with pytest.raises(ValidationError) as error:
        services.visit_record(
            actor=cast.helper,
            household=household_a,
            date=datetime.date.today() + datetime.timedelta(days=1),
            seen="走访",
            answers={"food": "也许"},
        )
    assert _codes(error.value) == {"future_date", "invalid_choice"}
    assert Visit.objects.count() == 0
