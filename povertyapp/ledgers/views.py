"""Ledger pages: choose a ledger and its filters, download it (or watch its job); upload a
household workbook, watch the check, read the errors or the preview, confirm the import."""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.exports import default_income_year
from households.filters import HouseholdFilter
from households.imports import IMPORT_JOB, import_file_store, import_template
from povertyapp import files, jobs, roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.ledgers import all_ledgers
from povertyapp.ledgers.services import job_threshold, ledger_export_start
from povertyapp.models import Job, Region


def _require_ledger_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_use_ledgers(request.user):  # also the menu's rule (povertyapp/menu.py)
        raise PermissionDenied(_("您的角色不能使用台账。"))


def _download(path: str, filename: str) -> HttpResponseBase:
    """A workbook written for this request (not stored): streamed, then gone, with the headers
    of every download (`povertyapp.files.mark_download`)."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by the response
    os.unlink(path)  # the open handle keeps the data until the response is sent
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return files.mark_download(response, filename)


@login_required
def ledger_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_ledger_access(request)
    household_filter = HouseholdFilter(
        request.GET or None, user=request.user, queryset=HouseholdFilter._meta.model.objects.none()
    )
    regions = (
        roles.region_scope(request.user)
        .filter(level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE])
        .order_by("path")
    )
    return render(
        request,
        "ledgers/index.html",
        {
            "ledgers": all_ledgers() if roles.can_export(request.user) else [],
            "filter": household_filter,
            "regions": regions,
            "income_year": request.GET.get("income_year") or default_income_year(),
            "threshold": job_threshold(),
            "can_import": roles.can_write_households(request.user),
            "masked": not roles.can_view_sensitive(request.user),
        },
    )


@login_required
def ledger_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    key = request.GET.get("ledger", "")
    filters = {name: request.GET.get(name) for name in request.GET if name != "ledger"}
    try:
        start = ledger_export_start(user=request.user, key=key, filters=filters, request=request)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("ledgers:index")
    if start.job is not None:
        messages.info(
            request,
            _("台账超过%(rows)d行，已转为后台任务生成，完成后可在此页下载。")
            % {"rows": job_threshold()},
        )
        return redirect("job-detail", job_id=start.job.pk)
    assert start.path is not None and start.result is not None
    return _download(start.path, start.result.filename)


@login_required
def import_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能导入农户信息。"))
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要导入的文件。"))
            return redirect("ledgers:import")
        try:
            name = import_file_store(upload)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
            return redirect("ledgers:import")
        job = jobs.job_enqueue(
            user=request.user,
            kind=IMPORT_JOB,
            region=request.user.region,
            parameters={
                "file": name,
                "filename": (upload.name or "")[:128],
                "dry_run": request.POST.get("dry_run") == "on",
            },
        )
        return redirect("ledgers:import-job", job_id=job.pk)
    recent = Job.objects.filter(created_by=request.user, kind=IMPORT_JOB)[:10]
    return render(request, "ledgers/import.html", {"recent": recent})


def _import_job_for(request: AuthenticatedHttpRequest, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id, created_by=request.user, kind=IMPORT_JOB).first()
    if job is None:
        raise Http404(_("未找到该导入任务。"))
    return job


@login_required
def import_job(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    job = _import_job_for(request, job_id)
    template = (
        "ledgers/partials/import_status.html"
        if request.headers.get("HX-Request")
        else "ledgers/import_job.html"
    )
    return render(request, template, {"job": job, "result": job.result or {}})


@login_required
@require_POST
def import_confirm(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    """Run the import for real, on the file a clean dry run checked."""
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能导入农户信息。"))
    checked = _import_job_for(request, job_id)
    result = checked.result or {}
    if not (
        checked.status == Job.Status.SUCCEEDED
        and result.get("dry_run")
        and result.get("error_count") == 0
    ):
        messages.error(request, _("只有预检通过的文件才能确认导入。"))
        return redirect("ledgers:import-job", job_id=checked.pk)
    job = jobs.job_enqueue(
        user=request.user,
        kind=IMPORT_JOB,
        region=checked.region,
        parameters={**checked.parameters, "dry_run": False, "checked_by_job": checked.pk},
    )
    return redirect("ledgers:import-job", job_id=job.pk)


@login_required
def template_download(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能导入农户信息。"))
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="template-")
    os.close(handle)
    import_template(path, user=request.user)
    return _download(path, f"{_('农户档案导入模板')}_{timezone.localdate():%Y%m%d}.xlsx")
