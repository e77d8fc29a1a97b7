"""The strict Content-Security-Policy in a real browser (Debian's chromium): every menu page of
the county officer, the API docs (Swagger UI) and the printable pages load with no violation
reported, and the behaviours moved out of inline handlers still work (the language switch)."""

from __future__ import annotations

from django.urls import reverse

from povertyapp.menu import menu_for
from tests.browser.test_cadre_flow import login, shot
from tests.rounds import test_figures

# Fixtures shared with the other modules: the browser, the hand-built county of the figures.
built = test_figures.built


def _watch_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_menu_pages_and_api_docs_load_without_a_csp_violation(
    browser, live_server, cast, household_a
):
    page = login(browser, live_server, "county")
    violations = _watch_violations(page)
    urls = [link.url for link in menu_for(cast.county) if link.url != "/admin/"]
    urls += [f"/households/{household_a.pk}/", f"/households/{household_a.pk}/edit/"]
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    page.wait_for_selector(".opblock")  # the operations, from the schema the init script fetched
    shot(page, "csp-api-docs")
    assert violations == []
    # The watch sees a violation when there is one: an injected inline script is refused.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert len(violations) == 1


def test_admin_pages_load_without_a_csp_violation(browser, live_server, cast, household_a):
    page = login(browser, live_server, "county")
    violations = _watch_violations(page)
    admin_pages = [
        "/admin/",
        "/admin/households/household/",
        f"/admin/households/household/{household_a.pk}/change/",
    ]
    for url in admin_pages:
        assert page.goto(f"{live_server.url}{url}").status == 200, url
    # Accounts are the security administrator's, the audit log the audit administrator's
    # (三权分立, issue 14); the account pages are everyone's, the enrolment's QR code included.
    for username, urls in (
        ("secadmin", ["/admin/povertyapp/user/", "/admin/povertyapp/user/add/"]),
        ("auditadmin", ["/admin/povertyapp/accesslog/"]),
        ("cadre", [reverse("account:security"), reverse("account:second-factor-enrol")]),
    ):
        page = login(browser, live_server, username)
        violations += _watch_violations(page)
        for url in urls:
            assert page.goto(f"{live_server.url}{url}").status == 200, url
    assert violations == []


def test_the_language_switch_submits_without_an_inline_handler(browser, live_server, cast):
    page = login(browser, live_server, "cadre")
    violations = _watch_violations(page)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("a.brand").inner_text() != "精准扶贫管理系统"
    assert violations == []


def test_dashboard_charts_draw_under_the_policy(browser, live_server, cast, built):
    from rounds import rates

    round_, _households = built
    rates.compute_rates(round=round_)
    page = login(browser, live_server, "county")
    violations = _watch_violations(page)
    page.goto(f"{live_server.url}/dashboards/")
    page.wait_for_selector("#chart-trend svg")
    page.locator("#chart-trend").hover(timeout=10_000)  # the axis tooltip (html with styles)
    page.wait_for_timeout(500)
    shot(page, "csp-dashboard")
    assert violations == []
