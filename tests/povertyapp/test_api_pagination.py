"""The API's pages count at most `LIST_COUNT_CAP` rows (issue 19): up to the cap the count is
exact, past it the answer says so (`count_capped`), the pages end at the cap, and the count is
one statement over at most cap + 1 rows whatever the list holds."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.conftest import login
from tests.production_env import settings_subprocess

pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"


@pytest.fixture
def five(cast, county):
    return [factories.household(actor=cast.county, village=county.village_a) for _ in range(5)]


def test_under_the_cap_the_count_is_exact(five, cast, settings):
    settings.LIST_COUNT_CAP = 5
    body = login(cast.county).get(f"{URL}?page_size=2").json()
    assert (body["count"], body["count_capped"]) == (5, False)
    assert len(body["results"]) == 2 and body["next"]


def test_past_the_cap_the_count_stops_and_says_so(five, cast, settings):
    settings.LIST_COUNT_CAP = 3
    client = login(cast.county)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"{URL}?page_size=2").json()
    assert (body["count"], body["count_capped"]) == (3, True)
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1 and "LIMIT 4" in counts[0], counts
    second = client.get(f"{URL}?page_size=2&page=2").json()
    assert len(second["results"]) == 1 and second["next"] is None  # the pages end at the cap
    assert client.get(f"{URL}?page_size=2&page=3").status_code == 404


def test_the_schema_names_the_capped_count(cast):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paginated = [
        component
        for name, component in schema["components"]["schemas"].items()
        if name.startswith("Paginated")
    ]
    assert paginated
    for component in paginated:
        assert component["properties"]["count_capped"]["type"] == "boolean"
        assert "count_capped" in component["required"]


def test_a_name_search_is_counted_from_its_members_up_to_the_cap(five, cast, settings):
    """POST /api/v1/households/search/ with a name: the count is the members-driven one
    (households.selectors.name_search_counter), exact under the cap, capped past it."""
    factories.household(
        actor=cast.county,
        village=five[0].village,
        members=[factories.member_data(name="欧阳五")],
    )
    client = login(cast.county)
    settings.LIST_COUNT_CAP = 10
    body = client.post(
        f"{URL}search/?page_size=2", {"q": "张"}, content_type="application/json"
    ).json()
    assert (body["count"], body["count_capped"]) == (5, False)
    settings.LIST_COUNT_CAP = 3
    body, counted = _search(client, {"q": "张"})
    assert (body["count"], body["count_capped"]) == (3, True)
    assert len(counted) == 1 and "LIMIT 4" in counted[0], counted
    body = client.post(f"{URL}search/", {"q": "欧阳"}, content_type="application/json").json()
    assert (body["count"], body["count_capped"]) == (1, False)


def test_a_name_search_stops_at_the_search_cap_and_other_lists_at_the_list_cap(
    five, cast, settings
):
    """A name search is counted up to `SEARCH_COUNT_CAP` (its count reads the matching members
    one by one), every other list up to `LIST_COUNT_CAP`."""
    settings.LIST_COUNT_CAP = 10
    settings.SEARCH_COUNT_CAP = 3
    client = login(cast.county)
    body, counted = _search(client, {"q": "张"})
    assert (body["count"], body["count_capped"]) == (3, True)
    assert len(counted) == 1 and "LIMIT 4" in counted[0], counted
    body = client.get(f"{URL}?page_size=2").json()
    assert (body["count"], body["count_capped"]) == (5, False)
    body, counted = _search(client, {"status": "poor"})
    assert (body["count"], body["count_capped"], counted) == (5, False, [])


def test_a_name_search_cuts_its_pages_from_the_matches_its_count_found(five, cast, settings):
    """Past the cap, as under it, the search's pages are the matches the count found, in
    户编号 order, cut in Python: no statement reads a page of the matches in SQL (in the
    largest county that statement took 721 ms, more than the count)."""
    settings.SEARCH_COUNT_CAP = 3
    client = login(cast.county)
    numbers = sorted(household.number for household in five)
    pages = []
    for page in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            body = client.post(
                f"{URL}search/?page_size=2&page={page}",
                {"q": "张"},
                content_type="application/json",
            ).json()
        assert (body["count"], body["count_capped"]) == (3, True)
        named = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"]]
        counted = [sql for sql in named if "household_row" in sql]
        assert len(counted) == 1, named
        for sql in named:
            # the count, or the page's rows read by their ids
            assert sql in counted or re.search(r'"id" IN \([\d, ]+\)\)?$', sql), sql
        pages.append([row["number"] for row in body["results"]])
    assert [len(page) for page in pages] == [2, 1]
    shown = pages[0] + pages[1]
    assert shown == sorted(shown) and set(shown) <= set(numbers)
    settings.SEARCH_COUNT_CAP = 10
    body = client.post(
        f"{URL}search/?page_size=10", {"q": "张"}, content_type="application/json"
    ).json()
    assert [row["number"] for row in body["results"]] == numbers
    body = client.post(
        f"{URL}search/?page_size=10",
        {"q": "张", "ordering": "-number"},
        content_type="application/json",
    ).json()
    assert [row["number"] for row in body["results"]] == numbers[::-1]


def _search(client, data):
    """POST a search; its answer and the statements that counted it from the members."""
    with CaptureQueriesContext(connection) as queries:
        body = client.post(
            f"{URL}search/?page_size=2", data, content_type="application/json"
        ).json()
    counted = [q["sql"] for q in queries.captured_queries if "household_row" in q["sql"]]
    return body, counted


@pytest.mark.parametrize(
    ("environment", "refused"),
    [
        ({}, False),
        ({"SEARCH_COUNT_CAP": "500"}, False),
        ({"SEARCH_COUNT_CAP": "0"}, True),
        ({"SEARCH_COUNT_CAP": "20000"}, True),
        ({"LIST_COUNT_CAP": "0"}, True),
    ],
)
def test_the_settings_refuse_a_search_cap_outside_the_list_cap(environment, refused):
    result = settings_subprocess("SEARCH_COUNT_CAP", **environment)
    assert (result.returncode != 0) is refused, result.stderr
    if refused:
        assert "ImproperlyConfigured" in result.stderr
    else:
        assert result.stdout.split() == [environment.get("SEARCH_COUNT_CAP", "200")]
