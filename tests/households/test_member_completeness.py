"""The members' 信息录入率 sums kept per household (households.completeness, MemberCompleteness).

A kept row must never be read when it is wrong: it holds from its refresh until the first day a
member reaches an age at which a field starts or stops being required (checked here against the
quality module's own rules, day by day, around every such birthday and 29 February), and every
write of a member column the sums depend on, by any writer, marks the household out of date
(database triggers: the ORM's save, update() and delete(), raw SQL; the COPY of the bulk
registration in tests/rounds/test_rates_completeness.py). A refresh that read the members before a
concurrent write stores nothing for that household (PostgreSQL). Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from households import completeness, quality, standards
from households import services as household_services
from households.models import Household, Member, MemberCompleteness
from povertyapp import jobs
from povertyapp.models import Job
from rounds import rates
from tests import factories

DAY = datetime.date(2025, 6, 15)
ONE = datetime.timedelta(days=1)


def _row(household: Household) -> MemberCompleteness | None:
    return MemberCompleteness.objects.filter(household=household).first()


def _holds(household: Household, day: datetime.date) -> bool:
    row = _row(household)
    return bool(
        row is not None
        and row.valid_from is not None
        and row.valid_until is not None
        and row.valid_from <= day < row.valid_until
    )


def _member_terms(household: Household, day: datetime.date) -> tuple[int, int]:
    """The quality module's member terms of the household on `day` (its own fields left out)."""
    (context,) = quality.contexts_for(Household.objects.filter(pk=household.pk), today=day)
    filled = required = 0
    for member in context.members:
        for requirement in quality.MEMBER_REQUIRED:
            if requirement.applies(context, member):
                required += 1
                filled += not quality._empty(getattr(member, requirement.field))
    return filled, required


def _requirements(member: Member, day: datetime.date) -> tuple[bool, ...]:
    """Which of the quality module's member requirements apply to `member` on `day`."""
    context = quality.Context(
        household=member.household,
        members=[member],
        today=day,
        income=None,
        has_helper=None,
        measures=None,
        line_for=lambda *args: None,
    )
    return tuple(requirement.applies(context, member) for requirement in quality.MEMBER_REQUIRED)


def _first_change(members: list[Member], day: datetime.date, horizon: datetime.date):
    """The first day after `day`, up to `horizon`, on which a requirement of a member starts or
    stops, found day by day with the quality module (None: none up to the horizon)."""
    before = [_requirements(member, day) for member in members]
    current = day + ONE
    while current <= horizon:
        now = [_requirements(member, current) for member in members]
        if now != before:
            return current
        current += ONE
    return None


def _household_with_birthdays(cast, county, births: list[datetime.date]) -> Household:
    household = factories.household(actor=cast.county, village=county.village_a)
    Member.objects.bulk_create(
        Member(
            household=household,
            county_id=household.county_id,
            name=f"成员{number}",
            sex="男",
            relation="子女",
            birth_date=birth,
            ethnicity="苗族",
            school_status="小学在读" if number % 2 else "",
            labour_skill="" if number % 3 else "普通劳动力",
            health="健康",
        )
        for number, birth in enumerate(births)
    )
    return household


def test_kept_sums_hold_until_a_member_reaches_an_age_bound(cast, county):
    """Members reaching 6, 16, 24 and 66 within the next two years (one of them born on 29
    February): on each day around every such birthday the kept sums, where they hold, equal
    the quality module's, and `valid_until` is the first day a requirement changes, found day
    by day. Refreshed on the evening of each day, as the nightly job does."""
    births = [
        standards.years_before(DAY, age) + datetime.timedelta(days=offset)
        for age, offset in ((6, 40), (16, 200), (24, 400), (66, 600))
    ]
    births.append(datetime.date(2004, 2, 29))  # 24 on 1 March 2028... and 66 never soon
    births.append(datetime.date(1961, 2, 28))  # reaches 66 on 28 February 2027
    births.append(datetime.date(2020, 2, 29))  # 6 on 1 March 2026 (a common year)
    births.append(datetime.date(2020, 3, 1))  # 6 on 1 March 2026, the day after 28 February
    household = _household_with_birthdays(cast, county, births)
    members = list(household.members.filter(is_active=True).select_related("household"))
    horizon = DAY + datetime.timedelta(days=1000)
    day = DAY
    seen = 0
    while True:
        assert completeness.refresh_households([household.pk], day) == 1
        row = _row(household)
        assert (row.filled, row.required) == _member_terms(household, day), day
        change = _first_change(members, day, horizon)
        if change is None:
            assert row.valid_until > horizon
            break
        assert row.valid_until == change, (day, row.valid_until, change)
        # The day before the change the row still holds and is right; on the day it does not.
        assert _holds(household, change - ONE)
        assert (row.filled, row.required) == _member_terms(household, change - ONE)
        assert not _holds(household, change)
        assert _member_terms(household, change) != (row.filled, row.required)
        seen += 1
        day = change
    assert seen >= 7  # every birthday above, each a change


def test_the_rates_job_reads_kept_sums_only_where_they_hold(cast, county):
    """Two households refreshed on DAY: on a day when one of them has passed its
    `valid_until`, the job still equals the quality module (that household's members read)."""
    young = _household_with_birthdays(
        cast, county, [standards.years_before(DAY, 6) + datetime.timedelta(days=10)]
    )
    old = _household_with_birthdays(cast, county, [datetime.date(1970, 1, 1)])
    completeness.refresh_households([young.pk, old.pk], DAY)
    later = DAY + datetime.timedelta(days=30)
    assert _holds(old, later) and not _holds(young, later)
    contexts = quality.contexts_for(Household.objects.filter(village=county.village_a), today=later)
    terms = [quality.completeness(context) for context in contexts]
    total = (sum(f for f, _r in terms), sum(r for _f, r in terms))
    for share in (0.0, 1.0):
        rates.STALE_SHARE, saved = share, rates.STALE_SHARE
        try:
            result = rates.completeness_by_village(village_ids=[county.village_a.pk], today=later)
        finally:
            rates.STALE_SHARE = saved
        assert result[county.village_a.pk] == total


@pytest.mark.parametrize(
    "change",
    [
        "add",
        "remove",
        "birth_date",
        "field",
        "deactivate",
        "move",
        "raw_sql",
        "delete",
    ],
)
def test_every_member_write_the_sums_depend_on_marks_the_household_out_of_date(
    cast, county, change
):
    first = factories.household(actor=cast.county, village=county.village_a)
    second = factories.household(actor=cast.county, village=county.village_a)
    completeness.refresh_households([first.pk, second.pk], DAY)
    assert _holds(first, DAY) and _holds(second, DAY)
    member = first.members.filter(is_active=True).order_by("-id").first()
    if change == "add":
        household_services.member_add(
            actor=cast.county,
            household=first,
            data=factories.member_data(
                name="新成员", relation="之子", birth_date=datetime.date(2015, 1, 1)
            ),
            expected_version=first.version,
        )
    elif change == "remove":
        household_services.member_remove(
            actor=cast.county,
            member=member,
            reason="死亡",
        )
    elif change == "birth_date":
        Member.objects.filter(pk=member.pk).update(birth_date=datetime.date(2012, 1, 1))
    elif change == "field":
        member.labour_skill = ""
        member.save()
    elif change == "deactivate":
        Member.objects.filter(pk=member.pk).update(is_active=False, left_reason="迁出")
    elif change == "move":
        Member.objects.filter(pk=member.pk).update(household=second)
    elif change == "raw_sql":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE households_member SET ethnicity = '' WHERE id = %s", [member.pk])
    elif change == "delete":
        Member.objects.filter(pk=member.pk).delete()
    assert not _holds(first, DAY)
    assert _holds(second, DAY) == (change != "move")  # a moved member changes both
    completeness.refresh_households([first.pk, second.pk], DAY)
    assert _holds(first, DAY) and _holds(second, DAY)
    for household in (first, second):
        row = _row(household)
        assert (row.filled, row.required) == _member_terms(household, DAY)


def test_writes_the_sums_do_not_depend_on_keep_them(cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    completeness.refresh_households([household.pk], DAY)
    generation = _row(household).generation
    Member.objects.filter(household=household).update(name="改名", phone="13800000000")
    Household.objects.filter(pk=household.pk).update(main_cause="缺资金")
    assert _holds(household, DAY)
    assert _row(household).generation == generation


def test_the_row_follows_its_household_to_another_village_and_goes_with_it(cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    completeness.refresh_households([household.pk], DAY)
    Household.objects.filter(pk=household.pk).update(village=county.village_b)
    row = _row(household)
    assert row.village_id == county.village_b.pk and not _holds(household, DAY)
    completeness.refresh_households([household.pk], DAY)
    assert _holds(household, DAY) and _row(household).village_id == county.village_b.pk
    # Households are never deleted by the application (removal is a status); a deleted one
    # (a test's, an administrator's SQL) takes its row with it.
    bare = Household.objects.create(village=county.village_a, number="DEL-1")
    completeness.refresh_households([bare.pk], DAY)
    assert _holds(bare, DAY) and (_row(bare).filled, _row(bare).required) == (0, 0)
    Household.objects.filter(pk=bare.pk).delete()
    assert not MemberCompleteness.objects.filter(household_id=bare.pk).exists()


def test_refresh_brings_a_county_up_to_date_and_skips_what_holds(cast, county):
    households = [
        factories.household(actor=cast.county, village=village)
        for village in (county.village_a, county.village_a2, county.village_b)
    ]
    assert not any(_holds(household, DAY) for household in households)
    assert completeness.refresh(county.county, today=DAY) == {"households": 3, "stored": 3}
    assert all(_holds(household, DAY) for household in households)
    assert completeness.refresh(county.county, today=DAY) == {"households": 0, "stored": 0}
    Member.objects.filter(household=households[1]).update(health="")
    assert completeness.refresh(county.county, today=DAY) == {"households": 1, "stored": 1}


def test_the_nightly_job_refreshes_its_county(cast, county):
    """The beat entry and its once-a-night enqueueing: tests/years/test_nightly.py."""
    from django.utils import timezone

    household = factories.household(actor=cast.county, village=county.village_a)
    job = jobs.job_create(user=None, kind=completeness.JOB_KIND, region=county.county)
    job = jobs.job_run(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"households": 1, "stored": 1}
    assert _holds(household, timezone.localdate())
    township = jobs.job_create(user=None, kind=completeness.JOB_KIND, region=county.township1)
    township = jobs.job_run(township.pk)
    assert township.status == Job.Status.FAILED and township.error == "请选择县。"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite copies tables to alter them")
def test_sqlite_triggers_put_back_after_a_table_copy_leave_nothing_kept_wrong(cast, county):
    """What Django's table copy does to the triggers (a later migration altering the member
    table): `households.apps.sqlite_triggers_ensure` puts them back after migrating and marks
    every kept row out of date, since a member written meanwhile left no mark."""
    from households.apps import sqlite_triggers_ensure

    household = factories.household(actor=cast.county, village=county.village_a)
    completeness.refresh_households([household.pk], DAY)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER households_member_terms_update")
    Member.objects.filter(household=household).update(ethnicity="")
    assert _holds(household, DAY)  # wrong: nothing marked it
    sqlite_triggers_ensure(using="default")
    assert not _holds(household, DAY)
    completeness.refresh_households([household.pk], DAY)
    assert (_row(household).filled, _row(household).required) == _member_terms(household, DAY)
    Member.objects.filter(household=household).update(health="")
    assert not _holds(household, DAY)  # the trigger is back


_postgresql_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="two connections at once: PostgreSQL only",
)


@_postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_read_before_a_concurrent_write_stores_nothing(cast, county):
    """A member written in a transaction still open while a refresh runs: the refresh waits
    for the row the write's trigger locked, then finds its generation moved on and leaves the
    household out of date, so the write is never hidden behind sums read before it."""
    household = factories.household(actor=cast.county, village=county.village_a)
    completeness.refresh_households([household.pk], DAY)
    Member.objects.filter(household=household).update(health="")  # out of date, generation n
    member = household.members.filter(is_active=True).first()
    outcome: dict[str, int] = {}
    writing = threading.Event()
    release = threading.Event()

    def write() -> None:
        try:
            with transaction.atomic():
                Member.objects.filter(pk=member.pk).update(ethnicity="")
                writing.set()
                release.wait(10)
        finally:
            connections.close_all()

    def refresh() -> None:
        try:
            with transaction.atomic():
                outcome["stored"] = completeness.refresh_households([household.pk], DAY)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    assert writing.wait(10)
    refresher = threading.Thread(target=refresh)
    refresher.start()
    refresher.join(1.0)
    assert refresher.is_alive()  # waiting for the writer's row
    release.set()
    writer.join(10)
    refresher.join(10)
    assert outcome == {"stored": 0}
    assert not _holds(household, DAY)
    assert completeness.refresh_households([household.pk], DAY) == 1
    assert _row(household).filled == _member_terms(household, DAY)[0]


def test_the_command_refreshes_one_county_or_every_county(cast, county):
    from io import StringIO

    from django.core.management import CommandError, call_command

    household = factories.household(actor=cast.county, village=county.village_a)
    output = StringIO()
    call_command("refresh_member_completeness", "--county", "522622000000", stdout=output)
    assert "522622000000 黄平县: 1 out of date, 1 stored" in output.getvalue()
    from django.utils import timezone

    assert _holds(household, timezone.localdate())
    output = StringIO()
    # Kept from today on: an earlier day is out of date (its sums are computed again).
    call_command("refresh_member_completeness", "--date", "2020-01-01", stdout=output)
    assert output.getvalue().splitlines()[-1].startswith("1 households out of date, 1 stored")
    assert _holds(household, datetime.date(2020, 1, 1))
    with pytest.raises(CommandError, match="999999000000"):
        call_command("refresh_member_completeness", "--county", "999999000000")
