"""Password rules (等保 2.0 身份鉴别) and the password change.

Django's validators do similarity to the account's attributes, common and all-digit passwords
(their messages are in Chinese through Django's own translation); these add the length (with a
Chinese message), an upper
bound, nothing derived from the username, no ID number or phone number, and the last passwords
(django-password-validators keeps salted hashes of them) with a Chinese message.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_password_validators.password_history.password_validation import (
    UniquePasswordsValidator,
)

from povertyapp import audit

# 17 digits and a digit or X: the shape of a resident ID number (GB 11643), wherever it stands.
ID_NUMBER_LIKE = re.compile(r"\d{17}[\dXx]")
# Other identifiers of the person stand in a password only if long enough to be one.
MIN_IDENTIFIER_LENGTH = 6


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with a Chinese message (Django 5.2's own has no Chinese translation yet)."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要%(min_length)d个字符，请加长后重试。") % {
            "min_length": self.min_length
        }

    def get_help_text(self) -> str:
        return _("密码至少需要%(min_length)d个字符。") % {"min_length": self.min_length}


class MaximumLengthValidator:
    """Refuse passwords longer than `max_length` (hashing unbounded input costs the server)."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("密码不能超过%(max_length)d个字符，请缩短后重试。"),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("密码不能超过%(max_length)d个字符。") % {"max_length": self.max_length}


class UsernameDerivedValidator:
    """Not the username, nor containing it, forwards or reversed, in any letter case."""

    def validate(self, password: str, user: Any = None) -> None:
        username = (getattr(user, "username", "") or "").casefold()
        if len(username) < 3:
            return
        lowered = password.casefold()
        if username in lowered or username[::-1] in lowered:
            raise ValidationError(
                _("密码不能包含用户名（含倒序、大小写变化），请另设密码。"),
                code="password_contains_username",
            )

    def get_help_text(self) -> str:
        return _("密码不能包含用户名（含倒序、大小写变化）。")


class PersonalNumberValidator:
    """No resident ID number (any 18-character ID-shaped sequence) and not the user's phone."""

    def validate(self, password: str, user: Any = None) -> None:
        if ID_NUMBER_LIKE.search(password):
            raise ValidationError(
                _("密码不能包含身份证号码，请另设密码。"), code="password_contains_id_number"
            )
        digits = re.sub(r"\D", "", getattr(user, "phone", "") or "")
        if len(digits) >= MIN_IDENTIFIER_LENGTH and digits in password:
            raise ValidationError(
                _("密码不能包含本人的联系电话，请另设密码。"), code="password_contains_phone"
            )

    def get_help_text(self) -> str:
        return _("密码不能包含身份证号码或本人的联系电话。")


class RecentPasswordsValidator(UniquePasswordsValidator):
    """Not one of the user's last `last_passwords` passwords (django-password-validators)."""

    def _user_ok(self, user: Any) -> bool:
        # A new account (not saved yet) has no history: nothing to check, nothing to warn about.
        return bool(user is not None and getattr(user, "pk", None) is not None)

    def validate(self, password: str, user: Any = None) -> None:
        try:
            super().validate(password, user)
        except ValidationError as error:
            raise ValidationError(
                _("新密码不能与最近%(count)d次使用过的密码相同，请另设密码。"),
                code="password_reused",
                params={"count": self.last_passwords},
            ) from error

    def get_help_text(self) -> str:
        return _("新密码不能与最近%(count)d次使用过的密码相同。") % {"count": self.last_passwords}


def password_expired(user: Any, *, now: datetime.datetime | None = None) -> bool:
    """Whether the user's password is older than PASSWORD_MAX_AGE_DAYS."""
    changed_at = getattr(user, "password_changed_at", None)
    if changed_at is None:
        return True
    age = (now or timezone.now()) - changed_at
    return age > datetime.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def password_changed(*, request: Any, user: Any) -> None:
    """After a user changed their own password (the page has saved it): the audit row, and the
    forced change of an expired password is done. Other effects of a password change (revoking
    the user's API tokens) belong here."""
    from povertyapp.models import AccessLog
    from povertyapp.security import steps

    steps.complete(request, steps.PASSWORD_CHANGE)
    audit.record(
        AccessLog.Action.PASSWORD_CHANGE,
        request=request,
        user=user,
        target="povertyapp.User",
        object_id=user.pk,
    )
