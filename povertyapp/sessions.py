"""Session engine: Django's database sessions, with an idle deadline that moves forward with use
but is not written on every request.

The idle timeout (SESSION_COOKIE_AGE, `SESSION_IDLE_TIMEOUT`) used to be kept by saving the
session on every request (SESSION_SAVE_EVERY_REQUEST): an UPDATE and a synchronous commit per
click of every user, the commit waiting for the disk. This store saves the session only when
its stored deadline is more than REFRESH_AFTER seconds behind where a save now would put it, so
a user active within the timeout is never logged out, and the deadline may be at most
REFRESH_AFTER seconds earlier than with a save per request.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

REFRESH_AFTER = 60  # seconds


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict[str, Any]:
        stored = self._get_session_from_db()  # type: ignore[attr-defined]  # missing from the stubs
        if stored is None:
            return {}
        # Not get_expiry_age(): it reads the session being loaded. No code sets a custom expiry.
        deadline = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
        if deadline - stored.expire_date > datetime.timedelta(seconds=REFRESH_AFTER):
            self.modified = True  # SessionMiddleware saves it, pushing the deadline forward
        return self.decode(stored.session_data)
