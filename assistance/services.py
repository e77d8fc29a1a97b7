"""Writes of the assistance app. Pages, the API, the demo and the admin call these.

Every service checks the actor's role and scope, validates everything before it writes
anything (a ValidationError with a code and a Chinese message per problem), runs in one
transaction, and writes an AssistanceEvent row. Money is Decimal yuan with at most two decimal
places; project totals are kept here from the fund movements and never disagree with them.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from assistance.events import event_record
from assistance.models import (
    VISIT_HOUSEHOLD_FIELDS,
    VISIT_QUESTIONS,
    Asset,
    AssetDistribution,
    AssetIncome,
    AssistanceEvent,
    FundMovement,
    FundSource,
    HouseholdPlan,
    Measure,
    OfflineSync,
    Pairing,
    Project,
    ProjectFunding,
    VillageSponsor,
    Visit,
    VisitPhoto,
)
from households.models import Household, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import roles
from povertyapp.conflicts import ConflictError
from povertyapp.models import Region, User
from povertyapp.photos import ProcessedPhoto, photos_store

if TYPE_CHECKING:
    from django.db.models import Field

MAX_AMOUNT = Decimal("999999999999.99")
Errors = dict[str, list[ValidationError]]
Kind = FundMovement.Kind
# The stage each movement kind draws from: arrivals from allocations, spending from arrivals...
DRAWS_FROM = {Kind.ARRIVED: Kind.ALLOCATED, Kind.SPENT: Kind.ARRIVED, Kind.REIMBURSED: Kind.SPENT}
TOTAL_FIELD = {
    Kind.ALLOCATED: "allocated_total",
    Kind.ARRIVED: "arrived_total",
    Kind.SPENT: "spent_total",
    Kind.REIMBURSED: "reimbursed_total",
}


def _today() -> datetime.date:
    return timezone.localdate()


def _add(errors: Errors, field: str, message: str, code: str, **params: Any) -> None:
    errors.setdefault(field, []).append(ValidationError(message, code=code, params=params or None))


def _raise_if(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def money(
    value: Any, *, field: str, errors: Errors, positive: bool = False, label: str = ""
) -> Decimal | None:
    """A yuan amount: a decimal ≥ 0 (> 0 when `positive`) with at most two decimal places."""
    label = label or _("金额")
    if value is None or value == "":
        if positive:
            _add(errors, field, _("请填写%(label)s。") % {"label": label}, "required")
        return None
    if isinstance(value, float):
        # Floats cannot hold yuan exactly; accept only what round-trips as written.
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        _add(errors, field, _("%(label)s不是有效的数字。") % {"label": label}, "invalid_amount")
        return None
    if not amount.is_finite():
        _add(errors, field, _("%(label)s不是有效的数字。") % {"label": label}, "invalid_amount")
        return None
    if amount < 0:
        _add(errors, field, _("%(label)s不能为负数。") % {"label": label}, "negative_amount")
        return None
    exponent = amount.as_tuple().exponent  # an int: the amount is finite
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        _add(
            errors,
            field,
            _("%(label)s最多保留两位小数（元、角、分）。") % {"label": label},
            "too_many_decimals",
        )
        return None
    if positive and amount == 0:
        _add(errors, field, _("%(label)s必须大于零。") % {"label": label}, "zero_amount")
        return None
    if amount > MAX_AMOUNT:
        _add(errors, field, _("%(label)s过大。") % {"label": label}, "amount_too_large")
        return None
    return amount.quantize(Decimal("0.01"))


def _dates_ordered(
    errors: Errors, start: datetime.date | None, end: datetime.date | None, field: str, message: str
) -> None:
    if start and end and end < start:
        _add(errors, field, message, "dates_out_of_order")


def _not_future(errors: Errors, day: datetime.date | None, field: str, label: str) -> None:
    if day and day > _today():
        _add(errors, field, _("%(label)s不能晚于今天。") % {"label": label}, "future_date")


def _in_scope(actor: User, household: Household) -> bool:
    return roles.household_scope(actor, Household.objects.filter(pk=household.pk)).exists()


def _require_assistance_writer(actor: User | None, household: Household) -> None:
    """Measures, plans and visits: the village cadre, the county office and the household's
    own helper; the household must be within the actor's scope."""
    if actor is None:
        raise ValidationError(_("缺少操作人。"), code="no_actor")
    if not roles.can_record_visits(actor):
        raise ValidationError(_("您的角色只能查看，不能录入帮扶信息。"), code="read_only")
    if not _in_scope(actor, household):
        raise ValidationError(_("该农户不在您的管辖或帮扶范围内。"), code="out_of_scope")


def _require_pairing_writer(actor: User | None, household: Household) -> None:
    if actor is None:
        raise ValidationError(_("缺少操作人。"), code="no_actor")
    if not roles.can_write_households(actor):
        raise ValidationError(_("只有村级录入员和县扶贫办可以调整结对帮扶。"), code="read_only")
    if not _in_scope(actor, household):
        raise ValidationError(_("该农户不在您的管辖范围内。"), code="out_of_scope")


def can_manage_funds(user: User) -> bool:
    """Projects and funds are kept by the county office (扶贫办)."""
    return roles.can_configure(user)


def can_declare_projects(user: User) -> bool:
    """申报: the township declares projects of its township; the county office any of its
    county. Approval and publication (审批, 公告公示) are the county office's."""
    return can_manage_funds(user) or (
        roles.has_case_access(user) and user.role == User.Role.TOWNSHIP_REVIEWER
    )


def can_keep_assets(user: User) -> bool:
    """The asset register (资产收益) is kept by the county office and the townships."""
    return can_declare_projects(user)


def _require_fund_writer(actor: User | None, region: Region | None) -> None:
    if actor is None:
        raise ValidationError(_("缺少操作人。"), code="no_actor")
    if not can_manage_funds(actor):
        raise ValidationError(_("只有县扶贫办可以管理项目和资金。"), code="read_only")
    if region is not None and not roles.region_in_scope(actor, region):
        raise ValidationError(
            {"region": [ValidationError(_("所选区域不在您的管辖范围内。"), code="out_of_scope")]}
        )


# --- pairing and sponsors ----------------------------------------------------------------------


@transaction.atomic
def pairing_change(
    *,
    actor: User,
    household: Household,
    name: str,
    start_date: datetime.date,
    helper: User | None = None,
    unit: str = "",
    post: str = "",
    phone: str = "",
) -> Pairing:
    """结对帮扶: give the household a (new) 帮扶责任人 from `start_date`. The current line is
    closed the day before; the history stays."""
    _require_pairing_writer(actor, household)
    Household.objects.select_for_update().filter(pk=household.pk).first()
    current = Pairing.objects.filter(household=household, end_date__isnull=True).first()
    errors: Errors = {}
    if helper is not None:
        name = name or helper.display_name
        unit = unit or helper.unit
        post = post or helper.post
        phone = phone or helper.phone
        if helper.role != User.Role.HELPER or not helper.is_active:
            _add(errors, "helper", _("所选账号不是在用的帮扶责任人账号。"), "not_a_helper")
    if not (name or "").strip():
        _add(errors, "name", _("请填写帮扶责任人姓名。"), "required")
    if start_date is None:
        _add(errors, "start_date", _("请填写帮扶开始日期。"), "required")
    else:
        _not_future(errors, start_date, "start_date", _("帮扶开始日期"))
        if current is not None and start_date <= current.start_date:
            _add(
                errors,
                "start_date",
                _("新的帮扶开始日期应晚于现帮扶责任人的开始日期（%(date)s）。"),
                "dates_out_of_order",
                date=current.start_date.isoformat(),
            )
    if current is not None and helper is not None and current.helper_id == helper.pk:
        _add(errors, "helper", _("该帮扶责任人已是本户的现帮扶责任人。"), "same_helper")
    _raise_if(errors)
    if current is not None:
        current.end_date = start_date - datetime.timedelta(days=1)
        current._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
        current.full_clean()
        current.save(update_fields=["end_date"])
    pairing = Pairing(
        household=household,
        helper=helper,
        name=name.strip(),
        unit=unit,
        post=post,
        phone=phone,
        start_date=start_date,
    )
    pairing._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    pairing.full_clean(validate_constraints=False)
    pairing.save()
    event_record(
        kind=AssistanceEvent.Kind.PAIRING_CHANGED,
        actor=actor,
        household=household,
        from_value=current.name if current else "",
        to_value=pairing.name,
        summary=_("帮扶责任人：%(old)s → %(new)s，自%(date)s起")
        % {
            "old": current.name if current else "—",
            "new": pairing.name,
            "date": start_date.isoformat(),
        },
    )
    return pairing


@transaction.atomic
def pairing_end(*, actor: User, pairing: Pairing, end_date: datetime.date) -> Pairing:
    """End a household's current 结对帮扶 on `end_date` without a successor (the helper left
    and nobody has been named yet); the line stays in the history."""
    _require_pairing_writer(actor, pairing.household)
    locked = Pairing.objects.select_for_update().get(pk=pairing.pk)
    errors: Errors = {}
    if locked.end_date is not None:
        _add(errors, "end_date", _("该结对帮扶已结束。"), "pairing_ended")
    elif end_date is None:
        _add(errors, "end_date", _("请填写帮扶结束日期。"), "required")
    else:
        _not_future(errors, end_date, "end_date", _("帮扶结束日期"))
        _dates_ordered(
            errors,
            locked.start_date,
            end_date,
            "end_date",
            _("帮扶结束日期不能早于帮扶开始日期。"),
        )
    _raise_if(errors)
    locked.end_date = end_date
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save(update_fields=["end_date"])
    event_record(
        kind=AssistanceEvent.Kind.PAIRING_CHANGED,
        actor=actor,
        household=locked.household,
        from_value=locked.name,
        summary=_("帮扶责任人%(name)s的帮扶于%(date)s结束")
        % {"name": locked.name, "date": end_date.isoformat()},
    )
    return locked


@transaction.atomic
def village_sponsor_set(
    *, actor: User, village: Region, year: int, unit: str, leader: str = "", phone: str = ""
) -> VillageSponsor:
    """挂包单位 of a village for a year."""
    _require_fund_writer(actor, village)
    errors: Errors = {}
    if village.level != Region.Level.VILLAGE:
        _add(errors, "village", _("请选择行政村。"), "not_a_village")
    if not unit.strip():
        _add(errors, "unit", _("请填写挂包单位。"), "required")
    _raise_if(errors)
    sponsor, _created = VillageSponsor.objects.update_or_create(
        village=village,
        year=year,
        unit=unit.strip(),
        defaults={"leader": leader, "phone": phone},
    )
    sponsor.full_clean()
    event_record(
        kind=AssistanceEvent.Kind.SPONSOR_SET,
        actor=actor,
        summary=f"{village.name} {year} {sponsor.unit}",
    )
    return sponsor


# --- measures ---------------------------------------------------------------------------------

MEASURE_FIELDS = (
    "member",
    "year",
    "category",
    "content",
    "planned_start",
    "planned_end",
    "responsible",
    "amount",
    "fund_source",
    "project",
)


def measure_errors(household: Household, data: Mapping[str, Any], actor: User) -> Errors:
    """The problems of a measure's plan for `household` (nothing written): the form, the API
    and the workbook import check with the same rules."""
    errors: Errors = {}
    year = data.get("year")
    if not year or not 2010 <= int(year) <= 2100:
        _add(errors, "year", _("请填写帮扶年度。"), "required")
        year = _today().year
    categories = value_lists(year=int(year), province=province_of(household.village)).get(
        ValueList.MEASURE_CATEGORY, []
    )
    category = data.get("category") or ""
    if not category:
        _add(errors, "category", _("请选择措施类别。"), "required")
    elif category not in categories:
        _add(
            errors,
            "category",
            _("“%(value)s”不在帮扶措施类别代码表中。"),
            "not_in_value_list",
            value=category,
        )
    if not (data.get("content") or "").strip():
        _add(errors, "content", _("请填写措施内容。"), "required")
    member = data.get("member")
    if member is not None and (member.household_id != household.pk or not member.is_active):
        _add(errors, "member", _("受益成员不是本户的在户成员。"), "member_not_in_household")
    _dates_ordered(
        errors,
        data.get("planned_start"),
        data.get("planned_end"),
        "planned_end",
        _("计划完成日期不能早于计划开始日期。"),
    )
    amount = money(data.get("amount") or "0", field="amount", errors=errors, label=_("帮扶资金"))
    source = data.get("fund_source") or ""
    if source and source not in FundSource.values:
        _add(errors, "fund_source", _("请选择有效的资金来源。"), "invalid_choice")
    if amount and not source:
        _add(errors, "fund_source", _("有帮扶资金时请选择资金来源。"), "source_required")
    project = data.get("project")
    if project is not None:
        if project.is_closed:
            _add(errors, "project", _("所选项目已关闭。"), "project_closed")
        elif not household.village.path.startswith(project.region.path):
            _add(errors, "project", _("所选项目不在本户所在区域。"), "project_elsewhere")
    return errors


@transaction.atomic
def measure_create(*, actor: User, household: Household, data: Mapping[str, Any]) -> Measure:
    """Add a 帮扶措施 (status 计划) to a household, or to one of its members."""
    _require_assistance_writer(actor, household)
    _raise_if(measure_errors(household, data, actor))
    measure = Measure(
        household=household,
        created_by=actor,
        **{name: data.get(name) for name in MEASURE_FIELDS if name in data},
    )
    measure.amount = money(data.get("amount") or "0", field="amount", errors={}) or Decimal("0")
    measure.content = measure.content.strip()
    measure.fund_source = data.get("fund_source") or ""
    measure._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    measure.full_clean()
    measure.save()
    event_record(
        kind=AssistanceEvent.Kind.MEASURE_ADDED,
        actor=actor,
        household=household,
        measure=measure,
        to_value=measure.get_status_display(),
        summary=f"{measure.category}：{measure.content}",
        data={"amount": str(measure.amount), "member": measure.member_id},
    )
    return measure


def _lock_measure(measure: Measure, expected_version: int | None) -> Measure:
    locked = (
        Measure.objects.select_for_update().select_related("household__village").get(pk=measure.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("帮扶措施"), "old": "", "new": "", "who": _("他人")}]
        )
    return locked


@transaction.atomic
def measure_update(
    *, actor: User, measure: Measure, data: Mapping[str, Any], expected_version: int | None
) -> Measure:
    """Correct a measure's plan (not its status: see `measure_change_status`)."""
    locked = _lock_measure(measure, expected_version)
    _require_assistance_writer(actor, locked.household)
    if locked.status in (Measure.Status.COMPLETED, Measure.Status.CANCELLED):
        raise ValidationError(_("已完成或已取消的措施不能修改。"), code="measure_closed")
    merged = {name: getattr(locked, name) for name in MEASURE_FIELDS} | dict(data)
    _raise_if(measure_errors(locked.household, merged, actor))
    before = {name: str(getattr(locked, name)) for name in MEASURE_FIELDS}
    for name in MEASURE_FIELDS:
        if name in data:
            setattr(locked, name, data[name])
    locked.amount = money(merged.get("amount") or "0", field="amount", errors={}) or Decimal("0")
    locked.fund_source = merged.get("fund_source") or ""
    changed = [name for name in MEASURE_FIELDS if before[name] != str(getattr(locked, name))]
    if not changed:
        # Saved unchanged: nothing to record (no new version, history row or event).
        return locked
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save()
    event_record(
        kind=AssistanceEvent.Kind.MEASURE_CHANGED,
        actor=actor,
        household=locked.household,
        measure=locked,
        summary=f"{locked.category}：{locked.content}",
        data={"changed": changed},
    )
    return locked


@transaction.atomic
def measure_change_status(
    *,
    actor: User,
    measure: Measure,
    status: str,
    on: datetime.date | None = None,
    result: str = "",
    income_effect: Any = None,
    expected_version: int | None = None,
) -> Measure:
    """计划 → 实施中 → 已完成, or → 已取消 (with the reason in `result`). Completing records the
    帮扶成效 and its income effect (yuan a year)."""
    locked = _lock_measure(measure, expected_version)
    _require_assistance_writer(actor, locked.household)
    errors: Errors = {}
    on = on or _today()
    if status not in Measure.Status.values:
        _add(errors, "status", _("无效的措施状态。"), "invalid_choice")
        _raise_if(errors)
    if status not in Measure.TRANSITIONS[locked.status]:
        _add(
            errors,
            "status",
            _("措施状态不能从“%(old)s”改为“%(new)s”。"),
            "bad_transition",
            old=locked.get_status_display(),
            new=Measure.Status(status).label,
        )
        _raise_if(errors)
    _not_future(errors, on, "on", _("日期"))
    effect = money(
        income_effect if income_effect not in (None, "") else "0",
        field="income_effect",
        errors=errors,
        label=_("增收效果"),
    )
    if status == Measure.Status.IN_PROGRESS:
        locked.actual_start = on
    elif status == Measure.Status.COMPLETED:
        start = locked.actual_start or on
        _dates_ordered(errors, start, on, "on", _("实际完成日期不能早于实际开始日期。"))
        if not result.strip():
            _add(errors, "result", _("完成措施时请填写帮扶成效。"), "result_required")
        locked.actual_start = start
        locked.actual_end = on
        locked.result = result.strip()
        locked.income_effect = effect or Decimal("0")
    elif status == Measure.Status.CANCELLED:
        if not result.strip():
            _add(errors, "result", _("取消措施时请说明原因。"), "reason_required")
        locked.result = result.strip()
    _raise_if(errors)
    before = locked.get_status_display()
    locked.status = status
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save()
    event_record(
        kind=AssistanceEvent.Kind.MEASURE_STATUS,
        actor=actor,
        household=locked.household,
        measure=locked,
        from_value=before,
        to_value=locked.get_status_display(),
        summary=f"{locked.category}：{locked.content}（{before} → "
        f"{locked.get_status_display()}）{locked.result}",
        data={"income_effect": str(locked.income_effect), "on": on.isoformat()},
    )
    return locked


# --- plan (一户一策) -----------------------------------------------------------------------------


@transaction.atomic
def plan_set(
    *,
    actor: User,
    household: Household,
    year: int,
    goals: str,
    expected_income: Any,
    exit_target: bool = False,
    expected_version: int | None = None,
) -> HouseholdPlan:
    """Write the household's plan for a year (一户一策). Its measures are that year's measures."""
    _require_assistance_writer(actor, household)
    errors: Errors = {}
    if not goals.strip():
        _add(errors, "goals", _("请填写帮扶目标。"), "required")
    if not 2010 <= int(year or 0) <= _today().year + 1:
        _add(errors, "year", _("计划年度不合理。"), "bad_year")
    income = money(expected_income, field="expected_income", errors=errors, label=_("预期年纯收入"))
    _raise_if(errors)
    plan, created = HouseholdPlan.objects.select_for_update().get_or_create(
        household=household,
        year=year,
        defaults={
            "goals": goals.strip(),
            "expected_income": income or Decimal("0"),
            "exit_target": exit_target,
            "created_by": actor,
        },
    )
    if not created:
        if expected_version is not None and plan.version != expected_version:
            raise ConflictError(
                [{"field": "", "label": _("一户一策"), "old": "", "new": "", "who": _("他人")}]
            )
        plan.goals = goals.strip()
        plan.expected_income = income or Decimal("0")
        plan.exit_target = exit_target
        plan.version += 1
    plan._history_user = actor  # read by simple_history, undeclared
    plan.full_clean()
    plan.save()
    event_record(
        kind=AssistanceEvent.Kind.PLAN_SET,
        actor=actor,
        household=household,
        summary=_("%(year)s年一户一策：预期年纯收入%(income)s元")
        % {"year": year, "income": plan.expected_income},
    )
    return plan


# --- visits -----------------------------------------------------------------------------------


@transaction.atomic
def visit_record(
    *,
    actor: User,
    household: Household,
    date: datetime.date,
    seen: str,
    done: str = "",
    next_steps: str = "",
    answers: Mapping[str, str] | None = None,
    contact_card_given: bool = False,
    benefit_card_given: bool = False,
    household_updates: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    photos: Sequence[ProcessedPhoto] = (),
) -> Visit:
    """Record a visit (走访) with its 遍访 answers and its photos (checked and re-encoded by
    `povertyapp.photos`; stored last, so a refused visit leaves no file). What the visit found
    about the household (`household_updates`) is written through the registry's own service,
    so its history, version check and permissions apply: a role that may not edit households
    cannot."""
    _require_assistance_writer(actor, household)
    errors: Errors = {}
    if date is None:
        _add(errors, "date", _("请填写走访日期。"), "required")
    else:
        _not_future(errors, date, "date", _("走访日期"))
        if household.created_at and date < datetime.date(2013, 1, 1):
            _add(errors, "date", _("走访日期不合理。"), "bad_date")
    if not seen.strip():
        _add(errors, "seen", _("请填写走访了解的情况。"), "required")
    kept: dict[str, str] = {}
    questions = {key: (text, choices) for key, text, choices in VISIT_QUESTIONS}
    for key, answer in (answers or {}).items():
        if key not in questions:
            _add(errors, "answers", _("未知的问卷题目：%(key)s"), "unknown_question", key=key)
            continue
        answer = (answer or "").strip()
        choices = questions[key][1]
        if answer and choices and answer not in choices:
            _add(
                errors,
                f"answers.{key}",
                _("“%(answer)s”不是该题的选项。"),
                "invalid_choice",
                answer=answer,
            )
        if answer:
            kept[key] = answer
    unknown = set(household_updates or {}) - set(VISIT_HOUSEHOLD_FIELDS)
    if unknown:
        _add(
            errors,
            "household_updates",
            _("走访只能核实更新：%(fields)s"),
            "field_not_allowed",
            fields="、".join(VISIT_HOUSEHOLD_FIELDS),
        )
    _raise_if(errors)
    visit = Visit(
        household=household,
        date=date,
        visitor=actor,
        visitor_name=actor.display_name,
        seen=seen.strip(),
        done=done.strip(),
        next_steps=next_steps.strip(),
        questionnaire=kept,
        contact_card_given=contact_card_given,
        benefit_card_given=benefit_card_given,
    )
    visit.full_clean()
    visit.save()
    changes = {
        key: value
        for key, value in (household_updates or {}).items()
        if getattr(household, key) != value
    }
    if changes:
        from households import services as household_services

        household_services.household_update(
            actor=actor,
            household=household,
            data=changes,
            expected_version=expected_version,
            reason=_("走访核实（%(date)s）") % {"date": date.isoformat()},
        )
    event_record(
        kind=AssistanceEvent.Kind.VISIT,
        actor=actor,
        household=household,
        visit=visit,
        summary=f"{date.isoformat()} {visit.visitor_name}：{visit.seen[:200]}",
        data={"household_changes": {k: str(v) for k, v in changes.items()}},
    )
    if photos:
        visit_photos_add(actor=actor, visit=visit, photos=photos)
    return visit


@transaction.atomic
def visit_photos_add(
    *, actor: User, visit: Visit, photos: Sequence[ProcessedPhoto]
) -> list[VisitPhoto]:
    """Attach photos to a visit (at most PHOTO_MAX_PER_OWNER in all; a photo key stored before
    is not stored twice). The visit's year lock applies: a photo of a signed year is refused."""
    _require_assistance_writer(actor, visit.household)
    existing = VisitPhoto.objects.filter(visit=visit).count()
    stored = photos_store(
        VisitPhoto,
        actor=actor,
        photos=photos,
        label=gettext("走访照片"),
        existing=existing,
        visit=visit,
    )
    return cast(list[VisitPhoto], stored)


def visit_sync(
    *,
    actor: User,
    key: uuid.UUID,
    household: Household,
    version: int,
    date: datetime.date,
    seen: str,
    done: str = "",
    next_steps: str = "",
    answers: Mapping[str, str] | None = None,
    contact_card_given: bool = False,
    benefit_card_given: bool = False,
    household_updates: Mapping[str, Any] | None = None,
    recorded_at: datetime.datetime | None = None,
) -> tuple[OfflineSync, bool]:
    """Apply a visit recorded offline (docs/offline.md). Returns the sync row and whether this
    call applied it (False: a retry of an entry already applied, answered with its visit).

    `version` is the household's version the phone downloaded: when the household changed
    since, the entry is refused with `ConflictError` and nothing is written, so that the user
    sees both and decides (sending the entry again with the version now stored applies it).
    The caller has checked the household is within the actor's scope."""
    existing = OfflineSync.objects.select_related("visit").filter(key=key).first()
    if existing is not None:
        return _replayed(existing, actor), False
    try:
        with transaction.atomic():
            locked = Household.objects.select_for_update().get(pk=household.pk)
            if locked.version != version:
                raise ConflictError(_offline_conflict(locked, household_updates or {}))
            visit = visit_record(
                actor=actor,
                household=locked,
                date=date,
                seen=seen,
                done=done,
                next_steps=next_steps,
                answers=answers,
                contact_card_given=contact_card_given,
                benefit_card_given=benefit_card_given,
                household_updates=household_updates,
                expected_version=version,
            )
            sync = OfflineSync(
                key=key, user=actor, household=locked, visit=visit, recorded_at=recorded_at
            )
            sync.full_clean(validate_unique=False)
            sync.save()
    except IntegrityError:
        # The same entry sent twice at once: the other request applied it first.
        return _replayed(OfflineSync.objects.select_related("visit").get(key=key), actor), False
    return sync, True


def _replayed(sync: OfflineSync, actor: User) -> OfflineSync:
    # A key is one entry's: another account's, or another kind's (a 入户核实 or 排查表), is
    # not this visit.
    if sync.user_id != actor.pk or sync.kind != OfflineSync.Kind.VISIT:
        raise ValidationError(_("该同步键已被其他账号使用。"), code="key_taken")
    return sync


def _offline_conflict(household: Household, updates: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the conflict names: who changed the household last, and each field the entry
    would set that now differs from its value on the phone."""
    latest = household.history.order_by("-history_id").first()
    who = latest.history_user.display_name if latest and latest.history_user else ""
    changes = [
        {
            "field": name,
            "label": str(cast("Field[Any, Any]", Household._meta.get_field(name)).verbose_name),
            "old": value,
            "new": getattr(household, name),
            "who": who,
        }
        for name, value in updates.items()
        if name in VISIT_HOUSEHOLD_FIELDS and getattr(household, name) != value
    ]
    return changes or [{"field": "", "label": _("户信息"), "old": "", "new": "", "who": who}]


# --- projects and funds -----------------------------------------------------------------------

PROJECT_FIELDS = (
    "code",
    "name",
    "category",
    "region",
    "year",
    "content",
    "responsible_unit",
    "planned_start",
    "planned_end",
    "performance_goal",
)


def _project_check(
    actor: User, data: Mapping[str, Any], fundings: Mapping[str, Any], households: list[Household]
) -> tuple[Errors, dict[str, Decimal]]:
    region = data.get("region")
    errors: Errors = {}
    if not (data.get("name") or "").strip():
        _add(errors, "name", _("请填写项目名称。"), "required")
    code = (data.get("code") or "").strip()
    if code and Project.objects.filter(code=code).exists():
        _add(
            errors,
            "code",
            _("项目编号%(number)s已在项目库中。"),
            "duplicate_code",
            number=code,
        )
    if data.get("category") not in Project.Category.values:
        _add(errors, "category", _("请选择项目类别。"), "invalid_choice")
    if region is None:
        _add(errors, "region", _("请选择实施地点。"), "required")
    elif region.level not in (Region.Level.VILLAGE, Region.Level.TOWNSHIP, Region.Level.COUNTY):
        _add(errors, "region", _("实施地点应为行政村、乡镇或县。"), "bad_region_level")
    if not (data.get("responsible_unit") or "").strip():
        _add(errors, "responsible_unit", _("请填写责任单位。"), "required")
    _dates_ordered(
        errors,
        data.get("planned_start"),
        data.get("planned_end"),
        "planned_end",
        _("计划完工日期不能早于计划开工日期。"),
    )
    amounts: dict[str, Decimal] = {}
    for source, value in fundings.items():
        if source not in FundSource.values:
            _add(
                errors,
                "fundings",
                _("“%(source)s”不是有效的资金来源。"),
                "invalid_choice",
                source=source,
            )
            continue
        amount = money(value, field=f"fundings.{source}", errors=errors, label=source)
        if amount:
            amounts[source] = amount
    if not amounts and not errors.get("fundings"):
        _add(errors, "fundings", _("请至少填写一项资金来源及金额。"), "funding_required")
    if region is not None:
        for household in households:
            if not household.village.path.startswith(region.path) or not _in_scope(
                actor, household
            ):
                _add(
                    errors,
                    "beneficiaries",
                    _("受益户%(number)s不在项目实施区域内。"),
                    "beneficiary_elsewhere",
                    number=household.number,
                )
    return errors, amounts


def project_errors(
    *,
    actor: User,
    data: Mapping[str, Any],
    fundings: Mapping[str, Any],
    beneficiaries: Iterable[Household] = (),
) -> Errors:
    """The problems of a new project (nothing written): the form and the 项目库 import check
    with the same rules."""
    return _project_check(actor, data, fundings, list(beneficiaries))[0]


@transaction.atomic
def project_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    fundings: Mapping[str, Any],
    beneficiaries: Iterable[Household] = (),
) -> Project:
    """申报: put a project in the 项目库 with its budget by source (资金规模与来源) and its 受益户.
    It waits for the county's 审批 and 公告公示 before money moves."""
    region = data.get("region")
    if not can_declare_projects(actor):
        raise ValidationError(_("只有乡镇和县扶贫办可以申报项目。"), code="read_only")
    if region is not None and not roles.region_in_scope(actor, region):
        raise ValidationError(
            {"region": [ValidationError(_("所选区域不在您的管辖范围内。"), code="out_of_scope")]}
        )
    households = list(beneficiaries)
    errors, amounts = _project_check(actor, data, fundings, households)
    _raise_if(errors)
    project = Project(created_by=actor, **{name: data.get(name) for name in PROJECT_FIELDS})
    project.name = project.name.strip()
    project.code = (data.get("code") or "").strip()
    project.content = project.content or ""
    project.performance_goal = project.performance_goal or ""
    project.budget_total = sum(amounts.values(), Decimal("0"))
    project._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    project.full_clean()
    project.save()
    ProjectFunding.objects.bulk_create(
        [
            ProjectFunding(project=project, source=source, amount=amount)
            for source, amount in amounts.items()
        ]
    )
    project.beneficiaries.set(households)
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_CREATED,
        actor=actor,
        project=project,
        summary=f"{project.name}：{project.budget_total}元",
        data={source: str(amount) for source, amount in amounts.items()},
    )
    return project


def _lock_project(project: Project) -> Project:
    return Project.objects.select_for_update().select_related("region").get(pk=project.pk)


PUBLICITY_DAYS = 10  # 公告公示 of the project list: at least 10 days


@transaction.atomic
def project_approve(
    *, actor: User, project: Project, approved_on: datetime.date, document_number: str = ""
) -> Project:
    """审批: the county office approves a declared project."""
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    errors: Errors = {}
    if locked.approval != Project.Approval.DECLARED:
        _add(errors, "approval", _("只有已申报的项目可以审批。"), "bad_approval")
    if approved_on is None:
        _add(errors, "approved_on", _("请填写审批日期。"), "required")
    _not_future(errors, approved_on, "approved_on", _("审批日期"))
    _raise_if(errors)
    locked.approval = Project.Approval.APPROVED
    locked.approved_on = approved_on
    locked.approval_document = document_number.strip()
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save(update_fields=["approval", "approved_on", "approval_document", "version"])
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_APPROVED,
        actor=actor,
        project=locked,
        from_value=str(Project.Approval.DECLARED.label),
        to_value=str(Project.Approval.APPROVED.label),
        summary=_("审批（%(document)s）") % {"document": locked.approval_document or "—"},
    )
    return locked


@transaction.atomic
def project_publish(
    *, actor: User, project: Project, start: datetime.date, days: int = PUBLICITY_DAYS
) -> Project:
    """公告公示: the county office publishes an approved project for `days` days (at least
    PUBLICITY_DAYS) from `start`; money may move the day after the 公示 ends."""
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    errors: Errors = {}
    if locked.approval != Project.Approval.APPROVED:
        _add(errors, "approval", _("只有已审批的项目可以公告公示。"), "bad_approval")
    if start is None:
        _add(errors, "start", _("请填写公示开始日期。"), "required")
    _not_future(errors, start, "start", _("公示开始日期"))
    if start is not None and locked.approved_on is not None and start < locked.approved_on:
        _add(errors, "start", _("公示开始日期不能早于审批日期。"), "before_approval")
    if int(days) < PUBLICITY_DAYS:
        _add(
            errors,
            "days",
            _("公示期不能少于%(days)s天。"),
            "publicity_too_short",
            days=PUBLICITY_DAYS,
        )
    _raise_if(errors)
    locked.approval = Project.Approval.PUBLISHED
    locked.publicity_start = start
    locked.publicity_end = start + datetime.timedelta(days=int(days) - 1)
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save(update_fields=["approval", "publicity_start", "publicity_end", "version"])
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_PUBLISHED,
        actor=actor,
        project=locked,
        from_value=str(Project.Approval.APPROVED.label),
        to_value=str(Project.Approval.PUBLISHED.label),
        summary=_("公示%(start)s至%(end)s")
        % {"start": start.isoformat(), "end": locked.publicity_end.isoformat()},
    )
    return locked


@transaction.atomic
def project_beneficiaries_add(
    *, actor: User, project: Project, households: Iterable[Household]
) -> list[Household]:
    """Add 受益户 to a project (those already on it are skipped); returns the ones added."""
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    errors: Errors = {}
    if locked.is_closed:
        _add(errors, "beneficiaries", _("项目已关闭，不能再增加受益户。"), "project_closed")
    present = set(locked.beneficiaries.values_list("pk", flat=True))
    added = []
    for household in households:
        if household.pk in present:
            continue
        if not household.village.path.startswith(locked.region.path) or not _in_scope(
            actor, household
        ):
            _add(
                errors,
                "beneficiaries",
                _("受益户%(number)s不在项目实施区域内。"),
                "beneficiary_elsewhere",
                number=household.number,
            )
        present.add(household.pk)
        added.append(household)
    _raise_if(errors)
    if not added:
        return []
    locked.beneficiaries.add(*added)
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_PROGRESS,
        actor=actor,
        project=locked,
        summary=_("增加受益户%(count)d户：%(numbers)s")
        % {"count": len(added), "numbers": "、".join(h.number for h in added[:20])},
        data={"beneficiaries_added": [h.pk for h in added]},
    )
    return added


@transaction.atomic
def project_update_progress(
    *,
    actor: User,
    project: Project,
    progress_percent: int,
    progress_note: str = "",
    actual_start: datetime.date | None = None,
    actual_end: datetime.date | None = None,
    expected_version: int | None = None,
) -> Project:
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("项目"), "old": "", "new": "", "who": _("他人")}]
        )
    errors: Errors = {}
    if locked.status in (Project.Status.ACCEPTED, Project.Status.CLOSED):
        _add(errors, "status", _("已验收或已关闭的项目不能再更新进度。"), "project_closed")
    if not 0 <= int(progress_percent) <= 100:
        _add(errors, "progress_percent", _("进度应在0到100之间。"), "progress_range")
    elif int(progress_percent) < locked.progress_percent:
        _add(
            errors,
            "progress_percent",
            _("进度不能倒退（当前%(value)s%%）。"),
            "progress_backwards",
            value=locked.progress_percent,
        )
    start = actual_start or locked.actual_start
    _not_future(errors, start, "actual_start", _("实际开工日期"))
    _not_future(errors, actual_end, "actual_end", _("实际完工日期"))
    _dates_ordered(errors, start, actual_end, "actual_end", _("实际完工日期不能早于实际开工日期。"))
    if actual_end and not start:
        _add(errors, "actual_start", _("请先填写实际开工日期。"), "required")
    _raise_if(errors)
    before = locked.progress_percent
    stored = (locked.progress_percent, locked.progress_note, locked.actual_start, locked.actual_end)
    locked.progress_percent = int(progress_percent)
    locked.progress_note = progress_note.strip()
    locked.actual_start = start
    locked.actual_end = actual_end or locked.actual_end
    if stored == (
        locked.progress_percent,
        locked.progress_note,
        locked.actual_start,
        locked.actual_end,
    ) and (locked.status != Project.Status.PLANNED or not start):
        # The progress form saved unchanged reports no progress: nothing to record.
        return locked
    if locked.status == Project.Status.PLANNED and start:
        locked.status = Project.Status.IN_PROGRESS
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save()
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_PROGRESS,
        actor=actor,
        project=locked,
        from_value=f"{before}%",
        to_value=f"{locked.progress_percent}%",
        summary=locked.progress_note,
    )
    return locked


@transaction.atomic
def project_accept(
    *, actor: User, project: Project, accepted_on: datetime.date, settled_amount: Any
) -> Project:
    """验收: the settled amount (决算) must equal what was actually spent."""
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    errors: Errors = {}
    if locked.status != Project.Status.IN_PROGRESS:
        _add(errors, "status", _("只有实施中的项目可以验收。"), "bad_status")
    _not_future(errors, accepted_on, "accepted_on", _("验收日期"))
    _dates_ordered(
        errors, locked.actual_start, accepted_on, "accepted_on", _("验收日期不能早于实际开工日期。")
    )
    settled = money(settled_amount, field="settled_amount", errors=errors, label=_("决算金额"))
    if settled is not None and settled != locked.spent_total:
        _add(
            errors,
            "settled_amount",
            _("决算金额（%(settled)s元）应等于已支出金额（%(spent)s元）。"),
            "settlement_mismatch",
            settled=settled,
            spent=locked.spent_total,
        )
    _raise_if(errors)
    locked.status = Project.Status.ACCEPTED
    locked.accepted_on = accepted_on
    locked.settled_amount = settled
    locked.progress_percent = 100
    locked.actual_end = locked.actual_end or accepted_on
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.full_clean()
    locked.save()
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_ACCEPTED,
        actor=actor,
        project=locked,
        to_value=str(settled),
        summary=_("验收，决算%(amount)s元") % {"amount": settled},
    )
    return locked


@transaction.atomic
def project_close(*, actor: User, project: Project) -> Project:
    """Close an accepted project whose spending is fully reimbursed; no movement after this."""
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    if locked.status != Project.Status.ACCEPTED:
        raise ValidationError(_("只有已验收的项目可以关闭。"), code="bad_status")
    if locked.reimbursed_total != locked.spent_total:
        raise ValidationError(
            _("尚有%(amount)s元支出未报账，不能关闭。")
            % {"amount": locked.spent_total - locked.reimbursed_total},
            code="unreimbursed",
        )
    locked.status = Project.Status.CLOSED
    locked.version += 1
    locked._history_user = actor  # type: ignore[attr-defined]  # read by simple_history, undeclared
    locked.save(update_fields=["status", "version"])
    event_record(
        kind=AssistanceEvent.Kind.PROJECT_CLOSED, actor=actor, project=locked, summary=locked.name
    )
    return locked


def _approval_state(project: Project) -> str:
    if project.approval == Project.Approval.PUBLISHED and project.publicity_end is not None:
        return _("公示中，%(end)s期满") % {"end": project.publicity_end.isoformat()}
    return str(project.get_approval_display())


def _sum(project: Project, kind: str, source: str, household: Household | None = None) -> Decimal:
    movements = FundMovement.objects.filter(project=project, kind=kind, source=source)
    if household is not None:
        movements = movements.filter(household=household)
    return movements.aggregate(total=Sum("amount"))["total"] or Decimal("0")


@transaction.atomic
def fund_movement_record(
    *,
    actor: User,
    project: Project,
    kind: str,
    source: str,
    amount: Any,
    date: datetime.date,
    document_number: str = "",
    voucher: str = "",
    household: Household | None = None,
    note: str = "",
) -> FundMovement:
    """Record 下达 / 到位 / 支出 / 报账 of a project's money from one source.

    Each stage draws from the one before, per source: allocated ≤ budget, arrived ≤
    allocated, spent ≤ arrived, reimbursed ≤ spent (and per household for 到户 money); a
    stage's date cannot precede the first date of the stage it draws from. The project's
    totals are updated in the same transaction, so they always equal the sum of movements.
    """
    locked = _lock_project(project)
    _require_fund_writer(actor, locked.region)
    errors: Errors = {}
    if locked.is_closed:
        raise ValidationError(_("项目已关闭，不能再录入资金流水。"), code="project_closed")
    if not locked.publicity_passed(_today()):
        raise ValidationError(
            _("项目须经申报、审批和公告公示，公示期满后才能录入资金流水（当前：%(state)s）。")
            % {"state": _approval_state(locked)},
            code="not_published",
        )
    if date is not None and locked.publicity_end is not None and date <= locked.publicity_end:
        raise ValidationError(
            {
                "date": [
                    ValidationError(
                        _("资金流水日期应在公示期满（%(end)s）之后。")
                        % {"end": locked.publicity_end.isoformat()},
                        code="before_publicity_end",
                    )
                ]
            }
        )
    if kind not in Kind.values:
        _add(errors, "kind", _("请选择资金流水类型。"), "invalid_choice")
        _raise_if(errors)
    kind = Kind(kind)
    if locked.status == Project.Status.ACCEPTED and kind != Kind.REIMBURSED:
        _add(errors, "kind", _("项目已验收，只能录入报账。"), "project_accepted")
    funding = ProjectFunding.objects.filter(project=locked, source=source).first()
    if funding is None:
        _add(
            errors,
            "source",
            _("该项目没有“%(source)s”这一资金来源。"),
            "source_not_in_project",
            source=source,
        )
    value = money(amount, field="amount", errors=errors, positive=True)
    if date is None:
        _add(errors, "date", _("请填写日期。"), "required")
    _not_future(errors, date, "date", _("日期"))
    if kind == Kind.ALLOCATED and not document_number.strip():
        _add(errors, "document_number", _("资金下达请填写文号。"), "document_required")
    if kind == Kind.REIMBURSED and not voucher.strip():
        _add(errors, "voucher", _("报账请填写凭证号。"), "voucher_required")
    if household is not None:
        if kind not in (Kind.SPENT, Kind.REIMBURSED):
            _add(errors, "household", _("只有支出和报账可以到户。"), "household_not_allowed")
        elif not locked.beneficiaries.filter(pk=household.pk).exists():
            _add(
                errors,
                "household",
                _("农户%(number)s不是该项目的受益户。"),
                "not_beneficiary",
                number=household.number,
            )
    _raise_if(errors)
    # A missing funding source or amount has added an error above.
    assert funding is not None and value is not None
    if kind == Kind.ALLOCATED:
        available = funding.amount - _sum(locked, Kind.ALLOCATED, source)
        if value > available:
            _add(
                errors,
                "amount",
                _("下达金额超过该来源尚未下达的计划资金（%(available)s元）。"),
                "exceeds_budget",
                available=available,
            )
    else:
        previous = DRAWS_FROM[kind]
        available = _sum(locked, previous, source) - _sum(locked, kind, source)
        if value > available:
            message = {
                Kind.ARRIVED: _("到位金额超过已下达未到位的资金（%(available)s元）。"),
                Kind.SPENT: _("支出金额超过已到位未支出的资金（%(available)s元）。"),
                Kind.REIMBURSED: _("报账金额超过已支出未报账的资金（%(available)s元）。"),
            }[kind]
            _add(errors, "amount", message, f"exceeds_{previous}", available=available)
        if kind == Kind.REIMBURSED and household is not None:
            household_available = _sum(locked, Kind.SPENT, source, household) - _sum(
                locked, Kind.REIMBURSED, source, household
            )
            if value > household_available:
                _add(
                    errors,
                    "amount",
                    _("到户报账金额超过该户已支出未报账的资金（%(available)s元）。"),
                    "exceeds_household_spent",
                    available=household_available,
                )
        first = FundMovement.objects.filter(project=locked, kind=previous, source=source).aggregate(
            first=Min("date")
        )["first"]
        if date and first and date < first:
            _add(
                errors,
                "date",
                _("%(kind)s日期不能早于首笔%(previous)s日期（%(first)s）。"),
                "dates_out_of_order",
                kind=Kind(kind).label,
                previous=Kind(previous).label,
                first=first.isoformat(),
            )
    _raise_if(errors)
    movement = FundMovement(
        project=locked,
        kind=kind,
        source=source,
        amount=value,
        date=date,
        document_number=document_number.strip(),
        voucher=voucher.strip(),
        household=household,
        note=note.strip(),
        created_by=actor,
    )
    movement.full_clean()
    movement.save()
    total_field = TOTAL_FIELD[kind]
    setattr(locked, total_field, getattr(locked, total_field) + value)
    if kind == Kind.SPENT and locked.status == Project.Status.PLANNED:
        locked.status = Project.Status.IN_PROGRESS
        locked.actual_start = locked.actual_start or date
    locked.version += 1
    locked.full_clean()
    locked.save(update_fields=[total_field, "status", "actual_start", "version"])
    event_record(
        kind=AssistanceEvent.Kind.FUND_MOVEMENT,
        actor=actor,
        project=locked,
        household=household,
        to_value=f"{Kind(kind).label} {value}",
        summary=f"{source} {Kind(kind).label} {value}元 {document_number or voucher}",
        data={"movement": movement.pk},
    )
    return movement


# --- 资产收益: the asset register, its yearly income and its distribution -----------------------

ASSET_FIELDS = ("kind", "name", "value", "ownership", "manager", "formed_on", "note")


def _require_asset_keeper(actor: User | None, village: Region | None) -> None:
    if actor is None:
        raise ValidationError(_("缺少操作人。"), code="no_actor")
    if not can_keep_assets(actor):
        raise ValidationError(_("只有乡镇和县扶贫办可以登记扶贫资产。"), code="read_only")
    if village is not None and not roles.region_in_scope(actor, village):
        raise ValidationError(
            {"village": [ValidationError(_("所选村不在您的管辖范围内。"), code="out_of_scope")]}
        )


def _asset_errors(
    actor: User, data: Mapping[str, Any], households: list[Household]
) -> tuple[Errors, Decimal | None]:
    errors: Errors = {}
    project = data.get("project")
    village = data.get("village")
    if project is None:
        _add(errors, "project", _("请选择来源项目。"), "required")
    elif not roles.region_in_scope(actor, project.region):
        _add(errors, "project", _("来源项目不在您的管辖范围内。"), "out_of_scope")
    if village is None or village.level != Region.Level.VILLAGE:
        _add(errors, "village", _("请选择资产所在的行政村。"), "required")
    elif project is not None and not (
        village.path.startswith(project.region.path) or project.region.path.startswith(village.path)
    ):
        _add(errors, "village", _("资产所在村不在来源项目的实施区域内。"), "village_elsewhere")
    if data.get("kind") not in Asset.Kind.values:
        _add(errors, "kind", _("请选择资产类型。"), "invalid_choice")
    if data.get("ownership") not in Asset.Ownership.values:
        _add(errors, "ownership", _("请选择确权归属。"), "invalid_choice")
    if not (data.get("name") or "").strip():
        _add(errors, "name", _("请填写资产名称。"), "required")
    if not (data.get("manager") or "").strip():
        _add(errors, "manager", _("请填写管护主体。"), "required")
    if data.get("formed_on") is None:
        _add(errors, "formed_on", _("请填写形成日期。"), "required")
    _not_future(errors, data.get("formed_on"), "formed_on", _("形成日期"))
    value = money(
        data.get("value"), field="value", errors=errors, positive=True, label=_("资产价值")
    )
    if data.get("kind") == Asset.Kind.HOUSEHOLD and not households:
        _add(errors, "households", _("到户资产请填写到户农户。"), "households_required")
    for household in households:
        if village is not None and household.village_id != village.pk:
            _add(
                errors,
                "households",
                _("农户%(number)s不在资产所在村。"),
                "household_elsewhere",
                number=household.number,
            )
    return errors, value


@transaction.atomic
def asset_create(
    *, actor: User, data: Mapping[str, Any], households: Iterable[Household] = ()
) -> Asset:
    """登记 an asset formed by a project (资产收益). A 到户 asset names its households."""
    _require_asset_keeper(actor, data.get("village"))
    members = list(households)
    errors, value = _asset_errors(actor, data, members)
    _raise_if(errors)
    asset = Asset(
        project=data["project"],
        village=data["village"],
        created_by=actor,
        **{name: data.get(name) for name in ASSET_FIELDS if name != "value"},
    )
    asset.value = value or Decimal("0")
    asset.name = asset.name.strip()
    asset.manager = asset.manager.strip()
    asset.note = (asset.note or "").strip()
    asset.full_clean()
    asset.save()
    asset.households.set(members if asset.kind == Asset.Kind.HOUSEHOLD else [])
    event_record(
        kind=AssistanceEvent.Kind.ASSET_REGISTERED,
        actor=actor,
        project=asset.project,
        summary=f"{asset.name}：{asset.value}元",
        data={"asset": asset.pk},
    )
    return asset


def _lock_asset(asset: Asset, expected_version: int | None) -> Asset:
    locked = Asset.objects.select_for_update().select_related("village", "project").get(pk=asset.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("扶贫资产"), "old": "", "new": "", "who": _("他人")}]
        )
    return locked


@transaction.atomic
def asset_update(
    *,
    actor: User,
    asset: Asset,
    data: Mapping[str, Any],
    households: Iterable[Household] = (),
    expected_version: int | None = None,
) -> Asset:
    """Edit an asset (its project and village stay). A stale edit raises ConflictError."""
    locked = _lock_asset(asset, expected_version)
    _require_asset_keeper(actor, locked.village)
    members = list(households)
    errors, value = _asset_errors(
        actor, {**data, "project": locked.project, "village": locked.village}, members
    )
    distributed = set(locked.distributions.values_list("household", flat=True))
    if data.get("kind") == Asset.Kind.HOUSEHOLD and distributed - {h.pk for h in members}:
        _add(
            errors,
            "households",
            _("已有收益分配的农户不能移出到户农户。"),
            "distributed_household",
        )
    _raise_if(errors)
    stored = [getattr(locked, name) for name in ASSET_FIELDS]
    stored_households = set(locked.households.values_list("pk", flat=True))
    before = f"{locked.value}"
    for name in ASSET_FIELDS:
        if name != "value":
            setattr(locked, name, data.get(name))
    locked.value = value or Decimal("0")
    locked.name = locked.name.strip()
    locked.manager = locked.manager.strip()
    locked.note = (locked.note or "").strip()
    kept = members if locked.kind == Asset.Kind.HOUSEHOLD else []
    if [getattr(locked, name) for name in ASSET_FIELDS] == stored and {
        h.pk for h in kept
    } == stored_households:
        # The form saved unchanged: nothing to record.
        return locked
    locked.version += 1
    locked.full_clean()
    locked.save()
    locked.households.set(kept)
    event_record(
        kind=AssistanceEvent.Kind.ASSET_CHANGED,
        actor=actor,
        project=locked.project,
        from_value=before,
        to_value=f"{locked.value}",
        summary=locked.name,
        data={"asset": locked.pk},
    )
    return locked


def asset_households(asset: Asset) -> Any:
    """The households an asset's income may go to: a 到户 asset's own households; a 村集体
    (or any other) asset's registered households of its village."""
    if asset.kind == Asset.Kind.HOUSEHOLD:
        return asset.households.all()
    return Household.objects.filter(
        village=asset.village_id, status__in=Household.REGISTERED_STATUSES
    )


def _distributed(asset: Asset, year: int, *, without: Household | None = None) -> Decimal:
    rows = AssetDistribution.objects.filter(asset=asset, year=year)
    if without is not None:
        rows = rows.exclude(household=without)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal("0")


@transaction.atomic
def asset_income_set(
    *, actor: User, asset: Asset, year: int, amount: Any, note: str = ""
) -> AssetIncome:
    """Record (or correct) an asset's income of a year; never below what is already
    distributed of it."""
    locked = _lock_asset(asset, None)
    _require_asset_keeper(actor, locked.village)
    errors: Errors = {}
    if not year or not 2010 <= int(year) <= _today().year:
        _add(errors, "year", _("收益年度应在2010年至今年之间。"), "bad_year")
    value = money(amount, field="amount", errors=errors, label=_("收益金额"))
    if value is None and not errors.get("amount"):
        _add(errors, "amount", _("请填写收益金额。"), "required")
    _raise_if(errors)
    assert value is not None
    distributed = _distributed(locked, int(year))
    if value < distributed:
        _add(
            errors,
            "amount",
            _("收益金额不能少于该年已分配的%(distributed)s元。"),
            "below_distributed",
            distributed=distributed,
        )
    _raise_if(errors)
    income, created = AssetIncome.objects.get_or_create(
        asset=locked, year=int(year), defaults={"amount": value, "note": note.strip()}
    )
    before = "" if created else str(income.amount)
    if not created:
        income.amount = value
        income.note = note.strip()
        income.full_clean()
        income.save(update_fields=["amount", "note"])
    event_record(
        kind=AssistanceEvent.Kind.ASSET_INCOME,
        actor=actor,
        project=locked.project,
        from_value=before,
        to_value=str(value),
        summary=_("%(asset)s %(year)s年收益%(amount)s元")
        % {"asset": locked.name, "year": year, "amount": value},
        data={"asset": locked.pk, "year": int(year)},
    )
    return income


@transaction.atomic
def asset_distribution_set(
    *,
    actor: User,
    asset: Asset,
    year: int,
    household: Household,
    amount: Any,
    paid_on: datetime.date | None = None,
) -> AssetDistribution | None:
    """Set what a household receives of an asset's income of a year (0 removes the line).

    The household must be in the asset's scope (`asset_households`) and in the actor's; the
    year's distributions together never exceed the year's recorded income."""
    locked = _lock_asset(asset, None)
    _require_asset_keeper(actor, locked.village)
    errors: Errors = {}
    value = money(amount, field="amount", errors=errors, label=_("分配金额"))
    if value is None and not errors.get("amount"):
        _add(errors, "amount", _("请填写分配金额。"), "required")
    if not asset_households(locked).filter(pk=household.pk).exists() or not _in_scope(
        actor, household
    ):
        _add(
            errors,
            "household",
            _("农户%(number)s不在该资产的收益分配范围内。"),
            "household_out_of_asset",
            number=household.number,
        )
    _not_future(errors, paid_on, "paid_on", _("发放日期"))
    income = AssetIncome.objects.filter(asset=locked, year=year).first()
    if income is None:
        _add(errors, "year", _("请先登记%(year)s年的资产收益。") % {"year": year}, "no_income")
    _raise_if(errors)
    assert value is not None and income is not None
    others = _distributed(locked, year, without=household)
    if others + value > income.amount:
        _add(
            errors,
            "amount",
            _("分配合计（%(total)s元）超过该年收益（%(income)s元），尚可分配%(left)s元。"),
            "over_distributed",
            total=others + value,
            income=income.amount,
            left=income.amount - others,
        )
    _raise_if(errors)
    existing = AssetDistribution.objects.filter(asset=locked, year=year, household=household)
    before = str(existing.values_list("amount", flat=True).first() or "")
    line: AssetDistribution | None = None
    if value == 0:
        existing.delete()
    else:
        line, _created = AssetDistribution.objects.update_or_create(
            asset=locked,
            year=year,
            household=household,
            defaults={"amount": value, "paid_on": paid_on},
        )
    event_record(
        kind=AssistanceEvent.Kind.ASSET_DISTRIBUTION,
        actor=actor,
        project=locked.project,
        household=household,
        from_value=before,
        to_value=str(value),
        summary=_("%(asset)s %(year)s年收益分配%(amount)s元")
        % {"asset": locked.name, "year": year, "amount": value},
        data={"asset": locked.pk, "year": year},
    )
    return line
