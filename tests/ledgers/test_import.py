"""The household import: round trip, all-or-nothing, re-import no-op, hostile files."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from households import services as household_services
from households.imports import ImportRefused, import_households
from households.models import Household, HouseholdEvent, HouseholdIncome, Member
from households.services import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from povertyapp.ledgers import safety
from povertyapp.ledgers.services import ledger_write
from tests import factories


def _export(tmp_path, user, name="registry.xlsx", filters=None) -> str:
    path = str(tmp_path / name)
    ledger_write(user=user, key="registry", filters=filters or {"income_year": "2025"}, path=path)
    return path


def _snapshot() -> dict[str, Any]:
    households = {}
    for household in Household.objects.order_by("number"):
        values = {field: getattr(household, field) for field in HOUSEHOLD_FIELDS}
        values.update(status=household.status, exit_year=household.exit_year)
        members = sorted(
            (
                tuple(getattr(member, field) for field in MEMBER_FIELDS)
                for member in household.members.filter(is_active=True)
            ),
            key=lambda item: item[2],
        )
        incomes = {
            income.year: tuple(getattr(income, f) for f in household_services.INCOME_FIELDS)
            for income in household.incomes.all()
        }
        households[household.number] = (values, members, incomes)
    return households


def _wipe_registry() -> None:
    HouseholdEvent.objects.all().delete()
    HouseholdIncome.objects.all().delete()
    from assistance.models import Pairing

    Pairing.objects.all().delete()
    Member.objects.all().delete()
    Household.objects.all().delete()


def _varied_households(cast, county) -> list[Household]:
    child = factories.member_data(
        name="王小",
        relation="之子",
        sex="男",
        birth_date=datetime.date(2012, 2, 29),
        education="小学",
        school_status="六年级" if False else "小学",
        work_status="无",
        work_months=0,
        health="长期慢性病、残疾",
        illness_name="哮喘",
        disability_certificate="52262220120229001X",
        disability_grade="三级",
        phone="=cmd|' /C calc'!A0",
    )
    first = factories.household(
        actor=cast.county,
        village=county.village_a,
        group=county.group_a2,
        members=[
            factories.member_data(name="王大", phone="13800000000"),
            factories.member_data(
                name="刘芳", relation="配偶", sex="女", birth_date=datetime.date(1983, 12, 1)
            ),
            child,
        ],
        bank_account="6228480402564890018",
        bank_name="农村信用社",
        phone="0855-1234567",
        cause_note="+因病致贫，@说明",
        cultivated_land=Decimal("3.50"),
        irrigated_land=Decimal("1.25"),
        housing_area=Decimal("86.40"),
        other_cause_1="因病",
        has_sanitary_toilet=False,
        relocated=True,
        relocation_mode="集中安置" if False else "",
        is_military_family=True,
    )
    household_services.income_set(
        actor=cast.county,
        household=first,
        year=2025,
        data={
            "wage": Decimal("15000.00"),
            "dibao": Decimal("2400.50"),
            "production_cost": Decimal("300.25"),
        },
    )
    second = factories.household(
        actor=cast.county,
        village=county.village_b,
        status=Household.Status.EXITED,
        main_cause="缺资金",
        members=[
            factories.member_data(name="赵一", sex="女", birth_date=datetime.date(1960, 1, 1))
        ],
    )
    third = factories.household(
        actor=cast.county,
        village=county.village_a2,
        status=Household.Status.NON_REGISTERED,
        members=[factories.member_data(name="钱二")],
    )
    return [first, second, third]


def test_export_then_import_reproduces_households_and_members(tmp_path, cast, county):
    _varied_households(cast, county)
    before = _snapshot()
    path = _export(tmp_path, cast.county)
    _wipe_registry()
    assert Household.objects.count() == 0
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert [error.message for error in report.errors] == []
    assert report.written is True
    assert (report.households_created, report.members_created) == (3, 5)
    assert _snapshot() == before
    # Each new household has its 建档 event and history rows, like household_create writes.
    for household in Household.objects.all():
        event = household.events.get()
        assert (event.kind, event.to_status, event.persons) == (
            "registered",
            household.status,
            household.members.count(),
        )
        assert household.history.count() == 1
        assert household.history.get().history_user == cast.county


def test_reimporting_the_same_file_changes_nothing(tmp_path, cast, county):
    households = _varied_households(cast, county)
    path = _export(tmp_path, cast.county)
    before = _snapshot()
    history = (
        Household.history.count(),
        Member.history.count(),
        HouseholdIncome.history.count(),
        HouseholdEvent.objects.count(),
    )
    versions = [h.version for h in Household.objects.order_by("pk")]
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.errors == []
    assert (report.households_created, report.households_updated, report.households_unchanged) == (
        0,
        0,
        len(households),
    )
    assert _snapshot() == before
    assert (
        Household.history.count(),
        Member.history.count(),
        HouseholdIncome.history.count(),
        HouseholdEvent.objects.count(),
    ) == history
    assert [h.version for h in Household.objects.order_by("pk")] == versions


def test_changed_cells_update_through_the_services_with_history(tmp_path, cast, county):
    first, _second, _third = _varied_households(cast, county)
    path = _export(tmp_path, cast.county)
    workbook = openpyxl.load_workbook(path)
    households_sheet, members_sheet = workbook["户台账"], workbook["人员台账"]
    header = {
        c.value: c.column
        for r in households_sheet.iter_rows(min_row=3, max_row=5)
        for c in r
        if c.value
    }
    row = next(r for r in range(6, 9) if households_sheet.cell(r, 2).value == first.number)
    households_sheet.cell(row, header["联系电话"]).value = "13912345678"
    member_header = {
        c.value: c.column
        for r in members_sheet.iter_rows(min_row=3, max_row=4)
        for c in r
        if c.value
    }
    member_row = next(
        r for r in range(5, 11) if members_sheet.cell(r, member_header["姓名"]).value == "刘芳"
    )
    members_sheet.cell(member_row, member_header["文化程度"]).value = "高中"
    members_sheet.insert_rows(11)
    new_id = factories.id_number(datetime.date(2020, 6, 1), "女")
    for key, value in {
        "户编号": first.number,
        "姓名": "王妞",
        "证件类型": "居民身份证",
        "证件号码": new_id,
        "性别": "女",
        "与户主关系": "之女",
        "民族": "苗族",
        "健康状况": "健康",
        "生存状态": "正常",
    }.items():
        members_sheet.cell(11, member_header[key]).value = value
    workbook.save(path)
    preview = import_households(actor=cast.county, path=path, dry_run=True)
    assert preview.errors == []
    assert (preview.households_updated, preview.members_updated, preview.members_created) == (
        1,
        1,
        1,
    )
    assert Household.objects.get(pk=first.pk).phone == "0855-1234567"  # dry run wrote nothing
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.errors == []
    first.refresh_from_db()
    assert first.phone == "13912345678"
    update = first.history.get(history_change_reason="导入更新")
    assert (update.phone, update.history_user) == ("13912345678", cast.county)
    assert Member.objects.get(household=first, name="刘芳").education == "高中"
    added = Member.objects.with_id_number(new_id).get()
    assert (added.household_id, added.birth_date, added.relation) == (
        first.pk,
        datetime.date(2020, 6, 1),
        "之女",
    )
    assert first.events.filter(kind="member_joined", member=added).count() == 1


def _bulk_workbook(path: str, count: int, bad_row: int | None = None) -> None:
    """A 户台账 + 人员台账 workbook of `count` one-person households of village A."""
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.title = "户台账"
    households.append(["户编号", "乡（镇）", "行政村", "户状态", "主要致贫原因"])
    members = workbook.create_sheet("人员台账")
    members.append(["户编号", "姓名", "证件号码", "性别", "出生日期", "与户主关系", "民族"])
    for index in range(count):
        number = f"IMP{index:05d}"
        households.append([number, "新州镇", "凤场村", "未脱贫", "缺技术"])
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=index * 7)
        id_number = factories.id_number(birth, "男", address="522622")
        # serials repeat after 499: vary the address digits instead
        id_number = _with_address(id_number, index)
        if bad_row is not None and members.max_row + 1 == bad_row:
            id_number = id_number[:17] + ("0" if id_number[17] != "0" else "1")
        members.append([number, f"户主{index}", id_number, "男", birth, "户主", "汉族"])
    workbook.save(path)


def _with_address(number: str, index: int) -> str:
    from stdnum.cn import ric

    body = "5226" + f"{22 + index % 3:02d}" + number[6:17]
    return body + ric.calc_check_digit(body + "0")


def test_one_bad_checksum_in_a_thousand_rows_writes_nothing(tmp_path, cast, county):
    path = str(tmp_path / "bad.xlsx")
    _bulk_workbook(path, 1000, bad_row=537)
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.written is False
    assert [(e.sheet, e.row, e.column, e.message) for e in report.errors] == [
        ("人员台账", 537, "证件号码", "身份证号码校验位错误，请核对每一位数字。")
    ]
    assert "*" in report.errors[0].value  # the value is masked in the report
    assert Household.objects.count() == 0 and Member.objects.count() == 0


def test_a_thousand_good_rows_are_all_written(tmp_path, cast, county):
    path = str(tmp_path / "good.xlsx")
    _bulk_workbook(path, 1000)
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.errors == []
    assert (
        Household.objects.count(),
        Member.objects.count(),
        HouseholdEvent.objects.count(),
        Member.history.count(),
    ) == (1000, 1000, 1000, 1000)


def _members_with_errors(workbook, existing_id: str):
    """A members sheet: sex against the ID number, an ID twice in the file, an ID active in
    another household, an ID typed as a number."""
    members = workbook.create_sheet()
    members.append(["户编号", "姓名", "证件号码", "性别", "出生日期", "与户主关系"])
    good = factories.id_number(datetime.date(1970, 1, 2), "男")
    members.append(["N1", "甲", good, "女", datetime.date(1970, 1, 2), "户主"])
    members.append(["N3", "乙", good, "男", datetime.date(1970, 1, 2), "户主"])
    members.append(["N3", "丙", existing_id, "男", "", "之子"])
    members.append(["N3", "丁", 522622198001010011, "男", "", "之子"])
    return members


def test_errors_cover_value_lists_dates_duplicates_and_scope(tmp_path, cast, county, household_b):
    existing_id = household_b.members.first().id_number
    path = str(tmp_path / "errors.xlsx")
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.append(["户编号", "乡（镇）", "行政村", "户状态", "主要致贫原因", "耕地面积（亩）"])
    households.append(["N1", "新州镇", "凤场村", "未脱贫", "因穷", "三亩"])
    households.append(["N1", "新州镇", "凤场村", "未脱贫", "因病", 1])
    households.append(["N2", "旧州镇", "西垭村", "未脱贫", "因病", 1])
    households.append(["N3", "新州镇", "凤场村", "未脱贫", "因病", 1])
    _members_with_errors(workbook, existing_id)
    workbook.save(path)
    report = import_households(actor=cast.cadre, path=path, dry_run=True)
    found = {(e.sheet, e.row, e.column): e.message for e in report.errors}
    assert found[("Sheet", 2, "耕地面积（亩）")] == "应为数字。"
    assert found[("Sheet", 3, "户编号")] == "户编号与本表第2行重复。"
    assert "不在您的管辖范围内" in found[("Sheet", 4, "行政村")]
    assert found[("Sheet1", 2, "性别")].startswith("性别与身份证号码不一致")
    assert found[("Sheet1", 3, "证件号码")] == "证件号码与本表第2行重复。"
    assert "已是西垭村户编号" in found[("Sheet1", 4, "证件号码")]
    assert found[("Sheet1", 5, "证件号码")].startswith("须以文本格式填写")
    assert Household.objects.count() == 1


def test_cadre_cannot_register_a_poor_household_directly_and_auditor_cannot_import(
    tmp_path, cast, county
):
    path = str(tmp_path / "one.xlsx")
    _bulk_workbook(path, 1)
    report = import_households(actor=cast.cadre, path=path, dry_run=True)
    assert [e.message for e in report.errors] == [
        "新建农户须经识别程序纳入；只有县扶贫办可直接登记其他状态。"
    ]
    with pytest.raises(ImportRefused):
        import_households(actor=cast.auditor, path=path, dry_run=True)
    assert Household.objects.count() == 0


def test_masked_export_cannot_be_imported(tmp_path, cast, county, household_a):
    path = _export(tmp_path, cast.auditor)
    report = import_households(actor=cast.county, path=path, dry_run=True)
    assert {e.column for e in report.errors} >= {"证件号码"}
    assert all("脱敏" in e.message for e in report.errors if e.column == "证件号码")


# --- hostile files ----------------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="'
    b'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b"</Types>"
)


def _refusal(data: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        safety.check_xlsx(io.BytesIO(data))
    return caught.value.code


def test_zip_bomb_is_refused_from_the_declared_sizes():
    bomb = _zip(
        {"[Content_Types].xml": CONTENT_TYPES, "xl/worksheets/sheet1.xml": b"0" * 50_000_000}
    )
    assert len(bomb) < 100_000
    assert _refusal(bomb) == "zip_bomb"


def test_macro_workbooks_are_refused():
    assert (
        _refusal(_zip({"[Content_Types].xml": CONTENT_TYPES, "xl/vbaProject.bin": b"\x00" * 100}))
        == "macros"
    )
    macro_types = CONTENT_TYPES.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
    assert _refusal(_zip({"[Content_Types].xml": macro_types})) == "macros"


def test_non_xlsx_content_is_refused_whatever_its_name():
    assert _refusal(b"\xd0\xcf\x11\xe0" + b"\x00" * 100) == "not_xlsx"  # an old .xls
    assert _refusal("户编号,姓名\n1,张三".encode()) == "not_xlsx"
    assert _refusal(_zip({"word/document.xml": b"<w/>"})) == "not_xlsx"


def test_entity_declarations_are_refused(tmp_path):
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        + CONTENT_TYPES[21:]
    )
    assert _refusal(_zip({"[Content_Types].xml": evil})) == "xml_entities"


def test_entities_inside_a_sheet_are_refused_by_the_parser(tmp_path, cast, county):
    path = str(tmp_path / "entities.xlsx")
    _bulk_workbook(path, 1)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        b"<worksheet", b'<!DOCTYPE w [<!ENTITY lol "lol">]><worksheet', 1
    )
    with open(path, "wb") as handle:
        handle.write(_zip(parts))
    with pytest.raises(ImportRefused) as caught:
        import_households(actor=cast.county, path=path, dry_run=True)
    assert "不安全的XML" in str(caught.value)


def test_too_many_rows_are_refused(tmp_path, settings, cast, county):
    settings.LEDGER_IMPORT_MAX_ROWS = 10
    path = str(tmp_path / "rows.xlsx")
    _bulk_workbook(path, 11)
    with pytest.raises(ImportRefused) as caught:
        import_households(actor=cast.county, path=path, dry_run=True)
    assert "超过10行" in str(caught.value)
