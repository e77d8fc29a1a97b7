"""The onboarding checklist (上线准备清单): its states on an empty county and on the demo county,
its links, the desk panel, and who may open it."""

from __future__ import annotations

import pytest

from households.models import Household
from povertyapp import desk
from povertyapp.models import Region, User
from tests import factories
from tests.conftest import login
from tests.project import app_today
from years import onboarding


def _states(checklist: onboarding.Checklist) -> dict[str, tuple[int, str]]:
    return {line.key: (line.count, line.state) for line in checklist.lines}


def test_checklist_of_an_empty_county(county):
    empty = factories.region("522699000000", "空白县", Region.Level.COUNTY, county.city)
    checklist = onboarding.checklist(county=empty, year=app_today().year)
    states = _states(checklist)
    assert states["townships"] == (0, "missing")
    assert states["villages"] == (0, "missing")
    assert states["village_years"] == (0, "missing")
    assert states["poverty_line"] == (0, "missing")
    assert states["monitoring_line"] == (0, "missing")
    assert states["households"] == (0, "missing")
    assert states["village_cadres"] == (0, "missing")
    assert states["township_reviewers"] == (0, "missing")
    assert states["projects"] == (0, "missing")
    assert states["resident_teams"] == (0, "missing")
    assert states["round"] == (0, "missing")
    # The migrations' value lists are national and open-ended: the year has them.
    assert states["value_lists"][1] == "done"
    assert checklist.complete is False
    by_key = {line.key: line for line in checklist.lines}
    assert by_key["poverty_line"].note == "未设置的年度无法评估，请在年度切换中沿用或录入。"
    assert by_key["round"].note == "尚未开启：请办理年度切换。"


def test_checklist_names_what_is_missing_in_the_small_county(cast, county, household_a):
    checklist = onboarding.checklist(county=county.county, user=cast.county, year=app_today().year)
    by_key = {line.key: line for line in checklist.lines}
    assert (by_key["townships"].count, by_key["townships"].state) == (2, "done")
    assert (by_key["villages"].count, by_key["villages"].state) == (3, "done")
    assert by_key["groups"].state == "partial"
    assert by_key["groups"].note == "没有村民小组的行政村：龙坪村、西垭村。"
    # cadre (village A) and cadre2 (village B); village A2 has none.
    assert (by_key["village_cadres"].count, by_key["village_cadres"].state) == (2, "partial")
    assert by_key["village_cadres"].note == "没有村级录入员的行政村：龙坪村。请安全管理员开通账号。"
    assert by_key["township_reviewers"].note == (
        "没有乡镇审核员的乡镇：旧州镇。请安全管理员开通账号。"
    )
    assert (by_key["households"].count, by_key["households"].state) == (1, "done")
    assert (by_key["pairings"].count, by_key["pairings"].state) == (1, "done")
    assert by_key["measures"].state == "missing"
    assert by_key["measures"].note == "1户贫困户没有帮扶措施。"
    # Links: the household import exists; the rollover page fixes the lines.
    assert by_key["households"].url == "/ledgers/import/"
    assert by_key["poverty_line"].url == "/years/rollover/"
    assert by_key["round"].url == "/rounds/"
    assert by_key["village_cadres"].url is None  # accounts are the security administrator's


def test_a_link_whose_page_does_not_exist_is_left_out(monkeypatch):
    monkeypatch.setitem(onboarding.LINKS, "projects", ("nowhere:import_projects",))
    assert onboarding.link("projects") is None
    monkeypatch.setitem(
        onboarding.LINKS, "projects", ("nowhere:import_projects", "assistance:projects")
    )
    assert onboarding.link("projects") == "/assistance/projects/"


@pytest.fixture
def seeded(db, settings, tmp_path):
    from povertyapp import demo

    settings.MEDIA_ROOT = tmp_path
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    return demo.seed(households=20, seed=1)


def test_checklist_of_the_demo_county(seeded):
    county = seeded["county"].county
    officer = seeded["users"]["county"]
    checklist = onboarding.checklist(county=county, user=officer, year=app_today().year)
    states = _states(checklist)
    for key in (
        "townships",
        "villages",
        "village_years",
        "poverty_line",
        "monitoring_line",
        "value_lists",
        "households",
        "round",
    ):
        assert states[key][1] == "done", (key, states[key])
    assert (
        states["households"][0]
        == Household.objects.filter(village__path__startswith=county.path).count()
    )
    assert (
        states["villages"][0]
        == Region.objects.filter(path__startswith=county.path, level=Region.Level.VILLAGE).count()
    )
    response = login(officer).get("/years/onboarding/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"上线准备清单（{app_today().year}年）" in page
    assert 'id="line-round"' in page


def test_desk_panel_leads_the_county_office_to_the_checklist(cast, county):
    panels = {panel.key: values for panel, values in desk.panels_for(cast.county)}
    assert [line.key for line in panels["years.onboarding"]["missing"]][:3] == [
        "groups",
        "village_years",
        "poverty_line",
    ]
    page = login(cast.county).get("/").content.decode()
    assert 'href="/years/onboarding/"' in page
    assert "years.onboarding" not in {panel.key for panel, _ in desk.panels_for(cast.township)}


@pytest.mark.parametrize("role", ["cadre", "township", "auditor", "helper", "sysadmin"])
def test_checklist_page_refuses_other_roles(cast, role):
    assert login(getattr(cast, role)).get("/years/onboarding/").status_code == 403


def test_checklist_page_refuses_a_county_officer_above_a_county(cast, county):
    officer = factories.user("city_officer", User.Role.COUNTY_OFFICER, county.city)
    assert login(officer).get("/years/onboarding/").status_code == 403
