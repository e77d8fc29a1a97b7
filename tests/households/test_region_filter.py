"""The household list above the county (issue 19): the region is chosen a step at a time
(县, 乡镇, 行政村), no select of any page offers a province's villages at once, the county and
township filters count from the kept counts, and the count of a search stops at the cap."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.db.models import Count
from django.http import Http404
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from households import quality, selectors
from households.filters import CountyNameKeys, HouseholdFilter
from households.models import Household, Member
from households.selectors import household_list_counts
from monitoring.models import MonitoringObject
from povertyapp import roles
from povertyapp.models import Job, Region, User
from tests import factories
from tests.conftest import login
from tests.povertyapp.test_no_ids_in_urls import _parameterless_urls

# Of each further county: more than any one select may list, and more than the longest fixed
# list of a page (the quality page's 38 rules), so that only a list of regions can pass it.
VILLAGES = 50


@pytest.fixture
def province(county):
    """Two more counties of the province, each with two townships of VILLAGES / 2 villages."""
    counties = []
    for c, code in enumerate(("522623", "522624")):
        county_region = factories.region(
            f"{code}000000", f"第{c}县", Region.Level.COUNTY, county.city
        )
        for t in range(2):
            township = factories.region(
                f"{code}{100 + t}000", f"第{c}县{t}镇", Region.Level.TOWNSHIP, county_region
            )
            for v in range(VILLAGES // 2):
                factories.region(
                    f"{code}{100 + t}{200 + v}", f"{c}{t}村{v}", Region.Level.VILLAGE, township
                )
        counties.append(county_region)
    return counties


@pytest.fixture
def auditor(county, province):
    """A province-wide 评估/审计员 (a case role whose scope is the whole province)."""
    return factories.user("provaudit", User.Role.AUDITOR, county.province)


# Pages whose region select still lists every village (or region) of the user's scope: none
# since every region filter asks for the county first (povertyapp/regions.py). A page listed
# here is one the walk lets through: add none.
NOT_YET_BOUNDED: dict[str, tuple[str, int]] = {}

_SELECT = re.compile(r"<select\b[^>]*\bname=\"(\w+)\"[^>]*>(.*?)</select>", re.S)


def _largest_select(html: str) -> tuple[int, str]:
    """The most <option>s any select of the page has (but the empty choice), and its name."""
    found = [(body.count("<option") - 1, name) for name, body in _SELECT.findall(html)]
    return max(found, default=(0, ""))


def test_no_page_offers_a_province_user_more_than_one_county_of_regions(
    cast, county, province, auditor, household_a
):
    """Every parameterless page, and the household list with a county chosen, as the province
    user: no select lists more than the regions of one county (VILLAGES here; the province has
    2 × VILLAGES + 3 villages)."""
    client = login(auditor)
    pages = 0
    offending = []
    for url in [
        *_parameterless_urls(),
        f"/households/?county={province[0].pk}",
        f"/households/?county={province[0].pk}&township={province[0].children.first().pk}",
    ]:
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        options, name = _largest_select(response.content.decode())
        if options > VILLAGES:
            offending.append((url, name, options))
    assert pages > 5
    assert sorted(offending) == sorted(
        (url, name, options) for url, (name, options) in NOT_YET_BOUNDED.items()
    )


def test_the_walk_sees_a_province_of_villages(cast, county, province, auditor):
    """The walk itself: a select of every village of the province is caught."""
    villages = "".join(
        f'<option value="{pk}">x</option>'
        for pk in Region.objects.filter(level=Region.Level.VILLAGE).values_list("pk", flat=True)
    )
    html = f'<select name="village"><option value="">全部</option>{villages}</select>'
    assert _largest_select(html) == (2 * VILLAGES + 3, "village")


def test_the_list_asks_a_province_user_for_the_county_first(
    cast, county, province, auditor, household_a
):
    client = login(auditor)
    response = client.get("/households/")
    html = response.content.decode()
    selects = dict(_SELECT.findall(html))
    assert selects["county"].count("<option") == 1 + 3  # 全部 and the province's counties
    assert selects["township"].count("<option") == 1
    assert selects["village"].count("<option") == 1
    assert "请先选择县" in selects["village"]
    # A link to one village (no county chosen) keeps it chosen, alone.
    response = client.get("/households/", {"village": county.village_a.pk})
    selects = dict(_SELECT.findall(response.content.decode()))
    assert selects["village"].count("<option") == 1 + 1
    assert f'value="{county.village_a.pk}" selected' in selects["village"]
    # Without script: the county chosen and the form sent, its townships and villages.
    response = client.get("/households/", {"county": province[1].pk})
    selects = dict(_SELECT.findall(response.content.decode()))
    assert selects["township"].count("<option") == 1 + 2
    assert selects["village"].count("<option") == 1 + VILLAGES
    township = province[1].children.order_by("code").first()
    response = client.get("/households/", {"county": province[1].pk, "township": township.pk})
    selects = dict(_SELECT.findall(response.content.decode()))
    assert selects["village"].count("<option") == 1 + VILLAGES // 2
    # The county office sees its own townships, not a county select.
    selects = dict(_SELECT.findall(login(cast.county).get("/households/").content.decode()))
    assert "county" not in selects
    assert selects["township"].count("<option") == 1 + 2
    assert selects["village"].count("<option") == 1 + 3


def test_the_region_options_follow_the_chosen_county_within_the_scope(
    cast, county, province, auditor
):
    response = login(auditor).get(
        "/regions/options/", {"changed": "county", "county": province[0].pk}
    )
    html = response.content.decode()
    assert html.count("第0县0镇") == 1 and html.count("第0县1镇") == 1
    # The villages of the county, out of band into the 行政村 select.
    assert re.search(r'<select name="village" id="id_village"[^>]* hx-swap-oob="true"', html)
    assert html.count("<option") == 1 + 2 + 1 + VILLAGES
    township = province[0].children.order_by("code").first()
    response = login(auditor).get(
        "/regions/options/", {"county": province[0].pk, "township": township.pk}
    )
    assert response.content.decode().count("<option") == 1 + VILLAGES // 2
    # A county office asking for another county's regions gets none of them.
    response = login(cast.county).get("/regions/options/", {"township": township.pk})
    assert response.content.decode().count("<option") == 1


def _live_counts(user, data) -> dict[str, int]:
    """The list's households by status under `data`, counted from the households themselves."""
    scoped = roles.household_scope(user, Household.objects.all())
    return {
        row["status"]: row["n"]
        for row in HouseholdFilter(data, queryset=scoped, user=user)
        .qs.order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }


@pytest.mark.parametrize(
    "data",
    [
        {"county": "COUNTY"},
        {"county": "OTHER"},
        {"county": "COUNTY", "status": "poor"},
        {"township": "T1"},
        {"township": "T1", "status": "exited"},
        {"county": "OTHER", "township": "T1"},
        {"county": "T1"},
        {"township": "COUNTY"},
        {"county": "COUNTY", "village": "VILLAGE_B"},
    ],
)
@pytest.mark.parametrize("who", ["auditor", "county", "township"])
def test_county_and_township_counts_equal_a_live_count(
    cast, county, province, auditor, household_a, data, who
):
    factories.household(actor=cast.county, village=county.village_a, status="exited")
    factories.household(actor=cast.county, village=county.village_b)
    names = {
        "COUNTY": str(county.county.pk),
        "OTHER": str(province[0].pk),
        "T1": str(county.township1.pk),
        "VILLAGE_B": str(county.village_b.pk),
    }
    data = {key: names.get(value, value) for key, value in data.items()}
    user = auditor if who == "auditor" else getattr(cast, who)
    expected = _live_counts(user, data)
    assert household_list_counts(user=user, data=data).by_status == expected


def test_a_name_search_page_is_cut_from_its_count(cast, county, household_a, client_for):
    """Under the cap, a name search's count reads every match's id and 户编号 and the page is
    cut from them (no second read of the matches); the pages are those the database's order
    gives (户编号, then id). Past the cap the pages are the first N matches the count found, in
    the same order, again with no second read; sorted otherwise, the page is read in SQL."""
    for n in range(24):
        factories.household(
            actor=cast.county,
            village=(county.village_a, county.village_b)[n % 2],
            number=f"52262210{(n * 7919) % 100000:08d}",
            members=[factories.member_data(name=f"杨{n}")],
        )
    client = client_for(cast.county)
    location = client.post("/households/", {"search_terms": "q", "q": "杨"})["Location"]
    expected = list(
        selectors.household_list(user=cast.county, filters={"q": "杨"}).values_list("pk", flat=True)
    )
    assert len(expected) == 24
    shown = []
    for page in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{location}&page={page}")
        shown += [row["pk"] for row in response.context["page"].object_list]
        assert not [
            q
            for q in queries.captured_queries
            if q["sql"].startswith('SELECT "households_household"."id" AS "pk" FROM')
        ]
    assert shown == expected
    assert response.context["page"].paginator.count == 24
    # Sorted by something else: the page comes from SQL, in that order.
    response = client.get(f"{location}&ordering=-number")
    assert [row["pk"] for row in response.context["page"].object_list] == expected[::-1][:20]
    with override_settings(LIST_COUNT_CAP=10), CaptureQueriesContext(connection) as queries:
        response = client.get(location)
    assert response.context["count_capped"] is True
    capped = [row["pk"] for row in response.context["page"].object_list]
    assert len(capped) == 10 and set(capped) <= set(expected)
    assert capped == [pk for pk in expected if pk in capped]  # 户编号 order
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "households_household"."id" AS "pk" FROM')
    ]


def test_the_count_of_a_search_stops_at_the_cap(cast, county, household_a, client_for):
    for _n in range(4):
        factories.household(actor=cast.county, village=county.village_a)
    head = household_a.members.get(relation="户主").name  # every household's head: 张三
    with override_settings(LIST_COUNT_CAP=3):
        counts = household_list_counts(user=cast.county, data={"q": head}, cap=3)
        assert (counts.total, counts.capped, counts.by_status) == (3, True, {})
        # At the cap exactly, or with a filter the kept counts answer: exact.
        counts = household_list_counts(user=cast.county, data={"q": head}, cap=5)
        assert (counts.total, counts.capped, counts.by_status) == (5, False, {"poor": 5})
        counts = household_list_counts(user=cast.county, data={}, cap=3)
        assert (counts.total, counts.capped) == (5, False)
        client = client_for(cast.county)
        response = client.post("/households/", {"search_terms": "q", "q": head})
        assert response.status_code == 302
        response = client.get(response["Location"] + "&page_size=20")
        html = response.content.decode()
        assert response.context["count_capped"] is True
        assert "超过 3 户" in html and "请输入完整姓名，或选择行政村" in html
        assert "第 1 页" in html and "第 1 / " not in html
        assert [count for _label, count, _value in response.context["status_counts"]] == [0] * len(
            Household.Status.choices
        )
        assert len(response.context["page"].object_list) == 3
        assert not response.context["page"].has_next()


def test_a_name_search_stops_at_the_search_cap(cast, county, household_a, client_for):
    """`SEARCH_COUNT_CAP`, smaller than `LIST_COUNT_CAP`: a name search says "more than N" past
    it, while a filter the kept counts cannot answer still counts to the list's cap."""
    for _n in range(4):
        factories.household(actor=cast.county, village=county.village_a, main_cause="缺技术")
    head = household_a.members.get(relation="户主").name  # every household's head: 张三
    with override_settings(LIST_COUNT_CAP=10, SEARCH_COUNT_CAP=3):
        counts = household_list_counts(user=cast.county, data={"q": head}, cap=10)
        assert (counts.total, counts.capped) == (3, True)
        counts = household_list_counts(user=cast.county, data={"cause": "缺技术"}, cap=10)
        technique = Household.objects.filter(main_cause="缺技术").count()
        assert (counts.total, counts.capped) == (technique, False) and technique > 3
        client = client_for(cast.county)
        response = client.post("/households/", {"search_terms": "q", "q": head})
        html = client.get(response["Location"]).content.decode()
        assert "超过 3 户" in html and "请输入完整姓名，或选择行政村" in html
    with override_settings(LIST_COUNT_CAP=3, SEARCH_COUNT_CAP=3):
        # Past the list's cap with no name searched: the general hint.
        html = client.get("/households/?cause=缺技术").content.decode()
        assert "超过 3 户" in html and "请缩小范围" in html
    with override_settings(LIST_COUNT_CAP=10, SEARCH_COUNT_CAP=5):
        counts = household_list_counts(user=cast.county, data={"q": head}, cap=10)
        assert (counts.total, counts.capped) == (5, False)


@pytest.mark.parametrize(
    "data",
    [
        {"q": "杨"},
        {"q": "杨", "status": "poor"},
        {"q": "杨", "village": "VILLAGE_A"},
        {"q": "杨", "county": "OTHER"},
        {"q": "杨梅"},
        {"q": "杨", "cause": "缺资金"},
        {"q": "李"},
    ],
)
@pytest.mark.parametrize("who", ["auditor", "county", "township", "cadre", "helper"])
def test_a_name_search_counted_from_its_members_equals_a_live_count(
    cast, county, province, auditor, household_a, data, who
):
    """The capped count of a name search runs from the matching members (selectors.
    _name_matches): each household once however many of its members match, only in the
    user's scope, under every other filter; past the cap, capped."""

    def members(*names):
        kinds = [("户主", "男", 1980), ("配偶", "女", 1982), ("之子", "男", 2005)]
        return [
            factories.member_data(
                name=name, relation=relation, sex=sex, birth_date=datetime.date(year, 1, 1)
            )
            for name, (relation, sex, year) in zip(names, kinds, strict=False)
        ]

    other_office = factories.user("other", User.Role.COUNTY_OFFICER, province[0])
    other_village = Region.objects.filter(path__startswith=province[0].path, level="village")[0]
    # Two members match in one household, one in another, none in a third; a match in another
    # county; and household_a (every member 张三) paired with the helper.
    factories.household(
        actor=cast.county, village=county.village_a, members=members("杨梅", "杨花")
    )
    factories.household(
        actor=cast.county, village=county.village_a2, status="exited", members=members("杨一")
    )
    factories.household(
        actor=cast.county,
        village=county.village_b,
        main_cause="缺资金",
        members=members("李四", "杨二"),
    )
    factories.household(actor=cast.county, village=county.village_b, members=members("王五"))
    factories.household(actor=other_office, village=other_village, members=members("杨三", "杨四"))
    names = {"VILLAGE_A": str(county.village_a.pk), "OTHER": str(province[0].pk)}
    data = {key: names.get(value, value) for key, value in data.items()}
    user = auditor if who == "auditor" else getattr(cast, who)
    expected = _live_counts(user, data)
    counts = household_list_counts(user=user, data=data, cap=100)
    assert (counts.by_status, counts.capped) == (expected, False)
    total = sum(expected.values())
    if total > 1:
        counts = household_list_counts(user=user, data=data, cap=total - 1)
        assert (counts.total, counts.capped) == (total - 1, True)
    counts = household_list_counts(user=user, data=data, cap=total)
    assert (counts.total, counts.capped) == (total, False)


def _counting_statements(user, data, cap):
    """The statements of a name search's count (those reading the matches' status and 户编号)."""
    scoped = roles.household_scope(user, Household.objects.all())
    household_filter = HouseholdFilter(data, queryset=scoped, user=user)
    with CaptureQueriesContext(connection) as queries:
        counts = household_list_counts(user=user, household_filter=household_filter, cap=cap)
    return counts, [q["sql"] for q in queries.captured_queries if "household_row" in q["sql"]]


def _plan(sql, *settings, params=None):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE households_member, households_household")
        for setting in settings:
            cursor.execute(setting)
        cursor.execute(f"EXPLAIN {sql}", params)
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_capped_count_of_a_name_search_streams(cast, county, province, auditor, household_a):
    """Below its LIMIT each statement holds no hash and no aggregate: nothing that reads every
    match before the first household is counted (the households' semi-join made the members'
    matches unique with a hash over all of them: 4.2 s at half a province). Each member is
    tested by probes (SubPlans), so the LIMIT stops the scan of the name index's matches."""
    _counts, statements = _counting_statements(auditor, {"q": "张", "status": "poor"}, cap=10)
    assert statements
    for sql in statements:
        plan = _plan(sql)
        below = plan[next(n for n, line in enumerate(plan) if "Limit" in line) :]
        assert not [line for line in below if "Hash" in line or "Aggregate" in line], plan
        assert any("SubPlan" in line for line in below), "\n".join(plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
@pytest.mark.parametrize("who", ["auditor", "county", "township", "cadre"])
def test_a_name_search_reads_the_county_keyed_name_index(
    cast, county, province, auditor, household_a, who
):
    """Every user whose scope is a region searches names through each county's own entries
    (`member_county_name_keys_idx`, migration 0022), never through the province-wide index
    whose entries of a common character are the whole province's (162 ms for 杨 at full
    size before the first row)."""
    user = auditor if who == "auditor" else getattr(cast, who)
    _counts, statements = _counting_statements(user, {"q": "张三"}, cap=10)
    assert statements
    for sql in statements:
        assert "member_county_name_keys(" in sql and "string_to_array" not in sql, sql
        assert "member_name_chars_idx" not in "\n".join(_plan(sql)), sql
    # The expression the search compiles to is the index's (which index the planner picks
    # for a few test rows is up to their statistics; on the bench's province it is this one).
    keyed = Member.objects.alias(county_name_keys=CountyNameKeys("county", "name")).filter(
        county_name_keys__contains=[f"{county.county.pk}:张"]
    )
    sql, params = keyed.order_by().values("pk").query.sql_with_params()
    only_bitmaps = [
        f"SET LOCAL enable_{scan} = off" for scan in ("seqscan", "indexscan", "indexonlyscan")
    ]
    plan = "\n".join(_plan(sql, *only_bitmaps, params=params))
    assert "member_county_name_keys_idx" in plan, plan


def test_a_province_wide_name_search_reads_one_county_when_it_holds_enough(
    cast, county, province, auditor, household_a
):
    """Counties are read one, then two, then four ...: a name that fills the count in the
    first county costs one statement; one found nowhere reads every county, in as many
    statements as doublings (here 3 counties: 1 + 2), and counts nothing."""
    for _ in range(3):
        factories.household(actor=cast.county, village=county.village_a)  # 张三 and family
    counts, statements = _counting_statements(auditor, {"q": "张"}, cap=2)
    assert (counts.total, counts.capped, len(statements)) == (2, True, 1)
    counts, statements = _counting_statements(auditor, {"q": "无此人"}, cap=2)
    assert (counts.total, counts.capped, len(statements)) == (0, False, 2)
    counts, statements = _counting_statements(
        auditor, {"q": "张", "county": str(province[1].pk)}, cap=2
    )
    assert (counts.total, len(statements)) == (0, 1)


# --- the cascade on every page (povertyapp/regions.py) ------------------------------------------

CASCADE_PAGES = (
    "/households/quality/",
    "/assistance/coverage/",
    "/monitoring/objects/",
    "/ledgers/",
)


@pytest.mark.parametrize("url", CASCADE_PAGES)
def test_each_page_asks_for_the_county_then_shows_its_regions(cast, county, province, auditor, url):
    """Without script: the county chosen and the form sent, its townships and villages; a
    township chosen, its villages alone."""
    client = login(auditor)
    selects = dict(_SELECT.findall(client.get(url).content.decode()))
    assert selects["county"].count("<option") == 1 + 3
    assert selects["township"].count("<option") == 1
    assert "请先选择县" in selects["village"] and selects["village"].count("<option") == 1
    selects = dict(_SELECT.findall(client.get(url, {"county": province[1].pk}).content.decode()))
    assert f'value="{province[1].pk}" selected' in selects["county"]
    assert selects["township"].count("<option") == 1 + 2
    assert selects["village"].count("<option") == 1 + VILLAGES
    township = province[1].children.order_by("code").first()
    response = client.get(url, {"county": province[1].pk, "township": township.pk})
    selects = dict(_SELECT.findall(response.content.decode()))
    assert selects["village"].count("<option") == 1 + VILLAGES // 2


def test_the_object_list_follows_the_chosen_region_and_shows_nothing_outside_it(
    cast, county, province, auditor
):
    household = factories.household(actor=cast.county, village=county.village_a)
    found = MonitoringObject.objects.create(
        household=household,
        object_type="marginal",
        state=MonitoringObject.State.MONITORED,
        clue_date=datetime.date(2026, 5, 1),
        created_by=cast.county,
    )
    client = login(auditor)
    shown = client.get("/monitoring/objects/", {"county": county.county.pk})
    assert found.household.number in shown.content.decode()
    other = client.get("/monitoring/objects/", {"county": province[0].pk})
    assert found.household.number not in other.content.decode()
    # A village of another township than the one chosen: no choice, nothing shown.
    mixed = client.get(
        "/monitoring/objects/", {"township": county.township2.pk, "village": county.village_a.pk}
    )
    assert found.household.number not in mixed.content.decode()
    # The county office cannot reach another county through the steps.
    outside = login(cast.county).get(
        "/monitoring/objects/", {"township": province[0].children.first().pk}
    )
    assert found.household.number not in outside.content.decode()


def test_the_coverage_page_shows_the_chosen_region_and_refuses_one_outside_the_scope(
    cast, county, province
):
    client = login(cast.county)
    response = client.get("/assistance/coverage/", {"township": county.township1.pk})
    assert response.context["region"] == county.township1
    response = client.get("/assistance/coverage/", {"township": province[0].children.first().pk})
    assert response.status_code == 404


def test_the_ledger_of_a_chosen_township_is_that_township_s(cast, county, province):
    from povertyapp.ledgers.services import ledger_region

    assert ledger_region(cast.county, {"township": str(county.township1.pk)}) == county.township1
    assert ledger_region(cast.county, {}) == county.county
    with pytest.raises(Http404):
        ledger_region(cast.county, {"township": str(province[0].children.first().pk)})


def test_the_declaration_asks_for_the_county_when_the_system_has_several(client, county, province):
    selects = dict(_SELECT.findall(client.get("/monitoring/declare/").content.decode()))
    assert selects["county"].count("<option") == 1 + 3
    assert selects["village"].count("<option") == 1
    # Without script: the county sent, the form comes back with its villages by township.
    response = client.post("/monitoring/declare/", {"county": province[0].pk})
    assert response.status_code == 400
    html = response.content.decode()
    selects = dict(_SELECT.findall(html))
    assert selects["village"].count("<option") == 1 + VILLAGES
    assert '<optgroup label="第0县0镇">' in html
    # Its options endpoint answers without an account, over the public regions only then.
    options = client.get(
        "/regions/options/", {"public": "1", "changed": "county", "county": province[0].pk}
    )
    assert options.status_code == 200
    assert options.content.decode().count("<option") == 1 + 2 + 1 + VILLAGES
    assert client.get("/regions/options/", {"county": province[0].pk}).status_code == 302


def test_the_declaration_of_a_one_county_system_opens_on_its_villages(client, county):
    html = client.get("/monitoring/declare/").content.decode()
    assert '<optgroup label="新州镇">' in html and "凤场村" in html


def test_the_quality_summary_above_the_county_lists_counties(cast, county, province, auditor):
    def village(code: str, households: int, filled: int) -> dict[str, object]:
        return {
            "code": code,
            "name": code,
            "households": households,
            "problems": 1,
            "open": 1,
            "new": 1,
            "fixed": 0,
            "completeness": "0",
            "filled": filled,
            "required": 10,
        }

    villages = [village(county.village_a.code, 2, 10), village(county.village_b.code, 3, 5)]
    villages += [village(province[0].children.first().children.first().code, 4, 0)]
    Job.objects.create(
        kind=quality.JOB_KIND,
        status=Job.Status.SUCCEEDED,
        region=county.province,
        finished_at=timezone.now(),
        result={"villages": villages, "completeness": "50"},
    )
    client = login(auditor)
    response = client.get("/households/quality/")
    assert response.context["summary_level"] == "county"
    rows = {row["name"]: row for row in response.context["summary"]}
    assert set(rows) == {county.county.name, province[0].name}
    assert rows[county.county.name]["households"] == 5
    assert rows[county.county.name]["completeness"] == "75.0"
    # A county chosen: its villages.
    response = client.get("/households/quality/", {"county": county.county.pk})
    assert response.context["summary_level"] == "village"
    assert [row["code"] for row in response.context["summary"]] == [
        county.village_a.code,
        county.village_b.code,
    ]


def test_a_status_holds_no_space():
    """The name search's count reads a household's status and 户编号 as one text, split at
    the first space (`households.selectors._name_matches`): a status with a space would cut
    its 户编号."""
    assert all(" " not in status for status in Household.Status.values)


def test_the_filter_form_class_is_built_once_and_its_forms_stay_apart():
    """`HouseholdFilter.get_form_class` builds the form class once per filter class (the
    API's HouseholdListFilter, without the search box, has its own); each form still gets
    fields of its own, and the labels follow the reader's language."""
    from django.utils import translation

    from households.api.views import HouseholdListFilter
    from households.filters import HouseholdFilter

    first = HouseholdFilter({"status": "poor"}, queryset=Household.objects.none())
    second = HouseholdFilter({"status": "bogus"}, queryset=Household.objects.none())
    assert type(first.form) is type(second.form)
    assert first.form.fields["status"] is not second.form.fields["status"]
    assert first.is_valid() and not second.is_valid()
    first.form.fields["cause"].label = "changed"
    assert second.form.fields["cause"].label != "changed"
    assert HouseholdFilter({}, queryset=Household.objects.none()).form["cause"].label != "changed"
    api = HouseholdListFilter({}, queryset=Household.objects.none())
    assert "q" in first.form.fields and "q" not in api.form.fields
    with translation.override("en"):
        english = str(HouseholdFilter(queryset=Household.objects.none()).form["status"].label)
    assert english != str(first.form["status"].label)
