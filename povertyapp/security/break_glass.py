"""The break-glass account (应急账号): the only superuser, disabled unless an operator opens a
time-limited window for it, and logged at every sign-in and every request.

`manage.py break_glass create` makes the account (disabled, no usable password);
`enable --reason ... --hours 2` opens a window (at most BREAK_GLASS_MAX_HOURS) and prints a fresh
random password; `disable` closes it. When the window runs out the account is disabled again by
`expire_break_glass_task` (beat, every five minutes) or at its next request, whichever comes
first. A database check (povertyapp.W014, run by `migrate` and `check --database default`)
warns of any other active superuser: nobody works as a superuser every day.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from povertyapp import audit
from povertyapp.security.account_audit import acting_as

PASSWORD_BYTES = 24


def username() -> str:
    return settings.BREAK_GLASS_USERNAME


def account() -> Any:
    from povertyapp.models import User

    return User.objects.filter(username=username()).first()


def is_break_glass(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.username == username())


def open_grant(user: Any) -> Any:
    from povertyapp.models import BreakGlassGrant

    return BreakGlassGrant.objects.filter(user=user, ended_at__isnull=True).first()


def _log(user: Any, *, outcome: str = "ok", reason: str = "", **detail: Any) -> None:
    from povertyapp.models import AccessLog

    audit.record(
        AccessLog.Action.BREAK_GLASS,
        user=None,
        username=user.get_username(),
        target="break_glass",
        object_id=user.pk,
        outcome=outcome,
        reason=reason,
        detail=detail,
    )


@transaction.atomic
def break_glass_create(*, reason: str, operator: str) -> Any:
    """Create the break-glass account, disabled and without a usable password."""
    from povertyapp.models import User

    if not reason.strip():
        raise ValidationError(_("请填写创建应急账号的原因。"), code="reason_required")
    if account() is not None:
        raise ValidationError(_("应急账号已存在，无需再次创建。"), code="exists")
    with acting_as(name=f"break_glass:{operator}", reason=reason):
        user = User(
            username=username(),
            full_name=_("应急账号"),
            role="",
            is_active=False,
            is_staff=True,
            is_superuser=True,
        )
        user.set_unusable_password()
        user.full_clean()
        user.save()
    _log(user, reason=reason, event="created", operator=operator)
    return user


@transaction.atomic
def break_glass_enable(*, reason: str, hours: float, operator: str) -> tuple[Any, str]:
    """Open a window of `hours` for the account: active, with a fresh random password (returned,
    shown once). Refused without a reason, beyond BREAK_GLASS_MAX_HOURS, or with a window open."""
    from povertyapp.models import BreakGlassGrant

    user = account()
    if user is None:
        raise ValidationError(
            _("应急账号不存在：请先运行 manage.py break_glass create。"), code="missing"
        )
    if not reason.strip():
        raise ValidationError(_("启用应急账号必须填写原因（--reason）。"), code="reason_required")
    maximum = settings.BREAK_GLASS_MAX_HOURS
    if not 0 < hours <= maximum:
        raise ValidationError(
            _("启用时长应大于0且不超过%(max)s小时。") % {"max": maximum}, code="bad_hours"
        )
    if open_grant(user) is not None:
        raise ValidationError(
            _("应急账号已处于启用状态：请先停用（break_glass disable）再重新启用。"),
            code="already_enabled",
        )
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=user,
        reason=reason,
        operator=operator,
        enabled_at=now,
        expires_at=now + datetime.timedelta(hours=hours),
    )
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    with acting_as(name=f"break_glass:{operator}", reason=reason):
        user.set_password(password)
        user.is_active = True
        user.is_superuser = True
        user.is_staff = True
        user.save()
    _log(
        user,
        reason=reason,
        event="enabled",
        operator=operator,
        expires_at=grant.expires_at.isoformat(),
    )
    return grant, password


@transaction.atomic
def break_glass_disable(*, reason: str, operator: str, event: str = "disabled") -> Any:
    """Close the open window (if any) and disable the account, its password made unusable."""
    user = account()
    if user is None:
        return None
    grant = open_grant(user)
    if grant is not None:
        grant.ended_at = timezone.now()
        grant.end_reason = reason
        grant.save(update_fields=["ended_at", "end_reason"])
    if user.is_active or user.has_usable_password():
        with acting_as(name=f"break_glass:{operator}", reason=reason):
            user.is_active = False
            user.set_unusable_password()
            user.save()
    if grant is not None or event == "disabled":
        _log(user, reason=reason, event=event, operator=operator)
    return grant


def break_glass_expire(*, now: datetime.datetime | None = None) -> bool:
    """Close the window if its time is up (the beat task, and the account's next request).
    Also disables an active break-glass account with no open window (enabled by hand)."""
    user = account()
    if user is None:
        return False
    grant = open_grant(user)
    now = now or timezone.now()
    if grant is not None and grant.expires_at > now:
        return False
    if grant is None and not user.is_active:
        return False
    break_glass_disable(reason=_("应急账号启用时限已到"), operator="system", event="expired")
    return True


def on_sign_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """user_logged_in: every sign-in of the break-glass account is an audit row."""
    if not is_break_glass(user):
        return
    grant = open_grant(user)
    if grant is None or grant.expires_at <= timezone.now():
        break_glass_expire()
        _log(user, outcome="refused", event="sign_in_outside_window")
        return
    from povertyapp.models import AccessLog

    audit.record(
        AccessLog.Action.BREAK_GLASS,
        request=request,
        user=user,
        target="break_glass",
        object_id=user.pk,
        reason=grant.reason,
        detail={"event": "sign_in", "expires_at": grant.expires_at.isoformat()},
    )


class BreakGlassMiddleware:
    """Log every request of the break-glass account; end its session once the window is over."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not is_break_glass(user):
            return self.get_response(request)
        from povertyapp.models import AccessLog

        grant = open_grant(user)
        if grant is None or grant.expires_at <= timezone.now():
            break_glass_expire()
            audit.record(
                AccessLog.Action.BREAK_GLASS,
                request=request,
                user=user,
                target="request",
                object_id=request.path[:64],
                outcome=AccessLog.Outcome.REFUSED,
                reason=_("应急账号启用时限已到"),
                detail={"event": "request_after_expiry", "method": request.method},
            )
            logout(request)
            return redirect(settings.LOGIN_URL)
        audit.record(
            AccessLog.Action.BREAK_GLASS,
            request=request,
            user=user,
            target="request",
            object_id=request.path[:64],
            reason=grant.reason,
            detail={"event": "request", "method": request.method, "path": request.path},
        )
        return self.get_response(request)


def other_superusers() -> list[str]:
    from povertyapp.models import User

    return sorted(
        User.objects.filter(is_superuser=True, is_active=True)
        .exclude(username=username())
        .values_list("username", flat=True)
    )


@checks.register(checks.Tags.database)
def check_no_everyday_superuser(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.Warning]:
    """povertyapp.W014: an active superuser other than the break-glass account. A database
    check (Django runs these in `migrate` and in `check --database default`)."""
    from django.db import DatabaseError

    if not databases:
        return []
    try:
        names = other_superusers()
    except DatabaseError:  # no tables yet (before the first migrate)
        return []
    if not names:
        return []
    return [
        checks.Warning(
            f"Active superuser accounts besides the break-glass account: {', '.join(names)}.",
            hint=(
                "等保 2.0: no everyday superuser. Give each person a role (system, security or "
                "audit administrator) and clear is_superuser; use `manage.py break_glass` for "
                "emergencies."
            ),
            id="povertyapp.W014",
        )
    ]


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(on_sign_in, dispatch_uid="break_glass_sign_in")
