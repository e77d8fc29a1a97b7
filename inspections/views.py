"""Pages of the assessment side: campaigns and their draw, visit sheets, the phone finding page,
the workbook, the figures and exit board, correction tasks, and the rectification list.

Every object comes through the scoped selectors (404 outside scope); a role that may look but
not act gets 403; mutations are POST only and call one service each.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.models import Household
from households.selectors import name_heads
from inspections import figures as campaign_figures_module
from inspections import forms, imports, selectors, services
from inspections.models import (
    Campaign,
    CorrectionTask,
    Finding,
    InspectionEvent,
    RectificationItem,
)
from povertyapp import files, roles, uploads
from povertyapp.conflicts import ConflictError
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import AccessLog, Region, User
from povertyapp.privacy import access_log_record


def _errors(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [str(m) for messages_ in error.message_dict.values() for m in messages_]
    return [str(m) for m in error.messages]


def _flash(request: HttpRequest, error: ValidationError) -> None:
    for message in _errors(error):
        messages.error(request, message)


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不能使用考核评估功能。"))


# --- campaigns ----------------------------------------------------------------------------------


@login_required
def campaign_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    campaigns = selectors.campaign_list(user=request.user)
    # `?open=1`: the campaigns not yet finished (the work desk's count links here).
    only_open = request.GET.get("open") == "1"
    if only_open:
        campaigns = campaigns.exclude(status=Campaign.Status.FINISHED)
    campaigns = campaigns.annotate(sample_count=Count("households", distinct=True))
    can_create = request.user.role == User.Role.COUNTY_OFFICER
    return render(
        request,
        "inspections/campaign_list.html",
        {"campaigns": campaigns, "can_create": can_create, "only_open": only_open},
    )


def _user_county(user: User) -> Region | None:
    if user.region is None:
        return None
    for region in user.region.ancestors(include_self=True):
        if region.level == Region.Level.COUNTY:
            return region
    return None


@login_required
def campaign_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    county = _user_county(request.user)
    if request.user.role != User.Role.COUNTY_OFFICER or county is None:
        raise PermissionDenied(_("只有县扶贫办可以发起考核评估。"))
    form = forms.CampaignForm(request.POST or None, county=county)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.campaign_create(
                actor=request.user,
                county=county,
                name=data["name"],
                kind=data["kind"],
                year=data["year"],
                visit_date=data["visit_date"],
                end_date=data["end_date"],
                assessors=list(data["assessors"]),
                townships_to_draw=data["townships_to_draw"],
                villages_per_township=data["villages_per_township"],
                households_per_village=data["households_per_village"],
                inside_share=data["inside_share"],
                registered_kinds=data["registered_kinds"],
            )
        except ValidationError as error:
            _flash(request, error)
        else:
            messages.success(request, _("已创建考核评估。"))
            return redirect("inspections:campaign", campaign.pk)
    return render(request, "inspections/campaign_form.html", {"form": form, "county": county})


@login_required
def campaign_detail(request: AuthenticatedHttpRequest, campaign_id: int) -> HttpResponse:
    _require_case_access(request)
    campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    visible = selectors.sample_visible(request.user, campaign)
    villages = []
    if visible:
        villages = list(
            selectors.sample_villages(user=request.user, campaign=campaign).annotate(
                sampled=Count("households"),
                confirmed=Count(
                    "households",
                    filter=Q(households__finding__status=Finding.Status.CONFIRMED),
                ),
                drafts=Count(
                    "households", filter=Q(households__finding__status=Finding.Status.DRAFT)
                ),
            )
        )
    figures_ready = visible and campaign.status != Campaign.Status.PLANNED
    return render(
        request,
        "inspections/campaign_detail.html",
        {
            "campaign": campaign,
            "visible": visible,
            "villages": villages,
            "can_manage": selectors.can_manage_campaign(request.user, campaign),
            "can_record": selectors.can_record_findings(request.user, campaign),
            "is_assessor": selectors.is_assessor(request.user, campaign),
            "draw_form": forms.DrawForm(),
            "upload_form": forms.FindingsUploadForm(),
            "totals": services.frame_totals(campaign) if visible else {},
            "figures_ready": figures_ready,
            "finish_blocker": services.campaign_finish_blocker(campaign)
            if campaign.status == Campaign.Status.DRAWN
            else None,
            "events": campaign.events.select_related("actor")[:20] if visible else [],
        },
    )


@login_required
@require_POST
def campaign_draw(request: AuthenticatedHttpRequest, campaign_id: int) -> HttpResponse:
    _require_case_access(request)
    campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    if not selectors.can_manage_campaign(request.user, campaign):
        raise PermissionDenied(_("只有发起人或本县扶贫办可以抽样。"))
    form = forms.DrawForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, str(message))  # ErrorList yields the message strings
        return redirect("inspections:campaign", campaign.pk)
    try:
        campaign = services.campaign_draw(
            actor=request.user, campaign=campaign, seed=form.cleaned_data["seed"]
        )
    except ValidationError as error:
        _flash(request, error)
    else:
        messages.success(
            request, _("抽样完成，随机种子 %(seed)d 已记录。") % {"seed": campaign.seed}
        )
    return redirect("inspections:campaign", campaign.pk)


@login_required
@require_POST
def campaign_finish(request: AuthenticatedHttpRequest, campaign_id: int) -> HttpResponse:
    _require_case_access(request)
    campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    try:
        services.campaign_finish(actor=request.user, campaign=campaign)
    except ValidationError as error:
        _flash(request, error)
    else:
        messages.success(request, _("评估已完成，结果已锁定。"))
    return redirect("inspections:campaign", campaign.pk)


def _visible_campaign(request: AuthenticatedHttpRequest, campaign_id: int) -> Campaign:
    _require_case_access(request)
    campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    selectors.require_sample_visible(request.user, campaign)
    return campaign


@login_required
def visit_sheet(
    request: AuthenticatedHttpRequest, campaign_id: int, sample_village_id: int
) -> HttpResponse:
    """A printable A4 visit sheet for one village, with room for the answers."""
    campaign = _visible_campaign(request, campaign_id)
    sample_village = selectors.sample_village_get_for_user(
        user=request.user, campaign=campaign, sample_village_id=sample_village_id
    )
    samples = list(sample_village.households.select_related("finding").order_by("position"))
    access_log_record(
        user=request.user,
        action=AccessLog.Action.PRINT,
        target="inspections.visit_sheet",
        object_id=sample_village.pk,
        detail={"campaign": campaign.pk, "households": len(samples)},
        request=request,
    )
    return render(
        request,
        "inspections/visit_sheet.html",
        {
            "campaign": campaign,
            "sample_village": sample_village,
            "samples": samples,
            "checks": [label for _key, label in imports.CHECKS],
        },
    )


@login_required
def campaign_workbook(request: AuthenticatedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _visible_campaign(request, campaign_id)
    samples = list(selectors.sample_households(user=request.user, campaign=campaign))
    access_log_record(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        target="inspections.workbook",
        object_id=campaign.pk,
        detail={"households": len(samples)},
        request=request,
    )
    response = HttpResponse(
        imports.workbook_bytes(campaign, samples),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    files.mark_download(response, _("入户核查表-%(number)s.xlsx") % {"number": campaign.pk})
    return response


def _form_errors(request: HttpRequest, form: Any, missing: str) -> None:
    """An upload form's errors as messages: the field's reason, or `missing` for no file."""
    for field, errors in form.errors.as_data().items():
        for error in errors:
            if field != "__all__" and error.code == "required":
                messages.error(request, missing)
            else:
                messages.error(request, _("；").join(error.messages))


@login_required
@require_POST
def campaign_upload(request: AuthenticatedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _visible_campaign(request, campaign_id)
    if not selectors.can_record_findings(request.user, campaign):
        raise PermissionDenied(_("只有本次评估的评估人员可以在评估期间导入核查结果。"))
    form = forms.FindingsUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        # The field's reason (too large, not an xlsx, hostile) or "请选择要上传的入户核查表".
        _form_errors(request, form, _("请选择要上传的入户核查表。"))
        return redirect("inspections:campaign", campaign.pk)
    try:
        result = imports.findings_import(
            actor=request.user, campaign=campaign, file=form.cleaned_data["workbook"]
        )
    except ValidationError as error:
        messages.error(request, _("导入失败，未保存任何数据。请修改以下问题后重新上传："))
        _flash(request, uploads.capped_errors(_errors(error)))
    else:
        access_log_record(
            user=request.user,
            action=AccessLog.Action.IMPORT,
            target="inspections.workbook",
            object_id=campaign.pk,
            detail=result,
            request=request,
        )
        messages.success(
            request,
            _("已导入%(saved)d户，其中确认%(confirmed)d户。") % result,
        )
    return redirect("inspections:campaign", campaign.pk)


# --- findings (one household per page, for a phone) ---------------------------------------


@login_required
def finding_edit(
    request: AuthenticatedHttpRequest, campaign_id: int, sample_id: int
) -> HttpResponse:
    campaign = _visible_campaign(request, campaign_id)
    sample = selectors.sample_household_get_for_user(
        user=request.user, campaign=campaign, sample_id=sample_id
    )
    finding = Finding.objects.filter(sample=sample).first()
    can_record = selectors.can_record_findings(request.user, campaign) and not (
        finding and finding.status == Finding.Status.CONFIRMED
    )
    form = forms.FindingForm(request.POST or None, instance=finding)
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied(_("您不能修改该户的核查结果。"))
        if form.is_valid():
            confirm = "confirm" in request.POST
            data = {name: form.cleaned_data.get(name) for name in services.FINDING_FIELDS}
            try:
                expected = request.POST.get("version")
                services.finding_save(
                    actor=request.user,
                    sample=sample,
                    data=data,
                    confirm=confirm,
                    expected_version=int(expected) if expected else None,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict") and not isinstance(error, ConflictError):
                    for field, field_errors in error.error_dict.items():
                        for item in field_errors:
                            form.add_error(field if field in form.fields else None, item)
                else:
                    form.add_error(None, error)
            else:
                messages.success(request, _("已确认。") if confirm else _("已保存草稿。"))
                following = _neighbour(request.user, campaign, sample, forward=True)
                if confirm and following is not None:
                    return redirect("inspections:finding", campaign.pk, following.pk)
                return redirect("inspections:finding", campaign.pk, sample.pk)
    return render(
        request,
        "inspections/finding_form.html",
        {
            "campaign": campaign,
            "sample": sample,
            "finding": finding,
            "form": form,
            "can_record": can_record,
            "previous": _neighbour(request.user, campaign, sample, forward=False),
            "next": _neighbour(request.user, campaign, sample, forward=True),
            "household_url": sample.household_id,
        },
    )


def _neighbour(user: User, campaign: Campaign, sample: Any, *, forward: bool) -> Any:
    ordered = selectors.sample_households(user=user, campaign=campaign).filter(
        sample_village=sample.sample_village
    )
    if forward:
        return ordered.filter(position__gt=sample.position).order_by("position").first()
    return ordered.filter(position__lt=sample.position).order_by("-position").first()


@login_required
@require_POST
def sample_add(
    request: AuthenticatedHttpRequest, campaign_id: int, sample_village_id: int
) -> HttpResponse:
    campaign = _visible_campaign(request, campaign_id)
    sample_village = selectors.sample_village_get_for_user(
        user=request.user, campaign=campaign, sample_village_id=sample_village_id
    )
    form = forms.OnSiteHouseholdForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写户主姓名和家庭人口。"))
        return redirect("inspections:campaign", campaign.pk)
    try:
        sample = services.sample_household_add(
            actor=request.user,
            campaign=campaign,
            sample_village=sample_village,
            **form.cleaned_data,
        )
    except ValidationError as error:
        _flash(request, error)
        return redirect("inspections:campaign", campaign.pk)
    messages.success(request, _("已增补样本户。"))
    return redirect("inspections:finding", campaign.pk, sample.pk)


# --- figures and the exit board -------------------------------------------------------------------


@login_required
def campaign_figures(request: AuthenticatedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _visible_campaign(request, campaign_id)
    if campaign.status == Campaign.Status.PLANNED:
        raise PermissionDenied(_("尚未抽样。"))
    result = campaign_figures_module.campaign_figures(campaign)
    board = campaign_figures_module.exit_board(campaign, result["county"])
    visible = list(selectors.sample_villages(user=request.user, campaign=campaign))
    visible_villages = {sv.village_id for sv in visible}
    visible_townships = {sv.township_id for sv in visible}
    villages = [v for v in result["villages"] if v.region_id in visible_villages]
    full = request.user.role != User.Role.TOWNSHIP_REVIEWER or selectors.is_assessor(
        request.user, campaign
    )
    return render(
        request,
        "inspections/campaign_figures.html",
        {
            "campaign": campaign,
            "county": result["county"] if full else None,
            "townships": [
                t for t in result["townships"] if full or t.region_id in visible_townships
            ],
            "villages": villages,
            "board": board if full else None,
            "keys": [
                "wrongful_inclusion",
                "omission",
                "wrongful_exit",
                "approval",
                "comprehensive_incidence",
            ],
        },
    )


# --- correction tasks ---------------------------------------------------------------------------


@login_required
def task_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    tasks = selectors.correction_task_list(user=request.user)
    status = request.GET.get("status", CorrectionTask.Status.OPEN)
    if status in CorrectionTask.Status.values:
        tasks = tasks.filter(status=status)
    shown = list(tasks[:500])
    for task in shown:  # shown in place of the button while the service would refuse it
        task.not_corrected = services.task_not_corrected(task)  # type: ignore[attr-defined]  # for the template
    name_heads(task.household for task in shown)
    return render(
        request,
        "inspections/task_list.html",
        {
            "tasks": shown,
            "status": status,
            "statuses": CorrectionTask.Status.choices,
            "can_resolve": roles.can_write_households(request.user),
            "form": forms.ResolveTaskForm(),
        },
    )


@login_required
@require_POST
def task_resolve(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    _require_case_access(request)
    task = selectors.correction_task_get_for_user(
        user=request.user, task_id=task_id, for_write=True
    )
    form = forms.ResolveTaskForm(request.POST)
    form.is_valid()
    household = None
    number = (form.cleaned_data.get("household_number") or "").strip()
    if number:
        household = Household.objects.filter(number=number, village=task.village).first()
        if household is None:
            messages.error(request, _("本村没有户编号为%(number)s的农户。") % {"number": number})
            return redirect("inspections:tasks")
    try:
        services.correction_task_resolve(
            actor=request.user,
            task=task,
            note=form.cleaned_data.get("note") or "",
            household=household,
        )
    except ValidationError as error:
        _flash(request, error)
    else:
        messages.success(request, _("纠错任务已处理。"))
    return redirect("inspections:tasks")


# --- rectification (督查整改清单) -----------------------------------------------------------


@login_required
def rectification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    filters = {
        "status": request.GET.get("status")
        if request.GET.get("status") in RectificationItem.Status.values
        else "",
        "overdue": request.GET.get("overdue") == "1",
        "unit": request.GET.get("unit", "").strip(),
    }
    items = selectors.rectification_list(user=request.user, filters=filters).annotate(
        evidence_count=Count("evidence")
    )
    today = selectors.today()
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.is_overdue = selectors.is_overdue(item, today)  # type: ignore[attr-defined]  # for the template
    scoped = selectors.rectification_list(user=request.user)
    counts = dict(
        scoped.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return render(
        request,
        "inspections/rectification_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": RectificationItem.Status.choices,
            "counts": [
                (value, label, counts.get(value, 0))
                for value, label in RectificationItem.Status.choices
            ],
            "overdue_count": scoped.filter(selectors.overdue_q(today)).count(),
            "can_create": request.user.role == User.Role.COUNTY_OFFICER,
        },
    )


@login_required
def rectification_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    if request.user.role != User.Role.COUNTY_OFFICER:
        raise PermissionDenied(_("只有县扶贫办可以录入整改事项。"))
    regions = roles.region_scope(request.user).exclude(level=Region.Level.GROUP).order_by("path")
    form = forms.RectificationCreateForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.rectification_create(
                actor=request.user, region=data["region"], data=data, source=data["source"]
            )
        except ValidationError as error:
            _flash(request, error)
        else:
            messages.success(request, _("已录入整改事项。"))
            return redirect("inspections:rectification", item.pk)
    return render(request, "inspections/rectification_form.html", {"form": form})


NEXT_STATUSES = {
    RectificationItem.Status.PENDING: [
        RectificationItem.Status.IN_PROGRESS,
        RectificationItem.Status.DONE,
    ],
    RectificationItem.Status.IN_PROGRESS: [RectificationItem.Status.DONE],
    RectificationItem.Status.DONE: [
        RectificationItem.Status.CLOSED,
        RectificationItem.Status.IN_PROGRESS,
    ],
    RectificationItem.Status.CLOSED: [],
}


@login_required
def rectification_detail(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    _require_case_access(request)
    item = selectors.rectification_get_for_user(user=request.user, item_id=item_id)
    can_edit = selectors.can_edit_rectification(request.user) and (
        item.status != RectificationItem.Status.CLOSED
    )
    form = forms.RectificationForm(
        request.POST or None,
        instance=None,
        initial={f: getattr(item, f) for f in services.ITEM_FIELDS},
    )
    if request.user.role != User.Role.COUNTY_OFFICER:
        for name in form.fields:
            if name != "measures":
                form.fields[name].disabled = True
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("您不能修改该整改事项。"))
        if form.is_valid():
            try:
                services.rectification_update(
                    actor=request.user,
                    item=item,
                    data=form.cleaned_data,
                    expected_version=int(request.POST.get("version") or 0),
                )
            except ValidationError as error:
                _flash(request, error)
            else:
                messages.success(request, _("已保存。"))
                return redirect("inspections:rectification", item.pk)
    next_statuses = []
    if can_edit:
        for status in NEXT_STATUSES[RectificationItem.Status(item.status)]:
            county_only = status == RectificationItem.Status.CLOSED or (
                item.status == RectificationItem.Status.DONE
            )
            if not county_only or request.user.role == User.Role.COUNTY_OFFICER:
                next_statuses.append(status)
    return render(
        request,
        "inspections/rectification_detail.html",
        {
            "item": item,
            "form": form,
            "can_edit": can_edit,
            "next_statuses": next_statuses,
            "is_overdue": selectors.is_overdue(item),
            "evidence": item.evidence.select_related("uploaded_by"),
            "evidence_form": forms.EvidenceForm(),
            "events": InspectionEvent.objects.filter(item=item).select_related("actor"),
        },
    )


@login_required
@require_POST
def rectification_transition(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    _require_case_access(request)
    item = selectors.rectification_get_for_user(user=request.user, item_id=item_id, for_write=True)
    form = forms.TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_transition(
                actor=request.user,
                item=item,
                to_status=form.cleaned_data["to_status"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            _flash(request, error)
        else:
            messages.success(
                request,
                _("状态已变更为“%(status)s”。") % {"status": form.cleaned_data["to_status"]},
            )
    else:
        messages.error(request, _("请求无效，请刷新后重试。"))
    return redirect("inspections:rectification", item.pk)


@login_required
@require_POST
def rectification_evidence(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    _require_case_access(request)
    item = selectors.rectification_get_for_user(user=request.user, item_id=item_id, for_write=True)
    form = forms.EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form, _("请选择要上传的文件。"))
    else:
        try:
            services.rectification_evidence_add(
                actor=request.user, item=item, file=form.cleaned_data["file"]
            )
        except ValidationError as error:
            _flash(request, error)
        else:
            messages.success(request, _("已上传佐证材料。"))
    return redirect("inspections:rectification", item.pk)


@login_required
def rectification_ranking(request: AuthenticatedHttpRequest) -> HttpResponse:
    """跟踪问责排位: per quarter, responsible units and townships ranked by on-time closure."""
    _require_case_access(request)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
        quarter = int(request.GET.get("quarter", (today.month - 1) // 3 + 1))
    except ValueError:
        year, quarter = today.year, (today.month - 1) // 3 + 1
    if not 1 <= quarter <= 4 or not 2010 <= year <= 2100:
        year, quarter = today.year, (today.month - 1) // 3 + 1
    ranking = selectors.rectification_ranking(user=request.user, year=year, quarter=quarter)
    quarters = []
    cursor = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    for _index in range(8):
        quarters.append((cursor.year, (cursor.month - 1) // 3 + 1))
        cursor = (cursor - datetime.timedelta(days=1)).replace(day=1)
        cursor = cursor.replace(month=3 * ((cursor.month - 1) // 3) + 1)
    return render(
        request,
        "inspections/rectification_ranking.html",
        {"ranking": ranking, "year": year, "quarter": quarter, "quarters": quarters},
    )
