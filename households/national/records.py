"""Our records as the national layouts see them: the households the national system holds
(registered statuses, and 剔除), their active members, each as a dict of our Chinese labels
keyed by the layout's fields. The exports encode these; the reconciliation compares them.

The selection is the ledgers' (`households.exports.ledger_households`: the user's scope and the
ledger page's filters, `region` first of all), so the bulk mark marks exactly what an export with
the same filters wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from households.exports import CHUNK, ledger_households
from households.models import Household, Member
from povertyapp.models import User

# The statuses the national system holds a record of (a non-registered household is not in it).
EXPORTED_STATUSES = (
    Household.Status.POOR,
    Household.Status.EXITED,
    Household.Status.RETURNED,
    Household.Status.REMOVED,
)
STATUS_LABELS = {value: str(label) for value, label in Household.Status.choices}


def national_households(*, user: User, filters: dict[str, Any]) -> QuerySet[Household]:
    return ledger_households(user=user, filters=filters).filter(status__in=EXPORTED_STATUSES)


def national_members(*, user: User, filters: dict[str, Any]) -> QuerySet[Member]:
    households = national_households(user=user, filters=filters).order_by().values("pk")
    return Member.objects.filter(is_active=True, household__in=households).order_by(
        "household__number", "id"
    )


HOUSEHOLD_VALUES = (
    "number",
    "status",
    "identification_standard",
    "poverty_attribute",
    "main_cause",
    "other_cause_1",
    "other_cause_2",
    "first_identified_year",
    "planned_exit_year",
    "exit_year",
    "phone",
    "bank_name",
    "bank_account",
    "is_military_family",
    "house_grade",
    "water_safe",
    "relocated",
)


def household_records(*, user: User, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    persons = (
        Member.objects.filter(household=OuterRef("pk"), is_active=True)
        .order_by()
        .values("household")
        .annotate(count=Count("pk"))
        .values("count")
    )
    queryset = national_households(user=user, filters=filters).annotate(
        active_head=FilteredRelation(
            "members", condition=Q(members__is_active=True, members__relation="户主")
        ),
        person_count=Coalesce(Subquery(persons, output_field=IntegerField()), 0),
        village_code=F("village__code"),
        township_name=F("village__parent__name"),
        village_name=F("village__name"),
        head_name=F("active_head__name"),
        head_id_number=F("active_head__id_number"),
    )
    for row in queryset.values(
        *HOUSEHOLD_VALUES,
        "village_code",
        "township_name",
        "village_name",
        "head_name",
        "head_id_number",
        "person_count",
    ).iterator(chunk_size=CHUNK):
        row["status"] = STATUS_LABELS.get(row["status"], row["status"])
        yield row


MEMBER_VALUES = (
    "id_number",
    "name",
    "id_type",
    "sex",
    "birth_date",
    "relation",
    "ethnicity",
    "education",
    "school_status",
    "health",
    "labour_skill",
    "work_status",
    "work_months",
    "has_medical_insurance",
    "has_critical_illness_insurance",
    "has_pension_insurance",
    "receives_dibao",
    "is_tekun",
    "is_active_soldier",
    "living_status",
)


def member_records(*, user: User, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    queryset = national_members(user=user, filters=filters).annotate(
        household_number=F("household__number")
    )
    yield from queryset.values("household_number", *MEMBER_VALUES).iterator(chunk_size=CHUNK)


def member_record_name(record: dict[str, Any]) -> str:
    return f"{record.get('household_number', '')} {record.get('name', '')}"
