"""The procedures' API (issue 16): cases, their steps, 公示 and objections, through the same
services as the pages: scoped (404), role-checked (403), refused with messages (400), and a
case that moved on answers 409 with its current version."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from households import services
from households.models import CaseWorkflow, Household, HouseholdEvent, PublicNotice
from povertyapp.models import User
from tests import factories
from tests.conftest import login
from tests.project import app_today

CASES = reverse("case-list")
NOTICES = reverse("notice-list")


# The date each test started on: day(n) counts from it, so a test that drives two cases and
# compares them gives both the same dates even when it crosses midnight.
_started_on: list[datetime.date] = []


@pytest.fixture(autouse=True)
def _one_date_per_test():
    _started_on[:] = [app_today()]
    yield
    _started_on.clear()


def opened() -> datetime.date:
    """The case opened 30 days before the test started."""
    return _started_on[0] - datetime.timedelta(days=30)


def day(number: int) -> str:
    return (opened() + datetime.timedelta(days=number)).isoformat()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def minutes() -> SimpleUploadedFile:
    return SimpleUploadedFile("minutes.jpg", b"\xff\xd8\xff\xe0minutes", content_type="image/jpeg")


def applicant_in(cast, village) -> Household:
    return factories.household(
        actor=cast.county,
        village=village,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )


@pytest.fixture
def applicant(cast, county) -> Household:
    return applicant_in(cast, county.village_a)


def post(user: User, url: str, data: dict[str, Any]) -> Any:
    return login(user).post(url, data, content_type="application/json")


def start(cast, household: Household, **extra: Any) -> dict[str, Any]:
    response = post(
        cast.cadre,
        CASES,
        {
            "household": household.pk,
            "kind": "identification",
            "opinion": "本人申请",
            "effective_date": day(0),
            **extra,
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def act(user: User, case: dict[str, Any], action: str, data: dict[str, Any]) -> dict[str, Any]:
    """One action on the case's current version; returns the case as the API answers it."""
    url = reverse(f"case-{action}", args=[case["id"]])
    body = {"version": case["version"], **data}
    # With a file: multipart, as a mobile client sends it; else JSON.
    response = login(user).post(url, body) if "evidence" in data else post(user, url, body)
    assert response.status_code == 200, response.content
    return response.json()


def object_to(user: User, case: dict[str, Any], data: dict[str, Any]) -> Any:
    return post(user, reverse("notice-objections", args=[case["open_notice"]]), data)


# --- the whole procedure ----------------------------------------------------------------------


def _through_the_api(cast, household: Household) -> None:
    case = start(cast, household)
    assert (case["step"], case["can_act"]) == ("appraisal", True)
    appraisal = {"opinion": "评议通过", "attendance": 23, "acted_on": day(1)}
    case = act(cast.cadre, case, "complete", {**appraisal, "evidence": minutes()})
    assert case["records"][-1]["evidence_url"].startswith("/files/")
    case = act(cast.cadre, case, "complete", {"opinion": "核实属实", "acted_on": day(2)})
    notice = {"start_date": day(3), "days": 7, "phone": "0855-1234567"}
    case = act(cast.cadre, case, "notice", notice)
    assert case["step"] == "first_notice" and case["open_notice"]
    # An objection during the 公示 sends the case back to the 民主评议.
    response = object_to(cast.cadre, case, {"content": "家有轿车", "received_on": day(4)})
    assert response.status_code == 201, response.content
    case = login(cast.cadre).get(reverse("case-detail", args=[case["id"]])).json()
    assert case["step"] == "appraisal"
    appraisal = {"opinion": "复议通过", "attendance": 20, "acted_on": day(5)}
    case = act(cast.cadre, case, "complete", {**appraisal, "evidence": minutes()})
    case = act(cast.cadre, case, "complete", {"opinion": "车辆已变卖", "acted_on": day(6)})
    case = act(cast.cadre, case, "notice", {**notice, "start_date": day(7)})
    case = act(cast.cadre, case, "complete", {})
    assert case["step"] == "township_review"
    case = act(cast.township, case, "complete", {"opinion": "同意", "acted_on": day(14)})
    case = act(cast.township, case, "notice", {**notice, "start_date": day(14)})
    case = act(cast.township, case, "complete", {})
    case = act(cast.county, case, "complete", {"opinion": "审定同意", "acted_on": day(21)})
    case = act(cast.county, case, "complete", {"opinion": "已公告", "acted_on": day(22)})
    assert case["state"] == "done"


def _through_the_pages(cast, household: Household) -> None:
    start_url = reverse("households:workflow-start", args=[household.pk, "identification"])
    response = login(cast.cadre).post(start_url, {"opinion": "本人申请", "effective_date": day(0)})
    assert response.status_code == 302
    workflow = CaseWorkflow.objects.get(household=household)

    def page(user: User, name: str, data: dict[str, Any]) -> None:
        workflow.refresh_from_db()
        url = reverse(f"households:{name}", args=[workflow.pk])
        response = login(user).post(url, {"step": workflow.step, **data})
        assert response.status_code == 302, response.content.decode()[-2000:]

    page(
        cast.cadre,
        "workflow-complete",
        {"opinion": "评议通过", "attendance": 23, "acted_on": day(1), "evidence": minutes()},
    )
    page(cast.cadre, "workflow-complete", {"opinion": "核实属实", "acted_on": day(2)})
    notice = {"start_date": day(3), "days": 7, "phone": "0855-1234567"}
    page(cast.cadre, "notice-start", notice)
    page(cast.cadre, "notice-objection", {"content": "家有轿车", "received_on": day(4)})
    page(
        cast.cadre,
        "workflow-complete",
        {"opinion": "复议通过", "attendance": 20, "acted_on": day(5), "evidence": minutes()},
    )
    page(cast.cadre, "workflow-complete", {"opinion": "车辆已变卖", "acted_on": day(6)})
    page(cast.cadre, "notice-start", {**notice, "start_date": day(7)})
    page(cast.cadre, "workflow-complete", {})
    page(cast.township, "workflow-complete", {"opinion": "同意", "acted_on": day(14)})
    page(cast.township, "notice-start", {**notice, "start_date": day(14)})
    page(cast.township, "workflow-complete", {})
    page(cast.county, "workflow-complete", {"opinion": "审定同意", "acted_on": day(21)})
    page(cast.county, "workflow-complete", {"opinion": "已公告", "acted_on": day(22)})


def _history(household: Household) -> dict[str, Any]:
    workflow = CaseWorkflow.objects.get(household=household)
    household.refresh_from_db()
    return {
        "status": household.status,
        "state": workflow.state,
        "events": list(
            household.events.filter(
                kind__in=[HouseholdEvent.Kind.IDENTIFIED, HouseholdEvent.Kind.CASE_RETURNED]
            )
            .order_by("id")
            .values_list("kind", "from_status", "to_status", "reason")
        ),
        "steps": list(
            workflow.steps.order_by("created_at", "id").values_list(
                "step", "decision", "role", "actor__username", "acted_on", "opinion"
            )
        ),
        "objections": list(
            PublicNotice.objects.filter(workflow=workflow)
            .order_by("id")
            .values_list("step", "start_date", "is_open", "objections__content")
        ),
    }


def test_an_identification_driven_only_through_the_api_equals_the_pages(cast, county):
    by_api = applicant_in(cast, county.village_a)
    by_pages = applicant_in(cast, county.village_a)
    _through_the_api(cast, by_api)
    _through_the_pages(cast, by_pages)
    api, pages = _history(by_api), _history(by_pages)
    assert api["status"] == Household.Status.POOR
    assert [event[0] for event in api["events"]] == ["case_returned", "identified"]
    assert api == pages


# --- reads ------------------------------------------------------------------------------------


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def cases(cast, county, applicant) -> dict[str, CaseWorkflow]:
    a = services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind="identification",
        opinion="申请",
        effective_date=app_today() - datetime.timedelta(days=10),
    )
    b = services.workflow_start(
        actor=cast.cadre2,
        household=applicant_in(cast, county.village_b),
        kind="identification",
        opinion="申请",
        effective_date=app_today() - datetime.timedelta(days=60),
    )
    return {"a": a, "b": b}


def test_cases_are_listed_in_the_users_scope_with_filters(cast, county, cases):
    a, b = cases["a"].pk, cases["b"].pk
    assert _ids(login(cast.county).get(CASES)) == {a, b}
    assert _ids(login(cast.cadre).get(CASES)) == {a}
    assert _ids(login(cast.cadre2).get(CASES)) == {b}
    assert _ids(login(cast.township).get(CASES)) == {a}
    county_client = login(cast.county)
    assert _ids(county_client.get(CASES, {"village": county.village_b.code})) == {b}
    assert _ids(county_client.get(CASES, {"household": cases["a"].household_id})) == {a}
    assert _ids(county_client.get(CASES, {"overdue": "true"})) == {b}
    assert _ids(county_client.get(CASES, {"overdue": "false"})) == {a}
    assert _ids(county_client.get(CASES, {"kind": "exit"})) == set()
    assert _ids(county_client.get(CASES, {"state": "open"})) == {a, b}
    row = county_client.get(CASES, {"village": county.village_b.code}).json()["results"][0]
    assert (row["step"], row["step_label"], row["step_level"], row["overdue"]) == (
        "appraisal",
        "民主评议",
        "village",
        True,
    )
    response = county_client.get(CASES, {"kind": "nonsense"})
    assert response.status_code == 400
    assert "kind" in response.json()


def test_a_case_outside_the_scope_is_not_found(cast, cases):
    url = reverse("case-detail", args=[cases["a"].pk])
    assert login(cast.cadre2).get(url).status_code == 404
    detail = login(cast.cadre).get(url).json()
    assert detail["can_act"] is True
    assert [step["key"] for step in detail["steps"]][:3] == [
        "application",
        "appraisal",
        "verification",
    ]
    assert detail["records"][0]["decision"] == "done"
    assert login(cast.township).get(url).json()["can_act"] is False


def test_department_accounts_and_administrators_are_refused(cast, county, cases):
    department = factories.user(
        "yibao-cases", User.Role.DEPARTMENT, county.county, department="medical_insurance"
    )
    for user in (department, cast.sysadmin):
        assert login(user).get(CASES).status_code == 403
        assert login(user).get(NOTICES).status_code == 403
        url = reverse("case-detail", args=[cases["a"].pk])
        assert login(user).get(url).status_code == 403


# --- writes -----------------------------------------------------------------------------------


def test_starting_a_case_is_refused_to_the_wrong_role_outside_the_scope_and_on_bad_input(
    cast, county, applicant
):
    body = {"household": applicant.pk, "kind": "identification", "opinion": "申请"}
    for user in (cast.auditor, cast.helper, cast.township):
        response = post(user, CASES, body)
        assert response.status_code == 403, (user.username, response.content)
    # The county office writes households but does not open a village's case (the service).
    response = post(cast.county, CASES, body)
    assert response.status_code == 403
    assert "村级录入员" in response.json()["detail"]
    assert post(cast.cadre2, CASES, body).status_code == 404
    response = post(cast.cadre, CASES, {**body, "kind": "nonsense"})
    assert response.status_code == 400 and "kind" in response.json()
    tomorrow = (app_today() + datetime.timedelta(days=1)).isoformat()
    response = post(cast.cadre, CASES, {**body, "effective_date": tomorrow})
    assert response.status_code == 400
    assert "不能晚于今天" in response.json()["effective_date"][0]
    assert not CaseWorkflow.objects.exists()
    assert post(cast.cadre, CASES, body).status_code == 201
    response = post(cast.cadre, CASES, body)
    assert response.status_code == 400
    assert "正在办理的程序" in response.json()["non_field_errors"][0]


def test_a_step_is_done_only_by_its_owner(cast, cases):
    case = login(cast.cadre).get(reverse("case-detail", args=[cases["a"].pk])).json()
    url = reverse("case-complete", args=[case["id"]])
    body = {"version": case["version"], "opinion": "评议通过", "attendance": 9}
    for user in (cast.township, cast.county, cast.auditor):
        response = post(user, url, body)
        assert response.status_code == 403, (user.username, response.content)
    # The helper sees only the paired household, and cadre2 another village: not found.
    assert post(cast.helper, url, body).status_code == 404
    assert post(cast.cadre2, url, body).status_code == 404
    cases["a"].refresh_from_db()
    assert cases["a"].step == "appraisal"


def test_a_step_without_what_it_needs_is_refused_with_messages(cast, cases):
    case = login(cast.cadre).get(reverse("case-detail", args=[cases["a"].pk])).json()
    url = reverse("case-complete", args=[case["id"]])
    response = post(cast.cadre, url, {"version": case["version"], "opinion": "评议通过"})
    assert response.status_code == 400
    errors = response.json()
    assert errors["attendance"] == ["请填写参会人数。"]
    assert errors["evidence"] == ["请上传佐证材料（会议记录、照片或扫描件）。"]
    response = post(cast.cadre, url, {"opinion": "评议通过"})
    assert response.status_code == 400 and "version" in response.json()
    response = post(cast.cadre, url, {"version": case["version"], "attendance": 0})
    assert response.status_code == 400 and "attendance" in response.json()


def test_a_case_that_moved_on_answers_409_with_its_current_version(cast, cases):
    case = login(cast.cadre).get(reverse("case-detail", args=[cases["a"].pk])).json()
    moved = act(
        cast.cadre,
        case,
        "complete",
        {"opinion": "评议通过", "attendance": 9, "evidence": minutes()},
    )
    stale = {"version": case["version"], "opinion": "核实", "to_step": ""}
    response = post(cast.cadre, reverse("case-complete", args=[case["id"]]), stale)
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["version"], body["step"]) == (
        "conflict",
        moved["version"],
        "verification",
    )
    assert body["non_field_errors"]


def test_a_case_is_returned_to_an_allowed_step_with_a_reason(cast, cases):
    case = login(cast.cadre).get(reverse("case-detail", args=[cases["a"].pk])).json()
    case = act(
        cast.cadre, case, "complete", {"opinion": "通过", "attendance": 9, "evidence": minutes()}
    )
    assert case["return_targets"] == ["appraisal"]
    url = reverse("case-return", args=[case["id"]])
    response = post(cast.cadre, url, {"version": case["version"], "opinion": ""})
    assert response.status_code == 400
    assert response.json()["opinion"] == ["退回须填写理由。"]
    response = post(cast.cadre, url, {"version": case["version"], "opinion": "x", "to_step": "x"})
    assert response.status_code == 400 and "to_step" in response.json()
    assert post(cast.township, url, {"version": case["version"], "opinion": "x"}).status_code == 403
    case = act(cast.cadre, case, "return", {"opinion": "评议人数不足"})
    assert case["step"] == "appraisal"
    event = cases["a"].household.events.get(kind=HouseholdEvent.Kind.CASE_RETURNED)
    assert "评议人数不足" in event.reason


# --- 公示 and objections ----------------------------------------------------------------------


@pytest.fixture
def noticed(cast, cases) -> dict[str, Any]:
    """Case a in its first 公示 (started three days ago)."""
    case = login(cast.cadre).get(reverse("case-detail", args=[cases["a"].pk])).json()
    three_days_ago = (app_today() - datetime.timedelta(days=3)).isoformat()
    case = act(
        cast.cadre,
        case,
        "complete",
        {"opinion": "通过", "attendance": 9, "evidence": minutes(), "acted_on": three_days_ago},
    )
    case = act(cast.cadre, case, "complete", {"opinion": "核实", "acted_on": three_days_ago})
    return act(
        cast.cadre,
        case,
        "notice",
        {"start_date": three_days_ago, "days": 7, "phone": "0855-1234567"},
    )


def test_a_notice_is_published_listed_and_read_in_scope(cast, noticed):
    notice_id = noticed["open_notice"]
    assert _ids(login(cast.township).get(NOTICES)) == {notice_id}
    assert _ids(login(cast.cadre2).get(NOTICES)) == set()
    assert _ids(login(cast.county).get(NOTICES, {"is_open": "true"})) == {notice_id}
    assert _ids(login(cast.county).get(NOTICES, {"is_open": "false"})) == set()
    url = reverse("notice-detail", args=[notice_id])
    assert login(cast.cadre2).get(url).status_code == 404
    notice = login(cast.cadre).get(url).json()
    assert (notice["step"], notice["step_label"], notice["days"]) == (
        "first_notice",
        "第一次公示",
        7,
    )
    # A notice that has not run its term cannot be completed.
    response = post(
        cast.cadre, reverse("case-complete", args=[noticed["id"]]), {"version": noticed["version"]}
    )
    assert response.status_code == 400
    assert "期满无异议后方可办结" in response.json()["non_field_errors"][0]


def test_a_notice_with_a_bad_term_is_refused(cast, cases):
    case = login(cast.cadre).get(reverse("case-detail", args=[cases["a"].pk])).json()
    case = act(
        cast.cadre, case, "complete", {"opinion": "通过", "attendance": 9, "evidence": minutes()}
    )
    case = act(cast.cadre, case, "complete", {"opinion": "核实"})
    url = reverse("case-notice", args=[case["id"]])
    body = {
        "version": case["version"],
        "start_date": app_today().isoformat(),
        "days": 5,
        "phone": "",
    }
    response = post(cast.cadre, url, body)
    assert response.status_code == 400
    errors = response.json()
    assert errors["days"] == ["公示天数应在7到30天之间。"]
    assert errors["phone"] == ["请填写受理异议的电话。"]
    assert not PublicNotice.objects.exists()


def test_an_objection_is_refused_to_read_only_roles_outside_the_scope_and_on_bad_input(
    cast, noticed
):
    url = reverse("notice-objections", args=[noticed["open_notice"]])
    body = {"content": "家有轿车"}
    assert post(cast.auditor, url, body).status_code == 403
    assert post(cast.helper, url, body).status_code == 404  # not the paired household
    assert post(cast.cadre2, url, body).status_code == 404
    response = post(cast.cadre, url, {"content": ""})
    assert response.status_code == 400
    assert response.json()["content"] == ["请填写异议内容。"]
    future = (app_today() + datetime.timedelta(days=1)).isoformat()
    response = post(cast.cadre, url, {**body, "received_on": future})
    assert response.status_code == 400 and "公示期内" in response.json()["received_on"][0]
    # The township records an objection too; the case goes back to the 民主评议.
    response = post(cast.township, url, {**body, "objector": "村民甲"})
    assert response.status_code == 201
    assert response.json()["content"] == "家有轿车"
    workflow = CaseWorkflow.objects.get(pk=noticed["id"])
    assert workflow.step == "appraisal"
    response = post(cast.cadre, url, body)
    assert response.status_code == 409
    assert response.json()["step"] == "appraisal"
