"""The rounds' desk panels: the figures that changed since last week (from the dated figure
history of the user's region, written by the rates job and the roll-up)."""

from __future__ import annotations

import contextlib
import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from povertyapp.models import User
from rounds import desk as rounds_desk
from rounds import rates, rollup, tasks
from rounds.models import FigureHistory, RateSnapshot, RollupSnapshot, RoundVillage
from tests import factories
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def _at(moment: datetime.datetime):
    """Run a computation as if at `moment` (its computed_at and day)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _compute_a_week_apart(round, change) -> datetime.datetime:
    """Compute the round 8 days ago, apply `change`, compute it again now (the same round:
    its snapshot is replaced, the dated history keeps both days)."""
    now = timezone.now()
    with _at(now - datetime.timedelta(days=8)):
        rates.compute_rates(round=round)
    change()
    rates.compute_rates(round=round)
    assert RateSnapshot.objects.filter(round=round, region__level="county").count() == 1
    return now


def _more_people(county, village=None) -> None:
    """The round's frozen 户籍农业人口 of a village (村 A by default) corrected upwards: the
    贫困发生率 of the village, its township and the county moves."""
    RoundVillage.objects.filter(village=village or county.village_a).update(rural_population=400)


def test_the_figures_changed_since_last_week_are_listed(cast, county, built):  # noqa: F811
    round, _households = built
    _compute_a_week_apart(round, lambda: _more_people(county))
    changes, before, after = rounds_desk.figure_changes(cast.county)
    # 漏评率 and 贫困发生率 are over the 户籍农业人口; 错评率 and 错退率 are not.
    assert [label for label, _old, _new in changes] == ["漏评率", "贫困发生率"]
    _label, old, new = changes[1]
    assert old != new and new.endswith("%")
    assert after.day - before.day == datetime.timedelta(days=8)
    _omission, item = rounds_desk.figure_items(cast.county)
    assert (item.label, item.note, item.url) == (
        "贫困发生率",
        f"{old} → {new}",
        f"/dashboards/{county.county.code}/",
    )


def test_nothing_changed_when_the_figures_are_the_same(cast, county, built):  # noqa: F811
    round, _households = built
    _compute_a_week_apart(round, lambda: None)
    assert FigureHistory.objects.filter(region=county.county).count() == 2
    assert rounds_desk.figure_changes(cast.county)[0] == []
    assert rounds_desk.figure_items(cast.county) == []


def test_recomputations_within_the_week_have_nothing_to_compare(cast, county, built):  # noqa: F811
    round, _households = built
    now = timezone.now()
    with _at(now - datetime.timedelta(days=3)):
        rates.compute_rates(round=round)
    _more_people(county)
    rates.compute_rates(round=round)
    assert rounds_desk.figure_changes(cast.county)[0] == []


def test_each_role_reads_its_own_regions_figures(cast, county, built):  # noqa: F811
    round, _households = built
    # Only 村 B's population changes: the county's and 村 B's figures move, 村 A's township's
    # (乡镇 1: 村 A, 村 A2) do not.
    _compute_a_week_apart(
        round,
        lambda: _more_people(county, county.village_b),
    )
    assert cast.township.region == county.township1
    assert FigureHistory.objects.filter(region=county.township1).count() == 2  # both days
    assert rounds_desk.figure_changes(cast.county)[0]
    assert rounds_desk.figure_changes(cast.township)[0] == []
    assert not rounds_desk.sees_figure_changes(cast.cadre)


def test_the_city_and_province_read_their_roll_ups_history(cast, county, built):  # noqa: F811
    round, _households = built
    city = factories.user("city", User.Role.CITY_OFFICER, county.city)
    now = timezone.now()
    with _at(now - datetime.timedelta(days=8)):
        rates.compute_rates(round=round)
        rollup.rollup_compute(region=county.province, year=2020)
    _more_people(county)
    rates.compute_rates(round=round)
    rollup.rollup_compute(region=county.province, year=2020)
    assert RollupSnapshot.objects.filter(region=county.city).count() == 1
    items = rounds_desk.rollup_items(city)
    assert [item.label for item in items] == ["本地区指标与各县汇总", "漏评率", "贫困发生率"]
    assert items[1].url == f"/dashboards/{county.city.code}/"


def test_the_figures_panel_costs_two_statements(cast, county, built):  # noqa: F811
    round, _households = built
    _compute_a_week_apart(round, lambda: _more_people(county))
    with CaptureQueriesContext(connection) as queries:
        rounds_desk.figure_items(cast.county)
    assert len(queries) == 2


def test_the_history_is_pruned_after_the_weeks_kept(cast, county, built, settings):  # noqa: F811
    round, _households = built
    settings.FIGURE_HISTORY_WEEKS = 2
    now = timezone.now()
    with _at(now - datetime.timedelta(weeks=3)):
        rates.compute_rates(round=round)
    rates.compute_rates(round=round)
    regions = FigureHistory.objects.filter(day=timezone.localdate()).count()
    assert regions and FigureHistory.objects.count() == 2 * regions
    assert tasks.prune_figure_history_task() == regions
    assert FigureHistory.objects.filter(day__lt=timezone.localdate()).count() == 0
