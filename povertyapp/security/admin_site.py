"""The admin site requires a verified second factor (as django-otp's OTPAdminSite does), except
under the demo exemption. A staff user reaches it only through the sign-in steps (verify or
enrol, `SignInStepsMiddleware`); a session that is still not verified is refused by the site."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from povertyapp.security import second_factor


class AdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor.admin_allowed(request)
