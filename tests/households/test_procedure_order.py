"""Procedures in the legal order (issue 13): every refusal of a date, the statutory clocks with
the holiday calendar, withdrawal by the owner, return by a reviewer to a named step, what waits
on others, and the second notice signed by the township."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from households import services, workflows
from households.models import (
    CaseWorkflow,
    Household,
    HouseholdEvent,
    Member,
    PublicNotice,
    WorkflowStep,
)
from tests import factories
from tests.project import app_today

D = datetime.date
# The dates: "today" is 2026-12-05 for the services in this module's service tests.
FROZEN = D(2026, 12, 5)


def kept(day) -> str:
    """A date as pages show it: kept whole on a phone (`povertyapp/templatetags/dates.py`)."""
    return f'<span class="date">{day.isoformat()}</span>'


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(services.common, "today", lambda: FROZEN)
    return FROZEN


def minutes() -> SimpleUploadedFile:
    return SimpleUploadedFile("minutes.jpg", b"\xff\xd8\xff\xe0minutes", content_type="image/jpeg")


@pytest.fixture
def applicant(cast, county) -> Household:
    return factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )


def open_case(cast, household, opened: D) -> CaseWorkflow:
    return services.workflow_start(
        actor=cast.cadre,
        household=household,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        opinion="本人申请",
        effective_date=opened,
    )


def village_steps(cast, workflow: CaseWorkflow, appraisal: D, verification: D) -> None:
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议通过",
        attendance=21,
        evidence=minutes(),
        acted_on=appraisal,
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="verification",
        opinion="核实属实",
        acted_on=verification,
    )


def notice(user, workflow: CaseWorkflow, step: str, start: D) -> PublicNotice:
    return services.notice_start(
        actor=user,
        workflow=workflow,
        expected_step=step,
        start_date=start,
        days=7,
        phone="0855-1234567",
    )


def to_township_review(cast, household) -> CaseWorkflow:
    """Opened 11-20, appraisal 11-21, verification 11-22, first 公示 11-23…11-29, closed."""
    workflow = open_case(cast, household, D(2026, 11, 20))
    village_steps(cast, workflow, D(2026, 11, 21), D(2026, 11, 22))
    notice(cast.cadre, workflow, "first_notice", D(2026, 11, 23))
    services.workflow_step_complete(
        actor=cast.cadre, workflow=workflow, expected_step="first_notice"
    )
    workflow.refresh_from_db()
    return workflow


def refusal(raised: pytest.ExceptionInfo[ValidationError], field: str) -> list[tuple[str, str]]:
    return [(error.code or "", error.messages[0]) for error in raised.value.error_dict[field]]


def unchanged(workflow: CaseWorkflow) -> tuple[str, int, int, int]:
    workflow.refresh_from_db()
    return (
        workflow.step,
        workflow.steps.count(),
        workflow.notices.count(),
        workflow.household.events.count(),
    )


# --- the legal order of the dates -------------------------------------------------------------


def test_a_first_notice_dated_before_the_steps_it_follows_is_refused(frozen, cast, applicant):
    """The issue's first example: 申请/评议/核实 recorded 12-03, 公示 entered as 11-23…11-29."""
    workflow = open_case(cast, applicant, D(2026, 12, 3))
    village_steps(cast, workflow, D(2026, 12, 3), D(2026, 12, 3))
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        notice(cast.cadre, workflow, "first_notice", D(2026, 11, 23))
    assert refusal(raised, "start_date") == [
        (
            "notice_before_previous_step",
            "“第一次公示”（2026-11-23至2026-11-29）不能早于上一环节“村委会和驻村工作队核实”"
            "的日期（2026-12-03）。",
        )
    ]
    assert unchanged(workflow) == before


def test_a_second_notice_ending_before_the_first_and_the_township_review_is_refused(
    frozen, cast, applicant
):
    """The issue's second example: the second 公示 entered as 11-20…11-26."""
    workflow = to_township_review(cast, applicant)
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 12, 1),
    )
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        notice(cast.township, workflow, "second_notice", D(2026, 11, 20))
    assert refusal(raised, "start_date") == [
        (
            "notice_before_earlier_notice",
            "“第二次公示”（2026-11-20至2026-11-26）须在此前的公示（2026-11-23至2026-11-29）"
            "结束之后开始。",
        ),
        (
            "notice_before_previous_step",
            "“第二次公示”（2026-11-20至2026-11-26）不能早于上一环节“乡镇审核”的日期"
            "（2026-12-01）。",
        ),
    ]
    assert unchanged(workflow) == before
    # In order, the same notice is accepted.
    accepted = notice(cast.township, workflow, "second_notice", D(2026, 12, 1))
    assert (accepted.start_date, accepted.end_date) == (D(2026, 12, 1), D(2026, 12, 7))


def test_the_step_after_a_notice_waits_for_its_full_term(frozen, cast, applicant):
    workflow = to_township_review(cast, applicant)
    assert workflow.steps.get(step="first_notice", decision="done").acted_on == D(2026, 11, 30)
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.township,
            workflow=workflow,
            expected_step="township_review",
            opinion="审核同意",
            acted_on=D(2026, 11, 29),
        )
    assert refusal(raised, "acted_on") == [
        (
            "notice_term",
            "“第一次公示”公示期为2026-11-23至2026-11-29，“乡镇审核”须在公示期满后办理，"
            "办理日期（2026-11-29）不符。",
        )
    ]
    assert unchanged(workflow) == before


def test_a_notice_cannot_be_closed_before_its_seven_natural_days(frozen, cast, applicant):
    workflow = open_case(cast, applicant, D(2026, 11, 25))
    village_steps(cast, workflow, D(2026, 11, 26), D(2026, 11, 27))
    # 11-29 is day 7 (counted in natural days, the first day included): still running on 12-05.
    notice(cast.cadre, workflow, "first_notice", D(2026, 11, 29))
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre, workflow=workflow, expected_step="first_notice"
        )
    assert raised.value.code == "notice_running"
    assert raised.value.messages == ["公示期至2026-12-05结束，期满无异议后方可办结。"]


def test_a_step_dated_before_the_previous_step_is_refused(frozen, cast, applicant):
    workflow = open_case(cast, applicant, D(2026, 11, 20))
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议通过",
        attendance=21,
        evidence=minutes(),
        acted_on=D(2026, 11, 24),
    )
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre,
            workflow=workflow,
            expected_step="verification",
            opinion="核实属实",
            acted_on=D(2026, 11, 23),
        )
    assert refusal(raised, "acted_on") == [
        (
            "before_previous_step",
            "“村委会和驻村工作队核实”的办理日期（2026-11-23）不能早于上一环节“民主评议”的日期"
            "（2026-11-24）。",
        )
    ]
    assert unchanged(workflow) == before


def test_a_step_dated_in_the_future_is_refused(frozen, cast, applicant):
    workflow = open_case(cast, applicant, D(2026, 12, 1))
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre,
            workflow=workflow,
            expected_step="appraisal",
            opinion="评议通过",
            attendance=21,
            evidence=minutes(),
            acted_on=D(2026, 12, 6),
        )
    assert refusal(raised, "acted_on") == [
        (
            "date_in_future",
            "“民主评议”的办理日期（2026-12-06）不能晚于今天（2026-12-05）。",
        )
    ]
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre,
            workflow=workflow,
            expected_step="appraisal",
            opinion="评议通过",
            attendance=21,
            evidence=minutes(),
            acted_on=D(2026, 11, 30),
        )
    assert refusal(raised, "acted_on") == [
        (
            "before_previous_step",
            "“民主评议”的办理日期（2026-11-30）不能早于上一环节“农户申请”的日期（2026-12-01）。",
        )
    ]
    assert workflow.steps.count() == 1


def test_a_notice_starting_in_the_future_is_refused(frozen, cast, applicant):
    workflow = open_case(cast, applicant, D(2026, 12, 1))
    village_steps(cast, workflow, D(2026, 12, 2), D(2026, 12, 3))
    with pytest.raises(ValidationError) as raised:
        notice(cast.cadre, workflow, "first_notice", D(2026, 12, 8))
    assert refusal(raised, "start_date") == [
        (
            "date_in_future",
            "“第一次公示”的开始日期（2026-12-08）不能晚于今天（2026-12-05）。",
        )
    ]
    assert workflow.notices.count() == 0


def test_an_application_dated_in_the_future_or_over_a_year_ago_is_refused(frozen, cast, applicant):
    with pytest.raises(ValidationError) as raised:
        open_case(cast, applicant, D(2026, 12, 6))
    assert refusal(raised, "effective_date") == [
        ("date_in_future", "受理日期（2026-12-06）不能晚于今天（2026-12-05）。")
    ]
    with pytest.raises(ValidationError) as raised:
        open_case(cast, applicant, D(2025, 12, 4))
    assert refusal(raised, "effective_date") == [
        ("date_too_old", "受理日期（2025-12-04）早于一年前，请核对。")
    ]
    assert CaseWorkflow.objects.count() == 0


def test_an_exit_step_dated_before_the_case_was_opened_is_refused(frozen, cast, county):
    from tests.households.test_workflow import exit_ready

    household = exit_ready(cast, county)
    workflow = services.workflow_start(
        actor=cast.cadre,
        household=household,
        kind=CaseWorkflow.Kind.EXIT,
        effective_date=D(2026, 11, 20),
    )
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre,
            workflow=workflow,
            expected_step="appraisal",
            opinion="评议同意退出",
            attendance=15,
            evidence=minutes(),
            acted_on=D(2026, 11, 19),
        )
    assert refusal(raised, "acted_on") == [
        (
            "before_case_opened",
            "“村两委民主评议”的办理日期（2026-11-19）不能早于受理日期（2026-11-20）。",
        )
    ]
    assert workflow.steps.count() == 0


def test_the_announcement_follows_the_county_approval_after_the_second_notice(
    frozen, cast, applicant
):
    workflow = open_case(cast, applicant, D(2026, 11, 10))
    village_steps(cast, workflow, D(2026, 11, 11), D(2026, 11, 12))
    notice(cast.cadre, workflow, "first_notice", D(2026, 11, 13))
    services.workflow_step_complete(
        actor=cast.cadre, workflow=workflow, expected_step="first_notice"
    )
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 11, 20),
    )
    notice(cast.township, workflow, "second_notice", D(2026, 11, 21))
    services.workflow_step_complete(
        actor=cast.township, workflow=workflow, expected_step="second_notice"
    )
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.county,
            workflow=workflow,
            expected_step="county_approval",
            opinion="审定同意",
            acted_on=D(2026, 11, 27),
        )
    assert refusal(raised, "acted_on") == [
        (
            "notice_term",
            "“第二次公示”公示期为2026-11-21至2026-11-27，“县扶贫办审定”须在公示期满后办理，"
            "办理日期（2026-11-27）不符。",
        )
    ]
    services.workflow_step_complete(
        actor=cast.county,
        workflow=workflow,
        expected_step="county_approval",
        opinion="审定同意",
        acted_on=D(2026, 11, 30),
    )
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.county,
            workflow=workflow,
            expected_step="announcement",
            opinion="已公告",
            acted_on=D(2026, 11, 29),
        )
    assert refusal(raised, "acted_on")[0][0] == "before_previous_step"
    applicant.refresh_from_db()
    assert applicant.status == Household.Status.NON_REGISTERED
    services.workflow_step_complete(
        actor=cast.county,
        workflow=workflow,
        expected_step="announcement",
        opinion="已公告",
        acted_on=D(2026, 12, 1),
    )
    applicant.refresh_from_db()
    assert applicant.status == Household.Status.POOR
    assert applicant.events.get(kind=HouseholdEvent.Kind.IDENTIFIED).effective_date == D(
        2026, 12, 1
    )


# --- statutory clocks -------------------------------------------------------------------------


@pytest.mark.django_db
def test_working_days_left_skip_national_day_and_count_the_make_up_saturday():
    opened = D(2025, 9, 26)
    deadline = workflows.add_working_days(opened, 20)
    assert deadline == D(2025, 10, 30)
    # 28 Sep (调休上班) and 29, 30 Sep have passed; 1–8 October are off.
    assert workflows.working_days_left(D(2025, 9, 30), deadline) == 17
    assert workflows.working_days_left(D(2025, 10, 8), deadline) == 17
    assert workflows.working_days_left(D(2025, 10, 30), deadline) == 0
    assert workflows.working_days_left(D(2025, 11, 3), deadline) == -2


def test_case_clock_counts_working_days_with_the_holiday_calendar(monkeypatch, cast, applicant):
    monkeypatch.setattr(services.common, "today", lambda: D(2025, 9, 30))
    workflow = open_case(cast, applicant, D(2025, 9, 26))
    assert (workflow.opened_on, workflow.deadline) == (D(2025, 9, 26), D(2025, 10, 30))
    clock = workflows.case_clocks([workflow], D(2025, 10, 8))[workflow.pk]
    assert (clock.deadline, clock.working_days_left, clock.overdue) == (D(2025, 10, 30), 17, False)
    late = workflows.case_clocks([workflow], D(2025, 11, 3))[workflow.pk]
    assert (late.working_days_left, late.late_working_days, late.overdue) == (-2, 2, True)


def test_case_clock_shows_the_days_left_of_a_running_notice(frozen, cast, applicant):
    workflow = open_case(cast, applicant, D(2026, 12, 1))
    village_steps(cast, workflow, D(2026, 12, 1), D(2026, 12, 2))
    notice(cast.cadre, workflow, "first_notice", D(2026, 12, 3))
    clock = workflows.case_clocks([workflow], FROZEN)[workflow.pk]
    assert (clock.notice_end, clock.notice_days_left) == (D(2026, 12, 9), 4)


def overdue_case(cast, county, **fields) -> CaseWorkflow:
    household = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="缺资金",
        **fields,
    )
    workflow = open_case(cast, household, app_today() - datetime.timedelta(days=60))
    workflow.refresh_from_db()
    return workflow


def test_overdue_cases_come_first_and_stand_out_for_township_and_county(
    cast, county, applicant, client_for
):
    recent = open_case(cast, applicant, app_today())
    late = overdue_case(cast, county)
    assert workflows.is_overdue(late) is True
    assert [case.pk for case in workflows.todo_list(cast.cadre)] == [late.pk, recent.pk]
    # The township and county see every overdue case of their area, whatever its step.
    assert [case.pk for case in workflows.overdue_list(cast.township)] == [late.pk]
    assert [case.pk for case in workflows.overdue_list(cast.county)] == [late.pk]
    assert list(workflows.overdue_list(cast.cadre)) == []
    page = client_for(cast.township).get("/households/todo/").content.decode()
    assert "辖区逾期案件" in page
    assert late.household.number in page
    late_clock = workflows.case_clocks([late])[late.pk]
    assert f"期限{kept(late.deadline)}，已超{late_clock.late_working_days}个工作日" in page
    mine = client_for(cast.cadre).get("/households/todo/").content.decode()
    recent_clock = workflows.case_clocks([recent])[recent.pk]
    assert f"期限{kept(recent.deadline)}，剩余{recent_clock.working_days_left}个工作日" in mine
    assert mine.index(late.household.number) < mine.index(applicant.number)
    # Each case names its household's head beside the 户编号: a cadre knows the family.
    for case, page_html in ((late, page), (late, mine), (recent, mine)):
        head = Member.objects.get(household=case.household, relation="户主", is_active=True)
        assert f"{case.household.number}</a> {head.name}</td>" in page_html


def test_the_case_page_shows_the_time_left(cast, applicant, client_for):
    workflow = open_case(cast, applicant, app_today())
    clock = workflows.case_clocks([workflow])[workflow.pk]
    page = client_for(cast.cadre).get(f"/households/cases/{workflow.pk}/").content.decode()
    assert f"期限{kept(workflow.deadline)}，剩余{clock.working_days_left}个工作日" in page
    household_page = client_for(cast.cadre).get(f"/households/{applicant.pk}/").content.decode()
    assert f"剩余{clock.working_days_left}个工作日" in household_page


# --- waiting on others ------------------------------------------------------------------------


def test_my_cases_waiting_on_others_list_their_step_and_deadline(
    frozen, cast, applicant, client_for
):
    workflow = to_township_review(cast, applicant)
    assert [case.pk for case in workflows.waiting_list(cast.cadre)] == [workflow.pk]
    assert list(workflows.waiting_list(cast.township)) == []  # it waits for the township
    assert list(workflows.waiting_list(cast.cadre2)) == []
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 12, 1),
    )
    assert [
        case.pk for case in workflows.waiting_list(cast.township)
    ] == []  # 第二次公示 is its own
    assert [case.pk for case in workflows.waiting_list(cast.cadre)] == [workflow.pk]
    page = client_for(cast.cadre).get("/households/todo/").content.decode()
    section = page[page.index("我的案件（等待他人办理）") :]
    assert applicant.number in section
    assert "第二次公示" in section
    assert f"期限{kept(workflow.deadline)}" in section


# --- withdrawal -------------------------------------------------------------------------------


def test_the_owner_withdraws_a_case_with_a_reason_recorded_in_case_and_history(
    frozen, cast, applicant
):
    workflow = to_township_review(cast, applicant)
    services.workflow_withdraw(actor=cast.cadre, workflow=workflow, reason="农户外出务工，撤回申请")
    workflow.refresh_from_db()
    assert workflow.state == CaseWorkflow.State.WITHDRAWN
    record = workflow.steps.get(decision=WorkflowStep.Decision.WITHDRAWN)
    assert (record.step, record.opinion, record.actor) == (
        "township_review",
        "撤回：农户外出务工，撤回申请",
        cast.cadre,
    )
    event = applicant.events.get(kind=HouseholdEvent.Kind.CASE_WITHDRAWN)
    assert (event.reason, event.from_status, event.to_status, event.created_by) == (
        "贫困户识别（两公示一公告）：撤回：农户外出务工，撤回申请",
        "non_registered",
        "non_registered",
        cast.cadre,
    )
    assert event.data == {
        "workflow": workflow.pk,
        "procedure": "identification",
        "step": "township_review",
    }
    applicant.refresh_from_db()
    assert applicant.status == Household.Status.NON_REGISTERED
    # A new case may be opened afterwards.
    assert open_case(cast, applicant, FROZEN).state == CaseWorkflow.State.OPEN


@pytest.mark.parametrize("who", ["cadre2", "township", "county", "auditor", "helper"])
def test_only_the_owner_may_withdraw(frozen, cast, applicant, who):
    workflow = to_township_review(cast, applicant)
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_withdraw(actor=getattr(cast, who), workflow=workflow, reason="撤回")
    assert raised.value.code == "not_case_owner"
    assert unchanged(workflow) == before
    assert workflow.state == CaseWorkflow.State.OPEN


def test_a_case_cannot_be_withdrawn_after_the_announcement_nor_without_a_reason(
    frozen, cast, applicant
):
    workflow = open_case(cast, applicant, FROZEN)
    with pytest.raises(ValidationError) as raised:
        services.workflow_withdraw(actor=cast.cadre, workflow=workflow, reason=" ")
    assert refusal(raised, "reason") == [("required", "撤回须填写理由。")]
    CaseWorkflow.objects.filter(pk=workflow.pk).update(state=CaseWorkflow.State.DONE)
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_withdraw(actor=cast.cadre, workflow=workflow, reason="撤回")
    assert raised.value.code == "withdraw_after_announcement"
    assert raised.value.messages == ["该案件已公告办结，不能撤回。"]
    assert unchanged(workflow) == before


def test_the_withdraw_button_is_the_owners_and_the_page_withdraws(cast, applicant, client_for):
    workflow = open_case(cast, applicant, app_today())
    owner = client_for(cast.cadre)
    assert "撤回案件" in owner.get(f"/households/cases/{workflow.pk}/").content.decode()
    township = client_for(cast.township)
    assert "撤回案件" not in township.get(f"/households/cases/{workflow.pk}/").content.decode()
    response = township.post(
        f"/households/cases/{workflow.pk}/withdraw/", {"step": "appraisal", "reason": "撤回"}
    )
    assert response.status_code == 400
    assert "只有本村的村级录入员可以撤回该案件。" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.state == CaseWorkflow.State.OPEN
    response = owner.post(
        f"/households/cases/{workflow.pk}/withdraw/", {"step": "appraisal", "reason": "农户撤回"}
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.state == CaseWorkflow.State.WITHDRAWN
    status_tab = owner.get(f"/households/{applicant.pk}/?tab=status").content.decode()
    assert "程序撤回" in status_tab


# --- return to a named earlier step -----------------------------------------------------------


def test_the_county_returns_a_case_to_a_named_earlier_step(frozen, cast, applicant):
    workflow = to_township_review(cast, applicant)
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 11, 30),
    )
    notice(cast.township, workflow, "second_notice", D(2026, 11, 30))
    CaseWorkflow.objects.filter(pk=workflow.pk).update(step="county_approval")
    PublicNotice.objects.filter(workflow=workflow).update(is_open=False)
    workflow.refresh_from_db()
    assert [step.key for step in workflows.return_targets(workflow)] == [
        "appraisal",
        "verification",
        "first_notice",
        "township_review",
        "second_notice",
    ]
    services.workflow_return(
        actor=cast.county,
        workflow=workflow,
        expected_step="county_approval",
        opinion="评议参会人数不足",
        to_step="appraisal",
    )
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"
    record = workflow.steps.get(decision=WorkflowStep.Decision.RETURNED)
    assert (record.step, record.opinion, record.actor, record.acted_on) == (
        "county_approval",
        "退回至“民主评议”：评议参会人数不足",
        cast.county,
        FROZEN,
    )
    event = applicant.events.get(kind=HouseholdEvent.Kind.CASE_RETURNED)
    assert event.reason == "贫困户识别（两公示一公告）：退回至“民主评议”：评议参会人数不足"
    assert (event.data["from_step"], event.data["to_step"]) == ("county_approval", "appraisal")


@pytest.mark.parametrize("target", ["application", "county_approval", "announcement", "nonsense"])
def test_a_return_to_a_step_not_before_the_current_one_is_refused(frozen, cast, applicant, target):
    workflow = to_township_review(cast, applicant)
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_return(
            actor=cast.township,
            workflow=workflow,
            expected_step="township_review",
            opinion="退回",
            to_step=target,
        )
    assert refusal(raised, "to_step") == [("bad_return_step", "“乡镇审核”不能退回到该环节。")]
    assert unchanged(workflow) == before


@pytest.mark.parametrize("who", ["cadre", "cadre2", "county", "auditor"])
def test_only_the_reviewer_of_the_step_may_return_it(frozen, cast, applicant, who):
    workflow = to_township_review(cast, applicant)
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_return(
            actor=getattr(cast, who),
            workflow=workflow,
            expected_step="township_review",
            opinion="退回",
            to_step="appraisal",
        )
    assert raised.value.code == "not_step_owner"
    assert unchanged(workflow) == before


def test_a_running_notice_cannot_be_returned_only_objected_to(frozen, cast, applicant):
    workflow = to_township_review(cast, applicant)
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 12, 1),
    )
    workflow.refresh_from_db()
    assert workflows.return_targets(workflow) == []
    before = unchanged(workflow)
    with pytest.raises(ValidationError) as raised:
        services.workflow_return(
            actor=cast.township,
            workflow=workflow,
            expected_step="second_notice",
            opinion="退回",
            to_step="appraisal",
        )
    assert raised.value.code == "cannot_return"
    assert unchanged(workflow) == before


def test_an_objection_is_recorded_in_the_households_history(frozen, cast, applicant):
    workflow = open_case(cast, applicant, D(2026, 12, 1))
    village_steps(cast, workflow, D(2026, 12, 1), D(2026, 12, 2))
    posted = notice(cast.cadre, workflow, "first_notice", D(2026, 12, 3))
    services.notice_objection_record(
        actor=cast.cadre, notice=posted, content="该户有小轿车", received_on=D(2026, 12, 4)
    )
    event = applicant.events.get(kind=HouseholdEvent.Kind.CASE_RETURNED)
    assert event.reason == "贫困户识别（两公示一公告）：公示异议，退回至“民主评议”：该户有小轿车"


def test_the_return_page_offers_the_earlier_steps(frozen, cast, applicant, client_for):
    workflow = to_township_review(cast, applicant)
    township = client_for(cast.township)
    page = township.get(f"/households/cases/{workflow.pk}/").content.decode()
    assert 'name="to_step"' in page
    assert '<option value="verification" selected>村委会和驻村工作队核实</option>' in page
    response = township.post(
        f"/households/cases/{workflow.pk}/return/",
        {"step": "township_review", "to_step": "appraisal", "opinion": "评议记录缺页"},
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"


# --- the printed notices ----------------------------------------------------------------------


def test_the_second_notice_names_the_township_review_and_is_signed_by_the_township(
    frozen, cast, applicant, client_for
):
    workflow = to_township_review(cast, applicant)
    first = workflow.notices.get()
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 12, 1),
    )
    second = notice(cast.township, workflow, "second_notice", D(2026, 12, 2))
    client = client_for(cast.township)
    second_page = client.get(f"/households/notices/{second.pk}/print/").content.decode()
    assert (
        "以下农户经村级民主评议、核实和第一次公示，已经新州镇人民政府审核同意，现予以第二次公示，"
        "公示期7天（2026年12月2日至2026年12月8日）。" in second_page
    )
    assert '<p class="notice-sign">新州镇人民政府<br>' in second_page
    assert "村民委员会" not in second_page
    first_page = client.get(f"/households/notices/{first.pk}/print/").content.decode()
    assert "公示期7天（2026年11月23日至2026年11月29日）" in first_page
    assert '<p class="notice-sign">凤场村村民委员会<br>' in first_page


def test_the_work_desk_counts_my_steps_and_the_overdue_cases(cast, county, applicant, client_for):
    open_case(cast, applicant, app_today())
    overdue_case(cast, county)
    cadre_desk = client_for(cast.cadre).get("/").content.decode()
    assert (
        '<span class="desk-count">2</span><span class="desk-label">待我办理的程序步骤' in cadre_desk
    )
    assert (
        '<a class="desk-item desk-late" href="/households/todo/?show=late">'
        '<span class="desk-count">1</span><span class="desk-label">其中已逾期'
    ) in cadre_desk
    county_desk = client_for(cast.county).get("/").content.decode()
    assert (
        '<span class="desk-count">0</span><span class="desk-label">待我办理的程序步骤'
        in county_desk
    )
    assert (
        '<a class="desk-item desk-late" href="/households/todo/?show=overdue">'
        '<span class="desk-count">1</span><span class="desk-label">辖区逾期案件'
    ) in county_desk


# --- every procedure, every step: the date rules hold for all ---------------------------------


def _identification_household(cast, county) -> Household:
    return factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )


def _exit_household(cast, county) -> Household:
    from tests.households.test_workflow import exit_ready

    return exit_ready(cast, county)


# A new procedure (monitoring, risk elimination) must say how to build its household here.
HOUSEHOLD_FOR = {
    CaseWorkflow.Kind.IDENTIFICATION: _identification_household,
    CaseWorkflow.Kind.EXIT: _exit_household,
}


# The registry's own procedures (those that change a household's status). The procedures other
# apps register on the same machine are opened by their apps' services and walked, dates and
# all, by their apps' tests (monitoring: tests/monitoring/test_identification.py and
# test_elimination.py); the date rules checked here are the machine's, the same for every kind.
REGISTRY_KINDS = sorted(kind for kind, d in workflows.PROCEDURES.items() if d.to_status)


def test_every_procedure_has_a_case_in_the_walk():
    assert sorted(HOUSEHOLD_FOR) == REGISTRY_KINDS
    registered = set(workflows.PROCEDURES) - set(REGISTRY_KINDS)
    assert registered <= {"monitoring", "risk_elimination"}, registered


@pytest.mark.parametrize("kind", REGISTRY_KINDS)
def test_every_step_of_every_procedure_refuses_dates_out_of_order(frozen, cast, county, kind):
    """Each step is tried too early (before what precedes it) and in the future, both refused
    with nothing changed, then done in order; the walk ends with the status change."""
    owners = {
        workflows.VILLAGE: cast.cadre,
        workflows.TOWNSHIP: cast.township,
        workflows.COUNTY: cast.county,
    }
    household = HOUSEHOLD_FOR[kind](cast, county)
    opened = FROZEN - datetime.timedelta(days=60)
    workflow = services.workflow_start(
        actor=cast.cadre, household=household, kind=kind, opinion="申请", effective_date=opened
    )
    definition = workflows.procedure(kind)
    last = opened
    while workflow.state == CaseWorkflow.State.OPEN:
        workflow.refresh_from_db()
        step = workflows.current_step(workflow)
        actor = owners[step.level]
        before = unchanged(workflow)
        if step.type == workflows.NOTICE:
            for start, code in (
                (last - datetime.timedelta(days=1), "notice_before_previous_step"),
                (FROZEN + datetime.timedelta(days=1), "date_in_future"),
            ):
                with pytest.raises(ValidationError) as raised:
                    notice(actor, workflow, step.key, start)
                assert code in [error.code for error in raised.value.error_dict["start_date"]]
                assert unchanged(workflow) == before
            posted = notice(actor, workflow, step.key, last + datetime.timedelta(days=1))
            services.workflow_step_complete(actor=actor, workflow=workflow, expected_step=step.key)
            last = posted.end_date + datetime.timedelta(days=1)
            continue
        extra = {"attendance": 9} if step.needs_attendance else {}
        too_early = last - datetime.timedelta(days=1)
        for acted_on, codes in (
            (too_early, {"before_previous_step", "before_case_opened", "notice_term"}),
            (FROZEN + datetime.timedelta(days=1), {"date_in_future"}),
        ):
            with pytest.raises(ValidationError) as raised:
                services.workflow_step_complete(
                    actor=actor,
                    workflow=workflow,
                    expected_step=step.key,
                    opinion="同意",
                    evidence=minutes() if step.needs_evidence else None,
                    acted_on=acted_on,
                    **extra,
                )
            assert {error.code for error in raised.value.error_dict["acted_on"]} & codes
            assert unchanged(workflow) == before
        services.workflow_step_complete(
            actor=actor,
            workflow=workflow,
            expected_step=step.key,
            opinion="同意",
            evidence=minutes() if step.needs_evidence else None,
            acted_on=last,
            **extra,
        )
        workflow.refresh_from_db()
    household.refresh_from_db()
    assert household.status == definition.to_status
    assert last <= FROZEN


def test_the_todo_page_reads_a_fixed_number_of_queries(cast, county, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        client = client_for(cast.township)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/households/todo/").status_code == 200
        return len(captured.captured_queries)

    overdue_case(cast, county)
    one = queries()
    for _ in range(4):
        overdue_case(cast, county)
    assert queries() == one


def test_every_notice_step_of_every_procedure_has_its_printed_wording():
    """The printed sheet says what the notice follows (start, end and length filled in)."""
    missing = [
        (kind, step.key)
        for kind, definition in workflows.PROCEDURES.items()
        for step in definition.steps
        if step.type == workflows.NOTICE
        and not all(
            placeholder in str(step.notice_intro)
            for placeholder in ("%(days)d", "%(start)s", "%(end)s")
        )
    ]
    assert missing == []


def test_the_start_panel_speaks_of_an_application_only_for_identification(
    cast, county, applicant, client_for
):
    cadre = client_for(cast.cadre)
    identification = cadre.get(f"/households/{applicant.pk}/").content.decode()
    assert "发起识别（农户申请）" in identification and "申请书（可选）" in identification
    poor = factories.household(actor=cast.county, village=county.village_a)
    assert poor.status == Household.Status.POOR
    exit_page = cadre.get(f"/households/{poor.pk}/").content.decode()
    assert "发起退出" in exit_page and "申请书（可选）" not in exit_page
    assert '<label for="id_opinion">情况说明</label>' in exit_page
