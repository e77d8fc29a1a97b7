"""Photos taken offline (docs/offline.md "Photos taken offline"): uploaded one by one after
their entry synced, to POST /api/v1/assistance/offline/photos/ under the entry's key and a
photo key of their own. Stored on the entry's owner (a visit, a clue's 入户核实, a procedure's
入户核实 step); a retried upload stored once; an entry of another account, an entry not yet
synced and a file that is not a photo refused with a clear answer."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from assistance.models import Visit, VisitPhoto
from households.models import StepPhoto
from monitoring.models import CluePhoto
from tests.conftest import login
from tests.monitoring.clue_fixtures import declared, freeze, head_id
from tests.monitoring.test_offline_api import _step_entry, _verify, _verify_entry

pytestmark = pytest.mark.django_db
D = datetime.date

PHOTOS = "/api/v1/assistance/offline/photos/"
VISITS = "/api/v1/assistance/offline/visits/"
STEP = "/api/v1/monitoring/offline/step/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _photo(user, entry_key, *, key=None, content=None, name="门前.jpg", **meta):
    return login(user).post(
        PHOTOS,
        {
            "entry": str(entry_key),
            "key": str(key or uuid.uuid4()),
            "photo": SimpleUploadedFile(name, content if content is not None else jpeg()),
            **meta,
        },
    )


def _visit_entry(household):
    return {
        "key": str(uuid.uuid4()),
        "household": household.pk,
        "version": household.version,
        "recorded_at": "2026-12-01T09:30:00+08:00",
        "date": datetime.date.today().isoformat(),
        "seen": "口粮充足",
        "done": "",
        "next_steps": "",
        "answers": {},
        "contact_card_given": False,
        "benefit_card_given": False,
        "household_updates": {},
    }


def test_a_visit_photo_is_stored_on_the_synced_visit_once(cast, household_a):
    entry = _visit_entry(household_a)
    # Not yet synced: a clear answer, nothing stored.
    early = _photo(cast.cadre, entry["key"])
    assert early.status_code == 409
    assert early.json()["code"] == "not_applied"
    assert "还没有同步" in early.json()["detail"]
    assert not VisitPhoto.objects.exists()
    assert login(cast.cadre).post(VISITS, entry, content_type="application/json").status_code == 201
    key = uuid.uuid4()
    taken = "2026-12-01T09:31:00+08:00"
    first = _photo(cast.cadre, entry["key"], key=key, taken_at=taken, latitude="26.5")
    assert first.status_code == 201, first.content
    assert first.json()["replayed"] is False
    photo = VisitPhoto.objects.get()
    assert photo.visit == Visit.objects.get(household=household_a)
    assert photo.key == key
    assert photo.taken_at == datetime.datetime.fromisoformat(taken)
    # Only half a location: none recorded.
    assert photo.latitude is None and photo.longitude is None
    again = _photo(cast.cadre, entry["key"], key=key, taken_at=taken)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert VisitPhoto.objects.count() == 1


def test_another_accounts_entry_and_photo_keys_are_refused(cast, household_a):
    entry = _visit_entry(household_a)
    assert login(cast.cadre).post(VISITS, entry, content_type="application/json").status_code == 201
    other = _photo(cast.county, entry["key"])
    assert other.status_code == 404
    assert not VisitPhoto.objects.exists()
    # A photo key already stored on another record is not attached here.
    key = uuid.uuid4()
    assert _photo(cast.cadre, entry["key"], key=key).status_code == 201
    second = _visit_entry(household_a)
    second["version"] = household_a.__class__.objects.get(pk=household_a.pk).version
    synced = login(cast.cadre).post(VISITS, second, content_type="application/json")
    assert synced.status_code == 201
    taken = _photo(cast.cadre, second["key"], key=key)
    assert taken.status_code == 400
    assert "照片键已被其他记录使用" in taken.json()["errors"]["photo"][0]
    assert VisitPhoto.objects.count() == 1


def test_a_file_that_is_not_a_photo_is_refused_naming_it(cast, household_a):
    entry = _visit_entry(household_a)
    login(cast.cadre).post(VISITS, entry, content_type="application/json")
    refused = _photo(cast.cadre, entry["key"], content=b"MZ\x90\x00 not a photo", name="病毒.jpg")
    assert refused.status_code == 400
    (message,) = refused.json()["errors"]["photo"]
    assert "病毒.jpg" in message and "照片只能是JPG或PNG图片" in message
    assert not VisitPhoto.objects.exists()


def test_a_clue_verify_photo_is_stored_on_the_clue(monkeypatch, cast, county, household_a):
    today = freeze(monkeypatch, D(2026, 4, 8))
    clue = declared(village=county.village_a, id_number=head_id(household_a), received_on=today)
    entry = _verify_entry(clue)
    assert _verify(cast.cadre, entry).status_code == 201
    key = uuid.uuid4()
    stored = _photo(cast.cadre, entry["key"], key=key, latitude="26.5", longitude="107.25")
    assert stored.status_code == 201, stored.content
    photo = CluePhoto.objects.get()
    assert photo.clue_id == clue.pk
    assert (str(photo.latitude), str(photo.longitude)) == ("26.500000", "107.250000")
    assert _photo(cast.cadre, entry["key"], key=key).status_code == 200
    assert CluePhoto.objects.count() == 1


def test_a_step_photo_is_stored_on_the_step_record(cast, household_a):
    from tests.monitoring.object_fixtures import start

    case = start(cast, household_a).identification
    entry = _step_entry(case)
    assert login(cast.cadre).post(STEP, entry, content_type="application/json").status_code == 201
    stored = _photo(cast.cadre, entry["key"])
    assert stored.status_code == 201, stored.content
    photo = StepPhoto.objects.get()
    assert photo.step.workflow_id == case.pk
    assert photo.step.step == "home_visit"
