"""`{% rollup_start region %}`: the start button of the fan-out on a city's or province's
dashboard, for its office only. A tag rather than a context variable: the dashboard's body is
cached per figures, and the button (per user) sits outside that cache."""

from __future__ import annotations

from typing import Any

from django import template

from povertyapp.models import Region
from rounds import rollup
from rounds.rollup_views import RollupStartForm

register = template.Library()


@register.inclusion_tag("dashboards/partials/rollup_start.html", takes_context=True)
def rollup_start(context: template.Context, region: Region) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not rollup.can_start_rollup(user, region):
        return {"show": False}
    # The dashboard gives the years, cached with its state (rounds/dashboard_views.py).
    years = context.get("rollup_years")
    return {"show": True, "region": region, "form": RollupStartForm(region=region, years=years)}
