"""The main menu offers each role exactly the pages it may open (povertyapp/menu.py).

For every user of the fixed cast and every menu entry: an entry the user sees opens (200, after
the dashboard's redirect to the user's region), and an entry the user does not see answers 403
(the admin site: its own login page). New entries are covered automatically.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from povertyapp.menu import MENU, menu_for
from tests.conftest import login

CAST = (
    "cadre",
    "cadre2",
    "township",
    "county",
    "auditor",
    "helper",
    "sysadmin",
    "secadmin",
    "auditadmin",
)

NAV = re.compile(r'<nav class="mainnav">(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def _menu_links(html: str) -> list[str]:
    match = NAV.search(html)
    return HREF.findall(match.group(1)) if match else []


@pytest.mark.parametrize("name", CAST)
def test_every_menu_link_a_role_sees_opens_and_every_other_entry_is_refused(cast, name):
    _check_menu(getattr(cast, name), name)


@pytest.mark.parametrize(
    ("name", "role", "level"),
    [("city", "city_officer", "city"), ("province", "province_officer", "province")],
)
def test_the_offices_above_the_county_see_the_dashboards_only(county, name, role, level):
    """issue 16: the city's and the province's offices read the figures of their region."""
    from tests import factories

    user = factories.user(name, role, getattr(county, level))
    assert [link.url for link in menu_for(user)] == ["/dashboards/"]
    _check_menu(user, name)


def _check_menu(user, name: str) -> None:
    client = login(user)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    shown = _menu_links(home.content.decode())
    assert shown == [link.url for link in menu_for(user)]
    for entry in MENU:
        url = reverse(entry.url_name)
        if url in shown:
            assert client.get(url, follow=True).status_code == 200, (name, url)
        else:
            # Refused: 403, or for the admin site its own login page (it asks for staff).
            response = client.get(url)
            refused = response.status_code == 403 or (
                response.status_code == 302 and response["Location"].startswith("/admin/login/")
            )
            assert refused, (name, url, response.status_code)


def test_each_role_sees_the_menu_of_its_work(cast):
    def entries(name: str) -> list[str]:
        return [link.url for link in menu_for(getattr(cast, name))]

    case_pages = [
        "/households/",
        "/households/todo/",
        "/households/batches/",
        "/households/quality/",
        "/dashboards/",
        "/rounds/",
        # issue 16: the year-end sign-off (every case role with a region reads it).
        "/years/signoff/",
        "/assistance/",
        "/monitoring/",
        # issue 15: the inbox of 风险线索 and the 剔除核查 tasks beside the monitoring home.
        "/monitoring/clues/",
        "/monitoring/scrutiny/",
    ]
    inspections = ["/inspections/", "/inspections/rectification/"]
    assert entries("cadre") == [*case_pages, "/ledgers/", *inspections]
    # The review list of edits after approval: the reviewing levels only.
    reviewing_pages = [
        *case_pages[: case_pages.index("/years/signoff/") + 1],
        "/years/reviews/",
        *case_pages[case_pages.index("/years/signoff/") + 1 :],
    ]
    assert entries("county") == [
        *reviewing_pages,
        "/ledgers/",
        # issue 16: the county's onboarding checklist and the yearly rollover.
        "/years/onboarding/",
        "/years/rollover/",
        # issue 16: the exchange with the national system is the county office's.
        "/households/national/",
        *inspections,
        "/monitoring/lists/",
        "/households/onboarding/regions/",
        "/households/onboarding/village-years/",
        "/households/onboarding/resident-teams/",
        "/admin/povertyapp/job/",
        "/admin/",
    ]
    assert entries("auditor") == [*case_pages, "/ledgers/", *inspections]
    # The helper has no ledgers (no export, no import) and no part in 剔除核查: both pages
    # answer 403.
    helper_pages = [page for page in case_pages if page != "/monitoring/scrutiny/"]
    assert entries("helper") == [*helper_pages, *inspections]
    # The three administrators (三权分立): each its own share, no case page.
    assert entries("sysadmin") == ["/admin/povertyapp/job/", "/admin/"]
    assert entries("secadmin") == ["/admin/povertyapp/user/", "/admin/"]
    assert entries("auditadmin") == ["/admin/povertyapp/accesslog/", "/admin/"]


def test_a_department_account_sees_its_results_only(county):
    from tests import factories

    yibao = factories.user("yibao", "department", county.county, department="medical_insurance")
    # Its lists' results, and the page where it pushes its own lists.
    assert [link.url for link in menu_for(yibao)] == [
        "/monitoring/department/",
        "/monitoring/lists/",
    ]


def test_the_current_page_is_marked_in_the_menu(cast):
    response = login(cast.cadre).get(reverse("households:list"))
    assert '<a href="/households/" aria-current="page">' in response.content.decode()


def test_only_the_nearest_entry_is_current_under_a_nested_address(cast):
    """/households/batches/ lies under /households/ too: the menu marks the batches entry only."""
    for path, current in (
        ("/households/batches/", "/households/batches/"),
        ("/households/batches/new/", "/households/batches/"),
        ("/households/todo/", "/households/todo/"),
        ("/households/12/", "/households/"),
    ):
        marked = [link.url for link in menu_for(cast.cadre, path) if link.current]
        assert marked == [current], path


@pytest.mark.django_db
def test_an_anonymous_visitor_sees_no_menu():
    from django.test import Client

    response = Client().get(reverse("login"))
    assert _menu_links(response.content.decode()) == []


def test_the_menu_follows_the_address_the_site_is_served_under(cast):
    """Behind a web server that serves the site under a sub-path (SCRIPT_NAME /fupin), every
    link carries it and the current page is still marked; the URLs the menu keeps per script
    prefix (`povertyapp.menu._url`) never leak from one prefix to the other."""
    from django.urls import set_script_prefix

    client = login(cast.cadre)

    def menu(script_name: str) -> tuple[list[str], str]:
        # What Django's WSGI handler does with the web server's SCRIPT_NAME (the test
        # client's handler leaves the prefix alone).
        set_script_prefix(script_name + "/")
        try:
            html = client.get("/households/", SCRIPT_NAME=script_name).content.decode()
        finally:
            set_script_prefix("/")
        return _menu_links(html), html

    links, html = menu("/fupin")
    assert links and all(link.startswith("/fupin/") for link in links), links
    assert '<a href="/fupin/households/" aria-current="page">' in html
    plain, html = menu("")
    assert plain == [link.removeprefix("/fupin") for link in links]
    assert '<a href="/households/" aria-current="page">' in html
    assert menu("/fupin")[0] == links
