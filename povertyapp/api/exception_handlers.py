"""Django's ValidationError from the services becomes a 400 with field messages; a request over
its rate limit a 429 with the Chinese message (and an audit row).

Service errors use keys such as `members.2.id_number`; they are passed through as they are, so
a client can point at the exact member and field.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from povertyapp import ratelimits
from povertyapp.conflicts import ConflictError, shown_changes


def _messages(error: DjangoValidationError) -> Any:
    if hasattr(error, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.Throttled):
        # A rate limit (povertyapp/api/throttles.py): the Chinese message, the wait, an audit row.
        request = context["request"]
        ratelimits.record_refusal(request, getattr(request, "rate_limited_scope", "api"))
        wait = getattr(exc, "wait", None)  # set by Throttled.__init__; missing from the stubs
        headers = {"Retry-After": str(math.ceil(wait))} if wait is not None else None
        return Response({"detail": str(ratelimits.MESSAGE)}, status=429, headers=headers)
    if isinstance(exc, ConflictError):
        return Response(
            {
                "non_field_errors": [str(m) for m in exc.messages],
                "code": "conflict",
                "changes": [
                    {k: str(v) for k, v in change.items() if k != "sensitive"}
                    for change in shown_changes(context["request"], exc)
                ],
            },
            status=409,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_messages(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
