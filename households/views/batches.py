"""The batch pages (批量办理): a village's batches, opening one, and the batch page where one
民主评议 meeting, one 公示 and one township or county review act on every member, with
per-household exceptions. Thin views over `households.services.case_batch_*`; each member keeps
its own case page (`households:workflow`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households import forms as household_forms
from households import selectors, services, workflows
from households.models import CaseBatch, CaseWorkflow, Household, PublicNotice
from households.views.common import _apply_errors, _require_case_access
from households.views.procedures import notice_sheet
from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import User

# How many candidate households the create page offers at once (a village has a few hundred).
MAX_CHOICES = 500


def _require_village_cadre(request: AuthenticatedHttpRequest) -> None:
    user = request.user
    if (
        user.role != User.Role.VILLAGE_CADRE
        or user.region is None
        or user.region.level != "village"
    ):
        raise PermissionDenied(_("批次由本村的村级录入员创建。"))


def _require_actor(request: AuthenticatedHttpRequest) -> None:
    """Writes on a batch: the village (its cadre) or the reviewers; read-only roles get 403."""
    if not (roles.can_write_households(request.user) or roles.can_review(request.user)):
        raise PermissionDenied(_("您的账号只能查看批次，不能办理。"))


def _label(case: CaseWorkflow) -> str:
    """A case's choice label: its household as lists name it (`name_heads` ran first)."""
    return selectors.household_label(case.household)


@login_required
def batch_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    batches = selectors.case_batch_list(user=request.user)
    state = request.GET.get("state", "")
    if state in CaseBatch.State.values:
        batches = batches.filter(state=state)
    return render(
        request,
        "households/batch_list.html",
        {
            "batches": list(batches[:200]),
            "labels": {kind: item.label for kind, item in workflows.PROCEDURES.items()},
            "state": state,
            "states": CaseBatch.State.choices,
            "can_create": request.user.role == User.Role.VILLAGE_CADRE,
            "procedures": [(kind, item.label) for kind, item in workflows.PROCEDURES.items()],
        },
    )


def _create_choices(user: User, kind: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Open cases of the procedure in the cadre's village that are in no open batch, and the
    households that may start it (the procedure's starting statuses, no open case)."""
    village = user.region
    definition = workflows.procedure(kind)
    cases = list(
        CaseWorkflow.objects.filter(
            household__village=village, kind=kind, state=CaseWorkflow.State.OPEN
        )
        .exclude(batch__state=CaseBatch.State.OPEN)
        .select_related("household")
        .order_by("step", "household__number")[:MAX_CHOICES]
    )
    households = list(
        Household.objects.filter(village=village, status__in=definition.from_statuses)
        .exclude(workflows__state=CaseWorkflow.State.OPEN)
        .order_by("number")[:MAX_CHOICES]
    )
    selectors.name_heads([case.household for case in cases] + households)
    case_choices = [
        (case.pk, f"{_label(case)}（{definition.step(case.step).label}）") for case in cases
    ]
    household_choices = [(item.pk, selectors.household_label(item)) for item in households]
    return case_choices, household_choices


@login_required
def batch_create_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open a batch: choose the procedure, then open cases at one step and/or households to
    start a case for."""
    _require_case_access(request)
    _require_village_cadre(request)
    village = request.user.region
    assert village is not None  # _require_village_cadre
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    if kind not in workflows.PROCEDURES:
        kind = CaseWorkflow.Kind.IDENTIFICATION
    case_choices, household_choices = _create_choices(request.user, kind)
    form = household_forms.BatchCreateForm(
        request.POST or None,
        case_choices=case_choices,
        household_choices=household_choices,
        initial={"opened_on": household_forms.today()},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            chosen = form.cleaned_data
            try:
                batch = services.case_batch_create(
                    actor=request.user,
                    village=village,
                    kind=kind,
                    name=chosen["name"],
                    workflows=chosen["cases"],
                    households=list(
                        Household.objects.filter(
                            pk__in=chosen["households"], village=request.user.region
                        ).order_by("number")
                    ),
                    opened_on=chosen["opened_on"],
                    opinion=chosen["opinion"],
                )
            except ValidationError as error:
                _apply_errors(error, form)
            else:
                messages.success(request, _("批次已创建。"))
                return redirect("households:batch", batch.pk)
        status = 400
    return render(
        request,
        "households/batch_create.html",
        {
            "form": form,
            "kind": kind,
            "procedures": [(key, item.label) for key, item in workflows.PROCEDURES.items()],
        },
        status=status,
    )


def _groups(
    request: AuthenticatedHttpRequest,
    batch: CaseBatch,
    members: list[CaseWorkflow],
    bound: dict[str, Any],
) -> list[dict[str, Any]]:
    """The batch's open members grouped by the step they stand at, each group with the action
    the user may take on it (and its form)."""
    definition = workflows.procedure(batch.kind)
    today = household_forms.today()
    level = workflows.user_level(request.user)
    in_scope = roles.region_in_scope(request.user, batch.village)
    open_notices: dict[int, PublicNotice] = {}
    for notice in PublicNotice.objects.filter(
        workflow__in=[case.pk for case in members], is_open=True
    ):
        open_notices[notice.workflow_id] = notice
    by_step: dict[str, list[CaseWorkflow]] = {}
    for case in members:
        if case.state == CaseWorkflow.State.OPEN:
            by_step.setdefault(case.step, []).append(case)
    groups = []
    for step in definition.steps:
        cases = by_step.get(step.key)
        if not cases:
            continue
        can_act = in_scope and level == step.level
        choices = [(case.pk, _label(case)) for case in cases]
        group: dict[str, Any] = {
            "step": step,
            "level": workflows.LEVEL_LABELS[step.level],
            "cases": cases,
            "can_act": can_act,
            "action": "",
        }
        if step.type == workflows.NOTICE:
            waiting = [case for case in cases if case.pk not in open_notices]
            running = [open_notices[case.pk] for case in cases if case.pk in open_notices]
            group["notices"] = running
            if waiting:
                group["action"] = "notice"
                group["waiting"] = waiting
                group["form"] = bound.get(step.key) or household_forms.BatchNoticeForm(
                    initial={
                        "start_date": today,
                        "days": step.notice_days,
                        "phone": request.user.phone or "",
                    }
                )
            elif running and all(today > notice.end_date for notice in running):
                group["action"] = "notice_done"
                group["form"] = bound.get(step.key) or household_forms.BatchStepForm()
            else:
                group["action"] = "notice_running"
        elif step.needs_attendance:
            group["action"] = "meeting"
            group["form"] = bound.get(step.key) or household_forms.BatchMeetingForm(
                members=choices, initial={"meeting_date": today}
            )
        elif step.needs_evidence:
            # Each household's own signed paper (贫困户确认): done on its own case page.
            group["action"] = "per_household"
        else:
            targets = [(item.key, item.label) for item in workflows.return_targets(cases[0])]
            group["action"] = "step"
            group["form"] = bound.get(step.key) or household_forms.BatchStepForm(
                members=choices, targets=targets, initial={"acted_on": today}
            )
        groups.append(group)
    return groups


def _render_batch(
    request: AuthenticatedHttpRequest, batch: CaseBatch, bound: dict[str, Any] | None = None
) -> HttpResponse:
    definition = workflows.procedure(batch.kind)
    members = list(batch.cases.select_related("household").order_by("household__number", "id"))
    selectors.name_heads([case.household for case in members])
    for case in members:
        case.step_label = definition.step(case.step).label  # type: ignore[attr-defined]  # for the template
    # Forms are offered on the groups whose step the user's level owns (none for read-only
    # roles: `can_act` is false for them).
    groups = _groups(request, batch, members, bound or {})
    action_errors = [error for form in (bound or {}).values() for error in form.non_field_errors()]
    return render(
        request,
        "households/batch_detail.html",
        {
            "batch": batch,
            "definition": definition,
            "members": members,
            "groups": groups,
            "events": batch.events.select_related("actor").order_by("created_at", "id"),
            "action_errors": action_errors,
            "notice_print": batch.notice_start_date is not None
            and PublicNotice.objects.filter(
                workflow__batch=batch,
                step=batch.notice_step,
                start_date=batch.notice_start_date,
            ).exists(),
        },
        status=400 if bound else 200,
    )


@login_required
def batch_detail_view(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    _require_case_access(request)
    batch = selectors.case_batch_get_for_user(user=request.user, batch_id=batch_id)
    return _render_batch(request, batch)


def _members_at(batch: CaseBatch, step: str) -> list[CaseWorkflow]:
    return services.case_batch_members(batch, step)


def _step_of(batch: CaseBatch, request: AuthenticatedHttpRequest) -> Any:
    try:
        return workflows.procedure(batch.kind).step(request.POST.get("step", ""))
    except KeyError:
        return None


def _batch_post(
    request: AuthenticatedHttpRequest, batch_id: int
) -> tuple[CaseBatch, Any, list[tuple[int, str]]]:
    _require_case_access(request)
    batch = selectors.case_batch_get_for_user(user=request.user, batch_id=batch_id)
    _require_actor(request)
    step = _step_of(batch, request)
    if step is None:
        return batch, None, []
    members = _members_at(batch, step.key)
    selectors.name_heads([case.household for case in members])
    return batch, step, [(case.pk, _label(case)) for case in members]


def _done(request: AuthenticatedHttpRequest, batch: CaseBatch, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("households:batch", batch.pk)


@login_required
@require_POST
def batch_meeting_view(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """Record the 民主评议 meeting for every member at that step (one post)."""
    batch, step, choices = _batch_post(request, batch_id)
    if step is None:
        messages.error(request, _("没有该环节。"))
        return redirect("households:batch", batch.pk)
    form = household_forms.BatchMeetingForm(request.POST, request.FILES, members=choices)
    if form.is_valid():
        reasons, _targets = form.exceptions()
        try:
            services.case_batch_record_meeting(
                actor=request.user,
                batch=batch,
                meeting_date=form.cleaned_data["meeting_date"],
                attendance=form.cleaned_data["attendance"],
                minutes=form.cleaned_data["minutes"],
                opinion=form.cleaned_data["opinion"],
                exceptions=reasons,
            )
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            return _done(request, batch, _("民主评议已记录。"))
    batch.refresh_from_db()
    return _render_batch(request, batch, {step.key: form})


@login_required
@require_POST
def batch_notice_view(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """Publish one 公示 for every member at the notice step (one post)."""
    batch, step, _choices = _batch_post(request, batch_id)
    if step is None:
        messages.error(request, _("没有该环节。"))
        return redirect("households:batch", batch.pk)
    form = household_forms.BatchNoticeForm(request.POST)
    if form.is_valid():
        try:
            services.case_batch_start_notice(
                actor=request.user,
                batch=batch,
                step=step.key,
                start_date=form.cleaned_data["start_date"],
                days=form.cleaned_data["days"],
                phone=form.cleaned_data["phone"],
                place=form.cleaned_data["place"],
            )
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            return _done(request, batch, _("公示已发布，可打印公示表张贴。"))
    batch.refresh_from_db()
    return _render_batch(request, batch, {step.key: form})


@login_required
@require_POST
def batch_step_view(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """Complete a step for every member at it, the excepted households sent back alone (one
    post: a township or county review, a verification, the end of a 公示)."""
    batch, step, choices = _batch_post(request, batch_id)
    if step is None:
        messages.error(request, _("没有该环节。"))
        return redirect("households:batch", batch.pk)
    is_notice = step.type == workflows.NOTICE
    targets = []
    members = _members_at(batch, step.key)
    if members and not is_notice:
        targets = [(item.key, item.label) for item in workflows.return_targets(members[0])]
    form = household_forms.BatchStepForm(
        request.POST,
        members=[] if is_notice else choices,
        targets=targets,
    )
    if form.is_valid():
        reasons, return_to = form.exceptions()
        try:
            services.case_batch_complete_step(
                actor=request.user,
                batch=batch,
                step=step.key,
                opinion=form.cleaned_data["opinion"],
                acted_on=form.cleaned_data["acted_on"],
                exceptions=reasons,
                return_to=return_to,
            )
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            return _done(request, batch, _("“%(step)s”已批量办理。") % {"step": step.label})
    batch.refresh_from_db()
    return _render_batch(request, batch, {step.key: form})


@login_required
def batch_notice_print_view(request: AuthenticatedHttpRequest, batch_id: int) -> HttpResponse:
    """The batch's 公示 as one printable list of its households (IDs masked)."""
    _require_case_access(request)
    batch = selectors.case_batch_get_for_user(user=request.user, batch_id=batch_id)
    if batch.notice_start_date is None:
        messages.error(request, _("该批次尚未发布公示。"))
        return redirect("households:batch", batch.pk)
    notices = list(
        PublicNotice.objects.filter(
            workflow__batch=batch, step=batch.notice_step, start_date=batch.notice_start_date
        )
        .select_related("workflow__household")
        .order_by("workflow__household__number")
    )
    if not notices:
        messages.error(request, _("该批次尚未发布公示。"))
        return redirect("households:batch", batch.pk)
    return notice_sheet(
        request,
        notices[0],
        batch.village,
        notices,
        back_url=reverse("households:batch", args=[batch.pk]),
    )
