"""The identification and exit procedures' pages: starting a case, the case page and its
actions (complete, return, withdraw a step; publish a 公示, record an objection), the printable
公示 (`notice_sheet`, shared with the batch pages) and the to-do list (待办事项)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households import forms as household_forms
from households import quality, selectors, services, workflows
from households.models import CaseWorkflow, DataProblem, PublicNotice
from households.views.common import _apply_errors, _require_case_access, _require_writer
from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region, User
from povertyapp.photos import photos_with_meta
from povertyapp.privacy import access_log_record, mask


def _workflow_for_user(request: AuthenticatedHttpRequest, workflow_id: int) -> CaseWorkflow:
    """The scoped access path of a case: through its household's scope (404 outside)."""
    _require_case_access(request)
    workflow = (
        CaseWorkflow.objects.filter(roles.household_scope_q(request.user), pk=workflow_id)
        .select_related(
            "household", "household__village", "household__village__parent", "started_by"
        )
        .first()
    )
    if workflow is None:
        raise Http404(_("未找到该案件，或您无权查看。"))
    return workflow


@login_required
@require_POST
def workflow_start_view(
    request: AuthenticatedHttpRequest, household_id: int, kind: str
) -> HttpResponse:
    _require_writer(request)
    household = selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    if kind not in workflows.PROCEDURES:
        raise Http404(_("没有该程序。"))
    form = household_forms.StartForm(request.POST, request.FILES, kind=kind)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))  # ErrorList yields the message strings
        return redirect(reverse("households:detail", args=[household.pk]) + "?tab=status")
    try:
        workflow = services.workflow_start(
            actor=request.user,
            household=household,
            kind=kind,
            opinion=form.cleaned_data["opinion"],
            evidence=form.cleaned_data["evidence"],
            effective_date=form.cleaned_data["effective_date"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(reverse("households:detail", args=[household.pk]) + "?tab=status")
    messages.success(request, _("已发起%(kind)s。") % {"kind": workflow.get_kind_display()})
    return redirect("households:workflow", workflow.pk)


@login_required
def workflow_detail_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    workflow = _workflow_for_user(request, workflow_id)
    return _render_workflow(request, workflow)


def _return_choices(workflow: CaseWorkflow) -> list[tuple[str, Any]]:
    return [(step.key, step.label) for step in workflows.return_targets(workflow)]


def _render_workflow(
    request: AuthenticatedHttpRequest, workflow: CaseWorkflow, **forms_: Any
) -> HttpResponse:
    definition = workflows.procedure(workflow.kind)
    step = workflows.current_step(workflow)
    done = {record.step for record in workflow.steps.all() if record.decision == "done"}
    position = (
        definition.index(workflow.step) if workflow.state == "open" else len(definition.steps)
    )
    notice = workflow.notices.filter(step=workflow.step, is_open=True).first()
    today = household_forms.today()
    can_act = workflows.can_act(request.user, workflow)
    can_object = (
        notice is not None
        and (roles.can_write_households(request.user) or roles.can_review(request.user))
        and roles.region_in_scope(request.user, workflow.household.village)
    )
    return_choices = _return_choices(workflow)
    selectors.name_heads([workflow.household])
    context = {
        "workflow": workflow,
        "household": workflow.household,
        "definition": definition,
        "step": step,
        "position": position,
        "done": done,
        "step_level": LEVEL_NAMES[step.level],
        "stages": [
            (index, item, LEVEL_NAMES[item.level]) for index, item in enumerate(definition.steps)
        ],
        "records": workflow.steps.select_related("actor")
        .prefetch_related("photos")
        .order_by("created_at", "id"),
        "notice": notice,
        "notices": workflow.notices.prefetch_related("objections"),
        "can_act": can_act,
        "can_object": can_object,
        "can_return": can_act and bool(return_choices),
        "can_withdraw": workflows.can_withdraw(request.user, workflow),
        # The batch this case is decided with (a helper sees paired households, not batches).
        "batch_link": workflow.batch_id is not None and request.user.role != User.Role.HELPER,
        "clock": workflows.case_clocks([workflow], today).get(workflow.pk),
        "notice_ready": notice is not None and today > notice.end_date,
        "overdue": workflows.is_overdue(workflow, today),
        "is_notice": step.type == workflows.NOTICE,
        "step_form": forms_.get("step_form")
        or household_forms.StepForm(initial={"acted_on": today}),
        "return_form": forms_.get("return_form")
        or household_forms.ReturnForm(
            targets=return_choices, initial={"to_step": step.returns_to or ""}
        ),
        "withdraw_form": forms_.get("withdraw_form") or household_forms.WithdrawForm(),
        "notice_form": forms_.get("notice_form")
        or household_forms.NoticeForm(
            initial={
                "start_date": today,
                "days": step.notice_days,
                "phone": request.user.phone or "",
            }
        ),
        "objection_form": forms_.get("objection_form")
        or household_forms.ObjectionForm(initial={"received_on": today}),
    }
    # A refusal that names no field (not your step, the case moved on, …) is shown once at the
    # top: the section of the form that was sent may not be shown to this user at all.
    context["action_errors"] = [
        error for form in forms_.values() for error in form.non_field_errors()
    ]
    status = 400 if forms_ else 200
    return render(request, "households/workflow_detail.html", context, status=status)


LEVEL_NAMES = workflows.LEVEL_LABELS


def _workflow_action(
    request: AuthenticatedHttpRequest,
    workflow_id: int,
    form_class: Any,
    form_key: str,
    action: Any,
    success: str,
    form_kwargs: Any = None,
) -> HttpResponse:
    workflow = _workflow_for_user(request, workflow_id)
    form = form_class(request.POST, request.FILES, **(form_kwargs(workflow) if form_kwargs else {}))
    if form.is_valid():
        try:
            action(workflow, form.cleaned_data, request.POST.get("step", ""))
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            messages.success(request, success)
            return redirect("households:workflow", workflow.pk)
    workflow.refresh_from_db()
    return _render_workflow(request, workflow, **{form_key: form})


@login_required
@require_POST
def workflow_complete_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.StepForm,
        "step_form",
        lambda workflow, data, step: services.workflow_step_complete(
            actor=request.user,
            workflow=workflow,
            expected_step=step,
            opinion=data["opinion"],
            evidence=data["evidence"],
            attendance=data["attendance"],
            acted_on=data["acted_on"],
            photos=photos_with_meta(
                data.get("photos") or [], data.get("photo_meta"), uploaded_at=timezone.now()
            ),
        ),
        _("已办理。"),
    )


@login_required
@require_POST
def workflow_return_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.ReturnForm,
        "return_form",
        lambda workflow, data, step: services.workflow_return(
            actor=request.user,
            workflow=workflow,
            expected_step=step,
            opinion=data["opinion"],
            to_step=data["to_step"] or None,
        ),
        _("已退回。"),
        form_kwargs=lambda workflow: {"targets": _return_choices(workflow)},
    )


@login_required
@require_POST
def workflow_withdraw_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.WithdrawForm,
        "withdraw_form",
        lambda workflow, data, step: services.workflow_withdraw(
            actor=request.user,
            workflow=workflow,
            reason=data["reason"],
            expected_step=step or None,
        ),
        _("案件已撤回。"),
    )


@login_required
@require_POST
def notice_start_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.NoticeForm,
        "notice_form",
        lambda workflow, data, step: services.notice_start(
            actor=request.user,
            workflow=workflow,
            expected_step=step,
            start_date=data["start_date"],
            days=data["days"],
            phone=data["phone"],
            place=data["place"],
        ),
        _("公示已发布，可打印公示表张贴。"),
    )


@login_required
@require_POST
def notice_objection_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    def record(workflow: CaseWorkflow, data: dict[str, Any], step: str) -> None:
        notice = workflow.notices.filter(is_open=True).first()
        if notice is None:
            raise ValidationError(_("当前没有进行中的公示。"), code="notice_closed")
        services.notice_objection_record(
            actor=request.user,
            notice=notice,
            content=data["content"],
            objector=data["objector"],
            received_on=data["received_on"],
        )

    return _workflow_action(
        request,
        workflow_id,
        household_forms.ObjectionForm,
        "objection_form",
        record,
        _("异议已登记，案件已退回。"),
    )


@login_required
def notice_print_view(request: AuthenticatedHttpRequest, notice_id: int) -> HttpResponse:
    """The printable A4 公示: every case of the village published at the same step on the same
    day, IDs masked whatever the viewer's role (it is posted on a wall)."""
    _require_case_access(request)
    notice = (
        PublicNotice.objects.filter(
            workflow__in=CaseWorkflow.objects.filter(roles.household_scope_q(request.user)),
            pk=notice_id,
        )
        .select_related("workflow", "workflow__household__village__parent")
        .first()
    )
    if notice is None:
        raise Http404(_("未找到该公示，或您无权查看。"))
    village = notice.workflow.household.village
    batch = list(
        PublicNotice.objects.filter(
            workflow__household__village=village,
            workflow__kind=notice.workflow.kind,
            step=notice.step,
            start_date=notice.start_date,
        )
        .select_related("workflow__household")
        .order_by("workflow__household__number")
    )
    return notice_sheet(request, notice, village, batch)


def notice_sheet(
    request: AuthenticatedHttpRequest,
    notice: PublicNotice,
    village: Region,
    batch: list[PublicNotice],
    back_url: str = "",
) -> HttpResponse:
    """The printable A4 公示 listing the households of `batch` (notices of one step and start
    date), IDs masked, signed per the step; the print is written to the access log."""
    households = [item.workflow.household for item in batch]
    heads = {
        member.household_id: member
        for member in selectors.Member.objects.filter(
            household__in=households, is_active=True, relation="户主"
        )
    }
    sizes = dict(
        selectors.Member.objects.filter(household__in=households, is_active=True)
        .values_list("household_id")
        .annotate(n=Count("id"))
    )
    rows = []
    for index, item in enumerate(batch, start=1):
        household = item.workflow.household
        head = heads.get(household.pk)
        rows.append(
            {
                "index": index,
                "number": household.number,
                "head": head.name if head else "—",
                "id_masked": mask(head.id_number) if head else "",
                "persons": sizes.get(household.pk, 0),
                "cause": household.main_cause,
                "attribute": household.poverty_attribute,
                "group": household.group,
            }
        )
    definition = workflows.procedure(notice.workflow.kind)
    step = definition.step(notice.step)
    # A procedure registered from above (monitoring) names its sheet and may hide columns: the
    # monitoring 公示 shows no ID, phone, bank or health details (not even a masked ID, nor the
    # cause, which may name an illness).
    hides_id = bool(definition.extra.get("notice_hides_id"))
    hides_cause = bool(definition.extra.get("notice_hides_cause"))
    if hides_id or hides_cause:
        for row in rows:
            row["id_masked"] = "" if hides_id else row["id_masked"]
            row["cause"] = "" if hides_cause else row["cause"]
    township = village.parent
    # Who signs the sheet and what it says follow the step: the village posts its own 公示,
    # the second 公示 of 识别 follows the township's review and is signed by the township.
    signer = (
        _("%(township)s人民政府") % {"township": township.name}
        if step.level == workflows.TOWNSHIP and township is not None
        else _("%(village)s村民委员会") % {"village": village.name}
    )
    intro = str(step.notice_intro) % {
        "days": notice.days,
        "start": date_format(notice.start_date, "Y年n月j日"),
        "end": date_format(notice.end_date, "Y年n月j日"),
        "township": township.name if township is not None else "",
    }
    # The notice shows the heads' (masked) ID numbers of every household of the batch: who
    # printed which 公示 is written to the access log like the other sensitive views.
    access_log_record(
        user=request.user,
        action="print",
        target="public_notice",
        object_id=notice.pk,
        fields=["name", "id_number"],
        detail={
            "village": village.code,
            "step": notice.step,
            "start_date": notice.start_date.isoformat(),
            "households": [row["number"] for row in rows],
        },
        request=request,
    )
    return render(
        request,
        "households/notice_print.html",
        {
            "notice": notice,
            "village": village,
            "rows": rows,
            # One pattern per language: Chinese runs the names together, English cannot.
            "title": _("%(village)s%(step)s") % {"village": village.name, "step": step.label},
            "heading": _("%(township)s%(village)s%(procedure)s%(step)s")
            % {
                "township": village.parent.name if village.parent else "",
                "village": village.name,
                "procedure": definition.extra.get("notice_title")
                or (
                    _("贫困户识别")
                    if definition.kind == CaseWorkflow.Kind.IDENTIFICATION
                    else _("贫困户退出")
                ),
                "step": step.label,
            },
            "step_label": step.label,
            "definition": definition,
            "notice_title": definition.extra.get("notice_title", ""),
            "hides_id": hides_id,
            "hides_cause": hides_cause,
            "signer": signer,
            "intro": intro,
            "today": household_forms.today(),
            "back_url": back_url or reverse("households:workflow", args=[notice.workflow_id]),
        },
    )


@login_required
def todo_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """待办事项: what waits for me (overdue first), my cases waiting on others, and for the
    township and county every overdue case in their area, each with its time left."""
    _require_case_access(request)
    today = household_forms.today()
    show = request.GET.get("show", "")
    if show in workflows.CASE_LISTS:
        return _case_list_page(request, show, today)
    items = list(workflows.todo_list(request.user, today)[:500])
    waiting = list(workflows.waiting_list(request.user, today)[:500])
    overdue_cases = list(workflows.overdue_list(request.user, today)[:500])
    _attach_clocks([*items, *waiting, *overdue_cases], today)
    overdue_count = len([item for item in items if getattr(item, "overdue", False)])
    problems = 0
    if request.user.role == "village_cadre":
        problems = quality.problem_list(request.user).filter(state=DataProblem.State.OPEN).count()
    elif request.user.role == "township_reviewer":
        problems = (
            quality.problem_list(request.user).filter(state=DataProblem.State.EXPLAINED).count()
        )
    # The batches with a member waiting for my level: one action there does them all.
    batches = list(
        selectors.case_batch_list(user=request.user).filter(
            state="open", pk__in=workflows.todo_list(request.user, today).values("batch")
        )[:100]
    )
    return render(
        request,
        "households/todo.html",
        {
            "batches": batches,
            "items": items,
            "waiting": waiting,
            "overdue_cases": overdue_cases,
            "supervises": request.user.role in ("township_reviewer", "county_officer"),
            "today": today,
            "problems": problems,
            "overdue_count": overdue_count,
            "level": workflows.LEVEL_LABELS.get(workflows.user_level(request.user) or "", ""),
        },
    )


# The shown cases of one filtered list (its count is exact; the table stops here).
CASE_LIST_SHOWN = 500


def _case_list_page(request: AuthenticatedHttpRequest, show: str, today: Any) -> HttpResponse:
    """One filtered case list (`workflows.case_list`), the list a work-desk count links to."""
    village = request.GET.get("village", "")
    cases = workflows.case_list(request.user, show, today, village)
    shown = list(cases[:CASE_LIST_SHOWN])
    _attach_clocks(shown, today)
    titles = {
        "mine": _("待我办理"),
        "late": _("待我办理（已逾期）"),
        "waiting": _("我的案件（等待他人办理）"),
        "overdue": _("辖区逾期案件"),
    }
    village_name = ""
    if village and shown:
        village_name = shown[0].household.village.name
    return render(
        request,
        "households/todo_list.html",
        {
            "cases": shown,
            "listed_count": cases.count(),
            "title": titles[show],
            "village_name": village_name,
            "show_level": show in ("waiting", "overdue"),
            "level": workflows.LEVEL_LABELS.get(workflows.user_level(request.user) or "", ""),
        },
    )


def _attach_clocks(cases: list[CaseWorkflow], today: Any) -> None:
    """Display values for the case tables, attached to the instances they loop over: each
    case's step, its clock and its household's head (`selectors.name_heads`)."""
    clocks = workflows.case_clocks(cases, today)
    selectors.name_heads(item.household for item in cases)
    for item in cases:
        step = workflows.current_step(item)
        item.step_label = step.label  # type: ignore[attr-defined]  # for the template
        item.step_level = workflows.LEVEL_LABELS[step.level]  # type: ignore[attr-defined]  # for the template
        item.is_notice = step.type == workflows.NOTICE  # type: ignore[attr-defined]  # for the template
        clock = clocks.get(item.pk)
        item.clock = clock  # type: ignore[attr-defined]  # for the template
        item.overdue = bool(clock and clock.overdue)  # type: ignore[attr-defined]  # for the template
        item.notice_due = bool(  # type: ignore[attr-defined]  # for the template
            clock and clock.notice_end and today > clock.notice_end
        )
