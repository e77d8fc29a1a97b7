"""Signed-in sessions (我的会话): recorded at sign-in, listed for their user, ended by them.

Django gives a new session id at every sign-in (`login` cycles the key) and deletes the session
row at sign-out (`logout` flushes it), so an old cookie is dead on the server. The absolute limit
(SESSION_ABSOLUTE_TIMEOUT, 12 h) is kept by `SignInStepsMiddleware` from the sign-in time held
in the session; the idle limit by the session engine (povertyapp/sessions.py).
"""

from __future__ import annotations

import datetime
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from povertyapp import audit
from povertyapp.models import AccessLog, User, UserSession
from povertyapp.security import passwords, second_factor, steps


def connect() -> None:
    user_logged_in.connect(session_started, dispatch_uid="povertyapp.security.session_started")


def session_started(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    """user_logged_in: the steps the user owes before any page, the sign-in time for the
    absolute limit, and the row of 我的会话."""
    session = getattr(request, "session", None)
    if session is None:
        return
    _steps_begin(request, user)
    session[steps.STARTED_AT] = int(time.time())
    if not session.session_key:
        session.save()
    UserSession.objects.update_or_create(
        session_id=session.session_key,
        defaults={
            "user": user,
            "started_at": timezone.now(),
            "ip_address": audit.client_ip(request),
            "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:255],
        },
    )


def _steps_begin(request: Any, user: User) -> None:
    """The steps the user owes before any page, computed once at sign-in."""
    pending: list[str] = []
    if second_factor.has_device(user):
        pending.append(steps.SECOND_FACTOR_VERIFY)
    elif second_factor.required(user) and not second_factor.demo_exempt():
        pending.append(steps.SECOND_FACTOR_ENROL)
    if passwords.password_expired(user):
        pending.append(steps.PASSWORD_CHANGE)
    if pending:
        request.session[steps.SESSION_KEY] = pending
    else:
        request.session.pop(steps.SESSION_KEY, None)


def expired(request: Any) -> bool:
    """Whether the session has outlived the absolute limit since its sign-in."""
    started = request.session.get(steps.STARTED_AT)
    if started is None:
        request.session[steps.STARTED_AT] = int(time.time())  # signed in before the limit
        return False
    return bool(time.time() - started > settings.SESSION_ABSOLUTE_TIMEOUT)


def sessions_for_user(*, user: User) -> QuerySet[UserSession]:
    """The user's live sessions (within both limits), newest first."""
    now = timezone.now()
    return (
        UserSession.objects.filter(
            user=user,
            session__expire_date__gt=now,
            started_at__gt=now - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT),
        )
        .select_related("session")
        .order_by("-started_at")
    )


def sessions_clear_expired() -> int:
    """Delete the sessions past their idle or absolute limit; their UserSession rows go with
    them. How many sessions were deleted."""
    from django.contrib.sessions.models import Session

    now = timezone.now()
    absolute = now - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
    idle = Session.objects.filter(expire_date__lt=now)
    stale = Session.objects.filter(
        session_key__in=UserSession.objects.filter(started_at__lt=absolute).values("session_id")
    )
    deleted = idle.delete()[1].get("sessions.Session", 0)
    deleted += stale.delete()[1].get("sessions.Session", 0)
    return deleted


def last_seen(user_session: UserSession) -> datetime.datetime:
    """The session's last request, to within a minute: its idle deadline less the timeout."""
    return user_session.session.expire_date - datetime.timedelta(
        seconds=settings.SESSION_COOKIE_AGE
    )


def _store_delete(session_key: str) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.delete(session_key)  # the UserSession row goes with it (on_delete=CASCADE)


def session_end(*, request: Any, user: User, user_session_id: int) -> None:
    """End one of the user's other sessions (its cookie is dead from now on)."""
    user_session = UserSession.objects.filter(user=user, pk=user_session_id).first()
    if user_session is None:
        raise ValidationError(
            _("该会话已结束或不属于您，请刷新页面后重试。"), code="no_such_session"
        )
    if user_session.session_id == request.session.session_key:
        raise ValidationError(_("不能在此结束当前会话，请使用“退出”。"), code="current_session")
    _store_delete(user_session.session_id)
    audit.record(
        AccessLog.Action.SESSION,
        request=request,
        user=user,
        target="sessions.Session",
        reason="ended by its user",
        object_id=user_session_id,
        detail={"ended": 1, "ip_address": user_session.ip_address},
    )


def sessions_end_others(*, request: Any, user: User) -> int:
    """End every session of the user but the current one; how many were ended."""
    keys = list(
        UserSession.objects.filter(user=user)
        .exclude(session_id=request.session.session_key)
        .values_list("session_id", flat=True)
    )
    for key in keys:
        _store_delete(key)
    audit.record(
        AccessLog.Action.SESSION,
        request=request,
        user=user,
        target="sessions.Session",
        reason="other sessions ended by their user",
        detail={"ended": len(keys)},
    )
    return len(keys)
