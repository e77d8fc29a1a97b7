"""The registry services: validation before writing, identity rules, conflicts, events, history."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from households import services
from households.models import Household, HouseholdEvent, Member
from tests import factories
from tests.project import app_today

pytestmark = pytest.mark.django_db


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return {
        key: [str(m) for e in errors for m in e.messages]
        for key, errors in error.error_dict.items()
    }


def _create(cast, village, members, **data):
    return services.household_create(
        actor=cast.cadre, data={"village": village, **data}, members=members
    )


def test_cadre_creates_household_in_own_village_as_non_registered(cast, county):
    household = _create(cast, county.village_a, [factories.member_data()])
    assert household.status == Household.Status.NON_REGISTERED
    assert household.number == f"{county.village_a.code}0001"
    event = household.events.get()
    assert (event.kind, event.to_status, event.persons, event.created_by) == (
        "registered",
        "non_registered",
        1,
        cast.cadre,
    )


def test_invalid_checksum_is_refused_in_chinese_and_nothing_written(cast, county):
    data = factories.member_data()
    data["id_number"] = data["id_number"][:-1] + ("0" if data["id_number"][-1] != "0" else "1")
    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, [data])
    assert _messages(raised.value)["members.0.id_number"] == [
        "身份证号码校验位错误，请核对每一位数字。"
    ]
    assert Household.objects.count() == 0
    assert Member.objects.count() == 0


def test_impossible_birth_date_in_id_is_refused(cast, county):
    body = "52262219800230123"  # 30 February
    from stdnum.cn import ric

    data = factories.member_data(
        id_number=body + ric.calc_check_digit(body + "0"), birth_date=None, sex=""
    )
    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, [data])
    assert _messages(raised.value)["members.0.id_number"] == [
        "身份证号码中的出生日期（第7–14位）不是有效日期。"
    ]
    assert Household.objects.count() == 0


def test_birth_date_disagreeing_with_id_is_refused(cast, county):
    data = factories.member_data(birth_date=datetime.date(1980, 5, 17))
    data["birth_date"] = datetime.date(1981, 5, 17)
    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, [data])
    assert _messages(raised.value)["members.0.birth_date"] == [
        "出生日期与身份证号码不一致（身份证为1980-05-17）。"
    ]
    assert Household.objects.count() == 0


def test_sex_disagreeing_with_id_is_refused(cast, county):
    data = factories.member_data(sex="男")
    data["sex"] = "女"
    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, [data])
    assert _messages(raised.value)["members.0.sex"] == [
        "性别与身份证号码不一致（身份证第17位表示男）。"
    ]
    assert Household.objects.count() == 0


def test_id_active_in_another_household_is_refused_naming_it_masked(cast, county, household_b):
    taken = household_b.members.get(relation="户主").id_number
    data = factories.member_data(id_number=taken)
    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, [data])
    message = _messages(raised.value)["members.0.id_number"][0]
    assert message == (
        f"身份证号码{taken[:3]}{'*' * 11}{taken[-4:]}"
        f"已是西垭村户编号{household_b.number}的在户成员，"
        "一人只能是一户的在户成员。请先办理原户减员或成员迁移。"
    )
    assert taken not in message
    assert Household.objects.count() == 1


def test_birth_date_and_sex_are_filled_from_the_id(cast, county):
    number = factories.id_number(datetime.date(1975, 12, 1), "女")
    household = _create(
        cast,
        county.village_a,
        [factories.member_data(id_number=number, birth_date=None, sex="", name="王芳")],
    )
    member = household.members.get()
    assert (member.birth_date, member.sex) == (datetime.date(1975, 12, 1), "女")


def test_fifteen_digit_id_is_upgraded(cast, county):
    from stdnum.cn import ric

    household = _create(
        cast,
        county.village_a,
        [factories.member_data(id_number="522622800517123", birth_date=None, sex="")],
    )
    member = household.members.get()
    body = "52262219800517123"
    assert member.id_number == body + ric.calc_check_digit(body + "0")
    assert member.birth_date == datetime.date(1980, 5, 17)


@pytest.mark.parametrize(
    ("members", "key", "message"),
    [
        ([], "members", "一户至少要有一名成员。"),
        ([{"relation": "配偶", "sex": "女"}], "members", "请指定一名户主。"),
        (
            [{}, {"name": "二", "relation": "户主", "birth_date": datetime.date(1985, 1, 1)}],
            "members.1.relation",
            "一户只能有一名户主。",
        ),
        (
            # A function, called when the test runs: the app's today, not the import's.
            [{"birth_date": lambda: app_today().replace(year=app_today().year - 3)}],
            "members.0.relation",
            None,
        ),
        ([{"work_months": 13}], "members.0.work_months", "务工时间应在0到12个月之间。"),
        ([{"relation": "之子", "sex": "女"}], "members.0.relation", None),
        ([{"education": "博士"}], "members.0.education", "“博士”不在文化程度代码表中。"),
    ],
    ids=[
        "no-members",
        "no-head",
        "second-head",
        "head-aged-3",
        "work-months",
        "relation-sex",
        "unknown-label",
    ],
)
def test_member_rules_refuse_and_write_nothing(cast, county, members, key, message):
    rows = []
    for override in members:
        sex = override.get("sex", "男")
        birth = override.get("birth_date", datetime.date(1980, 5, 17))
        birth = birth() if callable(birth) else birth
        rows.append(
            factories.member_data(
                **{
                    **override,
                    "sex": sex,
                    "birth_date": birth,
                    "id_number": factories.id_number(birth, sex),
                }
            )
        )
    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, rows)
    messages = _messages(raised.value)
    assert key in messages
    if message:
        assert message in messages[key]
    assert Household.objects.count() == 0 and Member.objects.count() == 0


def test_other_cause_repeating_main_cause_is_refused(cast, county):
    with pytest.raises(ValidationError) as raised:
        services.household_create(
            actor=cast.county,
            data={"village": county.village_a, "main_cause": "因病", "other_cause_1": "因病"},
            members=[factories.member_data()],
            status=Household.Status.POOR,
        )
    assert _messages(raised.value)["other_cause_1"] == ["其他致贫原因不能与主要致贫原因重复。"]


def test_registered_household_requires_main_cause(cast, county):
    with pytest.raises(ValidationError) as raised:
        services.household_create(
            actor=cast.county,
            data={"village": county.village_a},
            members=[factories.member_data()],
            status="poor",
        )
    assert _messages(raised.value)["main_cause"] == ["建档立卡户必须填写主要致贫原因。"]


def test_cadre_cannot_register_directly_as_poor(cast, county):
    with pytest.raises(ValidationError) as raised:
        services.household_create(
            actor=cast.cadre,
            data={"village": county.village_a, "main_cause": "因病"},
            members=[factories.member_data()],
            status="poor",
        )
    assert raised.value.code == "status_requires_county"
    assert Household.objects.count() == 0


def test_negative_land_area_is_refused(cast, county):
    from decimal import Decimal

    with pytest.raises(ValidationError) as raised:
        _create(cast, county.village_a, [factories.member_data()], cultivated_land=Decimal("-1"))
    assert "cultivated_land" in _messages(raised.value)
    assert Household.objects.count() == 0


def test_update_with_stale_version_is_a_conflict_naming_the_change(cast, household_a):
    services.household_update(
        actor=cast.cadre, household=household_a, data={"phone": "13911112222"}, expected_version=1
    )
    with pytest.raises(services.ConflictError) as raised:
        services.household_update(
            actor=cast.county,
            household=household_a,
            data={"phone": "13933334444"},
            expected_version=1,
        )
    assert [c["label"] for c in raised.value.changes] == ["联系电话"]
    assert raised.value.changes[0]["new"] == "13911112222"
    household_a.refresh_from_db()
    assert (household_a.phone, household_a.version) == ("13911112222", 2)


def test_history_records_before_after_and_actor(cast, household_a):
    services.household_update(
        actor=cast.cadre, household=household_a, data={"phone": "13911112222"}, expected_version=1
    )
    latest, previous = household_a.history.order_by("-history_id")[:2]
    delta = latest.diff_against(previous)
    changes = {c.field: (c.old, c.new) for c in delta.changes}
    assert changes["phone"] == ("", "13911112222")
    assert latest.history_user == cast.cadre


def test_member_remove_keeps_the_record_and_writes_an_event(cast, household_a):
    spouse = household_a.members.get(relation="配偶")
    services.member_remove(
        actor=cast.cadre, member=spouse, reason="死亡", effective_date=datetime.date(2020, 1, 5)
    )
    spouse.refresh_from_db()
    assert (spouse.is_active, spouse.left_reason, spouse.living_status) == (False, "死亡", "死亡")
    event = household_a.events.get(kind=HouseholdEvent.Kind.MEMBER_LEFT)
    assert (event.member, event.persons, event.created_by) == (spouse, 1, cast.cadre)


def test_member_remove_requires_a_listed_reason(cast, household_a):
    spouse = household_a.members.get(relation="配偶")
    with pytest.raises(ValidationError):
        services.member_remove(actor=cast.cadre, member=spouse, reason="随便")
    spouse.refresh_from_db()
    assert spouse.is_active is True


def test_member_move_frees_the_id_and_joins_the_target(cast, county, household_a):
    target = factories.household(actor=cast.county, village=county.village_a)
    spouse = household_a.members.get(relation="配偶")
    joined = services.member_move(
        actor=cast.cadre, member=spouse, to_household=target, relation="其他", reason="婚嫁"
    )
    spouse.refresh_from_db()
    assert spouse.is_active is False and spouse.left_reason == "迁出"
    assert joined.household == target and joined.id_number == spouse.id_number
    assert household_a.events.filter(kind="member_moved").count() == 1
    assert target.events.filter(kind="member_joined").count() == 1


def test_status_change_writes_event_with_round_and_actors(cast, household_a):
    from django.utils import timezone

    from rounds.models import AdjustmentRound

    round_ = AdjustmentRound.objects.create(
        county=household_a.village.parent.parent,
        year=2019,
        name="2019年动态调整",
        opened_at=timezone.now(),
        opened_by=cast.county,
    )
    services.household_change_status(
        actor=cast.county,
        household=household_a,
        kind="removed",
        to_status="removed",
        ground="购买3万元以上车辆",
        reason="核实购车",
        round=round_,
        proposed_by=cast.cadre,
        approved_by=cast.county,
    )
    event = household_a.events.get(kind="removed")
    assert (
        event.from_status,
        event.to_status,
        event.round,
        event.ground,
        event.proposed_by,
        event.approved_by,
        event.persons,
    ) == ("poor", "removed", round_, "购买3万元以上车辆", cast.cadre, cast.county, 2)


def test_closed_round_refuses_status_changes(cast, household_a):
    from django.utils import timezone

    from rounds.models import AdjustmentRound

    round_ = AdjustmentRound.objects.create(
        county=household_a.village.parent.parent,
        year=2018,
        name="2018",
        status="closed",
        opened_at=timezone.now(),
    )
    with pytest.raises(ValidationError) as raised:
        services.household_change_status(
            actor=cast.county,
            household=household_a,
            kind="exited",
            to_status="exited",
            round=round_,
        )
    assert raised.value.code == "round_closed"
    household_a.refresh_from_db()
    assert household_a.status == "poor"
