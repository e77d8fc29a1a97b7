"""The annual 集中排查 (sweep, issue 15): the county opens it, two-person teams visit every rural
household of the county and record its 排查表 (or why it was not visited), and closing turns the
risks found into 风险线索 of the cadres' channel.

Services validate everything before writing (ValidationError naming the field, with a `code`),
run in one transaction, lock the rows they change and check the `version` of a 排查表 edited
by two people at once. Selectors start from the user's scope:

- the county office opens, assigns teams and closes; it sees the whole county;
- a village cadre sees and records the households of their village;
- a township reviewer reads the villages of their township; the auditor reads the county;
- a helper is refused (the sweep is the cadres' work; a helper sees only the households paired
  with them, never a village's list), and so are department accounts and the administrators.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household, Member
from households.services import common
from monitoring import priority
from monitoring.clues import clue_create
from monitoring.models import (
    Clue,
    DibaoStandard,
    MonitoringLine,
    PriorityGroup,
    RiskType,
    Sweep,
    SweepHousehold,
    SweepTeam,
)
from povertyapp import audit, regions, roles
from povertyapp.conflicts import ConflictError
from povertyapp.models import Region, User

# How many SweepHousehold rows one INSERT carries when a sweep opens.
BATCH_SIZE = 2000

# The 排查表's yes/no questions: 两不愁三保障 and safe drinking water.
YES_NO_QUESTIONS: tuple[tuple[str, Any], ...] = (
    ("food_secure", gettext_lazy("不愁吃")),
    ("clothing_secure", gettext_lazy("不愁穿")),
    ("education_secure", gettext_lazy("义务教育有保障")),
    ("medical_secure", gettext_lazy("基本医疗有保障")),
    ("housing_secure", gettext_lazy("住房安全有保障")),
    ("water_secure", gettext_lazy("饮水安全有保障")),
)
INCOME_CHANGES: tuple[tuple[str, Any], ...] = (
    ("up", gettext_lazy("增加")),
    ("same", gettext_lazy("基本持平")),
    ("down", gettext_lazy("减少")),
)


def _error(field_name: str | None, message: str, code: str) -> ValidationError:
    if field_name is None:
        return ValidationError(message, code=code)
    return ValidationError({field_name: [ValidationError(message, code=code)]})


def _raise_if(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- access -------------------------------------------------------------------------------------


def can_see_sweeps(user: User) -> bool:
    """The sweep pages: the case roles with a region, but helpers."""
    return bool(
        roles.has_case_access(user) and user.region_id is not None and user.role != User.Role.HELPER
    )


def can_run_sweeps(user: User) -> bool:
    """Opening, teams and closing: the county office (of a county or above)."""
    return can_see_sweeps(user) and roles.can_configure(user)


def can_record_sweep(user: User) -> bool:
    """The 排查表: the registry keepers (the village cadre, the county office)."""
    return can_see_sweeps(user) and roles.can_write_households(user)


def _require_viewer(user: User) -> None:
    if not can_see_sweeps(user):
        raise PermissionDenied(_("您的账号不查看集中排查。"))


def sweeps_for_user(*, user: User) -> QuerySet[Sweep]:
    """The sweeps of the user's county (or of the counties under the user's region)."""
    _require_viewer(user)
    region = user.region
    assert region is not None
    chain = [node.pk for node in region.ancestors(include_self=True)]
    return Sweep.objects.filter(
        Q(county__pk__in=chain) | Q(county__path__startswith=region.path)
    ).select_related("county")


def sweep_get_for_user(*, user: User, sweep_id: int, for_run: bool = False) -> Sweep:
    """One sweep: 404 outside the user's county, 403 to a role that may not run it."""
    try:
        sweep = sweeps_for_user(user=user).get(pk=sweep_id)
    except (Sweep.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该集中排查，或您无权查看。")) from None
    if for_run and not can_run_sweeps(user):
        raise PermissionDenied(_("只有县级部门可以发起、分组和结束集中排查。"))
    return sweep


def sweep_households_for_user(*, user: User, sweep: Sweep) -> QuerySet[SweepHousehold]:
    """The households of the sweep in the user's area (a cadre: their village)."""
    _require_viewer(user)
    assert user.region is not None
    return SweepHousehold.objects.filter(sweep=sweep, village__path__startswith=user.region.path)


def sweep_household_get_for_user(
    *, user: User, sweep_household_id: int, for_write: bool = False
) -> SweepHousehold:
    """One 排查表: 404 outside the user's area, 403 to a read-only role."""
    _require_viewer(user)
    assert user.region is not None
    try:
        row = SweepHousehold.objects.select_related(
            "sweep", "sweep__county", "household", "village", "village__parent", "team"
        ).get(pk=sweep_household_id, village__path__startswith=user.region.path)
    except (SweepHousehold.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该排查户，或您无权查看。")) from None
    if for_write and not can_record_sweep(user):
        raise PermissionDenied(_("您的角色只能查看，不能录入排查表。"))
    return row


def village_get_for_user(*, user: User, sweep: Sweep, village_id: int) -> Region:
    """A village of the sweep's county inside the user's area (404 otherwise)."""
    _require_viewer(user)
    assert user.region is not None
    village = (
        Region.objects.filter(
            pk=village_id,
            level=Region.Level.VILLAGE,
            path__startswith=user.region.path,
        )
        .filter(path__startswith=sweep.county.path)
        .select_related("parent")
        .first()
    )
    if village is None:
        raise Http404(_("未找到该村，或您无权查看。"))
    return village


# --- the year's line ----------------------------------------------------------------------------


def default_line(*, county: Region, year: int) -> Decimal | None:
    """The monitoring line of the county's year from the nearest `MonitoringLine` row up the
    region tree: its amount, or its multiple of the 农村低保标准 of the same area and year (None
    when no row or no standard says). The form prefills it; the county office confirms it."""
    chain = [node.pk for node in reversed(county.ancestors(include_self=True))]
    rows = {
        row.region_id: row for row in MonitoringLine.objects.filter(year=year, region__in=chain)
    }
    for pk in chain:
        line = rows.get(pk)
        if line is None:
            continue
        if line.kind == MonitoringLine.Kind.AMOUNT:
            return line.amount
        standard = DibaoStandard.objects.filter(region_id=pk, year=year).first()
        if standard is None or line.multiple is None:
            return None
        return (standard.amount * line.multiple).quantize(Decimal("0.01"))
    return None


# --- opening ------------------------------------------------------------------------------------


def swept_households(county: Region) -> QuerySet[Household]:
    """Every household of the county a sweep covers: all but 剔除 (建档立卡 and ordinary rural
    households alike)."""
    return Household.objects.filter(village__path__startswith=county.path).exclude(
        status=Household.Status.REMOVED
    )


@transaction.atomic
def sweep_open_blocker(*, county: Region, year: int) -> str | None:
    """Why the county cannot open a sweep of `year` (it has one: one sweep a county a year),
    or None: `sweep_open` refuses with it, and the sweeps' pages show it in place of the
    button and the form."""
    if not Sweep.objects.filter(county=county, year=year).exists():
        return None
    return _("%(county)s%(year)s年的集中排查已经发起，每县每年只发起一次。") % {
        "county": county.name,
        "year": year,
    }


def sweep_open(
    *,
    actor: User,
    county: Region,
    year: int,
    name: str,
    start_date: datetime.date,
    end_date: datetime.date,
    line: Decimal,
    groups: Iterable[str],
) -> Sweep:
    """Open the county's sweep of `year` and build its households, each with the priority
    groups the data puts it in (`monitoring.priority`), in batched bulk inserts."""
    if not can_run_sweeps(actor) or not roles.region_in_scope(actor, county):
        raise PermissionDenied(_("只有县级部门可以发起本县的集中排查。"))
    chosen = list(dict.fromkeys(groups))
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if county.level != Region.Level.COUNTY:
        errors["county"].append(ValidationError(_("集中排查以县为单位发起。"), code="level"))
    if not name.strip():
        errors["name"].append(ValidationError(_("请填写排查名称。"), code="required"))
    if end_date < start_date:
        errors["end_date"].append(ValidationError(_("结束日期不能早于开始日期。"), code="order"))
    if start_date.year != year:
        errors["start_date"].append(ValidationError(_("开始日期应在排查年度内。"), code="year"))
    if line is None or line <= 0:
        errors["line"].append(ValidationError(_("请填写当年监测标准。"), code="required"))
    unknown = [group for group in chosen if group not in PriorityGroup.values]
    if unknown:
        errors["groups"].append(
            ValidationError(_("未知的重点群体：%(groups)s。") % {"groups": _("、").join(unknown)})
        )
    blocker = sweep_open_blocker(county=county, year=year)
    if blocker:
        errors["year"].append(ValidationError(blocker, code="duplicate"))
    _raise_if(errors)
    sweep = Sweep(
        county=county,
        year=year,
        name=name.strip(),
        start_date=start_date,
        end_date=end_date,
        line=line,
        priority_groups=chosen,
        created_by=actor,
    )
    sweep.full_clean()
    sweep.save()
    households = swept_households(county)
    tags = priority.groups_of(households, groups=chosen, on=start_date, line=line)
    batch: list[SweepHousehold] = []
    total = 0
    for pk, village_id in (
        households.order_by("pk").values_list("pk", "village_id").iterator(chunk_size=BATCH_SIZE)
    ):
        batch.append(
            SweepHousehold(
                sweep=sweep, household_id=pk, village_id=village_id, groups=tags.get(pk, [])
            )
        )
        if len(batch) >= BATCH_SIZE:
            SweepHousehold.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    if batch:
        SweepHousehold.objects.bulk_create(batch)
        total += len(batch)
    audit.record(
        "approval",
        user=actor,
        target="sweep:open",
        object_id=sweep.pk,
        reason=sweep.name,
        detail={"households": total, "groups": chosen},
    )
    return sweep


# --- teams --------------------------------------------------------------------------------------


@transaction.atomic
def sweep_team_create(
    *,
    actor: User,
    sweep: Sweep,
    name: str,
    first_member: str,
    second_member: str,
    villages: Iterable[Region],
) -> SweepTeam:
    """A two-person team and its villages; the villages' households of the sweep are assigned
    to it. A village belongs to one team of a sweep."""
    if not can_run_sweeps(actor) or not roles.region_in_scope(actor, sweep.county):
        raise PermissionDenied(_("只有县级部门可以分配排查小组。"))
    locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
    chosen = list(villages)
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if locked.state != Sweep.State.OPEN:
        raise _error(None, _("集中排查已结束，不能再分组。"), "closed")
    first, second = first_member.strip(), second_member.strip()
    if not name.strip():
        errors["name"].append(ValidationError(_("请填写小组名称。"), code="required"))
    elif SweepTeam.objects.filter(sweep=locked, name=name.strip()).exists():
        errors["name"].append(ValidationError(_("该小组名称已使用。"), code="duplicate"))
    if not first:
        errors["first_member"].append(ValidationError(_("请填写排查人员一。"), code="required"))
    if not second:
        errors["second_member"].append(ValidationError(_("请填写排查人员二。"), code="required"))
    elif first == second:
        errors["second_member"].append(
            ValidationError(_("排查小组由两名不同人员组成。"), code="same_person")
        )
    if not chosen:
        errors["villages"].append(ValidationError(_("请选择负责村。"), code="required"))
    for village in chosen:
        if village.level != Region.Level.VILLAGE or not village.path.startswith(locked.county.path):
            errors["villages"].append(
                ValidationError(
                    _("%(village)s不属于本次排查的县。") % {"village": village.name},
                    code="outside",
                )
            )
    taken = (
        SweepTeam.villages.through.objects.filter(
            sweepteam__sweep=locked, region__in=[village.pk for village in chosen]
        )
        .select_related("sweepteam", "region")
        .order_by("region__path")
    )
    for link in taken:
        errors["villages"].append(
            ValidationError(
                _("%(village)s已分配给%(team)s。")
                % {"village": link.region.name, "team": link.sweepteam.name},
                code="taken",
            )
        )
    _raise_if(errors)
    team = SweepTeam(sweep=locked, name=name.strip(), first_member=first, second_member=second)
    team.full_clean()
    team.save()
    team.villages.set(chosen)
    SweepHousehold.objects.filter(sweep=locked, village__in=chosen).update(team=team)
    return team


# --- the 排查表 ---------------------------------------------------------------------------------


@dataclass
class Visit:
    """What a 排查表 says: visited (with the answers) or not, with the reason."""

    visited: bool
    visited_on: datetime.date | None = None
    first_surveyor: str = ""
    second_surveyor: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    per_capita_income: Decimal | None = None
    risk_found: bool = False
    risk_types: list[str] = field(default_factory=list)
    note: str = ""
    skip_reason: str = ""


def _visit_errors(visit: Visit, sweep: Sweep) -> dict[str, list[ValidationError]]:
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    today = common.today()
    if not visit.visited:
        if not visit.skip_reason.strip():
            errors["skip_reason"].append(
                ValidationError(_("未入户时请填写原因。"), code="required")
            )
        return errors
    if visit.visited_on is None:
        errors["visited_on"].append(ValidationError(_("请填写排查日期。"), code="required"))
    elif visit.visited_on > today:
        errors["visited_on"].append(ValidationError(_("排查日期不能晚于今天。"), code="future"))
    elif not sweep.start_date <= visit.visited_on <= sweep.end_date:
        errors["visited_on"].append(
            ValidationError(
                _("排查日期应在本次排查的起止日期（%(start)s至%(end)s）之内。")
                % {"start": sweep.start_date.isoformat(), "end": sweep.end_date.isoformat()},
                code="outside_sweep",
            )
        )
    first, second = visit.first_surveyor.strip(), visit.second_surveyor.strip()
    if not first:
        errors["first_surveyor"].append(ValidationError(_("请填写排查人员一。"), code="required"))
    if not second:
        errors["second_surveyor"].append(ValidationError(_("请填写排查人员二。"), code="required"))
    elif first == second:
        errors["second_surveyor"].append(
            ValidationError(_("入户排查须由两名不同人员完成。"), code="same_person")
        )
    for key, label in YES_NO_QUESTIONS:
        if visit.answers.get(key) not in (True, False):
            errors[key].append(
                ValidationError(_("请回答：%(question)s。") % {"question": label}, code="required")
            )
    if visit.answers.get("income_change") not in dict(INCOME_CHANGES):
        errors["income_change"].append(ValidationError(_("请选择收入变化情况。"), code="required"))
    if visit.per_capita_income is not None and visit.per_capita_income < 0:
        errors["per_capita_income"].append(
            ValidationError(_("人均纯收入不能为负数。"), code="negative")
        )
    if visit.risk_found:
        if not visit.risk_types:
            errors["risk_types"].append(
                ValidationError(_("发现风险时请选择风险类型。"), code="required")
            )
        unknown = [risk for risk in visit.risk_types if risk not in RiskType.values]
        if unknown:
            errors["risk_types"].append(ValidationError(_("未知的风险类型。"), code="invalid"))
        if not visit.note.strip():
            errors["note"].append(ValidationError(_("发现风险时请填写情况说明。"), code="required"))
    return errors


@transaction.atomic
def sweep_visit_record(
    *,
    actor: User,
    sweep_household: SweepHousehold,
    visit: Visit,
    expected_version: int | None,
) -> SweepHousehold:
    """Record (or correct) a household's 排查表 while the sweep is open: visited on a day of the
    sweep (not in the future) by two named surveyors with every question answered, or not
    visited with the reason. Refused when someone saved it since `expected_version`."""
    if not can_record_sweep(actor) or not roles.region_in_scope(actor, sweep_household.village):
        raise PermissionDenied(_("您的角色只能查看，不能录入排查表。"))
    locked = (
        SweepHousehold.objects.select_for_update()
        .select_related("sweep")
        .get(pk=sweep_household.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("排查表"), "old": "", "new": "", "who": _("他人")}]
        )
    if locked.sweep.state != Sweep.State.OPEN:
        raise _error(None, _("集中排查已结束，排查表不能再修改。"), "closed")
    _raise_if(_visit_errors(visit, locked.sweep))
    if visit.visited:
        locked.state = SweepHousehold.State.VISITED
        locked.visited_on = visit.visited_on
        locked.first_surveyor = visit.first_surveyor.strip()
        locked.second_surveyor = visit.second_surveyor.strip()
        locked.answers = {
            **{key: visit.answers[key] for key, _label in YES_NO_QUESTIONS},
            "income_change": visit.answers["income_change"],
            "hardship": str(visit.answers.get("hardship", "")).strip(),
        }
        locked.per_capita_income = visit.per_capita_income
        locked.risk_found = visit.risk_found
        locked.risk_types = list(dict.fromkeys(visit.risk_types)) if visit.risk_found else []
        locked.note = visit.note.strip()
        locked.skip_reason = ""
    else:
        locked.state = SweepHousehold.State.SKIPPED
        locked.visited_on = None
        locked.first_surveyor = visit.first_surveyor.strip()
        locked.second_surveyor = visit.second_surveyor.strip()
        locked.answers = {}
        locked.per_capita_income = None
        locked.risk_found = False
        locked.risk_types = []
        locked.note = visit.note.strip()
        locked.skip_reason = visit.skip_reason.strip()
    locked.recorded_by = actor
    locked.version += 1
    locked.full_clean(exclude=["sweep", "household", "village", "team", "clue", "recorded_by"])
    locked.save()
    return locked


# --- closing ------------------------------------------------------------------------------------


def _head(household_id: int) -> Member | None:
    members = Member.objects.filter(household_id=household_id, is_active=True)
    return members.filter(relation="户主").first() or members.order_by("pk").first()


def sweep_close_blocker(sweep: Sweep) -> str | None:
    """Why the sweep cannot be closed yet (households neither visited nor given a reason, by
    village), or None: `sweep_close` refuses with it, and the sweep's page shows it in place of
    the button."""
    pending = (
        SweepHousehold.objects.filter(sweep=sweep, state=SweepHousehold.State.PENDING)
        .values("village__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "village__name")
    )
    counts = [(row["village__name"], row["count"]) for row in pending]
    if not counts:
        return None
    total = sum(count for _name, count in counts)
    places = regions.households_by_village(counts)
    return _("还有%(total)s户未排查（%(places)s），全部入户或说明原因后才能结束。") % {
        "total": total,
        "places": places,
    }


@transaction.atomic
def sweep_close(*, actor: User, sweep: Sweep) -> Sweep:
    """Close the sweep once every household is visited or has its reason; each finding with a
    risk becomes a 风险线索 of the cadres' channel (基层干部排查) through `clue_create`: the
    household's head as the person, the first risk type, the note as the difficulty, dated the
    day of closing (the visit date goes in the clue's details). Idempotent: a finding that has
    its clue gets no second one, and closing a closed sweep changes nothing."""
    if not can_run_sweeps(actor) or not roles.region_in_scope(actor, sweep.county):
        raise PermissionDenied(_("只有县级部门可以结束集中排查。"))
    locked = Sweep.objects.select_for_update().select_related("county").get(pk=sweep.pk)
    blocker = sweep_close_blocker(locked)
    if blocker is not None:
        raise _error(None, blocker, "pending")
    today = common.today()
    findings = (
        SweepHousehold.objects.select_for_update()
        .filter(sweep=locked, risk_found=True, clue__isnull=True)
        .select_related("village")
        .order_by("pk")
    )
    made = 0
    for finding in findings:
        head = _head(finding.household_id)
        if head is None or not head.id_number:
            raise _error(
                None,
                _("排查户%(household)s没有可登记线索的在户成员身份证号。")
                % {"household": finding.household_id},
                "no_person",
            )
        clue = clue_create(
            channel=Clue.Channel.CADRE_CHECK,
            name=head.name,
            id_number=head.id_number,
            risk_type=finding.risk_types[0],
            received_on=today,
            actor=actor,
            region=finding.village,
            difficulty=finding.note,
            details={
                "sweep": locked.pk,
                "visited_on": finding.visited_on.isoformat() if finding.visited_on else "",
                "risk_types": finding.risk_types,
            },
        )
        finding.clue = clue
        finding.save(update_fields=["clue"])
        made += 1
    if locked.state != Sweep.State.CLOSED:
        locked.state = Sweep.State.CLOSED
        locked.closed_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["state", "closed_at", "version"])
        audit.record(
            "approval",
            user=actor,
            target="sweep:close",
            object_id=locked.pk,
            reason=locked.name,
            detail={"clues": made},
        )
    return locked


# --- progress -----------------------------------------------------------------------------------


@dataclass
class ProgressRow:
    township: str
    village: str
    village_id: int
    households: int
    visited: int
    skipped: int
    pending: int
    risks: int
    township_code: str = ""
    village_code: str = ""


def sweep_progress(*, user: User, sweep: Sweep) -> list[ProgressRow]:
    """Per township and village of the user's area: households, visited, skipped with the
    reason, pending, risks found."""
    state = SweepHousehold.State
    rows = (
        sweep_households_for_user(user=user, sweep=sweep)
        .values(
            "village_id",
            "village__code",
            "village__name",
            "village__parent__code",
            "village__parent__name",
            "village__path",
        )
        .annotate(
            households=Count("pk"),
            visited=Count("pk", filter=Q(state=state.VISITED)),
            skipped=Count("pk", filter=Q(state=state.SKIPPED)),
            pending=Count("pk", filter=Q(state=state.PENDING)),
            risks=Count("pk", filter=Q(risk_found=True)),
        )
        .order_by("village__path")
    )
    return [
        ProgressRow(
            township=row["village__parent__name"] or "",
            village=row["village__name"],
            village_id=row["village_id"],
            households=row["households"],
            visited=row["visited"],
            skipped=row["skipped"],
            pending=row["pending"],
            risks=row["risks"],
            township_code=row["village__parent__code"] or "",
            village_code=row["village__code"],
        )
        for row in rows
    ]


def group_counts(households: QuerySet[SweepHousehold]) -> list[tuple[str, str, int]]:
    """(group, label, households) per priority group, in the order of `PriorityGroup`."""
    counts: Counter[str] = Counter()
    for groups in households.values_list("groups", flat=True).iterator(chunk_size=5000):
        counts.update(groups or [])
    return [(value, str(label), counts[value]) for value, label in PriorityGroup.choices]


def with_group(households: QuerySet[SweepHousehold], group: str) -> QuerySet[SweepHousehold]:
    """The rows tagged with `group` (the JSON list as text: the same on SQLite and PostgreSQL)."""
    return households.annotate(groups_text=Cast("groups", TextField())).filter(
        groups_text__contains=f'"{group}"'
    )


def visit_from(data: Mapping[str, Any]) -> Visit:
    """A `Visit` from a form's cleaned data (`forms_sweeps.SweepVisitForm`)."""
    visited = data.get("visited") == "yes"
    return Visit(
        visited=visited,
        visited_on=data.get("visited_on"),
        first_surveyor=data.get("first_surveyor") or "",
        second_surveyor=data.get("second_surveyor") or "",
        answers={
            **{
                key: {"yes": True, "no": False}.get(data.get(key) or "")
                for key, _label in YES_NO_QUESTIONS
            },
            "income_change": data.get("income_change") or "",
            "hardship": data.get("hardship") or "",
        },
        per_capita_income=data.get("per_capita_income"),
        risk_found=bool(data.get("risk_found")),
        risk_types=list(data.get("risk_types") or []),
        note=data.get("note") or "",
        skip_reason=data.get("skip_reason") or "",
    )
