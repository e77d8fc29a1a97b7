"""Per-user rate limits of searches, exports and the API (数据保密性: no bulk harvesting).

Three budgets, each `N/s|m|h|d` per user, configurable in the environment (settings.py):
`RATE_LIMIT_SEARCH` (a page or API request that runs a free-text search), `RATE_LIMIT_EXPORT`
(a ledger export) and `RATE_LIMIT_API` (every API request). Pages count with django-ratelimit
(`is_ratelimited`, a fixed window counted with the cache's atomic increment); the API with DRF's
`UserRateThrottle` (povertyapp/api/throttles.py). Both count in the default cache, which
production must share between the gunicorn workers (Redis, `CACHE_URL`; settings.py refuses a
process-local cache in production), or each worker would allow its own budget.

A refused request answers 429 with a Chinese message and writes an audit row
(`AccessLog.Action.RATE_LIMITED`, outcome refused, the budget in the reason).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.core import is_ratelimited

from povertyapp import audit

SCOPES = ("search", "export", "api")
RATE_FORMAT = re.compile(r"[1-9]\d*/[smhd]")
MESSAGE = gettext_lazy("操作过于频繁，请稍后再试。")
SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


def rate(scope: str) -> str:
    """The scope's budget as set, e.g. `60/m`."""
    return str(getattr(settings, f"RATE_LIMIT_{scope.upper()}"))


def window_seconds(scope: str) -> int:
    return SECONDS[rate(scope).rsplit("/", 1)[1]]


def exceeded(request: HttpRequest, scope: str) -> bool:
    """Count this request against the user's budget; True when it is over (then refuse it)."""
    return is_ratelimited(
        request, group=f"povertyapp.{scope}", key="user_or_ip", rate=rate(scope), increment=True
    )


def record_refusal(request: Any, scope: str) -> None:
    from povertyapp.models import AccessLog

    audit.record(
        AccessLog.Action.RATE_LIMITED,
        request=request,
        target=scope,
        outcome=AccessLog.Outcome.REFUSED,
        reason=f"RATE_LIMIT_{scope.upper()} {rate(scope)}",
        detail={"path": request.path, "method": request.method},
    )


def refused(request: HttpRequest, scope: str) -> HttpResponse:
    """The 429 page of a refused request, its audit row written."""
    record_refusal(request, scope)
    context = {
        "status": 429,
        "title": _("操作过于频繁"),
        "explanation": MESSAGE,
        "reason": _("您在短时间内查询或导出的次数超过了系统的限制。请等待%(seconds)d秒后再试。")
        % {"seconds": window_seconds(scope)},
        "back_url": request.path,
    }
    response = render(request, "errors/error.html", context, status=429)
    response["Retry-After"] = str(window_seconds(scope))
    return response
