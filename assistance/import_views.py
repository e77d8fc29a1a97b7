"""The assistance workbooks' pages (导入帮扶措施, 导入结对帮扶, 导入项目库), under the ledger pages'
`/ledgers/import/assistance/` and their `ledgers:` URL names: upload a workbook (its import runs
as a job; the job page shows the result, or the problems and their workbook) and download the
blank template. The imports themselves are `assistance/imports/`."""

from __future__ import annotations

import os
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance.imports import IMPORTS
from assistance.imports.jobs import AssistanceImport, import_start
from povertyapp import files
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Job


def _allowed(request: AuthenticatedHttpRequest, key: str) -> AssistanceImport:
    item = IMPORTS[key]
    if not item.may_start(request.user):
        raise PermissionDenied(_("您的角色不能进行此项导入。"))
    return item


def _page(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    item = _allowed(request, key)
    url_name = f"ledgers:assistance-import-{key}"
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要导入的文件。"))
            return redirect(url_name)
        try:
            job = import_start(
                actor=request.user, item=item, upload=upload, filename=upload.name or ""
            )
        except ValidationError as error:
            messages.error(request, _("；").join(error.messages))
            return redirect(url_name)
        return redirect("job-detail", job_id=job.pk)
    return render(
        request,
        "ledgers/assistance_import.html",
        {
            "item": item,
            "template_url": f"ledgers:assistance-import-{key}-template",
            "recent": Job.objects.filter(created_by=request.user, kind=item.job_kind)[:10],
        },
    )


def _template(request: AuthenticatedHttpRequest, key: str) -> HttpResponseBase:
    item = _allowed(request, key)
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="template-")
    os.close(handle)
    item.template(path, user=request.user)
    return files.workbook_download(
        path,
        _("%(name)s_%(day)s.xlsx")
        % {"name": item.template_name, "day": f"{timezone.localdate():%Y%m%d}"},
    )


@login_required
def measures_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request, "measures")


@login_required
def measures_template(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    return _template(request, "measures")


@login_required
def pairings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request, "pairings")


@login_required
def pairings_template(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    return _template(request, "pairings")


@login_required
def projects_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request, "projects")


@login_required
def projects_template(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    return _template(request, "projects")
