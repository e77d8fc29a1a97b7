"""Above the county (issue 16): the city and province figures are the sums of their counties'
numerators and denominators, computed by a chord after the counties' jobs, idempotently."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from povertyapp.models import Job, Region, User, VillageYear
from rounds import rollup
from rounds import services as rounds
from rounds.models import RateSnapshot, RollupSnapshot
from tests import factories

SUMMED = rollup.SUMMED


@pytest.fixture
def province(cast, county, household_a, household_b):
    """The fixture county (黄平县 under 黔东南州) and two more: 施秉县 in the same city and
    遵义市's 正安县, each with a village, households and a round of 2020."""
    second_city = factories.region("520300000000", "遵义市", Region.Level.CITY, county.province)
    built = {"huangping": (county.county, [county.village_a, county.village_a2, county.village_b])}
    for key, code, name, city in (
        ("shibing", "522623000000", "施秉县", county.city),
        ("zhengan", "520324000000", "正安县", second_city),
    ):
        county_region = factories.region(code, name, Region.Level.COUNTY, city)
        township = factories.region(
            code[:6] + "100000", "城关镇", Region.Level.TOWNSHIP, county_region
        )
        village = factories.region(code[:6] + "100200", "新村", Region.Level.VILLAGE, township)
        for _index in range(3 if key == "shibing" else 2):
            factories.household(actor=cast.county, village=village)
        built[key] = (county_region, [village])
    rounds_by_county = {}
    for key, (county_region, villages) in built.items():
        for index, village in enumerate(villages):
            VillageYear.objects.create(
                village=village,
                year=2020,
                registered_rural_population=400 + 37 * index + len(key),
                total_households=100,
            )
        officer = factories.user(f"officer_{key}", User.Role.COUNTY_OFFICER, county_region)
        rounds_by_county[key] = rounds.round_open(actor=officer, county=county_region, year=2020)
    return {"second_city": second_city, "counties": built, "rounds": rounds_by_county}


def _county_rows(province):
    return [
        RateSnapshot.objects.get(region=county_region, round=province["rounds"][key])
        for key, (county_region, _villages) in province["counties"].items()
    ]


def test_the_province_job_fans_out_and_rolls_up_the_sums(
    cast, county, province, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        county_jobs, rollup_job = rollup.province_rates_enqueue(
            user=cast.county, region=county.province, year=2020
        )
    assert len(county_jobs) == 3
    for job in [*county_jobs, rollup_job]:
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error
    assert rollup_job.result["counties"] == 3
    counties = _county_rows(province)
    top = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert top.counties == top.counties_expected == 3
    for name in SUMMED:
        assert getattr(top, name) == sum(getattr(row, name) for row in counties), name
    # The rate is the quotient of the sums, not an average of the counties' rates.
    assert top.incidence_denominator > 0
    assert top.incidence_rate == (
        Decimal(top.incidence_numerator) / Decimal(top.incidence_denominator)
    ).quantize(Decimal("0.00000001"))
    poor = sum(row.status_counts.get("poor", {}).get("persons", 0) for row in counties)
    assert top.status_counts["poor"]["persons"] == poor
    # Each city: its own counties only.
    city = RollupSnapshot.objects.get(region=county.city, year=2020)
    assert city.counties == 2
    for name in SUMMED:
        assert getattr(city, name) == sum(getattr(row, name) for row in counties[:2]), name
    other = RollupSnapshot.objects.get(region=province["second_city"], year=2020)
    assert other.incidence_denominator == counties[2].incidence_denominator


def test_a_rerun_replaces_the_rows(cast, county, province, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rollup.province_rates_enqueue(user=cast.county, region=county.province, year=2020)
    first = RollupSnapshot.objects.get(region=county.province, year=2020)
    RollupSnapshot.objects.filter(pk=first.pk).update(incidence_numerator=0, counties=0)
    with django_capture_on_commit_callbacks(execute=True):
        rollup.province_rates_enqueue(user=cast.county, region=county.province, year=2020)
    assert RollupSnapshot.objects.filter(year=2020).count() == 3  # province and two cities
    again = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert again.pk == first.pk
    assert (again.incidence_numerator, again.counties) == (first.incidence_numerator, 3)
    assert again.computed_at > first.computed_at


def test_the_roll_up_follows_the_stored_county_figures(cast, county, province):
    from rounds import rates

    for round in province["rounds"].values():
        rates.compute_rates(round=round)
    rollup.rollup_compute(region=county.province, year=2020)
    before = RollupSnapshot.objects.get(region=county.province, year=2020)
    shibing, _villages = province["counties"]["shibing"]
    RateSnapshot.objects.filter(region=shibing).update(
        omission_numerator=7, omission_denominator=1000
    )
    rollup.rollup_compute(region=county.province, year=2020)
    after = RollupSnapshot.objects.get(region=county.province, year=2020)
    others = [row for row in _county_rows(province) if row.region_id != shibing.pk]
    assert after.omission_numerator == 7 + sum(row.omission_numerator for row in others)
    assert after.omission_denominator == 1000 + sum(row.omission_denominator for row in others)
    assert after.omission_denominator != before.omission_denominator


def test_a_county_without_figures_is_named_missing(cast, county, province):
    from rounds import rates

    rates.compute_rates(round=province["rounds"]["huangping"])
    summary = rollup.rollup_compute(region=county.city, year=2020)
    assert summary["counties"] == 1
    assert summary["counties_expected"] == 2
    assert summary["missing"] == ["522623000000"]
    city = RollupSnapshot.objects.get(region=county.city, year=2020)
    county_row = RateSnapshot.objects.get(region=county.county, round__year=2020)
    assert city.incidence_numerator == county_row.incidence_numerator
    assert not RollupSnapshot.objects.filter(region=county.province).exists()


def test_a_county_is_no_roll_up(county):
    with pytest.raises(ValueError):
        rollup.rollup_compute(region=county.county, year=2020)


# --- the city and province dashboards, the rates API (issue 16) ---------------------------------


@pytest.fixture
def rolled(cast, county, province, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rollup.province_rates_enqueue(user=cast.county, region=county.province, year=2020)
    return province


@pytest.fixture
def officers(county):
    return {
        "city": factories.user("city", User.Role.CITY_OFFICER, county.city),
        "province": factories.user("province", User.Role.PROVINCE_OFFICER, county.province),
    }


def test_the_province_dashboard_shows_the_sums_and_its_cities(county, rolled, officers):
    from django.urls import reverse

    from tests.conftest import login

    top = RollupSnapshot.objects.get(region=county.province, year=2020)
    client = login(officers["province"])
    response = client.get(reverse("dashboards:region", args=[county.province.code]))
    assert response.status_code == 200
    # The second request is served from the cached body: the same page (the base template's
    # per-request values, such as the CSP nonce, and the 重新计算 form's CSRF token after the
    # body, aside).
    again = client.get(reverse("dashboards:region", args=[county.province.code]))

    def body(html: bytes) -> str:
        text = html.decode()
        return text[text.index('<nav class="small muted">') : text.index('<form method="post"')]

    assert body(again.content) == body(response.content)
    page = response.content.decode()
    assert "贵州省（省）汇总指标" in page
    assert "已汇总3个县（共3个）" in page
    # The figures table: the summed numerator and denominator of 贫困发生率.
    assert (
        f'<td class="num">{top.incidence_numerator}</td>'
        f'<td class="num">{top.incidence_denominator}</td>'
    ) in page
    # The child table: the two cities, each drilling down to its own dashboard of the year.
    assert f'href="/dashboards/{county.city.code}/?year=2020"' in page
    assert f'href="/dashboards/{rolled["second_city"].code}/?year=2020"' in page
    assert "因病" in page or "致贫原因构成" in page


def test_the_city_dashboard_drills_down_to_the_county_dashboard(county, rolled, officers):
    from django.urls import reverse

    from tests.conftest import login

    client = login(officers["city"])
    page = client.get(reverse("dashboards:region", args=[county.city.code])).content.decode()
    round_id = rolled["rounds"]["huangping"].pk
    link = f'href="/dashboards/{county.county.code}/?round={round_id}"'
    assert link in page
    assert "施秉县" in page and "正安县" not in page  # 正安县 is 遵义市's
    county_page = client.get(f"/dashboards/{county.county.code}/?round={round_id}")
    assert county_page.status_code == 200
    text = county_page.content.decode()
    # The way up, and no link to the names behind a number (case data).
    assert f'href="/dashboards/{county.city.code}/?year=2020"' in text
    assert "/households/?round=" not in text
    assert "四类名单</a>" not in text


def test_a_county_officer_sees_no_link_up_and_keeps_the_households_links(cast, county, rolled):
    from tests.conftest import login

    round_id = rolled["rounds"]["huangping"].pk
    text = (
        login(cast.county).get(f"/dashboards/{county.county.code}/?round={round_id}")
    ).content.decode()
    assert "dashboard-up" not in text
    assert "/households/?round=" in text
    assert login(cast.county).get(f"/dashboards/{county.city.code}/").status_code == 404


def test_the_offices_above_read_no_case_data(county, rolled, officers, household_a):
    from tests.conftest import login

    client = login(officers["province"])
    round_id = rolled["rounds"]["huangping"].pk
    refused = client.get(
        f"/dashboards/{county.county.code}/households/?round={round_id}&list=removed"
    )
    assert refused.status_code == 403
    assert client.get("/households/").status_code == 403
    assert client.get(f"/households/{household_a.pk}/").status_code == 403
    listed = client.get("/api/v1/households/")  # the API's lists: empty, as for a department
    assert listed.status_code == 200
    assert household_a.number not in listed.content.decode()


def test_a_city_office_sees_only_its_subtree(county, rolled, officers):
    from tests.conftest import login

    client = login(officers["city"])
    assert client.get(f"/dashboards/{county.province.code}/").status_code == 404
    assert client.get(f"/dashboards/{rolled['second_city'].code}/").status_code == 404
    assert client.get(f"/api/v1/regions/{county.province.code}/rates/").status_code == 404


def test_the_rates_api_gives_the_roll_up(county, rolled, officers):
    from tests.conftest import login

    client = login(officers["province"])
    response = client.get(f"/api/v1/regions/{county.province.code}/rates/?year=2020")
    assert response.status_code == 200
    body = response.json()
    top = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert body["round"] is None
    assert body["year"] == 2020
    assert body["counties"] == {"included": 3, "expected": 3, "missing": []}
    assert body["figures"]["incidence"]["numerator"] == top.incidence_numerator
    assert body["figures"]["incidence"]["denominator"] == top.incidence_denominator
    assert client.get(f"/api/v1/regions/{county.province.code}/rates/?year=1999").status_code == (
        404
    )
    # A county's figures through the same endpoint: its round, no counties.
    county_body = client.get(f"/api/v1/regions/{county.county.code}/rates/").json()
    assert county_body["year"] == 2020 and county_body["counties"] is None


def test_a_province_without_a_roll_up_says_so(county, officers):
    from tests.conftest import login

    response = login(officers["province"]).get(f"/dashboards/{county.province.code}/")
    assert response.status_code == 200
    assert "该区域尚无汇总指标。" in response.content.decode()


def test_the_nightly_run_rolls_the_open_rounds_up(
    cast, county, province, django_capture_on_commit_callbacks
):
    from rounds.tasks import compute_open_rounds_task

    with django_capture_on_commit_callbacks(execute=True):
        assert compute_open_rounds_task() == 4  # three counties and the province's roll-up
    top = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert top.counties == 3
    assert top.incidence_denominator == sum(
        row.incidence_denominator for row in _county_rows(province)
    )


# --- the cached city and province pages: a handful of statements, never stale --------------------


def test_a_cached_roll_up_page_reads_the_state_and_nothing_else(
    county, rolled, officers, django_assert_num_queries
):
    from tests.conftest import login

    client = login(officers["province"])
    for code in (county.province.code, county.city.code):
        assert client.get(f"/dashboards/{code}/").status_code == 200  # renders, fills the cache
        # The session, the user with its region, the region asked for, and the state of its
        # subtree (`dashboards.rollup_state`): no snapshot, trend or child row is read.
        with django_assert_num_queries(4) as captured:
            assert client.get(f"/dashboards/{code}/").status_code == 200
        statements = " ".join(query["sql"] for query in captured.captured_queries)
        # Each snapshot table once, inside the state statement.
        assert statements.count(f'"{RollupSnapshot._meta.db_table}"') == 0
        assert statements.count(RollupSnapshot._meta.db_table) == 1
        assert statements.count(RateSnapshot._meta.db_table) == 1


def _completeness_cell(snapshot) -> str:
    from rounds.dashboard_views import _percent

    return f'<td class="num">{_percent(snapshot.completeness_rate)}</td>'


def _child_row(page: str, name: str) -> str:
    start = page.index(f">{name}</a></td>")
    return page[start : page.index("</tr>", start)]


def _completeness_stat(snapshot) -> str:
    from django.contrib.humanize.templatetags.humanize import intcomma

    return (
        f"{intcomma(snapshot.completeness_numerator)} / "
        f"{intcomma(snapshot.completeness_denominator)} 项"
    )


def test_a_recomputed_county_and_roll_up_show_at_the_next_request(cast, county, rolled, officers):
    from households.models import Household
    from rounds import rates
    from tests.conftest import login

    client = login(officers["province"])
    province_url = f"/dashboards/{county.province.code}/"
    city_url = f"/dashboards/{county.city.code}/"
    before = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert _completeness_stat(before) in client.get(province_url).content.decode()
    shibing, (village,) = rolled["counties"]["shibing"]
    shibing_round = rolled["rounds"]["shibing"]
    shibing_before = RateSnapshot.objects.get(region=shibing, round=shibing_round)
    city_page = client.get(city_url).content.decode()
    assert _completeness_cell(shibing_before) in _child_row(city_page, "施秉县")

    # Two fields of 施秉县's three households emptied (信息录入率 falls), then the county
    # recomputed: the city's page lists the county's new figures at once, before any roll-up.
    Household.objects.filter(village=village).update(fuel_type="", road_type="")
    rates.compute_rates(round=shibing_round)
    shibing_after = RateSnapshot.objects.get(region=shibing, round=shibing_round)
    assert shibing_after.completeness_numerator == shibing_before.completeness_numerator - 6
    assert _completeness_cell(shibing_after) != _completeness_cell(shibing_before)
    city_page = client.get(city_url).content.decode()
    assert _completeness_cell(shibing_after) in _child_row(city_page, "施秉县")

    # The roll-up recomputed: the province's page shows the new sums at the next request.
    assert _completeness_stat(before) in client.get(province_url).content.decode()
    rollup.rollup_compute(region=county.province, year=2020)
    after = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert after.completeness_numerator == before.completeness_numerator - 6
    page = client.get(province_url).content.decode()
    assert _completeness_stat(after) in page
    assert _completeness_stat(before) not in page


def test_a_renamed_county_shows_at_the_next_request(county, rolled, officers):
    from povertyapp.models import RegionName
    from tests.conftest import login

    client = login(officers["city"])
    url = f"/dashboards/{county.city.code}/"
    assert "施秉县" in client.get(url).content.decode()
    shibing, _villages = rolled["counties"]["shibing"]
    # What the region import does on a rename (households/onboarding/regions.py): the former
    # name is recorded, then the region renamed (regions are read-only in the admin).
    RegionName.objects.create(
        region=shibing, name=shibing.name, code=shibing.code, valid_to=datetime.date(2026, 1, 1)
    )
    Region.objects.filter(pk=shibing.pk).update(name="施秉新县")
    page = client.get(url).content.decode()
    assert "施秉新县" in page
    assert "施秉县" not in page


# --- the fan-out started from the province's (or city's) dashboard, and by command -----------


def test_the_province_office_starts_the_fan_out_from_its_dashboard(
    county, province, officers, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from povertyapp.models import AccessLog
    from tests.conftest import login

    client = login(officers["province"])
    page = client.get(f"/dashboards/{county.province.code}/")
    start = reverse("rounds:rollup-start", args=[county.province.code])
    assert f'action="{start}"' in page.content.decode()
    assert RollupSnapshot.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start, {"year": "2020"})
    rollup_job = Job.objects.get(kind=rollup.KIND)
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:rollup-run", args=[rollup_job.pk])
    assert rollup_job.created_by == officers["province"]
    county_jobs = Job.objects.filter(pk__in=rollup_job.parameters["county_jobs"])
    assert county_jobs.count() == 3
    assert {job.created_by for job in county_jobs} == {None}  # the system's, for the office
    rollup_job.refresh_from_db()
    assert rollup_job.status == Job.Status.SUCCEEDED, rollup_job.error
    top = RollupSnapshot.objects.get(region=county.province, year=2020)
    assert top.counties == 3
    log = AccessLog.objects.get(action="rollup_start")
    assert (log.user, log.object_id) == (officers["province"], str(rollup_job.pk))
    assert log.detail == {"region": county.province.code, "year": 2020, "county_jobs": 3}
    run = client.get(response["Location"])
    assert run.status_code == 200
    assert run.context["run"]["done"] == run.context["run"]["total"] == 4
    assert run.context["run"]["percent"] == 100
    body = run.content.decode()
    for name in ("黄平县", "施秉县", "正安县"):
        assert name in body
    assert "every 2s" not in body  # finished: no more polling
    # The run page is the starter's alone.
    assert login(officers["city"]).get(response["Location"]).status_code == 404


def test_a_city_office_starts_its_own_city_only(
    county, province, officers, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.conftest import login

    client = login(officers["city"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("rounds:rollup-start", args=[county.city.code]), {"year": 2020}
        )
    assert response.status_code == 302
    assert RollupSnapshot.objects.get(region=county.city, year=2020).counties == 2
    assert not RollupSnapshot.objects.filter(region=county.province).exists()
    jobs_before = Job.objects.count()
    refused = client.post(
        reverse("rounds:rollup-start", args=[county.province.code]), {"year": 2020}
    )
    assert refused.status_code == 404
    assert Job.objects.count() == jobs_before


def test_the_start_is_refused_to_the_county_and_for_a_year_without_rounds(
    cast, county, province, officers
):
    from django.urls import reverse

    from tests.conftest import login

    start = reverse("rounds:rollup-start", args=[county.province.code])
    county_page = login(cast.county).get(f"/dashboards/{county.county.code}/").content.decode()
    assert "rollup/" not in county_page
    assert login(cast.county).post(start, {"year": 2020}).status_code in (403, 404)
    assert login(cast.township).post(start, {"year": 2020}).status_code in (403, 404)
    response = login(officers["province"]).post(start, {"year": 2019})
    assert response.status_code == 302
    assert response["Location"] == f"/dashboards/{county.province.code}/"
    assert Job.objects.filter(kind=rollup.KIND).count() == 0
    with pytest.raises(PermissionDenied):
        rollup.province_rates_start(user=cast.county, region=county.province, year=2020)
    with pytest.raises(ValidationError) as no_rounds:
        rollup.province_rates_start(user=officers["province"], region=county.province, year=2019)
    assert no_rounds.value.code == "no_rounds"


def test_the_command_fans_out_a_province_and_rolls_it_up(
    county, province, capsys, django_capture_on_commit_callbacks
):
    from django.core.management import CommandError, call_command

    from povertyapp.models import AccessLog

    # Outside a test the chord is sent at once (autocommit); here, when the test's
    # transaction would commit.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("compute_rates", province=county.province.code)
    out = capsys.readouterr().out
    rollup_job = Job.objects.get(kind=rollup.KIND)
    assert "贵州省2020年：已发起 3 个县的指标计算" in out
    assert f"完成后汇总（任务 #{rollup_job.pk}）" in out
    rollup_job.refresh_from_db()
    assert rollup_job.created_by is None
    assert rollup_job.status == Job.Status.SUCCEEDED
    assert AccessLog.objects.get(action="rollup_start").username == "manage.py"
    assert RollupSnapshot.objects.get(region=county.province, year=2020).counties == 3
    with pytest.raises(CommandError, match="不是市或省"):
        call_command("compute_rates", province=county.county.code)
    with pytest.raises(CommandError, match="没有2019年"):
        call_command("compute_rates", province=county.province.code, year=2019)
