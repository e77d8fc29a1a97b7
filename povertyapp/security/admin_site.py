"""The admin site requires a verified second factor (as django-otp's OTPAdminSite does), except
under the demo exemption; a signed-in staff user without one is sent to verify or enrol."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from povertyapp.security import second_factor


class AdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor.admin_allowed(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        user = request.user
        if (
            request.method == "GET"
            and user.is_authenticated
            and user.is_active
            and user.is_staff
            and not second_factor.admin_allowed(request)
        ):
            messages.warning(request, _("管理后台须先完成双因素认证。"))
            if second_factor.has_device(user):
                return redirect("account:second-factor-verify")
            return redirect("account:second-factor-enrol")
        return super().login(request, extra_context)
