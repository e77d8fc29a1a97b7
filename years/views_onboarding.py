"""The onboarding checklist page (上线准备清单) of the county office."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region, User
from years import onboarding, rollover


@login_required
@require_GET
def onboarding_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    county = rollover.county_for_user(request.user)
    checklist = onboarding.checklist(county=county, user=request.user)
    return render(request, "years/onboarding.html", {"checklist": checklist})


def desk_visible(user: User) -> bool:
    """The desk panel: the county office of a county."""
    region = user.region
    return roles.can_configure(user) and region is not None and region.level == Region.Level.COUNTY


def desk_context(user: User) -> dict[str, Any]:
    """The panel's values: the lines still to do (none: the panel shows nothing)."""
    assert user.region is not None  # desk_visible admits only a county's office
    checklist = onboarding.checklist(county=user.region, user=user)
    return {"missing": checklist.missing, "year": checklist.year}
