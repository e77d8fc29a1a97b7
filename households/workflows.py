"""The one procedure mechanism: identification (识别), exit (退出), and later monitoring and risk
elimination, are the same machine with different step lists.

A procedure is data: an ordered list of steps, each owned by a level (village, township,
county), either an action (a decision with opinion and evidence) or a 公示 (a notice with a start
date, a length and objection intake). The services (`households.services.workflow_*`) move a
case along; this module says what the steps are, who may do the current one, the deadline
(working days) and what waits for whom (the to-do list).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import CaseWorkflow, Household, HouseholdEvent
from povertyapp import roles
from povertyapp.models import User

VILLAGE = "village"
TOWNSHIP = "township"
COUNTY = "county"
LEVEL_LABELS = {VILLAGE: _("村级"), TOWNSHIP: _("乡镇"), COUNTY: _("县级")}
# Which role acts for which level. Each step is done by the role that owns it, in its scope.
LEVEL_ROLES = {
    VILLAGE: User.Role.VILLAGE_CADRE,
    TOWNSHIP: User.Role.TOWNSHIP_REVIEWER,
    COUNTY: User.Role.COUNTY_OFFICER,
}

ACTION = "action"
NOTICE = "notice"


@dataclass(frozen=True)
class Step:
    key: str
    label: Any
    level: str
    type: str = ACTION
    # What the step must record besides who/when/opinion.
    needs_evidence: bool = False
    needs_attendance: bool = False
    # A reviewing step may send the case back to this step (None: it cannot return).
    returns_to: str | None = None
    # A notice: default length in days, and where an objection sends the case.
    notice_days: int = 7
    objection_returns_to: str | None = None
    help: Any = ""


@dataclass(frozen=True)
class Procedure:
    kind: str
    label: Any
    steps: tuple[Step, ...]
    # The whole procedure must finish within so many working days (None: no limit).
    deadline_working_days: int | None
    # The registry change made when the last step is done.
    event_kind: str
    to_status: str
    from_statuses: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def next_step(self, key: str) -> Step | None:
        keys = [step.key for step in self.steps]
        position = keys.index(key)
        return self.steps[position + 1] if position + 1 < len(self.steps) else None

    def index(self, key: str) -> int:
        return [step.key for step in self.steps].index(key)


IDENTIFICATION = Procedure(
    kind=CaseWorkflow.Kind.IDENTIFICATION,
    label=_("贫困户识别（两公示一公告）"),
    steps=(
        Step(
            "application",
            _("农户申请"),
            VILLAGE,
            needs_evidence=False,
            help=_("登记农户提出的申请（可上传申请书）。"),
        ),
        Step(
            "appraisal",
            _("民主评议"),
            VILLAGE,
            needs_evidence=True,
            needs_attendance=True,
            help=_("村民小组或村民代表评议：填写评议意见和参会人数，上传会议记录或照片。"),
        ),
        Step(
            "verification",
            _("村委会和驻村工作队核实"),
            VILLAGE,
            returns_to="appraisal",
            help=_("入户核实收入、住房、成员等情况。"),
        ),
        Step(
            "first_notice",
            _("第一次公示"),
            VILLAGE,
            type=NOTICE,
            objection_returns_to="appraisal",
            help=_("在村内公示不少于7天。"),
        ),
        Step("township_review", _("乡镇审核"), TOWNSHIP, returns_to="verification"),
        Step(
            "second_notice",
            _("第二次公示"),
            TOWNSHIP,
            type=NOTICE,
            objection_returns_to="township_review",
            help=_("乡镇审核后在村内再次公示。"),
        ),
        Step("county_approval", _("县扶贫办审定"), COUNTY, returns_to="township_review"),
        Step("announcement", _("公告"), COUNTY, help=_("县扶贫办公告后纳入建档立卡。")),
    ),
    deadline_working_days=20,
    event_kind=HouseholdEvent.Kind.IDENTIFIED,
    to_status=Household.Status.POOR,
    from_statuses=(Household.Status.NON_REGISTERED, Household.Status.REMOVED),
)

EXIT = Procedure(
    kind=CaseWorkflow.Kind.EXIT,
    label=_("贫困户退出"),
    steps=(
        Step(
            "appraisal",
            _("村两委民主评议"),
            VILLAGE,
            needs_evidence=True,
            needs_attendance=True,
            help=_("填写评议意见和参会人数，上传会议记录或照片。"),
        ),
        Step("verification", _("村两委和驻村工作队核实"), VILLAGE, returns_to="appraisal"),
        Step(
            "household_confirmation",
            _("贫困户确认"),
            VILLAGE,
            needs_evidence=True,
            help=_("农户签字确认脱贫，上传确认书。"),
        ),
        Step(
            "notice",
            _("村内公示"),
            VILLAGE,
            type=NOTICE,
            objection_returns_to="appraisal",
            help=_("公示无异议后报县公告。"),
        ),
        Step(
            "announcement",
            _("公告退出"),
            COUNTY,
            returns_to="verification",
            help=_("县扶贫办公告退出，标注为已脱贫。"),
        ),
    ),
    deadline_working_days=None,
    event_kind=HouseholdEvent.Kind.EXITED,
    to_status=Household.Status.EXITED,
    from_statuses=(Household.Status.POOR, Household.Status.RETURNED),
)

PROCEDURES: dict[str, Procedure] = {p.kind: p for p in (IDENTIFICATION, EXIT)}


def procedure(kind: str) -> Procedure:
    return PROCEDURES[kind]


def current_step(workflow: CaseWorkflow) -> Step:
    return procedure(workflow.kind).step(workflow.step)


# --- working days ---------------------------------------------------------------------------


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start`: Monday–Friday, except the public holidays
    of the holiday calendar (`povertyapp.models.CalendarDay`, 放假), plus the weekend days it
    marks as 调休上班. One query reads the calendar exceptions of the span."""
    from povertyapp.models import CalendarDay

    # A span long enough for `days` working days even across 春节 and 国庆 (≤ 9 days off).
    horizon = start + datetime.timedelta(days=days * 2 + 30)
    exceptions = dict(
        CalendarDay.objects.filter(date__gt=start, date__lte=horizon).values_list("date", "kind")
    )
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if day > horizon:  # pragma: no cover - only a calendar with weeks of holidays gets here
            horizon = day + datetime.timedelta(days=days * 2 + 30)
            exceptions.update(
                CalendarDay.objects.filter(date__gte=day, date__lte=horizon).values_list(
                    "date", "kind"
                )
            )
        kind = exceptions.get(day)
        if kind == CalendarDay.Kind.WORKDAY or (
            kind != CalendarDay.Kind.HOLIDAY and day.weekday() < 5
        ):
            remaining -= 1
    return day


def deadline_for(kind: str, started: datetime.date) -> datetime.date | None:
    limit = procedure(kind).deadline_working_days
    return add_working_days(started, limit) if limit else None


# --- who acts -------------------------------------------------------------------------------


def user_level(user: User) -> str | None:
    for level, role in LEVEL_ROLES.items():
        if user.role == role:
            return level
    return None


def can_act(user: User, workflow: CaseWorkflow, household: Household | None = None) -> bool:
    """The owning role of the current step, within its area scope."""
    if workflow.state != CaseWorkflow.State.OPEN or not roles.has_case_access(user):
        return False
    household = household or workflow.household
    step = current_step(workflow)
    return user.role == LEVEL_ROLES[step.level] and roles.region_in_scope(user, household.village)


def todo_condition(user: User) -> Q:
    """Open cases whose current step belongs to the user's level (a Q over CaseWorkflow)."""
    level = user_level(user)
    if level is None:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    for kind, definition in PROCEDURES.items():
        keys = [step.key for step in definition.steps if step.level == level]
        if keys:
            condition |= Q(kind=kind, step__in=keys)
    return condition & Q(state=CaseWorkflow.State.OPEN)


def todo_list(user: User) -> QuerySet[CaseWorkflow]:
    """What waits for me, oldest first (by when the case reached its current step)."""
    return (
        CaseWorkflow.objects.filter(todo_condition(user))
        .filter(roles.household_scope_q(user))
        .select_related("household", "household__village", "household__village__parent")
        .order_by("step_since", "id")
    )


def is_overdue(workflow: CaseWorkflow, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(
        workflow.state == CaseWorkflow.State.OPEN
        and workflow.deadline
        and today > workflow.deadline
    )
