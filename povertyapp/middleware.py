"""Middleware of the project wiring."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ChineseUnlessChosenMiddleware:
    """The interface is Simplified Chinese unless the user picked another language with the
    switch in the header (the language cookie).

    Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, so a cadre
    on an English-language phone or a county office PC with an English Windows would get
    English by default. Placed before LocaleMiddleware, this removes the header so that the
    cookie, then LANGUAGE_CODE (zh-hans), decide.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id (`request.request_id`), sent back as `X-Request-ID` and written
    on the request's audit rows, so a user's report, a log line and an audit row can be joined."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]  # HttpRequest has no such field
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]  # set above
        return response
