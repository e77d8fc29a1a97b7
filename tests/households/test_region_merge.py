"""A region merge (撤并, issue 16): everything live that points at the merged village follows
it to the survivor (households, users, data problems, the village-year rows from the merge's
year with their resident teams, open projects, sponsors, clues), what records the past stays
with the ended village, and a merge that would mix two villages' data of a year, or write into
a signed year, is refused with the reason and writes nothing."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from assistance import services as assistance_services
from assistance.models import Project, VillageSponsor
from households import quality
from households.models import DataProblem, Household
from households.onboarding import import_regions
from povertyapp import jobs, roles, yearlock
from povertyapp.models import Region, ResidentTeamMember, User, VillageYear
from tests import factories

REGION_HEADER = ["统计用区划代码", "名称", "城乡分类代码", "层级"]
MERGE_HEADER = ["原区划代码", "原名称", "并入区划代码", "撤并日期"]
MERGE_DAY = datetime.date(2025, 7, 1)


def _merge_file(tmp_path: Path) -> str:
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets: dict[str, list[list[Any]]] = {
        "行政区划": [REGION_HEADER, ["522622100200", "凤场村", "220", ""]],
        "撤并": [MERGE_HEADER, ["522622100201", "龙坪村", "522622100200", MERGE_DAY]],
    }
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "merge.xlsx"
    book.save(path)
    return str(path)


@pytest.fixture
def merged_village(cast, county):
    """龙坪村 (village A2) with a household, a cadre, a data problem, village-year rows of
    2024 (before the merge) and 2025 (its year) with a resident team, an open and a closed
    project and a sponsor of 2025."""
    household = factories.household(actor=cast.county, village=county.village_a2, main_cause="因学")
    cadre = factories.user("cadre_a2", User.Role.VILLAGE_CADRE, county.village_a2)
    job = jobs.job_create(user=cast.county, kind=quality.JOB_KIND, region=county.county)
    assert jobs.job_run(job.pk).status == "succeeded"
    problem = DataProblem.objects.get(household=household, rule="cause_study")
    problems = DataProblem.objects.filter(village=county.village_a2).count()
    assert problems >= 1
    past = VillageYear.objects.create(
        village=county.village_a2, year=2024, registered_rural_population=300, total_households=80
    )
    current = VillageYear.objects.create(
        village=county.village_a2, year=2025, registered_rural_population=310, total_households=81
    )
    team = ResidentTeamMember.objects.create(village_year=current, name="王书记", post="第一书记")
    projects = {}
    for code in ("HP-2025-001", "HP-2025-002"):
        projects[code] = assistance_services.project_create(
            actor=cast.county,
            data={
                "code": code,
                "name": f"龙坪村项目{code[-1]}",
                "category": "产业",
                "region": county.village_a2,
                "year": 2025,
                "responsible_unit": "县农业农村局",
            },
            fundings={"中央财政专项扶贫资金": "10000"},
        )
    Project.objects.filter(pk=projects["HP-2025-002"].pk).update(status=Project.Status.CLOSED)
    sponsor = VillageSponsor.objects.create(village=county.village_a2, year=2025, unit="县财政局")
    return {
        "household": household,
        "cadre": cadre,
        "problem": problem,
        "problems": problems,
        "past": past,
        "current": current,
        "team": team,
        "open_project": projects["HP-2025-001"],
        "closed_project": projects["HP-2025-002"],
        "sponsor": sponsor,
    }


def test_a_merge_moves_what_lives_on_and_leaves_the_past(tmp_path, county, merged_village):
    report = import_regions(actor=None, path=_merge_file(tmp_path), dry_run=False)
    assert report.errors == []
    assert (report.ended, report.households_moved) == (1, 1)
    assert report.rows_moved == {
        "users": 1,
        "data_problems": merged_village["problems"],
        "village_years": 1,
        "projects": 1,
        "assets": 0,
        "village_sponsors": 1,
        "clues": 0,
    }
    survivor = county.village_a
    for key in ("household",):
        merged_village[key].refresh_from_db()
    assert merged_village["household"].village_id == survivor.pk
    cadre = User.objects.get(pk=merged_village["cadre"].pk)
    assert cadre.region_id == survivor.pk
    # The cadre keeps working: the moved household is in their scope.
    assert (
        roles.household_scope(cadre, Household.objects.all())
        .filter(pk=merged_village["household"].pk)
        .exists()
    )
    assert DataProblem.objects.get(pk=merged_village["problem"].pk).village_id == survivor.pk
    assert VillageYear.objects.get(pk=merged_village["current"].pk).village_id == survivor.pk
    assert ResidentTeamMember.objects.get(pk=merged_village["team"].pk).village_year.village_id == (
        survivor.pk
    )
    assert VillageYear.objects.get(pk=merged_village["past"].pk).village_id == county.village_a2.pk
    assert Project.objects.get(pk=merged_village["open_project"].pk).region_id == survivor.pk
    assert Project.objects.get(pk=merged_village["closed_project"].pk).region_id == (
        county.village_a2.pk
    )
    assert VillageSponsor.objects.get(pk=merged_village["sponsor"].pk).village_id == survivor.pk
    # Nothing live is left on the ended village but the past.
    assert not User.objects.filter(region=county.village_a2).exists()
    assert not Household.objects.filter(village=county.village_a2).exists()
    assert not DataProblem.objects.filter(village=county.village_a2).exists()
    again = import_regions(actor=None, path=_merge_file(tmp_path), dry_run=False)
    assert (again.errors, again.changed) == ([], 0)


def test_a_merge_that_would_mix_two_villages_year_data_is_refused(tmp_path, county, merged_village):
    VillageYear.objects.create(
        village=county.village_a, year=2025, registered_rural_population=500, total_households=120
    )
    report = import_regions(actor=None, path=_merge_file(tmp_path), dry_run=False)
    assert len(report.errors) == 1
    assert "都有2025年的村年度信息" in report.errors[0].message
    assert report.written is False
    village = Region.objects.get(pk=county.village_a2.pk)
    assert (village.ended_on, village.merged_into_id) == (None, None)
    merged_village["household"].refresh_from_db()
    assert merged_village["household"].village_id == county.village_a2.pk
    assert User.objects.get(pk=merged_village["cadre"].pk).region_id == county.village_a2.pk


def test_a_merge_into_a_signed_year_is_refused(tmp_path, county, merged_village):
    yearlock.lock(county=county.county, year=2025, actor=None)
    report = import_regions(actor=None, path=_merge_file(tmp_path), dry_run=False)
    assert len(report.errors) == 1
    assert report.errors[0].message.startswith("2025年度已由县级签署封账")
    assert Region.objects.get(pk=county.village_a2.pk).ended_on is None
    assert VillageYear.objects.get(pk=merged_village["current"].pk).village_id == (
        county.village_a2.pk
    )


def test_a_sponsor_on_both_villages_is_refused(tmp_path, county, merged_village):
    VillageSponsor.objects.create(village=county.village_a, year=2025, unit="县财政局")
    report = import_regions(actor=None, path=_merge_file(tmp_path), dry_run=False)
    assert len(report.errors) == 1
    assert "同一帮扶单位“县财政局”" in report.errors[0].message
    assert Region.objects.get(pk=county.village_a2.pk).ended_on is None
