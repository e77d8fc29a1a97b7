"""The offline page's monitoring kinds (docs/offline.md): a clue's 入户核实 and the 集中排查表
recorded without signal. For each: the bundle (scoped and masked as online, capped), applied,
a retried key applied once, a conflict answered with both sides and applied after the user's
decision, a record out of the user's scope refused, an invalid entry refused with the online
form's errors, and the roles that do not do the form refused."""

from __future__ import annotations

import datetime
import uuid

import pytest

from assistance.models import OfflineSync
from monitoring import inbox, offline, sweeps
from monitoring.models import Clue, SweepHousehold
from povertyapp.privacy import mask
from tests import factories
from tests.conftest import login
from tests.monitoring.clue_fixtures import consent_scan, declared, freeze, head_id
from tests.monitoring.sweep_fixtures import open_sweep, visit

pytestmark = pytest.mark.django_db
D = datetime.date

BUNDLE = "/api/v1/monitoring/offline/bundle/"
VERIFY = "/api/v1/monitoring/offline/clue-verify/"
SWEEP = "/api/v1/monitoring/offline/sweep/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- 入户核实 of a clue ---------------------------------------------------------------------


@pytest.fixture
def clue(monkeypatch, county, household_a):
    today = freeze(monkeypatch, D(2026, 4, 8))
    return declared(village=county.village_a, id_number=head_id(household_a), received_on=today)


def _verify_entry(clue, **overrides):
    entry = {
        "key": str(uuid.uuid4()),
        "record": clue.pk,
        "version": clue.version,
        "recorded_at": "2026-04-08T10:00:00+08:00",
        "verified_on": "2026-04-08",
        "note": "妻子住院属实",
        "consent_signed_on": "2026-04-08",
        "consent": consent_scan(),
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


def _verify(user, entry):
    # Multipart, as the phone sends it: the 承诺授权 photo is a file.
    return login(user).post(VERIFY, {**entry, "consent": entry.get("consent") or ""})


def test_the_bundle_holds_the_cadre_s_clues_waiting_masked_and_the_form(clue, cast, household_a):
    data = login(cast.cadre).get(BUNDLE).json()
    assert [row["id"] for row in data["clues"]] == [clue.pk]
    row = data["clues"][0]
    assert row["id_number"] == mask(clue.id_number) != clue.id_number
    assert (row["version"], row["consent_on_file"]) == (1, False)
    names = [field["name"] for field in data["forms"]["clue_verify"]]
    assert names == ["verified_on", "note", "consent", "consent_signed_on"]
    kinds = {field["name"]: field["kind"] for field in data["forms"]["clue_verify"]}
    assert kinds["consent"] == "file"
    # Another village's cadre does not get it; nor does a verified clue stay in the list.
    assert login(cast.cadre2).get(BUNDLE).json()["clues"] == []


def test_a_verify_entry_is_applied_through_the_online_service(clue, cast):
    response = _verify(cast.cadre, _verify_entry(clue))
    assert response.status_code == 201, response.content
    assert response.json()["replayed"] is False
    clue.refresh_from_db()
    assert (clue.state, clue.verified_by, clue.version) == (Clue.State.VERIFIED, cast.cadre, 2)
    assert clue.consent.name.endswith(".jpg")
    sync = OfflineSync.objects.get()
    assert (sync.kind, sync.target, sync.user) == ("clue_verify", clue.pk, cast.cadre)


def test_a_retried_verify_entry_is_applied_once(clue, cast):
    entry = _verify_entry(clue)
    assert _verify(cast.cadre, entry).status_code == 201
    again = _verify(cast.cadre, {**entry, "consent": consent_scan()})
    assert again.status_code == 200
    assert again.json() == {"result": "applied", "replayed": True, "version": 2, "record": clue.pk}
    assert OfflineSync.objects.count() == 1
    clue.refresh_from_db()
    assert clue.version == 2


def test_a_verify_entry_on_a_changed_clue_is_a_conflict_then_applied_on_decision(clue, cast):
    Clue.objects.filter(pk=clue.pk).update(version=3, verification_note="")
    entry = _verify_entry(clue)
    response = _verify(cast.cadre, entry)
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "conflict"
    assert data["mine"]["version"] == 1 and data["mine"]["fields"]["note"] == "妻子住院属实"
    assert data["server"]["version"] == 3 and data["server"]["fields"]["state"] == "待核实"
    clue.refresh_from_db()
    assert (clue.state, OfflineSync.objects.count()) == (Clue.State.PENDING, 0)
    decided = _verify(cast.cadre, {**entry, "version": 3, "consent": consent_scan()})
    assert decided.status_code == 201
    clue.refresh_from_db()
    assert (clue.state, clue.version) == (Clue.State.VERIFIED, 4)


def test_a_verify_entry_for_a_clue_out_of_scope_is_refused(clue, cast, county):
    Clue.objects.filter(pk=clue.pk).update(region=county.village_b)
    response = _verify(cast.cadre, _verify_entry(clue))
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    assert "不在您负责的区域内" in response.json()["detail"]
    assert OfflineSync.objects.count() == 0


def test_a_verify_entry_without_the_consent_scan_is_refused_naming_it(clue, cast):
    response = _verify(cast.cadre, _verify_entry(clue, consent=None, note=""))
    assert response.status_code == 400
    errors = response.json()
    assert "note" in errors
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING
    response = _verify(cast.cadre, _verify_entry(clue, consent=None))
    assert response.status_code == 400
    assert "承诺授权书" in response.json()["consent"][0]
    assert OfflineSync.objects.count() == 0


def test_roles_that_do_not_verify_are_refused(clue, cast):
    for user in (cast.helper, cast.township, cast.auditor):
        assert _verify(user, _verify_entry(clue)).status_code == 403
    for user in (cast.helper, cast.sysadmin):
        assert login(user).get(BUNDLE).status_code == 403
    assert OfflineSync.objects.count() == 0


def test_another_accounts_key_is_refused(clue, cast, county, household_b):
    entry = _verify_entry(clue)
    assert _verify(cast.cadre, entry).status_code == 201
    other = declared(
        village=county.village_b, id_number=head_id(household_b), received_on=D(2026, 4, 8)
    )
    response = _verify(cast.cadre2, {**_verify_entry(other), "key": entry["key"]})
    assert response.status_code == 400
    assert Clue.objects.get(pk=other.pk).state == Clue.State.PENDING


# --- 集中排查表 -------------------------------------------------------------------------------


@pytest.fixture
def sweep_row(monkeypatch, cast, county, household_a, household_b):
    monkeypatch.setattr("households.services.common.today", lambda: D(2026, 6, 20))
    sweep = open_sweep(cast, county)
    return SweepHousehold.objects.get(sweep=sweep, household=household_a)


def _sweep_entry(row, **overrides):
    entry = {
        "key": str(uuid.uuid4()),
        "record": row.pk,
        "version": row.version,
        "recorded_at": "2026-06-10T10:00:00+08:00",
        "visited": "yes",
        "visited_on": "2026-06-10",
        "first_surveyor": "张明",
        "second_surveyor": "李华",
        "income_change": "down",
        "per_capita_income": "6800",
        "risk_found": True,
        "risk_types": ["illness"],
        "note": "户主住院",
        **{key: "yes" for key, _label in sweeps.YES_NO_QUESTIONS},
    }
    entry.update(overrides)
    return entry


def _sweep(user, entry):
    return login(user).post(SWEEP, entry, content_type="application/json")


def test_the_bundle_holds_the_village_s_pending_sweep_households(sweep_row, cast, household_a):
    data = login(cast.cadre).get(BUNDLE).json()
    assert [row["id"] for row in data["sweep_households"]] == [sweep_row.pk]
    head = household_a.members.get(relation="户主", is_active=True)
    assert data["sweep_households"][0]["head_id_number"] == mask(head.id_number)
    names = [field["name"] for field in data["forms"]["sweep"]]
    assert names[:3] == ["visited", "visited_on", "first_surveyor"]
    assert "food_secure" in names and "risk_types" in names
    county_data = login(cast.county).get(BUNDLE).json()
    assert len(county_data["sweep_households"]) == 2 and county_data["capped"] == {}


def test_the_bundle_is_capped_with_the_count(sweep_row, cast, monkeypatch):
    monkeypatch.setattr(offline, "LIMIT", 1)
    data = login(cast.county).get(BUNDLE).json()
    assert len(data["sweep_households"]) == 1
    assert data["capped"] == {"sweep_households": {"kept": 1, "total": 2}}


def test_a_sweep_entry_is_applied_once(sweep_row, cast):
    entry = _sweep_entry(sweep_row)
    response = _sweep(cast.cadre, entry)
    assert response.status_code == 201, response.content
    sweep_row.refresh_from_db()
    assert (sweep_row.state, sweep_row.risk_types, sweep_row.version) == ("visited", ["illness"], 2)
    assert sweep_row.answers["income_change"] == "down"
    again = _sweep(cast.cadre, entry)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert OfflineSync.objects.filter(kind="sweep").count() == 1
    sweep_row.refresh_from_db()
    assert sweep_row.version == 2
    # Applied: the household leaves the cadre's pending list.
    assert login(cast.cadre).get(BUNDLE).json()["sweep_households"] == []


def test_a_sweep_entry_on_a_changed_row_is_a_conflict(sweep_row, cast):
    sweeps.sweep_visit_record(
        actor=cast.county, sweep_household=sweep_row, visit=visit(), expected_version=1
    )
    entry = _sweep_entry(sweep_row)
    response = _sweep(cast.cadre, entry)
    assert response.status_code == 409
    data = response.json()
    assert data["server"]["version"] == 2
    assert data["server"]["fields"]["state"] == "已排查"
    assert data["server"]["who"] == cast.county.display_name
    assert data["mine"]["fields"]["risk_types"] == ["illness"]
    sweep_row.refresh_from_db()
    assert sweep_row.risk_found is False
    assert _sweep(cast.cadre, {**entry, "version": 2}).status_code == 201
    sweep_row.refresh_from_db()
    assert (sweep_row.risk_found, sweep_row.recorded_by) == (True, cast.cadre)


def test_a_sweep_entry_out_of_scope_is_refused(sweep_row, cast, county):
    SweepHousehold.objects.filter(pk=sweep_row.pk).update(village=county.village_b)
    response = _sweep(cast.cadre, _sweep_entry(sweep_row))
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    assert "不在您负责的区域内" in response.json()["detail"]
    assert OfflineSync.objects.count() == 0


def test_an_invalid_sweep_entry_gets_the_service_s_errors(sweep_row, cast):
    response = _sweep(cast.cadre, _sweep_entry(sweep_row, second_surveyor="张明", note=""))
    assert response.status_code == 400
    errors = response.json()
    assert "入户排查须由两名不同人员完成" in errors["second_surveyor"][0]
    assert "note" in errors
    sweep_row.refresh_from_db()
    assert (sweep_row.state, OfflineSync.objects.count()) == ("pending", 0)


def test_roles_that_do_not_record_sweeps_are_refused(sweep_row, cast):
    for user in (cast.helper, cast.township, cast.auditor):
        assert _sweep(user, _sweep_entry(sweep_row)).status_code == 403
    assert login(cast.township).get(BUNDLE).status_code == 403
    assert OfflineSync.objects.count() == 0


def test_the_inbox_still_lists_the_verified_clue_as_done(clue, cast):
    # The offline 入户核实 is the online one: the clue's page shows it like any other.
    _verify(cast.cadre, _verify_entry(clue))
    assert inbox.clue_get_for_user(user=cast.cadre, clue_id=clue.pk).verified_by == cast.cadre


# --- the 入户核实 step of a procedure ------------------------------------------------------------

STEP = "/api/v1/monitoring/offline/step/"


@pytest.fixture
def case(cast, household_a):
    from tests.monitoring.object_fixtures import start

    return start(cast, household_a).identification


def _step_entry(case, **overrides):
    entry = {
        "key": str(uuid.uuid4()),
        "record": case.pk,
        "step": "home_visit",
        "version": offline.case_version(case),
        "recorded_at": "2026-06-10T10:00:00+08:00",
        "opinion": "入户核实：收入下降属实",
        "acted_on": "",
    }
    entry.update(overrides)
    return entry


def _step(user, entry):
    return login(user).post(STEP, entry, content_type="application/json")


def test_the_bundle_holds_the_cadre_s_cases_at_a_home_visit_step(case, cast, household_a):
    data = login(cast.cadre).get(BUNDLE).json()
    assert [(row["id"], row["step"]) for row in data["steps"]] == [(case.pk, "home_visit")]
    assert data["steps"][0]["version"] == offline.case_version(case)
    assert [field["name"] for field in data["forms"]["step"]] == ["opinion", "acted_on"]
    assert login(cast.cadre2).get(BUNDLE).json()["steps"] == []
    assert login(cast.county).get(BUNDLE).json()["steps"] == []


def test_a_step_entry_is_applied_once_through_the_step_service(case, cast):
    entry = _step_entry(case)
    response = _step(cast.cadre, entry)
    assert response.status_code == 201, response.content
    case.refresh_from_db()
    assert case.step == "appraisal"
    done = case.steps.get(step="home_visit")
    assert (done.actor, done.opinion) == (cast.cadre, "入户核实：收入下降属实")
    again = _step(cast.cadre, entry)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert case.steps.filter(step="home_visit").count() == 1
    assert OfflineSync.objects.filter(kind="step").count() == 1


def test_a_step_entry_on_a_case_acted_on_meanwhile_is_a_conflict(case, cast):
    from households import services as household_services

    entry = _step_entry(case)
    household_services.workflow_step_complete(
        actor=cast.cadre, workflow=case, expected_step="home_visit", opinion="在线已核实"
    )
    response = _step(cast.cadre, entry)
    assert response.status_code == 409
    data = response.json()
    assert data["server"]["fields"]["opinion"] == "在线已核实"
    assert data["server"]["who"] == cast.cadre.display_name
    assert data["mine"]["fields"]["opinion"] == "入户核实：收入下降属实"
    assert case.steps.filter(step="home_visit").count() == 1
    # Keeping mine after the case moved on: the service refuses it as online, naming the step.
    decided = _step(cast.cadre, {**entry, "version": data["server"]["version"]})
    assert decided.status_code == 409
    assert OfflineSync.objects.count() == 0


def test_a_step_entry_out_of_scope_invalid_or_by_another_role_is_refused(case, cast, county):
    assert _step(cast.cadre, _step_entry(case, opinion="")).status_code == 400
    assert _step(cast.cadre, _step_entry(case, step="appraisal")).status_code == 400
    for user in (cast.helper, cast.township, cast.county):
        assert _step(user, _step_entry(case)).status_code == 403
    case.household.village = county.village_b
    case.household.save(update_fields=["village"])
    response = _step(cast.cadre, _step_entry(case))
    assert response.status_code == 403 and response.json()["code"] == "out_of_scope"
    case.refresh_from_db()
    assert case.step == "home_visit" and OfflineSync.objects.count() == 0


def test_a_key_of_another_kind_is_refused(sweep_row, cast, household_a):
    entry = _sweep_entry(sweep_row)
    assert _sweep(cast.cadre, entry).status_code == 201
    visit = {
        "key": entry["key"],
        "household": household_a.pk,
        "version": household_a.version,
        "date": "2026-06-10",
        "seen": "口粮充足",
    }
    response = login(cast.cadre).post(
        "/api/v1/assistance/offline/visits/", visit, content_type="application/json"
    )
    assert response.status_code == 400
    assert OfflineSync.objects.count() == 1


def _at_verification(cast, county, kind: str):
    """An identification or exit case standing at its 核实 step (the village's 入户核实), reached
    through the online services."""
    from households import services
    from households.models import CaseWorkflow, Household
    from tests.households.test_workflow import day, exit_ready, minutes

    if kind == CaseWorkflow.Kind.IDENTIFICATION:
        household = factories.household(
            actor=cast.county,
            village=county.village_a,
            status=Household.Status.NON_REGISTERED,
            main_cause="因病",
        )
    else:
        household = exit_ready(cast, county)
    workflow = services.workflow_start(
        actor=cast.cadre, household=household, kind=kind, effective_date=day(0)
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议通过",
        attendance=15,
        evidence=minutes(),
        acted_on=day(1),
    )
    workflow.refresh_from_db()
    assert workflow.step == "verification"
    return workflow


@pytest.mark.parametrize("kind", ["identification", "exit"])
def test_the_verification_step_of_identification_and_exit_is_done_offline(kind, cast, county):
    """识别's and 退出's 核实 share the offline form of 监测对象识别's 入户核实: in the bundle,
    applied once through the step service, a retried key replayed, a moved case a conflict."""
    workflow = _at_verification(cast, county, kind)
    steps = login(cast.cadre).get(BUNDLE).json()["steps"]
    assert [(row["id"], row["step"]) for row in steps] == [(workflow.pk, "verification")]
    assert steps[0]["version"] == offline.case_version(workflow)

    entry = _step_entry(workflow, step="verification", opinion="入户核实：情况属实")
    stale = dict(entry, key=str(uuid.uuid4()))
    response = _step(cast.cadre, entry)
    assert response.status_code == 201, response.content
    workflow.refresh_from_db()
    assert workflow.step != "verification"
    done = workflow.steps.get(step="verification")
    assert (done.actor, done.opinion) == (cast.cadre, "入户核实：情况属实")
    assert _step(cast.cadre, entry).json()["replayed"] is True
    conflict = _step(cast.cadre, stale)  # downloaded before the step was done
    assert conflict.status_code == 409, conflict.content
    assert workflow.steps.filter(step="verification").count() == 1
    assert OfflineSync.objects.filter(kind="step").count() == 1
