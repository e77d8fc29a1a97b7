"""A department account (医保) reads its own clues' results and nothing of the households
beyond them, and nothing of another department's."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests import factories
from tests.conftest import login
from tests.monitoring.clue_fixtures import department_clue, department_user, freeze, head_id, push

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def pushes(monkeypatch, county, household_a, household_b):
    today = freeze(monkeypatch, D(2026, 4, 8))
    yibao = department_user("yibao", "medical_insurance", county.county)
    jiaoyu = department_user("jiaoyu", "education", county.county)
    medical = push(county=county.county, uploaded_by=yibao)
    education = push(
        county=county.county, uploaded_by=jiaoyu, department="education", layout="辍学"
    )
    own = department_clue(
        medical, row=2, name="张三", id_number=head_id(household_a), received_on=today
    )
    other = department_clue(
        education, row=2, name="张三", id_number=head_id(household_b), received_on=today
    )
    return {
        "yibao": yibao,
        "medical": medical,
        "education": education,
        "own": own,
        "other": other,
    }


def test_a_medical_account_reads_its_own_lists_results(pushes):
    client = login(pushes["yibao"])
    home = client.get(reverse("monitoring:department-home")).content.decode()
    assert f'data-list="{pushes["medical"].pk}"' in home
    assert f'data-list="{pushes["education"].pk}"' not in home
    assert (
        client.get(reverse("monitoring:list-results", args=[pushes["medical"].pk])).status_code
        == 200
    )


def test_a_medical_account_does_not_find_another_departments_list(pushes):
    client = login(pushes["yibao"])
    for name in ("monitoring:list-results", "monitoring:list-results-export"):
        response = client.get(reverse(name, args=[pushes["education"].pk]))
        assert response.status_code == 404, name


def test_the_api_gives_a_medical_account_its_own_clues_only(pushes):
    rows = login(pushes["yibao"]).get("/api/v1/monitoring/clues/").json()["results"]
    assert [row["id"] for row in rows] == [pushes["own"].pk]
    assert "household" not in rows[0]
    assert "phone" not in rows[0] and "details" not in rows[0]


def test_a_medical_account_gets_nothing_of_the_households(pushes, household_a):
    client = login(pushes["yibao"])
    refused = [
        reverse("households:list"),
        reverse("households:detail", args=[household_a.pk]),
        reverse("households:todo"),
        reverse("ledgers:index"),
        reverse("assistance:index"),
        reverse("monitoring:clues"),
        reverse("monitoring:clue", args=[pushes["own"].pk]),
        reverse("monitoring:clue-add"),
    ]
    for url in refused:
        assert client.get(url).status_code == 403, url
    # The registry's API finds no household for it (its scope is empty: 404, an empty list).
    for url in (
        f"/api/v1/households/{household_a.pk}/",
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/households/").json()["count"] == 0


def test_a_case_role_does_not_open_the_department_home(pushes, cast):
    assert login(cast.county).get(reverse("monitoring:department-home")).status_code == 403
    # The county office reads any list's results of its county.
    response = login(cast.county).get(
        reverse("monitoring:list-results", args=[pushes["education"].pk])
    )
    assert response.status_code == 200
    assert (
        login(cast.cadre)
        .get(reverse("monitoring:list-results", args=[pushes["education"].pk]))
        .status_code
        == 403
    )


def test_a_department_account_without_its_department_sees_nothing(county, pushes):
    from monitoring import inbox

    stranger = factories.user("stranger", "helper", county.village_a)
    assert list(inbox.clues_for_user(stranger)) == []
