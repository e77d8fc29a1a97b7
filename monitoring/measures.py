"""帮扶 by risk type (issue 15): 一户一策 for a monitoring object on the assistance app's measures.

`RiskMeasureRule` rows (data the county office edits; defaults in migration 0002) say which
measure categories (the 帮扶措施类别 value list the assistance app's `Measure.category` uses)
answer each risk. The object's measures are the household's assistance measures started since
identification (since the first clue on the 绿色通道), not cancelled; a risk is answered when one
of them is of a category its rules name — a single risk takes one measure, several risks a
combination. A measure must start within `measure_start_days` (15) of identification: a plan
with no measure by then is overdue. Measures are recorded on the assistance pages
(`assistance:household`), never copied here.

After 风险消除 the measures with a contract end go on to it (DOMAIN §7): 小额信贷 (金融帮扶) and
资产收益 to the contract's end, 公益岗位 to the agreement's end, 教育帮扶 (雨露计划) to the end of
the school stage — their planned end (`Measure.planned_end`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from assistance.models import Measure
from households.services import common
from monitoring.models import MonitoringObject, RiskMeasureRule
from monitoring.rules import rules_for

# Categories whose measures run to a contract's end and continue after 风险消除.
CONTRACT_CATEGORIES = ("金融帮扶", "公益岗位", "教育帮扶", "资产收益")


def rule_table() -> dict[str, list[str]]:
    """risk type → the measure categories that answer it (active rules)."""
    table: dict[str, list[str]] = defaultdict(list)
    for rule in RiskMeasureRule.objects.filter(active=True).order_by("risk_type", "id"):
        table[rule.risk_type].append(rule.measure_category)
    return dict(table)


def measures_since(found: MonitoringObject) -> datetime.date:
    """The day from which the household's measures count for the object."""
    if found.green_channel:
        return found.clue_date
    return found.identified_on or found.clue_date


def object_measures(found: MonitoringObject) -> list[Measure]:
    """The household's measures started (or planned to start) since `measures_since`, not
    cancelled."""
    since = measures_since(found)
    measures = Measure.objects.filter(household_id=found.household_id).exclude(
        status=Measure.Status.CANCELLED
    )
    return [
        measure
        for measure in measures.order_by("planned_start", "id")
        if (measure.actual_start or measure.planned_start or measure.created_at.date()) >= since
    ]


@dataclass
class RiskLine:
    risk_type: str
    label: str
    categories: list[str]
    measures: list[Measure] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.measures)


@dataclass
class Plan:
    """一户一策 of a monitoring object."""

    lines: list[RiskLine]
    measures: list[Measure]
    start_due: datetime.date | None
    overdue: bool
    continuing: list[Measure]

    @property
    def missing(self) -> list[RiskLine]:
        return [line for line in self.lines if not line.answered]


def continuing_measures(found: MonitoringObject, on: datetime.date) -> list[Measure]:
    """The contract measures that go on after 风险消除: of `CONTRACT_CATEGORIES`, not finished
    (no actual end), with a planned end after `on` (the elimination date once eliminated)."""
    day = found.eliminated_on or on
    return [
        measure
        for measure in object_measures(found)
        if measure.category in CONTRACT_CATEGORIES
        and measure.status != Measure.Status.COMPLETED
        and measure.planned_end is not None
        and measure.planned_end > day
    ]


def object_plan(found: MonitoringObject, on: datetime.date | None = None) -> Plan:
    """Each risk of the object and the measures that answer it; the ones with none are
    `missing`. The clock: a measure must start within the local `measure_start_days` of
    identification (`overdue` when none has by then)."""
    on = on or common.today()
    table = rule_table()
    measures = object_measures(found)
    risk_lines = []
    for risk in found.risks.all():
        categories = table.get(risk.risk_type, [])
        risk_lines.append(
            RiskLine(
                risk_type=risk.risk_type,
                label=str(risk.get_risk_type_display()),
                categories=categories,
                measures=[measure for measure in measures if measure.category in categories],
            )
        )
    start_due = None
    overdue = False
    if found.identified_on is not None:
        days = rules_for(found.household.village).measure_start_days
        start_due = found.identified_on + datetime.timedelta(days=days)
        started = [
            measure
            for measure in measures
            if measure.actual_start is not None and measure.actual_start <= start_due
        ]
        overdue = found.state == MonitoringObject.State.MONITORED and on > start_due and not started
    return Plan(
        lines=risk_lines,
        measures=measures,
        start_due=start_due,
        overdue=overdue,
        continuing=continuing_measures(found, on),
    )
