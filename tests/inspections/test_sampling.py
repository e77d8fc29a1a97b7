"""The draw: reproducible, stored, structured as the protocol says, fill rules noted."""

from __future__ import annotations

import datetime
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households import demo as registry_demo
from inspections import services
from inspections.models import Campaign, InspectionEvent, SampleHousehold, SampleKind
from inspections.notes import note_text
from inspections.sampling import FrameVillage, Protocol, plan_draw
from povertyapp import demo
from povertyapp.models import Region, User
from povertyapp.services import user_create


def sample_ids(campaign: Campaign) -> list[tuple[int, int, str]]:
    return list(
        SampleHousehold.objects.filter(campaign=campaign)
        .order_by("sample_village__position", "position")
        .values_list("sample_village__village_id", "household_id", "kind")
    )


def test_same_seed_gives_same_sample(registry, cast, campaign_factory):
    def draw(seed: int) -> Campaign:
        return services.campaign_draw(
            actor=cast.county, campaign=campaign_factory(households_per_village=6), seed=seed
        )

    first, second, third = draw(424242), draw(424242), draw(7)
    assert first.seed == 424242
    assert sample_ids(first) == sample_ids(second)
    assert len(sample_ids(first)) == 18  # 3 villages × 6 households
    assert set(sample_ids(first)) != set(sample_ids(third))
    assert InspectionEvent.objects.filter(campaign=first, kind="sample_drawn").count() == 1
    event = InspectionEvent.objects.get(campaign=first, kind="sample_drawn")
    assert event.data["seed"] == 424242


def test_draw_without_seed_records_the_seed_it_used(registry, cast, campaign_factory):
    campaign = services.campaign_draw(actor=cast.county, campaign=campaign_factory())
    assert campaign.seed is not None
    again = services.campaign_draw(
        actor=cast.county, campaign=campaign_factory(), seed=campaign.seed
    )
    assert sample_ids(again) == sample_ids(campaign)


def test_draw_is_refused_to_others_and_twice(registry, cast, campaign_factory):
    campaign = campaign_factory()
    for user in (cast.auditor, cast.township, cast.cadre):
        with pytest.raises(PermissionDenied):
            services.campaign_draw(actor=user, campaign=campaign, seed=1)
    assert SampleHousehold.objects.filter(campaign=campaign).count() == 0
    services.campaign_draw(actor=cast.county, campaign=campaign, seed=1)
    with pytest.raises(ValidationError) as error:
        services.campaign_draw(actor=cast.county, campaign=campaign, seed=2)
    assert error.value.code == "already_drawn"


def test_village_lacking_a_kind_fills_from_the_others_and_says_so(
    registry, cast, county, campaign_factory
):
    campaign = services.campaign_draw(
        actor=cast.county, campaign=campaign_factory(households_per_village=8), seed=3
    )
    # Each village has 3 unexited, 3 exited, 0 pre-exit, 3 non-registered; quota 4 inside
    # (2/1/1 over unexited/pre-exit/exited) and 4 outside: the missing pre-exit one is filled
    # from the registered kind with most left, the outside shortfall from the registered side.
    for sample_village in campaign.villages.all():
        kinds = Counter(sample_village.households.values_list("kind", flat=True))
        assert sum(kinds.values()) == 8
        assert kinds[SampleKind.NON_REGISTERED] == 3
        assert kinds[SampleKind.PRE_EXIT] == 0
        assert kinds[SampleKind.UNEXITED] + kinds[SampleKind.EXITED] == 5
        assert any("拟脱贫户仅0户" in note for note in sample_village.notes_shown)
        assert any("非建档立卡户仅3户" in note for note in sample_village.notes_shown)


def test_quotas_split_inside_and_outside():
    assert Protocol().quotas() == {"unexited": 8, "pre_exit": 7, "exited": 7, "non_registered": 21}
    assert Protocol(
        households_per_village=50,
        inside_share=Decimal("0.60"),
        registered_kinds=("unexited", "exited"),
    ).quotas() == {"unexited": 15, "exited": 15, "non_registered": 20}


def test_missing_class_is_substituted_from_the_nearest_class_and_noted():
    villages = [
        FrameVillage(1, "甲村", 10, "好"),
        FrameVillage(2, "乙村", 10, "中"),
        FrameVillage(3, "丙村", 10, "中"),
    ]
    for village in villages:
        village.households = {"unexited": [(village.id * 100 + i, 3) for i in range(5)]}
    draw = plan_draw(
        seed=5,
        protocol=Protocol(townships=1, households_per_village=10),
        townships={10: "某镇"},
        villages=villages,
        load_households=lambda c: None,
    )
    assert [dv.stratum_class for dv in draw.villages] == ["好", "中", "差"]
    assert draw.villages[2].village.condition == "中"
    assert "无未抽取的“差”类村" in note_text(draw.villages[2].notes[0])
    assert sorted(dv.village.id for dv in draw.villages) == [1, 2, 3]


@pytest.mark.django_db
def test_protocol_structure_holds_on_the_demo_county():
    """3 townships × 3 villages (one per class) × 43 households, half inside the registry
    wherever the village has enough non-registered households."""
    rng = random.Random(11)
    county = demo.build_regions(rng=rng, villages_per_township=4, townships=demo.TOWNSHIPS[:5])
    generated = registry_demo.generate_households(
        county=county,
        households=4000,
        seed=11,
        today=datetime.date(2020, 6, 1),
        first_household_id=1,
        first_member_id=1,
        first_event_id=1,
    )
    registry_demo.load_generated(generated)
    registry_demo._village_years(rng, county, generated)
    officer = user_create(
        username="officer",
        password="x",
        role=User.Role.COUNTY_OFFICER,
        region=county.county,
        validate_password=False,
    )
    auditor = user_create(
        username="assessor",
        password="x",
        role=User.Role.AUDITOR,
        region=county.county,
        validate_password=False,
    )
    campaign = services.campaign_create(
        actor=officer,
        county=county.county,
        name="演示评估",
        kind="third_party",
        year=2019,
        visit_date=datetime.date(2020, 7, 1),
        end_date=datetime.date(2020, 7, 5),
        assessors=[auditor],
    )
    services.campaign_draw(actor=officer, campaign=campaign, seed=2020)
    villages = list(campaign.villages.select_related("village", "township"))
    assert len(villages) == 9
    townships = Counter(v.township_id for v in villages)
    assert len(townships) == 3 and set(townships.values()) == {3}
    for township_id in townships:
        classes = [v.stratum_class for v in villages if v.township_id == township_id]
        assert classes == ["好", "中", "差"]
        for v in villages:
            if v.township_id == township_id and v.actual_class != v.stratum_class:
                assert any("按补足规则" in note for note in v.notes_shown)
    for v in villages:
        assert v.village.parent_id == v.township_id
        kinds = Counter(v.households.values_list("kind", flat=True))
        assert sum(kinds.values()) == 43
        available = v.frame_households  # population used for weights (≥ households on file)
        on_file = SampleHousehold.objects.filter(sample_village=v, kind="non_registered").count()
        assert on_file == min(21, kinds["non_registered"])
        inside = 43 - kinds["non_registered"]
        assert inside >= 22
        if kinds["non_registered"] < 21:
            assert any("非建档立卡户仅" in note for note in v.notes_shown)
        else:
            assert inside == 22
        assert kinds["unexited"] > 0 and kinds["exited"] > 0
        assert available["exited"] >= kinds["exited"]
    assert Region.objects.filter(level="village").count() == 20
