"""Issue 17's field work without signal for the monitoring forms, in Debian's chromium on a
360 px phone (docs/offline.md): a clue's 入户核实 (with the 承诺授权 photo taken on the phone)
and a 集中排查表 recorded offline, the page reloaded offline, both synced exactly once; a 排查表
someone else saved meanwhile surfacing as a conflict with both sides; a second user signing in
on the same phone without the first signing out never seeing the first user's data."""

from __future__ import annotations

import datetime

from assistance.models import OfflineSync
from monitoring import sweeps
from monitoring.models import Clue, SweepHousehold
from tests import factories
from tests.browser.test_cadre_flow import login, shot
from tests.browser.test_offline_visits import PENDING, open_offline_page
from tests.browser.test_procedure_phone import PHONE, fits
from tests.monitoring.clue_fixtures import declared, head_id
from tests.monitoring.sweep_fixtures import open_sweep, visit

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00consent photo"
STATE = "() => document.querySelector('[data-entry][data-kind={kind}]').dataset.state"


def _world(cast, county, household):
    today = datetime.date.today()
    sweep = open_sweep(
        cast,
        county,
        year=today.year,
        start_date=today - datetime.timedelta(days=10),
        end_date=today + datetime.timedelta(days=10),
    )
    row = SweepHousehold.objects.get(sweep=sweep, household=household)
    clue = declared(village=county.village_a, id_number=head_id(household), received_on=today)
    return row, clue


def _state(kind: str) -> str:
    return STATE.replace("{kind}", kind)


def record_sweep(page, row, first="张明", second="李华") -> None:
    page.click(f"[data-records-section=sweep] [data-item='{row.pk}'] [data-record]")
    page.select_option("[data-name=visited]", "yes")
    page.fill("[data-name=first_surveyor]", first)
    page.fill("[data-name=second_surveyor]", second)
    for key, _label in sweeps.YES_NO_QUESTIONS:
        page.select_option(f"[data-name={key}]", "yes")
    page.select_option("[data-name=income_change]", "down")
    page.check("[data-name=risk_found]")
    page.check("[data-name=risk_types] input[value=illness]")
    page.fill("[data-name=note]", "户主住院")
    page.click("[data-visit-form] button[type=submit]")


def test_a_clue_visit_and_a_sweep_form_recorded_offline_sync_once(
    browser, live_server, cast, county, household_a
):
    row, clue = _world(cast, county, household_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    clues = page.inner_text("[data-records-section=clue_verify]")
    assert clue.name in clues and clue.id_number not in clues  # masked as online
    assert household_a.number in page.inner_text("[data-records-section=sweep]")
    fits(page)

    page.context.set_offline(True)
    page.wait_for_function("() => document.getElementById('offline-app').dataset.online === '0'")
    # 入户核实: without the 承诺授权 photo the phone does not save it, and says why.
    page.click(f"[data-records-section=clue_verify] [data-item='{clue.pk}'] [data-record]")
    page.fill("[data-name=note]", "妻子住院属实")
    page.click("[data-visit-form] button[type=submit]")
    assert "承诺授权书" in page.inner_text("[data-field=consent] .errorlist")
    page.set_input_files(
        "[data-name=consent]", {"name": "承诺授权书.jpg", "mimeType": "image/jpeg", "buffer": JPEG}
    )
    page.click("[data-visit-form] button[type=submit]")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    record_sweep(page, row)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '2'")
    fits(page)
    shot(page, "offline-field-01-queued")

    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_function("() => document.getElementById('offline-app').dataset.ready === '1'")
    assert page.evaluate(PENDING) == "2"
    assert OfflineSync.objects.count() == 0

    page.context.set_offline(False)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '0'")
    page.wait_for_function(f"() => ({_state('clue_verify')[6:]}) === 'applied'")
    page.wait_for_function(f"() => ({_state('sweep')[6:]}) === 'applied'")
    shot(page, "offline-field-02-synced")
    page.reload()
    page.wait_for_function("() => document.getElementById('offline-app').dataset.ready === '1'")
    assert OfflineSync.objects.filter(kind="clue_verify").count() == 1
    assert OfflineSync.objects.filter(kind="sweep").count() == 1
    clue.refresh_from_db()
    row.refresh_from_db()
    assert (clue.state, clue.verified_by, clue.version) == (Clue.State.VERIFIED, cast.cadre, 2)
    assert clue.verification_note == "妻子住院属实" and clue.consent.name
    assert (row.state, row.risk_types, row.recorded_by, row.version) == (
        "visited",
        ["illness"],
        cast.cadre,
        2,
    )
    page.context.close()


def test_a_sweep_form_saved_meanwhile_surfaces_as_a_conflict(
    browser, live_server, cast, county, household_a
):
    row, _clue = _world(cast, county, household_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    page.context.set_offline(True)
    record_sweep(page, row)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    # Meanwhile the county office records the same household's 排查表 online.
    sweeps.sweep_visit_record(
        actor=cast.county,
        sweep_household=row,
        visit=visit(
            visited_on=datetime.date.today(), first_surveyor="王刚", second_surveyor="赵强"
        ),
        expected_version=1,
    )
    page.context.set_offline(False)
    page.wait_for_function(f"() => ({_state('sweep')[6:]}) === 'conflict'")
    entry = page.inner_text("[data-entry][data-kind=sweep]")
    assert cast.county.display_name in entry
    first = page.inner_text("[data-entry] [data-compare=first_surveyor]")
    assert "张明" in first and "王刚" in first  # mine and the server's, side by side
    row.refresh_from_db()
    assert (row.first_surveyor, row.risk_found) == ("王刚", False)  # not applied silently
    fits(page)
    shot(page, "offline-field-03-conflict")
    page.click("[data-entry][data-kind=sweep] [data-keep-mine]")
    page.wait_for_function(f"() => ({_state('sweep')[6:]}) === 'applied'")
    row.refresh_from_db()
    assert (row.first_surveyor, row.risk_found, row.recorded_by) == ("张明", True, cast.cadre)
    assert OfflineSync.objects.count() == 1
    page.context.close()


def test_a_second_user_on_the_same_phone_never_sees_the_first_users_data(
    browser, live_server, cast, county, household_a, household_b
):
    row, clue = _world(cast, county, household_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    databases = "async () => (await indexedDB.databases()).map((d) => d.name).sort()"
    first_user = page.evaluate(databases)
    assert len(first_user) == 1
    # The first user does not sign out: the session ends (phone handed on) and another cadre
    # signs in on the same browser.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cadre2")
    page.fill("#id_password", factories.PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/")
    # At sign-in: the first user's database (nothing left to sync) is deleted.
    page.wait_for_function(
        "async () => !(await indexedDB.databases()).some((d) => d.name === '" + first_user[0] + "')"
    )
    open_offline_page(page, live_server)
    text = page.inner_text("#offline-app")
    assert household_a.number not in text
    assert page.locator(f"[data-records-section=clue_verify] [data-item='{clue.pk}']").count() == 0
    assert household_b.number in text
    assert first_user[0] not in page.evaluate(databases)
    # Offline, the page is answered for the signed-in user only.
    page.context.set_offline(True)
    page.reload()
    page.wait_for_function("() => document.getElementById('offline-app').dataset.ready === '1'")
    assert household_a.number not in page.inner_text("#offline-app")
    page.context.close()


def test_a_first_users_unsynced_entries_are_kept_unopened_for_them(
    browser, live_server, cast, county, household_a, household_b
):
    row, _clue = _world(cast, county, household_a)
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    page.route("**/api/v1/monitoring/offline/sweep/", lambda route: route.abort())
    page.context.set_offline(True)
    record_sweep(page, row)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    page.context.set_offline(False)
    page.unroute("**/api/v1/monitoring/offline/sweep/")
    databases = "async () => (await indexedDB.databases()).map((d) => d.name).sort()"
    first_user = page.evaluate(databases)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cadre2")
    page.fill("#id_password", factories.PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/")
    open_offline_page(page, live_server)
    # The second user's queue is theirs: empty; the first user's entry is neither shown nor
    # synced under the second user's account, and stays on the phone for its owner.
    assert page.evaluate(PENDING) == "0"
    assert household_a.number not in page.inner_text("#offline-app")
    assert first_user[0] in page.evaluate(databases)
    row.refresh_from_db()
    assert row.state == "pending" and OfflineSync.objects.count() == 0
    page.context.close()


def test_a_procedure_home_visit_step_recorded_offline_syncs_once(
    browser, live_server, cast, county, household_a
):
    from tests.monitoring.object_fixtures import start

    case = start(cast, household_a).identification
    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    assert household_a.number in page.inner_text("[data-records-section=step]")
    page.context.set_offline(True)
    page.wait_for_function("() => document.getElementById('offline-app').dataset.online === '0'")
    page.click(f"[data-records-section=step] [data-item='{case.pk}'] [data-record]")
    page.click("[data-visit-form] button[type=submit]")  # the opinion is required, as online
    assert page.inner_text("[data-field=opinion] .errorlist").strip()
    page.fill("[data-name=opinion]", "入户核实：收入下降属实")
    page.click("[data-visit-form] button[type=submit]")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_function("() => document.getElementById('offline-app').dataset.ready === '1'")
    assert page.evaluate(PENDING) == "1"
    page.context.set_offline(False)
    page.wait_for_function(f"() => ({_state('step')[6:]}) === 'applied'")
    page.reload()
    page.wait_for_function("() => document.getElementById('offline-app').dataset.ready === '1'")
    case.refresh_from_db()
    assert case.step == "appraisal"
    assert case.steps.filter(step="home_visit").count() == 1
    assert OfflineSync.objects.filter(kind="step").count() == 1
    page.context.close()
