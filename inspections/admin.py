"""Admin: campaigns, rectification items and their events, read-only and scoped to the county
office's region (they change through the services: draw, findings, finish, transitions)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from inspections.models import Campaign, InspectionEvent, RectificationItem
from povertyapp.http import request_user
from povertyapp.security.admin_access import Area, RoleAdmin


class InspectionReadOnlyAdmin(RoleAdmin):
    area = Area.CASE
    region_lookups: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        region = request_user(request).region
        if region is None:
            return queryset.none()
        scope = Q()
        for lookup in self.region_lookups:
            scope |= Q(**{f"{lookup}__path__startswith": region.path})
        return queryset.filter(scope)


@admin.register(Campaign)
class CampaignAdmin(InspectionReadOnlyAdmin):
    region_lookups = ("county",)
    list_display = ("name", "county", "kind", "year", "visit_date", "status", "seed")
    list_filter = ("kind", "status")


@admin.register(RectificationItem)
class RectificationItemAdmin(InspectionReadOnlyAdmin):
    region_lookups = ("region",)
    list_display = ("id", "region", "category", "responsible_unit", "deadline", "status")
    list_filter = ("status", "source")


@admin.register(InspectionEvent)
class InspectionEventAdmin(InspectionReadOnlyAdmin):
    region_lookups = ("campaign__county", "item__region")
    list_display = ("created_at", "kind", "actor", "campaign", "item", "from_status", "to_status")
    list_filter = ("kind",)
