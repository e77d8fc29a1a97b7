"""Which records a signed year locks: the one table of year-bound models (`povertyapp.yearlock`).

The top floor sees every model below it, so the table lives here, read in one place, and is
installed from `YearsConfig.ready()`. Each entry says how a row finds its region (a village, or
the county) and its year. A model with a year or a date that the year does not lock is named in
`EXEMPT` with the reason; `tests/years/test_lock.py` fails for a model with such a field that is
in neither, so a new year-bound model cannot forget the lock.

The rule: what the year's registry and figures are made of is locked (incomes of Y, the round
of Y with its baseline, 四类名单 and snapshots, the procedures of Y with their steps and 公示,
the status events dated in Y, measures, plans, visits and fund movements of Y, the monitoring
income assessments of Y, village-year data of Y). What runs across years or is configuration
is not (households and members themselves: their edits after approval go to the township's
review list instead; pairings, projects, standards and lines, campaigns, rectification).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from assistance.models import (
    AssetDistribution,
    AssetIncome,
    FundMovement,
    HouseholdPlan,
    Measure,
    VillageSponsor,
    Visit,
    VisitPhoto,
)
from households.models import (
    CaseWorkflow,
    HouseholdEvent,
    HouseholdIncome,
    NoticeObjection,
    PublicNotice,
    StepPhoto,
    WorkflowStep,
)
from monitoring.models import IncomeAssessment, Sweep, SweepHousehold
from povertyapp import yearlock
from povertyapp.models import ResidentTeamMember, VillageYear
from rounds.models import (
    AdjustmentRound,
    RateSnapshot,
    RoundBaseline,
    RoundBaselineGroup,
    RoundChange,
    RoundVillage,
)

Owned = tuple[int | None, int | None]

# Procedures the year-end requires finished (blocking at sign-off): locked by their year.
# Monitoring procedures run on through the year-end (动态监测): one is locked with the year it
# finished in, and stays writable while open.
YEAR_PROCEDURES = (CaseWorkflow.Kind.IDENTIFICATION, CaseWorkflow.Kind.EXIT)


def _household(row: Any) -> int | None:
    return row.household.village_id if row.household_id else None


def _workflow(workflow: CaseWorkflow) -> Owned:
    if workflow.kind in YEAR_PROCEDURES:
        year: int | None = workflow.year
    else:
        year = workflow.finished_at.year if workflow.finished_at else None
    return workflow.household.village_id, year


def _round(row: Any) -> Owned:
    round: AdjustmentRound = row.round
    return round.county_id, round.year


def _year_of(day: Any) -> int | None:
    return day.year if day is not None else None


def _fund_movement(row: FundMovement) -> Owned:
    region = _household(row) if row.household_id else row.project.region_id
    return region, _year_of(row.date)


def _sweep_household(row: SweepHousehold) -> Owned:
    return row.village_id, _year_of(row.visited_on) or row.sweep.year


# (model, owner, description, the relations the owner reads: a set of rows is checked with one
# query per relation, not one per row; tests/years/test_lock_bulk.py counts them)
REGISTRY: list[tuple[type[Any], Any, Any, tuple[str, ...]]] = [
    (HouseholdIncome, lambda row: (_household(row), row.year), _("年度收入"), ("household",)),
    (
        HouseholdEvent,
        lambda row: (_household(row), row.effective_date.year),
        _("变动记录"),
        ("household",),
    ),
    (CaseWorkflow, _workflow, _("识别、退出程序（监测程序按办结年度）"), ("household",)),
    (
        WorkflowStep,
        lambda row: _workflow(row.workflow),
        _("程序环节"),
        ("workflow__household",),
    ),
    (
        StepPhoto,
        lambda row: _workflow(row.step.workflow),
        _("入户核实照片"),
        ("step__workflow__household",),
    ),
    (PublicNotice, lambda row: _workflow(row.workflow), _("公示"), ("workflow__household",)),
    (
        NoticeObjection,
        lambda row: _workflow(row.notice.workflow),
        _("公示异议"),
        ("notice__workflow__household",),
    ),
    (VillageYear, lambda row: (row.village_id, row.year), _("村年度数据"), ()),
    (
        ResidentTeamMember,
        lambda row: (row.village_year.village_id, row.village_year.year),
        _("驻村工作队"),
        ("village_year",),
    ),
    (AdjustmentRound, lambda row: (row.county_id, row.year), _("动态调整批次"), ()),
    (RoundBaseline, _round, _("批次基期"), ("round",)),
    (RoundBaselineGroup, _round, _("批次基期（村民小组）"), ("round",)),
    (RoundVillage, _round, _("批次村"), ("round",)),
    (RoundChange, _round, _("四类名单"), ("round",)),
    (RateSnapshot, _round, _("指标快照"), ("round",)),
    (Measure, lambda row: (_household(row), row.year), _("帮扶措施"), ("household",)),
    (HouseholdPlan, lambda row: (_household(row), row.year), _("一户一策"), ("household",)),
    (
        Visit,
        lambda row: (_household(row), _year_of(row.date)),
        _("走访记录"),
        ("household",),
    ),
    (
        VisitPhoto,
        lambda row: (_household(row.visit), _year_of(row.visit.date)),
        _("走访照片"),
        ("visit__household",),
    ),
    (FundMovement, _fund_movement, _("资金流水"), ("household", "project")),
    (VillageSponsor, lambda row: (row.village_id, row.year), _("村帮扶单位"), ()),
    (AssetIncome, lambda row: (row.asset.village_id, row.year), _("资产收益"), ("asset",)),
    (
        AssetDistribution,
        lambda row: (_household(row), row.year),
        _("资产收益分配"),
        ("household",),
    ),
    (
        IncomeAssessment,
        lambda row: (_household(row), _year_of(row.period_end)),
        _("监测收入核算"),
        ("household",),
    ),
    (Sweep, lambda row: (row.county_id, row.year), _("集中排查"), ()),
    (SweepHousehold, _sweep_household, _("排查户"), ("sweep",)),
]

EXEMPT: dict[str, str] = {
    "households.Household": "the living registry: its years describe the household; edits "
    "after a closed round's decision go to the township's review list (years.EditReview)",
    "households.Member": "birth, joining and leaving dates describe the person, not a year's data",
    "households.PovertyLine": "the province's line of a year, configuration; the signed "
    "year's figures are frozen in the sign-off",
    "households.NationalEntry": "the 录入国家系统 mark of a record: when the national system got "
    "it, set after the year-end too",
    "households.NationalEntryEvent": "the history of the 录入国家系统 marks",
    "households.MemberCompleteness": "a cache of the members' 信息录入率 kept by the database "
    "(its dates are a validity, not a year's data); a signed year's figures are frozen in the "
    "sign-off",
    "households.CaseBatch": "a batch only groups cases; each member case is locked with its "
    "procedure",
    "povertyapp.CalendarDay": "the national holiday calendar",
    "povertyapp.YearLock": "the lock itself",
    "povertyapp.Region": "the region tree runs across years; a merge ends a unit on a date",
    "povertyapp.RegionName": "a region's name and code history, not a year's data",
    "assistance.Pairing": "a pairing runs across years",
    "assistance.Project": "a project runs across years; its fund movements are locked by date",
    "assistance.Asset": "an asset runs across years; its income and distributions are locked "
    "by their year",
    "assistance.CoverageRun": "a check's run, rerun at will; it stores findings, not the year",
    "inspections.Campaign": "an assessment of a year happens after its sign-off, by design",
    "inspections.RectificationItem": "rectification continues in the next year",
    "monitoring.DibaoStandard": "the 低保 standard of a year, configuration",
    "monitoring.MonitoringLine": "the monitoring line of a year, configuration",
    "monitoring.Clue": "the clue door runs on through the year-end; a clue becomes a procedure, "
    "locked with the year it finishes in",
    "monitoring.CluePhoto": "a photo of a clue's 入户核实, open through the year-end as its clue",
    "monitoring.MonitoringObject": "a household's monitoring runs across years",
    "monitoring.ObjectRisk": "a monitored household's risk runs across years",
    "monitoring.ScrutinyTask": "exclusion scrutiny feeds the open round's proposals",
    "monitoring.PersonIdentity": "another department's certification (民政's 低保, 特困 …), "
    "changed only by that department's next list; the county's sign-off does not cover it",
    "years.SignOff": "the sign-off itself: it locks and reopens the year",
    "years.YearRollover": "the act that opens a new year, not a record of a signed one",
    "years.CarriedVillageYear": "marks a new year's village data as carried; the village-year "
    "row itself is locked with its year",
    "rounds.FigureHistory": "a dated diary of the figures, written only beside a snapshot the "
    "rates job or roll-up stores (a locked year's round is final and never recomputed, so no "
    "row of it is written after the lock); pruned after FIGURE_HISTORY_WEEKS, it feeds no figure",
    "rounds.RollupSnapshot": "the city's or province's sum of county snapshots, each frozen by "
    "its county's lock; a rerun replaces it from them",
}


def install() -> None:
    """Register every year-bound model and every exemption (from `YearsConfig.ready()`)."""
    for model, owner, description, related in REGISTRY:
        yearlock.register(model, owner=owner, description=description, related=related)
    for label, reason in EXEMPT.items():
        yearlock.exempt(label, reason)
