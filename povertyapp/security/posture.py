"""The accounts a security administrator (安全管理员) looks after each day, by what needs doing:
locked by wrong passwords or codes, owing a second factor, with a password expired or about to
expire, and about to be disabled for not signing in.

Each kind is one queryset, so that the desk counts exactly the accounts its link lists (the
account list's filter `安全状况`, `admin.SecurityPostureFilter`). The rules are those the
sign-in enforces: axes' failure limit and cool-off, `second_factor.REQUIRED_ROLES`,
PASSWORD_MAX_AGE_DAYS and the nightly ACCOUNT_INACTIVE_DAYS job.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from povertyapp import audit
from povertyapp.models import AccessLog, User
from povertyapp.security import break_glass, second_factor
from povertyapp.security.accounts import accounts_inactive

# How far ahead the desk warns of an expiring password or an account about to be disabled.
WARN_DAYS = 7


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def locked(now: datetime.datetime | None = None) -> QuerySet[User]:
    """Active accounts that cannot sign in now: a password locked by axes (the failure limit
    reached within the cool-off), or a second factor locked by wrong codes."""
    since = _now(now) - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    by_password = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).values("username")
    by_code = TOTPDevice.objects.filter(
        throttling_failure_count__gte=settings.SECOND_FACTOR_FAILURE_LIMIT,
        throttling_failure_timestamp__gte=since,
    ).values("user_id")
    return User.objects.filter(is_active=True).filter(
        Q(username__in=by_password) | Q(pk__in=by_code)
    )


def without_second_factor() -> QuerySet[User]:
    """Active accounts of a role that signs in with a second factor and has none confirmed."""
    confirmed = TOTPDevice.objects.filter(confirmed=True).values("user_id")
    return (
        User.objects.filter(is_active=True, role__in=second_factor.REQUIRED_ROLES)
        .exclude(pk__in=confirmed)
        .exclude(username=break_glass.username())
    )


def password_expiring(now: datetime.datetime | None = None) -> QuerySet[User]:
    """Active accounts whose password has expired or expires within WARN_DAYS."""
    cutoff = _now(now) - datetime.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS - WARN_DAYS)
    return User.objects.filter(is_active=True, password_changed_at__lt=cutoff).exclude(
        username=break_glass.username()
    )


def dormant(now: datetime.datetime | None = None) -> QuerySet[User]:
    """Active accounts the nightly job disables within WARN_DAYS for not signing in."""
    return accounts_inactive(days=max(settings.ACCOUNT_INACTIVE_DAYS - WARN_DAYS, 0), now=now)


# key → (label, the accounts): the filter's choices and the desk's lines, in this order.
KINDS: dict[str, tuple[Any, Callable[[], QuerySet[User]]]] = {
    "locked": (_("登录锁定中的账号"), locked),
    "no_second_factor": (_("未绑定双因素认证的账号"), without_second_factor),
    "password_expiring": (_("密码已过期或%(days)s天内过期的账号"), password_expiring),
    "dormant": (_("%(days)s天内将因长期未登录停用的账号"), dormant),
}


def label(key: str) -> str:
    """The kind's label in the user's language, its days filled in."""
    text = str(KINDS[key][0])
    return text % {"days": WARN_DAYS} if "%(days)s" in text else text


def accounts(key: str) -> QuerySet[User]:
    return KINDS[key][1]()


@transaction.atomic
def unlock(*, actor: User, user: User) -> bool:
    """Let `user` sign in again now: their axes lock and a second factor's lock by wrong codes
    are lifted, with an audit row. False when the account was not locked (nothing written)."""
    if not locked().filter(pk=user.pk).exists():
        return False
    axes_reset(username=user.username)
    for device in TOTPDevice.objects.select_for_update().filter(user=user):
        device.throttle_reset()
    audit.record(
        AccessLog.Action.ACCOUNT,
        user=actor,
        target="user",
        object_id=user.pk,
        reason=str(_("解除登录锁定")),
        detail={"username": user.username},
    )
    return True
