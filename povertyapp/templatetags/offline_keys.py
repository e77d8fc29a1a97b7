"""`{{ user|offline_key }}`: the key the phone files a user's offline data under
(docs/offline.md). On every page (base.html's pwa script) so that, after a sign-in, the page
can tell whose offline data the phone holds and never let another user's be shown."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.crypto import salted_hmac

register = template.Library()


def offline_key(user: Any) -> str:
    """An HMAC of the account id (not the id itself), so that a shared phone's storage does not
    name whose data it held; empty for an anonymous visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return salted_hmac("assistance.offline", str(user.pk)).hexdigest()[:24]


register.filter("offline_key", offline_key)
