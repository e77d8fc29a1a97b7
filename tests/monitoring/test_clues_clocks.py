"""The clocks of a clue with the holiday calendar (CalendarDay) and the local rules, and how
late clues are shown to each role."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from monitoring.models import Clue, LocalRules
from povertyapp.models import CalendarDay
from tests import factories
from tests.conftest import login
from tests.monitoring.clue_fixtures import declared, freeze

pytestmark = pytest.mark.django_db
D = datetime.date


def test_a_clue_accepted_on_the_friday_before_a_holiday_is_due_after_it(monkeypatch, county):
    # 清明 2026: Saturday 4 – Monday 6 April off (the seeded State Council arrangement).
    assert CalendarDay.objects.filter(date=D(2026, 4, 6), kind="holiday").exists()
    today = freeze(monkeypatch, D(2026, 4, 3))
    clue = declared(village=county.village_a, id_number=factories.id_number(), received_on=today)
    # Tuesday 7 is the first working day, Wednesday 8 the second.
    assert clue.verify_due == D(2026, 4, 8)
    # The decision: 15 calendar days of the clue's date (the national default).
    assert clue.decide_due == D(2026, 4, 18)


def test_a_holiday_the_county_adds_moves_the_due_date(monkeypatch, county):
    today = freeze(monkeypatch, D(2026, 4, 3))
    CalendarDay.objects.create(date=D(2026, 4, 7), kind="holiday", name="测试假日")
    clue = declared(village=county.village_a, id_number=factories.id_number(), received_on=today)
    assert clue.verify_due == D(2026, 4, 9)


def test_a_made_up_working_weekend_counts(monkeypatch, county):
    # 国庆 2026: Sunday 20 September is worked.
    today = freeze(monkeypatch, D(2026, 9, 18))
    clue = declared(village=county.village_a, id_number=factories.id_number(), received_on=today)
    assert clue.verify_due == D(2026, 9, 21)


def test_the_clue_date_starts_the_decision_clock_and_acceptance_the_visit_clock(
    monkeypatch, county
):
    today = freeze(monkeypatch, D(2026, 4, 3))
    clue = declared(
        village=county.village_a, id_number=factories.id_number(), received_on=D(2026, 3, 30)
    )
    assert clue.accepted_on == today
    assert clue.verify_due == D(2026, 4, 8)
    assert clue.decide_due == D(2026, 4, 14)


def test_a_province_counting_20_working_days(monkeypatch, county):
    LocalRules.objects.create(
        region=county.province, identify_days=20, identify_in_working_days=True
    )
    today = freeze(monkeypatch, D(2026, 4, 3))
    clue = declared(village=county.village_a, id_number=factories.id_number(), received_on=today)
    # 7–30 April hold 18 working days; 1–5 May is 劳动节; 6 and 7 May are the 19th and 20th.
    assert clue.decide_due == D(2026, 5, 7)


def test_a_county_rule_of_15_days_overrides_the_provinces_working_days(monkeypatch, county):
    LocalRules.objects.create(
        region=county.province, identify_days=20, identify_in_working_days=True
    )
    LocalRules.objects.create(region=county.county, identify_days=15, verify_working_days=3)
    today = freeze(monkeypatch, D(2026, 4, 3))
    clue = declared(village=county.village_a, id_number=factories.id_number(), received_on=today)
    assert clue.decide_due == D(2026, 4, 18)
    assert clue.verify_due == D(2026, 4, 9)


# --- overdue, per role ----------------------------------------------------------------------


@pytest.fixture
def late_and_fresh(monkeypatch, county):
    freeze(monkeypatch, D(2026, 3, 2))
    late = declared(
        village=county.village_a, id_number=factories.id_number(), received_on=D(2026, 3, 2)
    )
    freeze(monkeypatch, D(2026, 4, 3))
    fresh = declared(
        village=county.village_a, id_number=factories.id_number(), received_on=D(2026, 4, 3)
    )
    return late, fresh


def _row(html: str, clue: Clue) -> str:
    start = html.index(f'data-clue="{clue.pk}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


@pytest.mark.parametrize(
    ("who", "css"), [("township", "clue-late-warn"), ("county", "clue-late-bad")]
)
def test_a_late_clue_is_orange_for_the_township_and_red_for_the_county(
    late_and_fresh, cast, who, css
):
    late, fresh = late_and_fresh
    response = login(getattr(cast, who)).get(reverse("monitoring:clues"))
    html = response.content.decode()
    assert response.status_code == 200
    assert css in _row(html, late)
    assert "clue-late" not in _row(html, fresh)
    assert "data-overdue-count>1<" in html
    # 入户核实 was due Wednesday 4 March: 22 working days late by Friday 3 April (清明 aside).
    assert "逾期22个工作日" in _row(html, late)


def test_the_overdue_filter_keeps_only_late_clues(late_and_fresh, cast):
    late, fresh = late_and_fresh
    html = login(cast.county).get(reverse("monitoring:clues"), {"overdue": "on"}).content.decode()
    assert f'data-clue="{late.pk}"' in html
    assert f'data-clue="{fresh.pk}"' not in html


def test_a_verified_clue_is_late_only_on_its_decision_clock(late_and_fresh, cast):
    late, _fresh = late_and_fresh
    Clue.objects.filter(pk=late.pk).update(
        state=Clue.State.VERIFIED, verified_on=D(2026, 3, 3), decide_due=D(2026, 4, 30)
    )
    html = login(cast.county).get(reverse("monitoring:clues")).content.decode()
    assert "clue-late" not in _row(html, late)
    assert "data-overdue-count>0<" in html
