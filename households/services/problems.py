"""Data quality (`households.quality`): the village explains a problem that is not an error,
the township accepts the explanation or sends it back."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from povertyapp import roles
from povertyapp.models import User


@transaction.atomic
def problem_explain(*, actor: User, problem: Any, explanation: str) -> Any:
    """The owning village explains a problem that is not an error (e.g. a real 50-亩 farm)."""
    from households.models import DataProblem

    locked = DataProblem.objects.select_for_update().select_related("village").get(pk=problem.pk)
    if actor.role != User.Role.VILLAGE_CADRE or not roles.region_in_scope(actor, locked.village):
        raise ValidationError(_("只有本村的村级录入员可以说明问题数据。"), code="not_allowed")
    text = (explanation or "").strip()
    if not text:
        raise ValidationError(
            {"explanation": [ValidationError(_("请填写情况说明。"), code="required")]}
        )
    if len(text) > 500:
        raise ValidationError(
            {"explanation": [ValidationError(_("情况说明不能超过500字。"), code="too_long")]}
        )
    if locked.state not in (DataProblem.State.OPEN,):
        raise ValidationError(_("该问题当前不能说明。"), code="bad_state")
    locked.state = DataProblem.State.EXPLAINED
    locked.explanation = text
    locked.explained_by = actor
    locked.explained_at = timezone.now()
    locked.save(update_fields=["state", "explanation", "explained_by", "explained_at"])
    return locked


@transaction.atomic
def problem_review(*, actor: User, problem: Any, accept: bool, note: str = "") -> Any:
    """The township accepts an explanation (the problem is no longer counted) or sends it back."""
    from households.models import DataProblem

    locked = DataProblem.objects.select_for_update().select_related("village").get(pk=problem.pk)
    if actor.role != User.Role.TOWNSHIP_REVIEWER or not roles.region_in_scope(
        actor, locked.village
    ):
        raise ValidationError(_("只有乡镇审核员可以审核情况说明。"), code="not_allowed")
    if locked.state != DataProblem.State.EXPLAINED:
        raise ValidationError(_("该问题没有待审核的说明。"), code="bad_state")
    if not accept and not (note or "").strip():
        raise ValidationError({"note": [ValidationError(_("不认可须填写理由。"), code="required")]})
    locked.state = DataProblem.State.ACCEPTED if accept else DataProblem.State.OPEN
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.review_note = (note or "")[:255]
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
    return locked
