"""What every registry write shares: today's date, the writer check (role and area scope), the
year's value lists, the save with its history row, the household row lock with its optimistic
version check (`ConflictError`), and the hooks every edit goes through (`households.hooks`):
the registered edit checks and the round a change is recorded in."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from households import hooks, sensitive_reads
from households.models import Household
from households.selectors import province_of
from households.value_lists import value_lists
from povertyapp import roles
from povertyapp.conflicts import ConflictError
from povertyapp.models import Region, User


def today() -> datetime.date:
    """Today in the project's time zone (tests freeze the registry's date by patching this)."""
    return timezone.localdate()


def _raise_if(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


def _require_writer(actor: User, village: Region | None) -> None:
    if actor is None:
        raise ValidationError(_("缺少操作人。"), code="no_actor")
    if not roles.can_write_households(actor):
        raise ValidationError(_("您的角色只能查看，不能修改农户信息。"), code="read_only")
    if village is not None and not roles.region_in_scope(actor, village):
        raise ValidationError(
            {"village": [ValidationError(_("所选行政村不在您的管辖范围内。"), code="out_of_scope")]}
        )


def _lists_for(village: Region, year: int) -> dict[str, list[str]]:
    return value_lists(year=year, province=province_of(village))


def _save(instance: Any, *, actor: User | None, reason: str = "", **kwargs: Any) -> None:
    instance._history_user = actor
    if reason:
        instance._change_reason = reason
    instance.full_clean(validate_unique=False, validate_constraints=False)
    instance.save(**kwargs)


def _changes_since(household: Household, expected_version: int) -> list[dict[str, Any]]:
    """What others changed between the version this user loaded and now (for the conflict),
    a sensitive field's change naming its kind (`povertyapp.conflicts.shown_changes`)."""
    old = household.history.filter(version=expected_version).order_by("-history_id").first()
    new = household.history.order_by("-history_id").first()
    if old is None or new is None:
        return []
    delta = new.diff_against(old)
    who = new.history_user.display_name if new.history_user else ""
    return [
        {
            "field": change.field,
            # History tracks concrete fields only (get_field may also return relations).
            "label": str(
                cast("Field[Any, Any]", Household._meta.get_field(change.field)).verbose_name
            ),
            "old": change.old,
            "new": change.new,
            "who": who,
            **(
                {"sensitive": sensitive_reads.FIELD_KINDS[change.field]}
                if change.field in sensitive_reads.FIELD_KINDS
                else {}
            ),
        }
        for change in delta.changes
        if change.field != "version"
    ] or [{"field": "", "label": _("成员或状态"), "old": "", "new": "", "who": who}]


def _edit_allowed(household: Household) -> None:
    """Every registered edit check may refuse the edit (`households.hooks`): the rounds app's
    refuses while the village's round data is under county approval."""
    hooks.edit_check(household=household)


def _change_round(household: Household, round: Model | None) -> Model | None:
    """The round a change of the household's members or data is recorded in.

    With `round` given, an approved line of that round is being applied (the rounds app): the
    round is read again, locked, and must still be open; the edit checks do not apply (the
    county is deciding on this very line). Without it, the edit checks apply, and a membership
    change made while the county has an open round belongs to that round (自然增减 is part of
    动态调整): its event is tagged with the open round, so the round's figures count it. Both
    go through the round provider of `households.hooks`; with none registered there is no round.
    """
    if round is not None:
        round = hooks.round_lock(round)
        if not hooks.round_is_open(round):
            raise ValidationError(_("该动态调整批次已关闭，不能再变动。"), code="round_closed")
        return round
    _edit_allowed(household)
    return hooks.open_round_for(household.village)


def _lock(household: Household, expected_version: int | None) -> Household:
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _changes_since(locked, expected_version), target="household", object_id=locked.pk
        )
    return locked
