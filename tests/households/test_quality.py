"""Data quality (问题数据): the rules on crafted households, the region job, fixed/explained."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from households import quality, services
from households.models import DataProblem, Household, Member
from povertyapp import jobs
from tests import factories
from tests.project import app_today


def codes(household: Household) -> set[str]:
    findings, _ = quality.check_household(household)
    return {finding.rule for finding in findings}


def test_cause_illness_with_everyone_healthy(cast, county):
    household = factories.household(actor=cast.county, village=county.village_a, main_cause="因病")
    assert "cause_illness" in codes(household)
    head = factories.active_members(household)[0]
    services.member_update(
        actor=cast.county, member=head, data={"health": "长期慢性病"}, expected_version=head.version
    )
    assert "cause_illness" not in codes(household)


def test_cause_study_without_a_student_and_cause_disability_without_disabled(cast, county):
    study = factories.household(actor=cast.county, village=county.village_a, main_cause="因学")
    disabled = factories.household(actor=cast.county, village=county.village_a, main_cause="因残")
    assert "cause_study" in codes(study)
    assert "cause_disability" in codes(disabled)


def test_dibao_household_without_recipient_and_zero_dibao_money(cast, county):
    household = factories.household(
        actor=cast.county, village=county.village_a, poverty_attribute="低保贫困户"
    )
    services.income_set(
        actor=cast.county,
        household=household,
        year=app_today().year - 1,
        data={"wage": Decimal("3000")},
    )
    found = codes(household)
    assert {"dibao_without_recipient", "dibao_money_zero"} <= found


def test_tekun_household_with_a_working_age_labourer(cast, county):
    household = factories.household(
        actor=cast.county, village=county.village_a, poverty_attribute="特困供养贫困户"
    )
    findings, _ = quality.check_household(household)
    tekun = [f for f in findings if f.rule == "tekun_with_labourer"]
    assert len(tekun) == 1
    assert tekun[0].message == "特困供养贫困户中有劳动年龄内的劳动力：张三、李四"


def test_no_labour_capacity_working_away_and_wage_without_worker(cast, county):
    members = [
        factories.member_data(labour_skill="丧失劳动力", work_status="省外", work_months=8),
        factories.member_data(
            name="李四",
            relation="配偶",
            sex="女",
            work_status="无",
            work_months=0,
            birth_date=datetime.date(1982, 3, 9),
        ),
    ]
    household = factories.household(actor=cast.county, village=county.village_a, members=members)
    findings, _ = quality.check_household(household)
    working = [f for f in findings if f.rule == "no_labour_working"]
    assert [(f.member_name, f.field) for f in working] == [("张三", "work_status")]
    other = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[
            factories.member_data(
                work_status="无", work_months=0, birth_date=datetime.date(1960, 1, 1)
            )
        ],
    )
    services.income_set(
        actor=cast.county,
        household=other,
        year=app_today().year - 1,
        data={"wage": Decimal("8000")},
    )
    assert "wage_without_worker" in codes(other)


def test_child_with_high_school_education_and_per_capita_land(cast, county):
    child = factories.member_data(
        name="小明",
        relation="之子",
        birth_date=app_today().replace(year=app_today().year - 10, day=1),
        education="高中",
        school_status="小学",
        labour_skill="",
        work_status="无",
        work_months=0,
    )
    household = factories.household(
        actor=cast.county,
        village=county.village_a,
        cultivated_land=Decimal("120"),
        members=[factories.member_data(), child],
    )
    found = codes(household)
    assert "child_high_education" in found
    assert "land_per_person" in found


def test_income_implausible_and_production_without_cost(cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    services.income_set(
        actor=cast.county,
        household=household,
        year=app_today().year - 1,
        data={"production": Decimal("500")},
    )
    found = codes(household)
    assert "production_without_cost" in found
    services.income_set(
        actor=cast.county,
        household=household,
        year=app_today().year - 1,
        data={"production": Decimal("500"), "production_cost": Decimal("900")},
    )
    findings, _ = quality.check_household(household)
    income = [f.message for f in findings if f.rule == "per_capita_income"]
    assert income == [f"{app_today().year - 1}年人均纯收入为-200.00元（≤0）"]


def test_required_fields_by_age_and_the_completeness_rate(cast, county):
    old = factories.member_data(ethnicity="", labour_skill="")
    household = factories.household(
        actor=cast.county, village=county.village_a, members=[old], road_type="", fuel_type=""
    )
    findings, rate = quality.check_household(household)
    required = {(f.rule, f.field) for f in findings if f.rule.startswith("required_")}
    assert required == {
        ("required_ethnicity", "ethnicity"),
        ("required_labour_skill", "labour_skill"),
        ("required_road_type", "road_type"),
        ("required_fuel_type", "fuel_type"),
        ("required_housing_area", "housing_area"),
        ("required_has_sanitary_toilet", "has_sanitary_toilet"),
    }
    # Household: 9 required, 5 filled. The adult non-student member: 民族, 文化程度, 健康状况,
    # 劳动技能 required (在校生状况 only for ages 6–23), 2 filled. 7 ÷ 13 = 53.8 %.
    assert rate == Decimal("53.8")


def test_exited_household_failing_the_exit_test_and_no_helper(cast, county, household_a):
    exited = factories.household(
        actor=cast.county, village=county.village_a, status=Household.Status.EXITED, house_grade="C"
    )
    findings, _ = quality.check_household(exited)
    failing = [f.message for f in findings if f.rule == "exited_fails_exit_test"]
    assert failing == ["已脱贫户不符合退出标准：住房安全有保障：住房为C级危房且未改造"]
    poor = factories.household(actor=cast.county, village=county.village_a)
    assert "no_helper" in codes(poor)
    assert "no_helper" not in codes(household_a)


def test_id_number_disagreeing_with_birth_date_is_found(cast, county, household_a):
    head = factories.active_members(household_a)[0]
    # A record loaded before the ID rules existed (the services would refuse it).
    Member.objects.filter(pk=head.pk).update(birth_date=datetime.date(1981, 1, 1))
    findings, _ = quality.check_household(household_a)
    assert [(f.rule, f.member_name) for f in findings if f.rule == "id_disagrees"] == [
        ("id_disagrees", "张三")
    ]


def run_job(user, region):
    job = jobs.job_create(user=user, kind=quality.JOB_KIND, region=region)
    return jobs.job_run(job.pk)


def test_region_job_lists_problems_per_village_then_marks_fixed_ones(cast, county):
    household = factories.household(actor=cast.county, village=county.village_a, main_cause="因学")
    factories.household(actor=cast.county, village=county.village_b, main_cause="因残")
    job = run_job(cast.county, county.county)
    assert job.status == "succeeded", job.error
    by_village = {row["name"]: row for row in job.result["villages"]}
    assert by_village["凤场村"]["households"] == 1
    assert by_village["西垭村"]["households"] == 1
    problem = DataProblem.objects.get(household=household, rule="cause_study")
    assert (problem.village, problem.state) == (county.village_a, DataProblem.State.OPEN)
    first_seen = problem.first_seen
    services.household_update(
        actor=cast.county,
        household=household,
        data={"main_cause": "缺资金"},
        expected_version=household.version,
    )
    again = run_job(cast.county, county.county)
    problem.refresh_from_db()
    assert problem.state == DataProblem.State.FIXED
    assert problem.first_seen == first_seen
    assert again.result["fixed"] >= 1
    # Village B's problem is still there and unchanged.
    assert DataProblem.objects.get(rule="cause_disability").state == DataProblem.State.OPEN


def test_explained_problem_waits_for_the_township_and_stays_accepted(cast, county):
    household = factories.household(
        actor=cast.county, village=county.village_a, cultivated_land=Decimal("150")
    )
    run_job(cast.cadre, county.village_a)
    problem = DataProblem.objects.get(household=household, rule="land_per_person")
    with pytest.raises(ValidationError):
        services.problem_explain(actor=cast.cadre2, problem=problem, explanation="x")
    services.problem_explain(
        actor=cast.cadre, problem=problem, explanation="该户承包荒山开垦，面积经乡镇国土所核实"
    )
    with pytest.raises(ValidationError):
        services.problem_review(actor=cast.cadre, problem=problem, accept=True)
    services.problem_review(actor=cast.township, problem=problem, accept=True, note="属实")
    run_job(cast.cadre, county.village_a)
    problem.refresh_from_db()
    assert problem.state == DataProblem.State.ACCEPTED
    assert problem.reviewed_by == cast.township


def test_quality_page_is_scoped_to_the_village(cast, county, client_for):
    factories.household(actor=cast.county, village=county.village_a, main_cause="因学")
    factories.household(actor=cast.county, village=county.village_b, main_cause="因学")
    run_job(cast.county, county.county)
    page = client_for(cast.cadre).get("/households/quality/", {"rule": "cause_study"})
    assert page.context["page"].paginator.count == 1
    page = client_for(cast.township).get("/households/quality/", {"rule": "cause_study"})
    assert page.context["page"].paginator.count == 1
    page = client_for(cast.county).get("/households/quality/", {"rule": "cause_study"})
    assert page.context["page"].paginator.count == 2


def test_village_options_carry_their_open_problems_when_refilled_too(cast, county, client_for):
    """The quality page's villages read "凤场村（5）", on the page and when the region cascade
    refills the select after a township is chosen (the options endpoint's `labels=quality`);
    other pages' refills stay plain."""
    factories.household(actor=cast.county, village=county.village_a, main_cause="因学")
    run_job(cast.county, county.county)
    client = client_for(cast.county)
    page = client.get("/households/quality/").content.decode()
    label = f"凤场村（{DataProblem.objects.filter(village=county.village_a).count()}）"
    assert label in page and "labels=quality" in page
    refill = {"township": county.township1.pk, "changed": "township"}
    options = client.get("/regions/options/", {**refill, "labels": "quality"}).content.decode()
    assert label in options and "龙坪村<" in options
    assert "凤场村（" not in client.get("/regions/options/", refill).content.decode()


def test_run_button_starts_a_job_for_the_users_region(cast, county, client_for):
    response = client_for(cast.cadre).post(
        "/households/quality/run/", {"region": county.village_a.code}
    )
    assert response.status_code == 302
    job = jobs.Job.objects.get(kind=quality.JOB_KIND)
    assert job.region == county.village_a
    outside = client_for(cast.cadre).post(
        "/households/quality/run/", {"region": county.village_b.code}
    )
    assert outside.status_code == 404


def test_rules_with_most_open_problems_count_each_rule_as_its_list_does(cast, county, client_for):
    """ "待处理问题最多的规则" counts every open problem of a rule (8/6/5 here, not (1) per rule):
    each count equals the number of problems the rule's link lists."""
    for cause, households in (("因学", 8), ("因残", 6), ("因病", 5)):
        for _index in range(households):
            factories.household(
                actor=cast.county,
                village=county.village_a,
                main_cause=cause,
                members=[factories.member_data(health="健康")],
            )
    run_job(cast.county, county.county)
    client = client_for(cast.county)
    by_rule = dict(client.get("/households/quality/").context["by_rule"])
    assert (by_rule["cause_study"], by_rule["cause_disability"], by_rule["cause_illness"]) == (
        8,
        6,
        5,
    )
    for rule, count in by_rule.items():
        listed = client.get("/households/quality/", {"rule": rule, "state": "open"})
        assert listed.context["page"].paginator.count == count, rule


def test_every_rules_field_is_named_by_its_label_never_its_path():
    """The problem list says 字段：生产经营性支出, not `income.production_cost`: every rule's
    field (the required fields' included) resolves to the verbose name of the household's,
    member's or income's field, or to the name of the related records."""
    for rule in quality.RULES:
        label = quality.field_label(rule.code, rule.field)
        assert label and label != rule.field and "_" not in label and "." not in label, rule
    assert quality.field_label("production_without_cost", "income.production_cost") == (
        "生产经营性支出"
    )
    assert quality.field_label("no_members", "members") == "家庭成员"
    assert quality.field_label("gone", "retired_field") == "retired_field"


def test_the_problem_list_shows_the_fields_label(cast, county, client_for):
    factories.household(actor=cast.county, village=county.village_a, main_cause="因学")
    run_job(cast.county, county.county)
    page = client_for(cast.cadre).get("/households/quality/", {"rule": "cause_study"})
    text = page.content.decode()
    assert "字段：主要致贫原因" in text
    assert "<code>main_cause</code>" not in text  # (the rule select's values are codes)
