"""The assistance workbooks (issue 16): 帮扶措施, 结对帮扶, 项目库. Each: a good file written, one
bad row refusing the whole file with nothing written, the same file again a no-op, the roles
that may not import refused; the pages and the commands over the same code."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from assistance import services
from assistance.imports import import_measures, import_pairings, import_projects
from assistance.imports.measures import SHEET as MEASURE_SHEET
from assistance.imports.projects import BENEFICIARY_SHEET, PROJECT_SHEET
from assistance.models import AssistanceEvent, Measure, Pairing, Project
from povertyapp.models import Job, User
from tests import factories
from tests.conftest import login

CENTRAL = "中央财政专项扶贫资金"
ROWS = 10000
MEASURE_HEADERS = [column.header for column in MEASURE_SHEET.columns]
PAIRING_HEADERS = [
    "户编号",
    "帮扶责任人",
    "工作单位",
    "职务",
    "联系电话",
    "帮扶开始日期",
    "帮扶结束日期",
]
PROJECT_HEADERS = [column.header for column in PROJECT_SHEET.columns]


def workbook(tmp_path, sheets: dict[str, list[list]], name: str = "book.xlsx") -> str:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return str(path)


def row(headers: list[str], **values) -> list:
    return [values.get(header) for header in headers]


def measure_row(household, **values) -> list:
    base = {
        "户编号": household.number,
        "帮扶年度": 2020,
        "措施类别": "产业帮扶",
        "措施内容": "养殖黄牛2头",
        "计划开始日期": "2020-03-01",
        "帮扶资金（元）": 6000,
        "资金来源": "整合资金",
    }
    return row(MEASURE_HEADERS, **(base | values))


def _messages(error) -> str:
    return "\n".join(error.value.messages)


@pytest.fixture
def village_project(cast, county):
    return services.project_create(
        actor=cast.county,
        data={
            "code": "HP-2020-001",
            "name": "凤场村肉牛养殖",
            "category": "产业",
            "region": county.village_a,
            "year": 2020,
            "responsible_unit": "县农业农村局",
        },
        fundings={CENTRAL: "100000"},
    )


@pytest.fixture
def other_village_project(cast, county):
    return services.project_create(
        actor=cast.county,
        data={
            "code": "HP-2020-009",
            "name": "西垭村通组路",
            "category": "基础设施",
            "region": county.village_b,
            "year": 2020,
            "responsible_unit": "县交通运输局",
        },
        fundings={CENTRAL: "50000"},
    )


# --- 帮扶措施 -------------------------------------------------------------------------------------


def test_measures_good_file_is_written_with_its_project_and_reimport_is_a_no_op(
    tmp_path, cast, household_a, village_project
):
    member = household_a.members.filter(is_active=True).order_by("id").first()
    path = workbook(
        tmp_path,
        {
            "帮扶措施": [
                MEASURE_HEADERS,
                measure_row(household_a, 项目编号="HP-2020-001"),
                measure_row(
                    household_a,
                    证件号码=member.id_number,
                    措施类别="技能培训",
                    措施内容="参加电工技能培训",
                    实际开始日期="2020-04-01",
                    实际完成日期="2020-05-01",
                    状态="已完成",
                    帮扶成效="取得电工证",
                    **{"帮扶资金（元）": None, "资金来源": None, "增收效果（元/年）": 3000},
                ),
            ]
        },
    )
    result = import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    linked = Measure.objects.get(content="养殖黄牛2头")
    assert linked.project == village_project
    assert linked.amount == Decimal("6000.00")
    trained = Measure.objects.get(content="参加电工技能培训")
    assert trained.member == member
    assert trained.status == Measure.Status.COMPLETED
    assert trained.actual_start == datetime.date(2020, 4, 1)
    assert trained.income_effect == Decimal("3000.00")
    events = AssistanceEvent.objects.count()

    again = import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Measure.objects.count() == 2
    assert AssistanceEvent.objects.count() == events


def test_measures_on_several_sheets_are_all_read(tmp_path, cast, household_a, village_project):
    """A 帮扶措施 table continued on “帮扶措施（2）” (a ledger past a worksheet's rows, or a
    sheet per township) is read whole; a row's problem names its own sheet. Before, the
    second sheet's measures were left out without a word."""
    first = measure_row(household_a, 项目编号="HP-2020-001")
    second = measure_row(household_a, 措施内容="养殖山羊5只", 措施类别="产业帮扶")
    sheets = {"帮扶措施": [MEASURE_HEADERS, first], "帮扶措施（2）": [MEASURE_HEADERS, second]}
    result = import_measures(actor=cast.cadre, path=workbook(tmp_path, sheets), max_rows=ROWS)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert sorted(Measure.objects.values_list("content", flat=True)) == [
        "养殖山羊5只",
        "养殖黄牛2头",
    ]
    bad = measure_row(household_a, 措施内容="修缮住房", 措施类别="没有这个类别")
    sheets["帮扶措施（2）"].append(bad)
    with pytest.raises(ValidationError) as caught:
        import_measures(
            actor=cast.cadre, path=workbook(tmp_path, sheets, "bad.xlsx"), max_rows=ROWS
        )
    assert "“帮扶措施（2）”第3行" in _messages(caught)
    assert Measure.objects.count() == 2


def test_measures_changed_row_updates_the_measure_and_moves_its_status_on(
    tmp_path, cast, household_a
):
    first = workbook(tmp_path, {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a)]}, "a.xlsx")
    import_measures(actor=cast.cadre, path=first, max_rows=ROWS)
    changed = measure_row(
        household_a, 状态="实施中", 实际开始日期="2020-03-05", **{"帮扶资金（元）": 6500}
    )
    path = workbook(tmp_path, {"帮扶措施": [MEASURE_HEADERS, changed]}, "b.xlsx")
    result = import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert (result.created, result.updated) == (0, 1)
    measure = Measure.objects.get()
    assert measure.amount == Decimal("6500.00")
    assert measure.status == Measure.Status.IN_PROGRESS
    assert measure.actual_start == datetime.date(2020, 3, 5)
    assert measure.version == 3  # the plan changed, then the status


def test_measures_status_cannot_go_back(tmp_path, cast, household_a):
    done = measure_row(household_a, 状态="已完成", 实际完成日期="2020-06-01", 帮扶成效="已出栏")
    import_measures(
        actor=cast.cadre,
        path=workbook(tmp_path, {"帮扶措施": [MEASURE_HEADERS, done]}, "a.xlsx"),
        max_rows=ROWS,
    )
    path = workbook(tmp_path, {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a)]}, "b.xlsx")
    with pytest.raises(ValidationError) as error:
        import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert "措施状态不能从“已完成”改为“计划”" in _messages(error)
    assert Measure.objects.get().status == Measure.Status.COMPLETED


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"措施类别": "发钱"}, "不在帮扶措施类别代码表中"),
        ({"帮扶资金（元）": "abc"}, "应为数字"),
        ({"状态": "已完成"}, "请填写实际完成日期"),
        ({"状态": "作废"}, "状态“作废”无效"),
        ({"项目编号": "HP-2020-009"}, "不是本户所在村或所在乡镇、县的未关闭项目"),
        ({"证件号码": "522622199001011234"}, "不是本户的在户成员"),
    ],
)
def test_measures_one_bad_row_refuses_the_whole_file(
    tmp_path, cast, household_a, other_village_project, values, message
):
    path = workbook(
        tmp_path,
        {
            "帮扶措施": [
                MEASURE_HEADERS,
                measure_row(household_a, 措施内容="好的一行"),
                measure_row(household_a, **values),
            ]
        },
    )
    with pytest.raises(ValidationError) as error:
        import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert message in _messages(error)
    assert "第3行" in _messages(error)
    assert Measure.objects.count() == 0
    assert AssistanceEvent.objects.filter(kind="measure_added").count() == 0


def test_measures_of_a_household_outside_the_scope_are_refused(
    tmp_path, cast, household_a, household_b
):
    path = workbook(
        tmp_path,
        {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a), measure_row(household_b)]},
    )
    with pytest.raises(ValidationError) as error:
        import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert "不在您的管辖范围内" in _messages(error)
    assert Measure.objects.count() == 0


@pytest.mark.parametrize("role", ["auditor", "helper", "township"])
def test_measures_import_refused_to_read_only_roles(tmp_path, cast, household_a, role):
    path = workbook(tmp_path, {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a)]})
    with pytest.raises(PermissionDenied):
        import_measures(actor=getattr(cast, role), path=path, max_rows=ROWS)
    assert Measure.objects.count() == 0


def test_a_file_without_the_sheet_is_refused(tmp_path, cast):
    path = workbook(tmp_path, {"Sheet": [["姓名", "年龄"], ["张三", 30]]})
    with pytest.raises(ValidationError) as error:
        import_measures(actor=cast.cadre, path=path, max_rows=ROWS)
    assert "未找到“帮扶措施”表" in _messages(error)


# --- 结对帮扶 -------------------------------------------------------------------------------------


def test_pairings_change_of_helper_closes_the_previous_line_and_reimport_is_a_no_op(
    tmp_path, cast, county, household_a, household_b
):
    account = factories.user("wangwu", User.Role.HELPER, county.village_a, full_name="王五")
    path = workbook(
        tmp_path,
        {
            "结对帮扶": [
                PAIRING_HEADERS,
                row(
                    PAIRING_HEADERS,
                    户编号=household_a.number,
                    帮扶责任人="helper",
                    帮扶开始日期="2019-01-01",
                ),
                row(
                    PAIRING_HEADERS,
                    户编号=household_a.number,
                    帮扶责任人="王五",
                    工作单位="县教育局",
                    帮扶开始日期="2021-03-01",
                ),
                row(
                    PAIRING_HEADERS,
                    户编号=household_b.number,
                    帮扶责任人="赵六",
                    帮扶开始日期="2020-01-01",
                    帮扶结束日期="2022-12-31",
                ),
            ]
        },
    )
    result = import_pairings(actor=cast.county, path=path, max_rows=ROWS)
    assert (result.created, result.unchanged) == (2, 1)
    old = Pairing.objects.get(household=household_a, name="helper")
    assert old.end_date == datetime.date(2021, 2, 28)
    new = Pairing.objects.get(household=household_a, end_date__isnull=True)
    assert (new.name, new.helper, new.unit) == ("王五", account, "县教育局")
    ended = Pairing.objects.get(household=household_b)
    assert ended.end_date == datetime.date(2022, 12, 31)
    count, events = Pairing.objects.count(), AssistanceEvent.objects.count()

    again = import_pairings(actor=cast.county, path=path, max_rows=ROWS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (Pairing.objects.count(), AssistanceEvent.objects.count()) == (count, events)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"帮扶开始日期": "2018-06-01"}, "不能在已有记录之前插入历史"),
        ({"帮扶开始日期": None}, "请填写帮扶开始日期"),
        ({"帮扶开始日期": "2099-01-01"}, "不能晚于今天"),
        ({"帮扶结束日期": "2019-12-31"}, "不能早于帮扶开始日期"),
    ],
)
def test_pairings_one_bad_row_refuses_the_whole_file(
    tmp_path, cast, household_a, household_b, values, message
):
    path = workbook(
        tmp_path,
        {
            "结对帮扶": [
                PAIRING_HEADERS,
                row(
                    PAIRING_HEADERS,
                    户编号=household_b.number,
                    帮扶责任人="赵六",
                    帮扶开始日期="2020-01-01",
                ),
                row(
                    PAIRING_HEADERS,
                    **(
                        {
                            "户编号": household_a.number,
                            "帮扶责任人": "王五",
                            "帮扶开始日期": "2020-06-01",
                        }
                        | values
                    ),
                ),
            ]
        },
    )
    with pytest.raises(ValidationError) as error:
        import_pairings(actor=cast.county, path=path, max_rows=ROWS)
    assert message in _messages(error)
    assert list(Pairing.objects.values_list("name", "end_date")) == [("helper", None)]


def test_pairings_import_refused_to_the_helper(tmp_path, cast, household_a):
    path = workbook(tmp_path, {"结对帮扶": [PAIRING_HEADERS]})
    with pytest.raises(PermissionDenied):
        import_pairings(actor=cast.helper, path=path, max_rows=ROWS)


# --- 项目库 ---------------------------------------------------------------------------------------


def project_row(county, **values) -> list:
    base = {
        "项目编号": "HP-2021-001",
        "项目名称": "凤场村蔬菜大棚",
        "项目类别": "产业",
        "实施地点代码": county.village_a.code,
        "年度": 2021,
        f"{CENTRAL}（元）": 100000,
        "社会帮扶（元）": 20000.5,
        "责任单位": "县农业农村局",
        "计划开工日期": "2021-03-01",
        "受益户数": 1,
    }
    return row(PROJECT_HEADERS, **(base | values))


def project_book(tmp_path, county, household, *extra_rows, beneficiaries=None, name="p.xlsx"):
    return workbook(
        tmp_path,
        {
            "项目库": [
                PROJECT_HEADERS,
                project_row(county, 实际开工日期="2021-03-10"),
                project_row(
                    county,
                    项目编号="HP-2021-002",
                    项目名称="全县产业路",
                    项目类别="基础设施",
                    实施地点代码=county.county.code,
                    受益户数=None,
                    **{"社会帮扶（元）": None},
                ),
                *extra_rows,
            ],
            "受益户": [
                ["项目编号", "户编号"],
                *(
                    beneficiaries
                    if beneficiaries is not None
                    else [["HP-2021-001", household.number]]
                ),
            ],
        },
        name,
    )


def test_projects_good_file_is_written_and_reimport_is_a_no_op(tmp_path, cast, county, household_a):
    path = project_book(tmp_path, county, household_a)
    result = import_projects(actor=cast.county, path=path, max_rows=ROWS)
    assert (result.created, result.unchanged) == (2, 0)
    greenhouse = Project.objects.get(code="HP-2021-001")
    assert greenhouse.budget_total == Decimal("120000.50")
    assert dict(greenhouse.fundings.values_list("source", "amount")) == {
        CENTRAL: Decimal("100000.00"),
        "社会帮扶": Decimal("20000.50"),
    }
    assert list(greenhouse.beneficiaries.all()) == [household_a]
    assert greenhouse.status == Project.Status.IN_PROGRESS
    assert greenhouse.actual_start == datetime.date(2021, 3, 10)
    assert Project.objects.get(code="HP-2021-002").region == county.county
    events = AssistanceEvent.objects.count()

    again = import_projects(actor=cast.county, path=path, max_rows=ROWS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Project.objects.count() == 2
    assert AssistanceEvent.objects.count() == events


def test_projects_reimport_adds_new_beneficiaries_only(tmp_path, cast, county, household_a):
    import_projects(
        actor=cast.county, path=project_book(tmp_path, county, household_a), max_rows=ROWS
    )
    other = factories.household(actor=cast.county, village=county.village_a2)
    path = project_book(
        tmp_path,
        county,
        household_a,
        beneficiaries=[["HP-2021-002", other.number]],
        name="more.xlsx",
    )
    result = import_projects(actor=cast.county, path=path, max_rows=ROWS)
    assert (result.updated, result.unchanged) == (1, 1)
    assert list(Project.objects.get(code="HP-2021-002").beneficiaries.all()) == [other]
    assert list(Project.objects.get(code="HP-2021-001").beneficiaries.all()) == [household_a]


@pytest.mark.parametrize(
    ("extra", "beneficiaries", "message"),
    [
        ([["HP-2021-003", "坏项目", "产业", "999999999999", 2021]], None, "实施地点代码"),
        ([["HP-2021-001", "重复", "产业", "522622100200", 2021]], None, "项目编号与第2行重复"),
        ([], [["HP-2021-001", "522622-不存在"]], "户编号不存在"),
        ([], [["HP-2021-009", "522622-不存在"]], "不在“项目库”表中"),
    ],
)
def test_projects_one_bad_row_refuses_the_whole_file(
    tmp_path, cast, county, household_a, extra, beneficiaries, message
):
    rows = [
        row(PROJECT_HEADERS, **dict(zip(PROJECT_HEADERS, line, strict=False))) for line in extra
    ]
    path = project_book(tmp_path, county, household_a, *rows, beneficiaries=beneficiaries)
    with pytest.raises(ValidationError) as error:
        import_projects(actor=cast.county, path=path, max_rows=ROWS)
    assert message in _messages(error)
    assert Project.objects.count() == 0


def test_projects_beneficiary_count_must_match_the_listed_households(
    tmp_path, cast, county, household_a
):
    other = factories.household(actor=cast.county, village=county.village_a)
    listed = [["HP-2021-001", household_a.number], ["HP-2021-001", other.number]]
    path = project_book(tmp_path, county, household_a, beneficiaries=listed)
    with pytest.raises(ValidationError) as error:
        import_projects(actor=cast.county, path=path, max_rows=ROWS)
    assert "受益户数（1）与“受益户”表中本项目的户数（2）不一致" in _messages(error)
    assert Project.objects.count() == 0


def test_projects_existing_code_with_other_content_is_refused(tmp_path, cast, county, household_a):
    import_projects(
        actor=cast.county, path=project_book(tmp_path, county, household_a), max_rows=ROWS
    )
    path = workbook(
        tmp_path,
        {"项目库": [PROJECT_HEADERS, project_row(county, 项目名称="改了名字")]},
        "renamed.xlsx",
    )
    with pytest.raises(ValidationError) as error:
        import_projects(actor=cast.county, path=path, max_rows=ROWS)
    assert "项目名称" in _messages(error)
    assert Project.objects.get(code="HP-2021-001").name == "凤场村蔬菜大棚"


@pytest.mark.parametrize("role", ["cadre", "township", "auditor"])
def test_projects_import_only_for_the_county_office(tmp_path, cast, county, household_a, role):
    path = project_book(tmp_path, county, household_a)
    with pytest.raises(PermissionDenied):
        import_projects(actor=getattr(cast, role), path=path, max_rows=ROWS)
    assert Project.objects.count() == 0


# --- templates, pages, commands -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "user", "sheets"),
    [
        ("measures", "cadre", ["帮扶措施"]),
        ("pairings", "cadre", ["结对帮扶"]),
        ("projects", "county", ["项目库", "受益户"]),
    ],
)
def test_template_has_the_chinese_headers_the_import_reads(tmp_path, cast, kind, user, sheets):
    response = login(getattr(cast, user)).get(f"/ledgers/import/assistance/{kind}/template/")
    assert response.status_code == 200
    path = tmp_path / "template.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    book = load_workbook(path)
    for name in sheets:
        assert name in book.sheetnames
    headers = [cell.value for cell in book[sheets[0]][1]]
    expected = {
        "measures": MEASURE_HEADERS,
        "pairings": PAIRING_HEADERS,
        "projects": PROJECT_HEADERS,
    }
    assert headers == expected[kind]
    if kind == "projects":
        assert [cell.value for cell in book["受益户"][1]] == [
            column.header for column in BENEFICIARY_SHEET.columns
        ]


def test_blank_template_imports_as_a_file_without_rows(tmp_path, cast):
    response = login(cast.cadre).get("/ledgers/import/assistance/measures/template/")
    path = tmp_path / "template.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    with pytest.raises(ValidationError) as error:
        import_measures(actor=cast.cadre, path=str(path), max_rows=ROWS)
    assert _messages(error) == "文件中没有帮扶措施。"


def test_page_upload_runs_the_import_job(
    tmp_path, settings, cast, household_a, django_capture_on_commit_callbacks
):
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = workbook(tmp_path, {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a)]})
    client = login(cast.cadre)
    assert client.get("/ledgers/import/assistance/measures/").status_code == 200
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ledgers/import/assistance/measures/", {"file": handle})
    job = Job.objects.get(kind="assistance.measures_import")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result == {"created": 1, "updated": 0, "unchanged": 0}
    assert Measure.objects.count() == 1


def test_page_upload_of_a_bad_file_leaves_the_problem_workbook(
    tmp_path, settings, cast, household_a, django_capture_on_commit_callbacks
):
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = workbook(
        tmp_path, {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a, 措施类别="发钱")]}
    )
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        login(cast.cadre).post("/ledgers/import/assistance/measures/", {"file": handle})
    job = Job.objects.get(kind="assistance.measures_import")
    assert job.status == Job.Status.FAILED
    assert "不在帮扶措施类别代码表中" in job.error
    assert job.result_file
    assert Measure.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "allowed", "refused"),
    [
        ("measures", ["cadre", "county"], ["helper", "township", "auditor"]),
        ("pairings", ["cadre", "county"], ["helper", "township", "auditor"]),
        ("projects", ["county"], ["cadre", "helper", "township", "auditor"]),
    ],
)
def test_import_pages_open_for_the_roles_that_may_import(cast, kind, allowed, refused):
    for name in allowed:
        assert (
            login(getattr(cast, name)).get(f"/ledgers/import/assistance/{kind}/").status_code == 200
        )
    for name in refused:
        assert (
            login(getattr(cast, name)).get(f"/ledgers/import/assistance/{kind}/").status_code == 403
        )


def test_commands_import_and_report_problems(tmp_path, cast, county, household_a, capsys):
    good = project_book(tmp_path, county, household_a)
    call_command("import_projects", good, "--user", "county")
    assert "新增2条" in capsys.readouterr().out
    call_command("import_projects", good, "--user", "county")
    assert "无变化2条" in capsys.readouterr().out
    bad = workbook(
        tmp_path,
        {"帮扶措施": [MEASURE_HEADERS, measure_row(household_a, 措施类别="发钱")]},
        "m.xlsx",
    )
    with pytest.raises(CommandError):
        call_command("import_measures", bad, "--user", "cadre")
    assert "第2行" in capsys.readouterr().err
    assert Measure.objects.count() == 0
