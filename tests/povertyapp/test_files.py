"""The file door (issue 12 §1): every stored file is named, stored, served and expired one way.

Each file kind registered with `povertyapp.files` has a case below (a test fails when a kind has
none), and every test of the door walks every kind and every user of the fixed cast.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import io
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from assistance.models import Pairing
from households import services as household_services
from households.models import CaseWorkflow, Household
from inspections import services as inspection_services
from povertyapp import audit, files, jobs, tasks
from povertyapp.files.storage import PrivateFileSystemStorage
from povertyapp.models import AccessLog, Job, User
from tests import factories
from tests.conftest import Cast, County, login
from tests.production_env import settings_subprocess
from tests.project import app_today

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png() -> bytes:
    """A real 1×1 PNG (a photo of the posted 公示, as far as any content check can tell)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    """A minimal well-formed PDF (one empty page)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


@dataclass
class FileCase:
    """One stored file of a kind, and who may read it: `owner` put it there; `readers` (the
    owner first) get it; every other user of the cast gets 404."""

    kind: str
    obj: models.Model
    owner: User
    readers: list[User]
    content: bytes
    download_name: str


def _job_case(cast: Cast, county: County) -> FileCase:
    content = b"PK\x03\x04 ledger of 18,152 people"
    job = jobs.job_create(user=cast.county, kind="ledger_export", region=county.county)
    job.result_file.save("人员台账_黄平县_20261203.xlsx", ContentFile(content), save=True)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    job.refresh_from_db()
    # Only the owner: the file was written with the owner's rights (full ID numbers for the
    # county office), so the township reviewer of the same county must not take it.
    return FileCase("job_result", job, cast.county, [cast.county], content, job_name(job))


def job_name(job: Job) -> str:
    return files.original_name(job.result_file.name)


def _workflow_case(cast: Cast, county: County) -> FileCase:
    household = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    content = png()
    workflow = household_services.workflow_start(
        actor=cast.cadre,
        household=household,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        opinion="本人申请",
        evidence=SimpleUploadedFile("申请书 照片.png", content, content_type="image/png"),
    )
    record = workflow.steps.get()
    readers = [cast.cadre, cast.township, cast.county, cast.auditor, cast.helper]
    return FileCase("workflow_evidence", record, cast.cadre, readers, content, "申请书_照片.png")


def _rectification_case(cast: Cast, county: County) -> FileCase:
    item = inspection_services.rectification_create(
        actor=cast.county,
        region=county.village_a,
        source="supervision",
        data={
            "problem": "危房改造未完成",
            "category": "住房安全",
            "responsible_unit": "县住建局",
            "responsible_person": "张三",
            "deadline": app_today() + datetime.timedelta(days=10),
        },
    )
    content = pdf()
    evidence = inspection_services.rectification_evidence_add(
        actor=cast.cadre,
        item=item,
        file=SimpleUploadedFile("整改佐证-12.pdf", content, content_type="application/pdf"),
    )
    readers = [cast.cadre, cast.township, cast.county, cast.auditor]
    return FileCase(
        "rectification_evidence", evidence, cast.cadre, readers, content, "整改佐证-12.pdf"
    )


def _batch_case(cast: Cast, county: County) -> FileCase:
    households = [
        factories.household(
            actor=cast.county,
            village=county.village_a,
            status=Household.Status.NON_REGISTERED,
            main_cause="因病",
        )
        for _ in range(2)
    ]
    today = timezone.localdate()
    batch = household_services.case_batch_create(
        actor=cast.cadre,
        village=county.village_a,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        households=households,
        opened_on=today,
    )
    content = pdf()
    household_services.case_batch_record_meeting(
        actor=cast.cadre,
        batch=batch,
        meeting_date=today,
        attendance=30,
        minutes=SimpleUploadedFile("评议会议记录.pdf", content, content_type="application/pdf"),
        opinion="评议通过",
    )
    batch.refresh_from_db()
    # A batch lists a whole village: not the helper's (paired households only).
    readers = [cast.cadre, cast.township, cast.county, cast.auditor]
    return FileCase("batch_minutes", batch, cast.cadre, readers, content, "评议会议记录.pdf")


def _consent_case(cast: Cast, county: County) -> FileCase:
    from monitoring import procedures

    household = factories.household(actor=cast.county, village=county.village_a)
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    content = pdf()
    found = procedures.identification_start(
        actor=cast.cadre,
        household=household,
        object_type="marginal",
        risk_types=["illness"],
        clue_date=app_today(),
        consent=SimpleUploadedFile("承诺授权书.pdf", content, content_type="application/pdf"),
        consent_signed_on=app_today(),
    )
    readers = [cast.cadre, cast.township, cast.county, cast.auditor, cast.helper]
    return FileCase("monitoring_consent", found, cast.cadre, readers, content, "承诺授权书.pdf")


def _clue_consent_case(cast: Cast, county: County) -> FileCase:
    from monitoring import clues, inbox

    household = factories.household(actor=cast.county, village=county.village_a)
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    head = household.members.get(relation="户主")
    clue = clues.clue_create(
        channel="self_declaration",
        name=head.name,
        id_number=head.id_number,
        risk_type="illness",
        received_on=app_today(),
        actor=cast.cadre,
    )
    content = pdf()
    verified = inbox.clue_verify(
        actor=cast.cadre,
        clue=clue,
        verified_on=app_today(),
        note="入户核实属实",
        expected_version=clue.version,
        consent=SimpleUploadedFile("承诺授权书.pdf", content, content_type="application/pdf"),
        consent_signed_on=app_today(),
    )
    readers = [cast.cadre, cast.township, cast.county, cast.auditor, cast.helper]
    return FileCase(
        "monitoring_clue_consent", verified, cast.cadre, readers, content, "承诺授权书.pdf"
    )


def _visit_photo_case(cast: Cast, county: County) -> FileCase:
    from assistance import services as assistance_services
    from povertyapp import photos

    household = factories.household(actor=cast.county, village=county.village_a)
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    visit = assistance_services.visit_record(
        actor=cast.cadre, household=household, date=app_today(), seen="入户走访"
    )
    (photo,) = assistance_services.visit_photos_add(
        actor=cast.cadre,
        visit=visit,
        photos=[photos.photo_process(SimpleUploadedFile("院子.png", png()))],
    )
    # The stored file is the re-encoded JPEG, not the upload.
    content = photo.photo.read()
    photo.photo.close()
    readers = [cast.cadre, cast.township, cast.county, cast.auditor, cast.helper]
    return FileCase(
        "visit_photo", photo, cast.cadre, readers, content, files.original_name(photo.photo.name)
    )


def _step_photo_case(cast: Cast, county: County) -> FileCase:
    """A photo of a monitoring procedure's 入户核实 (its first step, home_visit)."""
    from monitoring import procedures
    from povertyapp import photos

    household = factories.household(actor=cast.county, village=county.village_a)
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    found = procedures.identification_start(
        actor=cast.cadre,
        household=household,
        object_type="marginal",
        risk_types=["illness"],
        clue_date=app_today(),
        consent=SimpleUploadedFile("承诺授权书.pdf", pdf(), content_type="application/pdf"),
        consent_signed_on=app_today(),
    )
    household_services.workflow_step_complete(
        actor=cast.cadre,
        workflow=found.identification,
        expected_step="home_visit",
        opinion="入户核实属实",
        photos=[photos.photo_process(SimpleUploadedFile("屋内.png", png()))],
    )
    photo = found.identification.steps.get(step="home_visit").photos.get()
    content = photo.photo.read()
    photo.photo.close()
    readers = [cast.cadre, cast.township, cast.county, cast.auditor, cast.helper]
    return FileCase(
        "step_photo", photo, cast.cadre, readers, content, files.original_name(photo.photo.name)
    )


def _clue_photo_case(cast: Cast, county: County) -> FileCase:
    """A photo taken at a clue's 入户核实."""
    from monitoring import clues, inbox
    from povertyapp import photos

    household = factories.household(actor=cast.county, village=county.village_a)
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    head = household.members.get(relation="户主")
    clue = clues.clue_create(
        channel="self_declaration",
        name=head.name,
        id_number=head.id_number,
        risk_type="illness",
        received_on=app_today(),
        actor=cast.cadre,
    )
    verified = inbox.clue_verify(
        actor=cast.cadre,
        clue=clue,
        verified_on=app_today(),
        note="入户核实属实",
        expected_version=clue.version,
        consent=SimpleUploadedFile("承诺授权书.pdf", pdf(), content_type="application/pdf"),
        consent_signed_on=app_today(),
        photos=[photos.photo_process(SimpleUploadedFile("门前.png", png()))],
    )
    photo = verified.photos.get()
    content = photo.photo.read()
    photo.photo.close()
    readers = [cast.cadre, cast.township, cast.county, cast.auditor, cast.helper]
    return FileCase(
        "clue_photo", photo, cast.cadre, readers, content, files.original_name(photo.photo.name)
    )


CASES: dict[str, Callable[[Cast, County], FileCase]] = {
    "job_result": _job_case,
    "batch_minutes": _batch_case,
    "workflow_evidence": _workflow_case,
    "rectification_evidence": _rectification_case,
    "monitoring_consent": _consent_case,
    "monitoring_clue_consent": _clue_consent_case,
    "visit_photo": _visit_photo_case,
    "step_photo": _step_photo_case,
    "clue_photo": _clue_photo_case,
}


@pytest.fixture(params=sorted(CASES))
def case(request, cast, county) -> FileCase:
    return CASES[request.param](cast, county)


def everyone(cast: Cast) -> list[User]:
    return [
        cast.cadre,
        cast.cadre2,
        cast.township,
        cast.county,
        cast.auditor,
        cast.helper,
        cast.sysadmin,
    ]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def link(case: FileCase, user: User) -> str:
    return files.download_url(user=user, kind=case.kind, obj=case.obj)


def expected_disposition(name: str) -> str:
    return f'attachment; filename="{files.ascii_fallback(name)}"; ' + (
        f"filename*=UTF-8''{quote(name, safe='')}"
    )


# --- every kind has a case ------------------------------------------------------------------


def test_every_registered_file_kind_has_a_case_here():
    assert {kind.key for kind in files.kinds()} == set(CASES)


# --- who gets the file -------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login_page(case):
    url = link(case, case.owner)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url, safe='/')}"
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_readers_get_the_file_and_everyone_else_404(case, cast):
    for user in everyone(cast):
        response = login(user).get(link(case, user))
        if user not in case.readers:
            assert response.status_code == 404, user.username
            continue
        assert response.status_code == 200, user.username
        assert response.streaming is True  # streamed in blocks, never read whole
        assert body(response) == case.content
        assert response["Cache-Control"] == "no-store"
        assert response["Pragma"] == "no-cache"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == expected_disposition(case.download_name)
        assert response["Content-Length"] == str(len(case.content))
        assert not response.has_header("Content-Encoding")
    logs = list(AccessLog.objects.filter(action="download").order_by("seq"))
    assert [(log.user, log.action, log.target, log.object_id) for log in logs] == [
        (user, "download", case.kind, str(case.obj.pk)) for user in case.readers
    ]
    digest = hashlib.sha256(case.content).hexdigest()
    assert {log.sha256 for log in logs} == {digest}
    assert {log.detail["file"] for log in logs} == {case.download_name}


@pytest.mark.django_db
def test_image_kinds_are_shown_inline_to_readers_only_and_no_other_kind_is(case, cast):
    """The door's inline variant (field photos): the same scope, link and AccessLog as the
    download, `inline`, the image's own type; a kind that is not an image is never inline."""
    kind = files.kind_get(case.kind)
    assert kind is not None
    inline_path = f"/files/{case.kind}/{case.obj.pk}/inline/"
    if not kind.image:
        with pytest.raises(ValueError):
            files.download_url(user=case.owner, kind=case.kind, obj=case.obj, inline=True)
        token = link(case, case.owner).split("?", 1)[1]
        response = login(case.owner).get(f"{inline_path}?{token}")
        assert response.status_code == 404
        assert AccessLog.objects.filter(action="download").count() == 0
        return
    for user in everyone(cast):
        url = files.download_url(user=user, kind=case.kind, obj=case.obj, inline=True)
        assert url.startswith(inline_path)
        response = login(user).get(url)
        if user not in case.readers:
            assert response.status_code == 404, user.username
            continue
        assert response.status_code == 200, user.username
        assert body(response) == case.content
        assert response["Content-Type"] in ("image/jpeg", "image/png")
        assert response["Content-Disposition"] == "inline" + expected_disposition(
            case.download_name
        ).removeprefix("attachment")
        assert response["Cache-Control"] == "no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
    logs = AccessLog.objects.filter(action="download", target=case.kind).order_by("seq")
    assert [log.user for log in logs] == case.readers
    assert all(log.detail.get("inline") is True for log in logs)


@pytest.mark.django_db
def test_a_job_file_leaves_with_its_owners_scope(cast, county):
    """The owner moved to another village (or to a role without case data) no longer gets the
    files of jobs over the old scope."""
    case = _job_case(cast, county)
    Job.objects.filter(pk=case.obj.pk).update(region=county.village_a)
    url = link(case, cast.county)
    assert login(cast.county).get(url).status_code == 200
    User.objects.filter(pk=cast.county.pk).update(region=county.village_b)
    assert login(cast.county).get(url).status_code == 404
    User.objects.filter(pk=cast.county.pk).update(region=county.county, role="system_admin")
    assert login(cast.county).get(url).status_code == 404
    assert AccessLog.objects.filter(action="download").count() == 1


@pytest.mark.django_db
def test_unknown_ids_and_kinds_are_not_found(case):
    client = login(case.owner)
    url = link(case, case.owner)
    missing = url.replace(f"/{case.obj.pk}/", f"/{case.obj.pk + 1000}/")
    assert client.get(missing).status_code == 404
    assert client.get(url.replace(f"/{case.obj.pk}/", "/99999999999999999999999/")).status_code == (
        404
    )
    assert client.get(url.replace(f"/{case.kind}/", "/no_such_kind/")).status_code == 404
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_a_link_made_for_another_user_is_refused(case, cast):
    """A copied link works for nobody else: a reader of the object is told the link is not
    theirs (403), anyone else learns nothing (404, the scope is checked first)."""
    for user in everyone(cast):
        if user == case.owner:
            continue
        response = login(user).get(link(case, case.owner))
        if user in case.readers:
            assert response.status_code == 403, user.username
            assert "下载链接无效" in response.content.decode()
        else:
            assert response.status_code == 404, user.username
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_an_altered_or_missing_token_is_refused(case):
    client = login(case.owner)
    url = link(case, case.owner)
    assert client.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB")).status_code == 403
    assert client.get(url.split("?")[0]).status_code == 403
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_an_expired_link_answers_410_with_the_way_back(case, settings):
    url = link(case, case.owner)
    settings.FILE_LINK_MAX_AGE = -1
    response = login(case.owner).get(url)
    assert response.status_code == 410
    page = response.content.decode()
    assert "下载链接已过期" in page
    page_url = files.kind_get(case.kind).page_url(case.obj)  # type: ignore[union-attr,misc]  # every case's kind is registered
    assert f'href="{page_url}"' in page
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_a_file_lost_from_the_disk_answers_410_not_500(case):
    kind = files.kind_get(case.kind)
    assert kind is not None
    os.unlink(kind.file_of(case.obj).path)
    response = login(case.owner).get(link(case, case.owner))
    assert response.status_code == 410
    assert "文件已不存在" in response.content.decode()
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_the_page_of_each_kind_links_through_the_door(case):
    """The page that shows a file (job page, case page, rectification item) links to it through
    the door, and the link it shows works."""
    kind = files.kind_get(case.kind)
    assert kind is not None and kind.page_url is not None
    client = login(case.owner)
    page = client.get(kind.page_url(case.obj)).content.decode()
    found = re.findall(rf'href="(/files/{case.kind}/{case.obj.pk}/\?t=[^"]+)"', page)
    assert len(found) >= 1
    assert "/media/" not in page
    response = client.get(found[0].replace("&amp;", "&"))
    assert response.status_code == 200
    assert body(response) == case.content


@pytest.mark.django_db
def test_nginx_backend_hands_the_file_to_nginx_without_a_body(case, settings):
    settings.SENDFILE_BACKEND = "django_sendfile.backends.nginx"
    settings.SENDFILE_URL = "/protected-media"
    response = login(case.owner).get(link(case, case.owner))
    stored = getattr(case.obj, files.kind_get(case.kind).field).name  # type: ignore[union-attr]  # every case's kind is registered
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == quote(f"/protected-media/{stored}")
    assert response.content == b""
    assert response["Content-Length"] == "0"  # nginx sets the file's
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == expected_disposition(case.download_name)
    digest = hashlib.sha256(case.content).hexdigest()
    assert AccessLog.objects.get(action="download").sha256 == digest


@pytest.mark.django_db
def test_the_household_page_links_case_evidence_through_the_door(cast, county):
    case = _workflow_case(cast, county)
    household_id = case.obj.workflow.household_id  # type: ignore[attr-defined]  # a WorkflowStep here, typed as Model
    client = login(cast.township)
    page = client.get(f"/households/{household_id}/?tab=status").content.decode()
    found = re.findall(rf'href="(/files/workflow_evidence/{case.obj.pk}/\?t=[^"]+)"', page)
    assert len(found) == 1
    assert body(client.get(found[0])) == case.content


@pytest.mark.django_db
def test_downloads_are_get_only(case):
    assert login(case.owner).post(link(case, case.owner)).status_code == 405
    assert AccessLog.objects.filter(action="download").count() == 0


@pytest.mark.django_db
def test_generated_downloads_carry_the_same_headers(cast, county, household_a):
    """Files written for one request (small ledgers, templates, visit sheets) are not stored,
    but leave with the door's headers too."""
    from inspections.models import Campaign
    from rounds.models import AdjustmentRound

    round_ = AdjustmentRound.objects.create(
        county=county.county, year=2020, name="2020年动态调整", opened_at=timezone.now()
    )
    campaign = inspection_services.campaign_create(
        actor=cast.county,
        county=county.county,
        name="2019年第三方评估",
        kind=Campaign.Kind.THIRD_PARTY,
        year=2019,
        visit_date=app_today() + datetime.timedelta(days=10),
        end_date=app_today() + datetime.timedelta(days=15),
        assessors=[cast.auditor],
        townships_to_draw=2,
        villages_per_township=2,
        households_per_village=10,
    )
    today = timezone.localdate().strftime("%Y%m%d")
    downloads = [
        (cast.cadre, "/ledgers/export/?ledger=households", f"户台账_凤场村_{today}.xlsx"),
        (cast.cadre, "/ledgers/import/template/", f"农户档案导入模板_{today}.xlsx"),
        (cast.county, f"/rounds/{round_.pk}/template.xlsx", "四类名单.xlsx"),
        (
            cast.county,
            f"/inspections/{campaign.pk}/workbook.xlsx",
            f"入户核查表-{campaign.pk}.xlsx",
        ),
    ]
    for user, url, name in downloads:
        response = login(user).get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Content-Disposition"] == expected_disposition(name), url


# --- stored names -------------------------------------------------------------------------------


def _file_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                yield model, field


def test_every_file_field_has_a_private_name_and_a_door():
    """A new FileField without an unguessable name or a registered file kind fails here."""
    found = list(_file_fields())
    assert {(model._meta.label, field.name) for model, field in found} == {
        ("povertyapp.Job", "result_file"),
        ("households.WorkflowStep", "evidence"),
        ("inspections.RectificationEvidence", "file"),
    } | {(kind.model, kind.field) for kind in files.kinds()}
    for model, field in found:
        label = f"{model._meta.label}.{field.name}"
        assert isinstance(field.upload_to, files.PrivateUploadTo), label
        # The door hands MEDIA_ROOT-relative names to sendfile: the default, private storage.
        assert isinstance(field.storage, PrivateFileSystemStorage), label
        assert files.kind_for_field(model._meta.label, field.name) is not None, label
        first = field.generate_filename(None, "整改佐证-12.pdf")
        second = field.generate_filename(None, "整改佐证-12.pdf")
        assert first != second, label
        assert re.fullmatch(r"[a-z_]+/\d{4}/\d{2}/[0-9a-f]{32}_整改佐证-12\.pdf", first), first
        assert files.original_name(first) == "整改佐证-12.pdf"
        assert len(first) <= field.max_length, label


def test_upload_names_lose_their_directories_and_control_characters():
    upload_to = files.PrivateUploadTo("evidence")
    name = upload_to(None, "..\\..\\C:\\照片\r\n\x00.jpg")
    assert files.original_name(name) == "照片.jpg"
    long = upload_to(None, "很" * 300 + ".pdf")
    assert files.original_name(long) == "很" * 116 + ".pdf"
    assert files.original_name(upload_to(None, "")) == "file"


@pytest.mark.django_db
def test_files_stored_before_the_door_get_private_names_once(case, cast, county):
    """`manage.py files_privatise_names` moves a file with an old, guessable name (as the
    system stored them before issue 12) to a private one; its download keeps its name."""
    kind = files.kind_get(case.kind)
    assert kind is not None
    field_file = kind.file_of(case.obj)
    legacy = f"{kind.field}-old/2026/12/{files.original_name(field_file.name or '')}"
    legacy_path = Path(settings.MEDIA_ROOT) / legacy
    legacy_path.parent.mkdir(parents=True)
    os.replace(field_file.path, legacy_path)
    type(case.obj).objects.filter(pk=case.obj.pk).update(**{kind.field: legacy})
    lost = _job_case(cast, county).obj
    Job.objects.filter(pk=lost.pk).update(result_file="jobs/2026/11/gone.xlsx")

    out, err = io.StringIO(), io.StringIO()
    call_command("files_privatise_names", stdout=out, stderr=err)

    assert out.getvalue() == "已改名1个文件。\n"
    assert err.getvalue() == f"文件缺失：job_result {lost.pk}: jobs/2026/11/gone.xlsx\n"
    case.obj.refresh_from_db()
    renamed = kind.file_of(case.obj)
    assert files.is_private_name(renamed.name or "")
    assert files.original_name(renamed.name or "") == files.original_name(legacy)
    assert not legacy_path.exists()
    response = login(case.owner).get(link(case, case.owner))
    assert body(response) == case.content
    assert response["Content-Disposition"] == expected_disposition(case.download_name)
    again = io.StringIO()
    call_command("files_privatise_names", stdout=again, stderr=io.StringIO())
    assert again.getvalue() == "已改名0个文件。\n"


@pytest.mark.django_db
def test_a_stored_file_has_no_url(cast, county):
    case = _job_case(cast, county)
    with pytest.raises(ValueError, match="download_url"):
        case.obj.result_file.url  # type: ignore[attr-defined]  # a Job here, typed as Model  # noqa: B018


@pytest.mark.django_db
def test_the_job_admin_shows_the_file_name_not_a_link(cast, county):
    case = _job_case(cast, county)
    response = login(cast.county).get(f"/admin/povertyapp/job/{case.obj.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "人员台账_黄平县_20261203.xlsx" in page
    assert "/media/" not in page and "jobs/20" not in page


@pytest.mark.django_db
def test_a_file_found_elsewhere_is_traced_by_its_hash_in_the_access_log(cast, county):
    case = _job_case(cast, county)
    assert login(cast.county).get(link(case, cast.county)).status_code == 200
    audit.record("download", user=cast.cadre, target="job_result", sha256="0" * 64)
    digest = hashlib.sha256(case.content).hexdigest()
    # The audit log is the 审计管理员's to search (issue 14, 三权分立).
    response = login(cast.auditadmin).get(f"/admin/povertyapp/accesslog/?q={digest}")
    found = [(log.username, log.action, log.target) for log in response.context["cl"].result_list]
    assert found == [("county", "download", "job_result")]


def test_content_disposition_names_the_file_in_chinese_with_an_ascii_fallback():
    assert files.content_disposition("人员台账_黄平县_20261203.xlsx") == (
        "attachment; filename=\"download-20261203.xlsx\"; filename*=UTF-8''"
        "%E4%BA%BA%E5%91%98%E5%8F%B0%E8%B4%A6_%E9%BB%84%E5%B9%B3%E5%8E%BF_20261203.xlsx"
    )
    assert files.content_disposition("report.pdf") == 'attachment; filename="report.pdf"'
    # A hostile name cannot end the header or add one.
    header = files.content_disposition('a";\r\nSet-Cookie: x=1.pdf')
    assert "\r" not in header and "\n" not in header
    assert header.endswith("filename*=UTF-8''a%22%3B%0D%0ASet-Cookie%3A%20x%3D1.pdf")


# --- the URL conf never serves MEDIA_ROOT --------------------------------------------------------


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _assert_media_is_not_routed() -> None:
    from django.views import static

    media_root = Path(settings.MEDIA_ROOT).resolve()
    media_url = settings.MEDIA_URL.strip("/")
    count = 0
    for route, pattern in _patterns(get_resolver()):
        count += 1
        callback = getattr(pattern.callback, "__wrapped__", pattern.callback)
        if callback is static.serve or pattern.callback is static.serve:
            root = Path(pattern.default_args.get("document_root", "/")).resolve()
            assert not (root == media_root or media_root in root.parents), route
            assert root not in media_root.parents, route
        assert not route.lstrip("^").startswith(media_url), route
    assert count > 100  # the walk really went through the URL conf
    for path in (f"/{media_url}/jobs/2026/12/人员台账_黄平县_20261203.xlsx", "/media/x.pdf"):
        with pytest.raises(Resolver404):
            resolve(path)


def test_no_url_pattern_serves_media_root():
    _assert_media_is_not_routed()


def test_no_url_pattern_serves_media_root_with_debug_on(settings):
    """The URL conf is built at import: rebuild it with DEBUG on, as the development server
    would, and walk it again."""
    import povertyapp.urls

    settings.DEBUG = True
    try:
        importlib.reload(povertyapp.urls)
        clear_url_caches()
        _assert_media_is_not_routed()
    finally:
        settings.DEBUG = False
        importlib.reload(povertyapp.urls)
        clear_url_caches()


# --- settings -----------------------------------------------------------------------------------


def test_files_are_streamed_by_django_unless_nginx_is_chosen():
    default = settings_subprocess("SENDFILE_BACKEND", "SENDFILE_URL")
    assert default.stdout.split() == ["povertyapp.files.streaming", "/protected-media"]
    nginx = settings_subprocess(
        "SENDFILE_BACKEND",
        "SENDFILE_URL",
        "SENDFILE_ROOT",
        FILE_SERVING="nginx",
        FILE_SERVING_INTERNAL_URL="/internal-files/",
        MEDIA_ROOT="/srv/fupin/media",
    )
    assert nginx.stdout.split() == [
        "django_sendfile.backends.nginx",
        "/internal-files",
        "/srv/fupin/media",
    ]


@pytest.mark.parametrize(
    "environment",
    [
        {"FILE_SERVING": "apache"},
        {"FILE_SERVING_INTERNAL_URL": "protected"},
        {"FILE_LINK_MAX_AGE": "0"},
        {"MEDIA_ROOT": str(ROOT / "static" / "media")},
        {"MEDIA_ROOT": str(ROOT / "staticfiles")},
        {"MEDIA_ROOT": str(ROOT)},
    ],
)
def test_settings_refuse_to_start_with_media_in_public_reach(environment):
    result = settings_subprocess("MEDIA_ROOT", **environment)
    assert result.returncode == 1
    assert "ImproperlyConfigured" in result.stderr


# --- expiry ---------------------------------------------------------------------------------------


def _old_job(cast: Cast, kind: str, name: str, *, days: int) -> Job:
    job = jobs.job_create(user=cast.county, kind=kind)
    job.result_file.save(name, ContentFile(b"PK\x03\x04 data"), save=True)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now() - datetime.timedelta(days=days)
    )
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_nightly_cleanup_deletes_expired_job_files_and_marks_the_rows(cast, county, settings):
    settings.JOB_FILE_RETENTION_DAYS = 7
    ledger = _old_job(cast, "ledger_export", "人员台账_黄平县_20261126.xlsx", days=8)
    errors = _old_job(cast, "households_import", "导入错误清单.xlsx", days=8)
    Job.objects.filter(pk=errors.pk).update(result={"error_count": 1, "errors": []})
    recent = _old_job(cast, "ledger_export", "户台账_黄平县_20261202.xlsx", days=6)
    old_link = files.download_url(user=cast.county, kind="job_result", obj=ledger)
    paths = {job.pk: Path(job.result_file.path) for job in (ledger, errors, recent)}
    # A file a dead worker wrote but never recorded on its row, as old as the expired ones.
    orphan = Path(settings.MEDIA_ROOT) / "jobs" / "2026" / "11" / (("a" * 32) + "_orphan.xlsx")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"PK")
    eight_days_ago = (timezone.now() - datetime.timedelta(days=8)).timestamp()
    os.utime(orphan, (eight_days_ago, eight_days_ago))

    before = timezone.now()
    assert tasks.cleanup_job_files_task() == 3

    for job in (ledger, errors):
        job.refresh_from_db()
        assert job.result_file.name == ""
        assert job.result_file_deleted_at is not None and job.result_file_deleted_at >= before
        assert not paths[job.pk].exists()
    recent.refresh_from_db()
    assert recent.result_file_deleted_at is None
    assert paths[recent.pk].read_bytes() == b"PK\x03\x04 data"
    assert not orphan.exists()
    assert tasks.cleanup_job_files_task() == 0  # nothing left to do

    client = login(cast.county)
    page = client.get(f"/jobs/{ledger.pk}/").content.decode()
    assert "结果文件已于" in page and "过期删除" in page
    assert "/files/job_result/" not in page
    response = client.get(old_link)
    assert response.status_code == 410
    assert "文件已过期删除" in response.content.decode()
    import_page = client.get(f"/ledgers/import/{errors.pk}/").content.decode()
    assert "错误清单已于" in import_page and "过期删除" in import_page
    assert "/files/job_result/" not in import_page
