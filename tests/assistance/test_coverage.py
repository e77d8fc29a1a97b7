"""The coverage job: gaps stored per run with the time computed, per-village table, rows."""

from __future__ import annotations

import datetime

import pytest

from assistance import selectors, services
from assistance.models import CoverageGap, CoverageRun
from assistance.tasks import COVERAGE_JOB, coverage_compute
from povertyapp import jobs
from povertyapp.models import Job
from tests import factories


@pytest.fixture
def registry(cast, county):
    """Village A: one household missing medical insurance for one member and a 金融帮扶;
    village B: a household receiving 低保 without the attribute (wrongful)."""
    a = factories.household(
        actor=cast.county,
        village=county.village_a,
        main_cause="缺资金",
        members=[factories.member_data(has_medical_insurance=False)],
    )
    b = factories.household(
        actor=cast.county,
        village=county.village_b,
        main_cause="缺资金",
        members=[factories.member_data(receives_dibao=True)],
    )
    services.measure_create(
        actor=cast.county,
        household=b,
        data={"year": 2020, "category": "金融帮扶", "content": "扶贫小额信贷5万元"},
    )
    return a, b


def test_coverage_run_stores_missing_and_wrongful_rows(registry, county):
    a, b = registry
    run = coverage_compute(region=county.county)
    gaps = {
        (g.household_id, g.member.name if g.member else None, g.rule.code, g.kind)
        for g in CoverageGap.objects.filter(run=run).select_related("member", "rule")
    }
    assert gaps == {
        (a.pk, "张三", "member-medical", "missing"),
        (a.pk, None, "cause-capital", "missing"),
        (b.pk, None, "attribute-dibao", "wrongful"),
    }
    assert (run.households, run.members, run.missing, run.wrongful) == (2, 2, 2, 1)
    assert run.computed_at is not None


def test_coverage_table_counts_per_village(registry, county):
    run = coverage_compute(region=county.county)
    table = {
        row["village"].name: (row["missing"], row["wrongful"])
        for row in selectors.coverage_table(run=run, region=county.county)
    }
    assert table == {"凤场村": (2, 0), "龙坪村": (0, 0), "西垭村": (0, 1)}


def test_above_the_county_the_table_counts_per_county(registry, county, cast):
    """A province-wide run: one row per county (never the province's 26,000 villages), each
    the sum of its villages, linking to its own villages through the region cascade."""
    from povertyapp.models import Region, User
    from tests.conftest import login

    other = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    run = coverage_compute(region=county.province)
    by_village = selectors.coverage_table(run=run, region=county.county)
    table = {
        row["region"].name: (row["missing"], row["wrongful"])
        for row in selectors.coverage_table(run=run, region=county.province)
    }
    assert table == {
        "黄平县": (
            sum(row["missing"] for row in by_village),
            sum(row["wrongful"] for row in by_village),
        ),
        other.name: (0, 0),
    }
    auditor = factories.user("provaudit", User.Role.AUDITOR, county.province)
    html = login(auditor).get("/assistance/coverage/").content.decode()
    assert f'href="?county={county.county.pk}"' in html and "凤场村" not in html
    html = login(auditor).get(f"/assistance/coverage/?county={county.county.pk}").content.decode()
    assert "凤场村" in html


def _cards(html: str) -> list[str]:
    """The stat cards' figures, in order (核查户数, 核查人数, 应享未享, 违规享受)."""
    import re

    stats = html[html.index('<div class="stats">') :]
    return re.findall(r'<span class="num">([^<]*)</span>', stats[: stats.index("<section")])


def test_a_run_shown_for_a_part_of_its_region_gives_that_part_s_figures(registry, county, cast):
    """A province's run viewed for one county (or a county's for one township): the cards and
    the per-rule table are the part's, the same as a run of the part alone would give, never
    the whole run's totals."""
    from povertyapp.models import Region, User
    from tests.conftest import login

    other = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    town = factories.region("522623100000", "城关镇", Region.Level.TOWNSHIP, other)
    village = factories.region("522623100201", "白垛村", Region.Level.VILLAGE, town)
    factories.household(
        actor=cast.county,
        village=village,
        main_cause="缺资金",
        members=[
            factories.member_data(has_medical_insurance=False),
            factories.member_data(
                name="李四", relation="配偶", sex="女", birth_date=datetime.date(1982, 3, 9)
            ),
        ],
    )
    alone = coverage_compute(region=county.county)
    run = coverage_compute(region=county.province)
    assert (run.households, run.members, run.missing, run.wrongful) == (3, 4, 4, 1)

    part = selectors.coverage_summary(run=run, region=county.county)
    assert part == {"households": 2, "members": 2, "missing": 2, "wrongful": 1}
    assert part == selectors.coverage_summary(run=alone, region=county.county)
    assert selectors.rules_summary(run, county.county) == selectors.rules_summary(alone)
    assert selectors.coverage_summary(run=run, region=other) == {
        "households": 1,
        "members": 2,
        "missing": 2,
        "wrongful": 0,
    }
    township = county.village_b.parent
    assert selectors.coverage_summary(run=alone, region=township)["households"] == sum(
        1 for v in (county.village_a, county.village_b) if v.parent_id == township.pk
    )

    auditor = factories.user("provaudit", User.Role.AUDITOR, county.province)
    html = login(auditor).get("/assistance/coverage/").content.decode()
    assert _cards(html) == ["3", "4", "4", "1"]
    html = login(auditor).get(f"/assistance/coverage/?county={county.county.pk}").content.decode()
    assert _cards(html) == ["2", "2", "2", "1"]
    assert "以下为黄平县范围内的结果" in html

    # A run stored before the tallies existed has no households to give for a part.
    run.tallies.all().delete()
    html = login(auditor).get(f"/assistance/coverage/?county={county.county.pk}").content.decode()
    assert _cards(html) == ["—", "—", "2", "1"]


def test_coverage_rows_respect_the_viewer_scope(registry, county, cast):
    run = coverage_compute(region=county.county)
    assert selectors.coverage_gaps(user=cast.cadre, run=run, village=county.village_b).count() == 0
    assert selectors.coverage_gaps(user=cast.cadre2, run=run, village=county.village_b).count() == 1


def test_coverage_runs_as_a_job_and_keeps_the_last_three(registry, county, cast):
    for _ in range(4):
        job = jobs.job_create(user=cast.county, kind=COVERAGE_JOB, region=county.county)
        job = jobs.job_run(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["missing"] == 2 and job.result["wrongful"] == 1
    assert CoverageRun.objects.filter(region=county.county).count() == 3
    assert CoverageGap.objects.count() == 9


def test_coverage_page_shows_computed_time_and_counts(registry, county, cast, client_for):
    run = coverage_compute(region=county.county)
    response = client_for(cast.county).get("/assistance/coverage/")
    text = response.content.decode()
    assert response.status_code == 200
    assert run.computed_at.astimezone(datetime.UTC).strftime("%Y") in text
    assert "西垭村" in text and "应享未享" in text
    rows = client_for(cast.cadre2).get(
        f"/assistance/coverage/{run.pk}/villages/{county.village_b.pk}/"
    )
    assert rows.status_code == 200
    assert "农村低保" in rows.content.decode()
    denied = client_for(cast.cadre).get(
        f"/assistance/coverage/{run.pk}/villages/{county.village_b.pk}/"
    )
    assert denied.status_code == 404


def test_starting_coverage_from_the_page_creates_a_job(
    registry, county, cast, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.township).post(
            "/assistance/coverage/run/", {"region": county.township1.pk}
        )
    job = Job.objects.get(kind=COVERAGE_JOB)
    assert response.status_code == 302
    assert job.region == county.township1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED  # eager Celery in tests
    run = CoverageRun.objects.get(job=job)
    assert run.missing == 2 and run.wrongful == 0


def test_a_cadre_cannot_start_coverage_outside_the_village(registry, county, cast, client_for):
    response = client_for(cast.cadre).post(
        "/assistance/coverage/run/", {"region": county.county.pk}
    )
    assert response.status_code == 404
    assert Job.objects.count() == 0


def test_the_sql_form_of_the_rules_agrees_with_the_orm_form(cast, county):
    """The job compiles the rules to SQL over aggregated facts; one household's page uses the
    ORM form. A varied set of households must give the same gaps both ways."""
    from assistance import matching
    from households.models import Household

    def make(**data):
        return factories.household(actor=cast.county, village=county.village_a, **data)

    make(
        main_cause="因病",
        members=[factories.member_data(health="患有大病", has_pension_insurance=False)],
    )
    make(
        main_cause="缺劳力",
        poverty_attribute="特困供养贫困户",
        house_grade="D",
        water_safe=None,
        members=[
            factories.member_data(
                birth_date=datetime.date(1945, 1, 1),
                labour_skill="无劳动力",
                work_status="无",
                work_months=0,
                receives_dibao=True,
            )
        ],
    )
    student = make(
        main_cause="因学",
        other_cause_1="缺资金",
        members=[
            factories.member_data(health="残疾", disability_certificate="52262219800517111X11"),
            factories.member_data(
                name="张小明",
                relation="之子",
                birth_date=datetime.date(2007, 2, 1),
                education="初中",
                school_status="高中一年级",
                labour_skill="",
                work_status="",
                work_months=0,
                has_pension_insurance=False,
            ),
        ],
    )
    services.measure_create(
        actor=cast.county,
        household=student,
        data={
            "year": 2020,
            "category": "教育帮扶",
            "content": "助学",
            "member": student.members.get(name="张三"),
        },
    )
    make(main_cause="缺技术", house_grade="A", water_safe=False, water_difficult=True)
    make(status=Household.Status.EXITED, main_cause="自身发展动力不足")
    on = datetime.date.today()
    rules = matching.rules_for(on.year)
    households = Household.objects.filter(village__path__startswith=county.county.path)
    orm = {
        (g.household_id, g.member_id, g.rule_id, g.kind)
        for g in matching.coverage_rows(households, rules, on=on)
    }
    run = coverage_compute(region=county.county)
    sql = set(
        CoverageGap.objects.filter(run=run).values_list(
            "household_id", "member_id", "rule_id", "kind"
        )
    )
    assert len(orm) >= 12
    assert sql == orm


def test_a_region_that_is_not_an_id_is_not_found(registry, county, cast, client_for):
    # Was a 500: the text reached filter(pk=...), which raises ValueError for "abc".
    client = client_for(cast.county)
    assert client.get("/assistance/coverage/?region=abc").status_code == 404
    assert client.post("/assistance/coverage/run/", {"region": "abc"}).status_code == 404
    assert Job.objects.filter(kind=COVERAGE_JOB).count() == 0
