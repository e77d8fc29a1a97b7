"""监测对象识别 on the registry's procedure machine: the object and its clues follow the case,
the clock follows the local rules and the holiday calendar, the 绿色通道 only for disasters and
accidents, and the households' pages (case, 公示 sheet, objection, return, withdraw) work."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from households import services, workflows
from households.models import CaseWorkflow, Household, HouseholdEvent, WorkflowStep
from monitoring import clues, procedures
from monitoring.models import Clue, LocalRules, MonitoringObject
from povertyapp.models import CalendarDay
from povertyapp.privacy import mask
from tests import factories
from tests.conftest import login
from tests.monitoring.object_fixtures import day, run_notice, scan, start, to_notice, walk


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _clue(cast, household, risk_type="illness", received_on=None) -> Clue:
    head = household.members.get(relation="户主")
    return clues.clue_create(
        channel=Clue.Channel.SELF_DECLARATION,
        name=head.name,
        id_number=head.id_number,
        risk_type=risk_type,
        received_on=received_on or day(0),
        actor=cast.cadre,
        difficulty="住院",
    )


def test_identification_runs_to_the_county_and_marks_object_and_clues(cast, household_a):
    clue = _clue(cast, household_a)
    found = start(cast, household_a, clues=[clue])
    assert found.state == MonitoringObject.State.IDENTIFYING
    assert [risk.risk_type for risk in found.risks.all()] == ["illness"]
    clue.refresh_from_db()
    assert clue.state == Clue.State.IDENTIFYING
    assert clue.monitoring_object == found
    workflow = found.identification
    assert workflow.kind == CaseWorkflow.Kind.MONITORING
    assert workflow.step == "home_visit"
    found = walk(cast, found)
    clue.refresh_from_db()
    household_a.refresh_from_db()
    assert found.state == MonitoringObject.State.MONITORED
    assert found.identified_on == day(10)
    assert clue.state == Clue.State.INCLUDED
    assert clue.decided_on == day(10)
    assert clue.decided_by == cast.county
    # The status of the household does not change: the object is a record of its own.
    assert household_a.status == Household.Status.POOR
    assert not HouseholdEvent.objects.filter(
        household=household_a, kind=HouseholdEvent.Kind.IDENTIFIED
    ).exists()


def test_a_current_object_and_a_removed_household_are_refused(cast, county, household_a):
    found = start(cast, household_a)
    with pytest.raises(ValidationError) as caught:
        start(cast, household_a)
    assert caught.value.code == "already_monitored"
    assert "识别中" in caught.value.messages[0]
    removed = factories.household(
        actor=cast.county, village=county.village_a, status=Household.Status.REMOVED
    )
    with pytest.raises(ValidationError) as caught:
        start(cast, removed)
    assert caught.value.code == "bad_status"
    assert MonitoringObject.objects.filter(household=removed).count() == 0
    assert MonitoringObject.objects.filter(household=household_a).get() == found


def test_consent_is_required_and_nothing_is_written_without_it(cast, household_a):
    with pytest.raises(ValidationError) as caught:
        start(cast, household_a, consent=None, consent_signed_on=None)
    assert set(caught.value.error_dict) == {"consent", "consent_signed_on"}
    assert "承诺授权书" in caught.value.error_dict["consent"][0].messages[0]
    assert MonitoringObject.objects.count() == 0
    assert CaseWorkflow.objects.filter(household=household_a).count() == 0


def test_only_the_village_cadre_of_the_household_starts_it(cast, household_a, household_b):
    with pytest.raises(ValidationError) as caught:
        start(cast, household_b)
    assert caught.value.code == "not_step_owner"
    with pytest.raises(ValidationError):
        start(cast, household_a, actor=cast.township)
    assert MonitoringObject.objects.count() == 0


def test_the_generic_start_page_cannot_open_a_monitoring_case(cast, household_a):
    with pytest.raises(ValidationError) as caught:
        services.workflow_start(
            actor=cast.cadre, household=household_a, kind=CaseWorkflow.Kind.MONITORING
        )
    assert caught.value.code == "start_refused"
    assert "识别为监测对象" in caught.value.messages[0]


def test_the_deadline_is_fifteen_days_of_the_clue(cast, household_a):
    found = start(cast, household_a)
    assert found.identification.deadline == day(0) + datetime.timedelta(days=15)


def test_working_days_with_the_holiday_calendar_where_the_province_counts_so(cast, household_a):
    LocalRules.objects.create(
        region=household_a.village.parent.parent.parent.parent,
        identify_days=20,
        identify_in_working_days=True,
    )
    clue_date = datetime.date(2026, 9, 25)  # a Friday before 国庆
    CalendarDay.objects.filter(date__range=(clue_date, clue_date + datetime.timedelta(60))).delete()
    for offset in range(6, 14):  # 1–8 October off
        CalendarDay.objects.create(
            date=clue_date + datetime.timedelta(days=offset), kind=CalendarDay.Kind.HOLIDAY
        )
    CalendarDay.objects.create(date=datetime.date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY)
    due = clues.decide_due(clue_date, procedures.rules_for(household_a.village))
    # 28–30 Sep (3), 9 Oct (1), 10 Oct Saturday worked (1), 12–16 (5), 19–23 (5), 26–30 (5).
    assert due == datetime.date(2026, 10, 30)
    assert due == workflows.add_working_days(clue_date, 20)


def test_the_green_channel_is_only_for_disasters_and_accidents(cast, household_a):
    with pytest.raises(ValidationError) as caught:
        start(cast, household_a, green_channel=True, green_channel_reason="住院")
    assert caught.value.error_dict["green_channel"][0].code == "green_channel_not_allowed"
    assert "因自然灾害、因意外事故" in caught.value.error_dict["green_channel"][0].messages[0]
    assert MonitoringObject.objects.count() == 0
    found = start(
        cast,
        household_a,
        risk_types=["disaster", "illness"],
        green_channel=True,
        green_channel_reason="洪灾房屋受损",
    )
    assert found.green_channel is True
    assert procedures.measures_may_start(found) is True


def test_measures_wait_for_monitoring_without_the_green_channel(cast, household_a):
    found = start(cast, household_a)
    assert procedures.measures_may_start(found) is False
    response = login(cast.cadre).get(reverse("monitoring:object", args=[found.pk]))
    assert reverse("assistance:household", args=[household_a.pk]) not in response.content.decode()
    found = walk(cast, found)
    assert procedures.measures_may_start(found) is True
    response = login(cast.cadre).get(reverse("monitoring:object", args=[found.pk]))
    assert reverse("assistance:household", args=[household_a.pk]) in response.content.decode()


def test_withdrawal_marks_the_object_not_included_and_answers_the_clues(cast, household_a):
    clue = _clue(cast, household_a)
    found = start(cast, household_a, clues=[clue])
    services.workflow_withdraw(
        actor=cast.cadre, workflow=found.identification, reason="核实收入高于标准"
    )
    found.refresh_from_db()
    clue.refresh_from_db()
    assert found.state == MonitoringObject.State.NOT_INCLUDED
    assert "核实收入高于标准" in found.note
    assert clue.state == Clue.State.NOT_INCLUDED
    assert "核实收入高于标准" in clue.result_reason
    # A household may be monitored again later: the history is kept.
    again = start(cast, household_a)
    assert MonitoringObject.objects.filter(household=household_a).count() == 2
    assert again.state == MonitoringObject.State.IDENTIFYING


def test_an_objection_during_the_notice_sends_it_back_to_the_appraisal(cast, household_a):
    found = start(cast, household_a)
    workflow = to_notice(cast, found)
    notice = services.notice_start(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="notice",
        start_date=day(3),
        days=5,
        phone="0855-1234567",
    )
    services.notice_objection_record(
        actor=cast.cadre, notice=notice, content="收入不实", received_on=day(4)
    )
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"
    # The township sends it back from its review too.
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="再评议",
        attendance=9,
        evidence=scan("m2.jpg"),
        acted_on=day(9),
    )
    workflow.refresh_from_db()
    run_notice(cast.cadre, workflow, day(10))
    services.workflow_return(
        actor=cast.township, workflow=workflow, expected_step="township_review", opinion="材料不全"
    )
    workflow.refresh_from_db()
    assert workflow.step == "appraisal"
    assert WorkflowStep.objects.filter(workflow=workflow, decision="returned").count() == 1


def test_the_notice_sheet_shows_no_id_and_no_cause(cast, household_a):
    found = start(cast, household_a)
    workflow = to_notice(cast, found)
    notice = services.notice_start(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="notice",
        start_date=day(3),
        days=5,
        phone="0855-1234567",
    )
    client = login(cast.cadre)
    page = client.get(reverse("households:workflow", args=[workflow.pk]))
    assert page.status_code == 200
    assert "村内公示" in page.content.decode()
    sheet = client.get(reverse("households:notice-print", args=[notice.pk])).content.decode()
    head = household_a.members.get(relation="户主")
    assert "防止返贫监测对象识别" in sheet
    assert "贫困户退出" not in sheet
    assert head.name in sheet
    assert mask(head.id_number) not in sheet
    assert head.id_number[6:14] not in sheet  # the birth date part
    assert "身份证号码" not in sheet
    assert household_a.main_cause not in sheet
    assert household_a.phone == "" or household_a.phone not in sheet


def test_a_longer_local_notice_rule_is_checked_at_the_decision(cast, household_a):
    LocalRules.objects.create(region=household_a.village, notice_days=7)
    found = start(cast, household_a)
    workflow = to_notice(cast, found)
    run_notice(cast.cadre, workflow, day(3), days=5)
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="同意",
        acted_on=day(9),
    )
    with pytest.raises(ValidationError) as caught:
        services.workflow_step_complete(
            actor=cast.county,
            workflow=workflow,
            expected_step="county_approval",
            opinion="纳入",
            acted_on=day(10),
        )
    assert "公示期5天，本地规定不少于7天" in caught.value.messages[0]
    found.refresh_from_db()
    assert found.state == MonitoringObject.State.IDENTIFYING


def test_the_case_deadline_counts_working_days_past_the_holidays(cast, household_a):
    LocalRules.objects.create(
        region=household_a.village, identify_days=20, identify_in_working_days=True
    )
    clue_date = day(0)
    CalendarDay.objects.filter(
        date__range=(clue_date, clue_date + datetime.timedelta(days=60))
    ).delete()
    plain = workflows.add_working_days(clue_date, 20)
    weekdays = [
        clue_date + datetime.timedelta(days=offset)
        for offset in range(1, 15)
        if (clue_date + datetime.timedelta(days=offset)).weekday() < 5
    ][:3]
    for holiday in weekdays:
        CalendarDay.objects.create(date=holiday, kind=CalendarDay.Kind.HOLIDAY)
    found = start(cast, household_a, clue_date=clue_date)
    deadline = found.identification.deadline
    assert deadline == workflows.add_working_days(clue_date, 20)
    # Three weekdays off push the deadline three working days later.
    assert deadline == workflows.add_working_days(plain, 3)
    assert deadline > plain
