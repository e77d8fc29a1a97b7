"""The registry's part of the demo county (`households.demo`) and the rows other apps add to
its pass (`register_rows`: the assistance app's pairings)."""

from __future__ import annotations

import datetime
import random
from typing import Any

from assistance import demo as assistance_demo
from assistance.models import Pairing
from households import demo
from households.models import Household, HouseholdEvent, Member
from povertyapp import demo as platform_demo
from povertyapp.models import Region, VillageYear

TODAY = datetime.date(2026, 11, 18)


def test_the_registry_step_builds_the_county_with_its_pairings_once(db):
    result: dict[str, Any] = {"households": 300, "today": TODAY}
    demo.step(result=result, seed=2020)
    assert result["created"] is True
    assert sorted(result) == ["county", "created", "generated", "households", "today", "users"]
    county = result["county"]
    assert Household.objects.count() == 300
    assert VillageYear.objects.filter(year=TODAY.year).count() == len(county.villages) == 9
    # Every registered household still on the list has its helper since its first year.
    paired = Household.objects.exclude(first_identified_year=None).exclude(status="removed")
    assert Pairing.objects.count() == paired.count() > 0
    assert set(Pairing.objects.values_list("household", flat=True)) == set(
        paired.values_list("pk", flat=True)
    )
    helper = result["users"]["helper"]
    own = Pairing.objects.filter(helper=helper)
    assert own.exists()
    assert {pairing.household.village_id for pairing in own} == {county.villages[0].pk}
    # Loaded in bulk, the pairings have their first history row like the registry's records.
    assert Pairing.history.count() == Pairing.objects.count()  # type: ignore[attr-defined]  # simple-history's manager

    counts = (Household.objects.count(), Member.objects.count(), Pairing.objects.count())
    again: dict[str, Any] = {"households": 300, "today": TODAY}
    demo.step(result=again, seed=2020)
    assert again["created"] is False
    assert (Household.objects.count(), Member.objects.count(), Pairing.objects.count()) == counts


def test_the_assistance_app_registers_its_pairings_with_the_registry():
    assert assistance_demo.PAIRINGS in demo.registered_rows()
    assert [part.model for part in demo.registered_rows()].count(Pairing) == 1


def test_a_registered_part_gets_every_household_row_on_the_county_stream(db):
    seen: list[tuple[int, int]] = []

    def prepare(*, rng: random.Random, county: platform_demo.DemoCounty, users: Any) -> str:
        return "state"

    def rows(state: str, *, household: dict[str, Any], sequence: int) -> list[dict[str, Any]]:
        assert state == "state"
        seen.append((household["id"], sequence))
        return [{"household_id": household["id"]}] if sequence == 1 else []

    part = demo.RegistryRows(model=Region, prepare=prepare, rows=rows)
    county = platform_demo.build_regions(
        rng=random.Random(3), villages_per_township=3, townships=platform_demo.TOWNSHIPS[:3]
    )
    generated = demo.generate_households(
        county=county,
        households=600,
        seed=3,
        today=TODAY,
        first_household_id=1,
        first_member_id=1,
        first_event_id=1,
        parts=[(part, "state")],
    )
    assert [household_id for household_id, _sequence in seen] == list(range(1, 601))
    # One row for the first household of each village, filed under the part's model.
    assert generated.part_rows == {
        Region: [{"household_id": household_id} for household_id, s in seen if s == 1]
    }
    assert len(generated.part_rows[Region]) == len(county.villages) == 9
    assert HouseholdEvent.objects.count() == 0  # generated, not loaded


def test_registering_a_model_again_replaces_its_part():
    before = demo.registered_rows()
    other = demo.RegistryRows(
        model=Pairing, prepare=assistance_demo.pairing_helpers, rows=lambda state, **row: []
    )
    try:
        demo.register_rows(other)
        parts = demo.registered_rows()
        assert [part.rows for part in parts if part.model is Pairing] == [other.rows]
        assert len(parts) == len(before)
    finally:
        demo.register_rows(assistance_demo.PAIRINGS)
    assert demo.registered_rows() == before
