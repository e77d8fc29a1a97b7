"""自然增减 and 信息更正 in the round: proposed by the village, reviewed by the township, approved
by the county, applied through the registry services as events tagged with the round; member
changes made on the household pages while a round is open are tagged with it automatically."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from households import services
from households.models import HouseholdEvent, Member
from povertyapp.crypto import decrypt
from povertyapp.models import VillageYear
from rounds import figures
from rounds import services as rounds
from rounds.models import RoundChange
from tests import factories

Kind = RoundChange.Kind
Event = HouseholdEvent.Kind
BABY_BIRTH = datetime.date(2020, 3, 1)


@pytest.fixture
def open_round(cast, county, household_a, household_b):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    return rounds.round_open(actor=cast.county, county=county.county, year=2020)


def _approve(cast, change):
    rounds.change_review(actor=cast.township, change=change, approve=True, opinion="属实")
    return rounds.change_decide(actor=cast.county, change=change, approve=True)


def _birth(cast, round, household, **extra):
    values = {
        "number": household.number,
        "action": rounds.JOIN,
        "reason": "出生",
        "effective_date": BABY_BIRTH.isoformat(),
        "data": {
            "name": "张小明",
            "id_number": factories.id_number(BABY_BIRTH, "男"),
            "relation": "之子",
        },
    }
    values.update(extra)
    return rounds.natural_change_propose(actor=cast.cadre, round=round, **values)


def test_a_birth_is_proposed_reviewed_approved_and_applied_in_the_round(
    cast, open_round, household_a
):
    change = _birth(cast, open_round, household_a)
    assert (change.kind, change.state, change.persons) == (Kind.NATURAL, "proposed", 1)
    # The proposal writes nothing to the registry.
    assert household_a.members.filter(is_active=True).count() == 2
    assert not HouseholdEvent.objects.filter(round=open_round).exists()
    change = _approve(cast, change)
    assert change.state == RoundChange.State.APPROVED
    baby = household_a.members.get(name="张小明")
    assert (baby.is_active, baby.birth_date, baby.sex, baby.joined_on) == (
        True,
        BABY_BIRTH,
        "男",
        BABY_BIRTH,
    )
    event = change.event
    assert (event.kind, event.round, event.member, event.persons) == (
        Event.MEMBER_JOINED,
        open_round,
        baby,
        3,
    )
    assert (event.proposed_by, event.approved_by) == (cast.cadre, cast.county)
    assert baby.history.first().history_user == cast.county


def test_a_death_is_applied_as_a_leave_tagged_with_the_round(cast, open_round, household_a):
    spouse = household_a.members.get(relation="配偶")
    change = rounds.natural_change_propose(
        actor=cast.cadre,
        round=open_round,
        number=household_a.number,
        action=rounds.LEAVE,
        member=spouse.id_number,
        reason="死亡",
        effective_date="2020-02-02",
        note="2020年2月2日病故",
    )
    assert change.member == spouse
    change = _approve(cast, change)
    spouse.refresh_from_db()
    assert (spouse.is_active, spouse.left_reason, spouse.left_on, spouse.living_status) == (
        False,
        "死亡",
        datetime.date(2020, 2, 2),
        "死亡",
    )
    assert (change.event.kind, change.event.round, change.event.persons) == (
        Event.MEMBER_LEFT,
        open_round,
        1,
    )
    assert change.event.reason == "死亡 2020年2月2日病故"


def test_invalid_natural_changes_are_refused_in_chinese_and_write_nothing(
    cast, open_round, household_a, household_b
):
    head = household_a.members.get(relation="户主")
    cases = [
        (
            {"action": rounds.LEAVE, "member": head.name, "reason": "死亡"},
            "户主减员前，请先将另一名成员设为户主。",
        ),
        (
            {"action": rounds.LEAVE, "member": "王五", "reason": "死亡"},
            "该户没有在户成员“王五”（请填写证件号码，或户内唯一的姓名）。",
        ),
        ({"action": rounds.LEAVE, "member": head.name, "reason": "出生"}, "请选择减员原因"),
        ({"reason": "捡到"}, "请选择增员原因"),
        ({"effective_date": "2099-01-01"}, "增员日期不能晚于今天。"),
        (
            {"data": {"name": "张小明", "id_number": "522622202003010000", "relation": "之子"}},
            "证件号码：",
        ),
        (
            {
                "data": {
                    "name": "张小红",
                    "id_number": factories.id_number(BABY_BIRTH, "女"),
                    "relation": "之子",
                }
            },
            "与户主关系“之子”与性别不符。",
        ),
    ]
    for extra, expected in cases:
        with pytest.raises(ValidationError) as error:
            _birth(cast, open_round, household_a, **extra)
        assert any(expected in message for message in error.value.messages), (
            extra,
            error.value.messages,
        )
    with pytest.raises(ValidationError) as error:
        _birth(cast, open_round, household_b)
    assert error.value.messages == ["户编号不存在，或该户不在您的管辖范围内。"]
    assert RoundChange.objects.count() == 0
    assert household_a.members.count() == 2
    assert not HouseholdEvent.objects.filter(round=open_round).exists()


def test_an_identity_number_correction_is_applied_with_its_event(cast, open_round, household_a):
    spouse = household_a.members.get(relation="配偶")
    corrected = factories.id_number(spouse.birth_date, "女")
    change = rounds.correction_propose(
        actor=cast.cadre,
        round=open_round,
        number=household_a.number,
        member="李四",
        field="id_number",
        value=corrected,
        reason="录入时末四位错误，以户口簿为准",
    )
    # The numbers are kept encrypted in the line's details (issue 14).
    assert corrected not in str(change.details) and spouse.id_number not in str(change.details)
    assert {
        **change.details,
        "old": decrypt(change.details["old"]),
        "new": decrypt(change.details["new"]),
    } == {
        "target": "member",
        "field": "id_number",
        "old": spouse.id_number,
        "new": corrected,
    }
    # The township reviewer sees the numbers masked.
    summary = rounds.change_summary(change, cast.auditor)
    assert corrected not in summary and corrected[-4:] in summary
    spouse.refresh_from_db()
    assert spouse.id_number != corrected
    change = _approve(cast, change)
    spouse.refresh_from_db()
    assert spouse.id_number == corrected
    assert (change.event.kind, change.event.round, change.event.member) == (
        Event.CORRECTED,
        open_round,
        spouse,
    )


def test_a_household_field_correction_and_its_refusals(cast, open_round, household_a):
    change = rounds.correction_propose(
        actor=cast.cadre,
        round=open_round,
        number=household_a.number,
        field="main_cause",
        value="因病",
        reason="致贫原因认定有误",
    )
    assert change.persons == 0
    with pytest.raises(ValidationError) as error:
        rounds.correction_propose(
            actor=cast.cadre,
            round=open_round,
            number=household_a.number,
            field="main_cause",
            value="因学",
            reason="又改",
        )
    assert error.value.messages == ["该项信息在本批次已有待审核的更正。"]
    for field, value, expected in [
        ("poverty_attribute", "超级贫困户", "“超级贫困户”不在"),
        ("bank_account", "1", "不是可更正的户信息"),
        ("phone", "", "更正后的值与系统中的现值相同。"),
    ]:
        with pytest.raises(ValidationError) as error:
            rounds.correction_propose(
                actor=cast.cadre,
                round=open_round,
                number=household_a.number,
                field=field,
                value=value,
                reason="更正",
            )
        assert any(expected in message for message in error.value.messages), error.value.messages
    assert RoundChange.objects.count() == 1
    _approve(cast, change)
    household_a.refresh_from_db()
    assert household_a.main_cause == "因病"


def test_approval_is_refused_when_the_registry_changed_and_nothing_is_written(
    cast, open_round, household_a
):
    spouse = household_a.members.get(relation="配偶")
    change = rounds.natural_change_propose(
        actor=cast.cadre,
        round=open_round,
        number=household_a.number,
        action=rounds.LEAVE,
        member=spouse.name,
        reason="婚出",
        effective_date="2020-02-02",
    )
    # Meanwhile the village records the same departure on the member page.
    services.member_remove(actor=cast.cadre, member=spouse, reason="婚出")
    rounds.change_review(actor=cast.township, change=change, approve=True)
    with pytest.raises(ValidationError) as error:
        rounds.change_decide(actor=cast.county, change=change, approve=True)
    assert error.value.messages == ["该成员已减员。"]
    change.refresh_from_db()
    assert (change.state, change.event) == (RoundChange.State.REVIEWED, None)
    assert HouseholdEvent.objects.filter(round=open_round, kind=Event.MEMBER_LEFT).count() == 1


def test_member_pages_during_an_open_round_tag_the_round(cast, open_round, household_a):
    baby = services.member_add(
        actor=cast.cadre,
        household=household_a,
        data=factories.member_data(name="张小花", relation="之女", sex="女", birth_date=BABY_BIRTH),
        reason="出生",
    )
    joined = HouseholdEvent.objects.get(member=baby, kind=Event.MEMBER_JOINED)
    assert joined.round == open_round and joined.approved_by is None
    services.member_remove(actor=cast.cadre, member=baby, reason="死亡")
    left = HouseholdEvent.objects.get(member=baby, kind=Event.MEMBER_LEFT)
    assert left.round == open_round
    counts = rounds.natural_change_counts(user=cast.county, round=open_round)
    assert counts["total"] == {"joined": 1, "left": 1, "households": 1, "via_list": 0}
    assert counts["townships"][0]["name"] == "新州镇"
    # After closing, changes no longer belong to the round.
    rounds.round_close(actor=cast.county, round=open_round)
    other = services.member_add(
        actor=cast.cadre,
        household=household_a,
        data=factories.member_data(name="张小军", relation="之子", birth_date=BABY_BIRTH),
        reason="出生",
    )
    assert HouseholdEvent.objects.get(member=other).round is None


def test_natural_change_moves_the_incidence_after_the_round(cast, open_round, household_a):
    before = figures.round_counts(round=open_round, region=household_a.village)
    _approve(cast, _birth(cast, open_round, household_a))
    after = figures.round_counts(round=open_round, region=household_a.village)
    assert before.poor_persons + 1 == after.poor_persons
    assert after.poor_persons_baseline == before.poor_persons_baseline


def test_list_counts_have_the_natural_and_correction_lists(cast, open_round, household_a):
    _approve(cast, _birth(cast, open_round, household_a))
    rounds.natural_change_propose(
        actor=cast.cadre,
        round=open_round,
        number=household_a.number,
        action=rounds.LEAVE,
        member="李四",
        reason="婚出",
        effective_date="2020-02-02",
    )
    rounds.correction_propose(
        actor=cast.cadre,
        round=open_round,
        number=household_a.number,
        member="张小明",
        field="name",
        value="张晓明",
        reason="户口簿为“晓”",
    )
    total = rounds.list_counts(user=cast.county, round=open_round)["total"]
    assert total["natural"] == {
        "households": 1,
        "persons": 1,
        "pending_households": 1,
        "pending_persons": 1,
    }
    assert total["corrected"]["pending_households"] == 1
    assert total["corrected"]["pending_persons"] == 1
    counts = rounds.natural_change_counts(user=cast.county, round=open_round)
    assert counts["total"]["via_list"] == 1


def test_the_round_page_takes_natural_change_and_correction_proposals(
    cast, client_for, open_round, household_a
):
    client = client_for(cast.cadre)
    page = client.get(f"/rounds/{open_round.pk}/").content.decode()
    assert "提出自然增减" in page and "提出信息更正" in page
    response = client.post(
        f"/rounds/{open_round.pk}/propose/natural/",
        {
            "action": "join",
            "number": household_a.number,
            "effective_date": "2020-03-01",
            "reason": "婚入",
            "name": "王芳",
            "id_number": factories.id_number(datetime.date(1995, 1, 2), "女"),
            "relation": "之儿媳",
        },
        follow=True,
    )
    assert "已提出自然增减" in response.content.decode(), [
        str(m) for m in response.context["messages"]
    ]
    change = RoundChange.objects.get(kind=Kind.NATURAL)
    assert change.details["member"]["name"] == "王芳"
    response = client.post(
        f"/rounds/{open_round.pk}/propose/correction/",
        {"number": household_a.number, "field": "main_cause", "value": "", "reason": ""},
        follow=True,
    )
    text = response.content.decode()
    assert "请填写理由。" in text
    assert RoundChange.objects.count() == 1
    page = client_for(cast.township).get(f"/rounds/{open_round.pk}/").content.decode()
    assert "增员：王芳（之儿媳" in page
    # The county approves on the page; the new member is in the household.
    client_for(cast.township).post(f"/rounds/changes/{change.pk}/", {"action": "review_pass"})
    client_for(cast.county).post(f"/rounds/changes/{change.pk}/", {"action": "approve"})
    assert Member.objects.filter(household=household_a, name="王芳", is_active=True).exists()


def test_the_demo_round_has_member_lines_waiting(db, settings, tmp_path):
    from households import demo
    from rounds import demo as demo_rounds

    settings.MEDIA_ROOT = tmp_path
    result = demo.build_registry(households=600, seed=2020)
    demo_rounds.build(result=result, seed=2020)
    kinds = set(
        RoundChange.objects.filter(
            round__status="open", kind__in=[Kind.NATURAL, Kind.CORRECTED]
        ).values_list("kind", "state")
    )
    assert kinds == {(Kind.NATURAL, "proposed"), (Kind.CORRECTED, "proposed")}


def test_the_round_ledger_says_what_a_natural_change_line_changes(
    tmp_path, cast, open_round, household_a
):
    import openpyxl

    from povertyapp.ledgers.services import ledger_write

    change = _birth(cast, open_round, household_a)
    baby_id = decrypt(change.details["member"]["id_number"])

    def reason_cells(user):
        path = str(tmp_path / f"{user.username}.xlsx")
        ledger_write(user=user, key="round_lists", filters={}, path=path)
        sheet = openpyxl.load_workbook(path).worksheets[0]
        headers = {c.value: c.column for row in sheet.iter_rows(min_row=3, max_row=4) for c in row}
        return [sheet.cell(5, headers[name]).value for name in ("名单", "理由")]

    kind, reason = reason_cells(cast.county)
    assert kind == "自然增减"
    assert reason.startswith("增员：张小明（之子，") and "出生" in reason
    assert reason.count("出生") == 1  # the line's own 理由 is not repeated
    assert baby_id in reason  # the county may see full ID numbers
    _kind, masked = reason_cells(cast.auditor)
    assert baby_id not in masked and "张小明" in masked
