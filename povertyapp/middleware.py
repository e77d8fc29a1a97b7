"""Middleware of the project wiring."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from povertyapp import db_router


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


class ReplicaStickyMiddleware:
    """Read-your-writes with a read replica (issue 19, `povertyapp.db_router`): after a request
    that may write (any method but GET, HEAD, OPTIONS and TRACE), the next requests of the same
    browser or API token read only from the primary for REPLICA_STICKY_SECONDS, so that a user
    never reads data older than their own last write (a replica replays the primary's changes
    some milliseconds, under load seconds, later).

    A browser is pinned by a signed cookie (its signature's timestamp is checked against the
    window, so it cannot be forged or stretched); an API client, which sends its token and
    often no cookie, by a cache entry keyed by a digest of its token (CACHE_URL: shared by
    every web worker in production). Without a replica this does nothing."""

    COOKIE = "primary_pin"
    SALT = "povertyapp.middleware.ReplicaStickyMiddleware"
    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not db_router.replica_configured():
            return self.get_response(request)
        seconds = int(settings.REPLICA_STICKY_SECONDS)
        token_key = self._token_key(request)
        with db_router.pinned_to_primary(self._pinned(request, token_key, seconds)):
            response = self.get_response(request)
        if request.method not in self.SAFE_METHODS and seconds > 0:
            response.set_signed_cookie(
                self.COOKIE,
                "1",
                salt=self.SALT,
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            if token_key:
                cache.set(token_key, 1, timeout=seconds)
        return response

    def _pinned(self, request: HttpRequest, token_key: str, seconds: int) -> bool:
        if seconds <= 0:
            return False
        if request.get_signed_cookie(self.COOKIE, default=None, salt=self.SALT, max_age=seconds):
            return True
        return bool(token_key) and cache.get(token_key) is not None

    @staticmethod
    def _token_key(request: HttpRequest) -> str:
        """The cache key of the request's API token (a digest: the token itself is a secret
        and is never stored), or "" for a request without one."""
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "token" or not token.strip():
            return ""
        return "replica-pin:" + hashlib.sha256(token.strip().encode()).hexdigest()
