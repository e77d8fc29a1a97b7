"""The helper's scope is a relation handed to `povertyapp.roles` (`register_helper_scope`, by
`assistance`): the platform imports no household or pairing model."""

from __future__ import annotations

import pytest
from django.db.models import Exists, OuterRef, Q

from assistance.models import Pairing
from households.models import Household, Member
from povertyapp import roles
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_registered_helper_scope_is_assistance_pairings():
    from assistance import selectors

    scope = roles.helper_scope()
    assert scope is not None
    assert (scope.exists, scope.q) == (
        selectors.helper_households_exists,
        selectors.helper_households_q,
    )


def test_helper_sees_paired_households_through_both_forms(cast, county, household_a):
    factories.household(actor=cast.county, village=county.village_a)  # not paired
    scoped = roles.household_scope(cast.helper, Household.objects.all())
    assert list(scoped) == [household_a]
    members = Member.objects.filter(roles.household_scope_q(cast.helper))
    assert {member.household_id for member in members} == {household_a.pk}


def test_without_a_registered_relation_a_helper_sees_nothing(
    cast, county, household_a, monkeypatch
):
    monkeypatch.setattr(roles, "_helper_scope", None)
    assert list(roles.household_scope(cast.helper, Household.objects.all())) == []
    assert list(Member.objects.filter(roles.household_scope_q(cast.helper))) == []
    assert login(cast.helper).get(f"/households/{household_a.pk}/").status_code == 404
    # The other roles keep their region scope.
    assert list(roles.household_scope(cast.cadre, Household.objects.all())) == [household_a]


def test_the_registered_relation_is_the_one_used(cast, county, household_a, monkeypatch):
    other = factories.household(actor=cast.county, village=county.village_a)
    monkeypatch.setattr(roles, "_helper_scope", None)
    # A relation of its own: the helper "helps" every household without a pairing.
    roles.register_helper_scope(
        exists=lambda user: ~Exists(Pairing.objects.filter(household=OuterRef("pk"))),
        q=lambda user: Q(household__pairings__isnull=True),
    )
    assert list(roles.household_scope(cast.helper, Household.objects.all())) == [other]
    members = Member.objects.filter(roles.household_scope_q(cast.helper))
    assert {member.household_id for member in members} == {other.pk}
