"""Onboarding imports (issue 16): the region tree from the statistical division codes, the
village-year data and the resident teams. Each: a good file, one bad row (the whole file refused,
nothing written, the row named), a re-import that changes nothing; renames, re-codings and merges
keep ids, history and households' villages; GBK CSV; a province file; the pages and commands."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from households import services
from households.forms import HouseholdForm
from households.imports.report import ImportRefused
from households.models import Household, VillageStatusCount
from households.onboarding import (
    OnboardingReport,
    import_regions,
    import_resident_teams,
    import_village_years,
)
from povertyapp.models import Job, Region, RegionName, ResidentTeamMember, VillageYear
from tests import factories
from tests.conftest import login

REGION_HEADER = ["统计用区划代码", "名称", "城乡分类代码", "层级"]
# A county published by the statistics office, as its CSV (code, name, 城乡分类代码).
COUNTY_ROWS = [
    ["450000000000", "广西壮族自治区", "", ""],
    ["451000000000", "百色市", "", ""],
    ["451026000000", "那坡县", "", ""],
    ["451026100000", "城厢镇", "121", ""],
    ["451026100001", "城厢社区居委会", "111", ""],
    ["451026100201", "达腊村委会", "220", ""],
    ["451026101000", "平孟镇", "210", ""],
    ["451026101201", "弄汤村委会", "220", ""],
]


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")


def _csv(
    tmp_path: Path, rows: list[list[str]], *, encoding: str = "utf-8", name="codes.csv"
) -> str:
    path = tmp_path / name
    text = "\n".join(",".join(row) for row in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return str(path)


def _xlsx(tmp_path: Path, sheets: dict[str, list[list[Any]]], *, name="file.xlsx") -> str:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return str(path)


def _tree() -> list[tuple[str, str, str, str, str]]:
    return sorted(
        (region.code, region.name, region.level, region.path, region.urban_rural_code)
        for region in Region.objects.all()
    )


def _messages(report: OnboardingReport) -> list[tuple[str, int, str, str]]:
    return [(error.sheet, error.row, error.column, error.message) for error in report.errors]


# --- regions -------------------------------------------------------------------------------


def test_a_county_csv_loads_the_tree_and_a_reimport_changes_nothing(db, tmp_path):
    path = _csv(tmp_path, [REGION_HEADER[:3], *[row[:3] for row in COUNTY_ROWS]])
    report = import_regions(actor=None, path=path, dry_run=False)
    assert (report.errors, report.created, report.written) == ([], 8, True)
    village = Region.objects.get(code="451026100201")
    assert (village.level, village.parent.code, village.urban_rural_code) == (
        Region.Level.VILLAGE,
        "451026100000",
        "220",
    )
    assert village.path == "/450000000000/451000000000/451026000000/451026100000/451026100201/"
    before = _tree()
    again = import_regions(actor=None, path=path, dry_run=False)
    assert (again.errors, again.changed, again.unchanged) == ([], 0, 8)
    assert "共0条变化" in again.summary()
    assert _tree() == before


def test_a_gbk_csv_is_read_as_gbk(db, tmp_path):
    path = _csv(tmp_path, [REGION_HEADER[:3], *[row[:3] for row in COUNTY_ROWS]], encoding="gbk")
    report = import_regions(actor=None, path=path, dry_run=False)
    assert report.errors == []
    assert Region.objects.get(code="451026101201").name == "弄汤村委会"


def test_a_dry_run_counts_and_writes_nothing(db, tmp_path):
    path = _csv(tmp_path, [REGION_HEADER[:3], *[row[:3] for row in COUNTY_ROWS]])
    report = import_regions(actor=None, path=path, dry_run=True)
    assert (report.created, report.written, Region.objects.count()) == (8, False, 0)


def test_a_province_workbook_loads_cities_counties_and_a_county_under_the_province(db, tmp_path):
    rows = [
        REGION_HEADER,
        ["420000000000", "湖北省", "", "省"],
        ["420100000000", "武汉市", "", "市"],
        ["420102000000", "江岸区", "", "县"],
        ["420102001000", "大智街道", "111", "乡镇"],
        ["420102001001", "大智社区", "111", "行政村"],
        ["422800000000", "恩施土家族苗族自治州", "", "市"],
        ["422801000000", "恩施市", "", "县"],
        ["422801100000", "龙凤镇", "121", "乡镇"],
        ["422801100201", "青堡村", "220", "行政村"],
        # 省直辖县级行政区划: a county directly under the province (no city row holds it).
        ["429004000000", "仙桃市", "", "县"],
        ["429004100000", "郑场镇", "210", "乡镇"],
        ["429004100201", "游潭村", "220", "行政村"],
    ]
    report = import_regions(actor=None, path=_xlsx(tmp_path, {"行政区划": rows}), dry_run=False)
    assert (report.errors, report.created) == ([], 12)
    xiantao = Region.objects.get(code="429004000000")
    assert (xiantao.level, xiantao.parent.code) == (Region.Level.COUNTY, "420000000000")
    assert Region.objects.get(code="429004100201").path == (
        "/420000000000/429004000000/429004100000/429004100201/"
    )
    assert Region.objects.filter(path__startswith="/420000000000/").count() == 12


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (["45102610020", "短代码村", "220", ""], "统计用区划代码", "应为12位数字"),
        (["451026109201", "无上级村", "220", ""], "统计用区划代码", "上级区划451026109000不存在"),
        (["451026100202", "层级错村", "220", "乡镇"], "层级", "与区划代码不符"),
        (["451026100201", "重复村", "220", ""], "统计用区划代码", "在第7行已出现"),
        (["451026100203", "怪分类村", "999", ""], "城乡分类代码", "城乡分类代码应为"),
    ],
    ids=["bad_code", "unknown_parent", "level_mismatch", "duplicate", "bad_urban_rural"],
)
def test_one_bad_row_refuses_the_whole_file(db, tmp_path, row, column, message):
    path = _csv(tmp_path, [REGION_HEADER, *COUNTY_ROWS, row])
    report = import_regions(actor=None, path=path, dry_run=False)
    assert Region.objects.count() == 0
    assert report.written is False
    assert [(e.row, e.column) for e in report.errors] == [(10, column)]
    assert message in report.errors[0].message


def test_a_rename_keeps_the_id_and_the_former_name(db, county, tmp_path):
    rows = [REGION_HEADER, ["522622100200", "凤凰村", "220", ""]]
    report = import_regions(actor=None, path=_csv(tmp_path, rows), dry_run=False)
    assert (report.errors, report.updated) == ([], 1)
    village = Region.objects.get(pk=county.village_a.pk)
    assert (village.name, village.code, village.urban_rural_code) == (
        "凤凰村",
        "522622100200",
        "220",
    )
    assert list(RegionName.objects.values_list("region", "name", "code")) == [
        (village.pk, "凤场村", "522622100200")
    ]
    again = import_regions(actor=None, path=_csv(tmp_path, rows), dry_run=False)
    assert (again.changed, RegionName.objects.count()) == (0, 1)


def test_a_recoded_village_keeps_its_id_households_and_groups_and_its_old_code(
    db, cast, county, household_a, tmp_path
):
    rows = [
        ["统计用区划代码", "名称", "原区划代码"],
        # 凤场村 moves from 新州镇 to 旧州镇 with a new code.
        ["522622101205", "凤场村", "522622100200"],
    ]
    path = _csv(tmp_path, rows)
    report = import_regions(actor=None, path=path, dry_run=False)
    assert (report.errors, report.updated) == ([], 1)
    village = Region.objects.get(pk=county.village_a.pk)
    assert (village.code, village.parent_id) == ("522622101205", county.township2.pk)
    assert village.path == "/520000000000/522600000000/522622000000/522622101000/522622101205/"
    group = Region.objects.get(pk=county.group_a1.pk)
    assert group.path == village.path + "522622100200001/"
    household_a.refresh_from_db()
    assert household_a.village_id == village.pk
    assert RegionName.objects.get(region=village).code == "522622100200"
    # The township reviewer of 新州镇 no longer sees it; the county office still does.
    from povertyapp import roles

    assert not roles.household_scope(cast.township, Household.objects.all()).exists()
    assert roles.household_scope(cast.county, Household.objects.all()).get() == household_a
    again = import_regions(actor=None, path=path, dry_run=False)
    assert (again.errors, again.changed) == ([], 0)


def test_a_merge_moves_the_households_and_ends_the_merged_village(
    db, cast, county, household_a, tmp_path
):
    moved = factories.household(actor=cast.county, village=county.village_a2)
    sheets = {
        "行政区划": [REGION_HEADER, ["522622100200", "凤场村", "220", ""]],
        "撤并": [
            ["原区划代码", "原名称", "并入区划代码"],
            ["522622100201", "龙坪村", "522622100200"],
        ],
    }
    path = _xlsx(tmp_path, sheets)
    report = import_regions(actor=None, path=path, dry_run=False)
    assert (report.errors, report.ended, report.households_moved) == ([], 1, 1)
    moved.refresh_from_db()
    assert moved.village_id == county.village_a.pk
    counts = dict(
        VillageStatusCount.objects.filter(households__gt=0).values_list("village", "households")
    )
    assert counts == {county.village_a.pk: 2}
    ended = Region.objects.get(pk=county.village_a2.pk)
    assert (ended.merged_into_id, ended.ended_on is not None) == (county.village_a.pk, True)
    # Ended, not deleted, and no longer offered nor accepted for a household.
    form = HouseholdForm(user=cast.county, lists={})
    offered = {value for value, _label in form.fields["village"].widget.choices}
    assert county.village_a2.pk not in offered and county.village_a.pk in offered
    with pytest.raises(Exception) as refused:
        factories.household(actor=cast.county, village=ended)
    assert "已撤并" in str(refused.value)
    again = import_regions(actor=None, path=path, dry_run=False)
    assert (again.errors, again.changed) == ([], 0)


def test_a_merge_column_in_the_main_sheet_works_as_the_merge_sheet(db, cast, county, tmp_path):
    rows = [["统计用区划代码", "名称", "并入区划代码"], ["522622100201", "龙坪村", "522622101200"]]
    report = import_regions(actor=None, path=_csv(tmp_path, rows), dry_run=False)
    assert (report.errors, report.ended) == ([], 1)
    assert Region.objects.get(pk=county.village_a2.pk).merged_into_id == county.village_b.pk


def test_a_merge_into_another_level_is_refused(db, county, tmp_path):
    sheets = {
        "行政区划": [REGION_HEADER, ["522622100200", "凤场村", "220", ""]],
        "撤并": [["原区划代码", "并入区划代码"], ["522622100201", "522622101000"]],
    }
    report = import_regions(actor=None, path=_xlsx(tmp_path, sheets), dry_run=False)
    assert _messages(report)[0][:3] == ("撤并", 2, "并入区划代码")
    assert Region.objects.get(pk=county.village_a2.pk).ended_on is None
    assert Region.objects.get(pk=county.village_a.pk).urban_rural_code == ""


def test_a_county_officer_cannot_touch_another_county(db, cast, county, tmp_path):
    rows = [
        REGION_HEADER,
        ["522623100201", "外县村", "220", ""],
        ["522623000000", "施秉县", "", ""],
    ]
    rows.insert(2, ["522623100000", "城关镇", "121", ""])
    report = import_regions(actor=cast.county, path=_csv(tmp_path, rows), dry_run=False)
    assert {error.message for error in report.errors} == {
        f"区划{code}不在您的管辖范围内，不能导入或修改。"
        for code in ("522623000000", "522623100000", "522623100201")
    }
    assert not Region.objects.filter(code__startswith="522623").exists()


# --- village years and resident teams --------------------------------------------------------

VILLAGE_YEAR_HEADER = [
    "村代码",
    "户籍人口",
    "户籍农业人口",
    "总户数",
    "贫困村",
    "出列年度",
    "深度贫困村",
    "村情分类",
    "第一书记",
    "第一书记电话",
]


def _village_years(tmp_path, *rows: list[Any]) -> str:
    return _xlsx(tmp_path, {"村年度信息": [VILLAGE_YEAR_HEADER, *rows]}, name="villages.xlsx")


GOOD_VILLAGES = (
    ["522622100200", 1200, 1100, 310, "是", 2019, "否", "差", "王书记", "13800000001"],
    ["522622100201", 900, 850, 240, "否", None, "否", "好", "", ""],
)


def test_village_years_import_and_reimport_is_a_no_op(db, cast, county, tmp_path):
    path = _village_years(tmp_path, *GOOD_VILLAGES)
    report = import_village_years(actor=cast.county, path=path, year=2020, dry_run=False)
    assert (report.errors, report.created) == ([], 2)
    item = VillageYear.objects.get(village=county.village_a, year=2020)
    assert (
        item.registered_population,
        item.registered_rural_population,
        item.total_households,
        item.is_poor_village,
        item.exit_year,
        item.condition,
        item.first_secretary,
    ) == (1200, 1100, 310, True, 2019, "差", "王书记")
    again = import_village_years(actor=cast.county, path=path, year=2020, dry_run=False)
    assert (again.errors, again.changed, again.unchanged) == ([], 0, 2)


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        (["522622999200", 10, 9, 3, "否", None, "否", "中", "", ""], "村代码", "不存在"),
        (["522622101200", 10, 9, 3, "否", 2019, "否", "中", "", ""], "出列年度", "只有贫困村"),
        (["522622101200", 10, 12, 3, "否", None, "否", "中", "", ""], "户籍农业人口", "不能多于"),
        (["522622101200", 10, 9, 3, "否", None, "否", "优", "", ""], "村情分类", "好”“中”或“差"),
        (["522622101200", 10, "很多", 3, "否", None, "否", "中", "", ""], "户籍农业人口", "整数"),
    ],
    ids=["unknown_village", "exit_without_poor", "rural_over_total", "condition", "not_a_number"],
)
def test_one_bad_village_row_refuses_the_whole_file(
    db, cast, county, tmp_path, bad, column, message
):
    path = _village_years(tmp_path, *GOOD_VILLAGES, bad)
    report = import_village_years(actor=cast.county, path=path, year=2020, dry_run=False)
    assert [(error.row, error.column) for error in report.errors] == [(4, column)]
    assert message in report.errors[0].message
    assert VillageYear.objects.count() == 0


def test_a_village_outside_the_scope_is_refused(db, cast, county, tmp_path):
    path = _village_years(tmp_path, GOOD_VILLAGES[0])
    report = import_village_years(actor=cast.cadre2, path=path, year=2020, dry_run=False)
    assert "不在您的管辖范围内" in report.errors[0].message
    assert VillageYear.objects.count() == 0


TEAM_HEADER = ["村代码", "年度", "姓名", "职务", "派出单位", "联系电话", "驻村天数"]


def _teams(tmp_path, *rows: list[Any]) -> str:
    return _xlsx(tmp_path, {"驻村工作队": [TEAM_HEADER, *rows]}, name="teams.xlsx")


def test_resident_teams_import_and_reimport_is_a_no_op(db, cast, county, tmp_path):
    import_village_years(
        actor=None, path=_village_years(tmp_path, *GOOD_VILLAGES), year=2020, dry_run=False
    )
    path = _teams(
        tmp_path,
        ["522622100200", 2020, "王书记", "第一书记", "县财政局", "13800000001", 230],
        ["522622100200", 2020, "李队员", "队员", "县农业农村局", "", 180],
    )
    report = import_resident_teams(actor=cast.county, path=path, dry_run=False)
    assert (report.errors, report.created) == ([], 2)
    members = ResidentTeamMember.objects.filter(village_year__village=county.village_a)
    assert sorted(
        (m.name, m.post, m.days_resident, m.meets_residence_requirement) for m in members
    ) == [
        ("李队员", "队员", 180, False),
        ("王书记", "第一书记", 230, True),
    ]
    again = import_resident_teams(actor=cast.county, path=path, dry_run=False)
    assert (again.errors, again.changed) == ([], 0)


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        (["522622100200", 2020, "张三", "组长", "", "", 200], "职务", "职务应为"),
        (["522622100200", 2021, "张三", "队员", "", "", 200], "年度", "尚未导入"),
        (["522622100200", 2020, "张三", "队员", "", "", 400], "驻村天数", "366"),
        (["522622100200", 2020, "王书记", "队员", "", "", 200], "姓名", "在第2行已出现"),
    ],
    ids=["post", "no_village_year", "days", "duplicate"],
)
def test_one_bad_team_row_refuses_the_whole_file(db, cast, county, tmp_path, bad, column, message):
    import_village_years(
        actor=None, path=_village_years(tmp_path, *GOOD_VILLAGES), year=2020, dry_run=False
    )
    path = _teams(tmp_path, ["522622100200", 2020, "王书记", "第一书记", "", "", 230], bad)
    report = import_resident_teams(actor=cast.county, path=path, dry_run=False)
    assert [(error.row, error.column) for error in report.errors] == [(3, column)]
    assert message in report.errors[0].message
    assert ResidentTeamMember.objects.count() == 0


# --- pages and commands ----------------------------------------------------------------------


def test_the_county_office_imports_regions_on_the_page_through_a_job(
    db, cast, county, tmp_path, django_capture_on_commit_callbacks
):
    client = login(cast.county)
    assert client.get(reverse("households:import_regions")).status_code == 200
    rows = [REGION_HEADER, ["522622100200", "凤凰村", "220", ""]]
    upload = io.BytesIO(Path(_csv(tmp_path, rows)).read_bytes())
    upload.name = "区划.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("households:import_regions"), {"file": upload})
    job = Job.objects.get(kind="households.onboarding_import")
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert (job.status, job.result["updated"]) == (Job.Status.SUCCEEDED, 1)
    assert Region.objects.get(pk=county.village_a.pk).name == "凤凰村"
    page = client.get(reverse("households:import_regions")).content.decode()
    assert "共1条变化" in page
    assert "共1条变化" in client.get(response["Location"]).content.decode()


def test_a_file_with_errors_fails_its_job_with_an_error_workbook(
    db, cast, county, tmp_path, django_capture_on_commit_callbacks
):
    client = login(cast.county)
    path = _village_years(tmp_path, GOOD_VILLAGES[0], ["522622999200", 1, 1, 1, "否"])
    upload = io.BytesIO(Path(path).read_bytes())
    upload.name = "村.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("households:import_village_years"),
            {"file": upload, "dry_run": "on", "year": 2020},
        )
    job = Job.objects.get(kind="households.onboarding_import")
    assert job.status == Job.Status.FAILED
    assert "村年度信息第3行“村代码”" in job.error
    book = openpyxl.load_workbook(job.result_file.path)
    listing = list(book["错误清单"].iter_rows(values_only=True))
    assert listing[1][:3] == ("村年度信息", 3, "村代码")
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "文件中的记录均未保存" in page and "下载结果" in page
    assert VillageYear.objects.count() == 0


def test_a_read_only_role_cannot_open_the_pages(db, cast, county):
    for name in ("import_regions", "import_village_years", "import_resident_teams"):
        assert login(cast.township).get(reverse(f"households:{name}")).status_code == 403
        assert login(cast.sysadmin).get(reverse(f"households:{name}")).status_code == 403
    template = reverse("households:onboarding_template", args=["regions"])
    assert login(cast.auditor).get(template).status_code == 403


def test_the_templates_carry_the_chinese_headers(db, cast, county):
    client = login(cast.county)
    for what, sheet, header in (
        ("regions", "行政区划", "统计用区划代码"),
        ("village_years", "村年度信息", "户籍农业人口"),
        ("resident_teams", "驻村工作队", "驻村天数"),
    ):
        response = client.get(reverse("households:onboarding_template", args=[what]))
        book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        cells = {cell for row in book[sheet].iter_rows(values_only=True) for cell in row}
        assert header in cells
    assert client.get(reverse("households:onboarding_template", args=["x"])).status_code == 404


def test_a_filled_template_imports(db, cast, county, tmp_path):
    """The template's own layout (title, letterhead, 序号) reads back."""
    from households.onboarding import onboarding_template

    path = str(tmp_path / "template.xlsx")
    onboarding_template(path, what="village_years", user=cast.county)
    book = openpyxl.load_workbook(path)
    sheet = book["村年度信息"]
    header_row = next(
        index for index, row in enumerate(sheet.iter_rows(values_only=True), 1) if "村代码" in row
    )
    headers = [cell.value for cell in sheet[header_row]]
    values = {"村代码": "522622100200", "户籍农业人口": 800, "总户数": 200, "村情分类": "中"}
    for column, header in enumerate(headers, start=1):
        if header in values:
            sheet.cell(row=header_row + 1, column=column, value=values[header])
    book.save(path)
    report = import_village_years(actor=cast.county, path=path, year=2021, dry_run=False)
    assert (report.errors, report.created) == ([], 1)


def test_the_commands_import_and_refuse_with_row_errors(db, county, tmp_path, capsys):
    call_command(
        "import_regions", _csv(tmp_path, [REGION_HEADER, ["522622100200", "凤凰村", "", ""]])
    )
    assert "更新1条" in capsys.readouterr().out
    path = _village_years(tmp_path, *GOOD_VILLAGES)
    call_command("import_village_years", path, "--year", "2020")
    assert VillageYear.objects.count() == 2
    errors = str(tmp_path / "errors.xlsx")
    bad = _teams(tmp_path, ["522622100200", 2020, "张三", "组长", "", "", 200])
    with pytest.raises(CommandError, match="发现1处错误"):
        call_command("import_resident_teams", bad, "--errors", errors)
    assert "驻村工作队第2行“职务”" in capsys.readouterr().err
    assert Path(errors).exists() and ResidentTeamMember.objects.count() == 0


def test_a_household_write_is_refused_for_a_merged_village(db, cast, county, household_a):
    Region.objects.filter(pk=county.village_a2.pk).update(ended_on="2024-01-01")
    ended = Region.objects.get(pk=county.village_a2.pk)
    with pytest.raises(Exception, match="已撤并"):
        services.household_update(
            actor=cast.county,
            household=household_a,
            data={"village": ended},
            expected_version=household_a.version,
        )


@pytest.mark.parametrize(
    ("name", "content"),
    [("区划.csv", b"MZ\x90\x00\x03" + b"\0" * 64), ("区划.csv", b"%PDF-1.7\n" + b"0" * 64)],
    ids=["exe_named_csv", "pdf_named_csv"],
)
def test_a_binary_file_named_csv_is_refused_beside_the_field(db, cast, county, name, content):
    upload = io.BytesIO(content)
    upload.name = name
    response = login(cast.county).post(reverse("households:import_regions"), {"file": upload})
    assert response.status_code == 400
    assert "文件不是CSV文本文件" in response.content.decode()
    assert Job.objects.count() == 0


def test_a_county_officer_loads_its_branch_of_the_province_file(db, cast, county, tmp_path):
    """The ancestors' rows, unchanged, are accepted; the county's new village is created."""
    rows = [
        REGION_HEADER,
        ["520000000000", "贵州省", "", ""],
        ["522600000000", "黔东南苗族侗族自治州", "", ""],
        ["522622000000", "黄平县", "", ""],
        ["522622100000", "新州镇", "121", ""],
        ["522622100202", "新村", "220", ""],
    ]
    report = import_regions(actor=cast.county, path=_csv(tmp_path, rows), dry_run=False)
    assert (report.errors, report.created, report.updated, report.unchanged) == ([], 1, 1, 3)
    assert Region.objects.get(code="522622100202").parent_id == county.township1.pk


def test_a_township_merge_moves_its_villages_and_their_paths(
    db, cast, county, household_a, tmp_path
):
    sheets = {
        "行政区划": [REGION_HEADER, ["522622101000", "旧州镇", "", ""]],
        "撤并": [["原区划代码", "并入区划代码"], ["522622100000", "522622101000"]],
    }
    report = import_regions(actor=None, path=_xlsx(tmp_path, sheets), dry_run=False)
    assert (report.errors, report.ended) == ([], 1)
    village = Region.objects.get(pk=county.village_a.pk)
    assert (village.parent_id, village.path) == (
        county.township2.pk,
        "/520000000000/522600000000/522622000000/522622101000/522622100200/",
    )
    assert Region.objects.get(pk=county.group_a1.pk).path == village.path + "522622100200001/"
    from povertyapp import roles

    household_a.refresh_from_db()
    assert household_a.village_id == village.pk
    assert not roles.household_scope(cast.township, Household.objects.all()).exists()


def test_two_sheets_of_one_table_are_refused(db, cast, county, tmp_path):
    """A second sheet with the 村年度信息 header would have been left out without a word: the
    file is refused, naming both sheets, and nothing is written."""
    path = _xlsx(
        tmp_path,
        {
            "村年度信息": [VILLAGE_YEAR_HEADER, GOOD_VILLAGES[0]],
            "村年度信息（2）": [VILLAGE_YEAR_HEADER, GOOD_VILLAGES[1]],
        },
    )
    with pytest.raises(ImportRefused) as caught:
        import_village_years(actor=cast.county, path=path, year=2020, dry_run=False)
    assert "“村年度信息”和“村年度信息（2）”两张表" in str(caught.value)
    assert VillageYear.objects.count() == 0
