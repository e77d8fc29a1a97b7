"""As-of figures: 贫困发生率 and the status counts of any region on any past date, from the
events; a closed round's figures re-derived from its baseline and events equal its snapshot
(`manage.py check_round_figures`)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from households import services
from households.models import Household, HouseholdEvent
from povertyapp.models import VillageYear
from rounds import figures, rates
from rounds.models import AdjustmentRound, RateSnapshot
from tests import factories
from tests.rounds.test_figures import _members, built  # noqa: F401

Status = Household.Status
Kind = HouseholdEvent.Kind
day = datetime.date


@pytest.fixture
def history(cast, county):
    """Village A: h1 (3 persons) registered poor 2019-01-10, exits 2019-11-15; h2 (2) registered
    poor 2019-06-01, a birth 2019-08-08; village B: h3 (4) registered exited 2019-02-01,
    returns 2020-03-03."""
    for village, population in ((county.village_a, 100), (county.village_b, 80)):
        VillageYear.objects.create(
            village=village, year=2019, registered_rural_population=population, total_households=30
        )
    h1 = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=_members(3),
        effective_date=day(2019, 1, 10),
    )
    h2 = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=_members(2),
        effective_date=day(2019, 6, 1),
    )
    h3 = factories.household(
        actor=cast.county,
        village=county.village_b,
        status=Status.EXITED,
        members=_members(4),
        effective_date=day(2019, 2, 1),
    )
    services.household_change_status(
        actor=cast.county,
        household=h1,
        kind=Kind.EXITED,
        to_status=Status.EXITED,
        effective_date=day(2019, 11, 15),
        exit_year=2019,
    )
    services.member_add(
        actor=cast.county,
        household=h2,
        reason="出生",
        effective_date=day(2019, 8, 8),
        data=factories.member_data(
            name="新生儿",
            relation="之子",
            birth_date=day(2019, 8, 8),
            education="学龄前儿童",
            school_status="非在校生",
            labour_skill="",
            work_status="",
            work_months=0,
        ),
    )
    services.household_change_status(
        actor=cast.county,
        household=h3,
        kind=Kind.RETURNED,
        to_status=Status.RETURNED,
        effective_date=day(2020, 3, 3),
    )


@pytest.mark.parametrize(
    ("on", "county_counts", "village_a_counts", "incidence"),
    [
        (day(2019, 1, 9), {}, {}, (0, 180)),
        (day(2019, 1, 10), {"poor": (1, 3)}, {"poor": (1, 3)}, (3, 180)),
        (day(2019, 2, 1), {"poor": (1, 3), "exited": (1, 4)}, {"poor": (1, 3)}, (3, 180)),
        (day(2019, 7, 1), {"poor": (2, 5), "exited": (1, 4)}, {"poor": (2, 5)}, (5, 180)),
        (day(2019, 8, 8), {"poor": (2, 6), "exited": (1, 4)}, {"poor": (2, 6)}, (6, 180)),
        (
            day(2019, 12, 31),
            {"poor": (1, 3), "exited": (2, 7)},
            {"poor": (1, 3), "exited": (1, 3)},
            (3, 180),
        ),
        # 2020: h3 has returned; no 2020 population was entered (denominator 0).
        (day(2020, 3, 3), {"poor": (1, 3), "exited": (1, 3), "returned": (1, 4)}, None, (7, 0)),
    ],
)
def test_status_counts_and_incidence_as_they_stood_on_a_date(
    county, history, on, county_counts, village_a_counts, incidence
):
    def plain(counts):
        return {status: (c["households"], c["persons"]) for status, c in counts.items()}

    assert plain(figures.status_counts_on(region=county.county, day=on)) == county_counts
    if village_a_counts is not None:
        assert plain(figures.status_counts_on(region=county.village_a, day=on)) == village_a_counts
    figure = figures.incidence_on(region=county.county, day=on)
    assert (figure.numerator, figure.denominator) == incidence


def _closed(round: AdjustmentRound) -> AdjustmentRound:
    rates.compute_rates(round=round)
    AdjustmentRound.objects.filter(pk=round.pk).update(status=AdjustmentRound.Status.CLOSED)
    round.refresh_from_db()
    return round


def test_check_round_figures_finds_a_closed_round_equal_to_its_rederivation(built):  # noqa: F811
    _closed(built[0])
    output = io.StringIO()
    call_command("check_round_figures", stdout=output)
    assert output.getvalue() == "黄平县 2020年动态调整：指标快照与基期和变动记录一致\n"


def test_check_round_figures_reports_every_difference_and_fails(built, county):  # noqa: F811
    round = _closed(built[0])
    RateSnapshot.objects.filter(round=round, region=county.village_a).update(
        incidence_numerator=8, status_counts={"poor": {"households": 9, "persons": 9}}
    )
    RateSnapshot.objects.filter(round=round, region=county.county).update(
        wrongful_exit_denominator=12
    )
    output = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("check_round_figures", "--round", str(round.pk), stdout=output)
    assert str(raised.value) == "1个批次的指标快照与重新推算的结果不一致。"
    lines = output.getvalue().splitlines()
    assert lines[0] == "黄平县 2020年动态调整：3处不一致"
    assert lines[1] == "  黄平县错退率：快照为4/12，重新推算为4/11"
    assert lines[2] == "  凤场村贫困发生率：快照为8/100，重新推算为7/100"
    assert lines[3].startswith("  凤场村各状态户数人数：快照为未脱贫9户9人，重新推算为")


def test_check_round_figures_refuses_an_unknown_round(db):
    with pytest.raises(CommandError) as raised:
        call_command("check_round_figures", "--round", "999", stdout=io.StringIO())
    assert str(raised.value) == "动态调整批次 999 不存在。"
