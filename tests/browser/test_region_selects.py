"""The household list above the county (issue 19), in Debian's chromium through Playwright: a
province-wide user picks the 县, the 乡镇 select fills with its townships and the 行政村 select
with its villages (htmx, no page load), the township narrows the villages, and the list sent
with them shows that county's households only."""

from __future__ import annotations

from playwright.sync_api import expect

from povertyapp.models import Region, User
from tests import factories
from tests.browser.test_cadre_flow import login


def test_a_province_user_picks_the_county_then_the_township(browser, live_server, cast, county):
    other = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    township = factories.region("522623100000", "城关镇", Region.Level.TOWNSHIP, other)
    factories.region("522623100200", "白塘村", Region.Level.VILLAGE, township)
    mine = factories.household(actor=cast.county, village=county.village_a)
    factories.user("provaudit", User.Role.AUDITOR, county.province)
    page = login(browser, live_server, "provaudit", viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/households/")
    village = page.locator("#id_village option")
    expect(village).to_have_count(1)  # 请先选择县
    expect(page.locator("#id_village")).to_contain_text("请先选择县")
    page.select_option("#id_county", str(county.county.pk))
    # The county's townships, and its villages out of band, without a page load.
    expect(page.locator("#id_township option")).to_have_count(1 + 2)
    expect(village).to_have_count(1 + 3)
    page.select_option("#id_township", str(county.township2.pk))
    expect(village).to_have_count(1 + 1)
    expect(page.locator("#id_village")).to_contain_text(county.village_b.name)
    page.select_option("#id_township", str(county.township1.pk))
    expect(village).to_have_count(1 + 2)
    page.select_option("#id_village", str(county.village_a.pk))
    # The 村民小组 select follows the village select, though the county swapped it (htmx).
    expect(page.locator("#id_group option")).to_have_count(1 + 2)
    # The search form's POST, answered with the page (htmx: no page load), its address pushed.
    page.click(".filters button[type=submit]")
    page.wait_for_url(f"**village={county.village_a.pk}**")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text(mine.number)
    # The page sent back keeps the choices, and the other county's regions stay out.
    expect(page.locator("#id_county")).to_have_value(str(county.county.pk))
    expect(page.locator("#id_village")).not_to_contain_text("白塘村")


def test_the_declaration_page_asks_for_the_county_then_the_township(browser, live_server, county):
    """The public page, no account: with two counties the 县 comes first; the 乡镇 and the
    village fill from it (htmx over `public=1`), the township narrows the villages."""
    other = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    township = factories.region("522623100000", "城关镇", Region.Level.TOWNSHIP, other)
    factories.region("522623100200", "白塘村", Region.Level.VILLAGE, township)
    page = browser.new_page()
    page.goto(f"{live_server.url}/monitoring/declare/")
    village = page.locator("#id_village option")
    expect(village).to_have_count(1)
    page.select_option("#id_county", str(county.county.pk))
    expect(page.locator("#id_township option")).to_have_count(1 + 2)
    expect(village).to_have_count(1 + 3)
    expect(page.locator("#id_village")).not_to_contain_text("白塘村")
    page.select_option("#id_township", str(county.township2.pk))
    expect(village).to_have_count(1 + 1)
    expect(page.locator("#id_village")).to_contain_text(county.village_b.name)
