"""Middleware of the project wiring."""

from __future__ import annotations

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
