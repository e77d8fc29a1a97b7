"""The API's per-user rate limits (povertyapp/ratelimits.py explains the budgets).

DRF's `UserRateThrottle` counts per user (per address before sign-in) in the default cache. The
rate is read from the settings on every request rather than once at import, so that
`RATE_LIMIT_API` / `RATE_LIMIT_SEARCH` set in the environment or by a test apply. A refused
request is marked on the request; the exception handler answers 429 with the Chinese message
and writes the audit row.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import UserRateThrottle

from povertyapp import ratelimits


class ScopedUserThrottle(UserRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        return ratelimits.rate(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        allowed = super().allow_request(request, view)
        if not allowed:
            request.rate_limited_scope = self.scope
        return allowed


class ApiThrottle(ScopedUserThrottle):
    """Every API request of a user (reads, pages of a list, writes): RATE_LIMIT_API."""

    scope = "api"


class SearchThrottle(ScopedUserThrottle):
    """An API search (POST …/search/): RATE_LIMIT_SEARCH, on top of the API budget."""

    scope = "search"
