"""Helpers for the assessment tests: a campaign on the cast's county, drawn or hand-built."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from households.models import Household
from inspections import services
from inspections.models import Campaign, SampleHousehold, SampleVillage
from povertyapp.models import VillageYear
from tests import factories
from tests.project import app_today


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Evidence files go to a temporary directory, never into the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def registry(cast, county):
    """Village years (classes) and a few households of every kind in villages A, A2 and B."""
    for village, condition in (
        (county.village_a, "好"),
        (county.village_a2, "差"),
        (county.village_b, "中"),
    ):
        VillageYear.objects.create(
            village=village,
            year=2019,
            registered_rural_population=400,
            total_households=110,
            condition=condition,
        )
    created = []
    for village in (county.village_a, county.village_a2, county.village_b):
        for status in (
            [Household.Status.POOR] * 3
            + [Household.Status.EXITED] * 3
            + [Household.Status.NON_REGISTERED] * 3
        ):
            created.append(factories.household(actor=cast.county, village=village, status=status))
    return created


def make_campaign(cast, county, *, visit_date=None, **protocol) -> Campaign:
    visit_date = visit_date or app_today() + datetime.timedelta(days=10)
    values = {"townships_to_draw": 2, "villages_per_township": 2, "households_per_village": 10}
    values.update(protocol)
    return services.campaign_create(
        actor=cast.county,
        county=county.county,
        name="2019年第三方评估",
        kind="third_party",
        year=2019,
        visit_date=visit_date,
        end_date=visit_date + datetime.timedelta(days=5),
        assessors=[cast.auditor],
        **values,
    )


@pytest.fixture
def campaign_factory(cast, county):
    def build(**kwargs):
        return make_campaign(cast, county, **kwargs)

    return build


def hand_built(cast, county, plan) -> Campaign:
    """A drawn campaign whose sample is given: plan = {village: [(kind, persons), ...]} with
    probabilities 1 (a census of the listed households), bypassing the random draw."""
    campaign = make_campaign(cast, county, visit_date=app_today() - datetime.timedelta(days=1))
    campaign.status = Campaign.Status.DRAWN
    campaign.seed = 1
    campaign.save()
    for position, (village, rows) in enumerate(plan.items(), start=1):
        frame = {}
        for kind, _persons in rows:
            frame[kind] = frame.get(kind, 0) + 1
        sample_village = SampleVillage.objects.create(
            campaign=campaign,
            village=village,
            township=village.parent,
            position=position,
            stratum_class="中",
            actual_class="中",
            village_probability=1.0,
            township_probability=1.0,
            frame_households=frame,
            frame_persons={},
        )
        for index, (kind, persons) in enumerate(rows, start=1):
            SampleHousehold.objects.create(
                campaign=campaign,
                sample_village=sample_village,
                kind=kind,
                position=index,
                head_name=f"户主{position}-{index}",
                persons=persons,
            )
    return campaign


CHECKS_OK = {
    "food_secure": True,
    "clothing_secure": True,
    "education_secure": True,
    "medical_secure": True,
    "housing_secure": True,
    "water_secure": True,
    "verified_per_capita_income": Decimal("5200"),
    "stated_per_capita_income": Decimal("5000"),
}


def confirm(actor, sample, result="正常", approval="认可", **extra):
    data = {**CHECKS_OK, "result": result, "approval": approval, **extra}
    if approval == "不认可":
        data.setdefault("disapproval_reason", "帮扶措施不到位")
    if result in ("错评", "漏评"):
        data.setdefault("eligible", result == "漏评")
    if result == "漏评":
        data.setdefault(
            "omission_scope", "household" if sample.kind == "non_registered" else "member"
        )
    return services.finding_save(actor=actor, sample=sample, data=data, confirm=True)
