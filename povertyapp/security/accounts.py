"""Account lifecycle (等保 2.0: 及时删除或停用多余的、过期的账户): accounts nobody has used
for ACCOUNT_INACTIVE_DAYS are disabled by a nightly task, each with an audit row."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from povertyapp import audit
from povertyapp.models import AccessLog, User
from povertyapp.security import break_glass
from povertyapp.security.account_audit import acting_as


def accounts_inactive(*, days: int, now: datetime.datetime | None = None):
    """Active accounts not signed in to for `days` (never signed in: created that long ago).
    The break-glass account has its own window and is left to it."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    return (
        User.objects.filter(is_active=True)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .exclude(username=break_glass.username())
        .order_by("pk")
    )


def accounts_disable_inactive(*, days: int, now: datetime.datetime | None = None) -> list[int]:
    """Disable every account of `accounts_inactive`, one transaction and audit row each."""
    disabled = []
    for user in accounts_inactive(days=days, now=now):
        reason = _("%(days)s天未登录，账号自动停用") % {"days": days}
        with transaction.atomic(), acting_as(name="system", reason=reason):
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit.record(
                AccessLog.Action.ACCOUNT,
                user=None,
                username="system",
                target="user",
                object_id=user.pk,
                reason=reason,
                detail={
                    "event": "disabled_inactive",
                    "account": user.get_username(),
                    "last_login": user.last_login.isoformat() if user.last_login else None,
                    "date_joined": user.date_joined.isoformat(),
                },
            )
        disabled.append(user.pk)
    return disabled
