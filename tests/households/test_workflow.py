"""Identification and exit with 公示: one mechanism, step owners, objections, refusals, to-do."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from households import services, workflows
from households.models import (
    CaseWorkflow,
    Household,
    HouseholdEvent,
    PovertyLine,
    WorkflowStep,
)
from tests import factories
from tests.project import app_today

# Cases run in the legal order on past dates: opened 30 days ago, one step a day.


def opened() -> datetime.date:
    """The case opened 30 days ago (read when the test runs)."""
    return app_today() - datetime.timedelta(days=30)


def day(number: int) -> datetime.date:
    return opened() + datetime.timedelta(days=number)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


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


def run_notice(cast_user, workflow: CaseWorkflow, start: datetime.date | None = None) -> None:
    step = workflow.step
    services.notice_start(
        actor=cast_user,
        workflow=workflow,
        expected_step=step,
        start_date=start or app_today() - datetime.timedelta(days=7),
        days=7,
        phone="0855-1234567",
    )
    services.workflow_step_complete(actor=cast_user, workflow=workflow, expected_step=step)


def test_identification_runs_through_every_owner_to_the_announcement(cast, applicant):
    workflow = services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        opinion="本人申请",
        effective_date=day(0),
    )
    assert workflow.step == "appraisal"
    assert workflow.opened_on == day(0)
    assert workflow.deadline == workflows.add_working_days(day(0), 20)
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议通过",
        attendance=23,
        evidence=minutes(),
        acted_on=day(1),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="verification",
        opinion="核实属实",
        acted_on=day(2),
    )
    workflow.refresh_from_db()
    run_notice(cast.cadre, workflow, day(3))
    workflow.refresh_from_db()
    assert workflow.step == "township_review"
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="同意",
        acted_on=day(10),
    )
    workflow.refresh_from_db()
    run_notice(cast.township, workflow, day(11))
    workflow.refresh_from_db()
    services.workflow_step_complete(
        actor=cast.county,
        workflow=workflow,
        expected_step="county_approval",
        opinion="审定同意",
        acted_on=day(18),
    )
    services.workflow_step_complete(
        actor=cast.county,
        workflow=workflow,
        expected_step="announcement",
        opinion="已公告",
        acted_on=day(19),
    )
    workflow.refresh_from_db()
    applicant.refresh_from_db()
    assert workflow.state == CaseWorkflow.State.DONE
    assert applicant.status == Household.Status.POOR
    assert applicant.first_identified_year == 2016
    event = applicant.events.get(kind=HouseholdEvent.Kind.IDENTIFIED)
    assert (event.from_status, event.to_status) == ("non_registered", "poor")
    assert event.effective_date == day(19)
    assert (event.proposed_by, event.approved_by) == (cast.cadre, cast.county)
    done = list(
        workflow.steps.filter(decision="done").values_list(
            "step", "role", "actor__username", "acted_on"
        )
    )
    assert done == [
        ("application", "village", "cadre", day(0)),
        ("appraisal", "village", "cadre", day(1)),
        ("verification", "village", "cadre", day(2)),
        ("first_notice", "village", "cadre", day(10)),
        ("township_review", "township", "township", day(10)),
        ("second_notice", "township", "township", day(18)),
        ("county_approval", "county", "county", day(18)),
        ("announcement", "county", "county", day(19)),
    ]
    appraisal = workflow.steps.get(step="appraisal", decision="done")
    assert appraisal.attendance == 23
    assert appraisal.evidence.name.endswith(".jpg")


def test_a_step_is_done_only_by_the_role_that_owns_it(cast, applicant):
    workflow = services.workflow_start(
        actor=cast.cadre, household=applicant, kind=CaseWorkflow.Kind.IDENTIFICATION
    )
    for user in (cast.township, cast.county, cast.cadre2, cast.auditor):
        with pytest.raises(ValidationError) as raised:
            services.workflow_step_complete(
                actor=user,
                workflow=workflow,
                expected_step="appraisal",
                opinion="x",
                attendance=3,
                evidence=minutes(),
            )
        assert raised.value.code == "not_step_owner"
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"
    assert workflow.steps.count() == 1


def test_appraisal_needs_minutes_and_attendance(cast, applicant):
    workflow = services.workflow_start(
        actor=cast.cadre, household=applicant, kind=CaseWorkflow.Kind.IDENTIFICATION
    )
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre, workflow=workflow, expected_step="appraisal", opinion="通过"
        )
    assert set(raised.value.error_dict) == {"evidence", "attendance"}
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"


def test_an_objection_during_the_notice_sends_the_case_back_with_the_reason(cast, applicant):
    workflow = services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        effective_date=app_today() - datetime.timedelta(days=10),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="通过",
        attendance=9,
        evidence=minutes(),
        acted_on=app_today() - datetime.timedelta(days=9),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="verification",
        opinion="属实",
        acted_on=app_today() - datetime.timedelta(days=8),
    )
    workflow.refresh_from_db()
    notice = services.notice_start(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="first_notice",
        start_date=app_today() - datetime.timedelta(days=2),
        phone="12317",
    )
    services.notice_objection_record(
        actor=cast.cadre, notice=notice, content="该户有小轿车", objector="村民甲"
    )
    workflow.refresh_from_db()
    notice.refresh_from_db()
    assert workflow.step == "appraisal"
    assert notice.is_open is False
    back = workflow.steps.get(decision=WorkflowStep.Decision.OBJECTION)
    assert back.opinion == "公示异议：该户有小轿车"
    applicant.refresh_from_db()
    assert applicant.status == Household.Status.NON_REGISTERED


def test_a_notice_completes_only_after_its_full_length(cast, applicant):
    workflow = services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        effective_date=app_today() - datetime.timedelta(days=10),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="通过",
        attendance=9,
        evidence=minutes(),
        acted_on=app_today() - datetime.timedelta(days=9),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="verification",
        opinion="属实",
        acted_on=app_today() - datetime.timedelta(days=8),
    )
    with pytest.raises(ValidationError) as raised:
        services.notice_start(
            actor=cast.cadre,
            workflow=workflow,
            expected_step="first_notice",
            start_date=app_today(),
            days=3,
            phone="12317",
        )
    assert "days" in raised.value.error_dict
    services.notice_start(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="first_notice",
        start_date=app_today() - datetime.timedelta(days=6),
        phone="12317",
    )
    with pytest.raises(ValidationError) as raised:
        services.workflow_step_complete(
            actor=cast.cadre, workflow=workflow, expected_step="first_notice"
        )
    assert raised.value.code == "notice_running"
    workflow.refresh_from_db()
    assert workflow.step == "first_notice"


def test_township_can_return_the_case_with_a_reason(cast, applicant):
    workflow = services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        effective_date=day(0),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="通过",
        attendance=9,
        evidence=minutes(),
        acted_on=day(1),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="verification",
        opinion="属实",
        acted_on=day(1),
    )
    workflow.refresh_from_db()
    run_notice(cast.cadre, workflow, day(2))
    services.workflow_return(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="收入核算有误",
    )
    workflow.refresh_from_db()
    assert workflow.step == "verification"
    assert (
        workflow.steps.get(decision="returned").opinion
        == "退回至“村委会和驻村工作队核实”：收入核算有误"
    )


def exit_ready(cast, county, **fields) -> Household:
    PovertyLine.objects.get_or_create(
        year=app_today().year - 1,
        standard="国家标准",
        region=None,
        defaults={"amount": Decimal("4000")},
    )
    household = factories.household(actor=cast.county, village=county.village_a, **fields)
    services.income_set(
        actor=cast.county,
        household=household,
        year=app_today().year - 1,
        data={
            "wage": Decimal("20000"),
            "production": Decimal("3000"),
            "production_cost": Decimal("1000"),
        },
    )
    return household


def test_exit_runs_the_same_mechanism_and_marks_the_household_exited(cast, county):
    household = exit_ready(cast, county)
    workflow = services.workflow_start(
        actor=cast.cadre, household=household, kind=CaseWorkflow.Kind.EXIT, effective_date=day(0)
    )
    assert workflow.step == "appraisal"
    assert workflow.deadline is None
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议同意退出",
        attendance=15,
        evidence=minutes(),
        acted_on=day(1),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="verification",
        opinion="收入达标",
        acted_on=day(2),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="household_confirmation",
        opinion="户主签字",
        evidence=minutes(),
        acted_on=day(3),
    )
    workflow.refresh_from_db()
    run_notice(cast.cadre, workflow, day(4))
    services.workflow_step_complete(
        actor=cast.county,
        workflow=workflow,
        expected_step="announcement",
        opinion="公告退出",
        acted_on=day(12),
    )
    household.refresh_from_db()
    assert household.status == Household.Status.EXITED
    assert household.exit_year == app_today().year
    assert household.events.get(kind=HouseholdEvent.Kind.EXITED).approved_by == cast.county


def test_exit_is_refused_naming_the_failed_test(cast, county):
    household = exit_ready(cast, county, house_grade="D")
    with pytest.raises(ValidationError) as raised:
        services.workflow_start(actor=cast.cadre, household=household, kind=CaseWorkflow.Kind.EXIT)
    assert raised.value.code == "exit_refused"
    assert "住房安全有保障：住房为D级危房且未改造" in raised.value.messages[0]
    assert CaseWorkflow.objects.count() == 0


def test_exit_is_refused_for_low_income(cast, county):
    household = exit_ready(cast, county)
    services.income_set(
        actor=cast.county,
        household=household,
        year=app_today().year - 1,
        data={"wage": Decimal("5000")},
    )
    with pytest.raises(ValidationError) as raised:
        services.workflow_start(actor=cast.cadre, household=household, kind=CaseWorkflow.Kind.EXIT)
    assert "人均纯收入超过扶贫标准" in raised.value.messages[0]


def test_exit_is_refused_for_a_household_identified_this_year(cast, county):
    household = exit_ready(cast, county, first_identified_year=app_today().year)
    with pytest.raises(ValidationError) as raised:
        services.workflow_start(actor=cast.cadre, household=household, kind=CaseWorkflow.Kind.EXIT)
    assert "当年新识别的贫困户不能当年退出" in raised.value.messages[0]
    assert CaseWorkflow.objects.count() == 0


def test_to_do_list_shows_each_role_its_own_steps_oldest_first_with_overdue(
    cast, county, applicant
):
    second = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="缺资金",
    )
    older = services.workflow_start(
        actor=cast.cadre, household=applicant, kind=CaseWorkflow.Kind.IDENTIFICATION
    )
    newer = services.workflow_start(
        actor=cast.cadre, household=second, kind=CaseWorkflow.Kind.IDENTIFICATION
    )
    CaseWorkflow.objects.filter(pk=older.pk).update(
        step_since=timezone.now() - datetime.timedelta(days=40),
        deadline=app_today() - datetime.timedelta(days=10),
    )
    assert [w.pk for w in workflows.todo_list(cast.cadre)] == [older.pk, newer.pk]
    assert list(workflows.todo_list(cast.township)) == []
    assert list(workflows.todo_list(cast.cadre2)) == []
    older.refresh_from_db()
    assert workflows.is_overdue(older) is True
    assert workflows.is_overdue(newer) is False


@pytest.mark.django_db
def test_working_days_skip_weekends():
    friday = datetime.date(2024, 3, 1)
    assert friday.weekday() == 4
    assert workflows.add_working_days(friday, 1) == datetime.date(2024, 3, 4)
    assert workflows.add_working_days(friday, 20) == datetime.date(2024, 3, 29)


def test_pages_drive_the_workflow_and_print_a_masked_notice(cast, applicant, client_for):
    cadre = client_for(cast.cadre)
    response = cadre.post(
        f"/households/{applicant.pk}/procedures/identification/start/", {"opinion": "申请"}
    )
    workflow = CaseWorkflow.objects.get()
    assert response.url == f"/households/cases/{workflow.pk}/"
    response = cadre.post(
        f"/households/cases/{workflow.pk}/complete/", {"step": "appraisal", "opinion": "通过"}
    )
    assert response.status_code == 400
    assert "请上传佐证材料" in response.content.decode()
    cadre.post(
        f"/households/cases/{workflow.pk}/complete/",
        {"step": "appraisal", "opinion": "通过", "attendance": "12", "evidence": minutes()},
    )
    cadre.post(
        f"/households/cases/{workflow.pk}/complete/", {"step": "verification", "opinion": "属实"}
    )
    cadre.post(
        f"/households/cases/{workflow.pk}/notice/",
        {
            "step": "first_notice",
            "start_date": app_today().isoformat(),
            "days": "7",
            "phone": "0855-1234567",
        },
    )
    notice = workflow.notices.get()
    response = cadre.get(f"/households/notices/{notice.pk}/print/")
    html = response.content.decode()
    head = factories.active_members(applicant)[0]
    assert "凤场村" in html and "0855-1234567" in html
    assert head.id_number not in html
    assert head.id_number[:3] + "*" * 11 + head.id_number[-4:] in html
    # Printing is written to the access log (who printed which households' notice).
    from povertyapp.models import AccessLog

    log = AccessLog.objects.get(action="print", target="public_notice")
    assert (log.user, log.object_id, log.detail["households"]) == (
        cast.cadre,
        str(notice.pk),
        [applicant.number],
    )
    assert log.fields == ["name", "id_number"]
    assert client_for(cast.cadre2).get(f"/households/notices/{notice.pk}/print/").status_code == 404
    assert AccessLog.objects.filter(action="print").count() == 1
    # An objection through the page sends the case back.
    response = client_for(cast.township).post(
        f"/households/cases/{workflow.pk}/objection/",
        {"step": "first_notice", "received_on": app_today().isoformat(), "content": "家有商铺"},
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"
    detail = cadre.get(f"/households/{applicant.pk}/?tab=status").content.decode()
    assert "公示异议：家有商铺" in detail
