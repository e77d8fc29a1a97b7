"""Edits after approval (审定后修改): a change to a household whose status a closed round decided
is flagged for the township, as DHIS2 flags changes to approved data.

The registry is not edited for this: every save of a household or a member already writes a
django-simple-history row, and its `post_create_historical_record` signal hands us the row;
we compare it with the previous one and, when the household has a status event stamped with a
closed round, write an `EditReview` (the fields changed, before → after, who, when) in the same
transaction as the edit. The township (or the county) marks each one reviewed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, HouseholdEvent, Member
from povertyapp import audit, roles
from povertyapp.crypto import EncryptedCharField
from povertyapp.models import AccessLog, User
from rounds.models import AdjustmentRound
from years.models import EditReview

HIDDEN = "******"
# Bookkeeping fields that change with every edit and say nothing to the reviewer.
NOT_SHOWN = frozenset({"version"})


def _deciding_round(household_id: int) -> int | None:
    """The closed round that last decided the household's status, if any."""
    return (
        HouseholdEvent.objects.filter(
            household_id=household_id, round__status=AdjustmentRound.Status.CLOSED
        )
        .exclude(to_status="")
        .order_by("-effective_date", "-pk")
        .values_list("round_id", flat=True)
        .first()
    )


def _changes(history_instance: Any, model: type[Household] | type[Member]) -> list[dict[str, str]]:
    previous = history_instance.prev_record
    if previous is None:
        return []
    delta = history_instance.diff_against(previous)
    changes = []
    for change in delta.changes:
        if change.field in NOT_SHOWN:
            continue
        field = model._meta.get_field(change.field)
        hidden = isinstance(field, EncryptedCharField)
        changes.append(
            {
                "field": change.field,
                "label": str(getattr(field, "verbose_name", change.field)),
                "old": HIDDEN if hidden else str(change.old if change.old is not None else ""),
                "new": HIDDEN if hidden else str(change.new if change.new is not None else ""),
            }
        )
    return changes


def flag_edit_after_approval(
    sender: Any, instance: Any, history_instance: Any, **kwargs: Any
) -> None:
    """`post_create_historical_record` receiver for households and members."""
    if history_instance.history_type != "~":
        return
    household = instance if isinstance(instance, Household) else instance.household
    round_id = _deciding_round(household.pk)
    if round_id is None:
        return
    model = Household if isinstance(instance, Household) else Member
    changes = _changes(history_instance, model)
    if not changes:
        return
    subject = _("户信息") if model is Household else _("成员：%(name)s") % {"name": instance.name}
    EditReview.objects.create(
        household=household,
        village_id=household.village_id,
        round_id=round_id,
        subject=str(subject)[:64],
        changes=changes,
        changed_by=kwargs.get("history_user"),
        changed_at=history_instance.history_date or timezone.now(),
    )


def connect() -> None:
    from simple_history.signals import post_create_historical_record

    for model in (Household, Member):
        post_create_historical_record.connect(
            flag_edit_after_approval,
            sender=model.history.model,
            dispatch_uid=f"years-edit-review-{model._meta.label}",
        )


# --- the review list ------------------------------------------------------------------------


def can_review_edits(user: User) -> bool:
    """The township reviewers and the county office (审核层级) read and mark the list."""
    return roles.can_review(user)


def edit_review_list(*, user: User, pending_only: bool = True) -> QuerySet[EditReview]:
    if not can_review_edits(user):
        raise PermissionDenied(_("只有乡镇审核员和县扶贫办可以复核审定后修改。"))
    queryset = roles.household_scope(user, EditReview.objects.all())
    if pending_only:
        queryset = queryset.filter(reviewed_at__isnull=True)
    return queryset.select_related(
        "household", "village", "round", "changed_by", "reviewed_by"
    ).order_by("-changed_at", "-pk")


def edit_review_get_for_user(*, user: User, review_id: int) -> EditReview:
    try:
        return edit_review_list(user=user, pending_only=False).get(pk=review_id)
    except EditReview.DoesNotExist:
        raise Http404(_("未找到该记录，或您无权查看。")) from None


@transaction.atomic
def edit_review_mark(*, actor: User, review: EditReview) -> EditReview:
    """Mark a flagged edit reviewed (once)."""
    review = EditReview.objects.select_for_update().get(pk=review.pk)
    if review.reviewed_at is not None:
        raise ValidationError(_("该修改已复核。"), code="already_reviewed")
    review.reviewed_at = timezone.now()
    review.reviewed_by = actor
    review.save(update_fields=["reviewed_at", "reviewed_by"])
    audit.record(
        AccessLog.Action.APPROVAL,
        user=actor,
        target="years.EditReview",
        object_id=review.pk,
        detail={"household": review.household_id},
    )
    return review
