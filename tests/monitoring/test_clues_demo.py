"""The demo's clues (`monitoring.demo_clues`) on the demo seed: every channel, every state the
inbox shows."""

from __future__ import annotations

import random

import pytest

from monitoring import demo_clues, inbox
from monitoring.demo_lists import MEDICAL_FILE, VEHICLE_FILE
from monitoring.models import Clue, DepartmentList
from povertyapp import demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the verified clues' 承诺授权 scans


def test_the_demo_clues_cover_every_channel_and_state():
    result = demo.seed(households=20, seed=1)
    today = result["today"]
    counts = demo_clues.build(
        county=result["county"], users=result["users"], rng=random.Random(1), today=today
    )
    clues = Clue.objects.all()
    assert set(clues.values_list("channel", flat=True)) == set(Clue.Channel.values)
    assert clues.filter(via_hotline=True).count() == 1
    assert set(clues.exclude(department="").values_list("department", flat=True)) == {
        "medical_insurance",
        "education",
        "civil_affairs",
        "emergency",
    }
    # The clue part's four pushes (the lists part adds its own two and 民政's 身份共享 list, by
    # file, below them).
    pushes = DepartmentList.objects.exclude(file_name__in=[MEDICAL_FILE, VEHICLE_FILE]).exclude(
        purpose=DepartmentList.Purpose.IDENTITY
    )
    assert pushes.count() == 4
    assert set(
        clues.filter(source_list__isnull=False).values_list("source_list", flat=True)
    ) >= set(pushes.values_list("pk", flat=True))
    # The demo seed ran this part already (settings.DEMO_STEPS): building again adds nothing.
    assert counts == {}
    for state in ("pending", "verified", "not_included", "duplicate", "unregistered"):
        assert clues.filter(state=state).exists(), state
    assert clues.filter(inbox.overdue_q(today)).count() >= 2
    assert all(clue.result_reason for clue in clues.filter(state=Clue.State.NOT_INCLUDED))
    # Every 入户核实 holds the household's signed 承诺授权 scan, as the service requires.
    visited = clues.filter(verified_on__isnull=False)
    assert visited.exists()
    assert all(clue.consent.name and clue.consent_signed_on for clue in visited)
    medical = pushes.get(department="medical_insurance")
    assert medical.uploaded_by == result["users"]["yibao"]
    assert medical.layout == "medical_costs"
    # A person listed twice is one clue and a 重复 row; a relative joins the open clue (the
    # folder's conftest holds the counts of every list against its clues).
    assert medical.rows_duplicate == 1
    assert clues.filter(source_list=medical, state=Clue.State.DUPLICATE).count() == 1
    # Idempotent: a second run adds nothing.
    before = clues.count()
    assert (
        demo_clues.build(
            county=result["county"], users=result["users"], rng=random.Random(1), today=today
        )
        == {}
    )
    assert Clue.objects.count() == before
