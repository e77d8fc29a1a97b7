"""The steps between the password and the first page, kept in the session.

At sign-in (`begin`, from the user_logged_in signal) the steps the user owes are computed once:
verify the second factor (a device is enrolled), enrol one (the role requires it and there is
none), change an expired password. `SignInStepsMiddleware` sends every request to the first
pending step until it is done (`complete`). Reading the session costs no query per request.
"""

from __future__ import annotations

from typing import Any

SESSION_KEY = "security_steps"
STARTED_AT = "security_started_at"
SECOND_FACTOR_VERIFY = "second_factor_verify"
SECOND_FACTOR_ENROL = "second_factor_enrol"
PASSWORD_CHANGE = "password_change"


def begin(request: Any, user: Any) -> None:
    from povertyapp.security import passwords, second_factor

    pending: list[str] = []
    if second_factor.has_device(user):
        pending.append(SECOND_FACTOR_VERIFY)
    elif second_factor.required(user) and not second_factor.demo_exempt():
        pending.append(SECOND_FACTOR_ENROL)
    if passwords.password_expired(user):
        pending.append(PASSWORD_CHANGE)
    if pending:
        request.session[SESSION_KEY] = pending
    else:
        request.session.pop(SESSION_KEY, None)


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
