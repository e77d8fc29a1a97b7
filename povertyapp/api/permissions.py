"""Who may use the case endpoints of the API at all."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from povertyapp import roles
from povertyapp.http import request_user


class CaseRolesOnly(permissions.BasePermission):
    """The case roles (village, helper, township, county, auditor) only: department accounts
    and the administrators get 403, as on the pages."""

    message = _("您的账号不查看农户信息。")

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.has_case_access(request_user(request))
