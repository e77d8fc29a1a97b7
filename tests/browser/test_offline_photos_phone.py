"""Issue 17's photos taken without signal, in Debian's chromium on a 360 px phone
(docs/offline.md "Photos taken offline"): the cadre records a visit offline with a photo from
the camera, reloads the page without signal (the photo is kept in IndexedDB with the entry),
and when the signal returns the visit and then its photo are synced exactly once; the
household's 照片 tab shows the photo through the file door."""

from __future__ import annotations

import datetime
import os

from django.utils import timezone
from PIL import Image

from assistance.models import OfflineSync, Visit, VisitPhoto
from tests import factories
from tests.browser.test_cadre_flow import login, shot
from tests.browser.test_offline_visits import PENDING, open_offline_page
from tests.browser.test_procedure_phone import PHONE, fits

READY = "() => document.getElementById('offline-app').dataset.ready === '1'"


def test_a_photo_taken_offline_is_kept_then_uploaded_once_after_its_visit(
    browser, live_server, cast, county, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    household = factories.household(actor=cast.county, village=county.village_a)
    camera = tmp_path / "IMG_0002.jpg"
    Image.new("RGB", (3200, 2400), (60, 90, 140)).save(camera, format="JPEG", quality=95)
    taken = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    os.utime(camera, (taken.timestamp(), taken.timestamp()))

    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    page.context.set_offline(True)
    page.wait_for_function("() => document.getElementById('offline-app').dataset.online === '0'")
    page.click(f"[data-household='{household.pk}'] [data-record]")
    page.fill("[data-name=seen]", "离线录入：院子整洁")
    photo_input = page.locator("input[data-offline-photos]")
    assert photo_input.get_attribute("accept") == "image/*"
    assert photo_input.get_attribute("capture") == "environment"
    photo_input.set_input_files(str(camera))
    fits(page)
    page.click("[data-visit-form] button[type=submit]")
    page.wait_for_function(f"() => ({PENDING[6:]}) === '1'")
    entry = page.locator("[data-entry]")
    assert entry.locator("[data-photo-count]").inner_text().strip() == "照片 1 张"
    assert entry.locator("[data-photo-state]").get_attribute("data-photo-state") == "pending"
    shot(page, "offline-photos-01-phone-queued")

    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_function(READY)
    assert page.evaluate(PENDING) == "1"
    # Kept on the phone as a Blob of the resized JPEG, with the entry.
    kept = page.evaluate(
        """async () => {
          const db = await new Promise((ok) => {
            const r = indexedDB.open(document.querySelector('#offline-app').dataset.userKey
              ? 'pa-offline-' + document.querySelector('#offline-app').dataset.userKey : '');
            r.onsuccess = () => ok(r.result);
          });
          const all = await new Promise((ok) => {
            const r = db.transaction('entries').objectStore('entries').getAll();
            r.onsuccess = () => ok(r.result);
          });
          db.close();
          const photo = all[0].photos[0];
          return {blob: photo.blob instanceof Blob, type: photo.blob.type, size: photo.blob.size};
        }"""
    )
    assert kept["blob"] and kept["type"] == "image/jpeg" and kept["size"] < 400_000
    assert Visit.objects.count() == 0 and VisitPhoto.objects.count() == 0

    page.context.set_offline(False)
    page.wait_for_function(f"() => ({PENDING[6:]}) === '0'")
    page.wait_for_function(
        "() => document.querySelector('[data-photo-state]').dataset.photoState === 'applied'"
    )
    assert "已上传" in page.inner_text("[data-entry]")
    fits(page)
    shot(page, "offline-photos-02-phone-synced")
    page.reload()
    page.wait_for_function(READY)
    assert OfflineSync.objects.count() == 1
    visit = Visit.objects.get(household=household)
    photo = VisitPhoto.objects.get()
    assert photo.visit == visit
    assert (photo.width, photo.height) == (1600, 1200)
    assert photo.taken_at == taken  # the camera file's time
    assert photo.latitude is None  # 记录位置 not ticked

    page.goto(f"{live_server.url}/households/{household.pk}/?tab=photos")
    image = page.locator(".photo-grid img").first
    assert f"/files/visit_photo/{photo.pk}/inline/" in (image.get_attribute("src") or "")
    page.wait_for_function("() => document.querySelector('.photo-grid img')?.naturalWidth === 1600")
    fits(page)
    shot(page, "offline-photos-03-household-phone")
    page.context.close()


def test_a_photo_the_server_refuses_can_be_dropped_on_its_own(
    browser, live_server, cast, county, tmp_path, settings
):
    """A file the phone cannot shrink and the server refuses (not a picture) stays as 未上传
    with the server's reason; 删除此照片 drops that photo alone and the synced visit stays."""
    settings.MEDIA_ROOT = tmp_path / "media"
    household = factories.household(actor=cast.county, village=county.village_a)
    not_a_photo = tmp_path / "IMG_0003.jpg"
    not_a_photo.write_text("这不是照片", encoding="utf-8")

    page = login(browser, live_server, "cadre", **PHONE)
    open_offline_page(page, live_server)
    page.click(f"[data-household='{household.pk}'] [data-record]")
    page.fill("[data-name=seen]", "家中无人，邻居代为说明")
    page.locator("input[data-offline-photos]").set_input_files(str(not_a_photo))
    page.click("[data-visit-form] button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('[data-photo-state]')?.dataset.photoState === 'invalid'"
    )
    page.wait_for_function(f"() => ({PENDING[6:]}) === '0'")
    entry = page.locator("[data-entry]")
    assert "未上传" in entry.locator("[data-photo]").inner_text()
    assert Visit.objects.filter(household=household).count() == 1
    assert VisitPhoto.objects.count() == 0
    fits(page)
    shot(page, "offline-photos-04-phone-refused")

    entry.locator("[data-photo-remove]").click()
    page.wait_for_function("() => !document.querySelector('[data-photo]')")
    assert page.locator("[data-entry]").count() == 1  # the visit's line stays, synced
    page.reload()
    page.wait_for_function(READY)
    assert page.locator("[data-entry]").count() == 1
    assert page.locator("[data-photo]").count() == 0
    assert page.evaluate(PENDING) == "0"
    assert OfflineSync.objects.count() == 1 and VisitPhoto.objects.count() == 0
    page.context.close()
