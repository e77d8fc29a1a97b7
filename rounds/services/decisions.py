"""The township's review and the county's decision on the round's lines, one and many.
Approving applies the line to the registry as an event tagged with the round: a status change
through `household_change_status`, 新识别纳入/标注脱贫 through their finished procedure, a
自然增减/信息更正 line through the registry service it names (`rounds.services.natural`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import HouseholdEvent
from povertyapp import audit, roles
from povertyapp.models import Region, User
from povertyapp.privacy import mask_text
from rounds.models import AdjustmentRound, RoundChange
from rounds.services.changes import TRANSITIONS, WORKFLOW_KINDS, change_list
from rounds.services.natural import _apply_member_change
from rounds.services.rounds import _require_county_officer

Kind = RoundChange.Kind
State = RoundChange.State


def _lock_change(change: RoundChange, expected: str) -> RoundChange:
    locked = (
        RoundChange.objects.select_for_update()
        .select_related("round", "round__county", "village", "household")
        .get(pk=change.pk)
    )
    # Lock the round too: round_close locks it, so a decision and a closing never interleave.
    locked.round = (
        AdjustmentRound.objects.select_for_update().select_related("county").get(pk=locked.round_id)
    )
    if locked.round.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭。"), code="round_closed")
    if locked.state != expected:
        raise ValidationError(
            _("该名单当前为“%(state)s”，不能办理此操作（可能已被他人处理，请刷新）。"),
            code="bad_state",
            params={"state": locked.get_state_display()},
        )
    return locked


@transaction.atomic
def change_review(
    *, actor: User, change: RoundChange, approve: bool, opinion: str = ""
) -> RoundChange:
    """The township reviews a proposal: passes it to the county, or returns it with a reason."""
    locked = _lock_change(change, State.PROPOSED)
    if not (roles.can_review(actor) and roles.region_in_scope(actor, locked.village)):
        raise PermissionDenied(_("只有乡镇审核员或县扶贫办可以审核本辖区的名单。"))
    if not approve and not (opinion or "").strip():
        raise ValidationError(
            {"opinion": [ValidationError(_("退回须填写审核意见。"), code="required")]}
        )
    locked.state = State.REVIEWED if approve else State.REJECTED
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.review_opinion = (opinion or "").strip()
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_opinion"])
    _audit_decision(actor, locked, "review", approve, opinion)
    return locked


@transaction.atomic
def changes_review_many(
    *,
    actor: User,
    round: AdjustmentRound,
    region: Region,
    opinion: str = "",
    exceptions: Mapping[int, str] | None = None,
) -> dict[str, int]:
    """The township reviews every proposed line of a village (or of its whole township) in one
    action: each line passes through `change_review`, except the lines in `exceptions` (change
    id → reason), which are returned with their reason. One transaction: when any line is
    refused, nothing is written and the error names each line and why."""
    if not (roles.can_review(actor) and roles.region_in_scope(actor, region)):
        raise PermissionDenied(_("只有乡镇审核员或县扶贫办可以审核本辖区的名单。"))
    exceptions = dict(exceptions or {})
    pending = list(
        change_list(user=actor, round=round)
        .filter(state=State.PROPOSED, village__path__startswith=region.path)
        .select_related("household")
        .order_by("id")
    )
    if not pending:
        raise ValidationError(_("该区域没有待审核的名单。"), code="nothing_to_review")
    unknown = set(exceptions) - {change.pk for change in pending}
    if unknown:
        raise ValidationError(_("例外的名单不在待审核范围内。"), code="bad_exception")
    failures = []
    for change in pending:
        try:
            if change.pk in exceptions:
                change_review(
                    actor=actor, change=change, approve=False, opinion=exceptions[change.pk]
                )
            else:
                change_review(actor=actor, change=change, approve=True, opinion=opinion)
        except ValidationError as error:
            failures.append(f"{change.household.number}：{'；'.join(error.messages)}")
    if failures:
        raise ValidationError(
            [_("以下名单未能审核，本次批量审核未保存任何记录：")] + failures,
            code="batch_refused",
        )
    return {"passed": len(pending) - len(exceptions), "returned": len(exceptions)}


@transaction.atomic
def change_decide(
    *, actor: User, change: RoundChange, approve: bool, opinion: str = ""
) -> RoundChange:
    """The county decides on a reviewed change. Approving applies it to the registry as an
    event tagged with the round (for 新识别纳入/标注脱贫: the procedure must be finished, and its
    event in this round is linked)."""
    locked = _lock_change(change, State.REVIEWED)
    _require_county_officer(actor, locked.round.county)
    if not approve and not (opinion or "").strip():
        raise ValidationError(
            {"opinion": [ValidationError(_("退回须填写审定意见。"), code="required")]}
        )
    if approve:
        locked.event = _apply(actor, locked)
    locked.state = State.APPROVED if approve else State.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_opinion = (opinion or "").strip()
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_opinion", "event"])
    _audit_decision(actor, locked, "decide", approve, opinion)
    return locked


def _audit_decision(
    actor: User, change: RoundChange, stage: str, approve: bool, opinion: str
) -> None:
    """安全审计: a township review or county decision on a round's line is one audit row, in
    its transaction (the batch actions pass through here line by line)."""
    audit.record(
        "approval",
        user=actor,
        target=f"round_change:{stage}",
        object_id=change.pk,
        reason=f"{change.get_kind_display()}：{change.get_state_display()}"[:255],
        detail={
            "round": change.round_id,
            "household": change.household_id,
            "approve": approve,
            "state": change.state,
            "opinion": mask_text(opinion or "")[:500],
        },
    )


def _apply(actor: User, change: RoundChange) -> HouseholdEvent | None:
    from households import services

    if change.kind in (Kind.NATURAL, Kind.CORRECTED):
        return _apply_member_change(actor, change)
    event_kind, _from, to_status = TRANSITIONS[change.kind]
    procedure = WORKFLOW_KINDS.get(change.kind)
    if procedure is not None and getattr(services, "workflow_start", None) is not None:
        event = (
            HouseholdEvent.objects.filter(
                household=change.household,
                round=change.round,
                kind=event_kind,
                round_change__isnull=True,
            )
            .order_by("-id")
            .first()
        )
        if event is not None:
            return event
        from households.models import CaseWorkflow

        workflow = CaseWorkflow.objects.filter(
            household=change.household, kind=procedure, state=CaseWorkflow.State.OPEN
        ).first()
        if workflow is not None:
            from households import workflows

            raise ValidationError(
                _(
                    "户编号%(number)s的%(procedure)s尚未办结（当前环节：%(step)s），办结后方可审定。"
                ),
                code="workflow_pending",
                params={
                    "number": change.household.number,
                    "procedure": workflows.procedure(procedure).label,
                    "step": workflows.current_step(workflow).label,
                },
            )
        raise ValidationError(
            _("户编号%(number)s尚未办理%(list)s程序，请村级发起并办结后再审定。"),
            code="workflow_missing",
            params={"number": change.household.number, "list": change.get_kind_display()},
        )
    household = services.household_change_status(
        actor=actor,
        household=change.household,
        kind=event_kind,
        to_status=to_status,
        reason=change.reason,
        ground=change.ground,
        round=change.round,
        exit_year=change.round.year if change.kind == Kind.EXITED else None,
        proposed_by=change.proposed_by,
        approved_by=actor,
    )
    return household.events.order_by("-id").first()


def changes_decide_many(
    *,
    actor: User,
    round: AdjustmentRound,
    region: Region,
    approve: bool,
    opinion: str = "",
) -> dict[str, Any]:
    """Decide every reviewed change of a region (village or township) in one go. Each change is
    its own transaction; failures are reported, not hidden."""
    decided, failed = 0, []
    pending: Iterable[RoundChange] = (
        RoundChange.objects.filter(
            round=round, state=State.REVIEWED, village__path__startswith=region.path
        )
        .select_related("household")
        .order_by("id")
    )
    for change in pending:
        try:
            change_decide(actor=actor, change=change, approve=approve, opinion=opinion)
            decided += 1
        except ValidationError as error:
            failed.append(f"{change.household.number}：{'；'.join(error.messages)}")
    return {"decided": decided, "failed": failed}
