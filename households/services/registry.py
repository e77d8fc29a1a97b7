"""Households: register one, change its own fields, change its status (识别纳入, 标注脱贫, 返贫,
剔除) with its event, and the edit page's save of a household with its members together."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Model
from django.utils.translation import gettext as _

from households import hooks
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
from households.services.fields import HEAD, HOUSEHOLD_FIELDS, MEMBER_FIELDS
from households.services.validation import (
    _active_elsewhere_errors,
    _household_errors,
    _member_errors,
    _members_set_errors,
)
from povertyapp import roles
from povertyapp.models import Region, User


def _next_number(village: Region) -> str:
    prefix = village.code
    last = Household.objects.filter(number__startswith=prefix, number__regex=r"^\d+$").aggregate(
        last=Max("number")
    )["last"]
    sequence = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{sequence:04d}"


@transaction.atomic
def household_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    members: Iterable[Mapping[str, Any]],
    status: str = Household.Status.NON_REGISTERED,
    exit_year: int | None = None,
    number: str = "",
    effective_date: datetime.date | None = None,
    reason: str = "",
    check_scope: bool = True,
) -> Household:
    """Register a household with its members. New households start as 非建档立卡户 and enter
    the registry through identification; only the county office (or an import it runs) may
    register a household directly with another status."""
    today = common.today()
    effective_date = effective_date or today
    values = {field: data[field] for field in HOUSEHOLD_FIELDS if field in data}
    village = values.get("village")
    if check_scope:
        _require_writer(actor, village)
    if status != Household.Status.NON_REGISTERED and check_scope and not roles.can_configure(actor):
        raise ValidationError(
            _("新建农户须经识别程序纳入；只有县扶贫办可直接登记其他状态。"),
            code="status_requires_county",
        )
    member_rows = [dict(member) for member in members]
    lists = _lists_for(village, effective_date.year) if village else {}
    errors = _household_errors(
        values, lists=lists, registered=status in Household.REGISTERED_STATUSES
    )
    if village is None:
        errors.setdefault("village", []).append(
            ValidationError(_("请选择行政村。"), code="required")
        )
    for index, member_row in enumerate(member_rows):
        for key, value in _member_errors(
            member_row, lists=lists, prefix=f"members.{index}.", today=today
        ).items():
            errors.setdefault(key, []).extend(value)
    for key, value in _members_set_errors(member_rows, today).items():
        errors.setdefault(key, []).extend(value)
    for key, value in _active_elsewhere_errors(member_rows, household=None).items():
        errors.setdefault(key, []).extend(value)
    number = (number or "").strip()
    if number and Household.objects.filter(number=number).exists():
        errors.setdefault("number", []).append(
            ValidationError(
                _("户编号%(number)s已存在。"), code="duplicate_number", params={"number": number}
            )
        )
    household = Household(
        number=number or (_next_number(village) if village else ""),
        status=status,
        exit_year=exit_year,
        created_by=actor,
        **values,
    )
    try:
        household.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for key, value in error.error_dict.items():
            errors.setdefault(key, []).extend(value)
    built_members = []
    for index, row in enumerate(member_rows):
        member = Member(
            household=household,
            joined_on=row.get("joined_on") or effective_date,
            **{
                field: row[field]
                for field in MEMBER_FIELDS
                if field in row and row[field] is not None
            },
        )
        try:
            member.full_clean(
                exclude=["household"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            for key, value in error.error_dict.items():
                errors.setdefault(f"members.{index}.{key}", []).extend(value)
        built_members.append(member)
    _raise_if(errors)

    try:
        with transaction.atomic():
            _save(household, actor=actor, reason=reason or _("建档"))
            for member in built_members:
                member.household = household
                _save(member, actor=actor, reason=reason or _("建档"))
    except IntegrityError as error:
        raise ValidationError(
            _("保存失败：户编号或身份证号码与已有记录冲突，请刷新后重试。"), code="integrity"
        ) from error
    event_record(
        household=household,
        kind=HouseholdEvent.Kind.REGISTERED,
        actor=actor,
        effective_date=effective_date,
        to_status=status,
        reason=reason,
        persons=len(built_members),
    )
    return household


@transaction.atomic
def household_update(
    *,
    actor: User,
    household: Household,
    data: Mapping[str, Any],
    expected_version: int | None,
    reason: str = "",
    round: Model | None = None,
    proposed_by: User | None = None,
) -> Household:
    """Change a household's own fields. `expected_version` is the version the user loaded:
    if someone saved in between, a ConflictError names what they changed and nothing is saved.
    With `round`, an approved 信息更正 line of that round is applied: a 信息更正 event tagged with
    the round records it."""
    locked = _lock(household, expected_version)
    if round is None:
        _edit_allowed(locked)
    else:
        round = _change_round(locked, round)
    values = {field: data[field] for field in HOUSEHOLD_FIELDS if field in data}
    village = values.get("village", locked.village)
    _require_writer(actor, locked.village)
    if village != locked.village:
        _require_writer(actor, village)
    merged = {field: getattr(locked, field) for field in HOUSEHOLD_FIELDS}
    merged.update(values)
    errors = _household_errors(
        merged, lists=_lists_for(village, common.today().year), registered=locked.is_registered
    )
    _raise_if(errors)
    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, values[field])
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=reason or _("修改户信息"),
        update_fields=[*changed, "version", "updated_at"],
    )
    if round is not None:
        event_record(
            household=locked,
            kind=HouseholdEvent.Kind.CORRECTED,
            actor=actor,
            effective_date=common.today(),
            reason=reason,
            from_status=locked.status,
            to_status=locked.status,
            round=round,
            proposed_by=proposed_by,
            approved_by=actor,
            data={"fields": changed},
        )
    return locked


@transaction.atomic
def household_change_status(
    *,
    actor: User,
    household: Household,
    kind: str,
    to_status: str,
    effective_date: datetime.date | None = None,
    reason: str = "",
    ground: str = "",
    exit_year: int | None = None,
    round: Model | None = None,
    proposed_by: User | None = None,
    approved_by: User | None = None,
    expected_version: int | None = None,
) -> Household:
    """Apply a status change (识别纳入, 标注脱贫, 返贫, 剔除) and record its event.

    Who may propose and approve is the workflows' business; this service keeps the registry
    consistent: allowed transitions, exit year, the round being open, and the event row.
    """
    locked = _lock(household, expected_version)
    if round is None:
        _edit_allowed(locked)
    else:
        # A stale copy of a round closed meanwhile must not pass: read it again, locked.
        round = hooks.round_lock(round)
    allowed: dict[str, set[str]] = {
        HouseholdEvent.Kind.IDENTIFIED: {Household.Status.NON_REGISTERED, Household.Status.REMOVED},
        HouseholdEvent.Kind.EXITED: {Household.Status.POOR, Household.Status.RETURNED},
        HouseholdEvent.Kind.RETURNED: {Household.Status.EXITED},
        HouseholdEvent.Kind.REMOVED: {
            Household.Status.POOR,
            Household.Status.RETURNED,
            Household.Status.EXITED,
        },
    }
    if kind not in allowed:
        raise ValidationError(_("不支持的状态变动类型。"), code="bad_kind")
    if locked.status not in allowed[kind]:
        raise ValidationError(
            _("当前状态为“%(status)s”，不能办理“%(kind)s”。"),
            code="bad_transition",
            params={"status": locked.get_status_display(), "kind": HouseholdEvent.Kind(kind).label},
        )
    if round is not None and not hooks.round_is_open(round):
        raise ValidationError(_("该动态调整批次已关闭，不能再变动。"), code="round_closed")
    if kind == HouseholdEvent.Kind.REMOVED and not (ground or reason):
        raise ValidationError(_("剔除必须填写理由。"), code="ground_required")
    effective_date = effective_date or common.today()
    from_status = locked.status
    locked.status = to_status
    if kind == HouseholdEvent.Kind.EXITED:
        locked.exit_year = exit_year or effective_date.year
    elif kind == HouseholdEvent.Kind.IDENTIFIED:
        locked.exit_year = None
        locked.first_identified_year = locked.first_identified_year or effective_date.year
    if locked.status in Household.REGISTERED_STATUSES and not locked.main_cause:
        raise ValidationError(
            {
                "main_cause": [
                    ValidationError(_("纳入建档立卡前须填写主要致贫原因。"), code="cause_required")
                ]
            }
        )
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=reason or str(HouseholdEvent.Kind(kind).label),
        update_fields=["status", "exit_year", "first_identified_year", "version", "updated_at"],
    )
    event_record(
        household=locked,
        kind=kind,
        actor=actor,
        effective_date=effective_date,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        ground=ground,
        round=round,
        proposed_by=proposed_by,
        approved_by=approved_by,
    )
    return locked


@transaction.atomic
def household_update_with_members(
    *,
    actor: User,
    household: Household,
    data: Mapping[str, Any],
    members: list[Mapping[str, Any]],
    expected_version: int | None,
    join_reason: str = "",
    reason: str = "",
) -> Household:
    """The edit form: the household's fields and its active members in one all-or-nothing save.

    `members` lists every active member as the form shows them: a row with `id` corrects that
    member (信息更正), a row without one is a new member (自然增减·增员, with `join_reason`).
    Removing and moving members are separate services (member_remove, member_move), never a
    silent deletion: an active member missing from `members` is an error. Errors are keyed
    like `members.2.id_number` (the row's position in `members`).
    """
    locked = _lock(household, expected_version)
    round = _change_round(locked, None)
    values = {field: data[field] for field in HOUSEHOLD_FIELDS if field in data}
    village = values.get("village", locked.village)
    _require_writer(actor, locked.village)
    if village != locked.village:
        _require_writer(actor, village)
    today = common.today()
    lists = _lists_for(village, today.year)
    merged = {field: getattr(locked, field) for field in HOUSEHOLD_FIELDS}
    merged.update(values)
    errors = _household_errors(merged, lists=lists, registered=locked.is_registered)
    probe = Household(
        **{
            **merged,
            "number": locked.number,
            "status": locked.status,
            "exit_year": locked.exit_year,
        }
    )
    try:
        probe.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for key, value in error.error_dict.items():
            errors.setdefault(key, []).extend(value)

    active = {member.pk: member for member in locked.members.filter(is_active=True)}
    rows: list[dict[str, Any]] = []
    targets: list[Member | None] = []
    for index, given in enumerate(members):
        member_id = given.get("id")
        existing = active.get(member_id) if member_id else None
        if member_id and existing is None:
            errors.setdefault(f"members.{index}.id", []).append(
                ValidationError(_("该成员不在本户在户成员中，请刷新页面。"), code="unknown_member")
            )
            continue
        row = {field: getattr(existing, field) for field in MEMBER_FIELDS} if existing else {}
        row.update({key: value for key, value in given.items() if key in MEMBER_FIELDS})
        if existing is not None and row.get("id_number") != existing.id_number:
            # A corrected ID number carries its own birth date and sex unless both are given.
            if "birth_date" not in given:
                row["birth_date"] = None
            if "sex" not in given:
                row["sex"] = ""
        for key, value in _member_errors(
            row, lists=lists, prefix=f"members.{index}.", today=today
        ).items():
            errors.setdefault(key, []).extend(value)
        probe_member = Member(
            household=locked,
            **{field: row[field] for field in MEMBER_FIELDS if row.get(field) is not None},
        )
        try:
            probe_member.full_clean(
                exclude=["household"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            for key, value in error.error_dict.items():
                errors.setdefault(f"members.{index}.{key}", []).extend(value)
        rows.append(row)
        targets.append(existing)
    missing = set(active) - {member.pk for member in targets if member is not None}
    if missing:
        errors.setdefault("members", []).append(
            ValidationError(
                _("成员减员请使用“减员”或“迁移”办理，不能直接删除。"), code="member_missing"
            )
        )
    if not errors:
        for key, value in _members_set_errors(rows, today).items():
            errors.setdefault(key, []).extend(value)
        for key, value in _active_elsewhere_errors(rows, household=locked).items():
            errors.setdefault(key, []).extend(value)
    if (
        any(target is None for target in targets)
        and join_reason
        and join_reason not in lists.get(ValueList.JOIN_REASON, [])
    ):
        errors.setdefault("join_reason", []).append(
            ValidationError(_("请选择增员原因。"), code="reason_required")
        )
    _raise_if(errors)

    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    for field in changed:
        setattr(locked, field, values[field])

    # Demote a former head first so that the one-head constraint holds at every statement.
    def demotion_first(index: int) -> int:
        target = targets[index]
        demoted = (
            target is not None and target.relation == HEAD and rows[index].get("relation") != HEAD
        )
        return 0 if demoted else 1

    order = sorted(range(len(rows)), key=demotion_first)
    touched = bool(changed)
    try:
        with transaction.atomic():
            for index in order:
                row, target = rows[index], targets[index]
                if target is None:
                    member = Member(
                        household=locked,
                        joined_on=today,
                        **{
                            field: row[field]
                            for field in MEMBER_FIELDS
                            if row.get(field) is not None
                        },
                    )
                    _save(member, actor=actor, reason=join_reason or _("增员"))
                    event_record(
                        household=locked,
                        kind=HouseholdEvent.Kind.MEMBER_JOINED,
                        actor=actor,
                        effective_date=today,
                        reason=join_reason,
                        member=member,
                        from_status=locked.status,
                        to_status=locked.status,
                        round=round,
                    )
                    touched = True
                    continue
                fields = [field for field in MEMBER_FIELDS if getattr(target, field) != row[field]]
                if not fields:
                    continue
                for field in fields:
                    setattr(target, field, row[field])
                target.version += 1
                _save(
                    target,
                    actor=actor,
                    reason=reason or _("信息更正"),
                    update_fields=[*fields, "version", "updated_at"],
                )
                touched = True
    except IntegrityError as error:
        raise ValidationError(
            _("保存失败：身份证号码或户主与已有记录冲突，请刷新后重试。"), code="integrity"
        ) from error
    if not touched:
        return locked
    locked.version += 1
    _save(
        locked,
        actor=actor,
        reason=reason or _("修改户信息"),
        update_fields=[*changed, "version", "updated_at"],
    )
    return locked
