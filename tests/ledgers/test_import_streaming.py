"""The streaming import's parts: the sheet reader, the field check, the bulk registration and the
staging file behave exactly like what they replace (openpyxl, full_clean, household_create)."""

from __future__ import annotations

import datetime
import gc
import io
import os
import pickle
import weakref
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter
from django.core.exceptions import ValidationError
from django.db import transaction

from households import services as household_services
from households.imports import import_households, validation
from households.imports import report as import_report
from households.models import Household, HouseholdEvent, HouseholdIncome, Member
from households.services import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from povertyapp.ledgers.reader import UnsafeXml, XlsxReader, decode_escapes
from tests import factories


def _openpyxl_rows(path: str) -> dict[str, dict[int, tuple]]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    found = {}
    for worksheet in workbook.worksheets:
        rows = {}
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            values = list(values)
            while values and values[-1] is None:
                values.pop()
            if values:
                rows[number] = tuple(values)
        found[worksheet.title] = rows
    workbook.close()
    return found


def _reader_rows(path: str) -> dict[str, dict[int, tuple]]:
    with XlsxReader(path) as reader:
        return {
            title: {number: values for number, values in reader.rows(part) if values}
            for title, part in reader.sheets()
        }


def _decoded(rows: dict[str, dict[int, tuple]]) -> dict[str, dict[int, tuple]]:
    """openpyxl leaves the `_xHHHH_` escapes of inline strings encoded (and writes its own
    strings inline, unescaped); the reader decodes them in every string, as Excel does."""
    return {
        title: {
            number: tuple(decode_escapes(v) if isinstance(v, str) else v for v in values)
            for number, values in found.items()
        }
        for title, found in rows.items()
    }


CELLS = [
    ["户编号", "姓名", "出生日期", "耕地", "是否", "空", "证件号码"],
    ["H1", "张三", datetime.datetime(1980, 5, 17), 3.5, True, None, "52262219800517001X"],
    ["H2", "=不是公式", datetime.datetime(2000, 2, 29), 12, False, None, "'0123"],
    [None, None, None, None, None, None, None],
    ["H3", "多行\n文字 _x000D_", datetime.datetime(1899, 12, 31), -0.25, None, "", "苗族"],
]


def test_reader_matches_openpyxl_on_shared_strings_and_dates(tmp_path):
    path = str(tmp_path / "openpyxl.xlsx")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "户台账"
    for row in CELLS:
        sheet.append(row)
    sheet["C3"].number_format = "yyyy年m月d日"
    sheet.cell(8, 3).value = 45000  # a number shown as a plain number, far below
    second = workbook.create_sheet("人员台账")
    second["B2"] = "跳过A列"
    workbook.save(path)
    assert _reader_rows(path) == _decoded(_openpyxl_rows(path))


@pytest.mark.parametrize("constant_memory", [True, False])
def test_reader_matches_openpyxl_on_inline_strings(tmp_path, constant_memory):
    path = str(tmp_path / "xlsxwriter.xlsx")
    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": constant_memory, "strings_to_formulas": False}
    )
    sheet = workbook.add_worksheet("人员台账")
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for row_index, row in enumerate(CELLS):
        for col_index, value in enumerate(row):
            if isinstance(value, datetime.datetime):
                sheet.write_datetime(row_index, col_index, value, dates)
            elif isinstance(value, bool):
                sheet.write_boolean(row_index, col_index, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(row_index, col_index, value)
            elif isinstance(value, str):
                sheet.write_string(row_index, col_index, value)
    workbook.close()
    expected = _openpyxl_rows(path)
    if constant_memory:
        expected = _decoded(expected)
    assert _reader_rows(path) == expected
    assert _reader_rows(path)["人员台账"][5][1] == "多行\n文字 _x000D_"


def _with_sheet_xml(source: str, target: str, change) -> None:
    with zipfile.ZipFile(source) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = change(parts["xl/worksheets/sheet1.xml"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with open(target, "wb") as handle:
        handle.write(buffer.getvalue())


def test_reader_refuses_entities_and_unchecked_encodings(tmp_path):
    plain = str(tmp_path / "plain.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active.append(["a"])
    workbook.save(plain)
    evil = str(tmp_path / "evil.xlsx")
    for change in (
        lambda xml: xml.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY e "x">]><worksheet', 1),
        lambda xml: (
            xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)
            if b'encoding="UTF-8"' in xml
            else b'<?xml version="1.0" encoding="UTF-7"?>' + xml
        ),
    ):
        _with_sheet_xml(plain, evil, change)
        with XlsxReader(evil) as reader, pytest.raises(UnsafeXml):
            list(reader.rows(reader.sheets()[0][1]))


def test_reader_places_cells_without_references_after_empty_ones(tmp_path):
    """Cells may omit their reference (r=): each then follows the previous cell, which may be
    an empty formatted cell the reader skips without working out its column."""
    plain = str(tmp_path / "plain.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active.append(["a"])
    workbook.save(plain)
    rows = (
        b'<sheetData><row r="1"><c r="B1" t="inlineStr"><is><t>b</t></is></c>'
        b'<c r="C1" s="0"/><c r="D1" s="0"/><c><v>5</v></c></row>'
        b'<row r="2"><c s="0"/><c><v>1</v></c><c r="E2" s="0"/><c t="inlineStr"><is><t>f</t>'
        b"</is></c></row>"
        b'<row r="3"><c r="C3"/><c r="D3" t="inlineStr"><is><t/></is></c><c><v>2.5</v></c></row>'
        b"</sheetData>"
    )

    def change(xml: bytes) -> bytes:
        start, end = xml.index(b"<sheetData"), xml.index(b"</sheetData>") + len(b"</sheetData>")
        return xml[:start] + rows + xml[end:]

    odd = str(tmp_path / "odd.xlsx")
    _with_sheet_xml(plain, odd, change)
    with XlsxReader(odd) as reader:
        found = list(reader.rows(reader.sheets()[0][1]))
    assert found == [
        (1, (None, "b", None, None, 5)),
        (2, (None, 1, None, None, None, "f")),
        (3, (None, None, None, "", 2.5)),
    ]


def test_field_check_reports_what_full_clean_reports():
    bad_household = {
        "number": "X" * 40,
        "status": "poor",
        "phone": "1" * 30,
        "planned_exit_year": 2200,
        "cultivated_land": Decimal("-1.00"),
        "distance_to_road_km": Decimal("123456.78"),
        "identification_standard": "乱填",
    }
    instance = Household(**bad_household)
    with pytest.raises(ValidationError) as caught:
        instance.full_clean(
            exclude=["village", "group", "created_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    expected = {key: [e.messages for e in items] for key, items in caught.value.error_dict.items()}
    for _round in range(2):  # the second time from the cache
        found = validation._HOUSEHOLD_CHECK.errors(bad_household)
        assert {key: [e.messages for e in items] for key, items in found.items()} == expected
        assert list(found) == list(expected)  # in the model's field order, as full_clean
    bad_member = {"name": "名" * 40, "sex": "男", "birth_date": None, "work_months": 13}
    member = Member(**{k: v for k, v in bad_member.items() if v is not None})
    with pytest.raises(ValidationError) as caught:
        member.full_clean(exclude=["household"], validate_unique=False, validate_constraints=False)
    expected = {
        f"m.{key}": [e.messages for e in items] for key, items in caught.value.error_dict.items()
    }
    found = validation._MEMBER_CHECK.errors(
        {k: v for k, v in bad_member.items() if v is not None}, "m."
    )
    assert {key: [e.messages for e in items] for key, items in found.items()} == expected
    assert list(found) == list(expected)


@pytest.mark.parametrize("model", [Household, Member, HouseholdIncome])
def test_the_quick_test_of_a_field_passes_only_what_full_clean_passes(model):
    """`_certainly_clean` spares `Field.clean` for a name, an ID number or a birth date: over
    every field it serves, texts at and past the limit, empty and blank texts, numbers, dates
    and datetimes, each field's errors equal `full_clean`'s for the same value, and the
    fields it serves include the high-cardinality ones."""
    exclude = {
        Household: ["village", "group", "created_by", "county"],
        Member: ["household", "county"],
        HouseholdIncome: ["household"],
    }[model]
    check = validation._FieldCheck(model, exclude)
    served = {
        field.name
        for field, attname, _default, _cache in check.fields
        if check.by_attname[attname][2] is not None
    }
    if model is Member:
        assert {"name", "id_number", "birth_date"} <= served
    if model is Household:
        assert {"number", "phone", "bank_account"} <= served
    for field, attname, _default, _cache in check.fields:
        if field.name not in served:
            continue
        limit = getattr(field, "max_length", None) or 10
        for value in (
            "名" * limit,
            "名" * (limit + 1),
            "a",
            "",
            " ",
            7,
            None,
            datetime.date(2020, 2, 29),
            datetime.datetime(2020, 2, 29, 8, 0),
            "2020-02-29",
            "2020-02-30",
        ):
            quick = check.by_attname[attname][2]
            try:
                model(**{attname: value}).full_clean(
                    exclude=exclude, validate_unique=False, validate_constraints=False
                )
            except ValidationError as error:
                expected = [e.messages for e in error.error_dict.get(field.name, [])]
            except TypeError:  # Django's own check cannot take it: never passed quickly
                assert not quick(value), (field.name, value)
                continue
            else:
                expected = []
            for _round in range(2):
                found = check.errors({attname: value}).get(field.name, [])
                assert [e.messages for e in found] == expected, (field.name, value)


def test_remembered_field_errors_keep_none_of_the_callers_frames():
    """The field check remembers its answers for the life of the process (a worker's): an
    answer that kept its exception's traceback kept the frames that raised it and every local
    of their callers, a batch of staged rows among them (13 MB at 20k households)."""

    class Batch:
        pass

    check = validation._FieldCheck(Member, ["household", "county"])  # nothing remembered yet

    def validate() -> weakref.ref[Batch]:
        batch = Batch()
        found = check.errors({"name": "名" * 40, "sex": "男", "work_months": 13}, "m.")
        assert "m.work_months" in found and "m.relation" in found  # a value and a default
        return weakref.ref(batch)

    alive = validate()
    gc.collect()
    assert alive() is None
    for _field, _attname, _default, cache in check.fields:
        for problems in cache.values():
            for problem in problems or ():
                assert problem.__traceback__ is None and problem.__context__ is None


def _row(instance, exclude: set[str]) -> dict:
    # Generated columns (the stored 信息录入率 terms) are derived, not kept in the history.
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in exclude and not f.generated
    }


def test_bulk_registration_writes_what_household_create_writes(cast, county):
    members = [
        factories.member_data(name="王大"),
        factories.member_data(
            name="刘芳", relation="配偶", sex="女", birth_date=datetime.date(1983, 12, 1)
        ),
    ]
    values = {
        "village": county.village_a,
        "group": county.group_a2,
        "main_cause": "缺技术",
        "poverty_attribute": "一般贫困户",
        "cultivated_land": Decimal("2.50"),
        "water_safe": True,
    }
    by_service = household_services.household_create(
        actor=cast.county,
        data=values,
        members=[dict(m) for m in members],
        status=Household.Status.POOR,
        number="SERVICE1",
        reason="导入",
    )
    twin = [dict(m, id_number=factories.id_number(m["birth_date"], m["sex"])) for m in members]
    with transaction.atomic():
        counts = household_services.households_bulk_register(
            actor=cast.county,
            households=[
                (
                    {
                        **values,
                        "number": "BULK1",
                        "status": Household.Status.POOR,
                        "exit_year": None,
                    },
                    twin,
                    (2025, {"wage": Decimal("1000.00")}),
                )
            ],
            reason="导入",
        )
    assert counts == (1, 2, 1)
    by_bulk = Household.objects.get(number="BULK1")
    skip = {"id", "number", "created_at", "updated_at"}
    assert _row(by_bulk, skip) == _row(by_service, skip)
    # (and the ID number's blind index, issue 14: the twins have other ID numbers)
    skip_member = {"id", "household_id", "id_number", "id_number_index", "created_at", "updated_at"}
    assert [_row(m, skip_member) for m in by_bulk.members.order_by("id")] == [
        _row(m, skip_member) for m in by_service.members.order_by("id")
    ]
    for model, instance in ((Household, by_bulk), (Household, by_service)):
        history = model.history.get(id=instance.pk)
        assert (history.history_type, history.history_user, history.history_change_reason) == (
            "+",
            cast.county,
            "导入",
        )
        history_fields = {"history_id", "history_date", "history_change_reason", "history_type"}
        # The county key is derived from the village, which the history keeps: not in it.
        assert _row(history, history_fields | {"history_user_id"} | skip) == _row(
            instance, skip | {"county_id"}
        )
    for member in by_bulk.members.all():
        history = Member.history.get(id=member.pk)
        assert (history.history_user, history.history_change_reason, history.name) == (
            cast.county,
            "导入",
            member.name,
        )
    event_fields = {"id", "household_id", "created_at"}
    assert _row(by_bulk.events.get(), event_fields) == _row(by_service.events.get(), event_fields)
    income = HouseholdIncome.objects.get(household=by_bulk)
    assert (income.year, income.wage, income.history.get().history_user) == (
        2025,
        Decimal("1000.00"),
        cast.county,
    )


def test_bulk_registration_refuses_what_the_service_refuses(cast, county):
    item = (
        {"village": county.village_a, "number": "B2", "status": "poor", "exit_year": None},
        [factories.member_data()],
        None,
    )
    with transaction.atomic(), pytest.raises(ValidationError) as caught:
        household_services.households_bulk_register(actor=cast.cadre, households=[item], reason="")
    assert caught.value.code == "status_requires_county"
    outside = ({**item[0], "village": county.village_b, "status": "non_registered"}, *item[1:])
    with transaction.atomic(), pytest.raises(ValidationError) as caught:
        household_services.households_bulk_register(
            actor=cast.cadre, households=[outside], reason=""
        )
    assert caught.value.code == "out_of_scope"
    assert Household.objects.count() == 0


def _export(tmp_path, user) -> str:
    from povertyapp.ledgers.services import ledger_write

    path = str(tmp_path / "registry.xlsx")
    ledger_write(user=user, key="registry", filters={"income_year": "2025"}, path=path)
    return path


def couples(cast, county, count: int) -> None:
    """`count` households of village A, each a head and a spouse."""
    for index in range(count):
        factories.household(
            actor=cast.county,
            village=county.village_a,
            members=[
                factories.member_data(name=f"户主{index}"),
                factories.member_data(
                    name=f"配偶{index}",
                    relation="配偶",
                    sex="女",
                    birth_date=datetime.date(1981, 1, 1 + index),
                ),
            ],
        )


def test_members_sheet_in_any_order_and_no_staging_file_left(tmp_path, cast, county, settings):
    couples(cast, county, 3)
    before = {h.number: sorted(m.name for m in h.members.all()) for h in Household.objects.all()}
    path = _export(tmp_path, cast.county)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["人员台账"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5, max_row=10)]
    for offset, values in enumerate(reversed(rows)):  # members in the opposite order
        for column, value in enumerate(values, start=1):
            sheet.cell(5 + offset, column).value = value
    workbook.save(path)
    HouseholdEvent.objects.all().delete()
    HouseholdIncome.objects.all().delete()
    Member.objects.all().delete()
    Household.objects.all().delete()
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.errors == [] and report.written
    after = {h.number: sorted(m.name for m in h.members.all()) for h in Household.objects.all()}
    assert after == before
    assert os.listdir(tmp_path / "imports") == []  # the staging file is gone


def test_import_tells_rows_read_checked_and_written(tmp_path, cast, county, settings, monkeypatch):
    """The phase and its counts go to `tell` (the job's message on the import page)."""
    for index in range(3):
        factories.household(
            actor=cast.county,
            village=county.village_a,
            members=[factories.member_data(name=f"户主{index}")],
        )
    path = _export(tmp_path, cast.county)
    HouseholdEvent.objects.all().delete()
    HouseholdIncome.objects.all().delete()
    Member.objects.all().delete()
    Household.objects.all().delete()
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    monkeypatch.setattr(validation, "READ_STEP", 2)
    monkeypatch.setattr(validation, "BATCH", 2)
    told: list[str] = []
    done: list[int] = []
    report = import_households(
        actor=cast.county, path=path, dry_run=False, progress=done.append, tell=told.append
    )
    assert report.errors == [] and report.written and Household.objects.count() == 3
    assert told == [
        "正在读取“人员台账”工作表……",
        "正在读取“人员台账”工作表：已读取2行",
        "正在读取“户台账”工作表……",
        "正在读取“户台账”工作表：已读取2行",
        "已读取3户、3名成员，正在校验……",
        "正在校验：已校验2户",
        "校验通过，正在写入……",
        "正在写入：已写入3户",
    ]
    assert sum(done) == 6  # each household validated, then written


def test_errors_beyond_the_detail_limit_are_counted(tmp_path, cast, county, monkeypatch):
    # The limit is read where the report trims its errors, so it is patched there.
    monkeypatch.setattr(import_report, "ERROR_DETAIL_LIMIT", 5)
    path = str(tmp_path / "many.xlsx")
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.append(["户编号", "乡（镇）", "行政村", "户状态"])
    members = workbook.create_sheet()
    members.append(["户编号", "姓名", "证件号码", "与户主关系"])
    for index in range(12):
        households.append([f"N{index}", "新州镇", "没有这个村", "未脱贫"])
    workbook.save(path)
    report = import_households(actor=cast.county, path=path, dry_run=True)
    assert len(report.errors) == 5
    assert report.error_count == 12
    assert report.as_dict()["error_count"] == 12
    assert [error.row for error in report.errors] == [2, 3, 4, 5, 6]


def test_household_fields_survive_a_round_trip_through_the_bulk_path(tmp_path, cast, county):
    household = factories.household(
        actor=cast.county,
        village=county.village_a,
        group=county.group_a2,
        cause_note="=说明",
        housing_area=Decimal("80.50"),
    )
    before = {field: getattr(household, field) for field in HOUSEHOLD_FIELDS}
    members_before = [
        tuple(getattr(m, f) for f in MEMBER_FIELDS) for m in household.members.order_by("name")
    ]
    path = _export(tmp_path, cast.county)
    HouseholdEvent.objects.all().delete()
    Member.objects.all().delete()
    Household.objects.all().delete()
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.errors == []
    again = Household.objects.get(number=household.number)
    assert {field: getattr(again, field) for field in HOUSEHOLD_FIELDS} == before
    assert [
        tuple(getattr(m, f) for f in MEMBER_FIELDS) for m in again.members.order_by("name")
    ] == members_before


def test_staged_rows_come_back_as_they_went_in(tmp_path, settings):
    """Rows are staged as tuples of their values (keys kept once per sheet); a row with other
    keys (an unreadable cell has none) is staged as its dict; both come back as the same
    dicts, in file order, and the tuple form is what the common rows take."""
    from households.imports.staging import _Staging

    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    full = {"number": "H1", "size": 3, "area": Decimal("1.50"), "day": datetime.date(2020, 1, 2)}
    short = {"number": "H2", "size": 4}  # "area" and "day" could not be read
    members = [
        (5, "H1", "1", {"household_number": "H1", "name": "张三", "id_number": "1"}),
        (6, "H2", None, {"household_number": "H2", "name": "李四"}),
        (7, "H1", None, {"household_number": "H1", "name": "王五", "id_number": ""}),
    ]
    with _Staging() as staging:
        assert staging.add_households(iter([(5, full), (6, short), (7, dict(full, number="H3"))]))
        staging.add_members(iter(members))
        batches = list(staging.household_batches(2))
        assert [row for batch in batches for row in batch] == [
            (5, full, None),
            (6, short, None),
            (7, dict(full, number="H3"), None),
        ]
        assert list(staging.repeated_members()) == []
        assert staging.members_of(["H1", "H2"]) == {
            "H1": [(5, members[0][3]), (7, members[2][3])],
            "H2": [(6, members[1][3])],
        }
        stored = [
            pickle.loads(data)
            for (data,) in staging.db.execute("SELECT data FROM households ORDER BY seq")
        ]
        assert stored[0] == ("H1", 3, Decimal("1.50"), datetime.date(2020, 1, 2))
        assert stored[1] == short and stored[2][0] == "H3"
        assert staging.household_rows.keys == ("number", "size", "area", "day")


def test_repeated_numbers_and_id_numbers_are_found_in_the_staging_file(tmp_path, settings):
    """A 户编号 or an ID number given twice is found in the staging file, not in a dict of
    the whole sheet: each later row comes with the first row that holds it, in file order;
    the repeated member rows leave the staged members (they are errors, not members)."""
    from households.imports.staging import _Staging

    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")
    households = [(2, {"number": "H1"}), (3, {"number": ""}), (4, {"number": "H2"})]
    households += [(5, {"number": "H1"}), (6, {"number": ""}), (7, {"number": "H1"})]
    member = {"household_number": "H1", "name": "张三"}
    members = [(2, "H1", "A"), (3, "H1", None), (4, "H2", "B"), (5, "H2", "A"), (6, "H1", None)]
    members += [(7, "H1", "B"), (8, "H2", "A"), (9, "H2", "C")]
    with _Staging() as staging:
        staging.add_households(iter(households))
        staging.add_members(
            (row, number, key, dict(member, row=row)) for row, number, key in members
        )
        firsts = [
            (row, first) for batch in staging.household_batches(4) for row, _v, first in batch
        ]
        assert firsts == [(2, None), (3, None), (4, None), (5, 2), (6, None), (7, 2)]
        repeated = [
            (row, first, values["row"]) for row, first, values in staging.repeated_members()
        ]
        assert repeated == [(5, 2, 5), (7, 4, 7), (8, 2, 8)]
        assert staging.members_of(["H1", "H2"]) == {
            "H1": [(row, dict(member, row=row)) for row in (2, 3, 6)],
            "H2": [(row, dict(member, row=row)) for row in (4, 9)],
        }
