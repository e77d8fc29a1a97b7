"""An assessment draw's notes are stored as msgid and parameters and shown in the reader's
language (issue 17); migration 0003 reads notes stored as text back into that form."""

from __future__ import annotations

import importlib

import pytest
from django.utils import translation

from inspections import notes as draw_notes
from inspections import services
from inspections.models import Campaign, SampleKind, SampleVillage
from inspections.notes import note
from inspections.notes import note_text as _plain_text


def note_text(stored):
    return _plain_text(stored, dict(SampleKind.choices))


migration = importlib.import_module("inspections.migrations.0003_draw_notes_as_msgids")


def test_a_note_is_stored_without_any_language_and_shown_in_the_readers():
    stored = note(draw_notes.KIND_SHORT, village="凤场村", kind="pre_exit", have=0, quota=7)
    assert stored == {
        "msgid": draw_notes.KIND_SHORT,
        "params": {"village": "凤场村", "kind": "pre_exit", "have": 0, "quota": 7},
    }
    with translation.override("zh-hans"):
        assert note_text(stored) == "凤场村拟脱贫户仅0户，不足7户，差额按补足规则由其他类型补足。"
    with translation.override("en"):
        english = note_text(stored)
    assert "凤场村" in english and "7" in english
    assert not any("\u4e00" <= c <= "\u9fff" for c in english.replace("凤场村", ""))


def test_labels_and_lists_in_a_note_follow_the_reader():
    substituted = note(draw_notes.CLASS_SUBSTITUTED, township="新州镇", target="差", used="中")
    unclassed = note(draw_notes.UNCLASSED, names=["凤场村", "龙坪村"])
    with translation.override("en"):
        assert "Poor" in note_text(substituted) and "Average" in note_text(substituted)
        assert "凤场村, 龙坪村" in note_text(unclassed)
    with translation.override("zh-hans"):
        assert note_text(unclassed).endswith("凤场村、龙坪村")


def test_an_unknown_msgid_is_refused_and_text_is_shown_as_stored():
    with pytest.raises(ValueError):
        note("随便什么")
    broken = {"msgid": draw_notes.VILLAGES_SHORT, "params": {}}
    with translation.override("en"):
        assert note_text("手工写的说明") == "手工写的说明"
        assert note_text(broken)  # out of step: the msgid's text, never an error


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_migration_reads_every_notes_wording_back(language):
    readers = migration._readers()
    stored = [
        note(draw_notes.TOWNSHIPS_SHORT, n=2, want=3),
        note(draw_notes.VILLAGES_SHORT, township="新州镇", n=1),
        note(draw_notes.CLASS_SUBSTITUTED, township="新州镇", target="差", used="中"),
        note(draw_notes.KIND_SHORT, village="凤场村", kind="non_registered", have=3, quota=21),
        note(draw_notes.HOUSEHOLDS_SHORT, village="凤场村", taken=30, quota=43),
        note(draw_notes.UNCLASSED, names=["凤场村", "龙坪村"]),
    ]
    assert set(migration.MSGIDS) == set(draw_notes.MSGIDS)
    with translation.override(language):
        texts = [note_text(item) for item in stored]
    assert [migration.note_from_text(text, readers) for text in texts] == stored
    assert migration.note_from_text("手工写的说明", readers) == "手工写的说明"


@pytest.mark.django_db
def test_the_migration_converts_stored_rows_and_leaves_unknown_text(
    registry, cast, campaign_factory
):
    from django.apps import apps

    campaign = services.campaign_draw(
        actor=cast.county, campaign=campaign_factory(households_per_village=8), seed=3
    )
    village = campaign.villages.order_by("position")[0]
    expected = list(village.notes)
    assert expected and all(isinstance(item, dict) for item in expected)
    with translation.override("zh-hans"):
        as_text = [note_text(item) for item in expected]
    SampleVillage.objects.filter(pk=village.pk).update(notes=as_text)
    Campaign.objects.filter(pk=campaign.pk).update(draw_notes=["手工写的说明"])
    migration.forwards(apps, None)
    village.refresh_from_db()
    campaign.refresh_from_db()
    assert village.notes == expected
    assert campaign.draw_notes == ["手工写的说明"]
    migration.backwards(apps, None)
    village.refresh_from_db()
    assert village.notes == as_text


@pytest.mark.django_db
def test_the_campaign_page_shows_the_notes_in_english(registry, cast, campaign_factory, client_for):
    campaign = services.campaign_draw(
        actor=cast.county, campaign=campaign_factory(households_per_village=8), seed=3
    )
    client = client_for(cast.county)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/inspections/{campaign.pk}/").content.decode()
    village = campaign.villages.order_by("position")[0]
    with translation.override("en"):
        shown = village.notes_shown
    assert shown and all(text in page for text in shown)
    assert "差额按补足规则" not in page
