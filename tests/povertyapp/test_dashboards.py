"""Dashboards and the rates API: snapshots only, scoped like everything else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from households import rounds
from povertyapp import rates
from povertyapp.models import RateSnapshot
from tests.povertyapp.test_figures import built  # noqa: F401  (the hand-built county)


@pytest.fixture
def computed(built):  # noqa: F811
    round, households = built
    rates.compute_rates(round=round)
    return round, households


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_returns_the_stored_figures_with_eight_places(cast, computed):
    round, _h = computed
    response = _api(cast.county).get(f"/api/v1/regions/522622000000/rates/?round={round.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["figures"] == {
        "wrongful_inclusion": {"numerator": 6, "denominator": 19, "rate": "0.31578947"},
        "omission": {"numerator": 8, "denominator": 211, "rate": "0.03791469"},
        "wrongful_exit": {"numerator": 4, "denominator": 11, "rate": "0.36363636"},
        "incidence": {"numerator": 15, "denominator": 230, "rate": "0.06521739"},
    }
    assert body["round"] == {
        "id": round.pk,
        "name": "2020年动态调整",
        "year": 2020,
        "status": "open",
    }
    assert body["cause_counts"] == {"缺技术": {"households": 6, "persons": 15}}
    assert body["list_counts"]["removed"] == {"households": 2, "persons": 6}
    assert body["thresholds"]["comprehensive_incidence"] == "0.03"


def test_api_without_round_gives_the_latest_computed(cast, computed):
    response = _api(cast.township).get("/api/v1/regions/522622100000/rates/")
    assert response.status_code == 200
    assert response.json()["figures"]["wrongful_exit"] == {
        "numerator": 2,
        "denominator": 9,
        "rate": "0.22222222",
    }


def test_api_is_scoped_to_the_user_region(cast, computed):
    round, _h = computed
    assert (
        _api(cast.cadre).get(f"/api/v1/regions/522622100200/rates/?round={round.pk}").status_code
        == 200
    )
    assert (
        _api(cast.cadre).get(f"/api/v1/regions/522622101200/rates/?round={round.pk}").status_code
        == 404
    )
    assert (
        _api(cast.cadre).get(f"/api/v1/regions/522622000000/rates/?round={round.pk}").status_code
        == 404
    )


def test_api_without_a_snapshot_is_not_found(cast, built):  # noqa: F811
    round, _h = built
    response = _api(cast.county).get(f"/api/v1/regions/522622000000/rates/?round={round.pk}")
    assert response.status_code == 404


def test_cadre_sees_only_the_own_village_dashboard(cast, client_for, computed):
    client = client_for(cast.cadre)
    response = client.get("/dashboards/")
    assert response.status_code == 302 and response.url == "/dashboards/522622100200/"
    page = client.get("/dashboards/522622100200/")
    assert page.status_code == 200
    assert "凤场村" in page.content.decode()
    assert client.get("/dashboards/522622101200/").status_code == 404
    assert client.get("/dashboards/522622000000/").status_code == 404
    assert client.get("/dashboards/522622100000/").status_code == 404


def test_county_dashboard_shows_figures_thresholds_and_children(cast, client_for, computed):
    round, _h = computed
    snapshot = RateSnapshot.objects.get(region__code="522622000000", round=round)
    text = (
        client_for(cast.county).get(f"/dashboards/522622000000/?round={round.pk}").content.decode()
    )
    assert '<span class="rate">31.58%</span>' in text
    assert f'?round={round.pk}&list=removed">6</a> / 19' in text
    assert "退出标准：&lt; 3.00%" in text  # the county incidence threshold (western county)
    assert "新州镇" in text and "旧州镇" in text
    assert snapshot.computed_at.astimezone().strftime("%Y-%m-%d %H:%M") in text
    assert 'id="chart-data"' in text and "echarts.min.js" in text


def test_dashboard_reads_the_snapshot_and_never_recomputes(cast, client_for, computed):
    round, _h = computed
    RateSnapshot.objects.filter(region__code="522622101000", round=round).update(
        incidence_numerator=40, incidence_rate="0.50000000"
    )
    text = (
        client_for(cast.county).get(f"/dashboards/522622101000/?round={round.pk}").content.decode()
    )
    assert "50.00%" in text


def test_child_table_sorts_by_a_figure(cast, client_for, computed):
    round, _h = computed
    text = (
        client_for(cast.county)
        .get(f"/dashboards/522622000000/?round={round.pk}&sort=-incidence")
        .content.decode()
    )
    table = text[text.index("下级区域") :]
    # 旧州镇 7/80 = 8.75 % before 新州镇 8/150 = 5.33 %.
    assert table.index("旧州镇") < table.index("新州镇")
    text = (
        client_for(cast.county)
        .get(f"/dashboards/522622000000/?round={round.pk}&sort=incidence")
        .content.decode()
    )
    table = text[text.index("下级区域") :]
    assert table.index("新州镇") < table.index("旧州镇")


def test_drill_down_lists_the_households_behind_a_number(cast, client_for, computed):
    round, households = computed
    client = client_for(cast.county)
    text = client.get(
        f"/dashboards/522622100000/households/?round={round.pk}&list=removed"
    ).content.decode()
    assert households["a1"].number in text and households["c2"].number in text
    assert households["b2"].number not in text
    own = (
        client_for(cast.cadre)
        .get(f"/dashboards/522622100200/households/?round={round.pk}&list=removed")
        .content.decode()
    )
    assert households["a1"].number in own and households["c2"].number not in own


def test_dashboard_without_snapshot_explains_it(cast, client_for, built):  # noqa: F811
    text = client_for(cast.county).get("/dashboards/522622000000/").content.decode()
    assert "该区域尚无动态调整指标。" in text


def test_compute_button_starts_a_job_the_user_watches(
    cast,
    client_for,
    built,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    round, _h = built
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.township).post(f"/rounds/{round.pk}/compute/")
    assert response.status_code == 302 and response.url.startswith("/jobs/")
    # The township's run covers its own subtree only.
    assert set(RateSnapshot.objects.values_list("region__code", flat=True)) == {
        "522622100000",
        "522622100200",
        "522622100201",
    }
    assert client_for(cast.cadre).post(f"/rounds/{round.pk}/compute/").status_code == 403


def test_closed_round_dashboard_is_marked_final(
    cast,
    client_for,
    built,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    round, _h = built
    with django_capture_on_commit_callbacks(execute=True):  # closing computes the final figures
        closed = rounds.round_close(actor=cast.county, round=round)
    text = (
        client_for(cast.county).get(f"/dashboards/522622000000/?round={closed.pk}").content.decode()
    )
    assert "最终结果" in text


def test_dashboard_body_is_cached_by_content_and_never_stale(cast, client_for, computed):
    round, _h = computed
    url = f"/dashboards/522622000000/?round={round.pk}"
    client = client_for(cast.county)
    first = client.get(url)
    assert first.context.get("body_html") is None  # rendered, and stored
    second = client.get(url)
    assert second.context["body_html"]  # served from the cache
    body = '<section class="figures"'
    assert body in first.content.decode()
    # The same body; the header differs only by the per-request CSRF token.
    assert second.content.decode().split(body)[1] == first.content.decode().split(body)[1]
    # A changed child snapshot (as a recompute writes it) changes what is shown at once.
    RateSnapshot.objects.filter(region__code="522622101000", round=round).update(
        incidence_numerator=40, incidence_rate="0.50000000"
    )
    third = client.get(url)
    assert third.context.get("body_html") is None
    assert "50.00%" in third.content.decode()
    # So does a renamed child region.
    from povertyapp.models import Region

    Region.objects.filter(code="522622101000").update(name="旧州镇（更名）")
    assert "旧州镇（更名）" in client.get(url).content.decode()


def test_a_village_dashboard_reads_few_queries_whatever_its_depth(
    cast, client_for, computed, django_assert_max_num_queries
):
    """Session, user, the user's region, the village, its ancestors (one query for all),
    the rounds, the trend (which also gives the default round and its snapshot), the child
    snapshots, and the session save: the depth of the tree adds nothing."""
    client = client_for(cast.county)
    client.get("/dashboards/522622100200/")  # warm: the body cache is filled
    with django_assert_max_num_queries(11):
        response = client.get("/dashboards/522622100200/")
    assert response.status_code == 200
    ancestors = [node.code for node in response.context["ancestors"]]
    assert ancestors[-2:] == ["522622000000", "522622100000"]
