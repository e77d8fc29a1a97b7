"""Dashboards and the rates API: snapshots only, scoped like everything else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from households.models import Household
from rounds import rates
from rounds import services as rounds
from rounds.models import RateSnapshot
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)


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


def test_drill_down_names_its_list_in_the_users_language(cast, client_for, computed):
    round, _households = computed
    client = client_for(cast.county)
    url = f"/dashboards/522622100000/households/?round={round.pk}&list=removed"
    assert "剔除（错评）" in client.get(url).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(url).content.decode()
    assert "剔除（错评）" not in english
    assert "Removed (wrongful inclusion)" in english


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


def test_dashboard_head_is_cached_per_scope_and_never_stale(cast, client_for, computed):
    """The head (breadcrumb, round selector, snapshot line) is cached with the body, keyed by
    what it shows: the breadcrumb the user may open, the county's rounds, the snapshot. The
    compute button (role, CSRF token) is never cached."""
    from povertyapp.models import Region
    from rounds.models import AdjustmentRound

    round, _h = computed
    url = "/dashboards/522622100200/"
    county_client = client_for(cast.county)
    county_client.get(url)
    second = county_client.get(url)
    assert second.context["head_html"]  # served from the cache
    text = second.content.decode()
    assert 'href="/dashboards/522622100000/?round=' in text  # breadcrumb: the township
    assert "重新计算" in text
    # The cadre of the village sees the same figures, but neither the county's breadcrumb
    # nor the compute button.
    cadre_text = client_for(cast.cadre).get(url).content.decode()
    assert 'href="/dashboards/522622100000/' not in cadre_text
    assert "重新计算" not in cadre_text
    assert '<section class="figures"' in cadre_text
    # A renamed round, a renamed ancestor, a recomputed snapshot show at once.
    AdjustmentRound.objects.filter(pk=round.pk).update(name="二〇二〇年调整")
    Region.objects.filter(code="522622100000").update(name="新州镇（更名）")
    RateSnapshot.objects.filter(region__code="522622100200", round=round).update(
        computed_at="2021-03-04T05:06:07+08:00"
    )
    text = county_client.get(url).content.decode()
    assert "二〇二〇年调整" in text and "新州镇（更名）" in text
    assert "2021-03-04 05:06:07" in text


def test_breadcrumb_and_rounds_match_the_region_chain(
    cast, county, computed, django_assert_num_queries
):
    """`ancestors_in_scope` builds the breadcrumb from what is loaded (no query for a
    township or a village seen from the county), and falls back to one query when the gap
    is deeper; `rounds_for_region` finds the county with or without the ancestors."""
    from households.selectors import region_get_for_user
    from povertyapp import roles
    from rounds import dashboards
    from rounds.models import AdjustmentRound

    round, _h = computed
    county_rounds = list(AdjustmentRound.objects.filter(county=county.county).order_by("-year"))
    assert round in county_rounds
    for user, code, queries in (
        (cast.county, "522622000000", 0),
        (cast.county, "522622100000", 0),
        (cast.county, "522622100200", 0),
        (cast.county, "522622100200001", 1),  # a group: the village's parent is not loaded
        (cast.township, "522622100200001", 0),
        (cast.cadre, "522622100200", 0),
    ):
        user.region  # noqa: B018  (loaded, as the request has it by then)
        region = region_get_for_user(user=user, code=code)
        expected = [node for node in region.ancestors() if roles.region_in_scope(user, node)]
        region = region_get_for_user(user=user, code=code)
        with django_assert_num_queries(queries):
            ancestors = dashboards.ancestors_in_scope(user=user, region=region)
        assert [node.code for node in ancestors] == [node.code for node in expected], code
        assert list(dashboards.rounds_for_region(region, ancestors=ancestors)) == county_rounds
        assert list(dashboards.rounds_for_region(region)) == county_rounds
    assert not dashboards.rounds_for_region(county.province).exists()


def test_child_rows_read_only_the_columns_they_show(county, computed):
    """The children's JSON breakdowns are not read (only the child's own dashboard shows
    them); the region's trend is the same with or without the rounds handed in."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rounds import dashboards

    round, _h = computed
    with CaptureQueriesContext(connection) as captured:
        children = dashboards.child_snapshots(region=county.county, round=round)
    assert [child["region__code"] for child in children] == ["522622100000", "522622101000"]
    assert set(children[0]) == set(dashboards.CHILD_COLUMNS)
    sql = captured.captured_queries[0]["sql"]
    assert "cause_counts" not in sql and "status_counts" not in sql
    rounds_ = list(dashboards.rounds_for_region(county.county))
    with_rounds = dashboards.trend(region=county.county, rounds=rounds_)
    without = dashboards.trend(region=county.county)
    assert [(item.pk, item.round.pk) for item in with_rounds] == [
        (item.pk, item.round.pk) for item in without
    ]


def test_cached_site_navigation_follows_the_language(cast, client_for, computed):
    """base.html caches the navigation links per language: switching shows the other one."""
    client = client_for(cast.county)
    assert (
        '<a href="/households/">农户档案</a>'
        in client.get("/dashboards/522622000000/").content.decode()
    )
    client.post("/i18n/setlang/", {"language": "en", "next": "/dashboards/"})
    text = client.get("/dashboards/522622000000/").content.decode()
    assert '<a href="/households/">Household records</a>' in text
    assert "Indicator dashboard" in text and "农户档案" not in text
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/dashboards/"})
    assert "农户档案" in client.get("/dashboards/522622000000/").content.decode()


def test_every_level_shows_the_western_threshold_inherited_from_the_province(
    cast, county, client_for, computed
):
    """Only the province is marked 西部地区: the county shows < 3 %, the township < 3 % and the
    village ≤ 3 % for 贫困发生率, in the page and in the API (issue 13: < 2 % / ≤ 2 %)."""
    from povertyapp.models import Region

    Region.objects.exclude(level=Region.Level.PROVINCE).update(is_western=False)
    client = client_for(cast.county)
    for code, rule in (
        ("522622000000", "<"),
        ("522622100000", "<"),
        ("522622100200", "≤"),
    ):
        rows = {
            row["key"]: row for row in client.get(f"/dashboards/{code}/").context["figure_rows"]
        }
        assert (rows["incidence"]["limit_rule"], rows["incidence"]["limit"]) == (rule, "3.00%")
        payload = _api(cast.county).get(f"/api/v1/regions/{code}/rates/").json()
        assert payload["thresholds"]["comprehensive_incidence"] == "0.03"
        assert payload["thresholds"]["village_incidence"] == "0.03"
        region = _api(cast.county).get(f"/api/v1/regions/{code}/").json()
        assert region["is_western"] is True


def test_as_of_date_shows_the_figures_as_they_stood_and_refuses_a_bad_date(
    cast, client_for, computed
):
    """`?as_of=` shows the status counts and 贫困发生率 of that day from the events; a date that
    is not one, or in the future, gets a Chinese message (never a 500) and nothing else."""
    import datetime

    from django.utils import timezone

    from povertyapp.models import Region
    from rounds import figures

    client = client_for(cast.county)
    today = timezone.localdate()
    response = client.get("/dashboards/522622000000/", {"as_of": today.isoformat()})
    assert response.status_code == 200
    as_of = response.context["as_of"]
    county = Region.objects.get(code="522622000000")
    expected = figures.status_counts_on(region=county, day=today)
    assert {row["label"]: (row["households"], row["persons"]) for row in as_of["rows"]} == {
        str(Household.Status(status).label): (values["households"], values["persons"])
        for status, values in expected.items()
    }
    assert as_of["incidence"] == figures.incidence_on(region=county, day=today)
    assert "截至" in response.content.decode()
    before = client.get("/dashboards/522622000000/", {"as_of": "2000-01-01"})
    assert before.context["as_of"]["rows"] == []
    for bad, message in (
        ("2020-02-30", "输入一个有效的日期。"),
        ("明天", "输入一个有效的日期。"),
        ((today + datetime.timedelta(days=1)).isoformat(), "查询日期不能晚于今天。"),
    ):
        response = client.get("/dashboards/522622000000/", {"as_of": bad})
        assert response.status_code == 200
        assert "as_of" not in response.context
        assert response.context["as_of_form"].errors["as_of"] == [message]
        assert message in response.content.decode()
