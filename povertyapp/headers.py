"""Response headers that keep personal data out of caches.

Every page and API answer of this system may carry personal data (names, ID numbers, bank
accounts, health details), and a browser's or a proxy's cache keeps what it is allowed to keep:
on a shared village-office PC the next user could page back into the previous user's households.
So every response Django produces is `Cache-Control: no-store, private` unless its view chose its
own caching. Static files never reach this middleware: whitenoise answers them before it runs,
with their long-lived immutable caching.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

NO_STORE = "no-store, private"


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` on every response whose view set no Cache-Control."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = NO_STORE
        return response
