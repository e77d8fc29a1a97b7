"""The rounds' desk panels: the figures that changed since last week (from the rate snapshots
of the user's region) and the 四类名单 lines waiting for the township or county."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import models
from django.utils import timezone

from povertyapp.models import VillageYear
from rounds import desk as rounds_desk
from rounds import services as rounds
from rounds.models import RateSnapshot

pytestmark = pytest.mark.django_db


def _snapshot(round, region, computed_at, incidence: str | None) -> RateSnapshot:
    """A snapshot whose figures are all 0 but the 贫困发生率 given."""
    values = {}
    for field in RateSnapshot._meta.concrete_fields:
        if isinstance(field, models.DecimalField):
            values[field.name] = None
        elif isinstance(field, models.PositiveIntegerField | models.PositiveBigIntegerField):
            values[field.name] = 0
    values["incidence_rate"] = Decimal(incidence) if incidence is not None else None
    return RateSnapshot.objects.create(
        round=round, region=region, level=region.level, computed_at=computed_at, **values
    )


@pytest.fixture
def two_rounds(cast, county, household_a):
    for village in (county.village_a, county.village_a2, county.village_b):
        for year in (2019, 2020):
            VillageYear.objects.create(
                village=village, year=year, registered_rural_population=500, total_households=9
            )
    first = rounds.round_open(actor=cast.county, county=county.county, year=2019)
    rounds.round_close(actor=cast.county, round=first)
    second = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    return first, second


def test_the_figures_changed_since_last_week_are_listed(cast, county, two_rounds):
    first, second = two_rounds
    now = timezone.now()
    _snapshot(first, county.county, now - datetime.timedelta(days=30), "0.0052")
    _snapshot(second, county.county, now - datetime.timedelta(days=1), "0.0048")
    changes, before, after = rounds_desk.figure_changes(cast.county, now)
    assert changes == [("贫困发生率", "0.52%", "0.48%")]
    assert (before.round, after.round) == (first, second)
    [item] = rounds_desk.figure_items(cast.county)
    assert (item.label, item.note, item.url) == (
        "贫困发生率",
        "0.52% → 0.48%",
        f"/dashboards/{county.county.code}/",
    )


def test_nothing_changed_when_no_snapshot_is_from_this_week(cast, county, two_rounds):
    first, second = two_rounds
    now = timezone.now()
    _snapshot(first, county.county, now - datetime.timedelta(days=30), "0.0052")
    _snapshot(second, county.county, now - datetime.timedelta(days=8), "0.0048")
    assert rounds_desk.figure_changes(cast.county, now)[0] == []
    assert rounds_desk.figure_items(cast.county) == []


def test_the_township_reads_its_own_snapshots_not_the_countys(cast, county, two_rounds):
    first, second = two_rounds
    now = timezone.now()
    _snapshot(first, county.county, now - datetime.timedelta(days=30), "0.0052")
    _snapshot(second, county.county, now - datetime.timedelta(days=1), "0.0048")
    assert rounds_desk.figure_changes(cast.township, now)[0] == []
