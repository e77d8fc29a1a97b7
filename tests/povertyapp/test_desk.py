"""The home page's 工作台 shows the panels the apps register (`povertyapp.desk`)."""

from __future__ import annotations

import pytest

from povertyapp import desk
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_households_registers_its_counts_and_recent_households(cast, household_a):
    panels = desk.panels_for(cast.cadre)
    assert [panel.key for panel, _values in panels] == ["households.counts", "households.recent"]
    counts = panels[0][1]
    assert (counts["household_count"], counts["todo_count"], counts["overdue_count"]) == (1, 0, 0)
    assert list(panels[1][1]["recent"]) == [household_a]


def test_home_page_shows_the_registered_panels(cast, household_a):
    content = login(cast.cadre).get("/").content.decode()
    assert "管辖范围内农户" in content
    assert "待我办理" in content
    assert "最近更新的农户" in content
    assert household_a.number in content


def test_with_no_panel_registered_the_desk_is_its_title(cast, household_a, monkeypatch):
    monkeypatch.setattr(desk, "_PANELS", {})
    assert desk.panels_for(cast.cadre) == []
    response = login(cast.cadre).get("/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "工作台" in content
    assert "管辖范围内农户" not in content
    assert household_a.number not in content


def test_a_registered_panel_is_drawn_in_order_for_the_users_it_admits(
    cast, monkeypatch, tmp_path, settings
):
    monkeypatch.setattr(desk, "_PANELS", {})
    (tmp_path / "desk_test.html").write_text("<p>panel {{ desk.word }}</p>", encoding="utf-8")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    desk.register(
        desk.Panel(
            key="test.second",
            template="desk_test.html",
            context=lambda user: {"word": "second"},
            order=20,
        )
    )
    desk.register(
        desk.Panel(
            key="test.first",
            template="desk_test.html",
            context=lambda user: {"word": user.username},
            order=10,
            visible=lambda user: user.role == user.Role.VILLAGE_CADRE,
        )
    )
    content = login(cast.cadre).get("/").content.decode()
    assert content.index("<p>panel cadre</p>") < content.index("<p>panel second</p>")
    content = login(cast.county).get("/").content.decode()
    assert "<p>panel cadre</p>" not in content
    assert "<p>panel second</p>" in content
