"""Batches: one meeting, one 公示, one review for many households (issue 13).

A batch action calls the per-household procedure services for each member, inside one
transaction: every member's case keeps its own steps and events, the legal-order rules run for
each, and when any member is refused nothing is written and the error names each refused
household and why."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from households.models import Household
from households.services import common
from households.services.common import _raise_if
from households.services.procedures import (
    _workflows,
    notice_start,
    workflow_return,
    workflow_start,
    workflow_step_complete,
    workflow_withdraw,
)
from povertyapp import roles, uploads
from povertyapp.models import Region, User


def _batch_lock(batch: Any) -> Any:
    from households.models import CaseBatch

    locked = CaseBatch.objects.select_for_update().select_related("village").get(pk=batch.pk)
    if locked.state != CaseBatch.State.OPEN:
        raise ValidationError(_("该批次已完结。"), code="batch_closed")
    return locked


def _require_batch_owner(actor: User, village: Region) -> None:
    from povertyapp.models import User as UserModel

    if actor.role != UserModel.Role.VILLAGE_CADRE or not roles.region_in_scope(actor, village):
        raise ValidationError(_("只有本村的村级录入员可以办理该批次。"), code="not_batch_owner")


def _batch_event(batch: Any, *, action: str, actor: User, summary: str, **data: Any) -> None:
    from households.models import CaseBatchEvent

    CaseBatchEvent.objects.create(
        batch=batch, action=action, actor=actor, summary=summary[:500], data=data
    )


def _refusal(household: Household, error: ValidationError) -> str:
    return str(_("户编号%(number)s：%(reasons)s")) % {
        "number": household.number,
        "reasons": "；".join(error.messages),
    }


def _raise_refusals(refusals: list[str]) -> None:
    if refusals:
        raise ValidationError(
            [
                ValidationError(
                    _("以下农户未通过，本次批量办理未保存任何记录："), code="batch_refused"
                )
            ]
            + [ValidationError(refusal, code="batch_refused") for refusal in refusals]
        )


def case_batch_members(batch: Any, step: str | None = None) -> list[Any]:
    """The batch's open cases (at `step` when given), by 户编号."""
    from households.models import CaseWorkflow

    cases = batch.cases.filter(state=CaseWorkflow.State.OPEN)
    if step is not None:
        cases = cases.filter(step=step)
    return list(
        cases.select_related("household", "household__village").order_by("household__number")
    )


def _batch_settle(batch: Any) -> None:
    """A batch whose members are all finished (announced, withdrawn) is closed."""
    from households.models import CaseBatch, CaseWorkflow

    if not batch.cases.filter(state=CaseWorkflow.State.OPEN).exists():
        batch.state = CaseBatch.State.CLOSED
        batch.save(update_fields=["state"])


@transaction.atomic
def case_batch_create(
    *,
    actor: User,
    village: Region,
    kind: str,
    name: str = "",
    workflows: Sequence[Any] = (),
    households: Sequence[Household] = (),
    opened_on: datetime.date | None = None,
    opinion: str = "",
) -> Any:
    """A village opens a batch of one procedure (识别, 退出 …) with open cases of its households
    and/or new cases started for chosen households (`workflow_start` for each)."""
    from households.models import CaseBatch

    definitions = _workflows().PROCEDURES
    if kind not in definitions:
        raise ValidationError({"kind": [ValidationError(_("没有该程序。"), code="bad_kind")]})
    _require_batch_owner(actor, village)
    if not workflows and not households:
        raise ValidationError(_("请至少选择一户。"), code="batch_empty")
    label = definitions[kind].label
    batch = CaseBatch(
        village=village,
        kind=kind,
        name=(name or "").strip() or f"{village.name}{label}{common.today().strftime('%Y%m%d')}",
        created_by=actor,
    )
    batch.full_clean()
    batch.save()
    _batch_event(batch, action="created", actor=actor, summary=str(_("创建批次")))
    case_batch_add(
        actor=actor,
        batch=batch,
        workflows=workflows,
        households=households,
        opened_on=opened_on,
        opinion=opinion,
    )
    return batch


@transaction.atomic
def case_batch_add(
    *,
    actor: User,
    batch: Any,
    workflows: Sequence[Any] = (),
    households: Sequence[Household] = (),
    opened_on: datetime.date | None = None,
    opinion: str = "",
) -> list[Any]:
    """Add open cases of the village's households (same procedure, in no other open batch, all at
    one step) and start cases for chosen households. All or nothing."""
    from households.models import CaseBatch, CaseWorkflow

    locked = _batch_lock(batch)
    _require_batch_owner(actor, locked.village)
    refusals: list[str] = []
    added: list[Any] = []
    ids = [getattr(workflow, "pk", workflow) for workflow in workflows]
    existing = {
        case.pk: case
        for case in CaseWorkflow.objects.select_for_update(of=("self",))
        .select_related("household", "batch")
        .filter(pk__in=ids)
    }
    for workflow_id in ids:
        case = existing.get(workflow_id)
        if case is None:
            raise ValidationError(_("未找到所选案件。"), code="workflow_missing")
        if case.household.village_id != locked.village_id:
            refusals.append(
                str(_("户编号%(number)s不属于本村。")) % {"number": case.household.number}
            )
        elif case.kind != locked.kind:
            refusals.append(
                str(_("户编号%(number)s的程序不是“%(kind)s”。"))
                % {
                    "number": case.household.number,
                    "kind": _workflows().procedure(locked.kind).label,
                }
            )
        elif case.state != CaseWorkflow.State.OPEN:
            refusals.append(
                str(_("户编号%(number)s的案件已办结或终止。")) % {"number": case.household.number}
            )
        elif (
            case.batch is not None
            and case.batch_id != locked.pk
            and case.batch.state == CaseBatch.State.OPEN
        ):
            refusals.append(
                str(_("户编号%(number)s已在批次“%(batch)s”中。"))
                % {"number": case.household.number, "batch": case.batch.name}
            )
        else:
            added.append(case)
    for household in households:
        try:
            added.append(
                workflow_start(
                    actor=actor,
                    household=household,
                    kind=locked.kind,
                    opinion=opinion,
                    effective_date=opened_on,
                )
            )
        except ValidationError as error:
            refusals.append(_refusal(household, error))
    steps = {case.step for case in added}
    if len(steps) > 1:
        definition = _workflows().procedure(locked.kind)
        refusals.append(
            str(_("同一次加入批次的案件须处于同一环节（所选案件处于：%(steps)s）。"))
            % {"steps": "、".join(str(definition.step(key).label) for key in sorted(steps))}
        )
    _raise_refusals(refusals)
    CaseWorkflow.objects.filter(pk__in=[case.pk for case in added]).update(batch=locked)
    _batch_event(
        locked,
        action="added",
        actor=actor,
        summary=str(_("加入%(count)d户")) % {"count": len(added)},
        workflows=[case.pk for case in added],
        households=[case.household.number for case in added],
    )
    return added


def _meeting_step(kind: str) -> Any:
    """The procedure's 民主评议 step: the village step that records a meeting's attendance."""
    for step in _workflows().procedure(kind).steps:
        if step.needs_attendance:
            return step
    raise ValidationError(_("该程序没有民主评议环节。"), code="no_meeting_step")


@transaction.atomic
def case_batch_record_meeting(
    *,
    actor: User,
    batch: Any,
    meeting_date: datetime.date | None,
    attendance: int | None,
    minutes: Any,
    opinion: str,
    exceptions: Mapping[int, str] | None = None,
) -> Any:
    """One 民主评议 meeting decides every member at that step: each passed case completes the
    step (dated the meeting, with its attendance and the minutes as evidence); a household the
    meeting did not pass (`exceptions`: workflow id → reason) is withdrawn with the reason."""
    locked = _batch_lock(batch)
    _require_batch_owner(actor, locked.village)
    step = _meeting_step(locked.kind)
    members = case_batch_members(locked, step.key)
    exceptions = dict(exceptions or {})
    errors: dict[str, list[ValidationError]] = {}
    if not members:
        raise ValidationError(
            _("批次中没有处于“%(step)s”环节的农户。"),
            code="batch_no_members",
            params={"step": step.label},
        )
    if meeting_date is None:
        errors["meeting_date"] = [ValidationError(_("请填写评议会议日期。"), code="required")]
    if not attendance:
        errors["attendance"] = [ValidationError(_("请填写参会人数。"), code="required")]
    if not minutes:
        errors["minutes"] = [
            ValidationError(_("请上传会议记录（扫描件或照片）。"), code="required")
        ]
    else:
        try:
            uploads.check_evidence(minutes, accept=uploads.IMAGES_AND_PDF)
        except ValidationError as error:
            errors["minutes"] = error.error_list
    if not (opinion or "").strip():
        errors["opinion"] = [ValidationError(_("请填写评议意见。"), code="required")]
    _exception_errors(members, exceptions, errors)
    _raise_if(errors)
    assert meeting_date is not None
    locked.meeting_date = meeting_date
    locked.attendance = attendance
    locked.minutes = minutes
    locked.full_clean()
    locked.save(update_fields=["meeting_date", "attendance", "minutes"])
    refusals: list[str] = []
    passed, excepted = [], []
    # The minutes are stored before the members' steps (each record points at them): when a
    # member is refused the transaction rolls back, and the stored file goes with it.
    stored = locked.minutes.name
    for case in members:
        try:
            if case.pk in exceptions:
                workflow_withdraw(
                    actor=actor,
                    workflow=case,
                    reason=str(_("民主评议未通过：%(reason)s")) % {"reason": exceptions[case.pk]},
                    expected_step=step.key,
                )
                excepted.append(case.household.number)
            else:
                workflow_step_complete(
                    actor=actor,
                    workflow=case,
                    expected_step=step.key,
                    opinion=opinion,
                    evidence=locked.minutes,
                    attendance=attendance,
                    acted_on=meeting_date,
                )
                passed.append(case.household.number)
        except ValidationError as error:
            refusals.append(_refusal(case.household, error))
    if refusals:
        locked.minutes.storage.delete(stored)
    _raise_refusals(refusals)
    _batch_event(
        locked,
        action="meeting",
        actor=actor,
        summary=str(_("%(date)s召开民主评议会议，%(passed)d户通过，%(excepted)d户未通过"))
        % {"date": meeting_date.isoformat(), "passed": len(passed), "excepted": len(excepted)},
        passed=passed,
        excepted=excepted,
        attendance=attendance,
    )
    _batch_settle(locked)
    return locked


def _exception_errors(
    members: list[Any],
    exceptions: Mapping[int, Any],
    errors: dict[str, list[ValidationError]],
) -> None:
    unknown = set(exceptions) - {case.pk for case in members}
    if unknown:
        errors.setdefault("exceptions", []).append(
            ValidationError(_("例外的农户不在本环节的批次名单中。"), code="bad_exception")
        )
    numbers = {case.pk: case.household.number for case in members}
    for workflow_id, reason in exceptions.items():
        if workflow_id in numbers and not str(reason or "").strip():
            errors.setdefault("exceptions", []).append(
                ValidationError(
                    _("户编号%(number)s：例外须填写理由。"),
                    code="required",
                    params={"number": numbers[workflow_id]},
                )
            )


@transaction.atomic
def case_batch_start_notice(
    *,
    actor: User,
    batch: Any,
    step: str,
    start_date: datetime.date | None,
    days: int = 7,
    phone: str,
    place: str = "",
) -> Any:
    """One 公示 listing every member at the notice step: a notice per case (`notice_start`, so
    the dates obey each case's legal order and an objection sends back only its household), all
    with the same start, length, phone and place; printed as one list."""
    workflows = _workflows()
    locked = _batch_lock(batch)
    definition = workflows.procedure(locked.kind)
    try:
        notice_step = definition.step(step)
    except KeyError:
        raise ValidationError(_("没有该环节。"), code="bad_step") from None
    if notice_step.type != workflows.NOTICE:
        raise ValidationError(_("当前环节不是公示环节。"), code="not_a_notice")
    members = [
        case
        for case in case_batch_members(locked, step)
        if not case.notices.filter(step=step, is_open=True).exists()
    ]
    if not members:
        raise ValidationError(
            _("批次中没有待公示的“%(step)s”农户。"),
            code="batch_no_members",
            params={"step": notice_step.label},
        )
    refusals: list[str] = []
    for case in members:
        try:
            notice_start(
                actor=actor,
                workflow=case,
                expected_step=step,
                start_date=start_date,  # type: ignore[arg-type]  # notice_start refuses None with its own message
                days=days,
                phone=phone,
                place=place,
            )
        except ValidationError as error:
            refusals.append(_refusal(case.household, error))
    _raise_refusals(refusals)
    locked.notice_step = step
    locked.notice_start_date = start_date
    locked.save(update_fields=["notice_step", "notice_start_date"])
    assert start_date is not None
    _batch_event(
        locked,
        action="notice",
        actor=actor,
        summary=str(_("%(start)s起%(step)s%(days)d天，%(count)d户"))
        % {
            "start": start_date.isoformat(),
            "step": notice_step.label,
            "days": days,
            "count": len(members),
        },
        step=step,
        households=[case.household.number for case in members],
    )
    return locked


@transaction.atomic
def case_batch_complete_step(
    *,
    actor: User,
    batch: Any,
    step: str,
    opinion: str = "",
    acted_on: datetime.date | None = None,
    exceptions: Mapping[int, str] | None = None,
    return_to: Mapping[int, str] | None = None,
) -> Any:
    """Complete `step` for every member standing at it, in one action (a township or county
    review, a verification, the end of a 公示): each case through `workflow_step_complete`;
    each excepted household (`exceptions`: workflow id → reason) is sent back alone through
    `workflow_return`, to `return_to[id]` (an earlier step; default the one the procedure names).
    All or nothing."""
    workflows = _workflows()
    locked = _batch_lock(batch)
    definition = workflows.procedure(locked.kind)
    try:
        current = definition.step(step)
    except KeyError:
        raise ValidationError(_("没有该环节。"), code="bad_step") from None
    members = case_batch_members(locked, step)
    if not members:
        raise ValidationError(
            _("批次中没有处于“%(step)s”环节的农户。"),
            code="batch_no_members",
            params={"step": current.label},
        )
    exceptions = dict(exceptions or {})
    return_to = dict(return_to or {})
    errors: dict[str, list[ValidationError]] = {}
    _exception_errors(members, exceptions, errors)
    needs_opinion = current.type != workflows.NOTICE and len(exceptions) < len(members)
    if needs_opinion and not (opinion or "").strip():
        errors["opinion"] = [ValidationError(_("请填写办理意见。"), code="required")]
    _raise_if(errors)
    refusals: list[str] = []
    passed, returned = [], []
    for case in members:
        try:
            if case.pk in exceptions:
                workflow_return(
                    actor=actor,
                    workflow=case,
                    expected_step=step,
                    opinion=exceptions[case.pk],
                    to_step=return_to.get(case.pk) or None,
                )
                returned.append(case.household.number)
            else:
                workflow_step_complete(
                    actor=actor,
                    workflow=case,
                    expected_step=step,
                    opinion=opinion,
                    acted_on=acted_on,
                )
                passed.append(case.household.number)
        except ValidationError as error:
            refusals.append(_refusal(case.household, error))
    _raise_refusals(refusals)
    _batch_event(
        locked,
        action="step",
        actor=actor,
        summary=str(_("%(step)s：%(passed)d户通过，%(returned)d户退回"))
        % {"step": current.label, "passed": len(passed), "returned": len(returned)},
        step=step,
        passed=passed,
        returned=returned,
    )
    _batch_settle(locked)
    return locked
