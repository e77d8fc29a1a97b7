"""Edits after approval: a change to a household whose status a closed round decided is listed
for the township to review (审定后修改), with the fields, who and when; the township marks it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from households import services as household_services
from households.models import Household, HouseholdEvent
from tests.conftest import login
from years import lock_reviews
from years.models import EditReview


@pytest.fixture
def decided(cast, county, world, closed_round) -> Household:
    """凤场村's household: its exit was decided in the closed round."""
    household = world.households[0]
    HouseholdEvent.objects.create(
        household=household,
        kind=HouseholdEvent.Kind.EXITED,
        from_status=Household.Status.POOR,
        to_status=Household.Status.EXITED,
        effective_date=datetime.date(2023, 11, 1),
        round=closed_round,
    )
    return household


def _edit(actor, household: Household, **data) -> Household:
    household.refresh_from_db()
    return household_services.household_update(
        actor=actor, household=household, data=data, expected_version=household.version
    )


def test_an_edit_of_a_decided_household_is_flagged_with_its_changes(cast, county, decided):
    _edit(cast.cadre, decided, phone="13912345678")

    review = EditReview.objects.get()
    assert review.household == decided
    assert review.village == county.village_a
    assert review.changed_by == cast.cadre
    assert review.reviewed_at is None
    assert [(c["field"], c["new"]) for c in review.changes] == [("phone", "13912345678")]


def test_an_edit_of_an_undecided_household_is_not_flagged(cast, county, world, closed_round):
    _edit(cast.cadre2, world.households[2], phone="13912345678")

    assert EditReview.objects.count() == 0


def test_the_township_reviews_the_list_and_marks_each(cast, county, world, decided):
    _edit(cast.cadre, decided, phone="13912345678")
    review = EditReview.objects.get()

    page = login(cast.township).get("/years/reviews/")
    content = page.content.decode()
    assert page.status_code == 200
    assert decided.number in content
    assert "13912345678" in content

    response = login(cast.township).post(f"/years/reviews/{review.pk}/reviewed/")
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.reviewed_by == cast.township
    assert review.reviewed_at is not None
    assert decided.number not in login(cast.township).get("/years/reviews/").content.decode()
    assert decided.number in login(cast.township).get("/years/reviews/?all=1").content.decode()


def test_the_review_list_refuses_other_roles_and_other_townships(cast, county, world, decided):
    _edit(cast.cadre, decided, phone="13912345678")
    review = EditReview.objects.get()

    assert login(cast.cadre).get("/years/reviews/").status_code == 403
    assert login(cast.auditor).get("/years/reviews/").status_code == 403
    assert login(cast.helper).post(f"/years/reviews/{review.pk}/reviewed/").status_code == 403
    assert login(world.township2).post(f"/years/reviews/{review.pk}/reviewed/").status_code == 404
    assert decided.number not in login(world.township2).get("/years/reviews/").content.decode()
    review.refresh_from_db()
    assert review.reviewed_at is None
    with pytest.raises(PermissionDenied):
        lock_reviews.edit_review_list(user=cast.auditor)
