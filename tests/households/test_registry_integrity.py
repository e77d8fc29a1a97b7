"""Households are never deleted: not with their village, not with the user who created them."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError

from households.models import Household
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_deleting_a_village_with_households_is_refused(county, household_a):
    with pytest.raises(ProtectedError):
        county.village_a.delete()
    assert Household.objects.filter(pk=household_a.pk).exists()


def test_deleting_the_creating_user_keeps_the_household_and_its_events(cast, household_a):
    creator = household_a.created_by
    event_count = household_a.events.count()
    creator.delete()
    household_a.refresh_from_db()
    assert household_a.created_by is None
    assert household_a.events.count() == event_count


def test_admin_search_by_full_id_name_and_number(cast, household_a, household_b):
    head = household_a.members.get(relation="户主")
    client = login(cast.county)
    url = "/admin/households/household/"

    def search(term: str) -> str:  # the admin's search box posts (templates/admin/search_form.html)
        response = client.post(url, {"search_terms": "q", "q": term}, follow=True)
        assert term not in response.redirect_chain[-1][0]
        return response.content.decode()

    for term in (head.id_number, household_a.number, "李四"):
        assert household_a.number in search(term), term
    assert household_b.number not in search(head.id_number)


def test_admin_filters_by_status_and_cause(cast, household_a):
    client = login(cast.county)
    content = client.get(
        "/admin/households/household/", {"status__exact": "poor", "main_cause": "缺技术"}
    ).content.decode()
    assert household_a.number in content
    content = client.get(
        "/admin/households/household/", {"status__exact": "exited"}
    ).content.decode()
    assert household_a.number not in content


def test_admin_household_history_is_visible(cast, household_a):
    from households import services

    services.household_update(
        actor=cast.cadre, household=household_a, data={"phone": "13911112222"}, expected_version=1
    )
    content = (
        login(cast.county)
        .get(f"/admin/households/household/{household_a.pk}/history/")
        .content.decode()
    )
    assert "cadre" in content
