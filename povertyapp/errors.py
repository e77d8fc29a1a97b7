"""The error pages (400, 403, 404, 500 and the CSRF failure), in the site's layout.

Each page says what happened in the user's language and offers a way back (the work desk, the
previous page). A 403 shows the reason its view gave: every `PermissionDenied` raised in this
project carries a translated message for the user (`tests/povertyapp/test_error_pages.py` reads
every raise). A 500 shows an error id, logged with the traceback so that an operator can find it.

The 400 and 500 pages render without the request's context (no session, user or menu), so they
need neither the database nor the user: both may be what failed.
"""

from __future__ import annotations

import logging
import sys
import uuid

from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger("povertyapp.errors")

TEMPLATE = "errors/error.html"


def _back_url(request: HttpRequest) -> str:
    """The previous page when it is one of ours, else the work desk."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        allowed = {request.get_host()}
    except Exception:  # a disallowed Host header is what a 400 may be about
        allowed = set()
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts=allowed, require_https=request.is_secure()
    ):
        return referer
    return reverse("home")


def _reason(exception: Exception | None) -> str:
    """The message a view gave its PermissionDenied (the project's are all for the user)."""
    if isinstance(exception, PermissionDenied) and exception.args:
        message = exception.args[0]
        if isinstance(message, str | Promise):
            return str(message)
    return ""


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {
        "status": 403,
        "title": _("没有权限"),
        "explanation": _("您的账号没有权限打开这个页面或进行这项操作。"),
        "reason": _reason(exception),
        "back_url": _back_url(request),
    }
    return HttpResponseForbidden(render(request, TEMPLATE, context).content)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's reason is for developers; the user is told what to do."""
    context = {
        "status": 403,
        "title": _("页面已过期"),
        "explanation": _("表单已过期或来源无法验证，您填写的内容没有保存。"),
        "reason": _("请返回上一页，刷新后重新提交。"),
        "back_url": _back_url(request),
    }
    return HttpResponseForbidden(render(request, TEMPLATE, context).content)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A record outside the user's scope answers 404 like a missing one, and says nothing more.
    context = {
        "status": 404,
        "title": _("页面不存在"),
        "explanation": _("您要找的页面或记录不存在，或不在您的管辖范围内。"),
        "back_url": _back_url(request),
    }
    return HttpResponseNotFound(render(request, TEMPLATE, context).content)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {
        "status": 400,
        "title": _("请求有误"),
        "explanation": _("系统无法处理这个请求。请返回上一页重试。"),
        "back_url": reverse("home"),
    }
    return HttpResponseBadRequest(render_to_string(TEMPLATE, context))


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: logs the traceback under a short error id and shows the id to the user."""
    error_id = uuid.uuid4().hex[:12]
    logger.error(
        "Server error %s: %s %s",
        error_id,
        request.method,
        request.path,
        exc_info=sys.exc_info(),
        extra={"error_id": error_id},
    )
    context = {
        "status": 500,
        "title": _("系统出错了"),
        "explanation": _("系统处理您的请求时出错，错误已记录。请稍后重试。"),
        "error_id": error_id,
        "back_url": reverse("home"),
    }
    response = HttpResponseServerError(render_to_string(TEMPLATE, context))
    response["X-Error-Id"] = error_id
    return response
