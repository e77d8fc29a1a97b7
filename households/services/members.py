"""Members: 自然增减 (增员, 减员), 信息更正 of a member, and moving a person to another household.
Never a deletion: a member who leaves keeps the record, with the reason and the date."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from households.events import event_record
from households.models import Household, HouseholdEvent, Member, ValueList
from households.services import common
from households.services.common import (
    _change_round,
    _edit_allowed,
    _lists_for,
    _lock,
    _raise_if,
    _require_writer,
    _save,
)
from households.services.fields import HEAD, MEMBER_FIELDS
from households.services.validation import (
    _active_elsewhere_errors,
    _member_errors,
    _members_set_errors,
)
from povertyapp.conflicts import ConflictError
from povertyapp.models import User


def _active_rows(
    household: Household, *, replacing: Member | None = None, adding: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for member in household.members.filter(is_active=True).order_by("id"):
        if replacing is not None and member.pk == replacing.pk:
            continue
        rows.append(
            {
                "relation": member.relation,
                "sex": member.sex,
                "birth_date": member.birth_date,
                "id_number": member.id_number,
            }
        )
    if adding is not None:
        rows.append(adding)
    return rows


def _set_errors_for_new(
    rows: list[dict[str, Any]], today: datetime.date, prefix: str
) -> dict[str, list[ValidationError]]:
    """Household-set rules, reported on the member being written (the last row)."""
    errors = _members_set_errors(rows, today)
    last = len(rows) - 1
    renamed: dict[str, list[ValidationError]] = {}
    for key, value in errors.items():
        if key.startswith(f"members.{last}."):
            renamed[prefix + key.removeprefix(f"members.{last}.")] = value
        elif key.startswith("members."):
            # An existing member's error means the new one clashes with it.
            renamed.setdefault(prefix + key.rsplit(".", 1)[1], []).extend(value)
        else:
            renamed.setdefault(key, []).extend(value)
    return renamed


@transaction.atomic
def member_add(
    *,
    actor: User,
    household: Household,
    data: Mapping[str, Any],
    reason: str = "",
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
    round: Model | None = None,
    proposed_by: User | None = None,
) -> Member:
    """自然增减（增员）: a member joins (birth, marriage in, return...). The event is tagged with
    the county's open round (or the given round, when an approved line is applied)."""
    locked = _lock(household, expected_version)
    applying = round is not None
    round = _change_round(locked, round)
    _require_writer(actor, locked.village)
    today = common.today()
    row = dict(data)
    lists = _lists_for(locked.village, today.year)
    errors = _member_errors(row, lists=lists, prefix="", today=today)
    if effective_date is not None and effective_date > today:
        errors.setdefault("effective_date", []).append(
            ValidationError(_("增员日期不能晚于今天。"), code="bad_date")
        )
    if reason and reason not in lists.get(ValueList.JOIN_REASON, []) and len(reason) > 64:
        errors.setdefault("reason", []).append(
            ValidationError(_("增员原因过长。"), code="reason_too_long")
        )
    if not errors:
        for key, value in _set_errors_for_new(
            _active_rows(locked, adding=row), today, prefix=""
        ).items():
            errors.setdefault(key, []).extend(value)
        for key, value in _active_elsewhere_errors([row], household=None, prefix_base="").items():
            errors.setdefault(key.removeprefix("0."), []).extend(value)
    member = Member(
        household=locked,
        joined_on=effective_date or today,
        **{field: row[field] for field in MEMBER_FIELDS if field in row and row[field] is not None},
    )
    if not errors:
        try:
            member.full_clean(
                exclude=["household"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors.update(error.error_dict)
    _raise_if(errors)
    _save(member, actor=actor, reason=reason or _("增员"))
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    event_record(
        household=locked,
        kind=HouseholdEvent.Kind.MEMBER_JOINED,
        actor=actor,
        effective_date=effective_date or today,
        reason=reason,
        member=member,
        from_status=locked.status,
        to_status=locked.status,
        round=round,
        proposed_by=proposed_by,
        approved_by=actor if applying else None,
    )
    return member


@transaction.atomic
def member_update(
    *,
    actor: User,
    member: Member,
    data: Mapping[str, Any],
    expected_version: int | None,
    reason: str = "",
    round: Model | None = None,
    proposed_by: User | None = None,
) -> Member:
    """Correct or update a member's data (信息更正). With `round`, an approved 信息更正 line of
    that round is applied: a 信息更正 event tagged with the round records it."""
    locked = (
        Member.objects.select_for_update().select_related("household__village").get(pk=member.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("成员信息"), "old": "", "new": "", "who": ""}]
        )
    if not locked.is_active:
        raise ValidationError(_("该成员已减员，不能修改。"), code="inactive_member")
    if round is None:
        _edit_allowed(locked.household)
    else:
        round = _change_round(locked.household, round)
    _require_writer(actor, locked.household.village)
    today = common.today()
    row = {field: getattr(locked, field) for field in MEMBER_FIELDS}
    row.update({key: value for key, value in data.items() if key in MEMBER_FIELDS})
    if "id_number" in data and data["id_number"] != locked.id_number:
        # A new ID number carries its own birth date and sex unless both are given.
        if "birth_date" not in data:
            row["birth_date"] = None
        if "sex" not in data:
            row["sex"] = ""
    lists = _lists_for(locked.household.village, today.year)
    errors = _member_errors(row, lists=lists, prefix="", today=today)
    if not errors:
        for key, value in _set_errors_for_new(
            _active_rows(locked.household, replacing=locked, adding=row), today, prefix=""
        ).items():
            errors.setdefault(key, []).extend(value)
        for key, value in _active_elsewhere_errors(
            [row], household=locked.household, prefix_base=""
        ).items():
            errors.setdefault(key.removeprefix("0."), []).extend(value)
    _raise_if(errors)
    changed = [field for field in MEMBER_FIELDS if getattr(locked, field) != row[field]]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, row[field])
    locked.version += 1
    try:
        with transaction.atomic():
            _save(
                locked,
                actor=actor,
                reason=reason or _("信息更正"),
                update_fields=[*changed, "version", "updated_at"],
            )
    except IntegrityError as error:
        raise ValidationError(
            {
                "id_number": [
                    ValidationError(_("身份证号码已是其他户的在户成员。"), code="active_elsewhere")
                ]
            }
        ) from error
    household = Household.objects.select_for_update().get(pk=locked.household_id)
    household.version += 1
    household.save(update_fields=["version", "updated_at"])
    if round is not None:
        event_record(
            household=household,
            kind=HouseholdEvent.Kind.CORRECTED,
            actor=actor,
            effective_date=today,
            reason=reason,
            member=locked,
            from_status=household.status,
            to_status=household.status,
            round=round,
            proposed_by=proposed_by,
            approved_by=actor,
            data={"fields": changed},
        )
    return locked


@transaction.atomic
def member_remove(
    *,
    actor: User,
    member: Member,
    reason: str,
    effective_date: datetime.date | None = None,
    note: str = "",
    round: Model | None = None,
    proposed_by: User | None = None,
) -> Member:
    """自然增减（减员）: death, marriage out, household split, moving away... never a deletion.
    The event is tagged with the county's open round (or the given round, when an approved
    line is applied)."""
    locked = (
        Member.objects.select_for_update().select_related("household__village").get(pk=member.pk)
    )
    applying = round is not None
    round = _change_round(locked.household, round)
    _require_writer(actor, locked.household.village)
    today = common.today()
    reasons = _lists_for(locked.household.village, today.year).get(ValueList.LEAVE_REASON, [])
    if not locked.is_active:
        raise ValidationError(_("该成员已减员。"), code="inactive_member")
    if reason not in reasons:
        raise ValidationError(
            {
                "reason": [
                    ValidationError(
                        _("请选择减员原因（%(reasons)s）。"),
                        code="reason_required",
                        params={"reasons": _("、").join(reasons)},
                    )
                ]
            }
        )
    effective_date = effective_date or today
    if effective_date > today or effective_date < locked.birth_date:
        raise ValidationError(
            {"effective_date": [ValidationError(_("减员日期不合理。"), code="bad_date")]}
        )
    others = locked.household.members.filter(is_active=True).exclude(pk=locked.pk)
    if locked.relation == HEAD and others.exists():
        raise ValidationError(_("户主减员前，请先将另一名成员设为户主。"), code="head_leaving")
    locked.is_active = False
    locked.left_reason = reason
    locked.left_on = effective_date
    if reason == "死亡":
        locked.living_status = "死亡"
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=_("减员：%(reason)s") % {"reason": reason},
        update_fields=[
            "is_active",
            "left_reason",
            "left_on",
            "living_status",
            "version",
            "updated_at",
        ],
    )
    household = Household.objects.select_for_update().get(pk=locked.household_id)
    household.version += 1
    household.save(update_fields=["version", "updated_at"])
    event_record(
        household=household,
        kind=HouseholdEvent.Kind.MEMBER_LEFT,
        actor=actor,
        effective_date=effective_date,
        reason=f"{reason} {note}".strip(),
        member=locked,
        from_status=household.status,
        to_status=household.status,
        round=round,
        proposed_by=proposed_by,
        approved_by=actor if applying else None,
    )
    return locked


@transaction.atomic
def member_move(
    *,
    actor: User,
    member: Member,
    to_household: Household,
    relation: str,
    effective_date: datetime.date | None = None,
    reason: str = "",
) -> Member:
    """Move a person to another household (分户, 婚嫁 within the county): the old record leaves
    with the reason 迁出 and a new member record joins the target household with history on both
    sides. The person's data travel with them."""
    source = (
        Member.objects.select_for_update().select_related("household__village").get(pk=member.pk)
    )
    if to_household.pk == source.household_id:
        raise ValidationError(_("目标户与原户相同。"), code="same_household")
    _require_writer(actor, source.household.village)
    _require_writer(actor, to_household.village)
    source_round = _change_round(source.household, None)
    _edit_allowed(to_household)
    if not source.is_active:
        raise ValidationError(_("该成员已减员，不能迁移。"), code="inactive_member")
    if (
        source.relation == HEAD
        and source.household.members.filter(is_active=True).exclude(pk=source.pk).exists()
    ):
        raise ValidationError(_("户主迁出前，请先将另一名成员设为户主。"), code="head_leaving")
    effective_date = effective_date or common.today()
    data = {field: getattr(source, field) for field in MEMBER_FIELDS}
    data["relation"] = relation
    # Leave first (frees the ID number), then join; one transaction, so all or nothing.
    source.is_active = False
    source.left_reason = "迁出"
    source.left_on = effective_date
    source.version += 1
    _save(
        source,
        actor=actor,
        reason=_("成员迁移至%(number)s") % {"number": to_household.number},
        update_fields=["is_active", "left_reason", "left_on", "version", "updated_at"],
    )
    old_household = Household.objects.select_for_update().get(pk=source.household_id)
    old_household.version += 1
    old_household.save(update_fields=["version", "updated_at"])
    event_record(
        household=old_household,
        kind=HouseholdEvent.Kind.MEMBER_MOVED,
        actor=actor,
        effective_date=effective_date,
        reason=reason,
        member=source,
        from_status=old_household.status,
        to_status=old_household.status,
        round=source_round,
        data={"to_household": to_household.number},
    )
    joined = member_add(
        actor=actor,
        household=to_household,
        data=data,
        reason=reason or _("迁入"),
        effective_date=effective_date,
    )
    return joined
