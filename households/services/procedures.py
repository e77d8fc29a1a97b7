"""The identification and exit procedures (识别, 退出) with their 公示 (`households.workflows`
defines the steps): open a case, complete, return or withdraw a step, publish a 公示 and record
an objection. Every date of a case is checked against the legal order here; the last step
changes the household's status through `household_change_status`."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households import hooks
from households.events import event_record
from households.models import Household, HouseholdEvent
from households.services import common
from households.services.common import _lock, _raise_if
from households.services.registry import household_change_status
from povertyapp import audit, roles, uploads
from povertyapp.models import User
from povertyapp.photos import ProcessedPhoto, photos_store
from povertyapp.privacy import mask_text


def _workflow_lock(workflow: Any, expected_step: str | None) -> Any:
    from households.models import CaseWorkflow

    locked = (
        CaseWorkflow.objects.select_for_update()
        .select_related("household", "household__village")
        .get(pk=workflow.pk)
    )
    if locked.state != CaseWorkflow.State.OPEN:
        raise ValidationError(_("该程序已办结或终止。"), code="workflow_closed")
    if expected_step is not None and locked.step != expected_step:
        raise ValidationError(
            _("该案件已由他人办理到“%(step)s”环节，请刷新页面。"),
            code="workflow_moved",
            params={"step": _workflows().procedure(locked.kind).step(locked.step).label},
        )
    return locked


def _workflows():
    from households import workflows

    return workflows


def _require_step_owner(actor: User, workflow: Any) -> None:
    workflows = _workflows()
    if not workflows.can_act(actor, workflow):
        step = workflows.current_step(workflow)
        raise ValidationError(
            _("“%(step)s”环节由%(level)s办理，您无权办理。"),
            code="not_step_owner",
            params={"step": step.label, "level": workflows.LEVEL_LABELS[step.level]},
        )


# The legal order (DOMAIN §4): every date of a case is checked here, for the pages, the API,
# importers and the demo alike. A 公示 is counted in natural days, its first day included.
OLDEST_APPLICATION_DAYS = 365


def _date_error(message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError(
        message,
        code=code,
        params={
            key: value.isoformat() if isinstance(value, datetime.date) else value
            for key, value in params.items()
        },
    )


def _check_opening_date(opened_on: datetime.date, today: datetime.date) -> None:
    if opened_on > today:
        raise ValidationError(
            {
                "effective_date": [
                    _date_error(
                        _("受理日期（%(date)s）不能晚于今天（%(today)s）。"),
                        "date_in_future",
                        date=opened_on,
                        today=today,
                    )
                ]
            }
        )
    if opened_on < today - datetime.timedelta(days=OLDEST_APPLICATION_DAYS):
        raise ValidationError(
            {
                "effective_date": [
                    _date_error(
                        _("受理日期（%(date)s）早于一年前，请核对。"),
                        "date_too_old",
                        date=opened_on,
                    )
                ]
            }
        )


def _latest_record(workflow: Any) -> Any:
    """The case's latest dated record: the step every new date must follow."""
    return workflow.steps.order_by("-acted_on", "-created_at", "-id").first()


def _step_date_errors(
    workflow: Any, step: Any, acted_on: datetime.date, today: datetime.date
) -> list[ValidationError]:
    """Why an action step may not be dated `acted_on` (empty when it may)."""
    workflows = _workflows()
    errors = []
    if acted_on > today:
        errors.append(
            _date_error(
                _("“%(step)s”的办理日期（%(date)s）不能晚于今天（%(today)s）。"),
                "date_in_future",
                step=step.label,
                date=acted_on,
                today=today,
            )
        )
    latest = _latest_record(workflow)
    if latest is None and acted_on < workflow.opened_on:
        errors.append(
            _date_error(
                _("“%(step)s”的办理日期（%(date)s）不能早于受理日期（%(opened)s）。"),
                "before_case_opened",
                step=step.label,
                date=acted_on,
                opened=workflow.opened_on,
            )
        )
    definition = workflows.procedure(workflow.kind)
    position = definition.index(step.key)
    previous = definition.steps[position - 1] if position else None
    if previous is not None and previous.type == workflows.NOTICE:
        notice = workflow.notices.filter(step=previous.key).order_by("-start_date", "-id").first()
        if notice is not None and acted_on <= notice.end_date:
            errors.append(
                _date_error(
                    _(
                        "“%(previous)s”公示期为%(start)s至%(end)s，“%(step)s”须在公示期满后"
                        "办理，办理日期（%(date)s）不符。"
                    ),
                    "notice_term",
                    previous=previous.label,
                    start=notice.start_date,
                    end=notice.end_date,
                    step=step.label,
                    date=acted_on,
                )
            )
            return errors
    if latest is not None and acted_on < latest.acted_on:
        errors.append(
            _date_error(
                _(
                    "“%(step)s”的办理日期（%(date)s）不能早于上一环节“%(previous)s”的日期（%(previous_date)s）。"
                ),
                "before_previous_step",
                step=step.label,
                date=acted_on,
                previous=latest.label,
                previous_date=latest.acted_on,
            )
        )
    return errors


def _notice_date_errors(
    workflow: Any, step: Any, start_date: datetime.date, days: int, today: datetime.date
) -> list[ValidationError]:
    """Why a 公示 may not start on `start_date`: it starts after the step before it (and after
    any earlier 公示 has ended), on or after the case was opened, not in the future."""
    errors = []
    end = start_date + datetime.timedelta(days=max(days or 1, 1) - 1)
    if start_date > today:
        errors.append(
            _date_error(
                _("“%(step)s”的开始日期（%(date)s）不能晚于今天（%(today)s）。"),
                "date_in_future",
                step=step.label,
                date=start_date,
                today=today,
            )
        )
    latest = _latest_record(workflow)
    if latest is None and start_date < workflow.opened_on:
        errors.append(
            _date_error(
                _("“%(step)s”的开始日期（%(date)s）不能早于受理日期（%(opened)s）。"),
                "before_case_opened",
                step=step.label,
                date=start_date,
                opened=workflow.opened_on,
            )
        )
    earlier = workflow.notices.exclude(step=step.key).order_by("-start_date", "-id").first()
    if earlier is not None and start_date <= earlier.end_date:
        errors.append(
            _date_error(
                _(
                    "“%(step)s”（%(start)s至%(end)s）须在此前的公示（%(earlier_start)s至"
                    "%(earlier_end)s）结束之后开始。"
                ),
                "notice_before_earlier_notice",
                step=step.label,
                start=start_date,
                end=end,
                earlier_start=earlier.start_date,
                earlier_end=earlier.end_date,
            )
        )
    # The same day is allowed: a village posts the list the day its meeting verified it.
    if latest is not None and start_date < latest.acted_on:
        errors.append(
            _date_error(
                _(
                    "“%(step)s”（%(start)s至%(end)s）不能早于上一环节“%(previous)s”的日期"
                    "（%(previous_date)s）。"
                ),
                "notice_before_previous_step",
                step=step.label,
                start=start_date,
                end=end,
                previous=latest.label,
                previous_date=latest.acted_on,
            )
        )
    return errors


def exit_refusals(household: Household, *, year: int, on: datetime.date) -> list[str]:
    """Why a household may not exit this year (empty when it may): DOMAIN §4–§5."""
    from households import standards

    members = list(household.members.all())
    income = (
        household.incomes.filter(year=year - 1).first()
        or household.incomes.filter(year=year).first()
    )
    income_year = income.year if income else year - 1
    checks = standards.evaluate_exit(household, members, income, year=income_year, on=on)
    reasons = []
    if household.first_identified_year == year:
        reasons.append(
            str(_("当年新识别的贫困户不能当年退出（首次识别年度%(year)s）。") % {"year": year})
        )
    for check in standards.failed(checks):
        if check.key == "new":
            continue  # judged against the current year above
        reasons.append(f"{check.label}：{check.reason}")
    return reasons


@transaction.atomic
def workflow_start(
    *,
    actor: User,
    household: Household,
    kind: str,
    opinion: str = "",
    evidence: Any = None,
    effective_date: datetime.date | None = None,
) -> Any:
    """Open a procedure for a household (the village starts identification with the 农户申请,
    exit with its 民主评议 once the exit test is met). Refused with the reason otherwise.
    `effective_date` is the day the case was opened (the application's date, default today):
    no later step may be dated before it, and the statutory clock runs from it."""
    from households.models import CaseWorkflow, WorkflowStep

    workflows = _workflows()
    definition = workflows.procedure(kind)
    locked = _lock(household, None)
    first = definition.steps[0]
    if actor.role != workflows.LEVEL_ROLES[first.level] or not roles.region_in_scope(
        actor, locked.village
    ):
        raise ValidationError(_("只有本村的村级录入员可以发起该程序。"), code="not_step_owner")
    if locked.status not in definition.from_statuses:
        raise ValidationError(
            _("当前状态为“%(status)s”，不能发起“%(kind)s”。"),
            code="bad_transition",
            params={"status": locked.get_status_display(), "kind": definition.label},
        )
    if CaseWorkflow.objects.filter(household=locked, state=CaseWorkflow.State.OPEN).exists():
        raise ValidationError(_("该户已有正在办理的程序。"), code="workflow_open")
    today = common.today()
    if kind == CaseWorkflow.Kind.IDENTIFICATION and not locked.main_cause:
        raise ValidationError(
            {
                "main_cause": [
                    ValidationError(_("发起识别前须填写主要致贫原因。"), code="cause_required")
                ]
            }
        )
    if kind == CaseWorkflow.Kind.EXIT:
        refusals = exit_refusals(locked, year=today.year, on=today)
        if refusals:
            raise ValidationError(
                _("不符合退出标准：%(reasons)s"),
                code="exit_refused",
                params={"reasons": "；".join(refusals)},
            )
    if definition.start_refusals is not None:
        refusals = definition.start_refusals(locked)
        if refusals:
            raise ValidationError(
                _("不能发起“%(kind)s”：%(reasons)s"),
                code="start_refused",
                params={"kind": definition.label, "reasons": "；".join(refusals)},
            )
    opened_on = effective_date or today
    _check_opening_date(opened_on, today)
    now = timezone.now()
    round_ = hooks.open_round_for(locked.village)
    workflow = CaseWorkflow(
        household=locked,
        kind=kind,
        step=first.key,
        # The open round from `households.hooks` (the rounds app's model; None without one).
        round=cast("Any", round_),
        year=today.year,
        started_at=now,
        started_by=actor,
        step_since=now,
        opened_on=opened_on,
        # The statutory clock runs from the application, computed once here.
        deadline=workflows.deadline_for(kind, opened_on),
    )
    workflow.full_clean(validate_constraints=False)
    workflow.save()
    if kind == CaseWorkflow.Kind.IDENTIFICATION:
        # The application is the first step: recorded as done by whoever registers it.
        _step_record(
            workflow,
            first,
            actor,
            WorkflowStep.Decision.DONE,
            opinion,
            evidence,
            None,
            opened_on,
        )
        workflow.step = definition.next_step(first.key).key
        workflow.save(update_fields=["step"])
    return workflow


def _step_record(
    workflow: Any,
    step: Any,
    actor: User,
    decision: str,
    opinion: str,
    evidence: Any,
    attendance: int | None,
    acted_on: datetime.date,
) -> Any:
    from households.models import WorkflowStep

    record = WorkflowStep(
        workflow=workflow,
        step=step.key,
        label=str(step.label),
        role=step.level,
        decision=decision,
        opinion=opinion or "",
        attendance=attendance,
        actor=actor,
        acted_on=acted_on,
    )
    if evidence:
        try:
            uploads.check_evidence(evidence, accept=uploads.IMAGES_AND_PDF)
        except ValidationError as error:
            raise ValidationError({"evidence": error.error_list}) from None
        record.evidence = evidence
    record.full_clean()
    record.save()
    # 安全审计: every procedure decision (乡镇审核, 县级审定/审批, 公示 result, a return) is one
    # audit row, in the decision's transaction (a refused decision leaves none).
    audit.record(
        "approval",
        user=actor,
        target=f"workflow:{workflow.kind}",
        object_id=workflow.pk,
        reason=f"{step.label}：{record.get_decision_display()}"[:255],
        detail={
            "household": workflow.household_id,
            "step": step.key,
            "decision": decision,
            "acted_on": acted_on.isoformat(),
            "opinion": mask_text(opinion or "")[:500],
        },
    )
    return record


@transaction.atomic
def workflow_step_complete(
    *,
    actor: User,
    workflow: Any,
    expected_step: str,
    opinion: str = "",
    evidence: Any = None,
    attendance: int | None = None,
    acted_on: datetime.date | None = None,
    photos: Sequence[ProcessedPhoto] = (),
) -> Any:
    """Do the current step (the owning role only), dated `acted_on` (default today) in the legal
    order: not in the future, not before the case was opened or the previous step, not before a
    preceding 公示 has run its full term. A 公示 step completes when its notice has run its full
    length without objection (dated the day after it ends); the last step changes the
    household's status, effective on its date."""
    from households.models import WorkflowStep

    workflows = _workflows()
    locked = _workflow_lock(workflow, expected_step)
    _require_step_owner(actor, locked)
    definition = workflows.procedure(locked.kind)
    step = definition.step(locked.step)
    today = common.today()
    errors: dict[str, list[ValidationError]] = {}
    if step.type == workflows.NOTICE:
        notice = locked.notices.filter(step=step.key, is_open=True).first()
        if notice is None:
            raise ValidationError(_("请先发布公示。"), code="notice_missing")
        if today <= notice.end_date:
            raise ValidationError(
                _("公示期至%(end)s结束，期满无异议后方可办结。"),
                code="notice_running",
                params={"end": notice.end_date.isoformat()},
            )
        notice.is_open = False
        notice.save(update_fields=["is_open"])
        opinion = opinion or str(_("公示期满无异议"))
        # The 公示 is done when its term has run out without objection.
        acted_on = notice.end_date + datetime.timedelta(days=1)
    else:
        acted_on = acted_on or today
        if not (opinion or "").strip():
            errors["opinion"] = [ValidationError(_("请填写办理意见。"), code="required")]
        if step.needs_evidence and not evidence:
            errors["evidence"] = [
                ValidationError(_("请上传佐证材料（会议记录、照片或扫描件）。"), code="required")
            ]
        if step.needs_attendance and not attendance:
            errors["attendance"] = [ValidationError(_("请填写参会人数。"), code="required")]
        date_errors = _step_date_errors(locked, step, acted_on, today)
        if date_errors:
            errors["acted_on"] = date_errors
    if photos and not step.photos:
        errors["photos"] = [
            ValidationError(_("该环节不能上传现场照片（只有入户核实可以）。"), code="no_photos")
        ]
    _raise_if(errors)
    record = _step_record(
        locked, step, actor, WorkflowStep.Decision.DONE, opinion, evidence, attendance, acted_on
    )
    if photos:
        step_photos_add(actor=actor, record=record, photos=photos)
    following = definition.next_step(step.key)
    now = timezone.now()
    if following is None:
        household = locked.household
        if locked.kind == "exit":
            refusals = exit_refusals(household, year=today.year, on=today)
            if refusals:
                raise ValidationError(
                    _("不符合退出标准：%(reasons)s"),
                    code="exit_refused",
                    params={"reasons": "；".join(refusals)},
                )
        if definition.done_refusals is not None:
            refusals = definition.done_refusals(locked, acted_on)
            if refusals:
                raise ValidationError(
                    _("不符合“%(kind)s”的条件：%(reasons)s"),
                    code="done_refused",
                    params={"kind": definition.label, "reasons": "；".join(refusals)},
                )
        if definition.to_status:
            household_change_status(
                actor=actor,
                household=household,
                kind=definition.event_kind,
                to_status=definition.to_status,
                effective_date=acted_on,
                round=locked.round,
                reason=f"{definition.label}：{opinion}",
                proposed_by=locked.started_by,
                approved_by=actor,
            )
        if definition.on_done is not None:
            definition.on_done(workflow=locked, actor=actor, acted_on=acted_on, opinion=opinion)
        locked.state = locked.State.DONE
        locked.finished_at = now
        locked.save(update_fields=["state", "finished_at"])
        return locked
    locked.step = following.key
    locked.step_since = now
    locked.version += 1
    locked.save(update_fields=["step", "step_since", "version"])
    return locked


def _case_event(locked: Any, *, kind: str, actor: User, reason: str, data: dict[str, Any]) -> None:
    """The household's history row of a case sent back or withdrawn (no change of status)."""
    household = locked.household
    event_record(
        household=household,
        kind=kind,
        actor=actor,
        effective_date=common.today(),
        from_status=household.status,
        to_status=household.status,
        reason=reason[:500],
        data={"workflow": locked.pk, "procedure": locked.kind, **data},
    )


@transaction.atomic
def workflow_return(
    *,
    actor: User,
    workflow: Any,
    expected_step: str,
    opinion: str,
    to_step: str | None = None,
) -> Any:
    """The current step's owner sends the case back, with the reason, to an earlier step: a
    township or county reviewer names any earlier step (`to_step`, default the one the
    definition names), a village step only the one its definition names. Recorded in the case
    and in the household's history."""
    from households.models import WorkflowStep

    workflows = _workflows()
    locked = _workflow_lock(workflow, expected_step)
    _require_step_owner(actor, locked)
    step = workflows.current_step(locked)
    targets = {target.key: target for target in workflows.return_targets(locked)}
    if not targets:
        raise ValidationError(_("该环节不能退回。"), code="cannot_return")
    to_step = to_step or step.returns_to or next(reversed(targets))
    target = targets.get(to_step)
    if target is None:
        raise ValidationError(
            {
                "to_step": [
                    ValidationError(
                        _("“%(step)s”不能退回到该环节。"),
                        code="bad_return_step",
                        params={"step": step.label},
                    )
                ]
            }
        )
    if not (opinion or "").strip():
        raise ValidationError(
            {"opinion": [ValidationError(_("退回须填写理由。"), code="required")]}
        )
    reason = str(_("退回至“%(target)s”：%(reason)s")) % {
        "target": target.label,
        "reason": opinion.strip(),
    }
    _step_record(
        locked, step, actor, WorkflowStep.Decision.RETURNED, reason, None, None, common.today()
    )
    locked.step = target.key
    locked.step_since = timezone.now()
    locked.version += 1
    locked.save(update_fields=["step", "step_since", "version"])
    _case_event(
        locked,
        kind=HouseholdEvent.Kind.CASE_RETURNED,
        actor=actor,
        reason=f"{workflows.procedure(locked.kind).label}：{reason}",
        data={"from_step": step.key, "to_step": target.key},
    )
    return locked


@transaction.atomic
def workflow_withdraw(
    *, actor: User, workflow: Any, reason: str, expected_step: str | None = None
) -> Any:
    """The case's owner (a village cadre of the household's village) withdraws it (撤回) with a
    reason, any time before the 公告. Recorded in the case and the household's history; the
    household's status is unchanged and a new case may be opened later."""
    from households.models import CaseWorkflow, WorkflowStep

    workflows = _workflows()
    locked = (
        CaseWorkflow.objects.select_for_update()
        .select_related("household", "household__village")
        .get(pk=workflow.pk)
    )
    if locked.state == CaseWorkflow.State.DONE:
        raise ValidationError(_("该案件已公告办结，不能撤回。"), code="withdraw_after_announcement")
    if locked.state != CaseWorkflow.State.OPEN:
        raise ValidationError(_("该程序已办结或终止。"), code="workflow_closed")
    if expected_step and locked.step != expected_step:
        raise ValidationError(
            _("该案件已由他人办理到“%(step)s”环节，请刷新页面。"),
            code="workflow_moved",
            params={"step": workflows.current_step(locked).label},
        )
    if not workflows.can_withdraw(actor, locked):
        raise ValidationError(_("只有本村的村级录入员可以撤回该案件。"), code="not_case_owner")
    if not (reason or "").strip():
        raise ValidationError({"reason": [ValidationError(_("撤回须填写理由。"), code="required")]})
    step = workflows.current_step(locked)
    text = str(_("撤回：%(reason)s")) % {"reason": reason.strip()}
    _step_record(
        locked, step, actor, WorkflowStep.Decision.WITHDRAWN, text, None, None, common.today()
    )
    locked.notices.filter(is_open=True).update(is_open=False)
    locked.state = CaseWorkflow.State.WITHDRAWN
    locked.finished_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["state", "finished_at", "version"])
    _case_event(
        locked,
        kind=HouseholdEvent.Kind.CASE_WITHDRAWN,
        actor=actor,
        reason=f"{workflows.procedure(locked.kind).label}：{text}",
        data={"step": step.key},
    )
    definition = workflows.procedure(locked.kind)
    if definition.on_end is not None:
        definition.on_end(workflow=locked, actor=actor)
    return locked


@transaction.atomic
def notice_start(
    *,
    actor: User,
    workflow: Any,
    expected_step: str,
    start_date: datetime.date,
    days: int = 7,
    phone: str,
    place: str = "",
) -> Any:
    """Publish the 公示 of the current notice step: start date, length (≥ 7 days for
    identification and exit, natural days), the phone that takes objections. It starts after
    the step before it (and after any earlier 公示 ended), not before the case was opened, not
    in the future."""
    from households.models import PublicNotice, WorkflowStep

    workflows = _workflows()
    locked = _workflow_lock(workflow, expected_step)
    _require_step_owner(actor, locked)
    step = workflows.current_step(locked)
    if step.type != workflows.NOTICE:
        raise ValidationError(_("当前环节不是公示环节。"), code="not_a_notice")
    if locked.notices.filter(step=step.key, is_open=True).exists():
        raise ValidationError(_("公示已发布。"), code="notice_exists")
    today = common.today()
    errors: dict[str, list[ValidationError]] = {}
    if start_date is None:
        errors["start_date"] = [ValidationError(_("请填写公示开始日期。"), code="required")]
    else:
        date_errors = _notice_date_errors(locked, step, start_date, days, today)
        if date_errors:
            errors["start_date"] = date_errors
    if not days or days < step.notice_days or days > 30:
        errors["days"] = [
            ValidationError(
                _("公示天数应在%(min)d到30天之间。"),
                code="bad_days",
                params={"min": step.notice_days},
            )
        ]
    if not (phone or "").strip():
        errors["phone"] = [ValidationError(_("请填写受理异议的电话。"), code="required")]
    _raise_if(errors)
    notice = PublicNotice(
        workflow=locked,
        step=step.key,
        start_date=start_date,
        days=days,
        phone=phone.strip(),
        place=place,
        created_by=actor,
    )
    notice.full_clean()
    notice.save()
    _step_record(
        locked,
        step,
        actor,
        WorkflowStep.Decision.NOTICE_STARTED,
        str(_("%(start)s起公示%(days)d天，至%(end)s"))
        % {"start": start_date.isoformat(), "days": days, "end": notice.end_date.isoformat()},
        None,
        None,
        # Dated when the notice went up, so the legal order reads the case's real dates.
        start_date,
    )
    return notice


@transaction.atomic
def notice_objection_record(
    *,
    actor: User,
    notice: Any,
    content: str,
    objector: str = "",
    received_on: datetime.date | None = None,
) -> Any:
    """An objection received during the 公示 sends the case back (with the objection as the
    reason) to the step the definition names. Any writer or reviewer in scope may record it."""
    from households.models import NoticeObjection, PublicNotice, WorkflowStep

    workflows = _workflows()
    locked_notice = PublicNotice.objects.select_for_update().get(pk=notice.pk)
    locked = _workflow_lock(locked_notice.workflow, locked_notice.step)
    household = locked.household
    if not (roles.can_write_households(actor) or roles.can_review(actor)) or not (
        roles.region_in_scope(actor, household.village)
    ):
        raise ValidationError(_("您无权登记该公示的异议。"), code="not_allowed")
    today = common.today()
    received_on = received_on or today
    errors: dict[str, list[ValidationError]] = {}
    if not locked_notice.is_open:
        raise ValidationError(_("公示已结束。"), code="notice_closed")
    if not (content or "").strip():
        errors["content"] = [ValidationError(_("请填写异议内容。"), code="required")]
    if received_on < locked_notice.start_date or received_on > min(today, locked_notice.end_date):
        errors["received_on"] = [
            ValidationError(
                _("异议须在公示期内（%(start)s至%(end)s）受理。"),
                code="outside_notice",
                params={
                    "start": locked_notice.start_date.isoformat(),
                    "end": locked_notice.end_date.isoformat(),
                },
            )
        ]
    _raise_if(errors)
    objection = NoticeObjection(
        notice=locked_notice,
        received_on=received_on,
        objector=objector or "",
        content=content.strip(),
        recorded_by=actor,
    )
    objection.full_clean()
    objection.save()
    locked_notice.is_open = False
    locked_notice.save(update_fields=["is_open"])
    step = workflows.current_step(locked)
    _step_record(
        locked,
        step,
        actor,
        WorkflowStep.Decision.OBJECTION,
        str(_("公示异议：%(content)s")) % {"content": objection.content},
        None,
        None,
        received_on,
    )
    locked.step = step.objection_returns_to
    locked.step_since = timezone.now()
    locked.version += 1
    locked.save(update_fields=["step", "step_since", "version"])
    _case_event(
        locked,
        kind=HouseholdEvent.Kind.CASE_RETURNED,
        actor=actor,
        reason=str(_("%(procedure)s：公示异议，退回至“%(target)s”：%(content)s"))
        % {
            "procedure": workflows.procedure(locked.kind).label,
            "target": workflows.procedure(locked.kind).step(step.objection_returns_to).label,
            "content": objection.content,
        },
        data={"from_step": step.key, "to_step": step.objection_returns_to},
    )
    return objection


@transaction.atomic
def step_photos_add(*, actor: User, record: Any, photos: Sequence[ProcessedPhoto]) -> list[Any]:
    """Attach field photos to a done 入户核实 step (at most PHOTO_MAX_PER_OWNER in all; a
    photo key stored before is stored once). The procedure's year lock applies."""
    from households.models import StepPhoto

    existing = StepPhoto.objects.filter(step=record).count()
    return photos_store(
        StepPhoto,
        actor=actor,
        photos=photos,
        label=str(_("入户核实照片")),
        existing=existing,
        step=record,
    )
