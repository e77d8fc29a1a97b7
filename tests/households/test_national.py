"""Exchange with the national system (issue 16): the code tables, the exports in the national
layouts, the 录入国家系统 mark, the reconciliation of a national export uploaded back."""

from __future__ import annotations

import datetime
import io
import tempfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from households.models import Household, Member, NationalEntry, NationalEntryEvent
from households.national import codes, marks
from households.national.layouts import HOUSEHOLD_LAYOUT, MEMBER_LAYOUT, encode_record
from households.national.ledgers import HOUSEHOLD_KEY, MEMBER_KEY, code_problems
from households.national.reconcile import national_file_read, reconcile
from households.national.records import household_records, member_records
from povertyapp.ledgers import all_ledgers
from povertyapp.ledgers.services import ledger_write
from povertyapp.models import AccessLog
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export(tmp_path, user, key, filters=None):
    path = str(tmp_path / f"{key}.xlsx")
    result = ledger_write(user=user, key=key, filters=filters or {}, path=path)
    return path, result


def _sheet_rows(path, index=0):
    sheet = openpyxl.load_workbook(path).worksheets[index]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _header_row(rows, header):
    return next(number for number, row in enumerate(rows) if header in row)


# --- code tables ---------------------------------------------------------------------------


def test_code_tables_cover_every_default_value_list_label():
    """The value lists the county starts from (migration 0003) all have a national code."""
    from importlib import import_module

    defaults = import_module("households.migrations.0003_default_value_lists").LISTS
    pairs = {
        "ethnicity": codes.ETHNICITY,
        "relation": codes.RELATION,
        "education": codes.EDUCATION,
        "school_status": codes.SCHOOL_STATUS,
        "health": codes.HEALTH,
        "labour_skill": codes.LABOUR_SKILL,
        "work_status": codes.WORK_STATUS,
        "cause": codes.CAUSE,
        "poverty_attribute": codes.POVERTY_ATTRIBUTE,
        "identification_standard": codes.IDENTIFICATION_STANDARD,
        "id_type": codes.ID_TYPE,
        "living_status": codes.LIVING_STATUS,
        "house_grade": codes.HOUSE_GRADE,
    }
    missing = [
        (name, label)
        for name, table in pairs.items()
        for label in defaults[name]
        if codes.encode(table, label) is None
    ]
    assert missing == []


def test_codes_decode_back_to_the_labels():
    assert codes.encode(codes.ETHNICITY, "汉族") == "01"
    assert codes.encode(codes.ETHNICITY, "苗族") == "06"
    assert codes.encode(codes.ETHNICITY, "其他") == "97"
    assert codes.encode(codes.SEX, "女") == "2"
    assert codes.decode(codes.RELATION, "02") == "户主"
    # 五保户 (before 2016) shares 特困供养's code; the code reads back as the current label.
    assert codes.decode(codes.POVERTY_ATTRIBUTE, "3") == "特困供养贫困户"
    assert codes.decode(codes.ETHNICITY, "99") is None
    for table in codes.tables().values():
        assert (
            len(set(table.values())) == len(table)
            or table is codes.tables()[codes.POVERTY_ATTRIBUTE]
        )


def test_a_value_without_a_code_is_reported_not_blanked():
    record = {
        "household_number": "1",
        "name": "王五",
        "ethnicity": "穿青人",
        "health": "健康、残疾",
    }
    cells, problems = encode_record(
        MEMBER_LAYOUT, record, record_name="1 王五", version=codes.LAYOUT_VERSION
    )
    headers = MEMBER_LAYOUT.headers
    assert cells[headers.index("民族")] == ""
    assert cells[headers.index("健康状况")] == "1,4"
    assert [(p.record, p.header, p.value) for p in problems] == [("1 王五", "民族", "穿青人")]


# --- exports ------------------------------------------------------------------------------


def test_national_export_round_trips_through_the_code_tables(
    tmp_path, cast, county, household_a, household_b
):
    exited = factories.household(
        actor=cast.county,
        village=county.village_a2,
        status=Household.Status.EXITED,
        members=[
            factories.member_data(name="赵六", ethnicity="汉族", health="长期慢性病、残疾"),
        ],
    )
    path, result = _export(tmp_path, cast.county, HOUSEHOLD_KEY)
    assert result.rows == 3  # three households, no code problems
    rows = _sheet_rows(path)
    header = _header_row(rows, "户编号")
    assert rows[0][0].startswith("全国防返贫监测信息系统 户基本信息（格式版本2021.1）")
    assert list(rows[header][1:]) == list(HOUSEHOLD_LAYOUT.headers)
    by_number = {row[1]: row[1:] for row in rows[header + 1 :]}
    statuses = HOUSEHOLD_LAYOUT.headers.index("贫困户状态")
    assert by_number[household_a.number][statuses] == "1"
    assert by_number[exited.number][statuses] == "2"
    assert by_number[household_a.number][HOUSEHOLD_LAYOUT.headers.index("主要致贫原因")] == "07"
    # The export decodes back to the same values: reconciled with itself, nothing differs.
    national = national_file_read(path, max_rows=1000)
    report = reconcile(user=cast.county, national=national, filters={})
    assert (report.only_ours, report.only_theirs, report.differences) == ([], [], [])
    assert report.compared == 3

    member_path, member_result = _export(tmp_path, cast.county, MEMBER_KEY)
    assert member_result.rows == 5
    member_rows = _sheet_rows(member_path)
    member_header = _header_row(member_rows, "证件号码")
    zhao = next(row[1:] for row in member_rows[member_header + 1 :] if row[3] == "赵六")
    head = exited.members.get(name="赵六")
    assert zhao[MEMBER_LAYOUT.headers.index("证件号码")] == head.id_number  # a text cell
    assert zhao[MEMBER_LAYOUT.headers.index("民族")] == "01"
    assert zhao[MEMBER_LAYOUT.headers.index("健康状况")] == "2,4"
    assert zhao[MEMBER_LAYOUT.headers.index("与户主关系")] == "02"
    member_report = reconcile(
        user=cast.county, national=national_file_read(member_path, max_rows=1000), filters={}
    )
    assert member_report.identical
    assert member_report.compared == 5
    # The last sheet lists the values without a code: none here.
    assert len(_sheet_rows(member_path, index=1)) == 3  # title, letterhead, header only
    # Logged in the access log, as every export.
    assert AccessLog.objects.filter(target=f"ledger:{MEMBER_KEY}").count() == 1


def test_a_value_without_a_national_code_is_listed_in_the_export(tmp_path, cast, household_a):
    member = household_a.members.get(name="李四")
    Member.objects.filter(pk=member.pk).update(ethnicity="穿青人")
    path, _result = _export(tmp_path, cast.county, MEMBER_KEY)
    rows = _sheet_rows(path)
    header = _header_row(rows, "证件号码")
    li = next(row[1:] for row in rows[header + 1 :] if row[3] == "李四")
    assert li[MEMBER_LAYOUT.headers.index("民族")] is None  # empty, and listed:
    problems = _sheet_rows(path, index=1)
    assert problems[-1][1:] == [f"{household_a.number} 李四", "民族", "穿青人"]
    listed = code_problems(user=cast.county, filters={})
    assert [(p.header, p.value) for p in listed] == [("民族", "穿青人")]
    page = login(cast.county).get(
        reverse("households:national"), {"check": "1", "region": cast.county.region.code}
    )
    assert page.status_code == 200
    assert "穿青人" in page.content.decode()


def test_only_the_county_office_exports_in_the_national_layouts(cast, household_a):
    assert HOUSEHOLD_KEY not in {
        ledger.key for ledger in all_ledgers() if ledger.may_export(cast.auditor)
    }
    for user in (cast.cadre, cast.township, cast.auditor):
        response = login(user).post(
            reverse("ledgers:export"), {"ledger": HOUSEHOLD_KEY, "reason": "核对国家系统"}
        )
        assert response.status_code == 403
    page = login(cast.county).get(reverse("ledgers:index"))
    assert HOUSEHOLD_KEY in page.content.decode()
    assert HOUSEHOLD_KEY not in login(cast.auditor).get(reverse("ledgers:index")).content.decode()


def test_the_exchange_page_exports_and_answers_its_own_errors(cast, county, household_a):
    """The page's export form posts to the page itself: a county-wide export without its
    导出事由 comes back with the error under that field and the region kept (it answered on
    the ledger page before); with the reason, the workbook; an unknown layout is refused."""
    client = login(cast.county)
    url = reverse("households:national-export")
    village = county.village_a.code
    refused = client.post(url, {"ledger": HOUSEHOLD_KEY, "region": cast.county.region.code})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert refused.templates[0].name == "households/national/index.html"
    assert 'id="export_reason"' in body
    field = body[body.index('data-field="reason"') :]
    assert 'role="alert"' in field[: field.index("</div>")]
    assert f'value="{cast.county.region.code}" selected' in body
    exported = client.post(
        url, {"ledger": HOUSEHOLD_KEY, "region": village, "reason": "核对国家系统"}
    )
    assert exported.status_code == 200
    assert exported["Content-Type"] == XLSX
    unknown = client.post(url, {"ledger": "households", "region": village, "reason": "x"})
    assert unknown.status_code == 400
    assert "请选择要导出的国家系统格式" in unknown.content.decode()
    for user in (cast.cadre, cast.township, cast.auditor):
        response = login(user).post(url, {"ledger": HOUSEHOLD_KEY, "region": village})
        assert response.status_code == 403


def test_national_export_is_limited_to_the_chosen_region(
    tmp_path, cast, county, household_a, household_b
):
    _path, result = _export(tmp_path, cast.county, HOUSEHOLD_KEY, {"region": county.village_b.code})
    assert result.rows == 1
    non_registered = factories.household(
        actor=cast.county, village=county.village_b, status=Household.Status.NON_REGISTERED
    )
    numbers = {record["number"] for record in household_records(user=cast.county, filters={})}
    assert non_registered.number not in numbers  # the national system holds registered ones
    assert {household_a.number, household_b.number} <= numbers


# --- the 录入国家系统 mark ---------------------------------------------------------------------


def test_bulk_mark_marks_the_exported_households_and_members(
    cast, county, household_a, household_b
):
    entered = timezone.localdate() - datetime.timedelta(days=2)
    response = login(cast.county).post(
        reverse("households:national-mark"),
        {"region": county.township1.code, "entered_on": entered.isoformat()},
    )
    assert response.status_code == 302
    assert set(
        NationalEntry.objects.filter(member__isnull=True).values_list("household", flat=True)
    ) == {household_a.pk}
    assert NationalEntry.objects.filter(member__household=household_a).count() == 2
    assert set(NationalEntry.objects.values_list("entered_on", flat=True)) == {entered}
    event = NationalEntryEvent.objects.get()
    assert (event.household, event.persons, event.bulk, event.created_by) == (
        household_a,
        2,
        True,
        cast.county,
    )
    assert AccessLog.objects.filter(target="national:mark").count() == 1
    # Shown on the household page, on its members and in the ledgers.
    page = login(cast.county).get(reverse("households:detail", args=[household_a.pk]))
    body = page.content.decode()
    assert "已录入" in body and entered.isoformat() in body
    assert f"标记人：{cast.county.display_name}" in body
    members_tab = login(cast.county).get(
        reverse("households:detail", args=[household_a.pk]), {"tab": "members"}
    )
    assert members_tab.content.decode().count(entered.isoformat()) == 2
    # The list's filter 未录入国家系统.
    listing = login(cast.county).get(reverse("households:list"), {"national": "not_entered"})
    text = listing.content.decode()
    assert household_b.number in text and household_a.number not in text
    listing = login(cast.county).get(reverse("households:list"), {"national": "entered"})
    text = listing.content.decode()
    assert household_a.number in text and household_b.number not in text


def test_the_mark_is_shown_in_the_ledgers(tmp_path, cast, household_a):
    entered = timezone.localdate()
    marks.national_mark_household(user=cast.county, household=household_a, entered_on=entered)
    path, _ = _export(tmp_path, cast.county, "households")
    rows = _sheet_rows(path)
    header = next(n for n, row in enumerate(rows) if "录入国家系统日期" in row)
    column = rows[header].index("录入国家系统日期")
    data = next(row for row in rows if row[1] == household_a.number)
    assert data[column].date() == entered
    path, _ = _export(tmp_path, cast.county, "members")
    rows = _sheet_rows(path)
    header = next(n for n, row in enumerate(rows) if "录入国家系统日期" in row)
    column = rows[header].index("录入国家系统日期")
    assert [row[column].date() for row in rows if row[1] == household_a.number] == [entered] * 2


def test_single_mark_and_clear_on_the_household_page(cast, household_a):
    url = reverse("households:national-mark-household", args=[household_a.pk])
    client = login(cast.county)
    day = timezone.localdate() - datetime.timedelta(days=1)
    assert client.post(url, {"entered_on": day.isoformat()}).status_code == 302
    own = NationalEntry.objects.get(household=household_a, member__isnull=True)
    assert (own.entered_on, own.marked_by) == (day, cast.county)
    # Marked again later: the date is the new one, the first mark kept in the events.
    today = timezone.localdate()
    client.post(url, {"entered_on": today.isoformat()})
    assert set(NationalEntry.objects.values_list("entered_on", flat=True)) == {today}
    assert NationalEntry.objects.count() == 3
    assert client.post(url, {"action": "clear"}).status_code == 302
    assert NationalEntry.objects.count() == 0
    assert list(NationalEntryEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "marked",
        "marked",
        "cleared",
    ]


def test_a_future_date_is_refused_and_nothing_marked(cast, county, household_a):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = login(cast.county).post(
        reverse("households:national-mark"),
        {"region": county.county.code, "entered_on": tomorrow.isoformat()},
    )
    assert response.status_code == 400
    assert "录入日期不能晚于今天。" in response.content.decode()
    assert NationalEntry.objects.count() == 0
    client = login(cast.county)
    url = reverse("households:national-mark-household", args=[household_a.pk])
    page = client.post(url, {"entered_on": tomorrow.isoformat()}, follow=True)
    assert "录入日期不能晚于今天。" in page.content.decode()
    assert NationalEntry.objects.count() == 0


def test_marks_are_the_county_offices_and_scoped(cast, county, household_a, household_b):
    day = timezone.localdate().isoformat()
    for user in (cast.cadre, cast.township, cast.auditor):
        url = reverse("households:national-mark-household", args=[household_a.pk])
        assert login(user).post(url, {"entered_on": day}).status_code == 403
        bulk = login(user).post(
            reverse("households:national-mark"), {"region": county.county.code, "entered_on": day}
        )
        assert bulk.status_code == 403
    # Outside the scope: 404 (village B's household for village A's cadre).
    url = reverse("households:national-mark-household", args=[household_b.pk])
    assert login(cast.cadre).post(url, {"entered_on": day}).status_code == 404
    assert NationalEntry.objects.count() == 0
    assert login(cast.cadre).get(reverse("households:national")).status_code == 403


# --- reconciliation ------------------------------------------------------------------------


def _national_upload(user, layout, records_source, change=None, drop=None, extra=None):
    """A national export as the national system would give it: one header row, codes."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(layout.headers))
    for record in records_source(user=user, filters={}):
        cells, _problems = encode_record(
            layout, record, record_name="", version=codes.LAYOUT_VERSION
        )
        cells = ["" if cell is None else cell for cell in cells]
        cells = [cell.isoformat() if isinstance(cell, datetime.date) else cell for cell in cells]
        if drop and record[layout.record_key] == drop:
            continue
        if change and record[layout.record_key] == change[0]:
            cells[layout.headers.index(change[1])] = change[2]
        sheet.append(cells)
    if extra:
        sheet.append(extra)
    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)
    handle.name = "national.xlsx"
    return handle


def _reconcile_through_the_page(cast, handle, django_capture_on_commit_callbacks, region=""):
    client = login(cast.county)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("households:national-reconcile"),
            {"region": region or cast.county.region.code, "workbook": handle},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode(), response["Location"]


def test_reconciliation_lists_only_ours_only_theirs_and_changed_fields(
    cast, county, household_a, household_b, django_capture_on_commit_callbacks
):
    extra = [""] * len(HOUSEHOLD_LAYOUT.headers)
    extra[0] = "5226229999990001"
    extra[HOUSEHOLD_LAYOUT.headers.index("户主姓名")] = "孙七"
    handle = _national_upload(
        cast.county,
        HOUSEHOLD_LAYOUT,
        household_records,
        change=(household_a.number, "主要致贫原因", "01"),  # 因病 in theirs, 缺技术 in ours
        drop=household_b.number,
        extra=extra,
    )
    households_before = list(Household.objects.order_by("pk").values_list("pk", "version"))
    body, location = _reconcile_through_the_page(cast, handle, django_capture_on_commit_callbacks)
    assert "仅本县有（1条）" in body and household_b.number in body
    assert "仅国家系统有（1条）" in body and "5226229999990001" in body and "孙七" in body
    assert "字段不一致（1处）" in body
    assert "缺技术" in body and "因病" in body
    # Nothing written to the registry; the report's workbook is the job's result.
    assert list(Household.objects.order_by("pk").values_list("pk", "version")) == households_before
    from povertyapp.models import Job

    job = Job.objects.get(kind="national_reconcile")
    assert job.status == "succeeded" and job.result_file
    workbook = openpyxl.load_workbook(job.result_file.path)
    assert [sheet.title for sheet in workbook.worksheets] == [
        "仅本县有",
        "仅国家系统有",
        "字段不一致",
    ]
    assert list(workbook["字段不一致"].iter_rows(values_only=True))[1] == (
        1,
        household_a.number,
        "张三",
        "主要致贫原因",
        "缺技术",
        "因病",
    )
    assert AccessLog.objects.filter(target="national:reconcile").count() == 1
    # The report is the county officer's job: another user gets 404, other roles 403.
    assert login(cast.cadre).get(location).status_code == 403


def test_reconciliation_of_identical_members_is_empty(
    cast, household_a, django_capture_on_commit_callbacks
):
    handle = _national_upload(cast.county, MEMBER_LAYOUT, member_records)
    body, _location = _reconcile_through_the_page(cast, handle, django_capture_on_commit_callbacks)
    assert "本县数据与国家系统数据一致。" in body
    assert "双方都有的记录2条" in body


def test_reconciliation_decodes_an_unknown_code_as_such(cast, household_a):
    member = household_a.members.get(name="张三")
    handle = _national_upload(
        cast.county, MEMBER_LAYOUT, member_records, change=(member.id_number, "民族", "88")
    )
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as file:
        file.write(handle.getvalue())
        file.flush()
        report = reconcile(
            user=cast.county, national=national_file_read(file.name, max_rows=100), filters={}
        )
    assert [(d.header, d.ours, d.theirs) for d in report.differences] == [
        ("民族", "苗族", "未知代码88")
    ]


def test_a_wrong_layout_is_refused_beside_the_field(cast, household_a):
    workbook = openpyxl.Workbook()
    workbook.active.append(["户编号", "姓名", "别的列"])
    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)
    handle.name = "other.xlsx"
    response = login(cast.county).post(
        reverse("households:national-reconcile"),
        {"region": cast.county.region.code, "workbook": handle},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "文件不是国家系统导出的户或人员数据格式" in body
    from povertyapp.models import Job

    assert not Job.objects.filter(kind="national_reconcile").exists()


def test_reconciliation_is_the_county_offices(cast, household_a):
    handle = _national_upload(cast.county, HOUSEHOLD_LAYOUT, household_records)
    for user in (cast.cadre, cast.township, cast.auditor, cast.helper):
        response = login(user).post(
            reverse("households:national-reconcile"), {"region": "", "workbook": handle}
        )
        assert response.status_code == 403


def test_bulk_mark_keeps_the_date_of_records_already_marked(cast, county, household_a, household_b):
    earlier = timezone.localdate() - datetime.timedelta(days=10)
    marks.national_mark_household(user=cast.county, household=household_a, entered_on=earlier)
    today = timezone.localdate()
    result = marks.national_mark_bulk(
        user=cast.county, filters={"region": county.county.code}, entered_on=today
    )
    assert (result.households, result.persons) == (1, 2)
    assert set(
        NationalEntry.objects.filter(household=household_a).values_list("entered_on", flat=True)
    ) == {earlier}
    assert set(
        NationalEntry.objects.filter(household=household_b).values_list("entered_on", flat=True)
    ) == {today}
    assert NationalEntryEvent.objects.filter(household=household_a).count() == 1


def test_two_sheets_of_one_layout_are_refused(tmp_path):
    """Reading the first of two sheets with the same national header would leave the second
    sheet's records out without a word: the file is refused, naming both sheets."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title in ("户信息", "户信息（2）"):
        workbook.create_sheet(title).append(list(HOUSEHOLD_LAYOUT.headers))
    path = str(tmp_path / "two.xlsx")
    workbook.save(path)
    with pytest.raises(ValidationError) as caught:
        national_file_read(path, max_rows=100)
    assert "“户信息”和“户信息（2）”两张表都是" in caught.value.messages[0]
    member = workbook.create_sheet("人员信息")
    member.append(list(MEMBER_LAYOUT.headers))
    workbook.remove(workbook["户信息（2）"])
    workbook.save(path)
    assert (
        national_file_read(path, max_rows=100).layout is HOUSEHOLD_LAYOUT
    )  # two layouts: as before
