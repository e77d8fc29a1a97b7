"""Ids of related rows sent to the API are always looked up through the scope: a 0 or an id
outside the scope is "not found", never a server error or a silently ignored value."""

from __future__ import annotations

import pytest

from assistance.models import Measure
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _measure_payload(member):
    return {
        "member": member,
        "year": 2020,
        "category": "产业帮扶",
        "content": "养殖",
        "planned_start": "2020-03-01",
        "planned_end": "2020-10-01",
    }


@pytest.mark.parametrize("member_id", [0, 999999])
def test_measure_with_unknown_member_is_not_found_and_writes_nothing(cast, household_a, member_id):
    response = login(cast.cadre).post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        _measure_payload(member_id),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Measure.objects.count() == 0


def test_measure_for_member_of_other_village_is_not_found(cast, household_a, household_b):
    other = household_b.members.first()
    response = login(cast.cadre).post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        _measure_payload(other.pk),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Measure.objects.count() == 0
