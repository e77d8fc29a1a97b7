"""The fan-out above the county started from a page (issue 16): a city's or province's office
starts every county's rates job and the roll-up after them from its dashboard
(`rollup_start_view`, POST), then watches the counties' jobs and the roll-up
(`rollup_run_view`, polled by htmx until the roll-up finishes)."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from povertyapp import forms as house_forms
from povertyapp import jobs
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region
from rounds import dashboards, rollup


class RollupStartForm(house_forms.Form):
    """The year whose counties' figures are computed and rolled up."""

    year = django_forms.TypedChoiceField(label=gettext_lazy("年度"), coerce=int)

    def __init__(
        self, *args: Any, region: Region, years: list[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if years is None:
            years = rollup.rollup_years(region)
        field = self.fields["year"]
        assert isinstance(field, django_forms.TypedChoiceField)
        field.choices = [(year, str(year)) for year in years]
        if years:
            self.fields["year"].initial = years[0]


@login_required
@require_POST
def rollup_start_view(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Start the fan-out of the city or province `code` (its office only)."""
    region = dashboards.region_get_for_figures(user=request.user, code=code)
    if not rollup.can_start_rollup(request.user, region):
        raise PermissionDenied(_("只有本市、本省的乡村振兴部门可以发起本区域的汇总计算。"))
    form = RollupStartForm(request.POST, region=region)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("dashboards:region", code=region.code)
    try:
        job = rollup.province_rates_start(
            user=request.user, region=region, year=form.cleaned_data["year"]
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("dashboards:region", code=region.code)
    return redirect("rounds:rollup-run", job_id=job.pk)


@login_required
def rollup_run_view(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    """The progress of a fan-out the user started: each county's rates job and the roll-up."""
    job = jobs.job_get_for_user(user=request.user, job_id=job_id)
    if job.kind != rollup.KIND:
        raise Http404(_("未找到该任务。"))
    template = (
        "dashboards/partials/rollup_run.html"
        if request.headers.get("HX-Request")
        else "dashboards/rollup_run.html"
    )
    return render(request, template, {"run": rollup.rollup_run(job), "region": job.region})
