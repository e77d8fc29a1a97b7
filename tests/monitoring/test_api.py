"""The monitoring API (issue 15): scoping, masking, filters, refusals, and the OpenAPI schema."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import CaseWorkflow
from povertyapp.models import AccessLog, User
from povertyapp.privacy import mask
from tests import factories
from tests.conftest import login
from tests.monitoring import dashboard_world
from tests.monitoring.dashboard_world import TODAY


@pytest.fixture
def world(cast, county, household_a, household_b, monkeypatch):
    monkeypatch.setattr(services.common, "today", lambda: TODAY)
    return dashboard_world.build(cast, county, household_a, household_b)


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


OBJECTS = reverse("monitoring-object-list")
TASKS = reverse("monitoring-task-list")
PROCEDURES = reverse("monitoring-procedure-list")


def test_objects_are_scoped_to_the_users_region(world, cast):
    objects = world.objects
    assert _ids(login(cast.county).get(OBJECTS)) == {item.pk for item in objects.values()}
    assert _ids(login(cast.township).get(OBJECTS)) == {
        objects[key].pk for key in ("a", "a_unstable", "a_eliminated", "a2_identifying")
    }
    assert _ids(login(cast.cadre2).get(OBJECTS)) == {
        objects["b"].pk,
        objects["b_eliminated"].pk,
    }
    assert _ids(login(cast.helper).get(OBJECTS)) == {objects["a"].pk}


def test_an_object_outside_the_scope_is_not_found(world, cast):
    url = reverse("monitoring-object-detail", args=[world.objects["b"].pk])
    assert login(cast.cadre).get(url).status_code == 404
    response = login(cast.cadre2).get(url)
    assert response.status_code == 200
    assert response.json()["household_number"] == world.households["b"].number
    assert [risk["risk_type"] for risk in response.json()["risks"]] == ["illness"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("object_type=marginal", {"a", "b", "a_eliminated"}),
        ("state=identifying", {"a2_identifying"}),
        ("risk=illness", {"a", "b", "a_eliminated"}),
        ("risk=illness&state=monitored", {"a", "b"}),
        ("village=522622101200", {"b", "b_eliminated"}),
    ],
)
def test_object_filters(world, cast, query, expected):
    found = _ids(login(cast.county).get(f"{OBJECTS}?{query}"))
    assert found == {world.objects[key].pk for key in expected}


def test_ids_are_masked_for_roles_without_the_right(world, cast):
    head = world.households["a"].members.get(relation="户主")
    url = reverse("monitoring-object-detail", args=[world.objects["a"].pk])
    assert login(cast.auditor).get(url).json()["head_id_number"] == mask(head.id_number)
    assert login(cast.helper).get(url).json()["head_id_number"] == mask(head.id_number)
    reads = AccessLog.objects.filter(target="monitoring_object")
    before = reads.count()
    shown = login(cast.cadre).get(url).json()
    assert shown["head_id_number"] == head.id_number
    assert shown["head_name"] == head.name
    # The unmasked read is in the access log.
    assert reads.count() == before + 1
    assert reads.order_by("-pk").first().user == cast.cadre


def test_tasks_are_the_open_clues_of_the_users_villages(world, cast):
    clues = world.clues
    # 待核实 (1, 6) and 待登记 (5, the county's); 识别中 (2) and decided clues are not tasks.
    assert _ids(login(cast.county).get(TASKS)) == {clues[1].pk, clues[5].pk, clues[6].pk}
    response = login(cast.cadre).get(TASKS)
    assert _ids(response) == {clues[1].pk, clues[6].pk}
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[clues[6].pk]["verify_overdue"] is True
    assert rows[clues[6].pk]["decide_overdue"] is True
    assert rows[clues[1].pk]["verify_overdue"] is True
    assert rows[clues[1].pk]["decide_overdue"] is False
    assert rows[clues[1].pk]["id_number"] == clues[1].id_number  # the cadre may see it
    auditor_rows = login(cast.auditor).get(TASKS).json()["results"]
    assert {row["id_number"] for row in auditor_rows} == {
        mask(clues[key].id_number) for key in (1, 5, 6)
    }
    assert _ids(login(cast.cadre2).get(TASKS)) == set()
    assert _ids(login(cast.county).get(f"{TASKS}?state=unregistered")) == {clues[5].pk}


def test_procedures_list_the_monitoring_procedures_in_scope(world, cast):
    now = timezone.now()
    workflows = {}
    for key, kind in (
        ("a", CaseWorkflow.Kind.MONITORING),
        ("b", CaseWorkflow.Kind.RISK_ELIMINATION),
        ("a_unstable", CaseWorkflow.Kind.EXIT),
    ):
        workflows[key] = CaseWorkflow.objects.create(
            household=world.households[key],
            kind=kind,
            step="verification",
            year=2026,
            started_at=now,
            opened_on=datetime.date(2026, 6, 1),
            step_since=now,
        )
    assert _ids(login(cast.county).get(PROCEDURES)) == {workflows["a"].pk, workflows["b"].pk}
    assert _ids(login(cast.cadre).get(PROCEDURES)) == {workflows["a"].pk}
    response = login(cast.county).get(f"{PROCEDURES}?kind=risk_elimination")
    assert _ids(response) == {workflows["b"].pk}
    url = reverse("monitoring-procedure-detail", args=[workflows["b"].pk])
    assert login(cast.cadre).get(url).status_code == 404
    assert login(cast.cadre2).get(url).json()["kind"] == "risk_elimination"


def test_department_accounts_and_administrators_are_refused(world, cast, county):
    department = factories.user(
        "yibao-api", User.Role.DEPARTMENT, county.county, department="medical_insurance"
    )
    detail = reverse("monitoring-object-detail", args=[world.objects["a"].pk])
    for user in (department, cast.sysadmin, cast.secadmin, cast.auditadmin):
        client = login(user)
        for url in (OBJECTS, TASKS, PROCEDURES, detail):
            assert client.get(url).status_code == 403, (user, url)


def test_the_api_is_read_only(world, cast):
    client = login(cast.county)
    assert client.post(OBJECTS, {}).status_code == 405
    detail = reverse("monitoring-object-detail", args=[world.objects["a"].pk])
    assert client.patch(detail, {}, content_type="application/json").status_code == 405


def test_anonymous_requests_are_asked_to_sign_in(db):
    from django.test import Client

    assert Client().get(OBJECTS).status_code == 401


def test_the_paths_are_in_the_openapi_schema(cast):
    response = login(cast.cadre).get(
        reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/monitoring/objects/",
        "/api/v1/monitoring/objects/{id}/",
        "/api/v1/monitoring/tasks/",
        "/api/v1/monitoring/tasks/{id}/",
        "/api/v1/monitoring/procedures/",
        "/api/v1/monitoring/procedures/{id}/",
    ):
        assert path in paths, path
    parameters = {
        item["name"] for item in paths["/api/v1/monitoring/objects/"]["get"]["parameters"]
    }
    assert {"object_type", "state", "risk", "village", "page"} <= parameters


def test_an_unmasked_tasks_page_logs_what_it_showed_and_no_more(world, cast):
    """The access-log row of a page of tasks names the ID numbers and the phones its rows
    showed in full, and a phone only when one of them has one."""
    from monitoring.models import Clue

    reads = AccessLog.objects.filter(target="monitoring_task")
    Clue.objects.filter(pk__in=[world.clues[1].pk, world.clues[6].pk]).update(phone="")
    assert login(cast.cadre).get(TASKS).status_code == 200
    assert reads.latest("seq").fields == ["id_number"]
    clue = world.clues[6]
    clue.phone = "13912345678"
    clue.save(update_fields=["phone"])
    assert login(cast.cadre).get(TASKS).json()["results"]
    assert reads.latest("seq").fields == ["id_number", "phone"]
    count = reads.count()
    assert login(cast.auditor).get(TASKS).status_code == 200  # masked: no row
    assert reads.count() == count
