"""Masking of sensitive personal information (PIPL) and the access log.

ID numbers, bank accounts and health details are shown in full only to roles that hold the
right (`roles.can_view_sensitive`); everyone else sees them masked: the first 3 and last 4
characters, e.g. `110***********123X`. Log lines are masked for everyone.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from povertyapp.models import AccessLog, User

# Nothing from the models is imported at module level: the logging configuration loads this
# module before the apps are ready.

# An 18-character ID number, a 15-digit one, or a 12–19 digit bank account, as a whole word.
_SENSITIVE_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{12,19})(?![0-9A-Za-z])")
# A mainland mobile number, as a whole word: never in a URL either (it is personal information).
_MOBILE_NUMBER = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
_URL_SEPARATOR = re.compile(r"(%[0-9A-Fa-f]{2}|\+)")
HEALTH_MASK = "***"


def mask(value: str | None) -> str:
    """`110101199003071234` → `110***********1234`; short values are masked whole."""
    if not value:
        return ""
    text = str(value)
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_text(text: str) -> str:
    """Mask every ID or account number inside free text (log lines, error messages). A URL's
    escapes (`%20`, `+`) separate words: `?q=%20110101199003071234` is masked too."""
    if "%" not in text and "+" not in text:
        return _SENSITIVE_NUMBER.sub(_masked, text)
    return "".join(
        part if index % 2 else _SENSITIVE_NUMBER.sub(_masked, part)
        for index, part in enumerate(_URL_SEPARATOR.split(text))
    )


def _masked(match: re.Match[str]) -> str:
    return mask(match.group(1))


def has_sensitive_number(text: str) -> bool:
    """Whether free text holds an ID number, a bank account or a mobile number: what may not
    travel in a URL (povertyapp/search_terms.py)."""
    return bool(_SENSITIVE_NUMBER.search(text) or _MOBILE_NUMBER.search(text))


def shown(user: User, value: str | None) -> str:
    """The value as this user may see it."""
    from povertyapp import roles

    if roles.can_view_sensitive(user):
        return value or ""
    return mask(value)


def shown_health(user: User, value: str | None) -> str:
    from povertyapp import roles

    if roles.can_view_sensitive(user) or not value:
        return value or ""
    return HEALTH_MASK


class MaskSensitiveFilter(logging.Filter):
    """Logging filter: no ID or account number reaches a log line unmasked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


def access_log_record(
    *,
    user: User,
    action: str,
    target: str,
    object_id: str | int = "",
    fields: list[str] | None = None,
    detail: dict[str, Any] | None = None,
    request: Any = None,
    sha256: str = "",
    reason: str = "",
) -> AccessLog:
    """Write one audit row for a sensitive read, export, import or download (`sha256` is the
    file's hash when a file left the system)."""
    from povertyapp import audit

    return audit.record(
        action,
        request=request,
        user=user,
        target=target,
        object_id=object_id,
        fields=fields,
        detail=detail,
        sha256=sha256,
        reason=reason,
    )
