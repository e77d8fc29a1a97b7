"""The onboarding import pages of the county office (issue 16): the region tree, the village-year
data and the resident teams, each an upload that becomes a job (`households.onboarding`), and
each import's blank template. Linked from the years app's onboarding checklist by their URL
names: `households:import_regions`, `households:import_village_years`,
`households:import_resident_teams`."""

from __future__ import annotations

import os
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from households.forms import OnboardingImportForm
from households.onboarding import KINDS, ONBOARDING_JOB, onboarding_template
from povertyapp import files, jobs, roles, uploads
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Job


def _require_configure(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_configure(request.user):
        raise PermissionDenied(_("只有县扶贫办可以导入行政区划、村年度信息和驻村工作队。"))


def _import_page(request: AuthenticatedHttpRequest, what: str) -> HttpResponse:
    _require_configure(request)
    with_year = what == "village_years"
    form = OnboardingImportForm(
        request.POST or None,
        request.FILES or None,
        with_year=with_year,
        initial={"dry_run": True},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = uploads.upload_keep(upload)
        job = jobs.job_enqueue(
            user=request.user,
            kind=ONBOARDING_JOB,
            region=request.user.region,
            parameters={
                "what": what,
                "file": name,
                "filename": (upload.name or "")[:128],
                "dry_run": bool(form.cleaned_data["dry_run"]),
                "year": form.cleaned_data.get("year"),
            },
        )
        return redirect("job-detail", job_id=job.pk)
    recent = [
        job
        for job in Job.objects.filter(created_by=request.user, kind=ONBOARDING_JOB)[:50]
        if job.parameters.get("what") == what
    ][:10]
    return render(
        request,
        "households/onboarding_import.html",
        {"form": form, "what": what, "label": KINDS[what][0], "recent": recent},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def import_regions_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _import_page(request, "regions")


@login_required
def import_village_years_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _import_page(request, "village_years")


@login_required
def import_resident_teams_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _import_page(request, "resident_teams")


@login_required
def onboarding_template_view(request: AuthenticatedHttpRequest, what: str) -> HttpResponseBase:
    _require_configure(request)
    if what not in KINDS:
        raise Http404(_("没有这种导入模板。"))
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="template-")
    os.close(handle)
    onboarding_template(path, what=what, user=request.user)
    return files.workbook_download(
        path,
        _("%(what)s导入模板_%(day)s.xlsx")
        % {"what": KINDS[what][0], "day": f"{timezone.localdate():%Y%m%d}"},
    )
