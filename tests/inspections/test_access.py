"""Who sees a campaign's sample, and when: hidden from villages (and everyone but the assessors
and the launching officer) before the visit day."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from inspections import selectors, services
from inspections.models import SampleHousehold
from povertyapp.models import User
from tests import factories
from tests.project import app_today


@pytest.fixture
def drawn(registry, cast, campaign_factory):
    campaign = campaign_factory()  # visit day in 10 days
    return services.campaign_draw(actor=cast.county, campaign=campaign, seed=99)


def test_sample_hidden_before_the_visit_day(drawn, cast, county, client_for):
    other_officer = factories.user("county2", User.Role.COUNTY_OFFICER, county.county)
    other_auditor = factories.user("auditor2", User.Role.AUDITOR, county.county)
    sample = SampleHousehold.objects.filter(campaign=drawn).first()
    sample_village = drawn.villages.first()
    urls = [
        reverse("inspections:visit-sheet", args=[drawn.pk, sample_village.pk]),
        reverse("inspections:finding", args=[drawn.pk, sample.pk]),
        reverse("inspections:campaign-workbook", args=[drawn.pk]),
        reverse("inspections:campaign-figures", args=[drawn.pk]),
        f"/api/v1/inspections/campaigns/{drawn.pk}/figures/",
    ]
    # Villages never know of the campaign at all; others in the county see it exists but
    # not its sample.
    for user in (cast.cadre, cast.cadre2, cast.helper, other_auditor):
        client = client_for(user)
        assert client.get(reverse("inspections:campaign", args=[drawn.pk])).status_code == 404
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    for user in (other_officer, cast.township):
        client = client_for(user)
        page = client.get(reverse("inspections:campaign", args=[drawn.pk]))
        assert page.status_code == 200
        assert sample.head_name not in page.content.decode()
        assert "入户日期前" in page.content.decode()
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
    for user in (cast.county, cast.auditor):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)
        page = client.get(reverse("inspections:campaign", args=[drawn.pk]))
        assert sample_village.village.name in page.content.decode()


def test_sample_opens_to_county_and_township_on_the_visit_day_but_never_to_villages(
    drawn, cast, county
):
    visit_day = drawn.visit_date
    before = visit_day - datetime.timedelta(days=1)
    assert selectors.sample_visible(cast.township, drawn, on=before) is False
    assert selectors.sample_visible(cast.township, drawn, on=visit_day) is True
    assert selectors.sample_visible(cast.cadre, drawn, on=visit_day) is False
    assert selectors.campaign_list(user=cast.cadre).count() == 0


def test_township_reviewer_sees_only_own_township_after_the_visit_day(
    registry, cast, county, campaign_factory, client_for
):
    campaign = campaign_factory(visit_date=app_today())
    services.campaign_draw(actor=cast.county, campaign=campaign, seed=5)
    visible = selectors.sample_villages(user=cast.township, campaign=campaign)
    assert {v.village.parent_id for v in visible} == {county.township1.pk}
    other = campaign.villages.exclude(village__parent=county.township1).first()
    response = client_for(cast.township).get(
        reverse("inspections:visit-sheet", args=[campaign.pk, other.pk])
    )
    assert response.status_code == 404


def test_only_assessors_record_findings(drawn, cast, client_for):
    sample = SampleHousehold.objects.filter(campaign=drawn).first()
    url = reverse("inspections:finding", args=[drawn.pk, sample.pk])
    response = client_for(cast.county).post(url, {"result": "正常", "draft": "1"})
    assert response.status_code == 403
    assert not hasattr(SampleHousehold.objects.get(pk=sample.pk), "finding") or (
        SampleHousehold.objects.get(pk=sample.pk).finding is None
    )
    response = client_for(cast.auditor).post(url, {"result": "正常", "draft": "1"})
    assert response.status_code == 302
    assert SampleHousehold.objects.get(pk=sample.pk).finding.status == "draft"


def test_seed_is_withheld_with_the_sample(drawn, cast, client_for):
    """The seed reproduces the sample, so it is hidden exactly like the sample."""
    url = "/api/v1/inspections/campaigns/"
    rows = client_for(cast.township).get(url).json()["results"]
    assert [(row["id"], row["seed"]) for row in rows] == [(drawn.pk, None)]
    rows = client_for(cast.auditor).get(url).json()["results"]
    assert [(row["id"], row["seed"]) for row in rows] == [(drawn.pk, 99)]
    page = client_for(cast.township).get(reverse("inspections:campaign", args=[drawn.pk]))
    assert "<code>99</code>" not in page.content.decode()
    page = client_for(cast.auditor).get(reverse("inspections:campaign", args=[drawn.pk]))
    assert "<code>99</code>" in page.content.decode()
