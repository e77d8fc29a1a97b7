"""Exclusion scrutiny: the village's check, the township's review of cadres' relatives, and the
剔除 proposal through the rounds app, which never changes a household's status by itself."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from households.models import Household
from monitoring import lists, scrutiny
from monitoring.models import CadreRelation, ScrutinyTask
from povertyapp.conflicts import ConflictError
from povertyapp.models import User, VillageYear
from rounds import services as rounds
from rounds.models import RoundChange
from tests.monitoring.test_lists_support import department_user, upload, workbook_bytes


def _ids(household):
    return [m.id_number for m in household.members.filter(is_active=True).order_by("id")]


@pytest.fixture
def tasks(cast, county, household_a, household_b):
    """A 车辆 list matching household A (a cadre's relative) and household B."""
    CadreRelation.objects.create(
        member=household_a.members.order_by("id").first(),
        cadre_name="王主任",
        cadre_post="village_cadre",
        relation="兄弟",
    )
    gongan = department_user("gongan", User.Department.PUBLIC_SECURITY, county.county)
    rows = [
        ["姓名", "证件号码", "号牌号码", "车辆价值"],
        ["张三", _ids(household_a)[0], "贵H1", 120000],
        ["张三", _ids(household_b)[0], "贵H2", 80000],
    ]
    pushed = lists.list_upload(
        actor=gongan,
        layout_key="vehicles",
        period="2026",
        file=upload(workbook_bytes(rows)),
        filename="车辆.xlsx",
    )
    found = {task.household_id: task for task in pushed.scrutiny_tasks.all()}
    return found[household_a.pk], found[household_b.pk]


def test_tasks_are_scoped_to_the_villages(cast, tasks):
    relative, plain = tasks
    assert list(scrutiny.task_list(user=cast.cadre)) == [relative]
    assert list(scrutiny.task_list(user=cast.cadre2)) == [plain]
    assert set(scrutiny.task_list(user=cast.county)) == {relative, plain}
    assert list(scrutiny.task_list(user=cast.helper)) == []
    with pytest.raises(Http404):
        scrutiny.task_get_for_user(user=cast.cadre, task_id=plain.pk)


def test_plain_task_confirmed_at_once_and_needs_a_finding(cast, tasks):
    _relative, plain = tasks
    with pytest.raises(ValidationError) as refused:
        scrutiny.task_check(
            actor=cast.cadre2, task=plain, result="confirmed", finding="", version=plain.version
        )
    assert "finding" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        scrutiny.task_check(
            actor=cast.cadre, task=plain, result="cleared", finding="", version=plain.version
        )
    done = scrutiny.task_check(
        actor=cast.cadre2, task=plain, result="confirmed", finding="家有轿车", version=1
    )
    assert done.state == ScrutinyTask.State.CONFIRMED and done.checked_by == cast.cadre2
    with pytest.raises(ConflictError):
        scrutiny.task_check(actor=cast.cadre2, task=plain, result="cleared", finding="", version=1)


def test_relative_waits_for_the_township(cast, tasks):
    relative, _plain = tasks
    assert relative.cadre_relative
    checked = scrutiny.task_check(
        actor=cast.cadre, task=relative, result="cleared", finding="车已过户", version=1
    )
    assert checked.state == ScrutinyTask.State.TOWNSHIP_REVIEW
    with pytest.raises(PermissionDenied):
        scrutiny.task_review(
            actor=cast.cadre, task=checked, agree=True, opinion="", version=checked.version
        )
    with pytest.raises(ValidationError):
        scrutiny.task_review(
            actor=cast.township, task=checked, agree=False, opinion="", version=checked.version
        )
    back = scrutiny.task_review(
        actor=cast.township, task=checked, agree=False, opinion="请核实过户凭证", version=2
    )
    assert back.state == ScrutinyTask.State.OPEN and "请核实过户凭证" in back.finding
    again = scrutiny.task_check(
        actor=cast.cadre, task=back, result="confirmed", finding="未过户", version=back.version
    )
    final = scrutiny.task_review(
        actor=cast.township, task=again, agree=True, opinion="", version=again.version
    )
    assert final.state == ScrutinyTask.State.CONFIRMED and final.reviewed_by == cast.township


def test_confirmed_task_feeds_a_removal_proposal_without_changing_status(
    cast, county, tasks, household_b
):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    _relative, plain = tasks
    done = scrutiny.task_check(
        actor=cast.cadre2, task=plain, result="confirmed", finding="家有轿车", version=1
    )
    with pytest.raises(ValidationError) as no_round:
        scrutiny.task_propose_removal(
            actor=cast.cadre2, task=done, ground="购买3万元以上车辆", version=done.version
        )
    assert no_round.value.code == "no_open_round"
    rounds.round_open(actor=cast.county, county=county.county, year=2020)
    proposed = scrutiny.task_propose_removal(
        actor=cast.cadre2, task=done, ground="购买3万元以上车辆", version=done.version
    )
    change = proposed.round_change
    assert change is not None and change.kind == RoundChange.Kind.REMOVED
    assert change.household == household_b and change.reason.startswith("购买3万元以上车辆")
    assert change.state in RoundChange.PENDING_STATES
    household_b.refresh_from_db()
    assert household_b.status == Household.Status.POOR  # only the round's decision changes it
    with pytest.raises(ValidationError):
        scrutiny.task_propose_removal(
            actor=cast.cadre2, task=proposed, ground="购买3万元以上车辆", version=proposed.version
        )


def test_unconfirmed_task_cannot_feed_a_proposal(cast, tasks):
    _relative, plain = tasks
    with pytest.raises(ValidationError) as refused:
        scrutiny.task_propose_removal(
            actor=cast.cadre2, task=plain, ground="购买3万元以上车辆", version=1
        )
    assert refused.value.code == "not_confirmed"


def test_cadre_relation_recorded_in_scope_only(cast, county, household_a, household_b):
    with pytest.raises(ValidationError) as outside:
        scrutiny.relation_create(
            actor=cast.cadre,
            id_number=_ids(household_b)[0],
            cadre_name="刘书记",
            cadre_post="village_cadre",
            relation="父子",
        )
    assert "id_number" in outside.value.message_dict
    with pytest.raises(PermissionDenied):
        scrutiny.relation_create(
            actor=cast.auditor,
            id_number=_ids(household_a)[0],
            cadre_name="刘书记",
            cadre_post="village_cadre",
            relation="父子",
        )
    made = scrutiny.relation_create(
        actor=cast.cadre,
        id_number=_ids(household_a)[1],
        cadre_name="刘书记",
        cadre_post="resident_cadre",
        relation="姐弟",
    )
    assert made.member.household == household_a
    assert list(scrutiny.relations_for(user=cast.cadre)) == [made]
    assert list(scrutiny.relations_for(user=cast.cadre2)) == []
