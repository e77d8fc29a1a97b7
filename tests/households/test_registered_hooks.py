"""What the registry asks of the apps above it, through registries they fill from their
`AppConfig.ready()` (`assistance`): who has a helper and how many measures (data quality),
and the warning badge of the household page's 帮扶 tab."""

from __future__ import annotations

import pytest
from django.utils import timezone

from assistance import selectors as assistance_selectors
from households import detail_tabs, quality
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def codes(household) -> set[str]:  # type: ignore[no-untyped-def]  # a test helper
    findings, _ = quality.check_household(household)
    return {finding.rule for finding in findings}


def test_assistance_registers_the_helper_and_measure_facts():
    assert quality._helped_households is assistance_selectors.helped_households
    assert quality._measure_counts is assistance_selectors.effective_measure_counts


def test_registered_facts_drive_the_helper_and_measure_rules(cast, county, household_a):
    unpaired = factories.household(actor=cast.county, village=county.village_a)
    assert "no_helper" in codes(unpaired)
    assert "no_helper" not in codes(household_a)
    assert "too_few_measures" in codes(household_a)  # paired, but no measure yet


def test_without_registered_facts_those_two_rules_are_not_checked(
    cast, county, household_a, monkeypatch
):
    monkeypatch.setattr(quality, "_helped_households", None)
    monkeypatch.setattr(quality, "_measure_counts", None)
    unpaired = factories.household(actor=cast.county, village=county.village_a)
    (context,) = quality.contexts_for([unpaired])
    assert (context.has_helper, context.measures) == (None, None)
    assert {"no_helper", "too_few_measures"} & codes(unpaired) == set()


def test_other_registered_facts_are_the_ones_used(cast, county, household_a, monkeypatch):
    monkeypatch.setattr(quality, "_helped_households", None)
    monkeypatch.setattr(quality, "_measure_counts", None)
    quality.register_helped_households(lambda ids: set())
    quality.register_measure_counts(lambda ids: dict.fromkeys(ids, quality.REQUIRED_MEASURES))
    assert "no_helper" in codes(household_a)
    assert "too_few_measures" not in codes(household_a)


def test_assistance_tab_warnings_are_assistances(cast, household_a):
    from assistance.matching import assess_household

    members = list(household_a.members.all())
    today = timezone.localdate()
    expected = assess_household(household_a, on=today, members=members).warning_count
    assert expected > 0  # no measure at all: fewer than the required
    assert (
        detail_tabs.tab_warnings("assistance", household_a, on=today, members=members) == expected
    )


def test_a_tab_with_nothing_registered_shows_no_badge(cast, household_a, monkeypatch):
    monkeypatch.setattr(detail_tabs, "_tab_warnings", {})
    today = timezone.localdate()
    assert detail_tabs.tab_warnings("assistance", household_a, on=today, members=[]) == 0
    response = login(cast.cadre).get(f"/households/{household_a.pk}/assistance-badge/")
    assert response.status_code == 200
    assert "badge" not in response.content.decode()


def test_the_registered_tab_count_is_the_one_shown(cast, household_a, monkeypatch):
    monkeypatch.setattr(detail_tabs, "_tab_warnings", {})
    detail_tabs.register_tab_warnings("assistance", lambda household, *, on, members: 42)
    response = login(cast.cadre).get(f"/households/{household_a.pk}/assistance-badge/")
    assert '<span class="badge bad">42</span>' in response.content.decode()
