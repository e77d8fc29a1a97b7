"""The steps between the password and the first page, kept in the session.

At sign-in (`sessions.session_started`, the user_logged_in signal) the steps the user owes are
computed once: verify the second factor (a device is enrolled), enrol one (the role requires it
and there is none), change an expired password. `SignInStepsMiddleware` sends every request to
the first pending step until it is done (`complete`). Reading the session costs no query.
"""

from __future__ import annotations

from typing import Any

SESSION_KEY = "security_steps"
STARTED_AT = "security_started_at"
SECOND_FACTOR_VERIFY = "second_factor_verify"
SECOND_FACTOR_ENROL = "second_factor_enrol"
PASSWORD_CHANGE = "password_change"


def pending(request: Any) -> list[str]:
    session = getattr(request, "session", None)
    return list(session.get(SESSION_KEY, [])) if session is not None else []


def first(request: Any) -> str | None:
    steps = pending(request)
    return steps[0] if steps else None


def complete(request: Any, step: str) -> None:
    steps = [name for name in pending(request) if name != step]
    if steps:
        request.session[SESSION_KEY] = steps
    else:
        request.session.pop(SESSION_KEY, None)
