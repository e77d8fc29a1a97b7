"""`statements.fetch`: a kept statement runs the SQL Django would compile and returns the rows
Django would return, for every role's scope, every statement the pages keep, on its own
thread's connection, and compiles only its WHERE clause once kept."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections
from django.db.models import Value
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from households import selectors, standards
from households.models import Household, Member, PovertyLine, Standard
from households.national import marks
from povertyapp import roles, statements
from povertyapp.models import User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept():
    statements.forget()
    yield
    statements.forget()


def snapshot(obj: Any) -> dict[str, Any]:
    """Everything a page reads of a fetched object: its fields, its annotations and the
    objects `select_related` brought."""
    values = {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}
    values.update(
        (name, getattr(obj, name))
        for name in (
            "open_workflow_id",
            "id_elsewhere",
            "national_entered_on",
            "national_marked_by",
            "line_amount",
            *selectors.MEMBER_FIGURES,
            *selectors.detail_tabs.page_reads(),
        )
        if hasattr(obj, name)
    )
    for related in ("village", "group", "marked_by"):
        if related in obj._state.fields_cache:
            target = obj._state.fields_cache[related]
            values[related] = target and (target.pk, str(target))
            if related == "village":
                values["village.parent"] = str(target.parent)
    return values


def fetched_and_expected(queryset: Any, statement: Any) -> tuple[list[Any], list[Any], str, str]:
    """The rows and the SQL of `statements.fetch` and of Django's own evaluation."""
    with CaptureQueriesContext(connection) as ours:
        got = statements.fetch(queryset, statement=statement)
    with CaptureQueriesContext(connection) as django:
        expected = list(queryset.all())
    return (
        [snapshot(obj) for obj in got],
        [snapshot(obj) for obj in expected],
        "\n".join(query["sql"] for query in ours.captured_queries),
        "\n".join(query["sql"] for query in django.captured_queries),
    )


def every_role(cast: Any, county: Any) -> list[User]:
    users = [getattr(cast, name) for name in cast.__dataclass_fields__]
    users += [
        factories.user("city", User.Role.CITY_OFFICER, county.city),
        factories.user("province", User.Role.PROVINCE_OFFICER, county.province),
        factories.user(
            "department",
            User.Role.DEPARTMENT,
            county.county,
            department=User.Department.MEDICAL_INSURANCE,
        ),
    ]
    assert {user.role for user in users} == set(User.Role.values)
    return users


def test_the_household_statements_for_every_role(cast, county, household_a, household_b):
    """The household page's statement and `household_get_for_user`'s, twice each (the first
    compiles and keeps, the second runs the kept SQL): the same SQL and the same objects as
    Django's, for every role's scope and three keys (a household of village A, one of
    village B, none)."""
    users = every_role(cast, county)
    seen = set()
    for statement in (selectors._household_page_statement(), selectors._household_statement()):
        for user in users:
            for household_id in (household_a.pk, household_b.pk, 999_999):
                queryset = roles.household_scope(user, statement).filter(pk=household_id)
                for _ in range(2):
                    got, expected, our_sql, django_sql = fetched_and_expected(queryset, statement)
                    assert got == expected, (user.role, household_id)
                    assert our_sql == django_sql, (user.role, household_id)
                seen.add((user.role, len(expected)))
    # The cast reaches both outcomes: some roles see household A, others nothing.
    assert (User.Role.COUNTY_OFFICER, 1) in seen
    assert (User.Role.HELPER, 1) in seen
    assert (User.Role.SYSTEM_ADMIN, 0) in seen


def test_the_other_kept_statements(cast, county, household_a, household_b):
    """The badge's, the members' (with `id_elsewhere` and their national marks), the incomes'
    (with each year's poverty line) and the poverty lines' statements, each a first and a
    second time."""
    household_a.incomes.create(year=2024, wage=Decimal("900"))
    household_a.incomes.create(year=2025, wage=Decimal("1000"))
    marks.national_mark_household(
        user=cast.county, household=household_a, entered_on=datetime.date(2026, 3, 1)
    )
    PovertyLine.objects.create(
        year=2030, standard=Standard.PROVINCIAL, region=county.province, amount=Decimal("5000")
    )
    PovertyLine.objects.create(
        year=2030, standard=Standard.PROVINCIAL, region=county.county, amount=Decimal("5200")
    )
    cases = [
        (selectors._household_badge_statement(), {"pk": household_a.pk}),
        (selectors._page_members_statement(), {"household_id": household_a.pk}),
        (selectors._page_members_statement(), {"household_id": household_b.pk}),
        (selectors._page_incomes_statement(), {"household_id": household_a.pk}),
        (standards._lines_statement(), {"year": 2030, "standard": Standard.PROVINCIAL}),
        (
            standards._lines_statement(),
            {"year": 2030, "region__in": [county.province.pk, county.county.pk]},
        ),
    ]
    for statement, lookups in cases:
        for _ in range(2):
            got, expected, our_sql, django_sql = fetched_and_expected(
                statement.filter(**lookups), statement
            )
            assert got, lookups
            assert got == expected, lookups
            assert our_sql == django_sql, lookups
    members = statements.fetch(
        selectors._page_members_statement().filter(household_id=household_a.pk),
        statement=selectors._page_members_statement(),
    )
    active = [member for member in members if member.is_active]
    assert active and all(
        member.national_entered_on == datetime.date(2026, 3, 1) for member in active
    )
    line = standards.poverty_line(year=2030, standard=Standard.PROVINCIAL, region=county.village_a)
    assert line == Decimal("5200")


def test_a_kept_statement_compiles_only_its_where_clause(county, household_a, household_b):
    statement = Household.objects.select_related("village")
    assert (
        statements.fetch(statement.filter(pk=household_a.pk), statement=statement)[0] == household_a
    )
    with mock.patch.object(SQLCompiler, "get_select", autospec=True) as get_select:
        second = statements.fetch(statement.filter(pk=household_b.pk), statement=statement)
    assert get_select.call_count == 0
    assert [household.pk for household in second] == [household_b.pk]
    assert second[0].village.name == household_b.village.name


def test_another_shape_of_one_statement_is_compiled_for_itself(county, household_a, household_b):
    """A caller who breaks the contract gets its own statement's rows, not another's."""
    statement = Household.objects.all()
    by_key = statements.fetch(statement.filter(pk=household_a.pk), statement=statement)
    by_number = statements.fetch(statement.filter(number=household_b.number), statement=statement)
    ordered = statements.fetch(statement.order_by("-pk"), statement=statement)
    sliced = statements.fetch(statement.order_by("pk")[:1], statement=statement)
    one = statement.filter(pk=household_a.pk)
    annotated = statements.fetch(one.annotate(mark=Value(7)), statement=statement)
    values = statements.fetch(one.values("number", "status"), statement=statement)
    related = statements.fetch(one.select_related("village"), statement=statement)
    deferred = statements.fetch(one.only("number"), statement=statement)
    assert [household.pk for household in by_key] == [household_a.pk]
    assert [household.pk for household in by_number] == [household_b.pk]
    assert [household.pk for household in ordered] == sorted(
        [household_a.pk, household_b.pk], reverse=True
    )
    assert [household.pk for household in sliced] == [min(household_a.pk, household_b.pk)]
    assert [household.mark for household in annotated] == [7]
    assert values == [{"number": household_a.number, "status": household_a.status}]
    assert "village" in related[0]._state.fields_cache
    assert deferred[0].get_deferred_fields() == one.only("number")[0].get_deferred_fields()
    assert "status" in deferred[0].get_deferred_fields()


def test_an_empty_scope_and_an_empty_filter(cast, household_a):
    statement = selectors._household_page_statement()
    assert (
        statements.fetch(roles.household_scope(cast.sysadmin, statement), statement=statement) == []
    )
    assert statements.fetch(statement.filter(pk__in=[]), statement=statement) == []
    members = Member.objects.order_by("pk")
    everything = statements.fetch(members, statement=members)
    assert [member.pk for member in everything] == list(
        Member.objects.order_by("pk").values_list("pk", flat=True)
    )


def test_a_statement_of_too_many_shapes_is_compiled_per_request(county, household_a):
    """A filter whose text changes per request (a list of ever other length) stops being kept
    at `MAX_SHAPES`, and its rows stay right."""
    statement = Household.objects.all()
    for length in range(1, statements.MAX_SHAPES + 5):
        ids = [household_a.pk, *range(10_000, 10_000 + length - 1)]
        got = statements.fetch(statement.filter(pk__in=ids), statement=statement)
        assert [household.pk for household in got] == [household_a.pk]
    assert len(statements._kept) == statements.MAX_SHAPES


@pytest.mark.django_db(transaction=True)
def test_a_thread_fetches_on_its_own_connection(county, cast):
    """The kept compiler holds the connection it compiled on; connections are per thread, and
    Django refuses to share one (`DatabaseError`)."""
    household = factories.household(actor=cast.county, village=county.village_a)
    statement = Household.objects.select_related("village")
    assert statements.fetch(statement.filter(pk=household.pk), statement=statement)[0] == household
    outcome: dict[str, Any] = {}

    def other_thread() -> None:
        used = []
        try:
            with connections["default"].execute_wrapper(
                lambda execute, sql, params, many, context: (
                    used.append(sql) or execute(sql, params, many, context)
                )
            ):
                outcome["rows"] = statements.fetch(
                    statement.filter(pk=household.pk), statement=statement
                )
            outcome["used"] = used
        except Exception as error:  # reported to the test's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    assert [row.pk for row in outcome["rows"]] == [household.pk]
    assert len(outcome["used"]) == 1


def test_past_max_kept_everything_is_dropped_and_kept_again(monkeypatch, household_a):
    """Statements built again each day (the list's rows) leave their old entries behind:
    past `MAX_KEPT` the dictionary starts over instead of refusing to keep."""
    monkeypatch.setattr(statements, "MAX_KEPT", 3)
    for _ in range(5):
        statement = Household.objects.all()  # a new statement each time, as on a new day
        got = statements.fetch(statement.filter(pk=household_a.pk), statement=statement)
        assert [household.pk for household in got] == [household_a.pk]
        assert 1 <= len(statements._kept) <= 3
    assert len(statements._statements) == len(statements._kept)


def test_the_list_rows_statement(household_a, household_b):
    """The household list's rows (plain values, the apps' warnings of the day), for one page
    of ids and another of a different length, a first and a second time."""
    warnings = selectors.detail_tabs.list_warnings(on=datetime.date(2026, 12, 6))
    statement = selectors._list_rows_statement(warnings)
    for ids in ([household_a.pk, household_b.pk], [household_b.pk], [household_a.pk]):
        for _ in range(2):
            with CaptureQueriesContext(connection) as ours:
                got = statements.fetch(statement.filter(pk__in=ids), statement=statement)
            with CaptureQueriesContext(connection) as django:
                expected = list(statement.filter(pk__in=ids))
            assert got == expected and len(got) == len(ids)
            assert [query["sql"] for query in ours] == [query["sql"] for query in django]
    rows = selectors.household_list_rows([household_b.pk, household_a.pk], warnings=warnings)
    assert [row["pk"] for row in rows] == [household_b.pk, household_a.pk]
