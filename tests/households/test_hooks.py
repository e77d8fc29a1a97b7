"""The registry's hooks (`households.hooks`): edit checks and the round provider that the apps
above the registry register, and what the services do without them."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from households import hooks, services
from households.models import HouseholdEvent
from povertyapp.models import VillageYear
from rounds import services as rounds
from rounds.models import RoundChange
from tests import factories

BABY_BIRTH = datetime.date(2020, 3, 1)


@pytest.fixture
def open_round(cast, county, household_a):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    return rounds.round_open(actor=cast.county, county=county.county, year=2020)


@pytest.fixture
def no_hooks(monkeypatch):
    """The registry on its own: no edit check and no round provider registered."""
    monkeypatch.setattr(hooks, "_edit_checks", [])
    monkeypatch.setattr(hooks, "_round_provider", None)


def _baby() -> dict:
    return factories.member_data(name="张小花", relation="之女", sex="女", birth_date=BABY_BIRTH)


def test_without_a_round_provider_changes_are_recorded_in_no_round(
    no_hooks, cast, open_round, household_a
):
    assert hooks.open_round_for(household_a.village) is None
    baby = services.member_add(actor=cast.cadre, household=household_a, data=_baby(), reason="出生")
    joined = HouseholdEvent.objects.get(member=baby, kind=HouseholdEvent.Kind.MEMBER_JOINED)
    assert joined.round is None


def test_the_registered_round_provider_stamps_the_open_round(cast, open_round, household_a):
    assert hooks.open_round_for(household_a.village) == open_round
    baby = services.member_add(actor=cast.cadre, household=household_a, data=_baby(), reason="出生")
    joined = HouseholdEvent.objects.get(member=baby, kind=HouseholdEvent.Kind.MEMBER_JOINED)
    assert joined.round == open_round


def test_a_round_given_without_a_provider_is_a_programming_error(
    no_hooks, cast, open_round, household_a
):
    with pytest.raises(RuntimeError):
        services.household_update(
            actor=cast.county,
            household=household_a,
            data={"phone": "13911112222"},
            expected_version=None,
            round=open_round,
        )
    household_a.refresh_from_db()
    assert (household_a.phone, household_a.version) == ("", 1)


def test_without_edit_checks_every_edit_passes(no_hooks, cast, household_a):
    updated = services.household_update(
        actor=cast.cadre, household=household_a, data={"phone": "13911112222"}, expected_version=1
    )
    assert (updated.phone, updated.version) == ("13911112222", 2)


def test_a_registered_check_refuses_an_edit_and_nothing_changes(
    no_hooks, cast, household_a, monkeypatch
):
    seen = []

    def locked(*, household):  # type: ignore[no-untyped-def]  # a test double
        seen.append(household.pk)
        raise ValidationError("该户正在核查中。", code="locked_for_check")

    hooks.register_edit_check(locked)
    hooks.register_edit_check(locked)  # registered once only
    with pytest.raises(ValidationError) as error:
        services.household_update(
            actor=cast.cadre,
            household=household_a,
            data={"phone": "13911112222"},
            expected_version=1,
        )
    assert error.value.code == "locked_for_check"
    with pytest.raises(ValidationError) as error:
        services.member_add(actor=cast.cadre, household=household_a, data=_baby(), reason="出生")
    assert error.value.code == "locked_for_check"
    with pytest.raises(ValidationError) as error:
        services.income_set(actor=cast.cadre, household=household_a, year=2019, data={"wage": 1})
    assert error.value.code == "locked_for_check"
    assert seen == [household_a.pk, household_a.pk, household_a.pk]
    household_a.refresh_from_db()
    assert (household_a.phone, household_a.version) == ("", 1)
    assert household_a.members.filter(is_active=True).count() == 2
    assert not household_a.incomes.filter(year=2019).exists()
    assert not HouseholdEvent.objects.filter(
        household=household_a, kind=HouseholdEvent.Kind.MEMBER_JOINED
    ).exists()

    hooks.unregister_edit_check(locked)
    services.household_update(
        actor=cast.cadre, household=household_a, data={"phone": "13911112222"}, expected_version=1
    )
    household_a.refresh_from_db()
    assert household_a.phone == "13911112222"


def test_the_registered_round_check_refuses_edits_during_the_county_decision(
    cast, open_round, household_a
):
    change = rounds.change_propose(
        actor=cast.cadre,
        round=open_round,
        household=household_a,
        kind=RoundChange.Kind.REMOVED,
        persons=2,
        head_name="张三",
        reason="购买3万元以上车辆：2019年购车",
    )
    rounds.change_review(actor=cast.township, change=change, approve=True)
    with pytest.raises(ValidationError) as error:
        services.household_update(
            actor=cast.cadre,
            household=household_a,
            data={"phone": "13911112222"},
            expected_version=None,
        )
    assert error.value.code == "round_under_approval"
    household_a.refresh_from_db()
    assert household_a.phone == ""
