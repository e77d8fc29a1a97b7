"""One access path: every page, API call and admin page answers only within the user's scope."""

from __future__ import annotations

import pytest

from households.models import Household
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _snapshot(household: Household) -> tuple:
    household.refresh_from_db()
    members = tuple(household.members.order_by("id").values_list("name", "id_number", "is_active"))
    return (
        household.version,
        household.phone,
        household.main_cause,
        members,
        household.history.count(),
    )


# --- pages --------------------------------------------------------------------------------------


def test_cadre_reads_own_village_household_page(cast, household_a):
    response = login(cast.cadre).get(f"/households/{household_a.pk}/")
    assert response.status_code == 200
    assert household_a.number in response.content.decode()


def test_cadre_gets_404_for_other_village_household_page(cast, household_b):
    response = login(cast.cadre).get(f"/households/{household_b.pk}/")
    assert response.status_code == 404
    assert household_b.number not in response.content.decode()


def test_household_list_shows_only_own_village(cast, household_a, household_b):
    content = login(cast.cadre).get("/households/").content.decode()
    assert household_a.number in content
    assert household_b.number not in content


def test_township_sees_its_township_only(cast, household_a, household_b):
    client = login(cast.township)
    assert client.get(f"/households/{household_a.pk}/").status_code == 200
    assert client.get(f"/households/{household_b.pk}/").status_code == 404


def test_county_and_auditor_see_the_whole_county(cast, household_a, household_b):
    for user in (cast.county, cast.auditor):
        client = login(user)
        assert client.get(f"/households/{household_a.pk}/").status_code == 200
        assert client.get(f"/households/{household_b.pk}/").status_code == 200


def test_helper_sees_only_paired_households(cast, county, household_a):
    from tests import factories

    unpaired_same_village = factories.household(actor=cast.county, village=county.village_a)
    client = login(cast.helper)
    assert client.get(f"/households/{household_a.pk}/").status_code == 200
    assert client.get(f"/households/{unpaired_same_village.pk}/").status_code == 404


def test_sysadmin_sees_no_household(cast, household_a):
    client = login(cast.sysadmin)
    assert client.get(f"/households/{household_a.pk}/").status_code in (403, 404)
    assert client.get("/households/").status_code == 403
    assert household_a.number not in client.get("/").content.decode()


# --- API ----------------------------------------------------------------------------------------


def test_api_list_is_scoped(cast, household_a, household_b):
    data = login(cast.cadre).get("/api/v1/households/").json()
    numbers = [row["number"] for row in data["results"]]
    assert numbers == [household_a.number]


def test_api_detail_outside_scope_is_404(cast, household_b):
    assert login(cast.cadre).get(f"/api/v1/households/{household_b.pk}/").status_code == 404


def test_api_cadre_cannot_change_other_village_household(cast, household_b):
    before = _snapshot(household_b)
    response = login(cast.cadre).patch(
        f"/api/v1/households/{household_b.pk}/",
        {"phone": "13900000000", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert _snapshot(household_b) == before


def test_api_cadre_cannot_change_other_village_member(cast, household_b):
    member = household_b.members.first()
    before = _snapshot(household_b)
    response = login(cast.cadre).patch(
        f"/api/v1/members/{member.pk}/",
        {"name": "改名", "version": member.version},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert _snapshot(household_b) == before


def test_api_cadre_cannot_create_household_in_other_village(cast, county):
    from tests import factories

    payload = {
        "village": county.village_b.code,
        "main_cause": "缺技术",
        "members": [_json_member(factories.member_data())],
    }
    response = login(cast.cadre).post(
        "/api/v1/households/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert "所选行政村不在您的管辖范围内" in response.content.decode()
    assert Household.objects.filter(village=county.village_b).count() == 0


def test_auditor_reads_but_every_write_is_refused(cast, county, household_a):
    from tests import factories

    client = login(cast.auditor)
    assert client.get(f"/api/v1/households/{household_a.pk}/").status_code == 200
    before = _snapshot(household_a)
    member = household_a.members.first()
    responses = [
        client.patch(
            f"/api/v1/households/{household_a.pk}/",
            {"phone": "1", "version": 1},
            content_type="application/json",
        ),
        client.patch(
            f"/api/v1/members/{member.pk}/",
            {"name": "x", "version": 1},
            content_type="application/json",
        ),
        client.post(
            "/api/v1/members/",
            {
                **_json_member(
                    factories.member_data(
                        name="新人",
                        relation="之子",
                        birth_date=__import__("datetime").date(2010, 1, 1),
                    )
                ),
                "household": household_a.pk,
            },
            content_type="application/json",
        ),
        client.post(
            f"/api/v1/members/{member.pk}/leave/",
            {"reason": "死亡"},
            content_type="application/json",
        ),
        client.post(
            "/api/v1/households/",
            {"village": county.village_a.code, "members": [_json_member(factories.member_data())]},
            content_type="application/json",
        ),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403, 403]
    assert _snapshot(household_a) == before
    assert Household.objects.count() == 1


def test_sysadmin_api_sees_no_household(cast, household_a):
    data = login(cast.sysadmin).get("/api/v1/households/").json()
    assert data["count"] == 0
    assert login(cast.sysadmin).get(f"/api/v1/households/{household_a.pk}/").status_code == 404


def test_api_regions_are_scoped(cast, county):
    codes = [
        r["code"] for r in login(cast.cadre).get("/api/v1/regions/?page_size=100").json()["results"]
    ]
    assert county.village_a.code in codes
    assert county.village_b.code not in codes


def test_api_token_authentication(cast, household_a):
    from django.test import Client

    client = Client()
    response = client.post(
        "/api/v1/auth/token/", {"username": "cadre", "password": "Test-pass-123"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    listed = client.get("/api/v1/households/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert [row["number"] for row in listed["results"]] == [household_a.number]


def test_api_requires_authentication(household_a):
    from django.test import Client

    assert Client().get("/api/v1/households/").status_code in (401, 403)


# --- admin --------------------------------------------------------------------------------------


def test_admin_is_closed_to_cadre(cast, household_b):
    client = login(cast.cadre)
    response = client.get(f"/admin/households/household/{household_b.pk}/change/")
    # Refused in the site's layout, not sent to the admin's sign-in form.
    assert response.status_code == 403
    assert 'class="card error-page"' in response.content.decode()


def test_admin_county_officer_sees_county_households(cast, household_a, household_b):
    client = login(cast.county)
    cast.county.is_staff = True
    cast.county.save()
    content = client.get("/admin/households/household/").content.decode()
    assert household_a.number in content and household_b.number in content


def test_admin_household_outside_scope_is_not_found(cast, county, household_b):
    from povertyapp.models import User
    from tests import factories

    officer = factories.user("other_county", User.Role.COUNTY_OFFICER, county.township1)
    response = login(officer).get(f"/admin/households/household/{household_b.pk}/change/")
    # Django admin answers a missing object with a redirect to the index and a message.
    assert response.status_code in (302, 404)
    assert (
        household_b.number
        not in login(officer).get("/admin/households/household/").content.decode()
    )


def test_admin_administrators_see_no_households(cast, household_a):
    # 三权分立: accounts are the security administrator's; no administrator sees case data.
    assert login(cast.secadmin).get("/admin/povertyapp/user/").status_code == 200
    assert login(cast.sysadmin).get("/admin/povertyapp/user/").status_code == 403
    for admin in (cast.sysadmin, cast.secadmin, cast.auditadmin):
        assert login(admin).get("/admin/households/household/").status_code == 403


def test_admin_registry_is_read_only(cast, household_a):
    client = login(cast.county)
    before = _snapshot(household_a)
    response = client.post(
        f"/admin/households/household/{household_a.pk}/change/", {"phone": "13900000000"}
    )
    assert response.status_code == 403
    assert _snapshot(household_a) == before


def _json_member(data: dict) -> dict:
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in data.items()
    }
