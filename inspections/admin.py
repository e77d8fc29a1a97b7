from django.contrib import admin

from inspections.models import Campaign, InspectionEvent, RectificationItem
from povertyapp.admin import AuditedAdmin


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    """Read-only: campaigns change through the services (draw, findings, finish)."""

    list_display = ("name", "county", "kind", "year", "visit_date", "status", "seed")
    list_filter = ("kind", "status")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(RectificationItem)
class RectificationItemAdmin(AuditedAdmin):
    list_display = ("id", "region", "category", "responsible_unit", "deadline", "status")
    list_filter = ("status", "source")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(InspectionEvent)
class InspectionEventAdmin(AuditedAdmin):
    list_display = ("created_at", "kind", "actor", "campaign", "item", "from_status", "to_status")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
