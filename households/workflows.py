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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import CaseWorkflow, Household, HouseholdEvent, WorkflowStep
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
    # A notice: what the printed sheet says above its list (start/end/days are filled in).
    # The sheet is signed by the step's level: 村民委员会 for the village, 人民政府 for the
    # township (DOMAIN §4: the second 公示 follows the township's review).
    notice_intro: Any = ""
    help: Any = ""
    # An 入户核实 step: its form takes field photos (`households.StepPhoto`, issue 17).
    photos: bool = False


@dataclass(frozen=True)
class Procedure:
    kind: str
    label: Any
    steps: tuple[Step, ...]
    # The whole procedure must finish within so many working days (None: no limit).
    deadline_working_days: int | None
    # The registry change made when the last step is done ("" for a procedure that changes no
    # status: the monitoring procedures record their result through `on_done`).
    event_kind: str
    to_status: str
    from_statuses: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    # Hooks of the apps above that register a procedure (`register`): `start_refusals(household)`
    # names what forbids opening a case (empty: it may open); `done_refusals(workflow, acted_on)`
    # what forbids its last step; `on_done(workflow=, actor=, acted_on=, opinion=)` records the
    # result, in the same transaction as the last step. `on_end(workflow=, actor=)` is told of
    # a case withdrawn or ended without result.
    start_refusals: Callable[[Household], list[str]] | None = None
    done_refusals: Callable[[CaseWorkflow, datetime.date], list[str]] | None = None
    on_done: Callable[..., None] | None = None
    on_end: Callable[..., None] | None = None
    # The whole procedure must finish within so many calendar days (None: no limit), for the
    # rules counted in days rather than working days (监测对象识别: 15 days of the clue).
    deadline_days: int | None = None

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
            photos=True,
        ),
        Step(
            "first_notice",
            _("第一次公示"),
            VILLAGE,
            type=NOTICE,
            objection_returns_to="appraisal",
            notice_intro=_(
                "经农户申请、村民小组（村民代表）民主评议、村委会和驻村工作队核实，现将以下农户"
                "予以公示，公示期%(days)d天（%(start)s至%(end)s）。如有异议，请在公示期内向村委会"
                "或通过下列电话反映。"
            ),
            help=_("在村内公示不少于7天。"),
        ),
        Step("township_review", _("乡镇审核"), TOWNSHIP, returns_to="verification"),
        Step(
            "second_notice",
            _("第二次公示"),
            TOWNSHIP,
            type=NOTICE,
            objection_returns_to="township_review",
            notice_intro=_(
                "以下农户经村级民主评议、核实和第一次公示，已经%(township)s人民政府审核同意，"
                "现予以第二次公示，公示期%(days)d天（%(start)s至%(end)s）。如有异议，请在公示期内"
                "向乡镇人民政府或通过下列电话反映。"
            ),
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
            notice_intro=_(
                "经村两委民主评议、村两委和驻村工作队核实、贫困户确认，以下贫困户达到退出标准，"
                "现予以公示，公示期%(days)d天（%(start)s至%(end)s）。如有异议，请在公示期内向村委会"
                "或通过下列电话反映。"
            ),
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


def register(definition: Procedure) -> None:
    """An app above the registry adds its procedure (monitoring's 监测对象识别 and 风险消除):
    the same steps, dates, 公示, to-do lists and clocks, with its own result (`on_done`).
    Called from the app's `ready()`; its kind must be one of `CaseWorkflow.Kind`."""
    if definition.kind not in CaseWorkflow.Kind.values:
        raise ValueError(f"{definition.kind!r} is not a CaseWorkflow.Kind")
    PROCEDURES[definition.kind] = definition


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
    definition = procedure(kind)
    if definition.deadline_days:
        return started + datetime.timedelta(days=definition.deadline_days)
    limit = definition.deadline_working_days
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


def todo_list(user: User, today: datetime.date | None = None) -> QuerySet[CaseWorkflow]:
    """What waits for me: overdue cases first (by deadline), then oldest first (by when the
    case reached its current step)."""
    today = today or timezone.localdate()
    return (
        CaseWorkflow.objects.filter(todo_condition(user))
        .filter(roles.household_scope_q(user))
        .select_related("household", "household__village", "household__village__parent")
        .annotate(is_late=_late(today))
        .order_by("-is_late", "deadline", "step_since", "id")
    )


def _late(today: datetime.date) -> Case:
    return Case(When(deadline__lt=today, then=Value(True)), default=Value(False))


def waiting_list(user: User, today: datetime.date | None = None) -> QuerySet[CaseWorkflow]:
    """My cases waiting on others: open cases in my scope that my level has acted on and that
    now stand at a step another level owns (the village's cases at the township or county; the
    township's reviews now at the county or sent back to the village)."""
    level = user_level(user)
    if level is None:
        return CaseWorkflow.objects.none()
    today = today or timezone.localdate()
    return (
        CaseWorkflow.objects.filter(state=CaseWorkflow.State.OPEN)
        .exclude(todo_condition(user))
        .filter(roles.household_scope_q(user))
        .filter(Exists(WorkflowStep.objects.filter(workflow=OuterRef("pk"), role=level)))
        .select_related("household", "household__village", "household__village__parent")
        .annotate(is_late=_late(today))
        .order_by("-is_late", "deadline", "step_since", "id")
    )


def overdue_cases(today: datetime.date) -> QuerySet[CaseWorkflow]:
    """Every open case past its statutory deadline (the day after it is late): the one rule of
    the supervisors' overdue list, the todo list's 已逾期 and the household list's warning."""
    return CaseWorkflow.objects.filter(state=CaseWorkflow.State.OPEN, deadline__lt=today)


def overdue_warning(*, on: datetime.date) -> list[tuple[str, Any]]:
    """The household list's warning: a household with an overdue procedure step
    (`detail_tabs.list_warnings`)."""
    return [(str(_("程序逾期")), Exists(overdue_cases(on).filter(household=OuterRef("pk"))))]


def overdue_list(user: User, today: datetime.date | None = None) -> QuerySet[CaseWorkflow]:
    """Every open case past its statutory deadline in the scope of a township or county (they
    supervise the villages: an overdue case stands out whatever step it waits at)."""
    if user.role not in (User.Role.TOWNSHIP_REVIEWER, User.Role.COUNTY_OFFICER):
        return CaseWorkflow.objects.none()
    today = today or timezone.localdate()
    return (
        overdue_cases(today)
        .filter(roles.household_scope_q(user))
        .select_related("household", "household__village", "household__village__parent")
        .order_by("deadline", "id")
    )


# The filtered case lists the work desk links to (`/households/todo/?show=...`): each the
# exact set the desk counts.
CASE_LISTS = ("mine", "late", "waiting", "overdue")


def case_list(
    user: User,
    show: str,
    today: datetime.date | None = None,
    village_code: str = "",
) -> QuerySet[CaseWorkflow]:
    """One of the `CASE_LISTS`: `mine` (my steps due now), `late` (those past their deadline),
    `waiting` (my cases at another level's step), `overdue` (every overdue case a township or
    county supervises, optionally of one village by its statistical code)."""
    today = today or timezone.localdate()
    if show == "mine":
        return todo_list(user, today)
    if show == "late":
        return todo_list(user, today).filter(deadline__lt=today)
    if show == "waiting":
        return waiting_list(user, today)
    if show == "overdue":
        cases = overdue_list(user, today)
        return cases.filter(household__village__code=village_code) if village_code else cases
    return CaseWorkflow.objects.none()


def return_targets(workflow: CaseWorkflow) -> list[Step]:
    """The earlier steps the current step's owner may send the case back to: a reviewing level
    (township, county) names any earlier step except the household's own application; a village
    step only the one its definition names; a 公示 step none (an objection sends it back)."""
    definition = procedure(workflow.kind)
    step = definition.step(workflow.step)
    if step.type == NOTICE:
        return []  # during a 公示, an objection is the way back
    if step.level == VILLAGE:
        return [definition.step(step.returns_to)] if step.returns_to else []
    position = definition.index(step.key)
    return [item for item in definition.steps[:position] if item.key != "application"]


# --- statutory clocks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Time left on an open case: working days to its statutory deadline (DOMAIN §4: 识别
    within 20 working days of the application) and, while a 公示 runs, natural days to its end
    (a 公示 is counted in natural days, its first day included)."""

    deadline: datetime.date | None
    working_days_left: int | None
    notice_end: datetime.date | None
    notice_days_left: int | None
    # Past the deadline (the day after it, even a day off, is late).
    overdue: bool

    @property
    def late_working_days(self) -> int:
        return -self.working_days_left if self.working_days_left else 0


def _calendar(first: datetime.date, last: datetime.date) -> dict[datetime.date, str]:
    from povertyapp.models import CalendarDay

    return dict(
        CalendarDay.objects.filter(date__gte=first, date__lte=last).values_list("date", "kind")
    )


def _is_working_day(day: datetime.date, exceptions: dict[datetime.date, str]) -> bool:
    from povertyapp.models import CalendarDay

    kind = exceptions.get(day)
    return kind == CalendarDay.Kind.WORKDAY or (
        kind != CalendarDay.Kind.HOLIDAY and day.weekday() < 5
    )


def working_days_left(
    today: datetime.date,
    deadline: datetime.date,
    exceptions: dict[datetime.date, str] | None = None,
) -> int:
    """Working days from `today` to `deadline`: the working days after today up to and including
    the deadline (0 on the deadline itself); negative when late, counting the working days
    after the deadline up to and including today (-1 the first working day after it)."""
    first, last = min(today, deadline), max(today, deadline)
    if exceptions is None:
        exceptions = _calendar(first, last)
    count = 0
    day = first
    while day < last:
        day += datetime.timedelta(days=1)
        if _is_working_day(day, exceptions):
            count += 1
    return count if deadline >= today else -count


def case_clocks(cases: list[CaseWorkflow], today: datetime.date | None = None) -> dict[int, Clock]:
    """The clock of each open case in two queries (their running notices, the holiday calendar
    of the whole span), for the case page and the to-do lists."""
    from households.models import PublicNotice

    today = today or timezone.localdate()
    open_cases = [case for case in cases if case.state == CaseWorkflow.State.OPEN]
    notices = {
        notice.workflow_id: notice
        for notice in PublicNotice.objects.filter(
            workflow__in=[case.pk for case in open_cases], is_open=True
        )
    }
    deadlines = [case.deadline for case in open_cases if case.deadline]
    exceptions = _calendar(min([today, *deadlines]), max([today, *deadlines])) if deadlines else {}
    clocks = {}
    for case in open_cases:
        notice = notices.get(case.pk)
        clocks[case.pk] = Clock(
            deadline=case.deadline,
            working_days_left=(
                working_days_left(today, case.deadline, exceptions) if case.deadline else None
            ),
            notice_end=notice.end_date if notice else None,
            notice_days_left=(notice.end_date - today).days if notice else None,
            overdue=is_overdue(case, today),
        )
    return clocks


def is_overdue(workflow: CaseWorkflow, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(
        workflow.state == CaseWorkflow.State.OPEN
        and workflow.deadline
        and today > workflow.deadline
    )


def can_withdraw(user: User, workflow: CaseWorkflow, household: Household | None = None) -> bool:
    """The case's owner: a village cadre of the household's village (the level that opened it),
    while the case is open (before the 公告)."""
    if workflow.state != CaseWorkflow.State.OPEN or not roles.has_case_access(user):
        return False
    household = household or workflow.household
    first = procedure(workflow.kind).steps[0]
    return user.role == LEVEL_ROLES[first.level] and roles.region_in_scope(user, household.village)
