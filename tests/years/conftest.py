"""The year-end sign-off's fixture set: the test county with a household in each village, each
with its income of YEAR, and a second township reviewer and a cadre for 龙坪村."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from households import services as household_services
from households.models import Household
from povertyapp.models import User, VillageYear
from rounds import services as rounds
from rounds.models import AdjustmentRound
from tests import factories

YEAR = 2023
INCOME = {
    "wage": Decimal("12000"),
    "production": Decimal("3000"),
    "property_income": Decimal("0"),
    "family_planning": Decimal("0"),
    "dibao": Decimal("0"),
    "tekun": Decimal("0"),
    "pension": Decimal("0"),
    "eco_compensation": Decimal("0"),
    "other_transfer": Decimal("0"),
    "production_cost": Decimal("500"),
    "compliant_out_of_pocket": Decimal("0"),
    "insurance_claims": Decimal("0"),
}


@dataclass
class Year:
    households: list[Household]
    cadre_a2: User
    township2: User


def give_income(actor: User, household: Household, year: int = YEAR) -> None:
    household_services.income_set(actor=actor, household=household, year=year, data=INCOME)


@pytest.fixture
def world(cast, county, household_a) -> Year:
    households = [household_a]
    for village in (county.village_a2, county.village_b):
        households.append(factories.household(actor=cast.county, village=village))
    for household in households:
        give_income(cast.county, household)
    return Year(
        households=households,
        cadre_a2=factories.user("cadre_a2", User.Role.VILLAGE_CADRE, county.village_a2),
        township2=factories.user("township2", User.Role.TOWNSHIP_REVIEWER, county.township2),
    )


@pytest.fixture
def closed_round(cast, county, world, django_capture_on_commit_callbacks) -> AdjustmentRound:
    """The county's round of YEAR, closed, its figures final."""
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=YEAR, registered_rural_population=500, total_households=120
        )
    round = rounds.round_open(actor=cast.county, county=county.county, year=YEAR)
    with django_capture_on_commit_callbacks(execute=True):
        rounds.round_close(actor=cast.county, round=round)
    round.refresh_from_db()
    return round
