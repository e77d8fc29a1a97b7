"""The admin site requires a verified second factor (as django-otp's OTPAdminSite does), except
under the demo exemption. A staff user reaches it only through the sign-in steps (verify or
enrol, `SignInStepsMiddleware`); a session that is still not verified is refused by the site.

A signed-in user without an administrator's role (a cadre, a reviewer, an auditor) is answered
403 in the site's layout, like any other page outside their role, not Django's admin sign-in
form: that form invites them to sign in again as somebody else."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from povertyapp.security import second_factor

View = TypeVar("View", bound=Callable[..., Any])


class AdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor.admin_allowed(request)

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        wrapped = super().admin_view(view, cacheable)

        def refuse_non_staff(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated and not request.user.is_staff:
                raise PermissionDenied
            return wrapped(request, *args, **kwargs)

        return cast(View, update_wrapper(refuse_non_staff, wrapped))
