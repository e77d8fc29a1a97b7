from households.models import Household


def test_household_fixture_creates_two_members_and_an_event(household_a):
    assert household_a.members.filter(is_active=True).count() == 2
    assert household_a.events.get().kind == "registered"
    assert household_a.status == Household.Status.POOR
