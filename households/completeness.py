"""信息录入率 of the members, kept per household (`MemberCompleteness`), and its nightly refresh.

A member's required fields (households.quality.MEMBER_REQUIRED) depend on the row, which the
database keeps in `Member.completeness_mask`, and on the member's age on the day of computation:
在校生状况 is required at 6–23, 劳动技能 at 16–65. A household's sums therefore hold from the day
they are computed until the first of its members reaches one of the ages 6, 16, 24 or 66 (or
a member is written: the database triggers of migration 0023 mark the row out of date). The
rates job reads these sums from one narrow index instead of every member of a county, and reads
the members only of the households whose row is missing or out of date
(`rounds.rates.completeness_by_village`).

`refresh` computes the rows of one county's out-of-date households; the nightly job
`member_completeness` (one per county, before the nightly rates) runs it. A refresh never
stores what it read if a member of the household was written meanwhile: it stores only where
the row's `generation` is still the one it read, which every trigger raises.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.quality import MEMBER_AGE_RANGES
from households.standards import years_before
from povertyapp import jobs, roles
from povertyapp.models import Job, Region

JOB_KIND = "member_completeness"

# The member fields required only at some ages (households.models.MEMBER_AGED_REQUIRED): the
# first and the last age at which each is required, as the quality module defines them.
AGE_RANGES = MEMBER_AGE_RANGES
# The ages at which a member's requirements change, in increasing order: on the day a member
# reaches one of them, a field starts or stops being required.
CHANGE_AGES = tuple(sorted({age for low, high in AGE_RANGES.values() for age in (low, high + 1)}))
# `valid_until` of a household none of whose members will ever reach another of these ages.
FOREVER = datetime.date(9999, 12, 31)
# Households refreshed per statement (and per transaction).
BATCH = 20_000


def member_terms(today: datetime.date) -> tuple[str, str, list[Any]]:
    """(filled SQL, required SQL, their parameters in order) of one active member `m` on
    `today`: the stored mask's terms (bits 0–1 filled, bits 2–3 required, of the fields required
    at any age) plus, for each field required at some ages, 1 required when the member's age is
    in its range and 1 filled when its bit (4 + i) is set as well."""
    from households.models import MEMBER_AGED_REQUIRED

    filled, required = ["(m.completeness_mask & 3)"], ["((m.completeness_mask >> 2) & 3)"]
    filled_values: list[Any] = []
    required_values: list[Any] = []
    for bit, name in enumerate(MEMBER_AGED_REQUIRED, 4):
        low, high = AGE_RANGES[name]
        # Born after the day `high + 1` years ago (younger than high + 1) and on or before the
        # day `low` years ago (at least `low`).
        in_range = "m.birth_date > %s AND m.birth_date <= %s"
        bounds = [years_before(today, high + 1), years_before(today, low)]
        filled.append(
            f"CASE WHEN {in_range} AND (m.completeness_mask & {1 << bit}) <> 0 THEN 1 ELSE 0 END"
        )
        required.append(f"CASE WHEN {in_range} THEN 1 ELSE 0 END")
        filled_values += bounds
        required_values += bounds
    return " + ".join(filled), " + ".join(required), [*filled_values, *required_values]


def _reaches(age: int) -> str:
    """SQL: the day member `m` reaches `age` (its birthday; 1 March for one born on 29 February
    when that year has none), as `years_before` counts: the first day D with
    years_before(D, age) on or after the birth date."""
    if connection.vendor == "postgresql":
        # date + interval clamps 29 February to the 28th: count from the day before.
        return f"(CAST(m.birth_date - 1 + INTERVAL '{int(age)} years' AS date) + 1)"
    # SQLite carries 29 February of a common year over to 1 March.
    return f"date(m.birth_date, '+{int(age)} years')"


def next_change(today_placeholder: str = "%s") -> tuple[str, int]:
    """(SQL, how many times it takes the day): the first day after the day on which member `m`
    reaches one of CHANGE_AGES (NULL: none left). The ages increase, so the first birthday
    after the day is the earliest."""
    cases = " ".join(
        f"WHEN {_reaches(age)} > {today_placeholder} THEN {_reaches(age)}" for age in CHANGE_AGES
    )
    return f"CASE {cases} END", len(CHANGE_AGES)


def fresh(alias: str = "t") -> str:
    """SQL: the row `alias` of MemberCompleteness holds on the day (two placeholders)."""
    return f"({alias}.valid_from <= %s AND {alias}.valid_until > %s)"


def _out_of_date(county: Region, today: datetime.date) -> list[int]:
    """The ids of the county's households whose row is missing or does not hold on `today`:
    the rows of the county's regions that do not hold (`member_terms_village_idx`, index-only),
    and the households without a row (one probe of the table's key each)."""
    regions = (
        "("
        + ", ".join(
            str(int(region_id))
            for region_id in Region.objects.filter(path__startswith=county.path).values_list(
                "pk", flat=True
            )
        )
        + ")"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t.household_id FROM households_membercompleteness t
                WHERE t.village_id IN {regions} AND NOT COALESCE({fresh()}, FALSE)
                UNION
                SELECT h.id FROM households_household h
                WHERE h.county_id = %s AND NOT EXISTS (
                    SELECT 1 FROM households_membercompleteness t WHERE t.household_id = h.id
                )
                ORDER BY 1""",
            [today, today, county.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def refresh_households(household_ids: list[int], today: datetime.date) -> int:
    """Compute and store the rows of these households as of `today`, in one statement.
    Returns how many were stored: a household one of whose members was written after the
    statement read them (its `generation` moved on) keeps its out-of-date row."""
    if not household_ids:
        return 0
    ids = "(" + ", ".join(str(int(value)) for value in household_ids) + ")"
    filled, required, values = member_terms(today)
    change, times = next_change()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO households_membercompleteness
                    (household_id, village_id, filled, required, valid_from, valid_until,
                     generation)
                SELECT h.id, h.village_id, COALESCE(x.filled, 0), COALESCE(x.required, 0), %s,
                       COALESCE(x.until, %s), COALESCE(t.generation, 0)
                FROM households_household h
                LEFT JOIN households_membercompleteness t ON t.household_id = h.id
                LEFT JOIN (
                    SELECT m.household_id, SUM({filled}) AS filled, SUM({required}) AS required,
                           MIN({change}) AS until
                    FROM households_member m
                    WHERE m.is_active = %s AND m.household_id IN {ids}
                    GROUP BY m.household_id
                ) x ON x.household_id = h.id
                WHERE h.id IN {ids}
                ON CONFLICT (household_id) DO UPDATE
                SET village_id = excluded.village_id, filled = excluded.filled,
                    required = excluded.required, valid_from = excluded.valid_from,
                    valid_until = excluded.valid_until
                WHERE households_membercompleteness.generation = excluded.generation""",
            [today, FOREVER, *values, *[today] * times, True],
        )
        return cursor.rowcount


def refresh(county: Region, today: datetime.date | None = None, progress=None) -> dict[str, int]:
    """Bring the rows of the county's households up to date for `today` (default: the local
    date): those missing or out of date, `BATCH` at a time, each batch its own transaction.
    Returns {"households": out of date found, "stored": rows written}."""
    from django.utils import timezone

    today = today or timezone.localdate()
    ids = _out_of_date(county, today)
    if progress is not None:
        progress.set_total(len(ids))
    stored = 0
    for batch in _batches(ids, BATCH):
        with transaction.atomic():
            stored += refresh_households(batch, today)
        if progress is not None:
            progress.advance(len(batch))
    return {"households": len(ids), "stored": stored}


@jobs.register(JOB_KIND, gettext_lazy("成员信息录入率更新"), may_start=roles.can_run_checks)
def member_completeness_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    if job.region is None or job.region.level != Region.Level.COUNTY:
        raise jobs.JobFailed(_("请选择县。"))
    return refresh(job.region, progress=progress)
