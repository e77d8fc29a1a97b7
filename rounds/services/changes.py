"""The 四类名单 lines (新识别纳入, 剔除, 返贫, 标注脱贫): which registry change each list makes
(`TRANSITIONS`), the lines in a user's scope, proposing one line and withdrawing it.

The checks of a proposed line (`_proposal_errors`, `_require_proposer`, `_scoped_household`,
`_create_change`) are shared with the workbook import (`rounds.services.imports`) and the
自然增减/信息更正 lines (`rounds.services.natural`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, HouseholdEvent, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import roles
from povertyapp.models import User
from rounds.models import AdjustmentRound, RoundChange

Kind = RoundChange.Kind
State = RoundChange.State


# Which registry change each list makes: (event kind, statuses it applies to, status after).
TRANSITIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    Kind.IDENTIFIED: (
        HouseholdEvent.Kind.IDENTIFIED,
        (Household.Status.NON_REGISTERED, Household.Status.REMOVED),
        Household.Status.POOR,
    ),
    Kind.REMOVED: (
        HouseholdEvent.Kind.REMOVED,
        Household.REGISTERED_STATUSES,
        Household.Status.REMOVED,
    ),
    Kind.RETURNED: (
        HouseholdEvent.Kind.RETURNED,
        (Household.Status.EXITED,),
        Household.Status.RETURNED,
    ),
    Kind.EXITED: (HouseholdEvent.Kind.EXITED, Household.POOR_STATUSES, Household.Status.EXITED),
}
# The lists that go through a procedure of `households.workflows` (两公示一公告, exit procedure).
WORKFLOW_KINDS: dict[str, str] = {Kind.IDENTIFIED: "identification", Kind.EXITED: "exit"}
HEAD = "户主"


def change_list(*, user: User, round: AdjustmentRound) -> QuerySet[RoundChange]:
    """The round's changes in the user's scope: the area's, and a helper's (帮扶责任人) paired
    households' only, as everywhere else (`roles.household_scope_q`)."""
    if not roles.has_case_access(user) or user.region is None:
        return RoundChange.objects.none()
    changes = RoundChange.objects.filter(round=round, village__path__startswith=user.region.path)
    return (
        roles.paired_only(changes, user)
        .select_related(
            "household", "village", "village__parent", "proposed_by", "reviewed_by", "decided_by"
        )
        .order_by("village__code", "kind", "id")
    )


def change_get_for_user(*, user: User, change_id: int) -> RoundChange:
    change = (
        RoundChange.objects.filter(pk=change_id).select_related("round", "village").first()
        if str(change_id).isdigit()
        else None
    )
    if change is None or not roles.region_in_scope(user, change.village):
        raise Http404(_("未找到该名单记录，或您无权查看。"))
    return change


# --- proposals --------------------------------------------------------------------------------


def _head_name(household: Household) -> str:
    head = household.members.filter(is_active=True, relation=HEAD).values_list("name", flat=True)
    return head.first() or ""


def _persons(household: Household) -> int:
    return household.members.filter(is_active=True).count()


def _removal_ground(reason: str, grounds: list[str]) -> str:
    """The listed ground a removal reason starts with ("购买3万元以上车辆：2019年购车")."""
    for ground in sorted(grounds, key=len, reverse=True):
        if reason.startswith(ground):
            return ground
    return ""


def _proposal_errors(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household | None,
    kind: str,
    persons: Any,
    head_name: str,
    reason: str,
    ground: str,
    grounds: list[str],
) -> tuple[list[str], str]:
    """Everything wrong with one proposed line, as Chinese sentences; and the removal ground."""
    errors: list[str] = []
    if kind not in RoundChange.STATUS_KINDS:
        return [_("名单类型“%(kind)s”无效。") % {"kind": kind}], ""
    if household is None:
        return [_("户编号不存在，或该户不在您的管辖范围内。")], ""
    if not household.village.path.startswith(round.county.path):
        errors.append(_("该户不属于%(county)s。") % {"county": round.county.name})
    _event_kind, from_statuses, _to = TRANSITIONS[kind]
    if household.status not in from_statuses:
        errors.append(
            _("该户当前状态为“%(status)s”，不能列入“%(list)s”名单。")
            % {"status": household.get_status_display(), "list": Kind(kind).label}
        )
    actual_head = _head_name(household)
    if (head_name or "").strip() != actual_head:
        errors.append(
            _("户主姓名“%(given)s”与系统中的户主“%(actual)s”不一致。")
            % {"given": head_name or "", "actual": actual_head or "—"}
        )
    actual_persons = _persons(household)
    try:
        persons_value = int(persons)
    except (TypeError, ValueError):
        errors.append(_("人数应为整数。"))
    else:
        if persons_value != actual_persons:
            errors.append(
                _("人数%(given)s与系统中的在户人数%(actual)d不一致，请先办理自然增减。")
                % {"given": persons_value, "actual": actual_persons}
            )
    if not (reason or "").strip():
        errors.append(_("请填写理由。"))
    if kind == Kind.REMOVED and reason:
        ground = ground or _removal_ground(reason.strip(), grounds)
        if ground not in grounds:
            errors.append(
                _("剔除理由须以代码表中的一项开头（%(grounds)s）。")
                % {"grounds": "、".join(grounds)}
            )
    if kind == Kind.IDENTIFIED and not household.main_cause:
        errors.append(_("新识别纳入前须填写主要致贫原因。"))
    if kind == Kind.EXITED and household.first_identified_year == round.year:
        errors.append(_("当年新识别的贫困户不能当年标注脱贫。"))
    if RoundChange.objects.filter(
        round=round,
        household=household,
        state__in=RoundChange.PENDING_STATES,
        kind__in=RoundChange.STATUS_KINDS,
    ).exists():
        errors.append(_("该户在本批次已有待审核的名单。"))
    return errors, ground


def _require_proposer(actor: User, round: AdjustmentRound) -> None:
    if not roles.can_write_households(actor):
        raise PermissionDenied(_("您的角色不能提出动态调整名单。"))
    if round.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭，不能再提出名单。"), code="round_closed")


def removal_grounds(round: AdjustmentRound) -> list[str]:
    """The 剔除 grounds of the round's year and province (a removal reason starts with one);
    the proposal form lists them."""
    lists = value_lists(year=round.year, province=province_of(round.county))
    return lists.get(ValueList.REMOVAL_GROUND, [])


def _scoped_household(
    actor: User, household_id: int | None = None, number: str | None = None
) -> Household | None:
    queryset = roles.household_scope(actor, Household.objects.select_related("village"))
    if household_id is not None:
        return queryset.filter(pk=household_id).first()
    return queryset.filter(number=(number or "").strip()).first()


def _create_change(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household,
    kind: str,
    persons: int | str,
    head_name: str,
    reason: str,
    ground: str,
    source: str,
) -> RoundChange:
    change = RoundChange(
        round=round,
        household=household,
        village=household.village,
        kind=kind,
        persons=int(persons),
        head_name=head_name.strip(),
        reason=reason.strip(),
        ground=ground,
        source=source,
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    change.full_clean(validate_constraints=False)
    change.save()
    _start_workflow(actor, change)
    return change


def _start_workflow(actor: User, change: RoundChange) -> None:
    """新识别纳入 and 标注脱贫 go through their procedure: the proposal opens it (unless one is
    already open or done in this round), so the township and county decide on a case that had
    its 民主评议 and 公示."""
    from households import services

    procedure = WORKFLOW_KINDS.get(change.kind)
    start = getattr(services, "workflow_start", None)
    if procedure is None or start is None:
        return
    from households.models import CaseWorkflow

    if (
        CaseWorkflow.objects.filter(household=change.household, kind=procedure)
        .filter(
            Q(state=CaseWorkflow.State.OPEN) | Q(round=change.round, state=CaseWorkflow.State.DONE)
        )
        .exists()
    ):
        return
    start(actor=actor, household=change.household, kind=procedure, opinion=change.reason)


@transaction.atomic
def change_propose(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household,
    kind: str,
    persons: int | str,
    head_name: str,
    reason: str,
    ground: str = "",
) -> RoundChange:
    """A village proposes one line of the 四类名单. `persons` may be the text of a form field:
    it is checked (a whole number equal to the household's size) before anything is written."""
    _require_proposer(actor, round)
    scoped = _scoped_household(actor, household_id=household.pk)
    errors, ground = _proposal_errors(
        actor=actor,
        round=round,
        household=scoped,
        kind=kind,
        persons=persons,
        head_name=head_name,
        reason=reason,
        ground=ground,
        grounds=removal_grounds(round),
    )
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_change") for error in errors])
    assert scoped is not None
    return _create_change(
        actor=actor,
        round=round,
        household=scoped,
        kind=kind,
        persons=persons,
        head_name=head_name,
        reason=reason,
        ground=ground,
        source="form",
    )


@transaction.atomic
def change_withdraw(*, actor: User, change: RoundChange) -> RoundChange:
    """The village withdraws its own proposal before the township has reviewed it."""
    locked = RoundChange.objects.select_for_update().select_related("village").get(pk=change.pk)
    if not roles.can_write_households(actor) or not roles.region_in_scope(actor, locked.village):
        raise PermissionDenied(_("您不能撤回该名单。"))
    if locked.state != State.PROPOSED:
        raise ValidationError(_("乡镇已审核的名单不能撤回。"), code="not_pending")
    locked.state = State.WITHDRAWN
    locked.save(update_fields=["state"])
    return locked
