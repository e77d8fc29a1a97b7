"""Phone-first pages (issue 17) on a 360 × 740 phone, in Debian's chromium through Playwright.

- The menu folds behind 菜单 and shows each role exactly the links of `povertyapp.menu`, with the
  language switch (each language named in its own language) and the account inside it.
- A failed household save starts the page at an error summary whose links focus their field
  (inside a folded member too), with one wording per error and nothing typed lost.
- The class test: for every role's login, no page of its menu is wider than the phone
  (`document.documentElement.scrollWidth <= 360`), nor the household page's members tab (减员 /
  迁移), the household form and the round under review (its review buttons); and on none of
  them is an action button out of reach to the right (inside a table scrolled sideways) or a
  date, a month, a figure, a name or a badge broken over two lines.
Screenshots: artifacts/screenshots/phone-*."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from households.models import Household
from households.views.registry import TABS
from povertyapp.menu import menu_for
from povertyapp.models import User, VillageYear
from rounds import services as rounds
from rounds.models import RoundChange
from tests import factories
from tests.browser.test_cadre_flow import login, shot, submit
from tests.browser.test_content_security_policy import _watch_violations
from tests.browser.test_procedure_phone import PHONE

# Every role of the demo's logins: the fixed cast, a department, the offices above the county.
CAST_ROLES = (
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
OTHER_ROLES = {
    "yibao": (User.Role.DEPARTMENT, "county", {"department": "medical_insurance"}),
    "city": (User.Role.CITY_OFFICER, "city", {}),
    "province": (User.Role.PROVINCE_OFFICER, "province", {}),
}


def _user(cast, county, name: str) -> User:
    if name in CAST_ROLES:
        return getattr(cast, name)
    role, level, extra = OTHER_ROLES[name]
    return factories.user(name, role, getattr(county, level), **extra)


def _width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


# What a phone cannot reach without scrolling sideways, beyond the page's own width: an action
# button (shown, not in a folded <details>) or a to-do badge in a table whose right edge lies
# past the screen, as in a table scrolled inside its .table-wrap; a date (2026-12-04), a month
# (2026-01), a figure (4686/63156, 7.46%), a name in a cell (潘华明) or a badge (达标) broken over
# more than one line.
UNREACHABLE = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const actions = "main button, main a.button, main input[type=submit], main td .badge.warn";
  for (const element of document.querySelectorAll(actions)) {
    if (!element.checkVisibility()) continue;
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      const label = element.textContent.trim().slice(0, 20);
      found.push("button " + label + " @" + Math.round(box.right));
    }
  }
  // A folded section shows that it opens: a summary that is not a list-item has lost the
  // browser's triangle and must draw its own.
  for (const element of document.querySelectorAll("details > summary")) {
    if (!element.checkVisibility()) continue;
    const marker = getComputedStyle(element, "::before").content;
    if (getComputedStyle(element).display !== "list-item" && (!marker || marker === "none")) {
      found.push("summary " + element.textContent.trim().slice(0, 20) + " without its marker");
    }
  }
  // A field right of the screen sits in a table scrolled sideways (the batch page's 理由).
  const fields = "main input:not([type=hidden]), main select, main textarea";
  for (const element of document.querySelectorAll(fields)) {
    if (!element.checkVisibility()) continue;
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      found.push("field " + (element.name || element.id) + " @" + Math.round(box.right));
    }
  }
  for (const element of document.querySelectorAll("main td, main dd, main span, main time")) {
    const text = element.textContent.trim();
    if (!/^\\d[\\d\\-\\/.:,]*\\d%?$/.test(text) || !element.checkVisibility()) continue;
    const range = document.createRange();
    range.selectNodeContents(element);
    const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
    if (lines.size > 1) found.push("figure " + text + " on " + lines.size + " lines");
  }
  for (const element of document.querySelectorAll("main td")) {
    const text = element.textContent.trim();  // a name: two to four Han characters, as text
    if (element.children.length || !/^[\\u4e00-\\u9fff]{2,4}$/.test(text)) continue;
    if (!element.checkVisibility()) continue;
    const range = document.createRange();
    range.selectNodeContents(element);
    const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
    if (lines.size > 1) found.push("name " + text + " on " + lines.size + " lines");
  }
  for (const element of document.querySelectorAll("main .badge")) {
    if (!element.checkVisibility()) continue;
    const range = document.createRange();
    range.selectNodeContents(element);
    const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
    const label = element.textContent.trim();
    if (lines.size > 1) found.push("badge " + label + " on " + lines.size + " lines");
  }
  return found;
}"""


@pytest.mark.parametrize("name", ["cadre", "helper", "county", "sysadmin", "city"])
def test_the_phone_menu_folds_and_shows_only_what_the_role_may_open(
    browser, live_server, cast, county, name
):
    user = _user(cast, county, name)
    page = login(browser, live_server, name, **PHONE)
    violations = _watch_violations(page)
    menu = page.locator("#site-menu")
    toggle = page.locator("button.menu-toggle")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    # Folded, the header is one line: the page starts right under it.
    assert page.locator("header.topbar").bounding_box()["height"] <= 64

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert menu.is_visible()
    links = page.locator("nav.mainnav a")
    hrefs = [links.nth(index).get_attribute("href") for index in range(links.count())]
    assert hrefs == [link.url for link in menu_for(user)]
    assert all(links.nth(index).is_visible() for index in range(links.count()))
    languages = page.locator("select[name=language] option").all_inner_texts()
    assert [text.strip() for text in languages] == ["简体中文", "English"]
    assert page.locator("#site-menu select[name=language]").is_visible()
    assert page.locator("#site-menu button", has_text="退出").is_visible()
    assert _width(page) <= 360
    shot(page, f"phone-menu-{name}")
    page.keyboard.press("Escape")
    assert not menu.is_visible()
    assert violations == []


def test_the_menu_stays_a_bar_on_a_desktop(browser, live_server, cast):
    page = login(browser, live_server, "county", viewport={"width": 1280, "height": 800})
    assert not page.locator("button.menu-toggle").is_visible()
    assert page.locator("nav.mainnav a").first.is_visible()
    assert page.locator("#site-menu select[name=language]").is_visible()
    # The list's filters are open on a desktop, folded in a drawer on a phone.
    page.goto(f"{live_server.url}/households/")
    assert page.locator("#id_status").is_visible()


def test_the_household_list_shows_its_first_card_above_the_fold(
    browser, live_server, cast, county, household_a
):
    for _ in range(3):
        factories.household(actor=cast.county, village=county.village_a)
    page = login(browser, live_server, "cadre", **PHONE)
    page.goto(f"{live_server.url}/households/")
    assert not page.locator("#id_status").is_visible()  # in the closed drawer
    first = page.locator("table.household-cards tbody tr").first
    box = first.bounding_box()
    assert box["y"] + box["height"] <= 740, box
    # The card: 户编号, 户主, status and cause; the ID number stays for the wider screen.
    assert first.locator("td.card-number").is_visible()
    assert first.locator("td.card-status").is_visible()
    assert not first.locator("td.phone-hide").first.is_visible()
    # One line of warnings (these poor households are due a visit and a plan), cut to the
    # card's width with an ellipsis, never wrapping or widening the page.
    warning = first.locator(".warning-line")
    assert warning.is_visible()
    assert "本月应走访" in warning.inner_text()
    line = warning.bounding_box()
    assert line["x"] + line["width"] <= 360 and line["height"] < 30, line
    page.click("details.filter-drawer summary")
    assert page.locator("#id_status").is_visible()
    assert _width(page) <= 360
    shot(page, "phone-household-list")


def test_a_failed_household_save_starts_at_a_summary_whose_links_focus_each_field(
    browser, live_server, cast, county
):
    head_id = factories.id_number(datetime.date(1972, 6, 15), "男")
    page = login(browser, live_server, "cadre", **PHONE)
    violations = _watch_violations(page)
    page.goto(f"{live_server.url}/households/new/")
    page.fill("#id_housing_area", "85")
    page.fill("#id_members-0-name", "杨光明")
    page.select_option("#id_members-0-relation", "户主")
    page.type("#id_members-0-id_number", head_id)
    page.click("[data-add-row]")
    # One member open at a time: adding the second folded the first.
    assert not page.locator("#id_members-0-name").is_visible()
    page.fill("#id_members-1-name", "吴秀英")  # no 与户主关系: refused by the server
    submit(page, "form.household-form .save-bar button[type=submit]")
    assert Household.objects.count() == 0

    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    box = summary.bounding_box()
    assert box is not None and 0 <= box["y"] < 740
    links = summary.locator("a[data-error-link]")
    targets = [links.nth(index).get_attribute("href") for index in range(links.count())]
    assert "#id_members-1-relation" in targets, targets
    shot(page, "phone-form-error-summary")

    # One wording per error: each field refused shows the server's one message, written once
    # on the page (the summary names the field), and no browser check adds its own.
    for target in targets:
        field = page.locator(f".field:has({target})")
        assert field.locator(".errorlist li").count() == 1, target
        message = field.locator(".errorlist li").inner_text()
        assert page.content().count(message) == 1, message
        label = field.locator("label").first.inner_text().replace("*", "").strip()
        assert label in summary.locator(f"a[href='{target}']").inner_text()
    assert page.locator(".js-id-message.bad").count() == 0
    # Nothing typed is lost.
    assert page.input_value("#id_members-0-name") == "杨光明"
    assert page.input_value("#id_members-0-id_number") == head_id
    assert page.input_value("#id_members-1-name") == "吴秀英"
    assert page.input_value("#id_housing_area") == "85"
    # The refused member is the open one; opening another folds it.
    assert page.locator("#id_members-1-relation").is_visible()
    page.click("#member-1 > summary")
    # Waits for the fold (household-form.js answers the toggle): a bare is_visible() raced it.
    expect(page.locator("#id_members-1-relation")).to_be_hidden()

    # Every link opens the member its field is in, focuses the field and shows it.
    for target in targets:
        summary.scroll_into_view_if_needed()
        summary.locator(f"a[href='{target}']").first.click()
        page.wait_for_function(
            f"() => document.activeElement && document.activeElement.id === '{target[1:]}'"
        )
        box = page.locator(target).bounding_box()
        assert box is not None and 0 <= box["y"] <= 740, (target, box)
    assert page.locator("#id_members-1-relation").is_visible()
    shot(page, "phone-form-error-focused")
    assert _width(page) <= 360
    # 保存 stays in reach at the bottom of the screen.
    save = page.locator("form.household-form .save-bar button[type=submit]").bounding_box()
    assert save is not None and save["y"] + save["height"] <= 740
    assert violations == []


@pytest.fixture
def reviewing(cast, county, household_a):
    """A round under review with a line at each stage a role acts on: one proposed (the
    township's 审核通过/退回), one reviewed (the county's 审定/退回); the household page's
    members (减员/迁移) and the helper's to-do (household_a is paired with the helper)."""
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    second = factories.household(actor=cast.county, village=county.village_a)
    round_ = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    changes = [
        rounds.change_propose(
            actor=cast.cadre,
            round=round_,
            household=household,
            kind=RoundChange.Kind.REMOVED,
            persons=2,
            head_name="张三",
            reason="购买3万元以上车辆：2019年购车",
        )
        for household in (household_a, second)
    ]
    rounds.change_review(actor=cast.township, change=changes[1], approve=True, opinion="同意")
    return round_, household_a


def _pages_of(user: User, household: Household, round_id: int) -> list[str]:
    urls = [link.url for link in menu_for(user)]
    writers = (User.Role.VILLAGE_CADRE, User.Role.TOWNSHIP_REVIEWER, User.Role.COUNTY_OFFICER)
    if user.role in writers:
        # The pages the issue names beyond the menu: every tab of the household page (减员/
        # 迁移 on 家庭成员), the form, the round's review.
        urls += [
            *(f"/households/{household.pk}/?tab={tab}" for tab, _label in TABS),
            "/monitoring/objects/",
            "/assistance/households/",
            f"/households/{household.pk}/edit/",
            f"/rounds/{round_id}/",
        ]
    return urls


@pytest.mark.parametrize("name", CAST_ROLES + tuple(OTHER_ROLES))
def test_no_page_of_the_menu_overflows_a_360_px_phone(
    browser, live_server, cast, county, reviewing, name
):
    round_, household = reviewing
    user = _user(cast, county, name)
    page = login(browser, live_server, name, **PHONE)
    wide: list[tuple[str, int, list[str]]] = []
    urls = _pages_of(user, household, round_.pk)
    assert urls, name
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        width = _width(page)
        unreachable = page.evaluate(UNREACHABLE)
        if width > 360 or unreachable:
            shot(page, f"phone-overflow-{name}-{url.strip('/').replace('/', '-') or 'home'}")
            wide.append((url, width, unreachable))
    assert wide == []
