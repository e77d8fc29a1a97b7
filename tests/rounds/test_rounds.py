"""The round: opening freezes the baseline, villages propose, townships review, the county
approves (events tagged with the round), workbook import all-or-nothing, closing locks."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from openpyxl import Workbook

from households import services
from households.models import CaseWorkflow, Household, HouseholdEvent
from povertyapp.models import VillageYear
from rounds import services as rounds
from rounds.models import AdjustmentRound, RoundBaseline, RoundBaselineGroup, RoundChange
from tests import factories

Status = Household.Status
Kind = RoundChange.Kind


@pytest.fixture
def populations(county):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )


@pytest.fixture
def open_round(cast, county, populations, household_a, household_b):
    return rounds.round_open(actor=cast.county, county=county.county, year=2020)


def _propose(actor, round, household, kind=Kind.REMOVED, **extra):
    values = {"persons": 2, "head_name": "张三", "reason": "购买3万元以上车辆：2019年购车"}
    values.update(extra)
    return rounds.change_propose(actor=actor, round=round, household=household, kind=kind, **values)


def test_opening_freezes_every_household_of_the_county(open_round, household_a, household_b):
    rows = {row.household_id: row for row in RoundBaseline.objects.filter(round=open_round)}
    assert set(rows) == {household_a.pk, household_b.pk}
    assert (rows[household_a.pk].status, rows[household_a.pk].persons) == (Status.POOR, 2)
    assert open_round.villages.count() == 3
    assert open_round.name == "2020年动态调整"


def test_opening_freezes_the_baseline_sums_per_village_status_and_cause(
    open_round, household_a, household_b
):
    """The groups the figures read are the baseline rows summed, written in the same
    transaction."""
    expected: dict[tuple, list[int]] = {}
    for row in RoundBaseline.objects.filter(round=open_round):
        entry = expected.setdefault((row.village_id, row.status, row.main_cause), [0, 0])
        entry[0] += 1
        entry[1] += row.persons
    groups = {
        (group.village_id, group.status, group.main_cause): [group.households, group.persons]
        for group in RoundBaselineGroup.objects.filter(round=open_round)
    }
    assert groups == expected
    assert sum(households for households, _persons in groups.values()) == 2


def test_opening_needs_every_village_population_and_writes_nothing(cast, county, household_a):
    VillageYear.objects.create(
        village=county.village_a, year=2020, registered_rural_population=500, total_households=120
    )
    with pytest.raises(ValidationError) as error:
        rounds.round_open(actor=cast.county, county=county.county, year=2020)
    assert error.value.code == "population_missing"
    assert "龙坪村" in error.value.messages[0] and "西垭村" in error.value.messages[0]
    assert AdjustmentRound.objects.count() == 0
    assert RoundBaseline.objects.count() == 0
    assert RoundBaselineGroup.objects.count() == 0


def test_only_the_county_office_opens_a_round(cast, county, populations):
    with pytest.raises(PermissionDenied):
        rounds.round_open(actor=cast.township, county=county.county, year=2020)
    assert AdjustmentRound.objects.count() == 0


def test_a_second_open_round_is_refused(cast, county, open_round):
    VillageYear.objects.filter(year=2020).update(year=2021)
    with pytest.raises(ValidationError) as error:
        rounds.round_open(actor=cast.county, county=county.county, year=2021)
    assert error.value.code == "round_open"
    assert AdjustmentRound.objects.count() == 1


def test_propose_review_approve_applies_a_removal_tagged_with_the_round(
    cast, open_round, household_a
):
    change = _propose(cast.cadre, open_round, household_a)
    assert change.ground == "购买3万元以上车辆"
    assert change.state == RoundChange.State.PROPOSED
    change = rounds.change_review(actor=cast.township, change=change, approve=True, opinion="属实")
    assert change.state == RoundChange.State.REVIEWED
    change = rounds.change_decide(actor=cast.county, change=change, approve=True)
    assert change.state == RoundChange.State.APPROVED
    household_a.refresh_from_db()
    assert household_a.status == Status.REMOVED
    event = change.event
    assert (event.kind, event.round, event.ground, event.persons) == (
        HouseholdEvent.Kind.REMOVED,
        open_round,
        "购买3万元以上车辆",
        2,
    )
    assert (event.proposed_by, event.approved_by) == (cast.cadre, cast.county)


def test_proposal_lines_are_checked_against_the_registry(cast, open_round, household_a):
    with pytest.raises(ValidationError) as error:
        _propose(
            cast.cadre, open_round, household_a, persons=3, head_name="李某", reason="家里有车"
        )
    messages = error.value.messages
    assert messages[:2] == [
        "户主姓名“李某”与系统中的户主“张三”不一致。",
        "人数3与系统中的在户人数2不一致，请先办理自然增减。",
    ]
    assert messages[2].startswith("剔除理由须以代码表中的一项开头（家庭成员有财政供养人员、")
    assert len(messages) == 3
    with pytest.raises(ValidationError) as error:
        _propose(cast.cadre, open_round, household_a, kind=Kind.RETURNED, reason="因病返贫")
    assert error.value.messages == ["该户当前状态为“未脱贫”，不能列入“返贫”名单。"]
    assert RoundChange.objects.count() == 0


def test_a_cadre_cannot_propose_for_another_village(cast, open_round, household_b):
    with pytest.raises(ValidationError) as error:
        _propose(cast.cadre, open_round, household_b)
    assert error.value.messages == ["户编号不存在，或该户不在您的管辖范围内。"]
    assert RoundChange.objects.count() == 0


def test_review_and_decision_need_the_right_role_and_scope(cast, open_round, household_b):
    change = _propose(cast.cadre2, open_round, household_b)
    with pytest.raises(PermissionDenied):  # T1's reviewer, B is in T2
        rounds.change_review(actor=cast.township, change=change, approve=True)
    with pytest.raises(ValidationError):  # not reviewed yet
        rounds.change_decide(actor=cast.county, change=change, approve=True)
    rounds.change_review(actor=cast.county, change=change, approve=True)
    with pytest.raises(PermissionDenied):
        rounds.change_decide(actor=cast.township, change=change, approve=True)
    change.refresh_from_db()
    assert change.state == RoundChange.State.REVIEWED
    household_b.refresh_from_db()
    assert household_b.status == Status.POOR


def test_returning_needs_an_opinion(cast, open_round, household_a):
    change = _propose(cast.cadre, open_round, household_a)
    with pytest.raises(ValidationError):
        rounds.change_review(actor=cast.township, change=change, approve=False)
    change = rounds.change_review(
        actor=cast.township, change=change, approve=False, opinion="理由不充分"
    )
    assert change.state == RoundChange.State.REJECTED
    # Returned: the village may propose the household again.
    assert _propose(cast.cadre, open_round, household_a).state == RoundChange.State.PROPOSED


def test_household_edits_are_refused_while_the_village_waits_for_the_county(
    cast, open_round, household_a
):
    change = _propose(cast.cadre, open_round, household_a)
    rounds.household_edit_check(household=household_a)  # proposed only: still editable
    rounds.change_review(actor=cast.township, change=change, approve=True)
    with pytest.raises(ValidationError) as error:
        rounds.household_edit_check(household=household_a)
    assert error.value.code == "round_under_approval"
    assert "凤场村的动态调整名单（2020年动态调整）正在县级审定中" in error.value.messages[0]
    rounds.change_decide(actor=cast.county, change=change, approve=False, opinion="退回核实")
    rounds.household_edit_check(household=household_a)


def test_new_inclusion_opens_the_identification_procedure_and_waits_for_it(
    cast, county, open_round
):
    candidate = factories.household(
        actor=cast.county, village=county.village_a, status=Status.NON_REGISTERED
    )
    change = _propose(
        cast.cadre, open_round, candidate, kind=Kind.IDENTIFIED, reason="因病致贫，申请纳入"
    )
    workflow = CaseWorkflow.objects.get(household=candidate)
    assert workflow.kind == "identification" and workflow.round == open_round
    rounds.change_review(actor=cast.township, change=change, approve=True)
    with pytest.raises(ValidationError) as error:
        rounds.change_decide(actor=cast.county, change=change, approve=True)
    assert error.value.code == "workflow_pending"
    assert Household.objects.get(pk=candidate.pk).status == Status.NON_REGISTERED
    # The procedure's last step records the event in the round; approval then links it.
    services.household_change_status(
        actor=cast.county,
        household=candidate,
        kind=HouseholdEvent.Kind.IDENTIFIED,
        to_status=Status.POOR,
        round=open_round,
        reason="公告纳入",
    )
    change = rounds.change_decide(actor=cast.county, change=change, approve=True)
    assert change.event.kind == HouseholdEvent.Kind.IDENTIFIED
    assert HouseholdEvent.objects.filter(household=candidate, kind="identified").count() == 1


def test_closing_is_refused_while_changes_wait_then_locks_the_round(cast, open_round, household_a):
    change = _propose(cast.cadre, open_round, household_a)
    with pytest.raises(ValidationError) as error:
        rounds.round_close(actor=cast.county, round=open_round)
    assert error.value.messages == ["尚有1条名单待乡镇审核、0条待县级审定，请处理后再关闭批次。"]
    rounds.change_withdraw(actor=cast.cadre, change=change)
    closed = rounds.round_close(actor=cast.county, round=open_round)
    assert (closed.status, closed.closed_by) == (AdjustmentRound.Status.CLOSED, cast.county)
    with pytest.raises(ValidationError) as error:
        _propose(cast.cadre, closed, household_a)
    assert error.value.code == "round_closed"


def test_list_counts_per_village_and_township(cast, county, open_round, household_a, household_b):
    first = _propose(cast.cadre, open_round, household_a)
    rounds.change_review(actor=cast.township, change=first, approve=True)
    rounds.change_decide(actor=cast.county, change=first, approve=True)
    _propose(cast.cadre2, open_round, household_b)
    counts = rounds.list_counts(user=cast.county, round=open_round)
    assert counts["total"]["removed"] == {
        "households": 1,
        "persons": 2,
        "pending_households": 1,
        "pending_persons": 2,
    }
    assert [(t["name"], t["lists"]["removed"]["households"]) for t in counts["townships"]] == [
        ("新州镇", 1),
        ("旧州镇", 0),
    ]
    own = rounds.list_counts(user=cast.cadre, round=open_round)
    assert [village["name"] for village in own["villages"]] == ["凤场村"]


def test_change_outside_scope_is_not_found(cast, open_round, household_b):
    change = _propose(cast.cadre2, open_round, household_b)
    with pytest.raises(Http404):
        rounds.change_get_for_user(user=cast.cadre, change_id=change.pk)


# --- the workbook -----------------------------------------------------------------------------


def _workbook(sheets: dict[str, list[list]]) -> io.BytesIO:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append(["户编号", "户主姓名", "人数", "理由"])
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_workbook_import_creates_every_line(cast, county, open_round, household_a):
    exited = factories.household(actor=cast.county, village=county.village_a, status=Status.EXITED)
    file = _workbook(
        {
            "剔除": [[household_a.number, "张三", 2, "家庭成员为村干部：村会计"]],
            "返贫": [[exited.number, "张三", 2, "因病返贫"]],
        }
    )
    created = rounds.changes_import(actor=cast.cadre, round=open_round, file=file)
    assert sorted((c.kind, c.household_id, c.source) for c in created) == sorted(
        [(Kind.REMOVED, household_a.pk, "import"), (Kind.RETURNED, exited.pk, "import")]
    )


def test_workbook_import_is_one_audit_row_and_a_refused_one_none(
    cast, county, open_round, household_a
):
    from povertyapp.models import AccessLog

    file = _workbook({"剔除": [[household_a.number, "张三", 2, "家庭成员为村干部：村会计"]]})
    rounds.changes_import(actor=cast.cadre, round=open_round, file=file)
    log = AccessLog.objects.get(action="import")
    assert (log.user, log.role, log.target, log.object_id, log.outcome) == (
        cast.cadre,
        cast.cadre.role,
        "rounds.changes",
        str(open_round.pk),
        "ok",
    )
    assert log.detail == {"rows": 1, "via": "inline"}
    with pytest.raises(ValidationError):
        rounds.changes_import(
            actor=cast.cadre, round=open_round, file=_workbook({"剔除": [["", "", "", "x"]]})
        )
    assert AccessLog.objects.filter(action="import").count() == 1


def test_workbook_with_one_bad_row_saves_nothing_and_names_each_row(
    cast, open_round, household_a, household_b
):
    file = _workbook(
        {
            "剔除": [
                [household_a.number, "张三", 2, "家庭成员为村干部"],
                [household_b.number, "张三", 2, "空挂户"],
                ["", "", "", "缺户编号"],
            ],
            "返贫": [[household_a.number, "张三", "两", "因病"]],
            "其他": [],
        }
    )
    with pytest.raises(ValidationError) as error:
        rounds.changes_import(actor=cast.cadre, round=open_round, file=file)
    assert error.value.messages == [
        f"“剔除”第3行（{household_b.number}）：户编号不存在，或该户不在您的管辖范围内。",
        "“剔除”第4行：请填写户编号。",
        f"“返贫”第2行：户编号{household_a.number}在“剔除”第2行已出现。",
        "工作表“其他”不是四类名单之一（应为：新识别纳入、剔除、返贫、标注脱贫）。",
    ]
    assert RoundChange.objects.count() == 0


def test_a_file_that_is_not_a_workbook_is_refused(cast, open_round):
    with pytest.raises(ValidationError) as error:
        rounds.changes_import(actor=cast.cadre, round=open_round, file=io.BytesIO(b"not xlsx"))
    # Refused by the upload guard (povertyapp/uploads.py) before openpyxl sees it.
    assert error.value.code == "not_xlsx"
    assert error.value.messages == [
        "文件不是Excel工作簿（.xlsx）。请在Excel或WPS中“另存为”xlsx格式后再上传。"
    ]


def test_template_has_one_sheet_per_list():
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(rounds.changes_template()))
    assert workbook.sheetnames == ["新识别纳入", "剔除", "返贫", "标注脱贫"]
    assert [cell.value for cell in workbook["剔除"][1]] == ["户编号", "户主姓名", "人数", "理由"]


# --- the pages --------------------------------------------------------------------------------


def test_round_page_shows_the_lists_and_the_cadre_can_upload(
    cast, client_for, open_round, household_a
):
    _propose(cast.cadre, open_round, household_a)
    response = client_for(cast.cadre).get(f"/rounds/{open_round.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert household_a.number in text
    assert "上传四类名单" in text


def test_township_reviews_through_the_page(cast, client_for, open_round, household_a):
    change = _propose(cast.cadre, open_round, household_a)
    response = client_for(cast.township).post(
        f"/rounds/changes/{change.pk}/", {"action": "review_pass", "opinion": "属实"}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == RoundChange.State.REVIEWED


def test_cadre_cannot_review_through_the_page(cast, client_for, open_round, household_a):
    change = _propose(cast.cadre, open_round, household_a)
    response = client_for(cast.cadre).post(
        f"/rounds/changes/{change.pk}/", {"action": "review_pass"}
    )
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.state == RoundChange.State.PROPOSED
