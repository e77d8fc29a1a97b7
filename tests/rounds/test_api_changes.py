"""The rounds and their 四类名单 in the API (issue 16): the village proposes, the township
reviews, the county decides, through the services of the round pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from households.models import Household, HouseholdEvent
from povertyapp.models import User, VillageYear
from rounds import services as rounds
from rounds.models import RoundChange
from tests.conftest import login

REMOVAL = {
    "kind": "removed",
    "persons": 2,
    "head_name": "张三",
    "reason": "购买3万元以上车辆：2019年购车",
}


def post(user: User, url: str, data: dict) -> object:
    return login(user).post(url, data, content_type="application/json")


@pytest.fixture
def open_round(cast, county, household_a, household_b):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    return rounds.round_open(actor=cast.county, county=county.county, year=2020)


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_rounds_are_listed_and_read_in_scope(cast, county, open_round):
    assert _ids(login(cast.cadre).get(reverse("round-list"))) == {open_round.pk}
    detail = login(cast.township).get(reverse("round-detail", args=[open_round.pk])).json()
    assert (detail["year"], detail["status"], detail["county_code"]) == (
        2020,
        "open",
        county.county.code,
    )
    assert detail["lists"]["removed"] == {
        "households": 0,
        "persons": 0,
        "pending_households": 0,
        "pending_persons": 0,
    }
    assert login(cast.cadre).get(reverse("round-detail", args=[999_999])).status_code == 404
    assert login(cast.sysadmin).get(reverse("round-list")).status_code == 403


def test_a_line_goes_from_the_village_through_the_township_to_the_county(
    cast, county, open_round, household_a, household_b
):
    changes = reverse("round-changes", args=[open_round.pk])
    response = post(cast.cadre, changes, {**REMOVAL, "household": household_a.pk})
    assert response.status_code == 201, response.content
    line = response.json()
    assert (line["state"], line["kind"], line["village_code"]) == (
        "proposed",
        "removed",
        county.village_a.code,
    )
    assert line["ground"] == "购买3万元以上车辆"
    # Listed in scope, with filters.
    assert _ids(login(cast.township).get(changes)) == {line["id"]}
    assert _ids(login(cast.cadre2).get(changes)) == set()
    assert _ids(login(cast.county).get(changes, {"state": "reviewed"})) == set()
    assert _ids(login(cast.county).get(changes, {"village": county.village_a.code})) == {line["id"]}
    detail = reverse("change-detail", args=[line["id"]])
    assert login(cast.cadre2).get(detail).status_code == 404
    review = reverse("change-review", args=[line["id"]])
    decide = reverse("change-decide", args=[line["id"]])
    # Only the reviewers review, only the county decides; scope first.
    assert post(cast.cadre, review, {"approve": True}).status_code == 403
    assert post(cast.auditor, review, {"approve": True}).status_code == 403
    assert post(cast.cadre2, review, {"approve": True}).status_code == 404
    response = post(cast.township, review, {"approve": False, "opinion": ""})
    assert response.status_code == 400
    assert response.json()["opinion"] == ["退回须填写审核意见。"]
    response = post(cast.township, review, {"approve": True, "opinion": "属实"})
    assert response.status_code == 200 and response.json()["state"] == "reviewed"
    # Reviewed meanwhile: a second review answers 409 with the current state.
    response = post(cast.township, review, {"approve": True})
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["state"]) == ("conflict", "reviewed")
    assert post(cast.township, decide, {"approve": True}).status_code == 403
    response = post(cast.county, decide, {"opinion": "x"})
    assert response.status_code == 400 and "approve" in response.json()
    response = post(cast.county, decide, {"approve": True, "opinion": "同意"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "approved"
    household_a.refresh_from_db()
    assert household_a.status == Household.Status.REMOVED
    event = household_a.events.get(kind=HouseholdEvent.Kind.REMOVED)
    assert event.round_id == open_round.pk
    assert response.json()["event"] == event.pk


def test_a_proposal_is_refused_to_the_wrong_role_outside_the_scope_and_on_bad_input(
    cast, open_round, household_a, household_b
):
    changes = reverse("round-changes", args=[open_round.pk])
    body = {**REMOVAL, "household": household_a.pk}
    for user in (cast.township, cast.auditor, cast.helper):
        assert post(user, changes, body).status_code == 403
    assert post(cast.cadre, changes, {**body, "household": household_b.pk}).status_code == 404
    response = post(cast.cadre, changes, {**body, "persons": 5})
    assert response.status_code == 400
    assert "不一致" in response.json()["non_field_errors"][0]
    response = post(cast.cadre, changes, {**body, "kind": "natural"})
    assert response.status_code == 400 and "kind" in response.json()
    assert not RoundChange.objects.exists()


def test_the_village_withdraws_its_line_before_the_review(cast, open_round, household_a):
    changes = reverse("round-changes", args=[open_round.pk])
    line = post(cast.cadre, changes, {**REMOVAL, "household": household_a.pk}).json()
    withdraw = reverse("change-withdraw", args=[line["id"]])
    assert post(cast.township, withdraw, {}).status_code == 403
    response = post(cast.cadre, withdraw, {})
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    response = post(cast.cadre, withdraw, {})
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["乡镇已审核的名单不能撤回。"]
