"""自然增减 and 信息更正 lines: proposing them (checked by a trial run of the registry service
that approval will run), the service call an approved line makes, and a line's one-line
summary."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, HouseholdEvent, Member, ValueList
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import crypto
from povertyapp.models import User
from rounds.models import AdjustmentRound, RoundChange
from rounds.services.changes import _head_name, _require_proposer, _scoped_household

Kind = RoundChange.Kind


JOIN, LEAVE = "join", "leave"
# The fields a 信息更正 line may correct: what identifies the household and its members and what
# the lists rest on. Other data are kept current through the household pages (history-logged).
CORRECTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "household": ("main_cause", "poverty_attribute", "identification_standard", "phone"),
    "member": ("name", "id_number", "sex", "birth_date", "relation"),
}
_SENSITIVE_FIELDS = ("id_number",)


class _DryRun(Exception):
    """Raised inside a savepoint to undo a trial application."""


def _messages(error: ValidationError) -> list[str]:
    """A service's errors as sentences, each field error prefixed by the field's name."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    names = {f.name: str(f.verbose_name) for f in Member._meta.fields}
    names.update({f.name: str(f.verbose_name) for f in Household._meta.fields})
    names.update({"effective_date": _("变动日期"), "reason": _("原因")})
    result = []
    for field, errors in error.error_dict.items():
        label = names.get(field.rsplit(".", 1)[-1], "") if field != "__all__" else ""
        for item in errors:
            for message in item.messages:
                result.append(f"{label}：{message}" if label else message)
    return result


def _trial(apply: Any) -> list[str]:
    """Run the registry service that approval will run, inside a savepoint that is always
    rolled back: the line is checked by the very rules that will apply it, and nothing is
    written. Returns the errors."""
    try:
        with transaction.atomic():
            apply()
            raise _DryRun
    except _DryRun:
        return []
    except ValidationError as error:
        return _messages(error)


def _parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _active_member(household: Household, who: str) -> Member | None:
    """An active member of the household by ID number, or by name when the name is unique."""
    who = (who or "").strip()
    if not who:
        return None
    active = household.members.filter(is_active=True)
    by_number = active.with_id_number(who.upper()).first()
    if by_number is not None:
        return by_number
    named = list(active.filter(name=who)[:2])
    return named[0] if len(named) == 1 else None


def _member_line_args(change: RoundChange) -> dict[str, Any]:
    """The service call an approved 自然增减/信息更正 line makes (also used for the trial)."""
    details = change.details
    if change.kind == Kind.NATURAL and details.get("action") == JOIN:
        data = dict(details.get("member", {}))
        data["id_number"] = crypto.decrypt(data.get("id_number", "")) or ""
        return {
            "service": "member_add",
            "household": change.household,
            "data": data,
            "reason": details.get("reason", ""),
            "effective_date": _parse_date(details.get("effective_date")),
        }
    if change.kind == Kind.NATURAL:
        return {
            "service": "member_remove",
            "member": change.member,
            "reason": details.get("reason", ""),
            "effective_date": _parse_date(details.get("effective_date")),
            "note": "" if change.reason == details.get("reason") else change.reason,
        }
    value: Any = details.get("new", "")
    if details.get("field") in _SENSITIVE_FIELDS:
        value = crypto.decrypt(value) or ""
    if details.get("field") == "birth_date":
        value = _parse_date(value)
    if details.get("target") == "member":
        return {
            "service": "member_update",
            "member": change.member,
            "data": {details["field"]: value},
            "expected_version": None,
            "reason": change.reason,
        }
    return {
        "service": "household_update",
        "household": change.household,
        "data": {details["field"]: value},
        "expected_version": None,
        "reason": change.reason,
    }


def _call_member_service(
    actor: User, change: RoundChange, proposed_by: User | None
) -> HouseholdEvent | None:
    from households import services

    arguments = _member_line_args(change)
    service = getattr(services, arguments.pop("service"))
    events = HouseholdEvent.objects.filter(household=change.household, round=change.round)
    before = events.order_by("-id").values_list("id", flat=True).first() or 0
    service(actor=actor, round=change.round, proposed_by=proposed_by, **arguments)
    # The event this call wrote (none when a correction found the value already corrected).
    return events.filter(id__gt=before).order_by("-id").first()


def _apply_member_change(actor: User, change: RoundChange) -> HouseholdEvent | None:
    """Approving a 自然增减/信息更正 line applies it through the registry service (member_add,
    member_remove, member_update, household_update) as an event tagged with the round. The
    service checks everything again: a line that no longer fits the registry is refused."""
    return _call_member_service(actor, change, change.proposed_by)


def _create_member_line(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household,
    kind: str,
    member: Member | None,
    persons: int,
    reason: str,
    details: dict[str, Any],
) -> RoundChange:
    change = RoundChange(
        round=round,
        household=household,
        village=household.village,
        kind=kind,
        member=member,
        persons=persons,
        head_name=_head_name(household),
        reason=reason.strip(),
        details=details,
        source="form",
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    errors = _trial(lambda: _call_member_service(actor, change, actor))
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_change") for error in errors])
    change.full_clean(validate_constraints=False)
    change.save()
    return change


def _member_line_household(
    actor: User, round: AdjustmentRound, number: str
) -> tuple[Household | None, list[str]]:
    _require_proposer(actor, round)
    household = _scoped_household(actor, number=number)
    if household is None:
        return None, [_("户编号不存在，或该户不在您的管辖范围内。")]
    if not household.village.path.startswith(round.county.path):
        return household, [_("该户不属于%(county)s。") % {"county": round.county.name}]
    return household, []


def _raise(errors: list[str]) -> None:
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_change") for error in errors])


@transaction.atomic
def natural_change_propose(
    *,
    actor: User,
    round: AdjustmentRound,
    number: str,
    action: str,
    reason: str,
    effective_date: Any,
    member: str = "",
    data: dict[str, Any] | None = None,
    note: str = "",
) -> RoundChange:
    """A village proposes one 自然增减 line: a person joins the household (`action` "join", with
    the person's name, ID number and relation to the head in `data`, and a 增员原因) or an
    active member leaves it (`action` "leave", the member by ID number or name, and a 减员原因).
    The line is checked by a trial run of the service that approval will run; nothing is
    written when it is refused."""
    household, errors = _member_line_household(actor, round, number)
    _raise(errors)
    assert household is not None
    lists = value_lists(year=round.year, province=province_of(round.county))
    day = _parse_date(effective_date)
    if day is None:
        errors.append(_("请填写变动日期（年-月-日）。"))
    reason = (reason or "").strip()
    leaving: Member | None = None
    details: dict[str, Any] = {"action": action, "reason": reason}
    if action == JOIN:
        if reason not in lists.get(ValueList.JOIN_REASON, []):
            errors.append(
                _("请选择增员原因（%(reasons)s）。")
                % {"reasons": "、".join(lists.get(ValueList.JOIN_REASON, []))}
            )
        person = {
            key: str((data or {}).get(key) or "").strip()
            for key in ("name", "id_number", "relation")
        }
        person["id_number"] = person["id_number"].upper()
        # The ID number is kept encrypted in the line's details, found by its blind index.
        details["member"] = {**person, "id_number": crypto.encrypt(person["id_number"])}
        details["member_id_index"] = crypto.blind_index(person["id_number"])
        if not person["relation"]:
            errors.append(_("请填写与户主关系。"))
        if (
            person["id_number"]
            and RoundChange.objects.filter(
                round=round,
                kind=Kind.NATURAL,
                state__in=RoundChange.PENDING_STATES,
                details__member_id_index=crypto.blind_index(person["id_number"]),
            ).exists()
        ):
            errors.append(_("该身份证号码的增员已在本批次待审核。"))
    elif action == LEAVE:
        if reason not in lists.get(ValueList.LEAVE_REASON, []):
            errors.append(
                _("请选择减员原因（%(reasons)s）。")
                % {"reasons": "、".join(lists.get(ValueList.LEAVE_REASON, []))}
            )
        leaving = _active_member(household, member)
        if leaving is None:
            errors.append(
                _("该户没有在户成员“%(member)s”（请填写证件号码，或户内唯一的姓名）。")
                % {"member": member or ""}
            )
        elif RoundChange.objects.filter(
            round=round, member=leaving, state__in=RoundChange.PENDING_STATES
        ).exists():
            errors.append(_("该成员在本批次已有待审核的名单。"))
    else:
        errors.append(_("请选择增员或减员。"))
    _raise(errors)
    details["effective_date"] = day.isoformat() if day else ""
    return _create_member_line(
        actor=actor,
        round=round,
        household=household,
        kind=Kind.NATURAL,
        member=leaving,
        persons=1,
        reason=(note or "").strip() or reason,
        details=details,
    )


@transaction.atomic
def correction_propose(
    *,
    actor: User,
    round: AdjustmentRound,
    number: str,
    field: str,
    value: str,
    reason: str,
    member: str = "",
) -> RoundChange:
    """A village proposes one 信息更正 line: one field of the household or of one active member
    (`member`: ID number or a name unique in the household) corrected to `value`, with the
    reason. Checked by a trial run of the service approval will run; nothing written if
    refused."""
    household, errors = _member_line_household(actor, round, number)
    _raise(errors)
    assert household is not None
    target = "member" if (member or "").strip() else "household"
    corrected: Member | None = None
    if field not in CORRECTABLE_FIELDS[target]:
        errors.append(
            _("“%(field)s”不是可更正的%(target)s信息。")
            % {
                "field": field,
                "target": _("成员") if target == "member" else _("户"),
            }
        )
    if not (reason or "").strip():
        errors.append(_("请填写理由。"))
    value = (value or "").strip()
    if field == "id_number":
        value = value.upper()
    if field == "birth_date" and value and _parse_date(value) is None:
        errors.append(_("出生日期应为“年-月-日”。"))
    if target == "member":
        corrected = _active_member(household, member)
        if corrected is None:
            errors.append(
                _("该户没有在户成员“%(member)s”（请填写证件号码，或户内唯一的姓名）。")
                % {"member": member}
            )
    _raise(errors)
    source = corrected if corrected is not None else household
    old = getattr(source, field)
    old_text = old.isoformat() if isinstance(old, datetime.date) else str(old or "")
    if old_text == value:
        errors.append(_("更正后的值与系统中的现值相同。"))
    pending = RoundChange.objects.filter(
        round=round,
        household=household,
        kind=Kind.CORRECTED,
        state__in=RoundChange.PENDING_STATES,
        member=corrected,
        details__field=field,
    )
    if pending.exists():
        errors.append(_("该项信息在本批次已有待审核的更正。"))
    _raise(errors)
    return _create_member_line(
        actor=actor,
        round=round,
        household=household,
        kind=Kind.CORRECTED,
        member=corrected,
        persons=1 if corrected is not None else 0,
        reason=reason,
        details={
            "target": target,
            "field": field,
            # An ID number is kept encrypted in the line's details.
            "old": crypto.encrypt(old_text) if field in _SENSITIVE_FIELDS else old_text,
            "new": crypto.encrypt(value) if field in _SENSITIVE_FIELDS else value,
        },
    )


def correctable_fields() -> dict[str, list[tuple[str, str]]]:
    """(field, label) of the correctable fields, for the proposal form."""
    models_of = {"household": Household, "member": Member}
    return {
        target: [
            (field, str(getattr(models_of[target]._meta.get_field(field), "verbose_name", field)))
            for field in fields
        ]
        for target, fields in CORRECTABLE_FIELDS.items()
    }


def change_summary(change: RoundChange, user: User) -> str:
    """What a 自然增减/信息更正 line changes, in one line, ID numbers as the user may see them."""
    from povertyapp.privacy import shown

    details = change.details or {}
    if change.kind == Kind.NATURAL:
        if details.get("action") == JOIN:
            person = details.get("member", {})
            return _("增员：%(name)s（%(relation)s，%(id)s），%(reason)s，%(day)s") % {
                "name": person.get("name", ""),
                "relation": person.get("relation", ""),
                "id": shown(user, crypto.decrypt(person.get("id_number", "")) or ""),
                "reason": details.get("reason", ""),
                "day": details.get("effective_date", ""),
            }
        return _("减员：%(name)s，%(reason)s，%(day)s") % {
            "name": change.member.name if change.member else "",
            "reason": details.get("reason", ""),
            "day": details.get("effective_date", ""),
        }
    if change.kind == Kind.CORRECTED:
        model = Member if details.get("target") == "member" else Household
        field = details.get("field", "")
        try:
            label = str(getattr(model._meta.get_field(field), "verbose_name", field))
        except FieldDoesNotExist:  # a field removed since the line was written
            label = field
        old, new = details.get("old", ""), details.get("new", "")
        if field in _SENSITIVE_FIELDS:
            old = shown(user, crypto.decrypt(old) or "")
            new = shown(user, crypto.decrypt(new) or "")
        who = f"{change.member.name} " if change.member else ""
        return _("更正%(who)s%(field)s：%(old)s → %(new)s") % {
            "who": who,
            "field": label,
            "old": old or "—",
            "new": new or "—",
        }
    return ""
