"""Audit rows for the events no view writes itself: sign-in, its failure, lockout, logout
(Django's and django-axes' signals), and every refused request (`RefusedRequestAuditMiddleware`).

The receivers are connected in `PovertyappConfig.ready`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from povertyapp import audit
from povertyapp.privacy import mask, mask_text

logger = logging.getLogger(__name__)

# A username tried at the sign-in that looks like an ID or account number is masked whole.
_NUMBER_LIKE = re.compile(r"^\s*\d{6,}[\dXx]?\s*$")


def masked_username(username: str | None) -> str:
    text = (username or "").strip()[:150]
    if _NUMBER_LIKE.match(text):
        return mask(text)
    return mask_text(text)


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit.record("login", request=request, user=user, target="session", reason="登录成功")


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:  # a session that had expired: nobody to name
        return
    audit.record("logout", request=request, user=user, target="session", reason="退出登录")


def _known_user(username: str) -> Any:
    from povertyapp.models import User

    return User.objects.filter(username=username).first() if username else None


def _channel(request: HttpRequest | None) -> str:
    """Where the password was tried: the sign-in page or the API's token endpoint."""
    return "api" if request is not None and request.path.startswith("/api/") else "web"


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")
    user = _known_user(username)
    audit.record(
        "login_failed",
        request=request,
        user=user,
        username=masked_username(username),
        target="session",
        outcome="failed",
        reason="用户名或密码错误" if user is None or user.is_active else "账号已停用",
        detail={"channel": _channel(request)},
    )


def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    audit.record(
        "lockout",
        request=request,
        user=_known_user(username or ""),
        username=masked_username(username),
        target="session",
        outcome="refused",
        reason=f"连续登录失败{settings.AXES_FAILURE_LIMIT}次，账号已锁定",
    )


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth import signals

    signals.user_logged_in.connect(on_logged_in, dispatch_uid="audit-login")
    signals.user_logged_out.connect(on_logged_out, dispatch_uid="audit-logout")
    signals.user_login_failed.connect(on_login_failed, dispatch_uid="audit-login-failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit-lockout")


# --- refused requests ------------------------------------------------------------------------

# 404s of these are browser and crawler noise, not attempts on data.
_NOISE_PREFIXES = ("/favicon.ico", "/robots.txt", "/apple-touch-icon", "/.well-known/")
REFUSED_REASONS = {
    401: "未登录或令牌无效",
    403: "无权访问",
    404: "无权访问或不存在",
}


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def refused_worth_auditing(request: HttpRequest, status: int) -> bool:
    if status not in REFUSED_REASONS:
        return False
    path = request.path
    static_url = "/" + str(settings.STATIC_URL or "static/").lstrip("/")
    if path.startswith(static_url) or path.startswith(_NOISE_PREFIXES):
        return False
    user = getattr(request, "user", None)
    authenticated = bool(user is not None and user.is_authenticated)
    if status == 404:
        return authenticated  # an anonymous 404 says nothing about anyone's data
    return authenticated or _is_api(path) or status == 403


class RefusedRequestAuditMiddleware:
    """Write a REFUSED audit row for every refused request: any 401/403, and any 404 of a
    signed-in user (an object outside the user's scope answers 404, exactly like one that does
    not exist, so both are recorded as "无权访问或不存在"). Pages and the API alike: DRF answers
    through the same middleware chain. Runs after the view's transaction has ended, and a
    failure to write is logged, never turned into an error of a request already refused."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = audit.current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            audit.current_request.reset(token)
        status = response.status_code
        if refused_worth_auditing(request, status):
            path = mask_text(request.path)
            try:
                audit.record(
                    "refused",
                    request=request,
                    target=path[:64],
                    outcome="refused",
                    reason=REFUSED_REASONS[status],
                    detail={"method": request.method, "path": path[:500], "status": status},
                )
            except Exception:  # the request is refused anyway; the failure is logged (masked)
                logger.exception(
                    "could not write the refused-request audit row: %s %s %s",
                    request.method,
                    path,
                    status,
                )
        return response
