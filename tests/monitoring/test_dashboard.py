"""The monitoring dashboard (issue 15): each figure against the hand-counted world of
`tests/monitoring/dashboard_world.py`, the drill-down and its scoping, the refusals, the cache."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import Member
from households.standards import evaluate_two_assurances
from monitoring import figures
from monitoring.models import MonitoringObject
from povertyapp.models import User
from povertyapp.privacy import mask
from tests import factories
from tests.conftest import login
from tests.monitoring import dashboard_world
from tests.monitoring.dashboard_world import TODAY


@pytest.fixture
def world(cast, county, household_a, household_b, monkeypatch):
    monkeypatch.setattr(services.common, "today", lambda: TODAY)
    return dashboard_world.build(cast, county, household_a, household_b)


def test_object_figures_of_the_county(world, county):
    data = figures.compute(county.county, today=TODAY)["objects"]
    assert data["current"] == 4
    assert data["identifying"] == 1
    assert data["identified_year"] == 2
    assert data["identified_month"] == 1
    assert data["long_open"] == 1
    assert data["green_channel"] == 1
    assert data["no_labour"] == 0
    assert data["by_type"] == {
        "unstable": {"households": 1, "persons": 2},
        "marginal": {"households": 2, "persons": 5},
        "sudden": {"households": 1, "persons": 2},
    }
    assert data["by_risk"] == {"illness": 2, "disaster": 1, "accident": 1}
    assert data["eliminated"] == {
        "assisted": {"year": 1, "total": 1},
        "natural": {"year": 0, "total": 1},
    }
    assert data["assurance"] == {"education": 1, "medical": 1, "housing": 1, "water": 1, "any": 4}


def test_clue_figures_of_the_county(world, county):
    data = figures.compute(county.county, today=TODAY)["clues"]
    assert data["by_channel"] == {
        "self_declaration": {
            "received": 1,
            "open": 1,
            "unregistered": 0,
            "verify_overdue": 1,
            "decide_overdue": 0,
        },
        "cadre_check": {
            "received": 1,
            "open": 1,
            "unregistered": 0,
            "verify_overdue": 0,
            "decide_overdue": 1,
        },
        "department": {
            "received": 3,
            "open": 2,
            "unregistered": 1,
            "verify_overdue": 1,
            "decide_overdue": 1,
        },
    }
    assert data["by_department"] == {
        "civil_affairs": {
            "received": 1,
            "open": 1,
            "unregistered": 1,
            "verify_overdue": 0,
            "decide_overdue": 0,
        },
        "medical_insurance": {
            "received": 2,
            "open": 1,
            "unregistered": 0,
            "verify_overdue": 1,
            "decide_overdue": 1,
        },
    }
    assert data["totals"] == {
        "received": 5,
        "open": 4,
        "unregistered": 1,
        "verify_overdue": 2,
        "decide_overdue": 2,
    }
    # Clues 3 (10 days) and 4 (20 days) were decided this year.
    assert data["decided"] == 2
    assert data["average_days"] == 15.0


def test_trend_covers_twelve_months(world, county):
    trend = figures.compute(county.county, today=TODAY)["trend"]
    assert [row["month"] for row in trend][:2] == ["2025-07", "2025-08"]
    assert trend[-1]["month"] == "2026-06"
    by_month = {row["month"]: (row["identified"], row["eliminated"], row["clues"]) for row in trend}
    assert by_month["2025-11"] == (0, 1, 0)
    assert by_month["2025-12"] == (0, 0, 1)
    assert by_month["2026-01"] == (1, 0, 1)
    assert by_month["2026-02"] == (0, 1, 0)
    assert by_month["2026-03"] == (0, 0, 1)
    assert by_month["2026-05"] == (0, 0, 1)
    assert by_month["2026-06"] == (1, 0, 2)
    assert sum(row["identified"] + row["eliminated"] + row["clues"] for row in trend) == 10


def test_children_of_the_county_and_of_a_township(world, county):
    children = figures.compute(county.county, today=TODAY)["children"]
    assert [(row["name"], row["current"]) for row in children] == [("新州镇", 3), ("旧州镇", 1)]
    first, second = children
    assert (first["type_marginal"], first["type_unstable"], first["type_sudden"]) == (1, 1, 1)
    assert (first["long_open"], first["open"]) == (1, 3)
    assert (first["verify_overdue"], first["decide_overdue"]) == (2, 2)
    assert (second["type_marginal"], second["open"], second["decide_overdue"]) == (1, 0, 0)
    villages = figures.compute(county.township1, today=TODAY)["children"]
    assert [(row["name"], row["current"], row["open"]) for row in villages] == [
        ("凤场村", 2, 2),
        ("龙坪村", 1, 1),
    ]
    assert figures.compute(county.village_a, today=TODAY)["children"] == []


def test_a_village_counts_its_own_rows_only(world, county):
    data = figures.compute(county.village_b, today=TODAY)
    assert data["objects"]["current"] == 1
    assert data["objects"]["eliminated"]["natural"]["total"] == 1
    assert data["clues"]["totals"]["received"] == 2
    assert data["objects"]["assurance"]["medical"] == 1


def test_the_sql_assurance_lists_agree_with_the_registry_checks(world):
    conditions = figures.assurance_failures(TODAY)
    for item in MonitoringObject.objects.filter(state__in=figures.CURRENT):
        members = list(Member.objects.filter(household=item.household_id))
        failing = {
            check.key
            for check in evaluate_two_assurances(item.household, members, on=TODAY)
            if check.met is False and check.key in figures.ASSURANCE_ITEMS
        }
        found = {
            key
            for key in figures.ASSURANCE_ITEMS
            if MonitoringObject.objects.filter(pk=item.pk).filter(conditions[key]).exists()
        }
        assert found == failing, item.household


def test_the_county_page_shows_the_figures_and_links_the_townships(world, cast, county):
    response = login(cast.county).get(reverse("monitoring:dashboard", args=[county.county.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="figure-current">4</a>' in html
    assert 'id="figure-average-days">15.0</span>' in html
    assert reverse("monitoring:dashboard", args=[county.township1.code]) in html
    assert reverse("monitoring:dashboard", args=[county.township2.code]) in html
    # Overdue tasks are red for the county.
    assert 'class="badge bad" id="figure-verify-overdue">2</span>' in html


def test_a_township_sees_only_its_villages(world, cast, county):
    client = login(cast.township)
    response = client.get(reverse("monitoring:dashboard", args=[county.township1.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "凤场村" in html and "龙坪村" in html
    assert "西垭村" not in html
    # Orange for the township.
    assert 'class="badge warn" id="figure-verify-overdue">2</span>' in html
    for region in (county.township2, county.village_b, county.county):
        url = reverse("monitoring:dashboard", args=[region.code])
        assert client.get(url).status_code == 404, region


def test_the_index_is_the_dashboard_of_the_users_region(world, cast):
    response = login(cast.cadre).get(reverse("monitoring:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "凤场村" in html
    assert 'id="figure-current">2</a>' in html


def test_department_accounts_and_administrators_are_refused(world, cast, county):
    department = factories.user(
        "yibao-test", User.Role.DEPARTMENT, county.county, department="medical_insurance"
    )
    for user in (department, cast.sysadmin, cast.secadmin, cast.auditadmin):
        client = login(user)
        assert client.get(reverse("monitoring:index")).status_code == 403, user
        url = reverse("monitoring:dashboard", args=[county.county.code])
        assert client.get(url).status_code == 403, user
        url = reverse("monitoring:dashboard-objects", args=[county.county.code])
        assert client.get(url + "?list=current").status_code == 403, user


def test_drill_down_lists_the_objects_masked(world, cast, county):
    url = reverse("monitoring:dashboard-objects", args=[county.village_a.code])
    response = login(cast.cadre).get(url + "?list=current")
    assert response.status_code == 200
    rows = list(response.context["rows"])
    assert {row.pk for row in rows} == {world.objects["a"].pk, world.objects["a_unstable"].pk}
    head = world.households["a"].members.get(relation="户主")
    html = response.content.decode()
    assert head.id_number not in html
    assert mask(head.id_number) in html
    risks = {row.pk: row.risk_labels for row in rows}
    assert risks[world.objects["a"].pk] == "因病、因学"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("list=type&value=marginal", {"a", "b"}),
        ("list=risk&value=illness", {"a", "b"}),
        ("list=long_open", {"a"}),
        ("list=identified_year", {"a_unstable", "b"}),
        ("list=eliminated&value=natural", {"b_eliminated"}),
        ("list=assurance&value=water", {"a2_identifying"}),
        ("list=assurance&value=education", {"a"}),
        ("list=type&value=nonsense", set()),
    ],
)
def test_each_number_drills_down_to_its_objects(world, cast, county, query, expected):
    url = reverse("monitoring:dashboard-objects", args=[county.county.code])
    response = login(cast.county).get(f"{url}?{query}")
    assert response.status_code == 200
    found = {row.pk for row in response.context["rows"]}
    assert found == {world.objects[key].pk for key in expected}


def test_a_helper_drills_down_to_the_paired_household_only(world, cast, county):
    url = reverse("monitoring:dashboard-objects", args=[county.village_a.code])
    response = login(cast.helper).get(url + "?list=current")
    assert {row.pk for row in response.context["rows"]} == {world.objects["a"].pk}


def test_an_unknown_list_is_not_found(world, cast, county):
    url = reverse("monitoring:dashboard-objects", args=[county.county.code])
    assert login(cast.county).get(url + "?list=everything").status_code == 404


def test_the_cache_follows_the_data(world, cast, county, django_assert_max_num_queries):
    first = figures.dashboard_figures(county.county, today=TODAY)
    with django_assert_max_num_queries(0):
        assert figures.dashboard_figures(county.county, today=TODAY) == first
    household = factories.household(actor=cast.county, village=county.village_b)
    MonitoringObject.objects.create(
        household=household, object_type="sudden", state="monitored", clue_date=TODAY
    )
    assert figures.dashboard_figures(county.county, today=TODAY)["objects"]["current"] == 5


def _write_something(cast, county):
    household = factories.household(actor=cast.county, village=county.village_b)
    MonitoringObject.objects.create(
        household=household, object_type="sudden", state="monitored", clue_date=TODAY
    )


def _hold_key(region):
    return f"monitoring:figures:{figures.FIGURES_VERSION}:{region.pk}:{TODAY.isoformat()}:computing"


def test_while_one_request_recomputes_the_others_get_the_last_figures(
    world, cast, county, django_assert_max_num_queries
):
    from django.core.cache import cache

    first = figures.dashboard_figures(county.county, today=TODAY)
    _write_something(cast, county)
    cache.add(_hold_key(county.county), 1, 60)  # another request is computing
    try:
        with django_assert_max_num_queries(0):
            assert figures.dashboard_figures(county.county, today=TODAY) == first
    finally:
        cache.delete(_hold_key(county.county))
    fresh = figures.dashboard_figures(county.county, today=TODAY)
    assert fresh["objects"]["current"] == first["objects"]["current"] + 1
    assert fresh["computed_at"] >= first["computed_at"]


def test_a_stale_entry_is_recomputed_by_a_worker_not_the_page(world, cast, county, monkeypatch):
    from django.core.cache import cache

    from monitoring import tasks

    sent = []
    monkeypatch.setattr(
        tasks.refresh_figures_task, "apply_async", lambda args, **_options: sent.append(args)
    )
    first = figures.dashboard_figures(county.county, today=TODAY)
    _write_something(cast, county)
    try:
        assert figures.dashboard_figures(county.county, today=TODAY) == first
        assert figures.dashboard_figures(county.county, today=TODAY) == first
        assert sent == [(county.county.pk, TODAY.isoformat())]  # once, under the hold
        tasks.refresh_figures_task(*sent[0])  # the worker
    finally:
        cache.delete(_hold_key(county.county))
    fresh = figures.dashboard_figures(county.county, today=TODAY)
    assert fresh["objects"]["current"] == first["objects"]["current"] + 1


def test_with_the_broker_away_the_page_recomputes_itself(world, cast, county, monkeypatch):
    from kombu.exceptions import OperationalError

    from monitoring import tasks

    def broker_away(*_args, **_options):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.refresh_figures_task, "apply_async", broker_away)
    first = figures.dashboard_figures(county.county, today=TODAY)
    _write_something(cast, county)
    fresh = figures.dashboard_figures(county.county, today=TODAY)
    assert fresh["objects"]["current"] == first["objects"]["current"] + 1


def test_the_first_request_of_the_day_waits_for_the_one_computing(
    world, county, monkeypatch, django_assert_max_num_queries
):
    from django.core.cache import cache

    theirs = {"objects": "computed by the other request", "computed_at": timezone.now()}
    key = _hold_key(county.county).removesuffix(":computing")

    def other_request_finishes(_seconds):
        cache.set(key, {"generation": figures.generation(), "figures": theirs}, 60)

    cache.add(_hold_key(county.county), 1, 60)
    monkeypatch.setattr(figures.time, "sleep", other_request_finishes)
    try:
        with django_assert_max_num_queries(0):
            assert figures.dashboard_figures(county.county, today=TODAY) is not None
        assert cache.get(key)["figures"] == theirs
        assert figures.dashboard_figures(county.county, today=TODAY) == theirs
    finally:
        cache.delete(_hold_key(county.county))


def test_old_figures_are_recomputed_without_a_write(world, county, monkeypatch, settings):
    settings.MONITORING_DASHBOARD_CACHE_SECONDS = 600
    first = figures.dashboard_figures(county.county, today=TODAY)
    later = first["computed_at"] + datetime.timedelta(seconds=601)
    monkeypatch.setattr(figures.timezone, "now", lambda: later)
    assert figures.dashboard_figures(county.county, today=TODAY)["computed_at"] == later


def test_the_page_says_when_its_figures_were_computed(world, cast, county):
    url = reverse("monitoring:dashboard", args=[county.county.code])
    response = login(cast.county).get(url)
    assert "数据更新于" in response.content.decode()


def test_the_figures_take_a_fixed_number_of_statements(world, county, django_assert_num_queries):
    # 5 over the objects, 3 over the clues, 3 for the trend, 3 for the children: the same for
    # a village of 10 households as for a county of 100,000.
    with django_assert_num_queries(14):
        figures.compute(county.county, today=TODAY)
