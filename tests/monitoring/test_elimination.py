"""风险消除: each rule of DOMAIN §7 refuses by name (at the proposal and again at the county's
decision), the no-labour rule keeps the object monitored with 兜底, a proposal that passes runs
公示 → 乡镇 → 县 and marks the object eliminated, and contract measures go on."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from assistance import services as assistance_services
from assistance.models import Measure
from households import services
from households.models import Household, Member
from monitoring import clues, measures, objects, procedures
from monitoring.models import Clue, MonitoringLine, MonitoringObject, ObjectRisk
from tests.monitoring.object_fixtures import assess, identify, run_notice, set_line
from tests.project import app_today


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ready(cast, county, household_a) -> MonitoringObject:
    """A monitored object that meets every rule: income above the line for 190 days, its
    illness resolved, 两不愁三保障 and water secure, no new clue, members able to work."""
    set_line(county.province)
    found = identify(cast, household_a)
    assess(cast, household_a, app_today() - datetime.timedelta(days=200), "30000")
    assess(cast, household_a, app_today() - datetime.timedelta(days=10), "32000")
    for risk in found.risks.all():
        objects.risk_resolve(actor=cast.cadre, risk=risk, resolved_on=app_today())
    return found


def propose(cast, found, way="assisted") -> object:
    return procedures.elimination_propose(
        actor=cast.cadre,
        monitoring_object=found,
        way=way,
        basis="务工收入稳定，医疗费用已报销",
        acted_on=app_today() - datetime.timedelta(days=7),
    )


def refused(cast, found) -> str:
    with pytest.raises(ValidationError) as caught:
        propose(cast, found)
    assert caught.value.code == "start_refused"
    found.refresh_from_db()
    assert found.state == MonitoringObject.State.MONITORED
    assert found.elimination_id is None
    assert found.elimination_way == ""
    return caught.value.messages[0]


def test_a_proposal_meeting_every_rule_runs_to_the_county(cast, ready):
    assert procedures.elimination_refusals(ready, app_today()) == []
    workflow = propose(cast, ready)
    assert workflow.step == "notice"
    run_notice(cast.cadre, workflow, app_today() - datetime.timedelta(days=5))
    services.workflow_step_complete(
        actor=cast.township, workflow=workflow, expected_step="township_review", opinion="同意"
    )
    services.workflow_step_complete(
        actor=cast.county, workflow=workflow, expected_step="county_approval", opinion="审定"
    )
    ready.refresh_from_db()
    assert ready.state == MonitoringObject.State.ELIMINATED
    assert ready.eliminated_on == app_today()
    assert ready.elimination_way == "assisted"
    assert ready.elimination_basis == "务工收入稳定，医疗费用已报销"


def test_income_below_the_line_is_refused_by_name(cast, ready):
    assess(cast, ready.household, app_today() - datetime.timedelta(days=1), "10000")
    message = refused(cast, ready)
    assert "收入稳定超过监测标准" in message
    assert "人均纯收入5000.00元，未超过" in message


def test_income_above_the_line_for_less_than_six_months_is_refused(cast, county, household_a):
    set_line(county.province)
    found = identify(cast, household_a)
    ObjectRisk.objects.filter(monitoring_object=found).update(resolved_on=app_today())
    assess(cast, household_a, app_today() - datetime.timedelta(days=200), "8000")  # 4000 a head
    assess(cast, household_a, app_today() - datetime.timedelta(days=100), "30000")
    assess(cast, household_a, app_today() - datetime.timedelta(days=10), "30000")
    message = refused(cast, found)
    assert "收入稳定超过监测标准" in message
    assert "不满6个月" in message


def test_a_year_without_a_line_is_named(cast, ready):
    MonitoringLine.objects.filter(year=app_today().year).delete()
    message = refused(cast, ready)
    assert f"{app_today().year}年度未设定防返贫监测标准" in message


def test_unresolved_rigid_costs_are_refused_by_name(cast, ready):
    ObjectRisk.objects.filter(monitoring_object=ready).update(resolved_on=None)
    message = refused(cast, ready)
    assert "刚性支出问题已解决：风险未解除：因病" in message


def test_unsafe_water_and_housing_are_refused_by_name(cast, ready):
    Household.objects.filter(pk=ready.household_id).update(water_safe=False, house_grade="D")
    message = refused(cast, ready)
    assert "饮水安全有保障：饮水不安全" in message
    assert "住房安全有保障：住房为D级危房且未改造" in message


def test_a_new_risk_after_identification_is_refused_by_name(cast, ready):
    head = ready.household.members.get(relation="户主")
    clue = clues.clue_create(
        channel=Clue.Channel.DEPARTMENT,
        name=head.name,
        id_number=head.id_number,
        risk_type="accident",
        received_on=app_today(),
        actor=cast.county,
        department="public_security",
    )
    assert clue.state == Clue.State.DUPLICATE  # closed at once: the household is monitored
    message = refused(cast, ready)
    assert "无新增风险：识别后有新的风险线索" in message
    assert "因意外事故" in message


def test_no_labour_capacity_is_never_eliminated_and_stays_monitored(cast, ready):
    Member.objects.filter(household=ready.household).update(labour_skill="丧失劳动力")
    message = refused(cast, ready)
    assert "全户无劳动能力" in message
    assert "兜底保障" in message
    # The flag the village sets counts as well, whatever the members' skills.
    Member.objects.filter(household=ready.household).update(labour_skill="普通劳动力")
    MonitoringObject.objects.filter(pk=ready.pk).update(no_labour_capacity=True)
    ready.refresh_from_db()
    assert "全户无劳动能力" in refused(cast, ready)


def test_rules_broken_after_the_proposal_refuse_the_county_decision(cast, ready):
    workflow = propose(cast, ready)
    run_notice(cast.cadre, workflow, app_today() - datetime.timedelta(days=5))
    services.workflow_step_complete(
        actor=cast.township, workflow=workflow, expected_step="township_review", opinion="同意"
    )
    ObjectRisk.objects.filter(monitoring_object=ready).update(resolved_on=None)
    with pytest.raises(ValidationError) as caught:
        services.workflow_step_complete(
            actor=cast.county, workflow=workflow, expected_step="county_approval", opinion="审定"
        )
    assert caught.value.code == "done_refused"
    assert "刚性支出问题已解决" in caught.value.messages[0]
    ready.refresh_from_db()
    assert ready.state == MonitoringObject.State.MONITORED


def test_a_withdrawn_proposal_leaves_the_object_monitored(cast, ready):
    workflow = propose(cast, ready)
    services.workflow_withdraw(actor=cast.cadre, workflow=workflow, reason="收入有波动")
    ready.refresh_from_db()
    assert ready.state == MonitoringObject.State.MONITORED
    assert ready.elimination_id is None
    assert ready.elimination_way == ""


def test_contract_measures_continue_after_elimination(cast, ready):
    loan = assistance_services.measure_create(
        actor=cast.cadre,
        household=ready.household,
        data={
            "year": app_today().year,
            "category": "金融帮扶",
            "content": "小额信贷5万元",
            "planned_start": ready.identified_on,
            "planned_end": app_today() + datetime.timedelta(days=400),
            "amount": "0",
        },
    )
    workflow = propose(cast, ready)
    run_notice(cast.cadre, workflow, app_today() - datetime.timedelta(days=5))
    services.workflow_step_complete(
        actor=cast.township, workflow=workflow, expected_step="township_review", opinion="同意"
    )
    services.workflow_step_complete(
        actor=cast.county, workflow=workflow, expected_step="county_approval", opinion="审定"
    )
    ready.refresh_from_db()
    loan.refresh_from_db()
    assert loan.status == Measure.Status.PLANNED  # not ended by the elimination
    assert measures.object_plan(ready, app_today()).continuing == [loan]


def test_a_risk_is_resolved_by_the_village_cadre_on_a_past_date(cast, county, household_a):
    found = identify(cast, household_a)
    risk = found.risks.get()
    with pytest.raises(ValidationError) as caught:
        objects.risk_resolve(actor=cast.cadre2, risk=risk, resolved_on=app_today())
    assert caught.value.code == "not_allowed"
    with pytest.raises(ValidationError) as caught:
        objects.risk_resolve(
            actor=cast.cadre, risk=risk, resolved_on=app_today() + datetime.timedelta(days=1)
        )
    assert "resolved_on" in caught.value.error_dict
    risk.refresh_from_db()
    assert risk.resolved_on is None
    objects.risk_resolve(actor=cast.cadre, risk=risk, resolved_on=app_today())
    risk.refresh_from_db()
    assert risk.resolved_on == app_today()
