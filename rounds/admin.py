from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from povertyapp import roles
from povertyapp.admin import CaseReadOnlyAdmin
from povertyapp.http import request_user
from rounds.models import AdjustmentRound


@admin.register(AdjustmentRound)
class AdjustmentRoundAdmin(CaseReadOnlyAdmin):
    list_display = ["name", "county", "year", "status", "opened_at", "closed_at"]

    def get_queryset(self, request: HttpRequest):
        # A round belongs to a county: the officer's own county, or counties inside the scope.
        user_region = request_user(request).region
        own = [node.pk for node in user_region.ancestors(include_self=True)] if user_region else []
        return AdjustmentRound.objects.filter(
            Q(county__in=roles.region_scope(request_user(request))) | Q(county__in=own)
        ).select_related("county")
