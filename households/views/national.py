"""The exchange with the national system (issue 16): the exchange page (exports in the
national layouts, the code check, the bulk 录入国家系统 mark, the reconciliation upload), the
mark on one household, and the reconciliation report. The county office's
(`roles.can_exchange_with_national_system`); everything else answers 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from households import selectors
from households.national import codes, ledgers, marks, reconcile
from households.national.forms import (
    NationalBulkMarkForm,
    NationalExportForm,
    NationalMarkForm,
    NationalReconcileForm,
    RegionForm,
)
from households.national.layouts import LAYOUTS
from povertyapp import jobs, ratelimits, roles
from povertyapp.forms import add_service_errors
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.ledgers.services import ledger_export_start
from povertyapp.ledgers.views import export_started

CHECK_SHOWN = 200


def _require_exchange(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_exchange_with_national_system(request.user):
        raise PermissionDenied(_("只有县级扶贫部门可以与国家系统交换数据。"))


def _exports() -> list[tuple[str, str]]:
    """The exports the page offers: each national layout's ledger key and its button."""
    return [
        (ledgers.HOUSEHOLD_KEY, _("导出户基本信息")),
        (ledgers.MEMBER_KEY, _("导出家庭成员信息")),
        (ledgers.ROUND_LIST_KEY, _("导出四类名单")),
    ]


def _page(
    request: AuthenticatedHttpRequest,
    *,
    export_form: NationalExportForm | None = None,
    mark_form: NationalBulkMarkForm | None = None,
    reconcile_form: NationalReconcileForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    default_region = user.region.code if user.region is not None else ""
    check_form = RegionForm(request.GET or None, user=user, initial={"region": default_region})
    problems = None
    if request.GET.get("check") and check_form.is_valid():
        problems = ledgers.code_problems(
            user=user, filters={"region": check_form.cleaned_data["region"]}
        )
    version_tables = codes.tables()
    context: dict[str, Any] = {
        "version": codes.LAYOUT_VERSION,
        "check_form": check_form,
        "problems": None if problems is None else problems[:CHECK_SHOWN],
        "problem_count": None if problems is None else len(problems),
        "export_form": export_form
        or NationalExportForm(user=user, initial={"region": default_region}),
        "exports": _exports(),
        "mark_form": mark_form
        or NationalBulkMarkForm(
            user=user, initial={"region": default_region, "entered_on": timezone.localdate()}
        ),
        "reconcile_form": reconcile_form
        or NationalReconcileForm(user=user, initial={"region": default_region}),
        "layouts": list(LAYOUTS.values()),
        "tables": [
            (codes.TABLE_TITLES.get(key, key), sorted(table.items(), key=lambda item: item[1]))
            for key, table in version_tables.items()
        ],
    }
    return render(request, "households/national/index.html", context, status=status)


@login_required
@require_GET
def national_index_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_exchange(request)
    return _page(request)


@login_required
@require_POST
def national_export_view(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """An export in a national layout: the workbook (or its job), or this page again with the
    error beside the field it concerns (a missing 导出事由), the region kept."""
    _require_exchange(request)
    if ratelimits.exceeded(request, "export"):
        return ratelimits.refused(request, "export")
    form = NationalExportForm(request.POST, user=request.user)
    key = request.POST.get("ledger", "")
    if key not in dict(_exports()):
        form.add_error(None, _("请选择要导出的国家系统格式。"))
    elif form.is_valid():
        try:
            start = ledger_export_start(
                user=request.user,
                key=key,
                filters={"region": form.cleaned_data["region"]},
                request=request,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return export_started(request, start)
    return _page(request, export_form=form, status=400)


@login_required
@require_POST
def national_mark_bulk_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_exchange(request)
    form = NationalBulkMarkForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            result = marks.national_mark_bulk(
                user=request.user,
                filters={"region": form.cleaned_data["region"]},
                entered_on=form.cleaned_data["entered_on"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已将%(households)d户、%(persons)d人标记为已录入国家系统。")
                % {"households": result.households, "persons": result.persons},
            )
            return redirect("households:national")
    return _page(request, mark_form=form, status=400)


@login_required
@require_POST
def national_mark_view(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """Set (or, with action=clear, clear) one household's mark and its members'."""
    household = selectors.household_get_for_user(user=request.user, household_id=household_id)
    _require_exchange(request)
    if request.POST.get("action") == "clear":
        try:
            marks.national_unmark_household(user=request.user, household=household, request=request)
        except ValidationError as error:
            messages.error(request, _("；").join(error.messages))
        else:
            messages.success(request, _("已取消该户的录入国家系统标记。"))
        return redirect("households:detail", household_id=household.pk)
    form = NationalMarkForm(request.POST)
    if form.is_valid():
        try:
            result = marks.national_mark_household(
                user=request.user,
                household=household,
                entered_on=form.cleaned_data["entered_on"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已将该户及%(persons)d名成员标记为已录入国家系统。")
                % {"persons": result.persons},
            )
            return redirect("households:detail", household_id=household.pk)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for message in errors:
            messages.error(
                request,
                _("%(label)s：%(message)s") % {"label": label, "message": message}
                if label
                else str(message),
            )
    return redirect("households:detail", household_id=household.pk)


@login_required
@require_POST
def national_reconcile_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_exchange(request)
    form = NationalReconcileForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        upload = form.cleaned_data["workbook"]
        try:
            job = reconcile.national_reconcile_start(
                user=request.user,
                upload=upload,
                region=form.chosen_region(),
                filename=upload.name or "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("households:national-report", job_id=job.pk)
    return _page(request, reconcile_form=form, status=400)


@login_required
@require_GET
def national_report_view(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    _require_exchange(request)
    job = jobs.job_result_get_for_user(user=request.user, job_id=job_id)
    if job.kind != reconcile.RECONCILE_JOB:
        raise Http404(_("未找到该任务。"))
    return render(
        request,
        "households/national/report.html",
        {"job": job, "report": job.result if job.status == "succeeded" else None},
    )
