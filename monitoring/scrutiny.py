"""Exclusion scrutiny (剔除核查, issue 15): the tasks raised by the departments' scrutiny lists
(`monitoring.lists`), checked by the village, reviewed by the township for cadres' relatives,
and — once confirmed — fed to a 剔除 proposal of the open round through the rounds app's own
service. A task never changes a household's status: only the round's decision does.

- the village cadre records the check: 核查无问题 (cleared) or 核查属实 (confirmed, with the
  finding); a final result at once, except for a cadre's relative (a registered
  `CadreRelation` of a member of the household), whose result waits for the township;
- the township agrees (the result stands) or sends the task back to the village;
- a confirmed task may become a 剔除 line of the open round (`rounds.services.change_propose`,
  which checks the round, the household's status, the head's name, the persons and the ground).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from households.models import Household, Member
from households.services import common
from monitoring.models import CadreRelation, ScrutinyTask
from povertyapp import audit, roles
from povertyapp.conflicts import ConflictError
from povertyapp.models import Region, User
from rounds import services as rounds
from rounds.models import RoundChange

State = ScrutinyTask.State
CLEARED, CONFIRMED = "cleared", "confirmed"
RESULTS = (CLEARED, CONFIRMED)


def task_list(*, user: User) -> QuerySet[ScrutinyTask]:
    """The tasks of the villages in the user's scope (case roles; a helper none)."""
    queryset = ScrutinyTask.objects.select_related(
        "village", "household", "member", "source_list"
    ).order_by("state", "village__code", "id")
    if not roles.sees_exclusion_scrutiny(user) or user.region is None:
        return queryset.none()
    return queryset.filter(village__path__startswith=user.region.path)


def task_get_for_user(*, user: User, task_id: int) -> ScrutinyTask:
    task = task_list(user=user).filter(pk=task_id).first()
    if task is None:
        raise Http404(_("未找到该核查任务。"))
    return task


def counts_by_region(*, user: User, region: Region) -> list[dict[str, Any]]:
    """Per child region of `region` (township or village): tasks open, in review, cleared and
    confirmed — the county's and the township's overview."""
    rows: dict[int, dict[str, Any]] = {}
    children = list(region.children.order_by("code")) if hasattr(region, "children") else []
    for child in children:
        rows[child.pk] = {"region": child, **dict.fromkeys(State.values, 0)}
    for task in (
        task_list(user=user).only("state", "village__path").values("state", "village__path")
    ):
        for child in children:
            if task["village__path"].startswith(child.path):
                slot = rows[child.pk]
                slot[task["state"]] += 1
                break
    return list(rows.values())


def _lock(task: ScrutinyTask, version: int | None) -> ScrutinyTask:
    locked = (
        ScrutinyTask.objects.select_for_update()
        .select_related("village", "household", "member")
        .get(pk=task.pk)
    )
    if version is not None and locked.version != version:
        raise ConflictError(
            [{"field": "", "label": _("剔除核查任务"), "old": "", "new": "", "who": _("他人")}]
        )
    return locked


def _require_village_writer(actor: User, task: ScrutinyTask) -> None:
    if not roles.can_write_households(actor) or not roles.region_in_scope(actor, task.village):
        raise PermissionDenied(_("您的角色不能登记核查结果。"))


@transaction.atomic
def task_check(
    *, actor: User, task: ScrutinyTask, result: str, finding: str, version: int | None
) -> ScrutinyTask:
    """The village records its check. A cadre's relative's result waits for the township."""
    _require_village_writer(actor, task)
    locked = _lock(task, version)
    errors: dict[str, list[ValidationError]] = {}
    if locked.state != State.OPEN:
        raise ValidationError(_("该任务已核查，不能重复登记。"), code="checked")
    if result not in RESULTS:
        errors["result"] = [ValidationError(_("请选择核查结论。"), code="required")]
    finding = (finding or "").strip()
    if result == CONFIRMED and not finding:
        errors["finding"] = [
            ValidationError(_("核查属实时请填写核查情况（发现的事实和依据）。"), code="required")
        ]
    if len(finding) > 2000:
        errors["finding"] = [ValidationError(_("核查情况不能超过2000字。"), code="max_length")]
    if errors:
        raise ValidationError(errors)
    locked.checked_result = result
    locked.finding = finding
    locked.checked_by = actor
    locked.checked_on = common.today()
    locked.state = State.TOWNSHIP_REVIEW if locked.cadre_relative else result
    locked.version += 1
    locked.save()
    return locked


@transaction.atomic
def task_review(
    *, actor: User, task: ScrutinyTask, agree: bool, opinion: str, version: int | None
) -> ScrutinyTask:
    """The township reviews a cadre's relative's check: agreed, the result stands; not agreed,
    the task goes back to the village with the opinion."""
    if not roles.can_review(actor) or not roles.region_in_scope(actor, task.village):
        raise PermissionDenied(_("您的角色不能复核核查结果。"))
    locked = _lock(task, version)
    if locked.state != State.TOWNSHIP_REVIEW:
        raise ValidationError(_("该任务不在待乡镇复核状态。"), code="not_in_review")
    opinion = (opinion or "").strip()
    if not agree and not opinion:
        raise ValidationError(
            {"opinion": [ValidationError(_("退回时请填写复核意见。"), code="required")]}
        )
    locked.reviewed_by = actor
    locked.reviewed_on = common.today()
    if agree:
        locked.state = locked.checked_result
    else:
        locked.state = State.OPEN
        locked.finding = _("乡镇复核退回：%(opinion)s") % {"opinion": opinion} + (
            f"\n{locked.finding}" if locked.finding else ""
        )
        locked.finding = locked.finding[:2000]
        locked.checked_result = ""
    locked.version += 1
    locked.save()
    audit.record(
        "approval",
        user=actor,
        target="monitoring.scrutiny_task",
        object_id=locked.pk,
        detail={"agree": agree, "result": locked.state},
    )
    return locked


@transaction.atomic
def task_propose_removal(
    *, actor: User, task: ScrutinyTask, ground: str, version: int | None
) -> ScrutinyTask:
    """A confirmed task becomes a 剔除 line of the open round, through the rounds app's own
    proposal service (which checks everything a village's proposal must pass). The
    household's status is untouched until the round's decision."""
    _require_village_writer(actor, task)
    locked = _lock(task, version)
    if locked.state != State.CONFIRMED:
        raise ValidationError(_("只有核查属实的任务才能申报剔除。"), code="not_confirmed")
    if locked.round_change_id is not None:
        raise ValidationError(_("该任务已申报剔除。"), code="proposed")
    round = rounds.round_open_for(locked.village)
    if round is None:
        raise ValidationError(
            _("县里当前没有开放的动态调整批次，暂不能申报剔除。"), code="no_open_round"
        )
    household = locked.household
    members = household.members.filter(is_active=True)
    head = members.filter(relation=rounds.HEAD).values_list("name", flat=True).first() or ""
    change = rounds.change_propose(
        actor=actor,
        round=round,
        household=household,
        kind=RoundChange.Kind.REMOVED,
        persons=members.count(),
        head_name=head,
        reason=(
            _("%(ground)s：剔除核查（%(list)s）%(finding)s")
            % {"ground": ground, "list": locked.source_list, "finding": locked.finding}
        )[:500],
        ground=ground,
    )
    locked.round_change = change
    locked.version += 1
    locked.save()
    return locked


# --- cadres' relatives ----------------------------------------------------------------------


def relations_for(*, user: User) -> QuerySet[CadreRelation]:
    """The relations registered for members of households in the user's scope."""
    if not roles.has_case_access(user) or user.region is None or user.role == User.Role.HELPER:
        return CadreRelation.objects.none()
    return (
        CadreRelation.objects.filter(member__household__village__path__startswith=user.region.path)
        .select_related("member", "member__household", "member__household__village")
        .order_by("-recorded_at", "-id")
    )


@transaction.atomic
def relation_create(
    *,
    actor: User,
    id_number: str,
    cadre_name: str,
    cadre_post: str,
    relation: str,
) -> CadreRelation:
    """Record a member's relation to a 村干部/驻村干部 (the member found by ID number, in the
    actor's scope: outside it, not found)."""
    from households.identity import normalise_id_number

    if not roles.can_write_households(actor):
        raise PermissionDenied(_("您的角色不能登记干部亲属关系。"))
    errors: dict[str, list[ValidationError]] = {}
    number = normalise_id_number(id_number or "")
    member = (
        Member.objects.with_id_number(number)
        .filter(household__in=roles.household_scope(actor, Household.objects.all()))
        .order_by("-is_active", "-id")
        .first()
        if number
        else None
    )
    if member is None:
        errors["id_number"] = [
            ValidationError(
                _("未找到该身份证号的成员，或该成员不在您的管辖范围内。"), code="not_found"
            )
        ]
    if not (cadre_name or "").strip():
        errors["cadre_name"] = [ValidationError(_("请填写干部姓名。"), code="required")]
    if cadre_post not in CadreRelation.Post.values:
        errors["cadre_post"] = [ValidationError(_("请选择干部类别。"), code="required")]
    if not (relation or "").strip():
        errors["relation"] = [ValidationError(_("请填写亲属关系。"), code="required")]
    if errors:
        raise ValidationError(errors)
    assert member is not None
    item = CadreRelation(
        member=member,
        cadre_name=cadre_name.strip(),
        cadre_post=cadre_post,
        relation=relation.strip(),
        recorded_by=actor,
    )
    item.full_clean()
    item.save()
    # Open tasks of the household now concern a cadre's relative.
    ScrutinyTask.objects.filter(household=member.household, state=State.OPEN).update(
        cadre_relative=True
    )
    return item
