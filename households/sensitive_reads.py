"""The access-log rows of the registry's views that show a household's bank account or its
members' ID numbers and health details in full (等保 2.0 level 3: 个人敏感信息的访问审计).

Only the roles that may see these values (`roles.can_view_sensitive`) see them in full, so only
they leave a row, and each row names the fields the view showed with a value, no more: an
assessor reading the log learns what each person saw. Every page and API answer of the project
is checked against this by `tests/povertyapp/test_sensitive_reads.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from households.models import Household, Member
from povertyapp import roles
from povertyapp.privacy import access_log_record

# The members' health details the pages show only to the roles above (`privacy.shown_health`).
HEALTH_FIELDS = ("health", "illness_name", "disability_certificate", "disability_grade")
# The kind an access-log row names for each sensitive field of a household or a member (the
# `sensitive` of a conflict's change, `povertyapp.conflicts`).
FIELD_KINDS = {
    "bank_account": "bank_account",
    "id_number": "id_number",
    **dict.fromkeys(HEALTH_FIELDS, "health"),
}


def household_fields(household: Household) -> list[str]:
    """The household's own sensitive fields that hold a value."""
    return ["bank_account"] if household.bank_account else []


def member_fields(members: Iterable[Member]) -> list[str]:
    """The members' sensitive fields that hold a value in any of them."""
    members = list(members)
    fields = []
    if any(member.id_number for member in members):
        fields.append("id_number")
    if any(getattr(member, name, None) for member in members for name in HEALTH_FIELDS):
        fields.append("health")
    return fields


def record_read(
    request: Any,
    *,
    target: str,
    object_id: Any,
    fields: list[str],
    **detail: Any,
) -> None:
    """One access-log row for a read that showed `fields` in full (nothing when the user sees
    them masked, or when none of them held a value)."""
    if not fields or not roles.can_view_sensitive(request.user):
        return
    access_log_record(
        user=request.user,
        action="view_sensitive",
        target=target,
        object_id=object_id,
        fields=sorted(set(fields)),
        detail=detail,
        request=request,
    )
