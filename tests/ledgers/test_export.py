"""Ledger exports: layout, masking, formula neutralisation, scope, access log, jobs."""

from __future__ import annotations

import datetime
import os
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from households import services as household_services
from households.models import Household
from povertyapp.ledgers import layout
from povertyapp.ledgers.services import ledger_export_start, ledger_write
from povertyapp.models import AccessLog, Job
from tests import factories


def _write(tmp_path, user, key="households", filters=None):
    path = str(tmp_path / f"{key}.xlsx")
    result = ledger_write(user=user, key=key, filters=filters or {}, path=path)
    return path, result


def _sheet_xml(path: str, index: int = 1) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode()


def test_household_ledger_follows_the_government_layout(tmp_path, cast, household_a, household_b):
    household_services.income_set(
        actor=cast.county,
        household=household_a,
        year=2025,
        data={"wage": Decimal("12000.50"), "dibao": Decimal("1800")},
    )
    path, result = _write(tmp_path, cast.county, filters={"income_year": "2025"})
    assert result.rows == 2
    sheet = openpyxl.load_workbook(path)["户台账"]
    columns = sheet.max_column
    assert sheet["A1"].value == "建档立卡贫困户户台账（2025年度收入）"
    assert f"A1:{openpyxl.utils.get_column_letter(columns)}1" in {
        str(r) for r in sheet.merged_cells.ranges
    }
    assert sheet["A2"].value == "填报单位：黄平县"
    row2 = [cell.value for cell in sheet[2] if cell.value]
    assert row2[1] == "填报人：county"
    assert row2[2].startswith("统计截止日期：")
    # Three header rows: 收入情况（元） → 转移性收入 → 低保金.
    assert sheet["A3"].value == "序号"
    headers = {
        cell.value: cell.column
        for row in sheet.iter_rows(min_row=3, max_row=5)
        for cell in row
        if cell.value
    }
    assert sheet.cell(3, headers["收入情况（元）"]).value == "收入情况（元）"
    assert sheet.cell(4, headers["转移性收入"]).value == "转移性收入"
    assert sheet.cell(5, headers["低保金"]).value == "低保金"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A3:A5" in merged  # 序号 spans the header rows
    assert sheet.freeze_panes == "B6"
    assert sheet.print_title_rows == "$3:$5"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    # Data: 序号 1, 2; the household with income; money as numbers with two decimals.
    assert [sheet.cell(6, 1).value, sheet.cell(7, 1).value] == [1, 2]
    rows = {sheet.cell(r, 2).value: r for r in (6, 7)}
    row = rows[household_a.number]
    assert sheet.cell(row, headers["工资性收入"]).value == 12000.5
    assert sheet.cell(row, headers["工资性收入"]).number_format == "#,##0.00"
    assert sheet.cell(row, headers["低保金"]).value == 1800
    assert sheet.cell(row, headers["年纯收入"]).value == 13800.5
    assert sheet.cell(row, headers["人均纯收入"]).value == 6900.25
    assert sheet.cell(row, headers["户状态"]).value == "未脱贫"
    # 合计 row at the bottom (the default).
    assert sheet.cell(8, 1).value == "合计"
    assert sheet.cell(8, 2).value == "共2户"
    assert sheet.cell(8, headers["家庭人口"]).value == 4
    assert sheet.cell(8, headers["工资性收入"]).value == 12000.5
    # Widths fitted to Chinese text: 户主证件号码 needs 21 units at least.
    head_id = openpyxl.utils.get_column_letter(headers["户主证件号码"])
    assert sheet.column_dimensions[head_id].width >= 21


def test_totals_row_can_be_at_the_top(tmp_path, settings, cast, household_a, household_b):
    settings.LEDGER_TOTALS_POSITION = "top"
    path, _result = _write(tmp_path, cast.county, key="members")
    sheet = openpyxl.load_workbook(path)["人员台账"]
    assert sheet.cell(5, 1).value == "合计"
    assert sheet.cell(5, 2).value == "共4人"
    assert sheet.cell(6, 1).value == 1
    assert sheet.freeze_panes == "B6"


def test_id_numbers_are_text_cells_shown_in_full_to_the_county(tmp_path, cast, household_a):
    path, _result = _write(tmp_path, cast.county, key="members")
    sheet = openpyxl.load_workbook(path)["人员台账"]
    numbers = {member.id_number for member in household_a.members.all()}
    cells = [sheet.cell(row, 7) for row in (5, 6)]
    assert sheet.cell(3, 7).value == "证件号码"
    assert {cell.value for cell in cells} == numbers
    assert all(cell.data_type == "s" and cell.number_format == "@" for cell in cells)


def test_auditor_gets_masked_id_and_health(tmp_path, cast, household_a):
    path, _result = _write(tmp_path, cast.auditor, key="members")
    sheet = openpyxl.load_workbook(path)["人员台账"]
    for row in (5, 6):
        value = sheet.cell(row, 7).value
        assert re.fullmatch(r"522\*{11}\d{3}[\dX]", value)
        assert sheet.cell(row, 15).value == "***"  # 健康状况
    log = AccessLog.objects.get(target="ledger:members")
    assert log.user == cast.auditor
    assert log.detail["masked"] is True
    assert log.fields == []
    assert not any(member.id_number in _sheet_xml(path) for member in household_a.members.all())


def test_formula_like_text_is_neutralised_and_numbers_stay_numbers(tmp_path, cast, county):
    notes = ['=HYPERLINK("http://x")', "+1+2", "-3+4", "@SUM(A1)", "\tcmd", "\rx", "'quoted"]
    households = [
        factories.household(
            actor=cast.county, village=county.village_a, cause_note=note, bank_name=note, phone="-1"
        )
        for note in notes
    ]
    household_services.income_set(
        actor=cast.county,
        household=households[0],
        year=2025,
        data={"wage": Decimal("-0") + Decimal("5")},
    )
    path, result = _write(tmp_path, cast.county, filters={"income_year": "2025"})
    xml = _sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml
    sheet = openpyxl.load_workbook(path)["户台账"]
    headers = {
        cell.value: cell.column
        for row in sheet.iter_rows(min_row=3, max_row=5)
        for cell in row
        if cell.value
    }
    written = sorted(
        layout.decode_ooxml(sheet.cell(row, headers["致贫原因说明"]).value)
        for row in range(6, 6 + len(notes))
    )
    assert written == sorted("'" + note for note in notes)
    assert all(layout.restore(layout.neutralise(note)) == note for note in notes)
    assert layout.restore("plain") == "plain" and layout.neutralise("plain") == "plain"
    wage = [sheet.cell(row, headers["工资性收入"]).value for row in range(6, 6 + len(notes))]
    assert 5 in wage and isinstance(next(v for v in wage if v is not None), (int, float))
    assert result.rows == len(notes)


def test_ledger_covers_only_the_users_scope_and_region(tmp_path, cast, household_a, household_b):
    _path, result = _write(tmp_path, cast.cadre)
    assert result.rows == 1
    _path, result = _write(tmp_path, cast.county, filters={"region": "522622101000"})
    assert result.rows == 1
    with pytest.raises(Http404):
        _write(tmp_path, cast.cadre, filters={"region": "522622101200"})
    with pytest.raises(PermissionDenied):
        _write(tmp_path, cast.helper)
    assert AccessLog.objects.filter(action="export").count() == 2


def test_export_filters_like_the_list_page(tmp_path, cast, county, household_a):
    factories.household(
        actor=cast.county,
        village=county.village_a,
        main_cause="因病",
        status=Household.Status.EXITED,
    )
    _path, result = _write(tmp_path, cast.county, filters={"status": "exited"})
    assert result.rows == 1
    _path, result = _write(tmp_path, cast.county, filters={"cause": "缺技术"})
    assert result.rows == 1


def test_every_export_is_logged_with_filters_rows_and_hash(tmp_path, cast, household_a):
    import hashlib

    path, result = _write(tmp_path, cast.township, filters={"status": "poor"})
    log = AccessLog.objects.get(action="export")
    with open(path, "rb") as handle:
        assert log.detail["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert log.detail["rows"] == 1
    assert log.detail["filters"] == {"status": "poor"}
    assert log.fields == ["户主证件号码", "银行账号"]
    assert log.username == "township"


def test_small_export_is_written_directly(cast, household_a):
    start = ledger_export_start(
        user=cast.county, key="registry", filters={}, reason="年度动态调整核查"
    )
    try:
        assert start.job is None
        assert start.result.rows == 1 + 2
        assert openpyxl.load_workbook(start.path).sheetnames == ["户台账", "人员台账"]
    finally:
        os.unlink(start.path)


def test_large_export_runs_as_a_job_with_progress(
    tmp_path, settings, cast, county, household_a, household_b, django_capture_on_commit_callbacks
):
    settings.LEDGER_JOB_THRESHOLD = 3
    settings.MEDIA_ROOT = str(tmp_path)
    for _index in range(3):
        factories.household(actor=cast.county, village=county.village_a)
    with django_capture_on_commit_callbacks(execute=True):
        start = ledger_export_start(
            user=cast.county, key="members", filters={}, reason="年度动态调整核查"
        )
    job = Job.objects.get(pk=start.job.pk)
    try:
        assert job.status == Job.Status.SUCCEEDED
        assert (job.progress, job.total) == (10, 10)
        assert job.result["rows"] == 10
        assert job.result_file.name.endswith(".xlsx")
        sheet = openpyxl.load_workbook(job.result_file.path)["人员台账"]
        assert sheet.cell(15, 1).value == "合计"
    finally:
        job.result_file.delete(save=False)


def test_header_grid_merges_groups():
    columns = [
        layout.Column("a", "甲"),
        layout.Column("b", "乙", group=("组",)),
        layout.Column("c", "丙", group=("组",)),
        layout.Column("d", "丁", group=("组", "小组")),
        layout.Column("e", "戊", group=("组", "小组")),
    ]
    grid, merges = layout.header_grid(columns)
    assert grid[0] == ["序号", "甲", "组", None, None, None]
    assert grid[1] == [None, None, "乙", "丙", "小组", None]
    assert grid[2] == [None, None, None, None, "丁", "戊"]
    assert sorted(merges) == sorted(
        [(0, 0, 2, 0), (0, 1, 2, 1), (1, 2, 2, 2), (1, 3, 2, 3), (0, 2, 0, 5), (1, 4, 1, 5)]
    )


def test_display_width_counts_chinese_double():
    assert layout.display_width("户编号") == 6
    assert layout.display_width("ID号") == 4
    assert datetime.date.today()  # keep the import used by later tests


def test_household_ledger_head_and_persons_agree_with_the_list_page(
    tmp_path, cast, household_a, household_b
):
    """The ledger joins the active head and counts active members itself (not through the
    list's annotations): it must give what the list page shows, also after a member left."""
    from households.selectors import household_list

    leaving = household_a.members.exclude(relation="户主").first()
    household_services.member_remove(actor=cast.county, member=leaving, reason="死亡")
    path, result = _write(tmp_path, cast.county)
    sheet = openpyxl.load_workbook(path)["户台账"]
    headers = {
        cell.value: cell.column
        for row in sheet.iter_rows(min_row=3, max_row=5)
        for cell in row
        if cell.value
    }
    written = {
        sheet.cell(row, headers["户编号"]).value: (
            sheet.cell(row, headers["户主姓名"]).value,
            sheet.cell(row, headers["户主证件号码"]).value,
            sheet.cell(row, headers["家庭人口"]).value,
        )
        for row in range(6, 6 + result.rows)
    }
    listed = {
        household.number: (household.head_name, household.head_id_number, household.person_count)
        for household in household_list(user=cast.county, filters={})
    }
    assert written == listed
    assert written[household_a.number][2] == 1


@pytest.mark.parametrize(
    "day",
    [
        datetime.date(1900, 3, 1),
        datetime.date(1900, 2, 28),
        datetime.date(1900, 1, 1),
        datetime.date(1935, 7, 9),
        datetime.date(2000, 2, 29),
        datetime.date(2026, 11, 21),
    ],
)
def test_dates_are_the_serials_xlsxwriter_writes(day):
    from xlsxwriter.utility import _datetime_to_excel_datetime

    expected = _datetime_to_excel_datetime(day, False, False)
    serial = layout._excel_serial(day)
    assert serial is None if day < datetime.date(1900, 3, 1) else serial == expected
    assert layout._excel_serial(datetime.datetime(2020, 1, 1, 12)) is None


def test_birth_dates_and_totals_written_by_the_fast_path(tmp_path, cast, household_a):
    path, result = _write(tmp_path, cast.county, key="members")
    sheet = openpyxl.load_workbook(path)["人员台账"]
    births = {member.birth_date for member in household_a.members.all()}
    cells = [sheet.cell(row, 9) for row in range(5, 5 + result.rows)]
    assert sheet.cell(3, 9).value == "出生日期"
    assert {cell.value.date() for cell in cells} == births
    assert all(cell.number_format == "yyyy-mm-dd" for cell in cells)


def test_totals_are_exact_and_accept_floats():
    totals = [Decimal("0"), None, Decimal("0")]
    for values in ([Decimal("0.10"), "x", 1], [Decimal("0.20"), "y", 0.1], [None, "z", ""]):
        layout._add_totals(totals, [0, 2], values)
    assert totals == [Decimal("0.30"), None, Decimal("1.1")]
