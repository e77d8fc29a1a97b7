"""The default matching rules (DOMAIN §6), each on a crafted household, through the engine
that the page, the coverage job and the demo share."""

from __future__ import annotations

import datetime

import pytest

from assistance import matching, services
from assistance.models import MatchingRule, Measure
from households.models import Household, Member
from tests import factories

ON = datetime.date(2020, 6, 30)


def _gaps(household: Household) -> set[tuple[str, str | None, str]]:
    """(rule code, member name or None, kind) of every gap of the household."""
    rules = {rule.pk: rule for rule in matching.rules_for(ON.year)}
    members = {m.pk: m.name for m in household.members.all()}
    return {
        (rules[gap.rule_id].code, members.get(gap.member_id), gap.kind)
        for gap in matching.coverage_rows(
            Household.objects.filter(pk=household.pk), rules.values(), on=ON
        )
    }


def _measure(actor, household, category, member=None):
    return services.measure_create(
        actor=actor,
        household=household,
        data={"year": 2020, "category": category, "content": f"{category}措施", "member": member},
    )


def _member(household, name):
    return household.members.get(name=name)


@pytest.fixture
def make(cast, county):
    def build(members=None, **data):
        return factories.household(
            actor=cast.county, village=county.village_a, members=members, **data
        )

    return build


def test_default_rules_are_seeded_as_data(db):
    codes = set(MatchingRule.objects.values_list("code", flat=True))
    assert {
        "cause-illness",
        "member-illness",
        "member-student",
        "member-disability-subsidy",
        "member-disability-certificate",
        "cause-labour",
        "cause-capital",
        "house-unsafe",
        "water-unsafe",
        "no-labour",
        "member-medical",
        "member-pension",
        "attribute-dibao",
        "attribute-tekun",
    } <= codes


def test_a_fully_answered_household_has_no_gap(make):
    household = make(main_cause="缺资金")
    assert _gaps(household) == {("cause-capital", None, "missing")}
    _measure(household.created_by, household, "金融帮扶")
    assert _gaps(household) == set()


def test_illness_cause_and_sick_member_need_health_assistance(make, cast):
    household = make(
        main_cause="因病",
        members=[
            factories.member_data(health="患有大病", illness_name="尿毒症"),
            factories.member_data(
                name="李四", relation="配偶", sex="女", birth_date=datetime.date(1982, 3, 9)
            ),
        ],
    )
    assert _gaps(household) == {
        ("cause-illness", None, "missing"),
        ("member-illness", "张三", "missing"),
    }
    _measure(cast.county, household, "健康帮扶", _member(household, "张三"))
    assert _gaps(household) == set()


def test_student_needs_education_aid_and_non_student_aid_is_wrongful(make, cast):
    household = make(
        main_cause="因学",
        members=[
            factories.member_data(),
            factories.member_data(
                name="张小明",
                relation="之子",
                birth_date=datetime.date(2008, 2, 1),
                education="初中",
                school_status="七年级",
                labour_skill="",
                work_status="",
                work_months=0,
                has_pension_insurance=False,
            ),
        ],
    )
    assert _gaps(household) == {
        ("cause-school", None, "missing"),
        ("member-student", "张小明", "missing"),
    }
    _measure(cast.county, household, "教育帮扶", _member(household, "张小明"))
    _measure(cast.county, household, "教育帮扶", _member(household, "张三"))
    assert _gaps(household) == {("member-student", "张三", "wrongful")}


def test_disabled_member_needs_subsidy_and_certificate(make, cast):
    household = make(
        main_cause="因残",
        members=[
            factories.member_data(
                health="残疾",
                disability_grade="二级",
                labour_skill="丧失劳动力",
                work_status="无",
                work_months=0,
            ),
            factories.member_data(
                name="李四", relation="配偶", sex="女", birth_date=datetime.date(1982, 3, 9)
            ),
        ],
    )
    assert _gaps(household) == {
        ("cause-disability", None, "missing"),
        ("member-disability-subsidy", "张三", "missing"),
        ("member-disability-certificate", "张三", "missing"),
    }
    _measure(cast.county, household, "残疾人帮扶", _member(household, "张三"))
    assert _gaps(household) == {("member-disability-certificate", "张三", "missing")}


def test_labour_causes_need_employment_only_with_working_age_labour(make):
    with_labour = make(main_cause="缺技术")
    assert _gaps(with_labour) == {("cause-labour", None, "missing")}
    elderly = make(
        main_cause="缺劳力",
        members=[
            factories.member_data(
                birth_date=datetime.date(1948, 1, 1),
                labour_skill="无劳动力",
                work_status="无",
                work_months=0,
            ),
        ],
    )
    # No working-age labourer: no employment need, but the no-labour rule applies.
    assert _gaps(elderly) == {("no-labour", None, "missing")}


def test_no_labour_is_answered_by_dibao(make):
    household = make(
        main_cause="缺劳力",
        poverty_attribute="低保贫困户",
        members=[
            factories.member_data(
                birth_date=datetime.date(1948, 1, 1),
                labour_skill="无劳动力",
                work_status="无",
                work_months=0,
                receives_dibao=True,
            ),
        ],
    )
    assert _gaps(household) == set()


def test_unsafe_house_needs_renovation_and_renovation_without_danger_is_wrongful(make, cast):
    household = make(main_cause="缺资金", house_grade="D")
    assert ("house-unsafe", None, "missing") in _gaps(household)
    renovated = make(main_cause="缺资金", house_grade="C", house_renovated=True)
    assert ("house-unsafe", None, "missing") not in _gaps(renovated)
    safe = make(main_cause="缺资金", house_grade="A")
    _measure(cast.county, safe, "危房改造")
    assert ("house-unsafe", None, "wrongful") in _gaps(safe)


def test_unsafe_water_needs_water_measure(make, cast):
    household = make(main_cause="缺资金", water_safe=False)
    assert ("water-unsafe", None, "missing") in _gaps(household)
    _measure(cast.county, household, "饮水安全")
    assert ("water-unsafe", None, "missing") not in _gaps(household)


def test_everyone_needs_medical_and_adults_pension(make):
    household = make(
        main_cause="缺资金",
        members=[
            factories.member_data(has_medical_insurance=False, has_pension_insurance=False),
            factories.member_data(
                name="张小红",
                relation="之女",
                sex="女",
                birth_date=datetime.date(2012, 4, 4),
                education="小学",
                school_status="小学",
                labour_skill="",
                work_status="",
                work_months=0,
                has_pension_insurance=False,
            ),
        ],
    )
    gaps = _gaps(household)
    assert ("member-medical", "张三", "missing") in gaps
    assert ("member-pension", "张三", "missing") in gaps
    # A pupil of 8 owes no pension enrolment.
    assert ("member-pension", "张小红", "missing") not in gaps


def test_dibao_attribute_without_recipient_is_missing_and_recipient_without_it_wrongful(make):
    missing = make(main_cause="缺资金", poverty_attribute="低保贫困户")
    assert ("attribute-dibao", None, "missing") in _gaps(missing)
    wrongful = make(
        main_cause="缺资金",
        poverty_attribute="一般贫困户",
        members=[factories.member_data(receives_dibao=True)],
    )
    assert ("attribute-dibao", None, "wrongful") in _gaps(wrongful)


def test_tekun_attribute_needs_a_tekun_member(make):
    household = make(
        main_cause="缺劳力",
        poverty_attribute="特困供养贫困户",
        members=[
            factories.member_data(
                birth_date=datetime.date(1940, 1, 1),
                labour_skill="无劳动力",
                work_status="无",
                work_months=0,
            )
        ],
    )
    assert ("attribute-tekun", None, "missing") in _gaps(household)


def test_cancelled_measure_does_not_answer_a_rule(make, cast):
    household = make(main_cause="缺资金")
    measure = _measure(cast.county, household, "金融帮扶")
    services.measure_change_status(
        actor=cast.county, measure=measure, status=Measure.Status.CANCELLED, result="农户不愿贷款"
    )
    assert _gaps(household) == {("cause-capital", None, "missing")}


def test_rule_edited_in_the_admin_changes_the_result(make):
    household = make(main_cause="缺资金")
    rule = MatchingRule.objects.get(code="cause-capital")
    rule.categories = "金融帮扶、产业帮扶"
    rule.save()
    _measure(household.created_by, household, "产业帮扶")
    assert _gaps(household) == set()


def test_non_registered_and_removed_households_are_not_covered(make):
    household = make(
        status=Household.Status.NON_REGISTERED,
        main_cause="",
        members=[factories.member_data(has_medical_insurance=False)],
    )
    assert _gaps(household) == set()


def test_assessment_flags_too_few_and_mismatched_measures(make, cast):
    household = make(
        main_cause="因病",
        members=[factories.member_data(health="长期慢性病", illness_name="高血压")],
    )
    for category in ("产业帮扶", "公益岗位"):
        _measure(cast.county, household, category)
    assessment = matching.assess_household(household, on=ON)
    assert assessment.measure_count == 2
    assert assessment.too_few is True
    assert assessment.mismatched is True
    assert assessment.cause_categories == ["健康帮扶"]
    assert [
        (n.rule.code, n.member.name if n.member else None) for n in assessment.missing_measures
    ] == [("cause-illness", None), ("member-illness", "张三")]
    _measure(cast.county, household, "健康帮扶", _member(household, "张三"))
    _measure(cast.county, household, "就业帮扶")
    assessment = matching.assess_household(household, on=ON)
    assert (assessment.measure_count, assessment.too_few, assessment.mismatched) == (
        4,
        False,
        False,
    )
    assert assessment.missing_measures == []


def test_relocated_household_with_a_safe_house_is_not_wrongful(make):
    household = make(
        main_cause="缺资金",
        house_grade="A",
        relocated=True,
        relocation_mode="集中安置",
        relocation_place="城西安置点",
    )
    assert ("house-unsafe", None, "wrongful") not in _gaps(household)
    assessment = matching.assess_household(household, on=ON)
    assert assessment.wrongful == []


@pytest.fixture
def assorted(make, cast):
    """Households that qualify, are answered, receive without qualifying and have unrecorded
    facts, under every default rule: household and member level."""
    sick = make(
        main_cause="因病",
        poverty_attribute="低保贫困户",
        members=[
            factories.member_data(health="患有大病", illness_name="尿毒症"),
            factories.member_data(
                name="李四",
                relation="配偶",
                sex="女",
                birth_date=datetime.date(1982, 3, 9),
                has_medical_insurance=False,
                receives_dibao=True,
            ),
        ],
    )
    _measure(cast.county, sick, "健康帮扶", _member(sick, "张三"))
    _measure(cast.county, sick, "产业帮扶")
    _measure(cast.county, sick, "教育帮扶", _member(sick, "李四"))
    cancelled = _measure(cast.county, sick, "金融帮扶")
    Measure.objects.filter(pk=cancelled.pk).update(status=Measure.Status.CANCELLED)
    labour = make(
        main_cause="缺劳力",
        poverty_attribute="特困供养贫困户",
        house_grade="D",
        water_safe=None,
        members=[
            factories.member_data(
                birth_date=datetime.date(1945, 1, 1),
                labour_skill="无劳动力",
                work_status="无",
                work_months=0,
                is_tekun=True,
            )
        ],
    )
    student = make(
        main_cause="因学",
        other_cause_1="缺资金",
        house_grade="A",
        relocated=True,
        relocation_mode="集中安置",
        relocation_place="城西安置点",
        water_safe=False,
        water_difficult=True,
        members=[
            factories.member_data(health="残疾", disability_certificate="52262219800517111X11"),
            factories.member_data(
                name="张小明",
                relation="之子",
                birth_date=datetime.date(2008, 2, 1),
                education="初中",
                school_status="七年级",
                labour_skill="",
                work_status="",
                work_months=0,
                has_pension_insurance=False,
            ),
        ],
    )
    _measure(cast.county, student, "教育帮扶", _member(student, "张三"))
    exited = make(status=Household.Status.EXITED, main_cause="缺技术", house_grade="C")
    return [sick, labour, student, exited]


def test_one_households_sql_flags_agree_with_the_orm_form(assorted):
    """The page's assessment reads each rule's qualifies / fulfilled / receives through the SQL
    form (`_facts_flags`); the ORM form (`_flags`) must give the same truth values, row by row
    (the assessment reads them as truth values: NULL, an unrecorded fact, counts as no)."""
    rules = matching.rules_for(ON.year)
    seen = set()
    for household in assorted:
        for level, queryset in (
            (MatchingRule.Level.HOUSEHOLD, Household.objects.filter(pk=household.pk)),
            (
                MatchingRule.Level.MEMBER,
                Member.objects.filter(household=household, is_active=True, living_status="正常"),
            ),
        ):
            level_rules = [rule for rule in rules if rule.level == level]
            orm = sorted(matching._flags(queryset, level_rules, ON), key=lambda row: row["pk"])
            sql = matching._facts_flags(level, household.pk, level_rules, ON)
            assert [{k: bool(v) if k != "pk" else v for k, v in row.items()} for row in sql] == [
                {k: bool(v) if k != "pk" else v for k, v in row.items()} for row in orm
            ]
            seen |= {(k[0], bool(v)) for row in orm for k, v in row.items() if k != "pk"}
    # Both truth values of qualifies, fulfilled and receives occur.
    assert seen == {(p, b) for p in "qfr" for b in (True, False)}


def test_an_assessment_over_loaded_members_equals_reading_them(assorted):
    def summary(assessment):
        return (
            [(n.rule.code, n.member and n.member.pk, n.fulfilled) for n in assessment.needs],
            [(n.rule.code, n.member and n.member.pk) for n in assessment.wrongful],
            assessment.measure_count,
            assessment.mismatched,
            assessment.cause_categories,
            assessment.warning_count,
        )

    warnings = []
    for household in assorted:
        members = list(household.members.all())
        read = matching.assess_household(household, on=ON)
        assert summary(matching.assess_household(household, on=ON, members=members)) == summary(
            read
        )
        warnings.append(read.warning_count)
    assert all(warnings)
