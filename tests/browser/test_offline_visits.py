"""Issue 17's field work without signal, in Debian's chromium on a 360 px phone (docs/offline.md).

A helper opens 离线走访 with signal, loses it (`context.set_offline(True)`), records a visit,
reloads the page without signal (served by the service worker from the user's cache), and the
visit is synced exactly once when the signal returns. A cadre's offline edit of a household
someone else changed meanwhile shows as a conflict with both versions, and is applied only when
the cadre decides. Sign-out deletes the offline databases and caches."""

from __future__ import annotations

from assistance.models import OfflineSync, Pairing, Visit
from households import services as household_services
from tests import factories
from tests.browser.test_cadre_flow import login, shot
from tests.browser.test_procedure_phone import PHONE, fits

READY = "() => document.getElementById('offline-app').dataset.ready === '1'"
CACHED = "() => document.getElementById('offline-app').dataset.cached === '1'"
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
PENDING = "() => document.querySelector('[data-pending-count]').textContent.trim()"


def open_offline_page(page, live_server) -> None:
    page.goto(f"{live_server.url}/assistance/offline/")
    page.wait_for_function(READY)
    page.wait_for_function(CACHED)
    # The service worker installed on this first visit takes the page over (clients.claim).
    page.wait_for_function(CONTROLLED)


def record_visit(page, household, seen: str, **choices: str) -> None:
    page.click(f"[data-household='{household.pk}'] [data-record]")
    page.fill("[data-name=seen]", seen)
    page.select_option("[data-name=q_food]", "是")
    for name, value in choices.items():
        page.select_option(f"[data-name={name}]", value)
    page.click("[data-visit-form] button[type=submit]")


def test_a_visit_recorded_offline_survives_a_reload_and_syncs_once(
    browser, live_server, cast, county
):
    household = factories.household(actor=cast.county, village=county.village_a)
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date="2019-01-01"
    )
    other = factories.household(actor=cast.county, village=county.village_a)  # not paired
    page = login(browser, live_server, "helper", **PHONE)
    open_offline_page(page, live_server)
    households = page.inner_text("[data-households]")
    assert household.number in households
    assert other.number not in households  # scoped as online
    head = household.members.get(relation="户主", is_active=True)
    assert head.id_number not in households  # masked as online
    fits(page)

    page.context.set_offline(True)
    page.wait_for_function("() => document.getElementById('offline-app').dataset.online === '0'")
    record_visit(page, household, "离线录入：口粮充足")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    assert "待同步 1 条" in page.inner_text("#queue-title").replace("\n", " ")
    shot(page, "offline-01-phone-queued")

    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_function(READY)
    assert page.evaluate(PENDING) == "1"
    assert household.number in page.inner_text("[data-households]")
    assert Visit.objects.count() == 0
    fits(page)

    page.context.set_offline(False)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '0'")
    page.wait_for_function(
        "() => document.querySelector('[data-entry]').dataset.state === 'applied'"
    )
    assert "已同步" in page.inner_text("[data-queue]")
    shot(page, "offline-02-phone-synced")
    # Reloaded and synced again with signal: nothing is applied twice.
    page.reload()
    page.wait_for_function(READY)
    assert Visit.objects.count() == 1
    assert OfflineSync.objects.count() == 1
    visit = Visit.objects.get()
    assert (visit.household, visit.visitor, visit.seen) == (
        household,
        cast.helper,
        "离线录入：口粮充足",
    )
    assert visit.questionnaire == {"food": "是"}
    page.context.close()


def test_a_conflicting_offline_edit_shows_both_versions_and_waits_for_the_user(
    browser, live_server, cast, county
):
    household = factories.household(actor=cast.county, village=county.village_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    page.context.set_offline(True)
    page.wait_for_function("() => document.getElementById('offline-app').dataset.online === '0'")
    record_visit(page, household, "核实：口粮不足", h_food_secure="false")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    # Meanwhile, at the county office, someone changes the same household.
    household_services.household_update(
        actor=cast.county,
        household=household,
        data={"clothing_secure": False},
        expected_version=household.version,
    )
    page.context.set_offline(False)
    page.wait_for_function(
        "() => document.querySelector('[data-entry]').dataset.state === 'conflict'"
    )
    entry = page.inner_text("[data-entry]")
    assert "冲突" in entry
    assert "我的记录" in entry and "系统中现在" in entry
    food = page.inner_text("[data-compare=food_secure]")
    assert "否" in food and "是" in food  # mine: 否; the server's: 是
    assert page.inner_text("[data-compare=clothing_secure]").split("\t")[-1].strip() == "否"
    assert Visit.objects.count() == 0
    household.refresh_from_db()
    assert household.food_secure is True
    fits(page)
    shot(page, "offline-03-phone-conflict")

    page.click("[data-entry] [data-keep-mine]")
    page.wait_for_function(
        "() => document.querySelector('[data-entry]').dataset.state === 'applied'"
    )
    household.refresh_from_db()
    assert household.food_secure is False
    assert household.clothing_secure is False  # the other change is kept
    assert Visit.objects.count() == 1
    page.context.close()


def test_sign_out_clears_the_offline_data(browser, live_server, cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    page.context.set_offline(True)
    record_visit(page, household, "同步后退出")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    page.context.set_offline(False)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '0'")
    databases = "async () => (await indexedDB.databases()).map((d) => d.name)"
    caches = "async () => (await caches.keys()).filter((name) => name.startsWith('pa-'))"
    assert len(page.evaluate(databases)) == 1
    assert any(name.startswith("pa-offline-") for name in page.evaluate(caches))

    # On a phone the account sits in the folded menu (templates/base.html): open it first.
    page.click("button.menu-toggle")
    with page.expect_navigation(url=f"{live_server.url}/accounts/login/"):
        page.click("form[action='/accounts/logout/'] button[type=submit]")
    assert page.evaluate(databases) == []
    assert page.evaluate(caches) == []
    # Without signal, the offline page is no longer on the phone.
    page.context.set_offline(True)
    try:
        page.goto(f"{live_server.url}/assistance/offline/")
    except Exception as error:  # the browser's own "no connection" error
        assert "ERR_INTERNET_DISCONNECTED" in str(error) or "ERR_FAILED" in str(error)
    else:
        assert household.number not in page.content()
    page.context.close()


def test_sign_out_asks_before_deleting_entries_not_yet_synced(browser, live_server, cast, county):
    """Sign-out deletes the offline data; an entry that has not reached the server is never
    deleted without the user's word: a question names how many, "cancel" keeps them and the
    session, "OK" signs out and deletes them."""
    household = factories.household(actor=cast.county, village=county.village_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    # The signal returns but the sync cannot get through: the entry stays waiting.
    page.route("**/api/v1/assistance/offline/visits/", lambda route: route.abort())
    page.context.set_offline(True)
    record_visit(page, household, "尚未同步")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    page.context.set_offline(False)
    databases = "async () => (await indexedDB.databases()).map((d) => d.name)"
    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("button.menu-toggle")
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_function("() => true")
    page.wait_for_timeout(500)
    assert questions and "1" in questions[0]
    assert page.url.startswith(f"{live_server.url}/assistance/offline/")  # still signed in
    assert len(page.evaluate(databases)) == 1
    assert page.evaluate(PENDING) == "1"
    assert Visit.objects.count() == 0

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation(url=f"{live_server.url}/accounts/login/"):
        page.click("form[action='/accounts/logout/'] button[type=submit]")
    assert page.evaluate(databases) == []
    page.context.close()
