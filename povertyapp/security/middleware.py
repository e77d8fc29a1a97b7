"""Between the password and the first page: the absolute session limit, then the steps the
user owes (second factor, an expired password), read from the session: no query per request."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from povertyapp.security import sessions, steps

STEP_URLS = {
    steps.SECOND_FACTOR_VERIFY: "account:second-factor-verify",
    steps.SECOND_FACTOR_ENROL: "account:second-factor-enrol",
    steps.PASSWORD_CHANGE: "password_change",
}
# Open while a step is pending: signing out and the language switch.
ALWAYS_OPEN = ("logout", "set_language")


class SignInStepsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if AUTH_SESSION_KEY not in session or request.path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        if sessions.expired(request):
            logout(request)
            message = _("登录已超过%(hours)d小时，为安全起见请重新登录。") % {
                "hours": settings.SESSION_ABSOLUTE_TIMEOUT // 3600
            }
            if api:
                return JsonResponse({"detail": message}, status=401)
            messages.info(request, message)
            return HttpResponseRedirect(
                f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}"
            )
        step = steps.first(request)
        if step is None:
            return self.get_response(request)
        target = reverse(STEP_URLS[step])
        open_paths = {target, *(reverse(name) for name in ALWAYS_OPEN)}
        if step == steps.SECOND_FACTOR_ENROL:
            open_paths.add(reverse("account:second-factor-enrol"))
        if request.path in open_paths:
            return self.get_response(request)
        if api:
            return JsonResponse(
                {"detail": _("请先在网页上完成登录验证（双因素认证或修改过期密码）。")},
                status=403,
            )
        if request.method == "GET" and request.path != reverse("home"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
