"""Registering many households at once (a workbook import): the rows `household_create` and
`income_set` write for each, written set-wise (COPY on PostgreSQL, bulk_create elsewhere)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households import counties
from households.models import Household, HouseholdEvent, HouseholdIncome, Member
from households.services import common
from households.services.common import _require_writer
from households.services.fields import MEMBER_FIELDS
from povertyapp import roles
from povertyapp.models import Region, User

_MEMBER_KEYS = frozenset(MEMBER_FIELDS)  # a set: tested for each value of 370k members a file


def households_bulk_register(
    *,
    actor: User,
    households: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]], Any]],
    reason: str,
    effective_date: datetime.date | None = None,
    batch_size: int = 2000,
    progress: Any = None,
) -> tuple[int, int, int]:
    """Register many households at once (the import of a workbook): the rows
    `household_create` writes for each, written set-wise.

    Each item is (household, members, income): `household` holds `number`, `status`,
    `exit_year` and HOUSEHOLD_FIELDS (village and group as Regions), `members` the
    MEMBER_FIELDS of each member, `income` None or (year, {INCOME_FIELDS}). The caller has
    validated every item with the checks `household_create` runs (`_household_errors`,
    `_member_errors`, `_members_set_errors`, the active-elsewhere look-up, `full_clean`), as
    `households.imports` does for the whole file before it calls this. Here: the actor may
    write, every village is in the actor's scope, only the county office registers a status
    other than 非建档立卡户; the database constraints (unique 户编号, one active household per
    ID number, one head) guard the rest, and any violation rolls back the caller's transaction.

    Written per household, as `household_create` + `income_set` write them: the Household row
    (version 1, created_by = actor) and one history row ("+", history_user = actor,
    change reason = `reason`); each Member (joined_on = the effective date) and its history
    row; the HouseholdIncome and its history row; one 建档 HouseholdEvent (to_status, persons,
    proposed_by = created_by = actor). On PostgreSQL the rows go in with COPY, primary keys
    taken from the tables' sequences; elsewhere with bulk_create. Returns (households,
    members, incomes) written. Must run inside the caller's transaction.
    """
    from itertools import islice

    from django.db import connection

    from povertyapp import bulk

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("households_bulk_register must run inside a transaction")
    _require_writer(actor, None)
    today = common.today()
    effective_date = effective_date or today
    may_register = roles.can_configure(actor)
    copy = connection.vendor == "postgresql"
    checked_villages: set[int] = set()
    village_counties: dict[int, int] = {}
    totals = [0, 0, 0]
    items = iter(households)
    while batch := list(islice(items, batch_size)):
        now = timezone.now()
        villages = {item[0]["village"].pk: item[0]["village"] for item in batch}
        unchecked = set(villages) - checked_villages
        if unchecked:
            in_scope = set(
                roles.region_scope(actor)
                .filter(pk__in=unchecked, level=Region.Level.VILLAGE)
                .values_list("pk", flat=True)
            )
            if unchecked - in_scope:
                raise ValidationError(_("所选行政村不在您的管辖范围内。"), code="out_of_scope")
            checked_villages |= in_scope
            # The county key (households.counties): each new village's county, once.
            village_counties.update(counties.county_ids_of_villages(unchecked))
        household_rows: list[dict[str, Any]] = []
        for values, _members, _income in batch:
            if values["status"] != Household.Status.NON_REGISTERED and not may_register:
                raise ValidationError(
                    _("新建农户须经识别程序纳入；只有县扶贫办可直接登记其他状态。"),
                    code="status_requires_county",
                )
            row = {key: value for key, value in values.items() if key not in ("village", "group")}
            row["village_id"] = values["village"].pk
            row["county_id"] = village_counties[row["village_id"]]
            group = values.get("group")
            row["group_id"] = group.pk if group is not None else None
            row.update(created_by_id=actor.pk, version=1, created_at=now, updated_at=now)
            household_rows.append(row)
        member_count = sum(len(item[1]) for item in batch)
        income_count = sum(1 for item in batch if item[2] is not None)
        if copy:
            for row, pk in zip(household_rows, _reserve_ids(Household, len(batch)), strict=True):
                row["id"] = pk
            member_ids = iter(_reserve_ids(Member, member_count))
            income_ids = iter(_reserve_ids(HouseholdIncome, income_count))
        else:
            objects = Household.objects.bulk_create(
                [Household(**row) for row in household_rows], batch_size=500
            )
            for row, instance in zip(household_rows, objects, strict=True):
                row["id"] = instance.pk
        member_rows: list[dict[str, Any]] = []
        income_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        for row, (values, members, income) in zip(household_rows, batch, strict=True):
            for member in members:
                member_row = {
                    key: value
                    for key, value in member.items()
                    if value is not None and key in _MEMBER_KEYS
                }
                member_row.update(
                    household_id=row["id"],
                    county_id=row["county_id"],
                    joined_on=member.get("joined_on") or effective_date,
                    is_active=True,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                if copy:
                    member_row["id"] = next(member_ids)
                member_rows.append(member_row)
            if income is not None:
                year, amounts = income
                income_row = {"household_id": row["id"], "year": year, "version": 1, **amounts}
                if copy:
                    income_row["id"] = next(income_ids)
                income_rows.append(income_row)
            event_rows.append(
                {
                    "household_id": row["id"],
                    "kind": HouseholdEvent.Kind.REGISTERED,
                    "from_status": "",
                    "to_status": values["status"],
                    "effective_date": effective_date,
                    "reason": reason,
                    "persons": len(members),
                    "proposed_by_id": actor.pk,
                    "created_by_id": actor.pk,
                    "created_at": now,
                    "data": {},
                }
            )
        if copy:
            bulk.load_rows(Household, household_rows, now=now)
            bulk.load_rows(Member, member_rows, now=now)
            bulk.load_rows(HouseholdIncome, income_rows, now=now)
        else:
            created_members = Member.objects.bulk_create(
                [Member(**r) for r in member_rows], batch_size=500
            )
            created_incomes = HouseholdIncome.objects.bulk_create(
                [HouseholdIncome(**r) for r in income_rows], batch_size=500
            )
            for r, created in [
                *zip(member_rows, created_members, strict=True),
                *zip(income_rows, created_incomes, strict=True),
            ]:
                r["id"] = created.pk
        # The history rows are the rows just written, copied on the database (one INSERT …
        # SELECT per table): the values need not be rendered or encrypted a second time.
        tracked_rows: list[tuple[Any, list[dict[str, Any]]]] = [
            (Household, household_rows),
            (Member, member_rows),
            (HouseholdIncome, income_rows),
        ]
        for model, rows in tracked_rows:
            for start in range(0, len(rows), 5000):
                bulk.history_of(
                    model,
                    [r["id"] for r in rows[start : start + 5000]],
                    when=now,
                    reason=reason,
                    user_id=actor.pk,
                )
        bulk.load_rows(HouseholdEvent, event_rows, now=now)
        totals[0] += len(batch)
        totals[1] += member_count
        totals[2] += income_count
        if progress is not None:
            progress(len(batch))
    return totals[0], totals[1], totals[2]


def _reserve_ids(model: type[Any], count: int) -> list[int]:
    """`count` primary keys from the table's own sequence (safe with concurrent writers)."""
    if not count:
        return []
    from django.db import connection

    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [f'"{table}"', column, count],
        )
        return [row[0] for row in cursor.fetchall()]
