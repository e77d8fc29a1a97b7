"""The offline visit API (docs/offline.md): the bundle a phone keeps (scoped and masked as
online) and the sync of visits recorded without signal (applied once per key, a conflict never
applied silently, a household that left the user's scope refused with a message)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from assistance.models import OfflineSync, Pairing, Visit
from households import services as household_services
from povertyapp.privacy import mask
from tests.conftest import login

pytestmark = pytest.mark.django_db

BUNDLE = "/api/v1/assistance/offline/bundle/"
SYNC = "/api/v1/assistance/offline/visits/"


def _entry(household, **overrides):
    entry = {
        "key": str(uuid.uuid4()),
        "household": household.pk,
        "version": household.version,
        "recorded_at": "2026-12-01T09:30:00+08:00",
        "date": "2026-12-01",
        "seen": "口粮充足，子女在校",
        "done": "宣讲政策",
        "next_steps": "",
        "answers": {"food": "是", "income": "务工"},
        "contact_card_given": True,
        "benefit_card_given": False,
        "household_updates": {},
    }
    entry.update(overrides)
    return entry


def _post(user, entry):
    return login(user).post(SYNC, entry, content_type="application/json")


def test_bundle_holds_the_helpers_paired_households_masked_with_versions(
    cast, household_a, household_b
):
    head = household_a.members.get(relation="户主", is_active=True)
    response = login(cast.helper).get(BUNDLE)
    assert response.status_code == 200
    data = response.json()
    assert [row["id"] for row in data["households"]] == [household_a.pk]
    row = data["households"][0]
    assert row["number"] == household_a.number
    assert row["head_name"] == head.name
    assert row["head_id_number"] == mask(head.id_number)
    assert row["head_id_number"] != head.id_number
    assert row["version"] == household_a.version
    assert row["fields"]["food_secure"] is True
    # The helper may not edit households: the form offers no household fields to verify.
    names = [field["name"] for field in data["form"]]
    assert names[:3] == ["date", "seen", "done"]
    assert "q_food" in names
    assert not any(name.startswith("h_") for name in names)


def test_bundle_of_the_cadre_is_the_village_in_full_with_household_fields(
    cast, household_a, household_b
):
    head = household_a.members.get(relation="户主", is_active=True)
    data = login(cast.cadre).get(BUNDLE).json()
    assert [row["id"] for row in data["households"]] == [household_a.pk]
    assert data["households"][0]["head_id_number"] == head.id_number
    food = next(field for field in data["form"] if field["name"] == "h_food_secure")
    assert food["kind"] == "choice"
    assert [value for value, _text in food["choices"]] == ["", "true", "false"]


def test_bundles_of_two_users_are_filed_under_different_keys(cast, household_a):
    cadre_key = login(cast.cadre).get(BUNDLE).json()["user_key"]
    helper_key = login(cast.helper).get(BUNDLE).json()["user_key"]
    assert cadre_key != helper_key
    assert str(cast.cadre.pk) != cadre_key


@pytest.mark.parametrize("name", ["township", "auditor", "sysadmin"])
def test_roles_that_record_no_visits_get_no_bundle_and_sync_nothing(cast, household_a, name):
    user = getattr(cast, name)
    assert login(user).get(BUNDLE).status_code == 403
    assert _post(user, _entry(household_a)).status_code == 403
    assert Visit.objects.count() == 0


def test_a_synced_visit_is_recorded_with_its_answers(cast, household_a):
    entry = _entry(household_a)
    response = _post(cast.helper, entry)
    assert response.status_code == 201
    visit = Visit.objects.get()
    assert response.json()["visit"]["id"] == visit.pk
    assert response.json()["replayed"] is False
    assert visit.household == household_a
    assert visit.visitor == cast.helper
    assert visit.questionnaire == {"food": "是", "income": "务工"}
    assert visit.contact_card_given is True
    sync = OfflineSync.objects.get()
    assert (str(sync.key), sync.user, sync.visit) == (entry["key"], cast.helper, visit)


def test_a_retried_sync_is_applied_once(cast, household_a):
    entry = _entry(household_a)
    first = _post(cast.helper, entry)
    second = _post(cast.helper, entry)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replayed"] is True
    assert second.json()["visit"]["id"] == first.json()["visit"]["id"]
    assert Visit.objects.count() == 1
    assert OfflineSync.objects.count() == 1


def test_another_user_cannot_replay_someone_elses_key(cast, household_a):
    entry = _entry(household_a)
    assert _post(cast.helper, entry).status_code == 201
    response = _post(cast.cadre, entry)
    assert response.status_code == 400
    assert Visit.objects.count() == 1


def test_a_household_changed_since_download_is_a_conflict_with_both_versions(cast, household_a):
    downloaded = household_a.version
    household_services.household_update(
        actor=cast.county,
        household=household_a,
        data={"food_secure": False},
        expected_version=downloaded,
    )
    household_a.refresh_from_db()
    entry = _entry(household_a, version=downloaded, household_updates={"food_secure": True})
    response = _post(cast.cadre, entry)
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "conflict"
    assert data["mine"] == {"version": downloaded, "household_updates": {"food_secure": True}}
    assert data["server"]["version"] == household_a.version
    assert data["server"]["fields"]["food_secure"] is False
    assert data["changes"][0]["field"] == "food_secure"
    assert data["changes"][0]["who"] == cast.county.display_name
    # Nothing applied, and the key is free for the user's decision.
    assert Visit.objects.count() == 0
    assert OfflineSync.objects.count() == 0
    household_a.refresh_from_db()
    assert household_a.food_secure is False
    # The user keeps theirs: the same entry with the version now stored is applied.
    decided = _post(cast.cadre, {**entry, "version": data["server"]["version"]})
    assert decided.status_code == 201
    household_a.refresh_from_db()
    assert household_a.food_secure is True
    assert Visit.objects.count() == 1


def test_a_visit_for_a_household_that_left_the_helpers_scope_is_refused_with_a_message(
    cast, household_a
):
    Pairing.objects.filter(household=household_a).delete()
    response = _post(cast.helper, _entry(household_a))
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    assert "不在您的帮扶或管辖范围内" in response.json()["detail"]
    assert Visit.objects.count() == 0


def test_a_visit_for_another_village_is_refused_for_the_cadre(cast, household_b):
    response = _post(cast.cadre, _entry(household_b))
    assert response.status_code == 403
    assert Visit.objects.count() == 0


def test_an_invalid_entry_is_a_400_and_writes_nothing(cast, household_a):
    response = _post(cast.helper, _entry(household_a, seen="  ", answers={"food": "也许"}))
    assert response.status_code == 400
    assert Visit.objects.count() == 0
    assert OfflineSync.objects.count() == 0


def test_the_offline_page_is_a_shell_without_household_data(cast, household_a):
    response = login(cast.helper).get("/assistance/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="offline-app"' in html
    assert household_a.number not in html
    assert login(cast.township).get("/assistance/offline/").status_code == 403


def test_service_worker_and_manifest_are_served_with_their_types(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"] == "application/javascript; charset=utf-8"
    assert worker["Service-Worker-Allowed"] == "/"
    assert "/assistance/offline/" in worker.content.decode()
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/assistance/offline/"


def test_the_county_office_bundle_is_capped_and_says_so(
    cast, county, household_a, household_b, monkeypatch
):
    from assistance import selectors

    data = login(cast.county).get(BUNDLE).json()
    assert len(data["households"]) == 2 and data["capped"] is None
    monkeypatch.setattr(selectors, "OFFLINE_LIMIT", 1)
    data = login(cast.county).get(BUNDLE).json()
    assert [row["number"] for row in data["households"]] == [
        min(household_a.number, household_b.number)
    ]
    assert data["capped"] == {"kept": 1, "total": 2}


def test_the_icon_browsers_ask_for_is_the_manifests_and_needs_no_sign_in(client):
    """Every browser asks each site for /favicon.ico: a 404 (and a rendered error page) per
    visit until it was routed to the manifest's icon."""
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icons = [icon["src"] for icon in client.get("/manifest.webmanifest").json()["icons"]]
    assert response["Location"] == icons[0]
    assert finders.find(response["Location"].removeprefix(settings.STATIC_URL))
