"""The rollover page (年度切换): the plan of each step, the choices for the lines, one confirm."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from povertyapp.forms import add_service_errors
from povertyapp.http import AuthenticatedHttpRequest
from years import rollover
from years.forms_rollover import RolloverForm, year_bounds


def _year(request: AuthenticatedHttpRequest) -> int:
    """The year shown: `?year=` within the allowed years, else this year."""
    first, last = year_bounds()
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return first + 1
    return year if first <= year <= last else first + 1


@login_required
def rollover_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    county = rollover.county_for_user(request.user)
    year = _year(request)
    form = RolloverForm(request.POST if request.method == "POST" else None, initial={"year": year})
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        try:
            result = rollover.rollover_perform(
                actor=request.user, county=county, year=year, **form.decisions()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if result.changed:
                messages.success(
                    request,
                    _("%(year)s年度切换已完成：%(done)s")
                    % {"year": year, "done": " ".join(result.done)},
                )
            else:
                messages.info(
                    request,
                    _("%(year)s年度切换的各项均已完成，本次未作任何修改。") % {"year": year},
                )
            return redirect(f"{reverse('years:rollover')}?year={year}")
    elif request.method == "POST" and "year" in getattr(form, "cleaned_data", {}):
        year = form.cleaned_data["year"]
    plan = rollover.rollover_plan(county=county, year=year)
    first, last = year_bounds()
    return render(
        request,
        "years/rollover.html",
        {
            "county": county,
            "plan": plan,
            "form": form,
            "years": range(first, last + 1),
            "year": year,
        },
        status=400 if request.method == "POST" else 200,
    )
