"""Every answer of the monitoring API conforms to its OpenAPI schema, for each kind of caller:
schemathesis checks it in CI as the village cadre only, and a department account reads the
clues in another shape (their results) than a case role (issue 15)."""

from __future__ import annotations

import datetime
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.urls import reverse

from households.services import common
from tests import factories
from tests.conftest import login
from tests.monitoring import dashboard_world
from tests.monitoring.clue_fixtures import department_clue, department_user, head_id, push
from tests.monitoring.sweep_fixtures import open_sweep

TODAY = datetime.date(2026, 6, 15)


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: `nullable` becomes a null alternative, components `$defs`."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if isinstance(converted.get("$ref"), str):
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


class Schema:
    def __init__(self, client: Client) -> None:
        response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        document = response.json()
        self.paths = document["paths"]
        self.defs = _json_schema(document["components"]["schemas"])

    def check(self, path: str, method: str, response: Any) -> None:
        """The response's status is documented, and its body conforms to what is documented."""
        documented = self.paths[path][method]["responses"]
        status = str(response.status_code)
        assert status in documented, (path, method, status, sorted(documented))
        content = documented[status].get("content")
        if content is None:
            return
        schema = _json_schema(content["application/json"]["schema"])
        jsonschema.Draft202012Validator({**schema, "$defs": self.defs}).validate(response.json())


@pytest.fixture
def world(monkeypatch, cast, county, household_a, household_b) -> dict[str, Any]:
    monkeypatch.setattr(common, "today", lambda: TODAY)
    built = dashboard_world.build(cast, county, household_a, household_b)
    yibao = department_user("yibao", "medical_insurance", county.county)
    department_clue(
        push(county=county.county, uploaded_by=yibao),
        row=2,
        name="张三",
        id_number=head_id(household_a),
        received_on=TODAY,
        details={"自付金额": "52000"},
    )
    sweep = open_sweep(cast, county)
    return {"world": built, "yibao": yibao, "sweep": sweep}


def test_the_clue_answers_conform_for_a_department_and_a_case_role(world, cast):
    schema = Schema(login(cast.cadre))
    path = "/api/v1/monitoring/clues/"
    department = login(world["yibao"])
    listed = department.get(path)
    assert listed.json()["results"][0]["match"]  # the result shape
    schema.check(path, "get", listed)
    created = department.post(
        path,
        {"name": "孙七", "id_number": factories.id_number(), "risk_type": "illness"},
        content_type="application/json",
    )
    assert created.status_code == 201
    schema.check(path, "post", created)
    schema.check(path, "get", login(cast.cadre).get(path))
    refused = department.post(path, {"risk_type": "x"}, content_type="application/json")
    schema.check(path, "post", refused)


def test_the_clue_filters_refuse_what_their_schema_excludes(world, cast):
    client = login(cast.county)
    path = "/api/v1/monitoring/clues/"
    assert client.get(f"{path}?state=nonsense").status_code == 400
    assert client.get(f"{path}?source_list=abc").status_code == 400
    pending = client.get(f"{path}?state=pending").json()["results"]
    assert pending and {row["state"] for row in pending} == {"pending"}
    parameters = {item["name"] for item in Schema(client).paths[path]["get"]["parameters"]}
    assert parameters == {"state", "source_list", "page", "page_size"}


def test_the_object_task_procedure_and_sweep_answers_conform(world, cast, county):
    objects = world["world"].objects
    sweep = world["sweep"]
    other = factories.region("522623000000", "施秉县", "county", county.city)
    cases = [
        ("/api/v1/monitoring/objects/", "/api/v1/monitoring/objects/", {}),
        (
            f"/api/v1/monitoring/objects/{objects['a'].pk}/",
            "/api/v1/monitoring/objects/{id}/",
            {"id": objects["a"].pk},
        ),
        ("/api/v1/monitoring/objects/999999/", "/api/v1/monitoring/objects/{id}/", {}),
        ("/api/v1/monitoring/tasks/", "/api/v1/monitoring/tasks/", {}),
        ("/api/v1/monitoring/tasks/?state=nonsense", "/api/v1/monitoring/tasks/", {}),
        ("/api/v1/monitoring/procedures/", "/api/v1/monitoring/procedures/", {}),
        ("/api/v1/monitoring/sweeps/", "/api/v1/monitoring/sweeps/", {}),
        ("/api/v1/monitoring/sweeps/?page=9", "/api/v1/monitoring/sweeps/", {}),
        (f"/api/v1/monitoring/sweeps/{sweep.pk}/", "/api/v1/monitoring/sweeps/{sweep_id}/", {}),
        (
            f"/api/v1/monitoring/sweeps/{sweep.pk}/households/",
            "/api/v1/monitoring/sweeps/{sweep_id}/households/",
            {},
        ),
        (
            f"/api/v1/monitoring/sweeps/{sweep.pk}/households/?region=abc",
            "/api/v1/monitoring/sweeps/{sweep_id}/households/",
            {},
        ),
        (
            f"/api/v1/monitoring/sweeps/{sweep.pk}/households/?region={other.code}",
            "/api/v1/monitoring/sweeps/{sweep_id}/households/",
            {},
        ),
    ]
    for name in ("cadre", "county", "helper", "auditor"):
        client = login(getattr(cast, name))
        schema = Schema(client)
        for url, path, _params in cases:
            schema.check(path, "get", client.get(url))


def test_the_sweep_filters_refuse_what_their_schema_excludes(world, cast):
    client = login(cast.county)
    sweep = world["sweep"]
    households = reverse("monitoring-sweep-households", args=[sweep.pk])
    for query in ("region=abc", "village=5226221002", "team=0", "team=1.5", "group=x"):
        response = client.get(f"{households}?{query}")
        assert response.status_code == 400, query
    sweeps_url = reverse("monitoring-sweep-list")
    for query in ("year=2009", "year=2101", "year=2026.5", "state=x"):
        assert client.get(f"{sweeps_url}?{query}").status_code == 400, query
    parameters = {
        item["name"]: item["schema"]
        for item in Schema(client).paths["/api/v1/monitoring/sweeps/{sweep_id}/households/"]["get"][
            "parameters"
        ]
    }
    assert parameters["region"] == {"type": "string", "pattern": r"^(\d{12}(\d{3})?)?$"}
    assert parameters["team"] == {"type": "integer", "minimum": 1, "maximum": 99_999_999_999}
