"""Issue 17's photos on a visit, in Debian's chromium on a 360 px phone: the cadre attaches a
photo taken by the camera to a visit (online), the script shrinks it on the phone and records
the time it was taken and, because the cadre ticked 记录位置 and the browser allowed it, the
location; the household's 照片 section then shows it through the file door."""

from __future__ import annotations

import datetime
import os

from django.utils import timezone
from PIL import Image

from assistance.models import Visit, VisitPhoto
from tests import factories
from tests.browser.test_cadre_flow import login, shot
from tests.browser.test_procedure_phone import PHONE, fits

WHERE = {"latitude": 26.901234, "longitude": 107.905678}


def test_a_photo_attached_to_a_visit_on_the_phone_shows_on_the_household_page(
    browser, live_server, cast, county, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    household = factories.household(actor=cast.county, village=county.village_a)
    camera = tmp_path / "IMG_0001.jpg"
    Image.new("RGB", (3200, 2400), (90, 140, 60)).save(camera, format="JPEG", quality=95)
    taken = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2)
    os.utime(camera, (taken.timestamp(), taken.timestamp()))  # the camera's time of the shot

    page = login(
        browser,
        live_server,
        "cadre",
        permissions=["geolocation"],
        geolocation=WHERE,
        **PHONE,
    )
    page.goto(f"{live_server.url}/assistance/households/{household.pk}/visits/new/")
    photo_input = page.locator("input[type=file][name=photos]")
    assert photo_input.get_attribute("accept") == "image/*"
    assert photo_input.get_attribute("capture") == "environment"
    assert photo_input.get_attribute("multiple") is not None
    page.fill("textarea[name=seen]", "院子整洁，房屋安全")
    photo_input.set_input_files(str(camera))
    location = page.locator("[data-photo-location]")
    assert location.is_visible()  # shown by the script only
    location.locator("input[type=checkbox]").check()
    page.wait_for_function(
        "() => document.querySelector('[data-photo-status]').textContent.includes('已获取位置')"
    )
    fits(page)
    shot(page, "photos-visit-form-phone")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert "tab=visits" in page.url

    visit = Visit.objects.get(household=household)
    photo = VisitPhoto.objects.get(visit=visit)
    assert (photo.width, photo.height) == (1600, 1200)
    assert photo.size < 400_000
    assert photo.taken_at == taken  # from the capture, sent by the script
    assert (float(photo.latitude), float(photo.longitude)) == (
        WHERE["latitude"],
        WHERE["longitude"],
    )
    # The visit shows it.
    page.wait_for_function("() => document.querySelector('.photo-grid img')?.naturalWidth > 0")

    page.goto(f"{live_server.url}/households/{household.pk}/?tab=photos")
    image = page.locator(".photo-grid img").first
    assert f"/files/visit_photo/{photo.pk}/inline/" in (image.get_attribute("src") or "")
    page.wait_for_function("() => document.querySelector('.photo-grid img')?.naturalWidth === 1600")
    fits(page)
    shot(page, "photos-household-phone")
