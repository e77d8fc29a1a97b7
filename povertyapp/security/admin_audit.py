"""The audited base of every ModelAdmin: each add, change and delete in the admin site is a
configuration-change audit row (等保 安全审计)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from povertyapp import audit
from povertyapp.models import AccessLog
from povertyapp.privacy import mask_text


class AuditedAdmin(admin.ModelAdmin):
    """The base of every ModelAdmin of the project: each add, change and delete in the admin
    site is a configuration-change audit row (等保 安全审计), next to Django's own LogEntry,
    with who, from where, which object and what changed (Django's change message: the field
    names, never the values)."""

    def _audit_change(self, request: HttpRequest, obj: Any, operation: str, message: Any) -> None:
        opts = obj._meta
        audit.record(
            AccessLog.Action.CONFIGURATION,
            request=request,
            target=f"{opts.app_label}.{opts.model_name}",
            object_id=obj.pk if obj.pk is not None else "",
            reason=f"{operation} {mask_text(str(obj))}"[:255],
            detail={"operation": operation, "changes": message or []},
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        self._audit_change(request, obj, "add", message)
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        self._audit_change(request, obj, "change", message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        objects = list(queryset)
        entries = super().log_deletions(request, objects)  # type: ignore[arg-type]  # a list works
        for obj in objects:
            self._audit_change(request, obj, "delete", [])
        return entries
