"""Above the county (issue 16): the city and province figures are the sums of their counties'
numerators and denominators, computed by a chord after the counties' jobs, idempotently."""

from __future__ import annotations

from decimal import Decimal

import pytest

from povertyapp.models import Job, Region, User, VillageYear
from rounds import rollup
from rounds import services as rounds
from rounds.models import RateSnapshot, RollupSnapshot
from tests import factories

SUMMED = rollup.SUMMED


@pytest.fixture
def province(cast, county, household_a, household_b):
    """The fixture county (黄平县 under 黔东南州) and two more: 施秉县 in the same city and
    遵义市's 正安县, each with a village, households and a round of 2020."""
    second_city = factories.region("520300000000", "遵义市", Region.Level.CITY, county.province)
    built = {"huangping": (county.county, [county.village_a, county.village_a2, county.village_b])}
    for key, code, name, city in (
        ("shibing", "522623000000", "施秉县", county.city),
        ("zhengan", "520324000000", "正安县", second_city),
    ):
        county_region = factories.region(code, name, Region.Level.COUNTY, city)
        township = factories.region(
            code[:6] + "100000", "城关镇", Region.Level.TOWNSHIP, county_region
        )
        village = factories.region(code[:6] + "100200", "新村", Region.Level.VILLAGE, township)
        for _index in range(3 if key == "shibing" else 2):
            factories.household(actor=cast.county, village=village)
        built[key] = (county_region, [village])
    rounds_by_county = {}
    for key, (county_region, villages) in built.items():
        for index, village in enumerate(villages):
            VillageYear.objects.create(
                village=village,
                year=2020,
                registered_rural_population=400 + 37 * index + len(key),
                total_households=100,
            )
        officer = factories.user(f"officer_{key}", User.Role.COUNTY_OFFICER, county_region)
        rounds_by_county[key] = rounds.round_open(actor=officer, county=county_region, year=2020)
    return {"second_city": second_city, "counties": built, "rounds": rounds_by_county}


def _county_rows(province):
    return [
        RateSnapshot.objects.get(region=county_region, round=province["rounds"][key])
        for key, (county_region, _villages) in province["counties"].items()
    ]


def test_the_province_job_fans_out_and_rolls_up_the_sums(
    cast, county, province, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        county_jobs, rollup_job = rollup.province_rates_enqueue(
            user=cast.county, region=county.province, year=2020
        )
    assert len(county_jobs) == 3
    for job in [*county_jobs, rollup_job]:
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error
    assert rollup_job.result["counties"] == 3
    counties = _county_rows(province)
    top = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert top.counties == top.counties_expected == 3
    for name in SUMMED:
        assert getattr(top, name) == sum(getattr(row, name) for row in counties), name
    # The rate is the quotient of the sums, not an average of the counties' rates.
    assert top.incidence_denominator > 0
    assert top.incidence_rate == (
        Decimal(top.incidence_numerator) / Decimal(top.incidence_denominator)
    ).quantize(Decimal("0.00000001"))
    poor = sum(row.status_counts.get("poor", {}).get("persons", 0) for row in counties)
    assert top.status_counts["poor"]["persons"] == poor
    # Each city: its own counties only.
    city = RollupSnapshot.objects.get(region=county.city, year=2020)
    assert city.counties == 2
    for name in SUMMED:
        assert getattr(city, name) == sum(getattr(row, name) for row in counties[:2]), name
    other = RollupSnapshot.objects.get(region=province["second_city"], year=2020)
    assert other.incidence_denominator == counties[2].incidence_denominator


def test_a_rerun_replaces_the_rows(cast, county, province, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rollup.province_rates_enqueue(user=cast.county, region=county.province, year=2020)
    first = RollupSnapshot.objects.get(region=county.province, year=2020)
    RollupSnapshot.objects.filter(pk=first.pk).update(incidence_numerator=0, counties=0)
    with django_capture_on_commit_callbacks(execute=True):
        rollup.province_rates_enqueue(user=cast.county, region=county.province, year=2020)
    assert RollupSnapshot.objects.filter(year=2020).count() == 3  # province and two cities
    again = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert again.pk == first.pk
    assert (again.incidence_numerator, again.counties) == (first.incidence_numerator, 3)
    assert again.computed_at > first.computed_at


def test_the_roll_up_follows_the_stored_county_figures(cast, county, province):
    from rounds import rates

    for round in province["rounds"].values():
        rates.compute_rates(round=round)
    rollup.rollup_compute(region=county.province, year=2020)
    before = RollupSnapshot.objects.get(region=county.province, year=2020)
    shibing, _villages = province["counties"]["shibing"]
    RateSnapshot.objects.filter(region=shibing).update(
        omission_numerator=7, omission_denominator=1000
    )
    rollup.rollup_compute(region=county.province, year=2020)
    after = RollupSnapshot.objects.get(region=county.province, year=2020)
    others = [row for row in _county_rows(province) if row.region_id != shibing.pk]
    assert after.omission_numerator == 7 + sum(row.omission_numerator for row in others)
    assert after.omission_denominator == 1000 + sum(row.omission_denominator for row in others)
    assert after.omission_denominator != before.omission_denominator


def test_a_county_without_figures_is_named_missing(cast, county, province):
    from rounds import rates

    rates.compute_rates(round=province["rounds"]["huangping"])
    summary = rollup.rollup_compute(region=county.city, year=2020)
    assert summary["counties"] == 1
    assert summary["counties_expected"] == 2
    assert summary["missing"] == ["522623000000"]
    city = RollupSnapshot.objects.get(region=county.city, year=2020)
    county_row = RateSnapshot.objects.get(region=county.county, round__year=2020)
    assert city.incidence_numerator == county_row.incidence_numerator
    assert not RollupSnapshot.objects.filter(region=county.province).exists()


def test_a_county_is_no_roll_up(county):
    with pytest.raises(ValueError):
        rollup.rollup_compute(region=county.county, year=2020)
