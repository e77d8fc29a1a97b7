"""`field__any_of`: a long list as one parameter (povertyapp.lookups), the same rows as
`field__in` on every backend (CI runs this file on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest

from povertyapp.models import Region
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions() -> list[Region]:
    province = factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
    city = factories.region("522600000000", "黔东南州", Region.Level.CITY, province)
    county = factories.region("522622000000", "黄平县", Region.Level.COUNTY, city)
    return [province, city, county]


def test_any_of_matches_what_in_matches(regions):
    codes = ["522600000000", "522622000000", "999999999999"]
    assert set(Region.objects.filter(code__any_of=codes)) == set(
        Region.objects.filter(code__in=codes)
    )
    assert set(Region.objects.filter(pk__any_of=[regions[0].pk])) == {regions[0]}
    # A relation's column takes it too (relations keep a lookup table of their own).
    assert set(Region.objects.filter(parent_id__any_of=[regions[1].pk])) == {regions[2]}
    assert set(Region.objects.filter(parent__any_of=[regions[0].pk])) == {regions[1]}


def test_any_of_an_empty_list_matches_nothing(regions):
    assert not Region.objects.filter(code__any_of=[]).exists()
    assert Region.objects.exclude(code__any_of=[]).count() == len(regions)


def test_any_of_sends_one_parameter_however_long_the_list(regions, django_assert_num_queries):
    # More values than SQLite takes placeholders in one statement (32,766).
    codes = [f"{index:012d}" for index in range(40_000)] + [regions[2].code]
    with django_assert_num_queries(1) as captured:
        found = list(Region.objects.filter(code__any_of=codes))
    assert found == [regions[2]]
    assert captured.captured_queries[0]["sql"].count("000000039999") <= 1
    # Values that look like SQL stay values.
    assert not Region.objects.filter(name__any_of=["x') OR 1=1 --", '"; DROP TABLE x; --']).exists()
