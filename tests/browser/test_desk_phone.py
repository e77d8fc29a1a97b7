"""The work desk on a 360 px phone (issue 17): for the cadre, the helper, the township and the
county, with something on every panel, the desk scrolls only downwards (no horizontal
overflow), every count is a link inside the screen, its stylesheet (static/css/desk.css) lays
the panels in one column, and no Content-Security-Policy violation is reported.
Screenshots: artifacts/screenshots/desk-*."""

from __future__ import annotations

import pytest

from tests.browser.test_cadre_flow import login, shot
from tests.browser.test_content_security_policy import _watch_violations
from tests.browser.test_procedure_phone import PHONE, fits
from tests.povertyapp.test_desk_links import world  # noqa: F401  (the desk's data, a fixture)


@pytest.mark.parametrize("username", ["cadre", "helper", "township", "county"])
def test_the_desk_fits_a_phone_for_each_role(browser, live_server, world, username):  # noqa: F811
    page = login(browser, live_server, username, **PHONE)
    violations = _watch_violations(page)
    page.goto(f"{live_server.url}/")
    fits(page)
    shot(page, f"desk-{username}-phone")
    links = page.locator(".desk-item")
    assert links.count() >= 3
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (username, index, box)
        assert box["height"] >= 44  # a thumb's target
    columns = page.evaluate(
        "getComputedStyle(document.querySelector('.desk')).gridTemplateColumns.split(' ').length"
    )
    assert columns == 1
    assert violations == []
