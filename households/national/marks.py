"""The 录入国家系统 mark: set in bulk after a national export ("the exported records have been
entered"), set or cleared on one household's page (its own record and its active members').

Writes only here, validated first, in one transaction; every change writes one
`NationalEntryEvent` per household and one audit row. The county office's (`roles.
can_exchange_with_national_system`); the households are read through the user's scope.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, Member, NationalEntry, NationalEntryEvent
from households.national.codes import LAYOUT_VERSION
from households.national.records import national_households
from povertyapp import audit, roles
from povertyapp.models import User

EARLIEST_ENTRY = datetime.date(2014, 1, 1)  # the national system opened in 2014


@dataclass(frozen=True)
class MarkResult:
    households: int
    persons: int


def _require_right(user: User) -> None:
    if not roles.can_exchange_with_national_system(user):
        raise PermissionDenied(_("只有县级扶贫部门可以标记录入国家系统。"))


def _clean_date(entered_on: Any) -> datetime.date:
    if not isinstance(entered_on, datetime.date):
        raise ValidationError(
            {"entered_on": ValidationError(_("请填写录入国家系统的日期。"), code="required")}
        )
    if entered_on > timezone.localdate():
        raise ValidationError(
            {"entered_on": ValidationError(_("录入日期不能晚于今天。"), code="future_date")}
        )
    if entered_on < EARLIEST_ENTRY:
        raise ValidationError(
            {
                "entered_on": ValidationError(
                    _("录入日期不能早于%(date)s。") % {"date": EARLIEST_ENTRY.isoformat()},
                    code="too_early",
                )
            }
        )
    return entered_on


def _mark(
    *,
    user: User,
    household_ids: list[int],
    entered_on: datetime.date,
    bulk: bool,
    keep_marked: bool = False,
) -> MarkResult:
    """Mark the households and their active members. On one household's page the current marks
    are replaced (a record entered again, after a correction, gets the new date); in bulk
    (`keep_marked`) a record already marked keeps its date and only the others are marked. The
    events keep every change. Returns the records newly marked or re-dated."""
    now = timezone.now()
    members = list(
        Member.objects.filter(household_id__in=household_ids, is_active=True).values_list(
            "pk", "household_id"
        )
    )
    existing = NationalEntry.objects.filter(household_id__in=household_ids)
    if keep_marked:
        marked = set(existing.filter(member__isnull=True).values_list("household_id", flat=True))
        marked_members = set(
            existing.filter(member__isnull=False).values_list("member_id", flat=True)
        )
        household_ids = [pk for pk in household_ids if pk not in marked]
        members = [pair for pair in members if pair[0] not in marked_members]
    else:
        existing.delete()
    common = {"entered_on": entered_on, "layout_version": LAYOUT_VERSION, "marked_at": now}
    entries = [
        NationalEntry(household_id=household_id, marked_by=user, **common)
        for household_id in household_ids
    ]
    entries += [
        NationalEntry(household_id=household_id, member_id=member_id, marked_by=user, **common)
        for member_id, household_id in members
    ]
    NationalEntry.objects.bulk_create(entries, batch_size=2000)
    persons: dict[int, int] = {}
    for _member_id, household_id in members:
        persons[household_id] = persons.get(household_id, 0) + 1
    NationalEntryEvent.objects.bulk_create(
        [
            NationalEntryEvent(
                household_id=household_id,
                action=NationalEntryEvent.Action.MARKED,
                entered_on=entered_on,
                persons=persons.get(household_id, 0),
                bulk=bulk,
                created_by=user,
                created_at=now,
            )
            for household_id in sorted(set(household_ids) | set(persons))
        ],
        batch_size=2000,
    )
    return MarkResult(households=len(household_ids), persons=len(members))


def national_mark_bulk(
    *, user: User, filters: dict[str, Any], entered_on: Any, request: Any = None
) -> MarkResult:
    """Mark as entered every record the national export with these filters writes: the
    households (`records.national_households`) and their active members. Records already
    marked keep their date (an export of 未录入 households followed by this mark leaves the
    earlier entries alone); one household is re-dated on its page."""
    _require_right(user)
    entered_on = _clean_date(entered_on)
    household_ids = list(
        national_households(user=user, filters=filters).order_by().values_list("pk", flat=True)
    )
    if not household_ids:
        raise ValidationError(_("所选范围内没有可标记的农户。"), code="nothing_to_mark")
    with transaction.atomic():
        result = _mark(
            user=user,
            household_ids=household_ids,
            entered_on=entered_on,
            bulk=True,
            keep_marked=True,
        )
        audit.record(
            "approval",
            request=request,
            user=user,
            target="national:mark",
            object_id=filters.get("region", ""),
            detail={
                "entered_on": entered_on.isoformat(),
                "households": result.households,
                "persons": result.persons,
            },
        )
    return result


def national_mark_household(
    *, user: User, household: Household, entered_on: Any, request: Any = None
) -> MarkResult:
    """Mark one household's record and its active members' as entered. `household` comes from
    the scoped access path (`household_get_for_user`)."""
    _require_right(user)
    entered_on = _clean_date(entered_on)
    with transaction.atomic():
        result = _mark(user=user, household_ids=[household.pk], entered_on=entered_on, bulk=False)
        audit.record(
            "approval",
            request=request,
            user=user,
            target="national:mark",
            object_id=household.number,
            detail={"entered_on": entered_on.isoformat(), "persons": result.persons},
        )
    return result


def national_unmark_household(*, user: User, household: Household, request: Any = None) -> int:
    """Clear one household's marks (its own and its members'): the records are to be entered
    again. Returns the number of marks cleared; refused when there is none."""
    _require_right(user)
    with transaction.atomic():
        cleared, _counts = NationalEntry.objects.filter(household=household).delete()
        if not cleared:
            raise ValidationError(_("该户尚未标记录入国家系统。"), code="not_marked")
        NationalEntryEvent.objects.create(
            household=household,
            action=NationalEntryEvent.Action.CLEARED,
            persons=max(cleared - 1, 0),
            created_by=user,
            created_at=timezone.now(),
        )
        audit.record(
            "approval",
            request=request,
            user=user,
            target="national:unmark",
            object_id=household.number,
        )
    return cleared


@dataclass(frozen=True)
class PageMark:
    """The household's own mark as its page shows it."""

    entered_on: datetime.date
    marked_by_name: str


def household_page_mark(household: Household) -> PageMark | None:
    """The household's own mark, read with the household by its page's statement
    (`national_entered_on`, `national_marked_by`: `households.selectors`); each member's date
    comes with the members (`national_entered_on`)."""
    entered_on = household.national_entered_on  # type: ignore[attr-defined]  # the page's read
    if entered_on is None:
        return None
    return PageMark(entered_on, household.national_marked_by or "")  # type: ignore[attr-defined]  # the page's read
