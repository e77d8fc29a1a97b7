"""The household import's pages (导入农户, under the ledger pages' `/ledgers/import/` and their
`ledgers:` URL names): upload a household workbook, watch the check, read the errors or the
preview, confirm the import; and the blank template. The import itself is
`households/imports.py`."""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.imports import IMPORT_JOB, import_file_store, import_template
from povertyapp import files, jobs, roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Job


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
            messages.error(request, _("；").join(error.messages))
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
    return files.workbook_download(
        path, _("农户档案导入模板_%(day)s.xlsx") % {"day": f"{timezone.localdate():%Y%m%d}"}
    )
