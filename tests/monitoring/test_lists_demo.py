"""The demo county's department lists build through the list services on the demo seed."""

from __future__ import annotations

import datetime
import random

import pytest

from monitoring import demo_identities, demo_lists, identities
from monitoring.models import Clue, DepartmentList, IdentityKind, PersonIdentity, ScrutinyTask
from povertyapp import demo

TODAY = datetime.date(2026, 11, 18)


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    return demo.seed(households=120, seed=2020, today=TODAY)


def test_demo_lists_build_on_the_demo_seed(seeded):
    # The demo seed ran every monitoring part already (settings.DEMO_STEPS): building again
    # returns the same two lists and adds none.
    before = DepartmentList.objects.count()
    built = demo_lists.build(
        county=seeded["county"], users=seeded["users"], rng=random.Random(7), today=TODAY
    )
    medical = built[demo_lists.MEDICAL_FILE]
    assert medical.state == DepartmentList.State.DONE and medical.department == "medical_insurance"
    assert (medical.rows_matched, medical.rows_duplicate) == (3, 1)
    assert medical.rows_unmatched == 2 and medical.rows_below == 3
    states = set(Clue.objects.filter(source_list=medical).values_list("state", flat=True))
    assert Clue.State.UNREGISTERED in states and Clue.State.PENDING in states
    vehicles = built[demo_lists.VEHICLE_FILE]
    tasks = ScrutinyTask.objects.filter(source_list=vehicles)
    assert tasks.count() == 2 and vehicles.rows_below == 1
    assert sorted(tasks.values_list("cadre_relative", flat=True)) == [False, True]
    # Idempotent: a second run adds nothing.
    again = demo_lists.build(
        county=seeded["county"], users=seeded["users"], rng=random.Random(7), today=TODAY
    )
    assert {item.pk for item in again.values()} == {medical.pk, vehicles.pk}
    assert DepartmentList.objects.filter(pk__in=[medical.pk, vehicles.pk]).count() == 2
    assert DepartmentList.objects.count() == before


def test_demo_identity_list_shows_every_part(seeded):
    """民政's 身份共享 list (`monitoring.demo_identities`) gives the 低收入人口 page persons with
    several identities, an ended one, persons the registry does not hold, and a disagreement
    each way with the registry's 低保 marks."""
    pushed = DepartmentList.objects.get(file_name=demo_identities.IDENTITY_FILE)
    assert pushed.state == DepartmentList.State.DONE and pushed.department == "civil_affairs"
    figures = identities.counts(seeded["users"]["county"], on=TODAY)
    by_kind = {kind: persons for kind, _label, persons in figures["by_kind"]}
    assert all(by_kind[kind] > 0 for kind in IdentityKind.values), by_kind
    assert figures["several_certified"] >= 1 and figures["unregistered"] == 2
    # One disagreement of each kind the demo seeds; 民政 certifies no 特困 the registry lacks.
    checks = {key: persons for key, _label, persons in figures["checks"]}
    assert checks == {
        "dibao_not_marked": 1,
        "dibao_not_certified": 1,
        "tekun_not_marked": 0,
        "tekun_not_certified": 1,
    }
    assert PersonIdentity.objects.filter(end__isnull=False).exists()
    again = demo_identities.build(
        county=seeded["county"], users=seeded["users"], rng=random.Random(1), today=TODAY
    )
    assert again == pushed
