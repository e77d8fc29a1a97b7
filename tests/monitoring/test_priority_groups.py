"""The 10 priority groups of the 集中排查, one rule at a time: a household the data puts in the
group is found, one just outside the rule is not."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from households.models import Household, HouseholdIncome, Member
from monitoring import priority
from monitoring.models import Clue, MonitoringObject, ObjectType, PriorityGroup, RiskType
from tests import factories

ON = datetime.date(2026, 6, 1)
LINE = Decimal("7000")


def _household(cast: Any, county: Any, **data: Any) -> Household:
    return factories.household(actor=cast.county, village=county.village_a, **data)


def _in(group: str, household: Household) -> bool:
    households = Household.objects.filter(pk=household.pk)
    return priority.in_group(group, households, on=ON, line=LINE).exists()


def _income(household: Household, year: int, **amounts: Any) -> HouseholdIncome:
    return HouseholdIncome.objects.create(
        household=household, year=year, **{k: Decimal(v) for k, v in amounts.items()}
    )


def _members(household: Household) -> list[Member]:
    return list(household.members.filter(is_active=True).order_by("pk"))


def _add_member(household: Household, **data: Any) -> Member:
    values = factories.member_data(**data)
    return Member.objects.create(household=household, **values)


@pytest.fixture
def plain(cast, county) -> Household:
    """Two working adults at home, healthy, no income recorded: in no group."""
    return _household(cast, county)


def test_a_plain_household_is_in_no_group(plain):
    households = Household.objects.filter(pk=plain.pk)
    assert priority.groups_of(households, groups=PriorityGroup.values, on=ON, line=LINE) == {}


def test_exited_2020_takes_the_households_that_exited_in_2020_only(cast, county):
    in_2020 = _household(cast, county, status=Household.Status.EXITED, exit_year=2020)
    in_2019 = _household(cast, county, status=Household.Status.EXITED, exit_year=2019)
    assert (_in("exited_2020", in_2020), _in("exited_2020", in_2019)) == (True, False)


def test_low_income_is_below_one_and_a_half_lines_per_person(plain, cast, county):
    # Two persons: 1.5 × 7000 × 2 = 21000 is the ceiling of the household's net income.
    _income(plain, 2025, wage="20999.99")
    richer = _household(cast, county)
    _income(richer, 2025, wage="21000")
    assert (_in("low_income", plain), _in("low_income", richer)) == (True, False)


def test_low_income_takes_a_fall_of_more_than_a_fifth(plain, cast, county):
    _income(plain, 2024, wage="50000")
    _income(plain, 2025, wage="39999")  # −20.002 %
    steady = _household(cast, county)
    _income(steady, 2024, wage="50000")
    _income(steady, 2025, wage="40000")  # −20 % exactly: not more
    assert (_in("low_income", plain), _in("low_income", steady)) == (True, False)


def test_low_income_uses_the_latest_year(plain):
    _income(plain, 2024, wage="1000")
    _income(plain, 2025, wage="60000")
    assert _in("low_income", plain) is False


def test_tekun_by_member_flag_or_income(plain, cast, county):
    by_income = _household(cast, county)
    _income(by_income, 2025, wage="60000", tekun="6000")
    Member.objects.filter(pk=_members(plain)[0].pk).update(is_tekun=True)
    other = _household(cast, county)
    assert [_in("tekun", h) for h in (plain, by_income, other)] == [True, True, False]


def test_dibao_by_member_flag_or_income(plain, cast, county):
    by_income = _household(cast, county)
    _income(by_income, 2025, wage="60000", dibao="3000")
    Member.objects.filter(pk=_members(plain)[1].pk).update(receives_dibao=True)
    other = _household(cast, county)
    assert [_in("dibao", h) for h in (plain, by_income, other)] == [True, True, False]


def test_disabled_by_health_or_grade_of_a_living_member(plain, cast, county):
    Member.objects.filter(pk=_members(plain)[1].pk).update(health="长期慢性病、残疾")
    graded = _household(cast, county)
    Member.objects.filter(pk=_members(graded)[0].pk).update(disability_grade="三级")
    dead = _household(cast, county)
    Member.objects.filter(pk=_members(dead)[0].pk).update(health="残疾", living_status="死亡")
    assert [_in("disabled", h) for h in (plain, graded, dead)] == [True, True, False]


def test_students_needs_two_aged_16_to_22_in_non_compulsory_school(plain, cast, county):
    _add_member(
        plain,
        name="甲",
        relation="之子",
        birth_date=datetime.date(2009, 1, 1),
        school_status="高中二年级",
    )  # 17
    _add_member(
        plain,
        name="乙",
        relation="之女",
        sex="女",
        birth_date=datetime.date(2004, 6, 2),
        school_status="大专及以上",
    )  # 21
    one = _household(cast, county)
    _add_member(
        one,
        name="丙",
        relation="之子",
        birth_date=datetime.date(2009, 1, 1),
        school_status="中职一年级",
    )
    _add_member(
        one,
        name="丁",
        relation="之女",
        sex="女",
        birth_date=datetime.date(2012, 1, 1),
        school_status="八年级",
    )  # compulsory
    older = _household(cast, county)
    for name in ("戊", "己"):
        _add_member(
            older,
            name=name,
            relation="之子",
            birth_date=datetime.date(2003, 5, 31),
            school_status="大专及以上",
        )  # 23 on ON
    assert [_in("students", h) for h in (plain, one, older)] == [True, False, False]


def test_unstable_work_short_months_or_falling_wages(plain, cast, county):
    Member.objects.filter(pk=_members(plain)[0].pk).update(work_status="省外", work_months=4)
    falling = _household(cast, county)
    _income(falling, 2024, wage="30000")
    _income(falling, 2025, wage="20000", production="20000")
    idle = _household(cast, county)
    Member.objects.filter(household=idle).update(work_status="无", work_months=0)
    assert [_in("unstable_work", h) for h in (plain, falling, idle)] == [True, True, False]


def test_hardship_serious_illness_or_a_recent_clue(plain, cast, county):
    Member.objects.filter(pk=_members(plain)[1].pk).update(health="患有大病")
    with_clue = _household(cast, county)
    old_clue = _household(cast, county)
    chronic = _household(cast, county)
    Member.objects.filter(household=chronic).update(health="长期慢性病")
    for household, received in (
        (with_clue, ON - datetime.timedelta(days=30)),
        (old_clue, ON - datetime.timedelta(days=400)),
    ):
        head = _members(household)[0]
        Clue.objects.create(
            channel=Clue.Channel.SELF_DECLARATION,
            region=county.village_a,
            household=household,
            member=head,
            name=head.name,
            id_number=head.id_number,
            risk_type=RiskType.DISASTER,
            received_on=received,
            accepted_on=received,
            verify_due=received,
            decide_due=received,
        )
    assert [_in("hardship", h) for h in (plain, with_clue, old_clue, chronic)] == [
        True,
        True,
        False,
        False,
    ]


def test_vulnerable_disabled_elderly(plain, cast, county):
    _add_member(
        plain,
        name="老人",
        relation="之父",
        birth_date=datetime.date(1950, 1, 1),
        health="患有大病",
        labour_skill="无劳动力",
        work_status="无",
        work_months=0,
    )
    healthy_elder = _household(cast, county)
    _add_member(
        healthy_elder,
        name="老人",
        relation="之父",
        birth_date=datetime.date(1950, 1, 1),
        labour_skill="无劳动力",
        work_status="无",
        work_months=0,
    )
    assert (_in("vulnerable", plain), _in("vulnerable", healthy_elder)) == (True, False)


def test_vulnerable_left_behind_child(plain, cast, county):
    child = {
        "relation": "之子",
        "birth_date": datetime.date(2016, 3, 1),
        "school_status": "小学",
        "labour_skill": "",
        "work_status": "",
        "work_months": 0,
    }
    _add_member(plain, name="小明", **child)
    Member.objects.filter(pk__in=[m.pk for m in _members(plain)[:2]]).update(work_status="省外")
    one_home = _household(cast, county)
    _add_member(one_home, name="小红", **child)
    Member.objects.filter(pk=_members(one_home)[0].pk).update(work_status="省外")
    assert (_in("vulnerable", plain), _in("vulnerable", one_home)) == (True, False)


def test_vulnerable_child_in_difficulty(plain, cast, county):
    _add_member(
        plain,
        name="小明",
        relation="之子",
        birth_date=datetime.date(2016, 3, 1),
        school_status="小学",
        labour_skill="",
        work_status="",
        work_months=0,
        health="残疾",
    )
    assert _in("vulnerable", plain) is True


def test_unresolved_objects_identified_over_a_year_ago_with_labour(plain, cast, county):
    recent = _household(cast, county)
    no_labour = _household(cast, county)
    for household, identified, labour in (
        (plain, datetime.date(2025, 5, 31), False),
        (recent, datetime.date(2025, 6, 1), False),
        (no_labour, datetime.date(2024, 1, 1), True),
    ):
        MonitoringObject.objects.create(
            household=household,
            object_type=ObjectType.MARGINAL,
            state=MonitoringObject.State.MONITORED,
            clue_date=identified,
            identified_on=identified,
            no_labour_capacity=labour,
        )
    assert [_in("unresolved", h) for h in (plain, recent, no_labour)] == [True, False, False]


def test_groups_of_lists_the_chosen_groups_in_order(plain):
    Member.objects.filter(pk=_members(plain)[0].pk).update(
        health="残疾", receives_dibao=True, is_tekun=True
    )
    households = Household.objects.filter(pk=plain.pk)
    assert priority.groups_of(households, groups=PriorityGroup.values, on=ON, line=LINE) == {
        plain.pk: ["tekun", "dibao", "disabled"]
    }
    assert priority.groups_of(households, groups=["disabled"], on=ON, line=LINE) == {
        plain.pk: ["disabled"]
    }
