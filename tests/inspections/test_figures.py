"""The campaign figures on a hand-built sample with known answers, the exit board, and the
coverage of the 95 % interval on simulated populations."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from inspections import estimation
from inspections.figures import campaign_figures, exit_board
from inspections.sampling import FrameVillage, Protocol, plan_draw
from tests.inspections.conftest import confirm, hand_built


def _known_campaign(cast, county):
    """Village A: 4 unexited (3 persons each), 4 exited (4 persons), 4 non-registered (2 persons).
    Village B: 2 unexited (5 persons), 2 exited (2 persons), 2 non-registered (3 persons)."""
    plan = {
        county.village_a: [("unexited", 3)] * 4 + [("exited", 4)] * 4 + [("non_registered", 2)] * 4,
        county.village_b: [("unexited", 5)] * 2 + [("exited", 2)] * 2 + [("non_registered", 3)] * 2,
    }
    campaign = hand_built(cast, county, plan)
    samples = {(s.sample_village.village_id, s.position): s for s in campaign.households.all()}
    a, b = county.village_a.pk, county.village_b.pk
    # Village A: one unexited 错评 (3 persons), one exited 错退 (4 persons), one non-registered
    # household 漏评 (2 persons), one exited household with 1 member left out (成员漏评),
    # two households 不认可.
    confirm(cast.auditor, samples[(a, 1)], "错评", approval="不认可")
    confirm(cast.auditor, samples[(a, 5)], "错退")
    confirm(cast.auditor, samples[(a, 6)], "漏评", error_persons=1)
    confirm(cast.auditor, samples[(a, 9)], "漏评", approval="不认可")
    for key, sample in samples.items():
        if key not in {(a, 1), (a, 5), (a, 6), (a, 9)}:
            confirm(cast.auditor, sample)
    campaign.frame = {
        "county": {
            "rural_population": 10000,
            "registered_persons": 2000,
            "poor_persons": 100,
            "exited_persons": 1500,
            "non_registered_population": 8000,
        }
    }
    campaign.save()
    return campaign, a, b


def test_sample_rates_and_approval_on_a_hand_built_sample(cast, county):
    campaign, a, b = _known_campaign(cast, county)
    result = campaign_figures(campaign)
    lines = result["county"].lines
    # 错评: 3 persons of the registered persons 4×3 + 4×4 + 2×5 + 2×2 = 42.
    assert lines["wrongful_inclusion"].figure.as_dict() == {
        "numerator": 3,
        "denominator": 42,
        "rate": "0.07142857",
    }
    # 漏评: 2 (whole household) + 1 (member) over the non-registered persons 4×2 + 2×3 = 14.
    assert lines["omission"].figure.as_dict() == {
        "numerator": 3,
        "denominator": 14,
        "rate": "0.21428571",
    }
    # 错退: 4 persons over the exited persons 4×4 + 2×2 = 20.
    assert lines["wrongful_exit"].figure.as_dict() == {
        "numerator": 4,
        "denominator": 20,
        "rate": "0.20000000",
    }
    # 群众认可度: 16 of 18 households.
    assert lines["approval"].figure.as_dict() == {
        "numerator": 16,
        "denominator": 18,
        "rate": "0.88888889",
    }
    # 综合贫困发生率 = (100 + 3/14 × 8000 + 4/20 × 1500) / 10000.
    comprehensive = lines["comprehensive_incidence"].figure
    assert comprehensive.denominator == 10000
    assert comprehensive.rate == Decimal("0.21142857")
    villages = {v.region_id: v for v in result["villages"]}
    assert villages[a].lines["wrongful_inclusion"].figure.as_dict()["numerator"] == 3
    assert villages[a].lines["wrongful_inclusion"].figure.as_dict()["denominator"] == 28
    assert villages[b].lines["wrongful_inclusion"].figure.as_dict()["numerator"] == 0
    assert villages[b].lines["approval"].figure.as_dict()["rate"] == "1.00000000"
    townships = {t.region_id: t for t in result["townships"]}
    assert townships[county.township2.pk].lines["wrongful_exit"].figure.denominator == 4
    # With probabilities 1 and every household responding, the weighted estimate equals the
    # sample ratio, and the interval contains it.
    estimate = lines["wrongful_exit"].estimate
    assert abs(estimate.estimate - 0.2) < 1e-12
    assert estimate.low < 0.2 < estimate.high


def test_exit_board_names_the_failing_veto_and_what_flips_each(cast, county):
    campaign, _a, _b = _known_campaign(cast, county)
    board = exit_board(campaign)
    vetoes = {v.key: v for v in board["vetoes"]}
    assert board["verdict"].passed is False
    assert [v.passed for v in board["vetoes"]] == [False, False, False, False]
    # 错退率 4/20 fails at < 2 %: needs 4 − 0.4 → 4 fewer persons (0/20) to pass.
    assert vetoes["wrongful_exit"].flip == "样本中少4人即可通过。"
    # 认可度 16/18 < 90 %: 17/18 = 94.4 % passes, so one more 认可.
    assert vetoes["approval"].flip == "再多1户认可即可通过。"
    assert vetoes["approval"].threshold == Decimal("0.90")
    # The cast's county is western: 综合贫困发生率 threshold 3 %.
    assert vetoes["comprehensive_incidence"].threshold == Decimal("0.03")
    assert vetoes["comprehensive_incidence"].flip == (
        "即使样本中没有漏评也不能通过：剩余贫困人口与错退已超过标准。"
    )


def test_exit_board_passes_and_counts_errors_to_failure(cast, county):
    plan = {
        county.village_a: [("unexited", 2)] * 10
        + [("exited", 2)] * 60
        + [("non_registered", 2)] * 60
    }
    campaign = hand_built(cast, county, plan)
    for sample in campaign.households.all():
        confirm(cast.auditor, sample)
    campaign.frame = {
        "county": {
            "rural_population": 10000,
            "registered_persons": 2000,
            "poor_persons": 100,
            "exited_persons": 1500,
            "non_registered_population": 8000,
        }
    }
    campaign.save()
    board = exit_board(campaign)
    vetoes = {v.key: v for v in board["vetoes"]}
    assert board["verdict"].passed is True
    # 错退率 0/120 persons: 0.02 × 120 = 2.4 → 3 persons of errors fail it.
    assert vetoes["wrongful_exit"].flip == "样本中再多3人即不通过。"
    # 认可度 130/130: 0.9 × 130 = 117 → 14 disapprovals make 116/130 < 90 %.
    assert vetoes["approval"].flip == "再多14户不认可即不通过。"
    # 综合 = 100/10000 = 1 %; limit 3 % = 300 persons; each sampled omitted person adds
    # 8000/120 = 66.7 persons → 3 more omitted persons fail it.
    assert vetoes["comprehensive_incidence"].flip == "样本中漏评再多3人即不通过。"


def test_t_quantile_matches_tables():
    assert round(estimation.t_quantile(0.975, 2), 3) == 4.303
    assert round(estimation.t_quantile(0.975, 6), 3) == 2.447
    assert round(estimation.t_quantile(0.975, 30), 3) == 2.042


def _population(seed: int, townships: int = 8, villages: int = 9):
    """A county whose error rate varies by township and village (clustered errors)."""
    rng = random.Random(seed)
    frame, truth, household_id = [], {}, 0
    for township in range(townships):
        township_effect = rng.lognormvariate(0, 0.5)
        for index in range(villages):
            village_id = township * 100 + index
            rate = min(0.06 * township_effect * rng.lognormvariate(0, 0.5), 0.6)
            village = FrameVillage(village_id, f"村{village_id}", township, "好中差"[index % 3])
            for _ in range(rng.randint(60, 250)):
                household_id += 1
                kind = rng.choices(
                    ["unexited", "pre_exit", "exited", "non_registered"], [20, 5, 45, 30]
                )[0]
                persons = rng.randint(1, 6)
                truth[household_id] = (persons, kind != "non_registered" and rng.random() < rate)
                village.households.setdefault(kind, []).append((household_id, persons))
            frame.append(village)
    return frame, truth


def test_interval_covers_the_true_rate_about_95_percent_of_draws():
    """Repeated draws of the protocol from three simulated counties; the share of 95 %
    intervals of 错评率 containing the county's true rate (fixed seeds, ~2 s)."""
    covered = total = 0
    for population_seed in (1, 2, 3):
        frame, truth = _population(population_seed)
        errors = sum(p for p, wrong in truth.values() if wrong)
        registered = sum(
            p
            for v in frame
            for k, rows in v.households.items()
            if k != "non_registered"
            for _i, p in rows
        )
        true_rate = errors / registered
        for replicate in range(120):
            draw = plan_draw(
                seed=replicate * 7919 + population_seed,
                protocol=Protocol(),
                townships={t: str(t) for t in range(8)},
                villages=frame,
                load_households=lambda chosen: None,
            )
            units = []
            for drawn in draw.villages:
                taken: dict[str, int] = {}
                for _household, kind in drawn.households:
                    taken[kind] = taken.get(kind, 0) + 1
                for household, kind in drawn.households:
                    if kind == "non_registered":
                        continue
                    weight = (
                        len(drawn.village.households[kind])
                        / taken[kind]
                        / drawn.township_probability
                        / drawn.village_probability
                    )
                    persons, wrong = truth[household]
                    units.append(
                        estimation.Unit(
                            "county",
                            str(drawn.village.township_id),
                            weight,
                            persons * wrong,
                            persons,
                        )
                    )
            estimate = estimation.proportion(units)
            covered += estimate.low <= true_rate <= estimate.high
            total += 1
    coverage = covered / total
    assert 0.92 <= coverage <= 0.99, coverage


def test_comprehensive_interval_does_not_collapse_when_no_error_is_found():
    units = [estimation.Unit("county", f"t{i % 3}", 10.0, 0, 3) for i in range(30)]
    estimate = estimation.linear_combination(
        [(5000.0, units), (2000.0, units)], constant=300.0, divisor=10000.0
    )
    assert estimate.estimate == 0.03
    assert estimate.low == pytest.approx(0.03)
    assert estimate.high > 0.05
