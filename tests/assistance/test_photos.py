"""Field photos of visits (issue 17, povertyapp/photos.py): uploaded with the online visit form,
checked (JPEG/PNG by content, decoded, no bomb, not oversize), re-encoded without EXIF, served
inline through the file door with its scope and AccessLog, shown on the household's record, and
locked with the visit's year."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from assistance import services
from assistance.models import Visit, VisitPhoto
from povertyapp import files, yearlock
from povertyapp.models import AccessLog
from tests.conftest import login
from tests.project import app_today


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def jpeg(width: int = 64, height: int = 48, *, exif: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    buffer = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x0131] = "secret-software"  # Software
        gps = {1: "N", 2: (26.0, 54.0, 0.0), 3: "E", 4: (107.0, 54.0, 0.0)}
        data[0x8825] = gps  # GPSInfo
        image.save(buffer, format="JPEG", exif=data.tobytes())
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 128, 0, 128))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_bomb(side: int = 100_000) -> bytes:
    """A PNG whose header claims side × side pixels (10 gigapixels) with a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def visit_data(**extra):
    return {"date": app_today().isoformat(), "seen": "家中两人在家，房屋安全", **extra}


def post_visit(user, household, photos, **extra):
    return login(user).post(
        reverse("assistance:visit-create", args=[household.pk]),
        visit_data(photos=photos, **extra),
    )


def page_text(response) -> str:
    return response.content.decode()


def test_a_visit_with_a_jpeg_and_a_png_stores_both_resized_as_jpeg(cast, household_a):
    taken = "2026-11-30T08:15:00+08:00"
    meta = json.dumps(
        [
            {"taken_at": taken, "latitude": "26.900123", "longitude": "107.900456"},
            {"taken_at": taken},
        ]
    )
    response = post_visit(
        cast.cadre,
        household_a,
        [
            SimpleUploadedFile("院子.jpg", jpeg(2400, 1200), content_type="image/jpeg"),
            SimpleUploadedFile("厨房.png", png(), content_type="image/png"),
        ],
        photo_meta=meta,
    )
    assert response.status_code == 302, page_text(response)
    visit = Visit.objects.get(household=household_a)
    first, second = VisitPhoto.objects.filter(visit=visit).order_by("id")
    assert (first.width, first.height) == (1600, 800)
    assert (second.width, second.height) == (40, 30)
    for photo in (first, second):
        data = photo.photo.read()
        photo.photo.close()
        assert data[:3] == b"\xff\xd8\xff"  # JPEG, whatever came in
        assert photo.size == len(data)
        assert photo.sha256 == hashlib.sha256(data).hexdigest()
        assert photo.uploaded_by == cast.cadre
        assert photo.photo.name.startswith("photos/")
        assert photo.photo.name.endswith(".jpg")
    assert first.taken_at == datetime.datetime.fromisoformat(taken)
    assert (str(first.latitude), str(first.longitude)) == ("26.900123", "107.900456")
    assert second.latitude is None and second.longitude is None


def test_without_the_script_the_original_is_resized_and_taken_at_upload(cast, household_a):
    response = post_visit(
        cast.helper,
        household_a,
        [SimpleUploadedFile("大图.jpg", jpeg(3000, 4000), content_type="image/jpeg")],
    )
    assert response.status_code == 302
    photo = VisitPhoto.objects.get()
    assert (photo.width, photo.height) == (1200, 1600)
    assert abs((photo.taken_at - photo.uploaded_at).total_seconds()) < 60
    assert photo.latitude is None


def test_exif_and_gps_are_gone_after_the_re_encoding(cast, household_a):
    original = jpeg(exif=True)
    assert b"PhoneMaker" in original and b"secret-software" in original
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    response = post_visit(
        cast.cadre,
        household_a,
        [SimpleUploadedFile("门口.jpg", original, content_type="image/jpeg")],
    )
    assert response.status_code == 302
    photo = VisitPhoto.objects.get()
    stored = photo.photo.read()
    photo.photo.close()
    assert b"PhoneMaker" not in stored and b"secret-software" not in stored
    assert b"Exif" not in stored
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {}
    assert photo.latitude is None  # the photo's own GPS is never taken as the location


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("照片.jpg", b"<html><script>alert(1)</script></html>", "照片只能是JPG或PNG图片"),
        ("照片.jpg", b"%PDF-1.7\n" + b"0" * 200, "照片只能是JPG或PNG图片"),
        ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 200, "图片无法打开"),
        ("炸弹.png", png_bomb(), "图片像素过多"),
    ],
    ids=["html", "pdf", "broken_jpeg", "bomb"],
)
def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_written(
    cast, household_a, name, content, says
):
    response = post_visit(cast.cadre, household_a, [SimpleUploadedFile(name, content)])
    assert response.status_code == 400
    assert says in page_text(response)
    assert f"照片“{name}”" in page_text(response)
    assert "家中两人在家，房屋安全" in page_text(response)  # what was typed is kept
    assert not Visit.objects.exists()
    assert not VisitPhoto.objects.exists()


def test_the_pixel_limit_is_a_setting(cast, household_a, settings):
    settings.PHOTO_MAX_PIXELS = 1000
    response = post_visit(cast.cadre, household_a, [SimpleUploadedFile("a.jpg", jpeg(50, 50))])
    assert response.status_code == 400
    assert "图片像素过多（50×50）" in page_text(response)


def test_an_oversize_photo_is_refused_with_the_limit(cast, household_a, settings):
    settings.PHOTO_UPLOAD_MAX_BYTES = 1024 * 1024
    content = jpeg() + b"\0" * (1024 * 1024)
    response = post_visit(cast.cadre, household_a, [SimpleUploadedFile("大.jpg", content)])
    assert response.status_code == 400
    assert "照片过大（1.0 MB），上限为1 MB。" in page_text(response)
    assert not Visit.objects.exists()


def test_at_most_n_photos_per_visit(cast, household_a, settings):
    settings.PHOTO_MAX_PER_OWNER = 2
    photos = [SimpleUploadedFile(f"{n}.jpg", jpeg()) for n in range(3)]
    response = post_visit(cast.cadre, household_a, photos)
    assert response.status_code == 400
    assert "每条记录最多2张照片（本次选择了3张）" in page_text(response)
    assert not Visit.objects.exists()
    visit = services.visit_record(
        actor=cast.cadre, household=household_a, date=app_today(), seen="看"
    )
    services.visit_photos_add(actor=cast.cadre, visit=visit, photos=[_processed(), _processed()])
    with pytest.raises(Exception, match="每条记录最多2张照片（已有2张，本次1张）"):
        services.visit_photos_add(actor=cast.cadre, visit=visit, photos=[_processed()])
    assert VisitPhoto.objects.count() == 2


def _processed():
    from povertyapp import photos

    return photos.photo_process(SimpleUploadedFile("x.jpg", jpeg()))


def _photo(cast, household):
    visit = services.visit_record(
        actor=cast.cadre, household=household, date=app_today(), seen="看"
    )
    (photo,) = services.visit_photos_add(actor=cast.cadre, visit=visit, photos=[_processed()])
    return photo


def test_the_inline_door_serves_the_image_with_its_checks_and_logs_it(cast, household_a):
    photo = _photo(cast, household_a)
    url = files.download_url(user=cast.cadre, kind="visit_photo", obj=photo, inline=True)
    assert "/inline/" in url
    response = login(cast.cadre).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline; filename=")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == photo.sha256
    log = AccessLog.objects.filter(target="visit_photo", object_id=photo.pk).get()
    assert log.user == cast.cadre
    assert log.sha256 == photo.sha256
    # The paired helper sees it too; the cadre of another village does not (404, as unknown).
    helper_url = files.download_url(user=cast.helper, kind="visit_photo", obj=photo, inline=True)
    assert login(cast.helper).get(helper_url).status_code == 200
    other_url = files.download_url(user=cast.cadre2, kind="visit_photo", obj=photo, inline=True)
    assert login(cast.cadre2).get(other_url).status_code == 404
    assert not AccessLog.objects.filter(target="visit_photo", user=cast.cadre2).exists()
    # Another user's link is refused; a link without a token too.
    assert login(cast.county).get(url).status_code == 403
    assert login(cast.cadre).get(url.split("?")[0]).status_code == 403


def test_a_kind_that_is_not_an_image_is_never_served_inline(cast, household_a):
    with pytest.raises(ValueError):
        files.download_url(user=cast.cadre, kind="job_result", obj=household_a, inline=True)
    url = reverse("files:inline", kwargs={"kind": "workflow_evidence", "object_id": 1})
    assert login(cast.cadre).get(url).status_code == 404


def test_photos_are_shown_on_the_household_page_and_the_visit(cast, household_a, household_b):
    photo = _photo(cast, household_a)
    page = login(cast.cadre).get(
        reverse("households:detail", args=[household_a.pk]) + "?tab=photos"
    )
    text = page_text(page)
    assert page.status_code == 200
    assert f"/files/visit_photo/{photo.pk}/inline/?t=" in text
    assert f"走访 {app_today().isoformat()}" in text
    visits = login(cast.cadre).get(
        reverse("assistance:household", args=[household_a.pk]) + "?tab=visits"
    )
    assert f"/files/visit_photo/{photo.pk}/inline/?t=" in page_text(visits)
    # A user who cannot see the household gets no page at all, so no photo.
    other = login(cast.cadre2).get(
        reverse("households:detail", args=[household_a.pk]) + "?tab=photos"
    )
    assert other.status_code == 404
    assert "visit_photo" not in page_text(other)
    # Household B has no photos: its 照片 section says so.
    empty = login(cast.cadre2).get(
        reverse("households:detail", args=[household_b.pk]) + "?tab=photos"
    )
    assert "暂无照片。" in page_text(empty)


def test_a_photo_of_a_signed_year_is_refused(cast, county, household_a, settings):
    visit = services.visit_record(
        actor=cast.cadre,
        household=household_a,
        date=datetime.date(app_today().year - 1, 6, 1),
        seen="看",
    )
    yearlock.lock(county=county.county, year=app_today().year - 1, actor=None)
    with pytest.raises(yearlock.YearLockedError):
        services.visit_photos_add(actor=cast.cadre, visit=visit, photos=[_processed()])
    assert not VisitPhoto.objects.exists()
    # No file was left behind by the refused photo.
    assert list(Path(settings.MEDIA_ROOT).rglob("*.jpg")) == []


# --- 入户核实 (the steps marked `photos` of a procedure) ---------------------------------------


def test_a_home_visit_step_takes_photos_and_other_steps_refuse_them(cast, household_a):
    from households import services as household_services
    from households.models import CaseWorkflow, StepPhoto, WorkflowStep
    from households.workflows import IDENTIFICATION
    from monitoring import procedures as monitoring_procedures

    assert IDENTIFICATION.step("verification").photos
    assert not IDENTIFICATION.step("appraisal").photos
    assert monitoring_procedures.IDENTIFICATION.step("home_visit").photos
    found = monitoring_procedures.identification_start(
        actor=cast.cadre,
        household=household_a,
        object_type="marginal",
        risk_types=["illness"],
        clue_date=app_today(),
        consent=SimpleUploadedFile("承诺授权书.pdf", b"%PDF-1.4\n%%EOF\n"),
        consent_signed_on=app_today(),
    )
    workflow = found.identification
    assert workflow.kind == CaseWorkflow.Kind.MONITORING
    url = reverse("households:workflow-complete", args=[workflow.pk])
    page = login(cast.cadre).get(reverse("households:workflow", args=[workflow.pk]))
    assert 'name="photos"' in page_text(page) and 'capture="environment"' in page_text(page)
    # A hostile file: refused with its message, the step not done.
    refused = login(cast.cadre).post(
        url,
        {
            "step": "home_visit",
            "opinion": "入户核实属实",
            "photos": [SimpleUploadedFile("x.jpg", b"MZ")],
        },
    )
    assert refused.status_code == 400
    assert "照片只能是JPG或PNG图片" in page_text(refused)
    workflow.refresh_from_db()
    assert workflow.step == "home_visit"
    response = login(cast.cadre).post(
        url,
        {
            "step": "home_visit",
            "opinion": "入户核实属实",
            "photos": [SimpleUploadedFile("屋内.jpg", jpeg(exif=True))],
            "photo_meta": json.dumps([{"latitude": "26.5", "longitude": "107.5"}]),
        },
    )
    assert response.status_code == 302
    record = WorkflowStep.objects.get(workflow=workflow, step="home_visit")
    photo = StepPhoto.objects.get(step=record)
    stored = photo.photo.read()
    photo.photo.close()
    assert b"PhoneMaker" not in stored
    assert (str(photo.latitude), str(photo.longitude)) == ("26.500000", "107.500000")
    # Shown on the case and on the household's 照片, through the door, to the scope only.
    case_page = page_text(login(cast.cadre).get(reverse("households:workflow", args=[workflow.pk])))
    assert f"/files/step_photo/{photo.pk}/inline/?t=" in case_page
    photos_page = login(cast.helper).get(
        reverse("households:detail", args=[household_a.pk]) + "?tab=photos"
    )
    if photos_page.status_code == 200:  # the helper sees the household page when paired
        assert f"/files/step_photo/{photo.pk}/inline/?t=" in page_text(photos_page)
    cadre_page = page_text(
        login(cast.cadre).get(reverse("households:detail", args=[household_a.pk]) + "?tab=photos")
    )
    assert f"/files/step_photo/{photo.pk}/inline/?t=" in cadre_page
    other = files.download_url(user=cast.cadre2, kind="step_photo", obj=photo, inline=True)
    assert login(cast.cadre2).get(other).status_code == 404
    # A step not marked for photos refuses them in the service.
    with pytest.raises(Exception, match="只有入户核实可以"):
        household_services.workflow_step_complete(
            actor=cast.cadre,
            workflow=workflow,
            expected_step="appraisal",
            opinion="评议通过",
            attendance=20,
            evidence=SimpleUploadedFile("会议.pdf", b"%PDF-1.4\n%%EOF\n"),
            photos=[_processed()],
        )


# --- the clue's 入户核实 (monitoring.CluePhoto) -----------------------------------------------


def test_a_clue_home_visit_takes_photos_shown_on_the_clue_and_the_household(cast, household_a):
    from monitoring import clues
    from monitoring.models import Clue, CluePhoto

    head = household_a.members.get(relation="户主")
    clue = clues.clue_create(
        channel="self_declaration",
        name=head.name,
        id_number=head.id_number,
        risk_type="illness",
        received_on=app_today(),
        actor=cast.cadre,
    )
    page = page_text(login(cast.cadre).get(reverse("monitoring:clue", args=[clue.pk])))
    assert 'name="photos"' in page and "photo-resize.js" in page
    url = reverse("monitoring:clue-verify", args=[clue.pk])
    form = {
        "verified_on": app_today().isoformat(),
        "note": "入户核实属实",
        "consent_signed_on": app_today().isoformat(),
        "version": clue.version,
    }
    # A file that is not a photo: refused with its message, nothing recorded.
    refused = login(cast.cadre).post(
        url,
        {
            **form,
            "consent": SimpleUploadedFile("承诺授权书.pdf", b"%PDF-1.4\n%%EOF\n"),
            "photos": [SimpleUploadedFile("x.jpg", b"MZ")],
        },
    )
    assert refused.status_code == 400
    assert "照片只能是JPG或PNG图片" in page_text(refused)
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING and not CluePhoto.objects.exists()
    response = login(cast.cadre).post(
        url,
        {
            **form,
            "consent": SimpleUploadedFile("承诺授权书.pdf", b"%PDF-1.4\n%%EOF\n"),
            "photos": [SimpleUploadedFile("门前.jpg", jpeg(exif=True))],
            "photo_meta": json.dumps([{"latitude": "26.5", "longitude": "107.5"}]),
        },
    )
    assert response.status_code == 302
    photo = CluePhoto.objects.get(clue=clue)
    stored = photo.photo.read()
    photo.photo.close()
    assert b"PhoneMaker" not in stored
    assert (str(photo.latitude), str(photo.longitude)) == ("26.500000", "107.500000")
    inline = f"/files/clue_photo/{photo.pk}/inline/?t="
    assert inline in page_text(login(cast.cadre).get(reverse("monitoring:clue", args=[clue.pk])))
    tab = login(cast.cadre).get(reverse("households:detail", args=[household_a.pk]) + "?tab=photos")
    assert inline in page_text(tab)
    other = files.download_url(user=cast.cadre2, kind="clue_photo", obj=photo, inline=True)
    assert login(cast.cadre2).get(other).status_code == 404
    # Not year-locked, like its clue (the clue door runs on through the year-end).
    assert "monitoring.CluePhoto" in yearlock.exemptions()
