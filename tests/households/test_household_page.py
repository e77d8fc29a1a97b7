"""The household page and its 帮扶 badge: what they show, their access path, their queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Value
from django.template import Context, Template
from django.urls import reverse

from assistance import services as assistance_services
from assistance.models import Pairing
from households import detail_tabs, quality, selectors, services
from households.models import Household, Member
from tests import factories
from tests.monitoring.object_fixtures import start
from tests.project import app_today


@pytest.fixture
def varied(cast, county, household_a):
    """Households that the quality rules find something in, in different ways: a helper and
    measures, an income, a member removed, a birth date that disagrees with the ID number, an
    exited household failing the exit test, a household without members left."""
    household_a.refresh_from_db()
    assistance_services.measure_create(
        actor=cast.county,
        household=household_a,
        data={"year": 2020, "category": "金融帮扶", "content": "扶贫小额信贷"},
    )
    services.income_set(
        actor=cast.county,
        household=household_a,
        year=app_today().year - 1,
        data={"wage": Decimal("3000"), "production": Decimal("500")},
    )
    removed = factories.household(
        actor=cast.county,
        village=county.village_a,
        main_cause="因病",
        poverty_attribute="低保贫困户",
        members=[
            factories.member_data(work_status=""),
            factories.member_data(
                name="李四", relation="配偶", sex="女", birth_date=datetime.date(1982, 3, 9)
            ),
            factories.member_data(
                name="王五",
                relation="之子",
                birth_date=datetime.date(2012, 3, 9),
                school_status="小学",
                labour_skill="",
                work_status="",
                work_months=0,
            ),
        ],
    )
    services.member_remove(
        actor=cast.county, member=removed.members.get(name="李四"), reason="死亡"
    )
    # Records loaded before the services checked work months and education by age.
    removed.members.filter(name="张三").update(work_months=14)
    removed.members.filter(name="王五").update(education="高中")
    disagrees = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[factories.member_data(name="赵六", birth_date=datetime.date(1975, 1, 2))],
    )
    # A record loaded before the services checked ID numbers.
    Member.objects.filter(household=disagrees).update(birth_date=datetime.date(1975, 1, 3))
    exited = factories.household(
        actor=cast.county, village=county.village_a, status=Household.Status.EXITED, house_grade="C"
    )
    empty = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[factories.member_data(name="孙七")],
    )
    services.member_remove(actor=cast.county, member=empty.members.get(), reason="死亡")
    return [household_a, removed, disagrees, exited, empty]


def test_the_page_members_give_the_warnings_of_a_fresh_load(cast, varied):
    """The page passes the household and members it has loaded to `check_household`; the
    findings and the 信息录入率 must be those of the form that reloads everything (after a
    save)."""
    seen = set()
    for household in varied:
        fresh = quality.check_household(household)
        page_household, members = selectors.household_page_get_for_user(
            user=cast.county, household_id=household.pk
        )
        assert quality.check_household(page_household, members=members) == fresh
        seen |= {finding.rule for finding in fresh[0]}
    # The fixture reaches the rules that read beyond the household row.
    assert {
        "id_disagrees",
        "no_members",
        "exited_fails_exit_test",
        "work_months",
        "child_high_education",
        "too_few_measures",
        "no_helper",
        "production_without_cost",
    } <= seen


def test_the_page_shows_the_quality_warnings(cast, client_for, varied):
    removed = varied[1]
    findings, rate = quality.check_household(removed)
    response = client_for(cast.county).get(f"/households/{removed.pk}/")
    assert response.context["findings"] == findings
    assert response.context["completeness"] == rate
    content = response.content.decode()
    assert f"数据质量提示 {len(findings)} 条" in content
    for finding in findings:
        assert str(finding.message) in content


def test_the_page_takes_head_and_person_count_from_the_members(cast, varied):
    """The same head name, head ID number and person count as the list's subqueries
    (`household_queryset`), removed members left out."""
    for household in varied:
        listed = selectors.household_queryset().get(pk=household.pk)
        page_household, members = selectors.household_page_get_for_user(
            user=cast.county, household_id=household.pk
        )
        assert (
            page_household.head_name,  # type: ignore[attr-defined]  # set by the selector, not a field
            page_household.head_id_number,  # type: ignore[attr-defined]  # set by the selector, not a field
            page_household.person_count,  # type: ignore[attr-defined]  # set by the selector, not a field
        ) == (listed.head_name, listed.head_id_number, listed.person_count)  # type: ignore[attr-defined]  # set by the selector, not fields
        assert members == selectors.household_members(household)
    assert [h.person_count for h in selectors.household_queryset().filter(pk=varied[1].pk)] == [2]  # type: ignore[attr-defined]  # set by the selector


@pytest.mark.parametrize("path", ["", "assistance-badge/"])
def test_the_page_and_badge_are_404_outside_the_scope(
    cast, household_a, household_b, client_for, path
):
    assert client_for(cast.cadre).get(f"/households/{household_a.pk}/{path}").status_code == 200
    assert client_for(cast.cadre).get(f"/households/{household_b.pk}/{path}").status_code == 404
    # A helper sees the paired households only.
    assert client_for(cast.helper).get(f"/households/{household_a.pk}/{path}").status_code == 200
    assert client_for(cast.helper).get(f"/households/{household_b.pk}/{path}").status_code == 404
    assert client_for(cast.cadre).get(f"/households/999999/{path}").status_code == 404


def test_the_page_masks_for_roles_without_sensitive_access_and_logs_the_others(
    cast, household_a, client_for
):
    from povertyapp.models import AccessLog

    head = factories.active_members(household_a)[0]
    url = f"/households/{household_a.pk}/?tab=members"
    cadre_page = client_for(cast.cadre).get(url).content.decode()
    auditor = client_for(cast.auditor).get(url)
    logged = AccessLog.objects.filter(object_id=str(household_a.pk), action="view_sensitive")
    assert head.id_number in cadre_page
    assert head.id_number not in auditor.content.decode()
    assert [entry.user_id for entry in logged] == [cast.cadre.pk]


def _page_queries(client, url, django_assert_max_num_queries, limit):
    return len(_page_statements(client, url, django_assert_max_num_queries, limit))


def _page_statements(client, url, django_assert_max_num_queries, limit):
    client.get(url)  # warm the session and the user
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_page_queries_do_not_grow_with_the_members(
    cast, county, client_for, django_assert_max_num_queries
):
    """Session, user; the household (with whether a procedure is open, and what the apps
    above read about it: helper and measures for the quality warnings, the monitoring object
    and the 资产收益 the page links to), its incomes (the quality warnings and the 收入 tab),
    its members (each with whether its ID number is active in another household); the access
    log (savepoint, chain head, row, head, release): 10, for two members as for eight (17
    before issue 19: the ID numbers and the open procedure were read apart; 15 while the apps
    read their own; 11 while the 录入国家系统 marks were)."""
    counts = []
    for size in (2, 8):
        household = factories.household(
            actor=cast.county,
            village=county.village_a,
            members=[factories.member_data()]
            + [
                factories.member_data(
                    name=f"成员{i}", relation="之子", birth_date=datetime.date(2000 + i, 1, 1)
                )
                for i in range(size - 1)
            ],
        )
        Pairing.objects.create(
            household=household, helper=cast.helper, name="helper", start_date=app_today()
        )
        client = client_for(cast.cadre)
        statements = _page_statements(
            client, f"/households/{household.pk}/", django_assert_max_num_queries, 10
        )
        counts.append(len(statements))
        # The apps' reads (`detail_tabs.page_reads`) are the household statement's, not theirs.
        apps_reads = [sql for sql in statements if '"assistance_' in sql or '"monitoring_' in sql]
        assert len(apps_reads) == 1, apps_reads
        assert apps_reads[0].startswith('SELECT "households_household"."id"'), apps_reads[0]
    assert counts[0] == counts[1]


def test_what_the_page_reads_for_the_apps_is_what_they_read_themselves(cast, county, household_a):
    """Every app's reads on the household page (`detail_tabs.page_reads`) give the links and
    the quality warnings the apps' own queries give for the same household loaded any other
    way, with and without what they read (a helper, measures, a monitoring object)."""
    plain = factories.household(actor=cast.county, village=county.village_a)
    assert Pairing.objects.filter(household=household_a, end_date__isnull=True).exists()
    assistance_services.measure_create(
        actor=cast.county,
        household=household_a,
        data={"year": 2020, "category": "金融帮扶", "content": "扶贫小额信贷"},
    )
    found = start(cast, household_a)
    assert set(detail_tabs.page_reads()) >= {
        quality.HELPED_READ,
        quality.MEASURES_READ,
        "monitoring_current_id",
        "assistance_asset_total",
    }
    read = {}
    for household in (household_a, plain):
        for user in (cast.cadre, cast.county, cast.township):
            page_household, members = selectors.household_page_get_for_user(
                user=user, household_id=household.pk
            )
            fresh = Household.objects.get(pk=household.pk)
            assert detail_tabs.page_links(page_household, user=user) == detail_tabs.page_links(
                fresh, user=user
            )
            assert quality.check_household(
                page_household, members=members
            ) == quality.check_household(fresh)
            read[household.pk] = {
                name: detail_tabs.read_with_page(page_household, name)
                for name in (quality.HELPED_READ, quality.MEASURES_READ, "monitoring_current_id")
            }
    # Both sides of each read were compared: something to read, and nothing.
    assert read[household_a.pk] == {
        quality.HELPED_READ: True,
        quality.MEASURES_READ: 1,
        "monitoring_current_id": found.pk,
    }
    assert read[plain.pk] == {
        quality.HELPED_READ: False,
        quality.MEASURES_READ: 0,
        "monitoring_current_id": None,
    }
    links = dict(detail_tabs.page_links(page_household, user=cast.cadre))
    assert "识别为监测对象" in links  # the plain household: nothing read, the cadre may identify


def test_badge_queries_do_not_grow_with_the_members(
    cast, county, client_for, django_assert_max_num_queries
):
    """Session, user, region; household, members; rules, the province, the standard, the
    measures; one statement per level of rules; session save (3): 14."""
    counts = []
    for size in (1, 6):
        household = factories.household(
            actor=cast.county,
            village=county.village_a,
            main_cause="因病",
            members=[factories.member_data(health="长期慢性病")]
            + [
                factories.member_data(
                    name=f"成员{i}", relation="之子", birth_date=datetime.date(2005 + i, 1, 1)
                )
                for i in range(size - 1)
            ],
        )
        client = client_for(cast.cadre)
        counts.append(
            _page_queries(
                client,
                f"/households/{household.pk}/assistance-badge/",
                django_assert_max_num_queries,
                14,
            )
        )
    assert counts[0] == counts[1]


def test_the_page_statement_is_built_once_for_the_apps_reads(cast, household_a):
    """The household page's statement is kept, without its scope and key, while the apps'
    reads are the same (`detail_tabs.page_reads`); an app registering a read gets a statement
    that reads it, and the statement kept is never read itself."""
    kept = selectors._household_page_statement()
    selectors.household_page_get_for_user(user=cast.county, household_id=household_a.pk)
    assert selectors._household_page_statement() is kept
    assert kept._result_cache is None
    detail_tabs.register_page_reads("test.extra", lambda: {"test_extra": Value(7)})
    try:
        page_household, _members = selectors.household_page_get_for_user(
            user=cast.county, household_id=household_a.pk
        )
        assert detail_tabs.read_with_page(page_household, "test_extra") == 7
    finally:
        del detail_tabs._page_reads["test.extra"]
        detail_tabs._built.clear()
    page_household, _members = selectors.household_page_get_for_user(
        user=cast.county, household_id=household_a.pk
    )
    assert detail_tabs.read_with_page(page_household, "test_extra") is detail_tabs.MISSING


@pytest.mark.django_db
def test_a_household_is_named_by_its_number_and_head_in_lists_and_choices(
    cast, household_a, django_assert_num_queries
):
    """`name_heads` names each household of a page in one statement; `household_label` (choices)
    and `{% household_named %}` (lists) print the same "number head", the number linked when
    asked, and a dash for no household at all."""
    household = Household.objects.get(pk=household_a.pk)
    same = Household.objects.get(pk=household_a.pk)
    headless = factories.household(actor=cast.county, village=household_a.village)
    Member.objects.filter(household=headless, relation="户主").update(
        is_active=False, left_reason="死亡"
    )
    headless = Household.objects.get(pk=headless.pk)
    with django_assert_num_queries(1):
        selectors.name_heads([household, same, None, headless])
    head = Member.objects.get(household=household_a, is_active=True, relation="户主").name
    assert selectors.household_label(household) == f"{household.number} {head}"
    assert selectors.household_label(same) == selectors.household_label(household)
    assert selectors.household_label(headless) == headless.number

    page = Template(
        "{% load household_labels %}"
        "[{% household_named h %}]"
        "[{% household_named h 'assistance:household' query='tab=assets' %}]"
        "[{% household_named h 'households:workflow' 7 %}]"
        "[{% household_named none %}]"
        "[{% household_named bare 'households:detail' %}]"
    ).render(Context({"h": household, "none": None, "bare": headless}))
    link = reverse("assistance:household", args=[household.pk])
    assert page == (
        f"[{household.number} {head}]"
        f'[<a href="{link}?tab=assets">{household.number}</a> {head}]'
        f'[<a href="{reverse("households:workflow", args=[7])}">{household.number}</a> {head}]'
        "[—]"
        f'[<a href="{reverse("households:detail", args=[headless.pk])}">{headless.number}</a>]'
    )
