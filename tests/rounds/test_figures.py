"""The figures (DOMAIN §8) on a small county built by hand, to the exact person.

    T1 新州镇: village A 凤场村 (户籍农业人口 100), village A2 龙坪村 (50)
    T2 旧州镇: village B 西垭村 (80)

Baseline (round 2020 opened after these, natural changes included):
    A:  a1 未脱贫 3 (2 + a birth)  a2 已脱贫 2  a3 已脱贫 4 (5 − a death)  a4 非建档 5  a5 未脱贫 2
    A2: c1 未脱贫 1  c2 已脱贫 3
    B:  b1 未脱贫 2  b2 已脱贫 2      (b3: a household registered after opening, 3 persons)
Round events: a1 剔除, a2 返贫, a4 新识别纳入, a5 标注脱贫, c2 剔除 (exited), b2 返贫,
b3 新识别纳入.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from households import services
from households.models import Household, HouseholdEvent
from povertyapp.models import Region, VillageYear
from rounds import figures
from rounds import services as rounds
from rounds.figures import Figure
from tests import factories

Kind = HouseholdEvent.Kind
Status = Household.Status


def _members(count: int) -> list[dict]:
    rows = [factories.member_data(name="户主甲")]
    relations = [
        ("配偶", "女", datetime.date(1982, 3, 9)),
        ("之子", "男", datetime.date(2005, 1, 2)),
        ("之女", "女", datetime.date(2008, 6, 1)),
        ("之母", "女", datetime.date(1955, 2, 3)),
    ]
    for relation, sex, birth in relations[: count - 1]:
        rows.append(
            factories.member_data(
                name=f"成员{relation}",
                relation=relation,
                sex=sex,
                birth_date=birth,
                school_status="非在校生",
            )
        )
    return rows


def _household(cast, village, status, persons, **extra) -> Household:
    return factories.household(
        actor=cast.county, village=village, status=status, members=_members(persons), **extra
    )


def _change(cast, household, kind, to_status, round, **extra) -> None:
    services.household_change_status(
        actor=cast.county,
        household=household,
        kind=kind,
        to_status=to_status,
        round=round,
        reason="动态调整",
        **extra,
    )


@pytest.fixture
def built(cast, county):
    for village, population in (
        (county.village_a, 100),
        (county.village_a2, 50),
        (county.village_b, 80),
    ):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=population, total_households=30
        )
    h = {
        "a1": _household(cast, county.village_a, Status.POOR, 2),
        "a2": _household(cast, county.village_a, Status.EXITED, 2),
        "a3": _household(cast, county.village_a, Status.EXITED, 5),
        "a4": _household(cast, county.village_a, Status.NON_REGISTERED, 5),
        "a5": _household(cast, county.village_a, Status.POOR, 2),
        "c1": _household(cast, county.village_a2, Status.POOR, 1),
        "c2": _household(cast, county.village_a2, Status.EXITED, 3),
        "b1": _household(cast, county.village_b, Status.POOR, 2),
        "b2": _household(cast, county.village_b, Status.EXITED, 2),
    }
    # Natural change before opening: a birth in a1, a death in a3.
    services.member_add(
        actor=cast.county,
        household=h["a1"],
        reason="出生",
        data=factories.member_data(
            name="新生儿",
            relation="之子",
            birth_date=datetime.date(2020, 1, 5),
            education="学龄前儿童",
            school_status="非在校生",
            labour_skill="",
            work_status="",
            work_months=0,
        ),
    )
    leaving = h["a3"].members.filter(relation="之母").get()
    services.member_remove(actor=cast.county, member=leaving, reason="死亡")
    round = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    h["b3"] = _household(cast, county.village_b, Status.NON_REGISTERED, 3)
    for key, kind, to_status in (
        ("a1", Kind.REMOVED, Status.REMOVED),
        ("a2", Kind.RETURNED, Status.RETURNED),
        ("a4", Kind.IDENTIFIED, Status.POOR),
        ("a5", Kind.EXITED, Status.EXITED),
        ("c2", Kind.REMOVED, Status.REMOVED),
        ("b2", Kind.RETURNED, Status.RETURNED),
        ("b3", Kind.IDENTIFIED, Status.POOR),
    ):
        extra = {"ground": "购买3万元以上车辆"} if kind == Kind.REMOVED else {}
        _change(cast, h[key], kind, to_status, round, **extra)
    round.refresh_from_db()
    return round, h


def _terms(result: figures.RoundFigures) -> dict[str, tuple]:
    return {
        name: (getattr(result, name).numerator, getattr(result, name).denominator)
        for name in (
            "wrongful_inclusion",
            "omission",
            "wrongful_exit",
            "incidence",
            "baseline_incidence",
        )
    }


def test_village_a_figures_to_the_person(built, county):
    round, _h = built
    assert _terms(figures.round_figures(round=round, region=county.village_a)) == {
        "wrongful_inclusion": (3, 11),
        "omission": (5, 89),
        "wrongful_exit": (2, 6),
        "incidence": (7, 100),
        "baseline_incidence": (5, 100),
    }


def test_village_a2_counts_removal_of_an_exited_household(built, county):
    round, _h = built
    assert _terms(figures.round_figures(round=round, region=county.village_a2)) == {
        "wrongful_inclusion": (3, 4),
        "omission": (0, 46),
        "wrongful_exit": (0, 3),
        "incidence": (1, 50),
        "baseline_incidence": (1, 50),
    }


def test_township_figures_add_up_its_villages(built, county):
    round, _h = built
    assert _terms(figures.round_figures(round=round, region=county.township1)) == {
        "wrongful_inclusion": (6, 15),
        "omission": (5, 135),
        "wrongful_exit": (2, 9),
        "incidence": (8, 150),
        "baseline_incidence": (6, 150),
    }


def test_village_b_counts_a_household_registered_after_opening(built, county):
    round, _h = built
    assert _terms(figures.round_figures(round=round, region=county.village_b)) == {
        "wrongful_inclusion": (0, 4),
        "omission": (3, 76),
        "wrongful_exit": (2, 2),
        "incidence": (7, 80),
        "baseline_incidence": (2, 80),
    }


def test_county_figures_and_rates(built, county):
    round, _h = built
    result = figures.round_figures(round=round, region=county.county)
    assert _terms(result) == {
        "wrongful_inclusion": (6, 19),
        "omission": (8, 211),
        "wrongful_exit": (4, 11),
        "incidence": (15, 230),
        "baseline_incidence": (8, 230),
    }
    assert result.wrongful_inclusion.rate == Decimal("0.31578947")
    assert result.omission.rate == Decimal("0.03791469")
    assert result.wrongful_exit.rate == Decimal("0.36363636")
    assert result.incidence.rate == Decimal("0.06521739")


def test_closed_round_figures_do_not_move_when_households_change_afterwards(built, cast, county):
    round, h = built
    rounds.round_close(actor=cast.county, round=round)
    before = _terms(figures.round_figures(round=round, region=county.county))
    # Later: a birth, a death, a status change outside the round, a household moved village.
    services.member_add(
        actor=cast.county,
        household=h["b1"],
        reason="出生",
        data=factories.member_data(
            name="二胎",
            relation="之女",
            sex="女",
            birth_date=datetime.date(2021, 2, 1),
            education="学龄前儿童",
            labour_skill="",
            work_status="",
            work_months=0,
        ),
    )
    services.member_remove(actor=cast.county, member=h["c1"].members.get(), reason="死亡")
    _change(cast, h["c1"], Kind.EXITED, Status.EXITED, None)
    locked = Household.objects.get(pk=h["a3"].pk)
    services.household_update(
        actor=cast.county,
        household=locked,
        data={"village": county.village_b},
        expected_version=locked.version,
    )
    VillageYear.objects.filter(year=2020).update(registered_rural_population=999)
    assert _terms(figures.round_figures(round=round, region=county.county)) == before


def test_closed_round_refuses_further_changes(built, cast):
    round, h = built
    closed = rounds.round_close(actor=cast.county, round=round)
    with pytest.raises(ValidationError) as error:
        _change(cast, h["b1"], Kind.EXITED, Status.EXITED, closed)
    assert error.value.code == "round_closed"
    assert Household.objects.get(pk=h["b1"].pk).status == Status.POOR


def test_incidence_on_a_date_reads_the_event_history(built, county):
    today = datetime.date.today()
    figure = figures.incidence_on(
        region=county.county, day=today.replace(year=2020) if today.year == 2020 else today
    )
    # Every event of the fixture is dated today; on 2020-12-31 the 2020 population applies
    # only if today is in 2020, so compare against the population of today's year instead.
    population = sum(
        VillageYear.objects.filter(year=today.year).values_list(
            "registered_rural_population", flat=True
        )
    )
    assert (figure.numerator, figure.denominator) == (15, population)
    before = figures.incidence_on(region=county.county, day=datetime.date(2000, 1, 1))
    assert before.numerator == 0


def test_round_baseline_is_frozen_per_household(built, county):
    round, h = built
    baseline = dict(round.baseline.values_list("household_id", "persons"))
    assert baseline[h["a1"].pk] == 3
    assert baseline[h["a3"].pk] == 4
    assert h["b3"].pk not in baseline
    assert round.villages.get(village=county.village_a).rural_population == 100


# --- pure helpers -----------------------------------------------------------------------------


def test_figure_rate_has_eight_places_and_none_without_denominator():
    assert Figure(1, 3).rate == Decimal("0.33333333")
    assert Figure(2, 3).rate == Decimal("0.66666667")
    assert Figure(0, 0).rate is None
    assert Figure(1, 3).as_dict() == {"numerator": 1, "denominator": 3, "rate": "0.33333333"}


def test_omission_denominator_is_the_non_registered_population():
    assert figures.omission(
        included_persons=5, rural_population=100, registered_persons=11
    ) == Figure(5, 89)
    assert figures.omission(
        included_persons=0, rural_population=10, registered_persons=12
    ) == Figure(0, 0)


def test_threshold_comparison_uses_the_exact_fraction():
    just_below = Figure(199999, 10000000)  # 0.0199999
    assert just_below.below(Decimal("0.02")) is True
    assert Figure(2, 100).below(Decimal("0.02")) is False
    assert Figure(2, 100).at_most(Decimal("0.02")) is True
    assert Figure(9, 10).at_least(Decimal("0.90")) is True
    assert Figure(0, 0).at_least(Decimal("0.90")) is False


def test_comprehensive_incidence_formula():
    result = figures.comprehensive_incidence(
        poor_persons=100,
        omission_rate=Figure(1, 100),
        non_registered_population=5000,
        wrongful_exit_rate=Decimal("0.02"),
        exited_persons=1000,
        rural_population=10000,
    )
    # (100 + 0.01 × 5000 + 0.02 × 1000) ÷ 10000 = 170 ÷ 10000
    assert result.numerator == Decimal("170")
    assert result.rate == Decimal("0.01700000")


def test_county_exit_needs_all_four_and_names_each_failure():
    western = figures.exit_thresholds(western=True)
    passed = figures.county_exit_verdict(
        comprehensive_incidence=Figure(29, 1000),
        wrongful_exit=Figure(1, 100),
        omission=Figure(1, 100),
        approval=Figure(95, 100),
        thresholds=western,
    )
    assert passed == figures.ExitVerdict(passed=True, failures=[])
    failed = figures.county_exit_verdict(
        comprehensive_incidence=Figure(29, 1000),
        wrongful_exit=Figure(2, 100),
        omission=Figure(1, 100),
        approval=Figure(89, 100),
        thresholds=figures.exit_thresholds(western=False),
    )
    assert failed.passed is False
    assert failed.failures == ["综合贫困发生率未低于2%", "错退率未低于2%", "群众认可度低于90%"]


def test_village_exit_threshold_is_inclusive():
    standard = figures.exit_thresholds(western=False)
    assert figures.village_exit_passes(incidence=Figure(2, 100), thresholds=standard) is True
    assert figures.village_exit_passes(incidence=Figure(21, 1000), thresholds=standard) is False
    assert (
        figures.exit_thresholds_for(Region(is_western=True)) == figures.EXIT_THRESHOLDS["western"]
    )
    assert figures.exit_thresholds_for(Region(is_western=False)).comprehensive_incidence == Decimal(
        "0.02"
    )


def test_cause_breakdown_counts_a_newly_identified_household_under_its_cause(cast, county):
    """A 非建档立卡户 has no main cause at baseline; identified in the round, it is counted
    under the cause it was identified with, not "未填写"."""
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=100, total_households=30
        )
    household = _household(cast, county.village_a, Status.NON_REGISTERED, 3, main_cause="")
    _household(cast, county.village_a, Status.POOR, 2, main_cause="缺资金")
    round = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    household = services.household_update(
        actor=cast.county,
        household=household,
        data={"main_cause": "因病"},
        expected_version=household.version,
    )
    _change(cast, household, Kind.IDENTIFIED, Status.POOR, round)
    counts = figures.round_counts(round=round, region=county.village_a)
    assert counts.cause_counts == {
        "因病": {"households": 1, "persons": 3},
        "缺资金": {"households": 1, "persons": 2},
    }


def test_western_standard_is_inherited_by_every_level_below_the_province(county):
    """西部地区 is set on the province: the city, county, township, village and group below it
    use the western thresholds too; a region of a province that is not western does not."""
    Region.objects.exclude(level=Region.Level.PROVINCE).update(is_western=False)
    levels = {}
    for region in Region.objects.filter(path__startswith=county.province.path):
        levels[region.level] = figures.exit_thresholds_for(region)
    assert sorted(levels) == sorted(Region.Level.values)
    assert all(value == figures.EXIT_THRESHOLDS["western"] for value in levels.values())
    Region.objects.filter(pk=county.province.pk).update(is_western=False)
    for region in Region.objects.filter(path__startswith=county.province.path):
        assert figures.exit_thresholds_for(region) == figures.EXIT_THRESHOLDS["standard"], region
    # Set on a county alone, it holds for the county and below, not for the city above.
    Region.objects.filter(pk=county.county.pk).update(is_western=True)
    for region in Region.objects.filter(path__startswith=county.province.path):
        expected = "western" if region.path.startswith(county.county.path) else "standard"
        assert figures.exit_thresholds_for(region) == figures.EXIT_THRESHOLDS[expected], region
