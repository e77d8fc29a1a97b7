"""A campaign's figures: the sample rates of DOMAIN §8, their 95 % intervals, the exit board.

The definitions are not repeated here: every rate is a `rounds.figures.Figure` built with
that module's helpers (`ratio`, `approval`, `comprehensive_incidence`), and the thresholds and
the verdict are its `exit_thresholds_for` and `county_exit_verdict`. This module only decides
*which sampled persons* go into each numerator and denominator (DOMAIN §8, assessment sample):

* 错评率 = persons of registered sampled households found 错评 ÷ sampled registered persons;
* 漏评率 = persons found 漏评 (a whole non-registered household, or members left out of any
  sampled household) ÷ sampled non-registered persons;
* 错退率 = persons of exited sampled households found 错退 ÷ sampled exited persons;
* 群众认可度 = households answering 认可 ÷ households that answered;
* 综合贫困发生率 = (remaining poor + 漏评率 × non-registered rural population + 错退率 × exited
  population) ÷ rural population, the populations frozen from the registry at the draw.

Only confirmed findings count. Pass/fail follows the official rule on the sample rates; the
design-weighted estimate and its interval (`inspections.estimation`) say how sure that is.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspections import estimation
from inspections.estimation import Estimate, Unit
from inspections.models import Campaign, Finding, SampleHousehold, SampleKind, SampleVillage
from rounds import figures

REGISTERED = {SampleKind.UNEXITED.value, SampleKind.PRE_EXIT.value, SampleKind.EXITED.value}


@dataclass(frozen=True)
class Row:
    """One confirmed finding reduced to what the figures need."""

    sample_id: int
    village_id: int
    township_id: int
    kind: str
    persons: int
    result: str
    error_persons: int
    approval: str
    weight: float


@dataclass
class Line:
    """One figure: the DOMAIN ratio on the sample, and the design estimate with its interval."""

    key: str
    label: Any
    figure: figures.Figure
    estimate: Estimate

    @property
    def estimate_text(self) -> str:
        value = self.estimate.estimate
        return "—" if value is None else f"{value * 100:.2f}%"

    @property
    def interval_text(self) -> str:
        low, high = self.estimate.low, self.estimate.high
        return "—" if low is None or high is None else f"{low * 100:.2f}% – {high * 100:.2f}%"

    @property
    def numerator_text(self) -> str:
        numerator = self.figure.numerator
        return str(numerator) if isinstance(numerator, int) else f"{numerator:.1f}"

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.figure.as_dict(),
            "estimate": _round(self.estimate.estimate),
            "low": _round(self.estimate.low),
            "high": _round(self.estimate.high),
            "degrees_of_freedom": self.estimate.degrees_of_freedom,
        }


def _round(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"


@dataclass
class RegionFigures:
    level: str  # county / township / village
    region_id: int
    name: str
    households: int
    persons: int
    lines: dict[str, Line] = field(default_factory=dict)


def rows_of(campaign: Campaign) -> list[Row]:
    """Confirmed findings with their design weights (one query)."""
    samples = list(
        SampleHousehold.objects.filter(campaign=campaign, finding__status=Finding.Status.CONFIRMED)
        .select_related("sample_village", "finding")
        .only(
            "id",
            "kind",
            "persons",
            "sample_village__id",
            "sample_village__village_id",
            "sample_village__township_id",
            "sample_village__village_probability",
            "sample_village__township_probability",
            "sample_village__frame_households",
            "finding__result",
            "finding__error_persons",
            "finding__approval",
        )
    )
    responded: dict[tuple[int, str], int] = defaultdict(int)
    for sample in samples:
        responded[(sample.sample_village_id, sample.kind)] += 1
    rows = []
    for sample in samples:
        village: SampleVillage = sample.sample_village
        count = responded[(village.pk, sample.kind)]
        population = max(int(village.frame_households.get(sample.kind, 0)), count)
        weight = (
            (1 / village.township_probability)
            * (1 / village.village_probability)
            * (population / count)
        )
        rows.append(
            Row(
                sample_id=sample.pk,
                village_id=village.village_id,
                township_id=village.township_id,
                kind=sample.kind,
                persons=sample.persons,
                result=sample.finding.result,
                error_persons=sample.finding.error_persons,
                approval=sample.finding.approval,
                weight=weight,
            )
        )
    return rows


def _design(level: str, row: Row) -> tuple[str, str]:
    """(stratum, PSU) of a row for an estimate at `level` (see inspections.estimation)."""
    if level == "county":
        return "county", f"t{row.township_id}"
    if level == "township":
        return "township", f"v{row.village_id}"
    return row.kind, f"h{row.sample_id}"


def units(rows: list[Row], level: str, key: str) -> list[Unit]:
    """The (y, x) of each row for one figure."""
    result: list[Unit] = []
    for row in rows:
        stratum, psu = _design(level, row)
        if key == "wrongful_inclusion":
            if row.kind not in REGISTERED:
                continue
            y, x = (row.persons if row.result == "错评" else 0), row.persons
        elif key == "omission":
            y = row.error_persons if row.result == "漏评" else 0
            x = row.persons if row.kind == SampleKind.NON_REGISTERED else 0
        elif key == "wrongful_exit":
            if row.kind != SampleKind.EXITED:
                continue
            y, x = (row.persons if row.result == "错退" else 0), row.persons
        elif key == "approval":
            if not row.approval:
                continue
            y, x = (1 if row.approval == "认可" else 0), 1
        else:  # pragma: no cover - a programming error
            raise KeyError(key)
        result.append(Unit(stratum, psu, row.weight, y, x))
    return result


# Lazy: read when a page or an export shows the line, in its language (issue 17).
LABELS = {
    "wrongful_inclusion": gettext_lazy("错评率"),
    "omission": gettext_lazy("漏评率"),
    "wrongful_exit": gettext_lazy("错退率"),
    "approval": gettext_lazy("群众认可度"),
    "comprehensive_incidence": gettext_lazy("综合贫困发生率"),
}


def region_figures(
    rows: list[Row],
    *,
    level: str,
    region_id: int,
    name: str,
    frame: dict[str, int] | None,
) -> RegionFigures:
    result = RegionFigures(
        level=level,
        region_id=region_id,
        name=name,
        households=len(rows),
        persons=sum(r.persons for r in rows),
    )
    parts: dict[str, list[Unit]] = {}
    for key in ("wrongful_inclusion", "omission", "wrongful_exit", "approval"):
        parts[key] = units(rows, level, key)
        numerator = sum(int(u.y) for u in parts[key])
        denominator = sum(int(u.x) for u in parts[key])
        if key == "approval":
            figure = figures.approval(
                approving_households=numerator, surveyed_households=denominator
            )
        else:
            figure = figures.ratio(numerator, denominator)
        result.lines[key] = Line(key, LABELS[key], figure, estimation.proportion(parts[key]))
    if frame:
        comprehensive = figures.comprehensive_incidence(
            poor_persons=frame["poor_persons"],
            omission_rate=result.lines["omission"].figure,
            non_registered_population=frame["non_registered_population"],
            wrongful_exit_rate=result.lines["wrongful_exit"].figure,
            exited_persons=frame["exited_persons"],
            rural_population=frame["rural_population"],
        )
        interval = estimation.linear_combination(
            [
                (float(frame["non_registered_population"]), parts["omission"]),
                (float(frame["exited_persons"]), parts["wrongful_exit"]),
            ],
            constant=float(frame["poor_persons"]),
            divisor=float(frame["rural_population"]),
        )
        result.lines["comprehensive_incidence"] = Line(
            "comprehensive_incidence", LABELS["comprehensive_incidence"], comprehensive, interval
        )
    return result


def campaign_figures(campaign: Campaign) -> dict[str, Any]:
    """The figures of the campaign (county) and of each drawn township and village."""
    rows = rows_of(campaign)
    frames = campaign.frame or {}
    sample_villages = list(campaign.villages.select_related("village", "township"))
    county = region_figures(
        rows,
        level="county",
        region_id=campaign.county_id,
        name=campaign.county.name,
        frame=frames.get("county"),
    )
    townships = []
    seen: set[int] = set()
    for sample_village in sample_villages:
        township = sample_village.township
        if township.pk in seen:
            continue
        seen.add(township.pk)
        townships.append(
            region_figures(
                [r for r in rows if r.township_id == township.pk],
                level="township",
                region_id=township.pk,
                name=township.name,
                frame=frames.get(f"t{township.pk}"),
            )
        )
    villages = [
        region_figures(
            [r for r in rows if r.village_id == sv.village_id],
            level="village",
            region_id=sv.village_id,
            name=f"{sv.township.name}{sv.village.name}",
            frame=frames.get(f"v{sv.village_id}"),
        )
        for sv in sample_villages
    ]
    return {"county": county, "townships": townships, "villages": villages, "rows": len(rows)}


# --- the county-exit board ----------------------------------------------------------------------


@dataclass
class Veto:
    key: str
    label: Any
    line: Line
    threshold: Decimal
    comparison: str  # "<" or "≥"
    passed: bool
    flip: str
    uncertain: bool  # the interval straddles the threshold


def _flip_rate(numerator: int, denominator: int, limit: Decimal, passed: bool) -> str:
    if not denominator:
        return _("样本中无该类人口，无法判断。")
    bound = limit * denominator
    if passed:
        more = math.ceil(bound - numerator)
        more = max(more, 1)
        if numerator + more > denominator:
            return _("样本内无论增加多少错误都不会不通过。")
        return _("样本中再多%(n)d人即不通过。") % {"n": more}
    fewer = math.floor(numerator - bound) + 1
    return _("样本中少%(n)d人即可通过。") % {"n": fewer}


def _flip_approval(approving: int, surveyed: int, limit: Decimal, passed: bool) -> str:
    if not surveyed:
        return _("尚无认可度调查结果。")
    bound = limit * surveyed
    if passed:
        return _("再多%(n)d户不认可即不通过。") % {"n": math.floor(approving - bound) + 1}
    return _("再多%(n)d户认可即可通过。") % {"n": max(math.ceil(bound - approving), 1)}


def _flip_comprehensive(
    figure: figures.Figure, omission: figures.Figure, frame: dict[str, int], limit: Decimal
) -> str:
    bound = limit * Decimal(frame["rural_population"])
    numerator = Decimal(figure.numerator)
    if not omission.denominator or not frame["non_registered_population"]:
        return _("样本中无非建档立卡人口，无法由漏评翻转。")
    step = Decimal(frame["non_registered_population"]) / Decimal(omission.denominator)
    if numerator < bound:
        more = max(math.ceil((bound - numerator) / step), 1)
        return _("样本中漏评再多%(n)d人即不通过。") % {"n": more}
    fewer = math.floor((numerator - bound) / step) + 1
    if fewer > int(omission.numerator):
        return _("即使样本中没有漏评也不能通过：剩余贫困人口与错退已超过标准。")
    return _("样本中漏评少%(n)d人即可通过。") % {"n": fewer}


def exit_board(campaign: Campaign, county: RegionFigures | None = None) -> dict[str, Any]:
    """The four vetoes (DOMAIN §8): estimate, interval, threshold, pass/fail, what flips each."""
    county = county or campaign_figures(campaign)["county"]
    thresholds = figures.exit_thresholds_for(campaign.county)
    frame = (campaign.frame or {}).get("county")
    lines = county.lines
    if "comprehensive_incidence" not in lines or frame is None:
        return {"available": False, "vetoes": [], "verdict": None}
    verdict = figures.county_exit_verdict(
        comprehensive_incidence=lines["comprehensive_incidence"].figure,
        wrongful_exit=lines["wrongful_exit"].figure,
        omission=lines["omission"].figure,
        approval=lines["approval"].figure,
        thresholds=thresholds,
    )
    vetoes = []
    for key, limit, comparison in (
        ("comprehensive_incidence", thresholds.comprehensive_incidence, "<"),
        ("wrongful_exit", thresholds.wrongful_exit, "<"),
        ("omission", thresholds.omission, "<"),
        ("approval", thresholds.approval, "≥"),
    ):
        line = lines[key]
        figure = line.figure
        if key == "approval":
            passed = figure.at_least(limit)
            flip = _flip_approval(int(figure.numerator), int(figure.denominator), limit, passed)
        elif key == "comprehensive_incidence":
            passed = figure.below(limit)
            flip = _flip_comprehensive(figure, lines["omission"].figure, frame, limit)
        else:
            passed = figure.below(limit)
            flip = _flip_rate(int(figure.numerator), int(figure.denominator), limit, passed)
        low, high = line.estimate.low, line.estimate.high
        uncertain = low is not None and high is not None and low < float(limit) < high
        vetoes.append(Veto(key, LABELS[key], line, limit, comparison, passed, flip, uncertain))
    return {"available": True, "vetoes": vetoes, "verdict": verdict, "thresholds": thresholds}
