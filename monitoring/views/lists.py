"""Pages of the departments' lists and of exclusion scrutiny: thin views — access → form →
service → redirect. Lists are seen by the department that pushed them and the county office
(`monitoring.lists.lists_for`); scrutiny tasks and cadre relations by the case roles over their
villages (`monitoring.scrutiny`). ID numbers are masked in every list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from monitoring import identities, layouts, lists, scrutiny
from monitoring.forms_lists import (
    CadreRelationForm,
    ListUploadForm,
    RemovalProposalForm,
    ScrutinyCheckForm,
    ScrutinyReviewForm,
)
from monitoring.models import DepartmentList, ScrutinyTask
from povertyapp import files, roles, uploads
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.privacy import mask
from rounds import services as rounds

PAGE = 50


def _require_pusher(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_push_department_lists(request.user):
        raise PermissionDenied(_("只有行业部门账号和县扶贫办可以查看和上传部门名单。"))


def _require_scrutiny_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.sees_exclusion_scrutiny(request.user):
        raise PermissionDenied(_("您的账号不查看剔除核查任务。"))


def _errors_to_form(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item.messages[0])
    else:
        for message in uploads.capped_errors(error.messages).messages:
            form.add_error(None, message)


# --- the lists -------------------------------------------------------------------------------


@login_required
def list_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_pusher(request)
    page = Paginator(lists.lists_for(request.user), PAGE).get_page(request.GET.get("page"))
    for item in page:  # a list recorded before the layouts is named by its stored text
        item.layout_label = layouts.layout_label(item.layout)  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "monitoring/lists/index.html",
        {"page": page, "can_upload": bool(layouts.layouts_for(request.user))},
    )


@login_required
def list_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_pusher(request)
    available = layouts.layouts_for(request.user)
    form = ListUploadForm(request.POST or None, request.FILES or None, layouts=available)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["workbook"]
        try:
            pushed = lists.list_upload(
                actor=request.user,
                layout_key=form.cleaned_data["layout"],
                period=form.cleaned_data["period"],
                file=upload,
                filename=upload.name or "",
            )
        except ValidationError as error:
            form.add_error(None, _("名单未导入，文件中的记录均未保存。请修改以下问题后重新上传："))
            _errors_to_form(form, error)
        else:
            if pushed.job_id is not None:
                messages.info(
                    request,
                    _("名单超过%(rows)d行，已转为后台任务导入，完成后在名单页查看结果。")
                    % {"rows": uploads.inline_max_rows()},
                )
                return redirect("job-detail", job_id=pushed.job_id)
            messages.success(
                request,
                _("名单已导入：%(total)d行，匹配%(matched)d行。")
                % {"total": pushed.rows_total, "matched": pushed.rows_matched},
            )
            return redirect("monitoring:list", list_id=pushed.pk)
    return render(
        request,
        "monitoring/lists/upload.html",
        {"form": form, "layouts": available},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def list_template(request: AuthenticatedHttpRequest, layout_key: str) -> HttpResponse:
    _require_pusher(request)
    layout = layouts.get(layout_key)
    if layout is None or not layouts.may_upload(request.user, layout):
        raise Http404(_("未找到该名单类型。"))
    response = HttpResponse(
        lists.template_workbook(layout),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    files.mark_download(response, _("%(layout)s_模板.xlsx") % {"layout": layout.label})
    return response


@login_required
def list_detail(request: AuthenticatedHttpRequest, list_id: int) -> HttpResponse:
    _require_pusher(request)
    pushed = lists.list_get_for_user(user=request.user, list_id=list_id)
    layout = layouts.get(pushed.layout)
    rows: list[dict[str, Any]] = []
    page: Any
    if pushed.purpose == DepartmentList.Purpose.RISK:
        page = Paginator(lists.list_clues(pushed), PAGE).get_page(request.GET.get("page"))
        for clue in page:
            rows.append(
                {
                    "row": clue.source_row,
                    "name": clue.name,
                    "id_number": mask(clue.id_number),
                    "where": clue.region.name,
                    "amount": clue.amount,
                    "outcome": clue.get_state_display(),
                    "reason": clue.result_reason,
                }
            )
    elif pushed.purpose == DepartmentList.Purpose.IDENTITY:
        page = Paginator(identities.list_rows(pushed), PAGE).get_page(request.GET.get("page"))
        for line in page:
            identity = line.identity
            rows.append(
                {
                    "row": line.row,
                    "name": identity.name,
                    "id_number": mask(identity.id_number),
                    "where": identity.household.village.name
                    if identity.household is not None
                    else _("未在本系统登记"),
                    "amount": None,
                    "outcome": line.get_outcome_display(),
                    "reason": "{kind} {start}—{end}".format(
                        kind=identity.get_kind_display(),
                        start=identity.start.isoformat(),
                        end=identity.end.isoformat() if identity.end else "",
                    ),
                }
            )
    else:
        page = Paginator(lists.list_tasks(pushed), PAGE).get_page(request.GET.get("page"))
        task: ScrutinyTask
        for task in page:
            rows.append(
                {
                    "row": task.source_row,
                    "name": task.evidence.get("name", ""),
                    "id_number": mask(task.member.id_number),
                    "where": task.village.name,
                    "amount": None,
                    "outcome": task.get_state_display(),
                    "reason": "",
                }
            )
    return render(
        request,
        "monitoring/lists/detail.html",
        {"list": pushed, "layout": layout, "page": page, "rows": rows},
    )


# --- exclusion scrutiny ------------------------------------------------------------------------


@login_required
def scrutiny_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_scrutiny_access(request)
    tasks = scrutiny.task_list(user=request.user)
    state = request.GET.get("state", "")
    if state in ScrutinyTask.State.values:
        tasks = tasks.filter(state=state)
    page = Paginator(tasks, PAGE).get_page(request.GET.get("page"))
    overview = []
    region = request.user.region
    if region is not None and region.level in ("county", "township"):
        overview = scrutiny.counts_by_region(user=request.user, region=region)
    return render(
        request,
        "monitoring/scrutiny/index.html",
        {
            "page": page,
            "rows": [(task, mask(task.member.id_number)) for task in page],
            "states": ScrutinyTask.State.choices,
            "state": state,
            "overview": overview,
        },
    )


def _task_context(request: AuthenticatedHttpRequest, task: ScrutinyTask) -> dict[str, Any]:
    user = request.user
    in_village = roles.can_write_households(user) and roles.region_in_scope(user, task.village)
    context: dict[str, Any] = {"task": task, "id_number": mask(task.member.id_number)}
    if in_village and task.state == ScrutinyTask.State.OPEN:
        context["check_form"] = ScrutinyCheckForm(initial={"version": task.version})
    if roles.can_review(user) and task.state == ScrutinyTask.State.TOWNSHIP_REVIEW:
        context["review_form"] = ScrutinyReviewForm(initial={"version": task.version})
    if in_village and task.state == ScrutinyTask.State.CONFIRMED and not task.round_change_id:
        round = rounds.round_open_for(task.village)
        if round is not None:
            context["proposal_form"] = RemovalProposalForm(
                grounds=rounds.removal_grounds(round), initial={"version": task.version}
            )
    return context


@login_required
def scrutiny_task(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    _require_scrutiny_access(request)
    task = scrutiny.task_get_for_user(user=request.user, task_id=task_id)
    context = _task_context(request, task)
    if request.method != "POST":
        return render(request, "monitoring/scrutiny/task.html", context)
    action = request.POST.get("action", "")
    form: Any
    if action == "check":
        form = ScrutinyCheckForm(request.POST)
        context["check_form"] = form
    elif action == "review":
        form = ScrutinyReviewForm(request.POST)
        context["review_form"] = form
    elif action == "propose":
        round = rounds.round_open_for(task.village)
        form = RemovalProposalForm(
            request.POST, grounds=rounds.removal_grounds(round) if round else []
        )
        context["proposal_form"] = form
    else:
        raise PermissionDenied(_("无效的操作。"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "check":
                scrutiny.task_check(
                    actor=request.user,
                    task=task,
                    result=data["result"],
                    finding=data["finding"],
                    version=data["version"],
                )
            elif action == "review":
                scrutiny.task_review(
                    actor=request.user,
                    task=task,
                    agree=data["agree"] == "1",
                    opinion=data["opinion"],
                    version=data["version"],
                )
            else:
                scrutiny.task_propose_removal(
                    actor=request.user, task=task, ground=data["ground"], version=data["version"]
                )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("monitoring:scrutiny-task", task_id=task.pk)
    return render(request, "monitoring/scrutiny/task.html", context, status=400)


@login_required
def cadre_relations(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_scrutiny_access(request)
    can_write = roles.can_write_households(request.user)
    form = CadreRelationForm(request.POST or None)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("您的角色只能查看，不能登记干部亲属关系。"))
        if form.is_valid():
            try:
                scrutiny.relation_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("干部亲属关系已登记。"))
                return redirect("monitoring:cadre-relations")
    page = Paginator(scrutiny.relations_for(user=request.user), PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "monitoring/scrutiny/relations.html",
        {
            "form": form if can_write else None,
            "page": page,
            "rows": [(item, mask(item.member.id_number)) for item in page],
        },
        status=400 if request.method == "POST" else 200,
    )
