"""信息录入率 in the rates job equals households.quality.completeness, whoever wrote the rows.

The job sums terms the database keeps in generated columns (Household.completeness_filled /
completeness_required, Member.completeness_mask) plus the member terms that depend on the age on
the day. These tests build every combination of the member fields and of ages around the
boundaries (6, 16, 24, 66, on an ordinary day and on 29 February), write rows through every
kind of writer (the services, bulk_create, queryset update(), raw SQL, the bulk registration's
COPY on PostgreSQL) and compare with the Python definition. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db import connection, transaction

from households import completeness as member_completeness
from households import quality, standards
from households import services as household_services
from households.models import (
    MEMBER_AGED_REQUIRED,
    MEMBER_STATIC_REQUIRED,
    NOT_STUDENT_STATUSES,
    Household,
    Member,
)
from rounds import rates
from rounds.figures import id_list as figures_id_list
from tests import factories

DAYS = (datetime.date(2025, 6, 15), datetime.date(2024, 2, 29))


def _python(village, day: datetime.date) -> tuple[int, int]:
    contexts = quality.contexts_for(Household.objects.filter(village=village), today=day)
    terms = [quality.completeness(context) for context in contexts]
    return sum(filled for filled, _r in terms), sum(required for _f, required in terms)


def _sql(village, day: datetime.date, *, stale_share: float | None = None) -> tuple[int, int]:
    """The job's figure; with ``stale_share`` 0 the members of every village with a household
    whose kept sums do not hold are read in one pass, with 1 only those households' members."""
    if stale_share is None:
        both = {_sql(village, day, stale_share=share) for share in (0.0, 1.0)}
        assert len(both) == 1, both
        return both.pop()
    saved = rates.STALE_SHARE
    rates.STALE_SHARE = stale_share
    try:
        return rates.completeness_by_village(village_ids=[village.pk], today=day).get(
            village.pk, (0, 0)
        )
    finally:
        rates.STALE_SHARE = saved


def _refresh(village, day: datetime.date) -> None:
    ids = list(Household.objects.filter(village=village).values_list("pk", flat=True))
    assert member_completeness.refresh_households(ids, day) == len(ids)


def _assert_equal(*villages) -> None:
    """The job's figure equals the quality module's on each day, from what is kept now (rows
    out of date after the test's writes: the triggers), then after a refresh on that day (every
    household from its kept row)."""
    for village in villages:
        for day in DAYS:
            expected = _python(village, day)
            assert _sql(village, day) == expected, (village.code, day, "as kept")
            _refresh(village, day)
            terms, _low, _high = rates._village_terms(figures_id_list([village.pk]), day)
            if village.pk in terms:
                assert rates._stale_count(terms) == 0
            assert _sql(village, day) == expected, (village.code, day, "refreshed")


def _birth_dates(day: datetime.date) -> list[datetime.date]:
    """Born on the day the age is reached and the day after (one year younger), for every age
    at which a requirement starts or stops; and 29 February births."""
    dates = [datetime.date(2000, 2, 29), datetime.date(2008, 2, 29), datetime.date(1959, 3, 1)]
    for age in (6, 16, 24, 66):
        reached = standards.years_before(day, age)
        dates += [reached, reached + datetime.timedelta(days=1)]
    return dates


def test_the_stored_terms_cover_the_quality_module_required_fields():
    assert set(MEMBER_STATIC_REQUIRED) | set(MEMBER_AGED_REQUIRED) == {
        requirement.field for requirement in quality.MEMBER_REQUIRED
    }
    assert set(member_completeness.AGE_RANGES) == set(MEMBER_AGED_REQUIRED)
    assert set(NOT_STUDENT_STATUSES) == quality.NOT_STUDENT


def test_every_member_field_and_age_combination_equals_the_quality_module(cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    members = []
    combinations = itertools.product(
        ("", "苗族"), ("", "初中"), ("", "非在校生", "小学在读"), ("", "健康"), ("", "普通劳动力")
    )
    dates = sorted({date for day in DAYS for date in _birth_dates(day)})
    for (
        ethnicity,
        education,
        school_status,
        health,
        labour_skill,
    ), birth_date in itertools.product(combinations, dates):
        members.append(
            Member(
                household=household,
                name="成员",
                sex="男",
                relation="子女",
                birth_date=birth_date,
                ethnicity=ethnicity,
                education=education,
                school_status=school_status,
                health=health,
                labour_skill=labour_skill,
            )
        )
    # Members who left do not count, whatever they lack.
    members.append(
        Member(
            household=household,
            name="已迁出",
            sex="女",
            relation="子女",
            birth_date=datetime.date(2010, 1, 1),
            is_active=False,
            left_reason="迁出",
        )
    )
    for member in members:  # bulk_create skips save(), which sets the county key
        member.county_id = household.county_id
    Member.objects.bulk_create(members)
    filled, required = _sql(county.village_a, DAYS[0])
    assert 0 < filled < required  # every kind of gap is present
    _assert_equal(county.village_a)


def test_queryset_update_and_raw_sql_writes_keep_the_stored_terms(cast, county):
    households = [
        factories.household(actor=cast.county, village=county.village_b, status=status)
        for status in (
            Household.Status.POOR,
            Household.Status.EXITED,
            Household.Status.NON_REGISTERED,
        )
    ]
    _assert_equal(county.village_b)
    before = _sql(county.village_b, DAYS[0])
    # update(): household fields emptied, a status changed, member fields emptied.
    Household.objects.filter(pk=households[0].pk).update(
        main_cause="", road_type="", housing_area=None, water_safe=None
    )
    Household.objects.filter(pk=households[2].pk).update(status=Household.Status.POOR)
    Member.objects.filter(household=households[1]).update(
        ethnicity="", school_status="小学在读", labour_skill=""
    )
    _assert_equal(county.village_b)
    assert _sql(county.village_b, DAYS[0]) != before
    # Raw SQL, bypassing the ORM altogether.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE households_member SET health = '', education = '' WHERE household_id = %s",
            [households[0].pk],
        )
        cursor.execute(
            "UPDATE households_household SET poverty_attribute = '', fuel_type = '' WHERE id = %s",
            [households[1].pk],
        )
    _assert_equal(county.village_b)


def test_every_household_field_left_empty_equals_the_quality_module(cast, county):
    for status in (Household.Status.POOR, Household.Status.NON_REGISTERED):
        for requirement in quality.HOUSEHOLD_REQUIRED:
            household = factories.household(
                actor=cast.county, village=county.village_a2, status=status
            )
            field = Household._meta.get_field(requirement.field)
            empty = None if field.null else ""
            Household.objects.filter(pk=household.pk).update(**{requirement.field: empty})
    _assert_equal(county.village_a2)


def test_bulk_registration_rows_carry_the_stored_terms(cast, county):
    """households_bulk_register writes with COPY on PostgreSQL (bulk_create elsewhere): the
    database computes the generated columns all the same."""
    members = [
        factories.member_data(name="王大"),
        factories.member_data(
            name="王小",
            relation="子女",
            birth_date=datetime.date(2012, 3, 1),
            school_status="小学在读",
            education="",
            labour_skill="",
        ),
        factories.member_data(
            name="王老", relation="父亲", birth_date=datetime.date(1950, 3, 1), ethnicity=""
        ),
    ]
    with transaction.atomic():
        household_services.households_bulk_register(
            actor=cast.county,
            households=[
                (
                    {
                        "village": county.village_b,
                        "number": "BULK-C1",
                        "status": Household.Status.POOR,
                        "exit_year": None,
                        "main_cause": "缺技术",
                        "poverty_attribute": "",
                        "water_safe": True,
                    },
                    members,
                    None,
                )
            ],
            reason="导入",
        )
    household = Household.objects.get(number="BULK-C1")
    assert (household.completeness_filled, household.completeness_required) == (2, 9)
    assert household.members.filter(is_active=True).count() == 3
    _assert_equal(county.village_b)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL covering indexes")
def test_the_completeness_pass_has_covering_indexes(db):
    """On PostgreSQL the pass needs no heap row (bench/rates.py's EXPLAIN shows index-only
    scans once the tables are vacuumed): the indexes hold every column it reads."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('member_completeness_idx', 'household_completeness_idx')"
        )
        definitions = dict(cursor.fetchall())
    assert definitions["member_completeness_idx"].endswith(
        "USING btree (household_id) INCLUDE (birth_date, completeness_mask) WHERE is_active"
    )
    assert definitions["household_completeness_idx"].endswith(
        "USING btree (village_id) INCLUDE (id, completeness_filled, completeness_required)"
    )
