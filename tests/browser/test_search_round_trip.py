"""The household list's search in Debian's chromium (povertyapp/templatetags/search_forms.py):
one POST answered by the page, no page load, the token's address in the bar and the history,
the name in neither; a reload and the back button ask the server again, no page is kept in the
browser's storage; the filters in the swapped page still work; and a POST that cannot be sent
goes to the plain form."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.browser.test_cadre_flow import login

WIDE = {"width": 1280, "height": 800}


def _household(cast, county, head: str):
    members = [factories.member_data(name=head)]
    return factories.household(actor=cast.county, village=county.village_a, members=members)


def _posts_to_the_list(page, live_server) -> list[tuple[str, bool]]:
    posts: list[tuple[str, bool]] = []
    page.on(
        "request",
        lambda request: (
            posts.append((request.method, request.is_navigation_request()))
            if request.url.startswith(f"{live_server.url}/households/") and request.method == "POST"
            else None
        ),
    )
    return posts


def test_a_search_is_one_round_trip_and_its_address_holds_a_token(
    browser, live_server, cast, county
):
    found = _household(cast, county, "杨光明")
    _household(cast, county, "吴小红")
    page = login(browser, live_server, "county", viewport=WIDE)
    page.goto(f"{live_server.url}/households/")
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    list_url = page.url
    page.evaluate("window.notReloaded = true")
    posts = _posts_to_the_list(page, live_server)

    page.fill("#id_q", "杨光明")
    page.press("#id_q", "Enter")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text(found.number)
    page.wait_for_url("**qt=**")
    assert "%E6%9D%A8" not in page.url and "杨" not in page.url
    assert posts == [("POST", False)]  # one request, by htmx: no page load
    assert page.evaluate("window.notReloaded") is True
    # htmx keeps no copy of the page (names, ID numbers) for its history (base.html's config).
    # It notes the address it pushed (the token's), nothing else.
    stored = page.evaluate("Object.assign({}, window.sessionStorage)")
    assert set(stored) <= {"htmx-current-path-for-history"}, stored
    assert all("杨" not in value and found.number not in value for value in stored.values())
    assert page.evaluate("Object.keys(window.localStorage)") == []
    # The swapped page: the box keeps the name, the drawer stays open on a wide screen, and
    # the 村民小组 select still follows the village select.
    expect(page.locator("#id_q")).to_have_value("杨光明")
    expect(page.locator("details.filter-drawer")).to_have_attribute("open", "")
    page.select_option("#id_village", str(county.village_a.pk))
    expect(page.locator("#id_group option")).to_have_count(1 + 2)

    page.reload()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("#id_q")).to_have_value("杨光明")
    page.go_back()
    page.wait_for_url(list_url)
    expect(page.locator("table.list tbody tr")).to_have_count(2)


def test_a_search_that_cannot_be_sent_goes_to_the_plain_form(browser, live_server, cast, county):
    found = _household(cast, county, "杨光明")
    _household(cast, county, "吴小红")
    # Without the service worker (docs/offline.md): once it controls the page, Playwright may
    # report the form's fallback POST under the worker rather than the page (seen 3 runs in 8
    # once /favicon.ico answered), though the browser sends it; what is tested here is htmx's.
    page = login(browser, live_server, "county", viewport=WIDE, service_workers="block")
    page.goto(f"{live_server.url}/households/")
    # No signal for htmx's request: the form is then posted as without scripts (a page load).
    page.route(
        "**/households/",
        lambda route, request: (
            route.abort() if request.headers.get("hx-request") == "true" else route.continue_()
        ),
    )
    posts = _posts_to_the_list(page, live_server)
    page.fill("#id_q", "杨光明")
    with page.expect_navigation(url="**qt=**"):
        page.press("#id_q", "Enter")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text(found.number)
    assert ("POST", True) in posts, posts
