"""The sweeps API (issue 15): a sweep's progress per township and village and its households,
scoped to the user's area like the sweep pages; no person in a household's row; refusals;
filters; the OpenAPI schema; a constant number of queries per page."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households.models import Household
from monitoring import sweeps
from monitoring.models import PriorityGroup, Sweep, SweepHousehold
from povertyapp.models import Region, User
from tests import factories
from tests.conftest import login
from tests.monitoring.sweep_fixtures import open_sweep, visit

TODAY = datetime.date(2026, 6, 20)
SWEEPS = reverse("monitoring-sweep-list")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("households.services.common.today", lambda: TODAY)


@pytest.fixture
def world(cast, county, household_a, household_b) -> dict[str, Any]:
    """The county's open sweep of 2026 over household_a (village A: visited, a risk found),
    a household of village A2 with a disabled member (not visited, with the reason) and
    household_b (village B: pending); team 一组 covers A and A2. Another county has its own
    sweep."""
    ordinary = factories.household(
        actor=cast.county,
        village=county.village_a2,
        status=Household.Status.NON_REGISTERED,
        members=[factories.member_data(name="王五", health="残疾")],
    )
    sweep = open_sweep(cast, county)
    team = sweeps.sweep_team_create(
        actor=cast.county,
        sweep=sweep,
        name="一组",
        first_member="张明",
        second_member="李华",
        villages=[county.village_a, county.village_a2],
    )
    rows = {
        key: SweepHousehold.objects.get(sweep=sweep, household=household)
        for key, household in (("a", household_a), ("a2", ordinary), ("b", household_b))
    }
    sweeps.sweep_visit_record(
        actor=cast.cadre,
        sweep_household=rows["a"],
        visit=visit(risk_found=True, risk_types=["illness"], note="户主住院，收入下降"),
        expected_version=rows["a"].version,
    )
    sweeps.sweep_visit_record(
        actor=cast.county,
        sweep_household=rows["a2"],
        visit=sweeps.Visit(visited=False, skip_reason="全家外出务工"),
        expected_version=rows["a2"].version,
    )
    other_county = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    other = Sweep.objects.create(
        county=other_county,
        year=2026,
        name="施秉县集中排查",
        start_date=datetime.date(2026, 6, 1),
        end_date=datetime.date(2026, 6, 30),
        line=Decimal("7000"),
    )
    for row in rows.values():
        row.refresh_from_db()
    return {"sweep": sweep, "team": team, "rows": rows, "other": other, "ordinary": ordinary}


def _detail(sweep: Sweep) -> str:
    return reverse("monitoring-sweep-detail", args=[sweep.pk])


def _households(sweep: Sweep) -> str:
    return reverse("monitoring-sweep-households", args=[sweep.pk])


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def _progress(households: int, visited: int, skipped: int, pending: int, risks: int) -> dict:
    return {
        "households": households,
        "visited": visited,
        "skipped": skipped,
        "pending": pending,
        "risks": risks,
    }


# --- the sweeps ---------------------------------------------------------------------------------


def test_the_list_is_the_users_county_with_its_progress_in_the_users_area(world, cast):
    body = _ok(login(cast.county).get(SWEEPS))
    assert body["count"] == 1
    (item,) = body["results"]
    assert item["id"] == world["sweep"].pk
    assert (item["name"], item["year"], item["state"], item["line"]) == (
        "2026年防返贫集中排查",
        2026,
        "open",
        "7000.00",
    )
    assert (item["start_date"], item["end_date"]) == ("2026-06-01", "2026-06-30")
    assert (item["county_code"], item["county_name"]) == ("522622000000", "黄平县")
    assert item["priority_groups"] == list(PriorityGroup.values)
    assert item["progress"] == _progress(3, 1, 1, 1, 1)
    expected = {
        "township": _progress(2, 1, 1, 0, 1),
        "cadre": _progress(1, 1, 0, 0, 1),
        "cadre2": _progress(1, 0, 0, 1, 0),
        "auditor": _progress(3, 1, 1, 1, 1),
    }
    for name, progress in expected.items():
        results = _ok(login(getattr(cast, name)).get(SWEEPS))["results"]
        assert [row["progress"] for row in results] == [progress], name


def test_the_list_filters_by_year_and_state(world, cast):
    client = login(cast.county)
    assert _ok(client.get(f"{SWEEPS}?year=2026&state=open"))["count"] == 1
    assert _ok(client.get(f"{SWEEPS}?year=2025"))["count"] == 0
    assert _ok(client.get(f"{SWEEPS}?state=closed"))["count"] == 0
    assert client.get(f"{SWEEPS}?state=finished").status_code == 400


def test_the_detail_counts_per_township_and_village(world, cast, county):
    body = _ok(login(cast.county).get(_detail(world["sweep"])))
    assert body["progress"] == _progress(3, 1, 1, 1, 1)
    assert body["townships"] == [
        {
            "code": county.township1.code,
            "name": "新州镇",
            **_progress(2, 1, 1, 0, 1),
            "villages": [
                {
                    "id": county.village_a.pk,
                    "code": county.village_a.code,
                    "name": "凤场村",
                    **_progress(1, 1, 0, 0, 1),
                },
                {
                    "id": county.village_a2.pk,
                    "code": county.village_a2.code,
                    "name": "龙坪村",
                    **_progress(1, 0, 1, 0, 0),
                },
            ],
        },
        {
            "code": county.township2.code,
            "name": "旧州镇",
            **_progress(1, 0, 0, 1, 0),
            "villages": [
                {
                    "id": county.village_b.pk,
                    "code": county.village_b.code,
                    "name": "西垭村",
                    **_progress(1, 0, 0, 1, 0),
                }
            ],
        },
    ]


def test_a_village_cadre_sees_only_the_village_in_the_detail(world, cast, county):
    body = _ok(login(cast.cadre2).get(_detail(world["sweep"])))
    assert body["progress"] == _progress(1, 0, 0, 1, 0)
    assert [township["code"] for township in body["townships"]] == [county.township2.code]
    assert [village["name"] for village in body["townships"][0]["villages"]] == ["西垭村"]


def test_a_sweep_of_another_county_is_not_found(world, cast):
    for name in ("county", "township", "cadre", "auditor"):
        client = login(getattr(cast, name))
        assert client.get(_detail(world["other"])).status_code == 404, name
        assert client.get(_households(world["other"])).status_code == 404, name
        assert world["other"].pk not in {row["id"] for row in _ok(client.get(SWEEPS))["results"]}
    assert (
        login(cast.county).get(reverse("monitoring-sweep-detail", args=[999_999])).status_code
        == 404
    )


# --- the households -----------------------------------------------------------------------------


def test_the_households_are_the_users_area_with_no_person_in_them(world, cast, county, household_a):
    row = world["rows"]["a"]
    body = _ok(login(cast.cadre).get(_households(world["sweep"])))
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": row.pk,
            "sweep": world["sweep"].pk,
            "household": household_a.pk,
            "household_number": household_a.number,
            "village_code": county.village_a.code,
            "village_name": "凤场村",
            "township_name": "新州镇",
            "groups": [],
            "team": world["team"].pk,
            "team_name": "一组",
            "state": "visited",
            "state_display": "已排查",
            "visited_on": "2026-06-10",
            "skip_reason": "",
            "risk_found": True,
            "risk_types": ["illness"],
            "clue": None,
            "version": row.version,
        }
    ]
    text = login(cast.county).get(_households(world["sweep"])).content.decode()
    for member in household_a.members.all():
        assert member.id_number not in text and member.name not in text
    assert "住院" not in text  # the 排查表's note stays on the page


def test_a_village_cadre_of_another_village_sees_nothing_of_it(world, cast, county):
    client = login(cast.cadre2)
    url = _households(world["sweep"])
    assert [row["id"] for row in _ok(client.get(url))["results"]] == [world["rows"]["b"].pk]
    assert _ok(client.get(f"{url}?village={county.village_a.code}"))["count"] == 0
    assert _ok(client.get(f"{url}?region={county.township1.code}"))["count"] == 0
    assert _ok(client.get(f"{url}?state=visited"))["count"] == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=visited", {"a"}),
        ("state=skipped", {"a2"}),
        ("state=pending", {"b"}),
        ("group=disabled", {"a2"}),
        ("risk_found=true", {"a"}),
        ("village=522622101200", {"b"}),
        ("region=522622100000", {"a", "a2"}),
        ("region=522622100201", {"a2"}),
        ("region=522623000000", set()),  # another county: outside the scope
    ],
)
def test_household_filters(world, cast, query, expected):
    body = _ok(login(cast.county).get(f"{_households(world['sweep'])}?{query}"))
    assert {row["id"] for row in body["results"]} == {world["rows"][key].pk for key in expected}


def test_the_team_filter_and_the_skip_reason(world, cast):
    url = f"{_households(world['sweep'])}?team={world['team'].pk}"
    rows = {row["id"]: row for row in _ok(login(cast.county).get(url))["results"]}
    assert set(rows) == {world["rows"]["a"].pk, world["rows"]["a2"].pk}
    assert rows[world["rows"]["a2"].pk]["skip_reason"] == "全家外出务工"
    assert rows[world["rows"]["a2"].pk]["groups"] == ["disabled"]


def test_household_pages_take_a_constant_number_of_queries(world, cast, county):
    client = login(cast.county)
    url = _households(world["sweep"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    village = factories.region("522622101201", "新村", Region.Level.VILLAGE, county.township2)
    team = world["team"]
    for _index in range(4):
        household = factories.household(actor=cast.county, village=village)
        SweepHousehold.objects.create(
            sweep=world["sweep"], household=household, village=village, team=team
        )
    assert _ok(client.get(url))["count"] == 7
    assert count() == before


# --- refusals -----------------------------------------------------------------------------------


def test_helpers_departments_and_administrators_are_refused(world, cast, county):
    department = factories.user(
        "yibao-api", User.Role.DEPARTMENT, county.county, department="medical_insurance"
    )
    urls = (SWEEPS, _detail(world["sweep"]), _households(world["sweep"]))
    for user in (cast.helper, department, cast.sysadmin, cast.secadmin, cast.auditadmin):
        client = login(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user.username, url)
    for url in urls:
        assert Client().get(url).status_code == 401


def test_the_sweeps_api_is_read_only(world, cast):
    client = login(cast.county)
    before = SweepHousehold.objects.get(pk=world["rows"]["b"].pk).version
    for url in (SWEEPS, _detail(world["sweep"]), _households(world["sweep"])):
        assert client.post(url, {}).status_code == 405
        assert client.patch(url, {}, content_type="application/json").status_code == 405
        assert client.delete(url).status_code == 405
    assert SweepHousehold.objects.get(pk=world["rows"]["b"].pk).version == before
    assert Sweep.objects.get(pk=world["sweep"].pk).state == Sweep.State.OPEN


def test_the_sweep_paths_are_in_the_openapi_schema(cast):
    response = login(cast.cadre).get(
        reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/monitoring/sweeps/",
        "/api/v1/monitoring/sweeps/{sweep_id}/",
        "/api/v1/monitoring/sweeps/{sweep_id}/households/",
    ):
        assert set(paths[path]) == {"get"}, path

    def parameters(path: str) -> set[str]:
        return {item["name"] for item in paths[path]["get"]["parameters"]}

    assert parameters("/api/v1/monitoring/sweeps/") == {"year", "state", "page", "page_size"}
    assert parameters("/api/v1/monitoring/sweeps/{sweep_id}/households/") == {
        "sweep_id",
        "state",
        "group",
        "region",
        "village",
        "team",
        "risk_found",
        "page",
        "page_size",
    }
    schemas = response.json()["components"]["schemas"]
    assert "id_number" not in schemas["SweepHousehold"]["properties"]
