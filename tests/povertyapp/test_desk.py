"""The home page's 工作台 shows the panels the apps register (`povertyapp.desk`)."""

from __future__ import annotations

import pytest

from povertyapp import desk
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_households_registers_its_count_cases_and_recent_households(cast, household_a):
    panels = dict(desk.panels_for(cast.cadre))
    keys = [panel.key for panel, _values in desk.panels_for(cast.cadre)]
    assert keys[:2] == ["households.counts", "households.cases"]
    assert keys[-2:] == ["households.recent", "povertyapp.jobs"]
    values = {panel.key: values for panel, values in panels.items()}
    assert values["households.counts"]["household_count"] == 1
    assert [(item.label, item.count) for item in values["households.cases"]["items"]] == [
        ("待我办理的程序步骤", 0),
        ("其中已逾期", 0),
        ("我的案件（等待他人办理）", 0),
        ("待处理问题数据", 0),
    ]
    assert list(values["households.recent"]["recent"]) == [household_a]


def test_home_page_shows_the_registered_panels(cast, household_a):
    content = login(cast.cadre).get("/").content.decode()
    assert "管辖范围内农户" in content
    assert "待我办理的程序步骤" in content
    assert "最近更新的农户" in content
    assert household_a.number in content


def test_a_helpers_first_figure_names_the_paired_households(cast, household_a):
    """A helper (帮扶责任人) has no area to govern: the figure counts the households paired
    with them and says so."""
    content = login(cast.helper).get("/").content.decode()
    assert "结对帮扶户" in content
    assert "管辖范围内农户" not in content


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


def test_a_panel_is_for_the_case_roles_unless_it_says_otherwise(cast, monkeypatch):
    monkeypatch.setattr(desk, "_PANELS", {})
    desk.items_panel(
        key="test.case",
        title="案件",
        items=lambda user: [desk.Item(label="待办", url="/households/", count=1)],
    )
    desk.items_panel(
        key="test.accounts",
        title="账号",
        items=lambda user: [desk.Item(label="账号", url="/admin/")],
        visible=lambda user: user.role == user.Role.SECURITY_ADMIN,
    )
    assert [panel.key for panel, _values in desk.panels_for(cast.cadre)] == ["test.case"]
    assert [panel.key for panel, _values in desk.panels_for(cast.secadmin)] == ["test.accounts"]
    assert [panel.key for panel, _values in desk.panels_for(cast.sysadmin)] == []
    assert [item.label for item in desk.items_for(cast.cadre)] == ["待办"]


def test_an_items_panel_without_items_draws_nothing(cast, monkeypatch):
    monkeypatch.setattr(desk, "_PANELS", {})
    desk.items_panel(key="test.empty", title="空面板标题", items=lambda user: [])
    content = login(cast.cadre).get("/").content.decode()
    assert "空面板标题" not in content


def test_the_desk_links_its_own_stylesheet(cast):
    content = login(cast.cadre).get("/").content.decode()
    assert "css/desk.css" in content
    assert 'class="desk"' in content


@pytest.mark.parametrize("who", ["county", "township", "cadre"])
def test_the_household_count_reads_the_kept_counts_not_the_households(
    who, cast, county, household_a, household_b
):
    """管辖范围内农户 for a province's office would count millions of households per page view:
    it sums the counts the database keeps (per county, per village), equal to a live count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from households.models import Household
    from households.views.desk import desk_counts
    from povertyapp import roles

    user = getattr(cast, who)
    with CaptureQueriesContext(connection) as queries:
        counted = desk_counts(user)["household_count"]
    assert counted == roles.household_scope(user, Household.objects.all()).count() > 0
    assert not any('FROM "households_household"' in q["sql"] for q in queries.captured_queries)
