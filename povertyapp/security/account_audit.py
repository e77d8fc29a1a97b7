"""Every change of an account's role, region, active or staff status is an audit row
(`AccessLog.Action.ROLE_CHANGE`, detail `{"changes": {field: [old, new]}}`), with who made it,
whatever the path: the admin, a service, a management command, a task.

The actor is, in this order: the one named by `acting_as(...)` (commands and tasks), the signed-in
user of the current request (django-simple-history's `HistoryRequestMiddleware` keeps the
request for the thread), else "system". A new account is an `ACCOUNT` row ("created").

This is a model signal on purpose: the issue asks for every path, including a plain `save()` in
a shell, and a signal is the one place every path passes.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from povertyapp import audit

TRACKED_FIELDS = ("role", "region_id", "is_active", "is_staff", "is_superuser")
SYSTEM = "system"
# The names `save(update_fields=...)` may give the tracked fields.
UPDATE_NAMES = frozenset(TRACKED_FIELDS) | {"region"}


@dataclass(frozen=True)
class Actor:
    user: Any = None  # a User, or None for the system
    name: str = SYSTEM
    reason: str = ""


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("account_actor", default=None)


@contextlib.contextmanager
def acting_as(user: Any = None, *, name: str = SYSTEM, reason: str = "") -> Iterator[None]:
    """Name who changes accounts inside the block (a command's operator, a task: "system")."""
    token = _actor.set(Actor(user=user, name=name, reason=reason))
    try:
        yield
    finally:
        _actor.reset(token)


def _current_request() -> Any:
    from simple_history.models import HistoricalRecords

    return getattr(HistoricalRecords.context, "request", None)


def current_actor() -> tuple[Any, Actor]:
    """(request or None, actor) for the change being saved now."""
    named = _actor.get()
    if named is not None:
        return None, named
    request = _current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return request, Actor(user=user, name=user.get_username())
    return request, Actor()


def _value(instance: Any, field: str) -> Any:
    return _stored_display(field, getattr(instance, field))


def remember_old_values(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any):
    """pre_save: keep the stored values of the tracked fields on the instance."""
    if update_fields is not None and not set(update_fields) & UPDATE_NAMES:
        instance._account_audit_old = None  # e.g. last_login on sign-in: nothing tracked
        return
    if instance.pk is None:
        instance._account_audit_old = {}
        return
    stored = type(instance).objects.filter(pk=instance.pk).values(*TRACKED_FIELDS).first()
    instance._account_audit_old = stored or {}


def record_changes(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """post_save: one audit row naming every tracked field that changed, old → new."""
    from povertyapp.models import AccessLog

    old = getattr(instance, "_account_audit_old", None)
    instance._account_audit_old = None
    if old is None:
        return
    request, actor = current_actor()
    common = {
        "request": request,
        "user": actor.user,
        "username": actor.name,
        "target": "user",
        "object_id": instance.pk,
        "reason": actor.reason,
    }
    if created:
        audit.record(
            AccessLog.Action.ACCOUNT,
            **common,
            detail={
                "event": "created",
                "account": instance.get_username(),
                "values": {field: _value(instance, field) for field in TRACKED_FIELDS},
            },
        )
        return
    changes = {
        field.removesuffix("_id"): [
            _stored_display(field, old.get(field)),
            _value(instance, field),
        ]
        for field in TRACKED_FIELDS
        if old.get(field) != getattr(instance, field)
    }
    if changes:
        audit.record(
            AccessLog.Action.ROLE_CHANGE,
            **common,
            detail={"account": instance.get_username(), "changes": changes},
        )


def _stored_display(field: str, value: Any) -> Any:
    if field == "region_id" and value is not None:
        from povertyapp.models import Region

        region = Region.objects.filter(pk=value).only("code", "name").first()
        return f"{region.code} {region.name}" if region else value
    return value


def connect() -> None:
    """Called once from `PovertyappConfig.ready()`."""
    from django.db.models.signals import post_save, pre_save

    from povertyapp.models import User

    pre_save.connect(remember_old_values, sender=User, dispatch_uid="account_audit_pre")
    post_save.connect(record_changes, sender=User, dispatch_uid="account_audit_post")
