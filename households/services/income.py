"""A household's income for a year (录入收入), with the optimistic version check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from households.models import Household, HouseholdIncome
from households.services import common
from households.services.common import _edit_allowed, _require_writer, _save
from households.services.fields import INCOME_FIELDS
from povertyapp.conflicts import ConflictError
from povertyapp.models import User


@transaction.atomic
def income_set(
    *,
    actor: User,
    household: Household,
    year: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> HouseholdIncome:
    """Record or correct a household's income for a year."""
    _edit_allowed(household)
    _require_writer(actor, household.village)
    if year > common.today().year:
        raise ValidationError(
            {"year": [ValidationError(_("收入年度不能晚于今年。"), code="future_year")]}
        )
    income, created = HouseholdIncome.objects.select_for_update().get_or_create(
        household=household, year=year
    )
    if not created and expected_version is not None and income.version != expected_version:
        raise ConflictError([{"field": "", "label": _("收入"), "old": "", "new": "", "who": ""}])
    stored = [getattr(income, field) for field in INCOME_FIELDS]
    for field in INCOME_FIELDS:
        if field in data and data[field] is not None:
            setattr(income, field, data[field])
    if not created and stored == [getattr(income, field) for field in INCOME_FIELDS]:
        # Saved unchanged: no new version and no history row.
        return income
    if not created:
        income.version += 1
    _save(income, actor=actor, reason=_("录入收入"))
    return income
