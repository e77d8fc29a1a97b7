"""帮扶 by risk type: the default rules in the assistance categories, 一户一策 naming the missing
measures, the 15-day start clock, and the 绿色通道 counting from the clue."""

from __future__ import annotations

import datetime

import pytest

from assistance import services as assistance_services
from households.models import ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from monitoring import measures
from monitoring.models import ObjectRisk, RiskMeasureRule
from tests.monitoring.object_fixtures import day, identify, start
from tests.project import app_today


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _measure(cast, household, category: str, start_on: datetime.date, started: bool = True):
    return assistance_services.measure_create(
        actor=cast.cadre,
        household=household,
        data={
            "year": start_on.year,
            "category": category,
            "content": f"{category}措施",
            "planned_start": start_on,
            "actual_start": start_on if started else None,
            "amount": "0",
        },
    )


def test_the_default_rules_use_the_assistance_measure_categories(county):
    categories = set(
        value_lists(year=app_today().year, province=province_of(county.village_a))[
            ValueList.MEASURE_CATEGORY
        ]
    )
    used = set(RiskMeasureRule.objects.values_list("measure_category", flat=True))
    assert used <= categories
    table = measures.rule_table()
    assert table["illness"] == ["健康帮扶"]
    assert set(table["labour"]) == {"兜底保障", "资产收益", "公益岗位"}
    assert set(table["industry"]) == {"产业帮扶", "金融帮扶"}


def test_the_plan_names_each_risk_and_the_missing_measures(cast, household_a):
    found = identify(cast, household_a, risk_types=["illness", "education"])
    health = _measure(cast, household_a, "健康帮扶", day(12))
    _measure(cast, household_a, "产业帮扶", day(12))  # answers neither risk
    plan = measures.object_plan(found, day(20))
    lines = {line.risk_type: line for line in plan.lines}
    assert lines["illness"].measures == [health]
    assert [line.risk_type for line in plan.missing] == ["education"]
    assert lines["education"].categories == ["教育帮扶"]
    assert plan.start_due == day(10) + datetime.timedelta(days=15)
    assert plan.overdue is False


def test_measures_before_identification_do_not_count_and_the_clock_runs_out(cast, household_a):
    found = identify(cast, household_a)
    _measure(cast, household_a, "健康帮扶", day(5))  # before identification (day 10)
    plan = measures.object_plan(found, day(26))
    assert plan.measures == []
    assert plan.overdue is True  # none started within 15 days of identification
    assert measures.object_plan(found, day(25)).overdue is False  # the last day still counts


def test_a_measure_started_late_leaves_the_plan_flagged(cast, household_a):
    found = identify(cast, household_a)
    _measure(cast, household_a, "健康帮扶", day(30))
    assert measures.object_plan(found, day(40)).overdue is True


def test_on_the_green_channel_measures_count_from_the_clue(cast, household_a):
    found = start(
        cast, household_a, risk_types=["disaster"], green_channel=True, green_channel_reason="洪灾"
    )
    relief = _measure(cast, household_a, "社会帮扶", day(1))
    plan = measures.object_plan(found, day(2))
    assert plan.measures == [relief]
    assert plan.lines[0].measures == [relief]
    assert plan.start_due is None  # the clock starts at identification


def test_a_resolved_risk_still_shows_in_the_plan(cast, household_a):
    found = identify(cast, household_a)
    ObjectRisk.objects.filter(monitoring_object=found).update(resolved_on=day(30))
    assert [line.risk_type for line in measures.object_plan(found, day(31)).lines] == ["illness"]


def test_the_demo_builds_every_kind_of_object_through_the_services(cast, county):
    import random

    from households.models import CaseWorkflow
    from monitoring import demo_objects, lines
    from monitoring.models import MonitoringObject

    users = {"cadre": cast.cadre, "township": cast.township, "county": cast.county}
    counts = demo_objects.build(
        county=county.county, users=users, rng=random.Random(1), today=app_today()
    )
    assert counts == {"eliminated": 4, "monitored": 5, "identifying": 3}
    objects = MonitoringObject.objects.all()
    assert {found.object_type for found in objects} == {"unstable", "marginal", "sudden"}
    eliminated = objects.filter(state="eliminated")
    assert sorted(eliminated.values_list("elimination_way", flat=True)) == [
        "assisted",
        "assisted",
        "natural",
        "natural",
    ]
    # The county's 2 × 低保 rule overrides the province's amount.
    assert (
        lines.monitoring_line(county.village_a, app_today().year) == 2 * demo_objects.COUNTY_DIBAO
    )
    refused = objects.get(risks__risk_type="housing")
    assert refused.state == "monitored"
    assert refused.elimination.state == CaseWorkflow.State.OPEN
    assert refused.elimination.step == "proposal"
    returned = refused.elimination.steps.get(decision="returned")
    assert "无新增风险" in returned.opinion
    assert objects.get(risks__risk_type="labour").no_labour_capacity is True
    assert any(
        measures.object_plan(found, app_today()).continuing for found in eliminated
    )  # the 小额信贷 goes on
    assert (
        objects.filter(identification__deadline__lt=app_today(), state="identifying").count() == 1
    )
    again = demo_objects.build(
        county=county.county, users=users, rng=random.Random(1), today=app_today()
    )
    assert again == {"objects": 0}
