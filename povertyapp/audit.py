"""The audit trail (安全审计, 等保 2.0 level 3): one row per security-relevant event.

Every sign-in and its failure, lockout, logout, sensitive read, export, import, approval, role or
scope change, configuration change and refused request is written here, with the time (zoned),
user, role, source address, action, object, outcome, reason and request id. Callers use
`record`; nothing else writes `AccessLog` rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from povertyapp.models import AccessLog, User

# Nothing from the models is imported at module level: the logging configuration and the
# middleware load this module before the apps are ready.


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def request_id(request: Any) -> str:
    return getattr(request, "request_id", "") if request is not None else ""


def record(
    action: str,
    *,
    request: Any = None,
    user: User | None = None,
    username: str = "",
    target: str = "",
    object_id: str | int = "",
    outcome: str = "ok",
    reason: str = "",
    fields: list[str] | None = None,
    detail: dict[str, Any] | None = None,
    sha256: str = "",
) -> AccessLog:
    """Write one audit row. `user` defaults to the request's user; `username` names the account
    when there is no user (a failed sign-in for an unknown name)."""
    from povertyapp.models import AccessLog

    if user is None and request is not None:
        user = getattr(request, "user", None)
    known = user if user is not None and user.is_authenticated else None
    return AccessLog.objects.create(
        user=known,
        username=known.get_username() if known is not None else username,
        role=(known.role if known is not None else ""),
        action=action,
        target=target,
        object_id=str(object_id),
        outcome=outcome,
        reason=reason[:255],
        fields=fields or [],
        detail=detail or {},
        ip_address=client_ip(request),
        request_id=request_id(request),
        sha256=sha256,
    )
