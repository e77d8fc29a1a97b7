"""API tokens (身份鉴别, 等保 2.0 level 3): expiring, revocable, listed for their owner.

The tokens are django-rest-knox's: the client gets the secret once, the database keeps only its
SHA-512 digest and a 15-character public prefix (`token_key`), and every token expires
`API_TOKEN_TTL_HOURS` after it was issued (use does not extend it). A token is revoked

- by its owner: the current one (`POST /api/v1/auth/token/logout/`), one by its prefix, or all
  (API and the page 我的API令牌);
- when the owner's password changes, by any path (password form, admin, `set_password` + save);
- when the account is disabled (`is_active` set to False and saved, by any path).

Every issue and revocation is an audit row (`AccessLog.Action.TOKEN`). Knox itself also
refuses a token whose user is inactive, so an account disabled by a bulk `update()` (which
sends no signal) cannot use its tokens either.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from povertyapp import audit
from povertyapp.models import AccessLog, User

TARGET = "api_token"
MARK = "_revoke_api_tokens_because"


def token_ttl() -> datetime.timedelta:
    return datetime.timedelta(hours=int(settings.API_TOKEN_TTL_HOURS))


def tokens_for_user(*, user: User) -> QuerySet[AuthToken]:
    """The user's unexpired tokens, newest first (prefix, created, expiry: never a secret)."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by(
        "-created", "token_key"
    )


@transaction.atomic
def token_issue(*, user: User, request: Any = None) -> tuple[AuthToken, str]:
    """A new token for `user` (already authenticated): the row and the secret, shown once.

    Expired tokens of the user are removed first; a user holding API_TOKEN_LIMIT_PER_USER
    unexpired tokens gets a ValidationError (code `token_limit`) instead of another one."""
    # Serialise the user's issues, so that two concurrent sign-ins cannot pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    limit = int(settings.API_TOKEN_LIMIT_PER_USER)
    if AuthToken.objects.filter(user=user).count() >= limit:
        audit.record(
            AccessLog.Action.TOKEN,
            request=request,
            user=user,
            target=TARGET,
            outcome=AccessLog.Outcome.REFUSED,
            reason="token_limit",
            detail={"event": "issue", "limit": limit},
        )
        raise ValidationError(
            _(
                "您的有效API令牌已达上限（%(limit)d个）。请先在“我的API令牌”页面吊销不再使用的"
                "令牌，或等其过期后再申请。"
            )
            % {"limit": limit},
            code="token_limit",
        )
    instance, secret = AuthToken.objects.create(user=user, expiry=token_ttl())
    audit.record(
        AccessLog.Action.TOKEN,
        request=request,
        user=user,
        target=TARGET,
        object_id=instance.token_key,
        detail={"event": "issue", "expiry": instance.expiry.isoformat() if instance.expiry else ""},
    )
    return instance, secret


def _revoke(
    tokens: QuerySet[AuthToken], *, user: User, request: Any, event: str, reason: str = ""
) -> int:
    prefixes = sorted(tokens.values_list("token_key", flat=True))
    count, _deleted = tokens.delete()
    if prefixes:
        audit.record(
            AccessLog.Action.TOKEN,
            request=request,
            user=user,
            target=TARGET,
            object_id=prefixes[0] if len(prefixes) == 1 else "",
            reason=reason,
            detail={"event": event, "revoked": len(prefixes), "prefixes": prefixes},
        )
    return count


@transaction.atomic
def token_revoke(*, user: User, prefix: str, request: Any = None) -> int:
    """Revoke the user's token(s) with this public prefix; 0 when none is theirs."""
    tokens = AuthToken.objects.filter(user=user, token_key=prefix)
    return _revoke(tokens, user=user, request=request, event="revoke")


@transaction.atomic
def token_revoke_current(*, token: AuthToken, request: Any = None) -> int:
    tokens = AuthToken.objects.filter(pk=token.pk)
    return _revoke(tokens, user=token.user, request=request, event="logout")


@transaction.atomic
def token_revoke_all(*, user: User, request: Any = None, event: str = "revoke_all") -> int:
    tokens = AuthToken.objects.filter(user=user)
    return _revoke(tokens, user=user, request=request, event=event, reason=event)


# Revocation on password change and on disabling: whatever path saved the user. A pre_save
# receiver compares with the stored row (one query, only when the save may change the password
# or the active flag); post_save revokes, in the same transaction as the change.


@receiver(pre_save, sender=User, dispatch_uid="povertyapp.tokens.remember_credentials")
def _remember_credentials(sender: type[User], instance: User, raw: bool, **kwargs: Any) -> None:
    marks = instance.__dict__  # a per-save mark on the instance, not a field
    marks[MARK] = ""
    if raw or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    if stored["password"] != instance.password:
        marks[MARK] = "password_change"
    elif stored["is_active"] and not instance.is_active:
        marks[MARK] = "account_disabled"


@receiver(post_save, sender=User, dispatch_uid="povertyapp.tokens.revoke_on_credentials")
def _revoke_on_credentials(sender: type[User], instance: User, raw: bool, **kwargs: Any) -> None:
    because = instance.__dict__.pop(MARK, "")
    if raw or not because:
        return
    token_revoke_all(user=instance, event=because)
