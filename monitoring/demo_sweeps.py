"""The demo county's 集中排查: last year's sweep, finished (every household visited or skipped
with a reason, the findings turned into clues), and this year's, open and half done.

Opening and closing go through the services (`monitoring.sweeps`), so the groups, the teams'
rows and the clues are what a county office would get; the 排查表 of the demo's many
households are written in bulk, with the values the 排查表 service accepts.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from households.services import common
from monitoring import sweeps
from monitoring.models import PriorityGroup, RiskType, Sweep, SweepHousehold
from povertyapp.models import Region, User

# When the line of the year is not configured: the demo's monitoring line (元/人·年).
FALLBACK_LINE = Decimal("7000")
SURVEYORS = ["杨光明", "吴春燕", "潘志强", "龙秀英", "石国平", "王丽华", "张德胜", "李晓梅"]
SKIP_REASONS = ["全家外出务工，已电话核实", "户已整户搬迁至县城", "多次上门无人，已托邻居转告"]
RISK_NOTES = {
    RiskType.ILLNESS: "家庭成员患病住院，自付医疗费用较高",
    RiskType.DISASTER: "房屋受暴雨损毁，农作物绝收",
    RiskType.EMPLOYMENT: "主要劳动力务工中断，收入明显下降",
    RiskType.EDUCATION: "两名子女就读高中、大学，教育支出大",
}


def _line(county: Region, year: int) -> Decimal:
    return sweeps.default_line(county=county, year=year) or FALLBACK_LINE


def _teams(sweep: Sweep, county: Region, actor: User) -> None:
    townships = Region.objects.filter(parent=county, level=Region.Level.TOWNSHIP).order_by("path")
    for index, township in enumerate(townships):
        villages = list(
            Region.objects.filter(parent=township, level=Region.Level.VILLAGE).order_by("path")
        )
        if not villages:
            continue
        first = SURVEYORS[(2 * index) % len(SURVEYORS)]
        second = SURVEYORS[(2 * index + 1) % len(SURVEYORS)]
        sweeps.sweep_team_create(
            actor=actor,
            sweep=sweep,
            name=f"{township.name}排查组",
            first_member=first,
            second_member=second if second != first else f"{second}（二）",
            villages=villages,
        )


def _record(
    rows: list[SweepHousehold],
    *,
    rng: random.Random,
    start: datetime.date,
    last: datetime.date,
    actor: User,
) -> None:
    """Fill the 排查表 of `rows`: most visited (some with a risk found), a few skipped."""
    span = max((last - start).days, 0)
    teams = {row.team_id: row.team for row in rows if row.team is not None}
    for index, row in enumerate(rows):
        team = teams.get(row.team_id)
        first = team.first_member if team else SURVEYORS[0]
        second = team.second_member if team else SURVEYORS[1]
        row.first_surveyor, row.second_surveyor = first, second
        row.recorded_by = actor
        row.version += 1
        if index > 0 and rng.random() < 0.05:
            row.state = SweepHousehold.State.SKIPPED
            row.skip_reason = rng.choice(SKIP_REASONS)
            continue
        row.state = SweepHousehold.State.VISITED
        row.visited_on = start + datetime.timedelta(days=rng.randint(0, span))
        # The first household always has a finding, so that even a small demo has one.
        risky = index == 0 or (bool(row.groups) and rng.random() < 0.12)
        answers: dict[str, Any] = {key: True for key, _label in sweeps.YES_NO_QUESTIONS}
        answers["income_change"] = "down" if risky else rng.choice(["up", "same", "same"])
        answers["hardship"] = ""
        if risky:
            risk = rng.choice(list(RISK_NOTES))
            row.risk_found = True
            row.risk_types = [str(risk)]
            row.note = RISK_NOTES[risk]
            answers["hardship"] = RISK_NOTES[risk]
            if risk == RiskType.ILLNESS:
                answers["medical_secure"] = False
        row.answers = answers
        row.per_capita_income = Decimal(rng.randint(5000, 30000))
    SweepHousehold.objects.bulk_update(
        rows,
        [
            "state",
            "visited_on",
            "first_surveyor",
            "second_surveyor",
            "answers",
            "per_capita_income",
            "risk_found",
            "risk_types",
            "note",
            "skip_reason",
            "recorded_by",
            "version",
        ],
        batch_size=1000,
    )


def build(
    *, county: Region, users: dict[str, User], rng: random.Random, today: datetime.date
) -> None:
    """The finished sweep of last year and the open one of this year (idempotent: a year that
    has its sweep is left as it is)."""
    actor = users["county"]
    last_year = today.year - 1
    if not Sweep.objects.filter(county=county, year=last_year).exists():
        start = datetime.date(last_year, 9, 1)
        end = datetime.date(last_year, 10, 31)
        sweep = sweeps.sweep_open(
            actor=actor,
            county=county,
            year=last_year,
            name=f"{last_year}年防返贫集中排查",
            start_date=start,
            end_date=end,
            line=_line(county, last_year),
            groups=PriorityGroup.values,
        )
        _teams(sweep, county, actor)
        rows = list(SweepHousehold.objects.filter(sweep=sweep).select_related("team"))
        _record(rows, rng=rng, start=start, last=end, actor=actor)
        sweeps.sweep_close(actor=actor, sweep=sweep)
    if not Sweep.objects.filter(county=county, year=today.year).exists():
        real_today = min(today, common.today())
        start = max(datetime.date(today.year, 1, 1), real_today - datetime.timedelta(days=20))
        sweep = sweeps.sweep_open(
            actor=actor,
            county=county,
            year=today.year,
            name=f"{today.year}年防返贫集中排查",
            start_date=start,
            end_date=start + datetime.timedelta(days=45),
            line=_line(county, today.year),
            groups=PriorityGroup.values,
        )
        _teams(sweep, county, actor)
        rows = list(SweepHousehold.objects.filter(sweep=sweep).select_related("team"))
        half = [row for row in rows if rng.random() < 0.5]
        _record(half, rng=rng, start=start, last=real_today, actor=actor)
