"""Hostile or broken department workbooks are refused with a clear Chinese message, and nothing
of the list is written (no list row, no clue, no task)."""

from __future__ import annotations

import datetime
import io
import zipfile
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from monitoring import lists
from monitoring.models import Clue, DepartmentList, ScrutinyTask
from povertyapp.models import User
from tests import factories
from tests.monitoring.test_lists_support import (
    department_user,
    medical_rules,
    upload,
    workbook_bytes,
)

TODAY = datetime.date(2026, 6, 15)
HEADER = ["患者姓名", "身份证号", "个人自付金额"]


@pytest.fixture(autouse=True)
def _today():
    with mock.patch("households.services.common.today", return_value=TODAY):
        yield


@pytest.fixture
def yibao(county):
    medical_rules(county.county)
    return department_user("yibao_h", User.Department.MEDICAL_INSURANCE, county.county)


def good_rows(count: int = 2) -> list[list[object]]:
    return [HEADER] + [
        ["某某", factories.id_number(datetime.date(1950, 2, day)), 20000]
        for day in range(1, count + 1)
    ]


def refused(actor, data: bytes, name: str = "名单.xlsx") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        lists.list_upload(
            actor=actor,
            layout_key="medical_costs",
            period="2026年5月",
            file=upload(data, name),
            filename=name,
        )
    assert not DepartmentList.objects.exists()
    assert not Clue.objects.exists() and not ScrutinyTask.objects.exists()
    return caught.value


def codes(error: ValidationError) -> set[str]:
    return {item.code for item in error.error_list if item.code}


def rezip(data: bytes, *, add: dict[str, bytes] | None = None, replace=None) -> bytes:
    """The workbook's package with parts added, or a part's bytes replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if replace and info.filename in replace:
                content = replace[info.filename](content)
            target.writestr(info.filename, content)
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def test_a_renamed_file_is_not_a_workbook(yibao):
    error = refused(yibao, b"%PDF-1.4 not a workbook at all", "名单.xlsx")
    assert "不是Excel工作簿" in error.messages[0]


def test_a_password_protected_or_xls_file(yibao):
    error = refused(yibao, lists.OLE_MAGIC + b"\x00" * 2048)
    assert codes(error) == {"encrypted"} and "密码" in error.messages[0]


def test_a_zip_bomb(yibao):
    bomb = rezip(workbook_bytes(good_rows()), add={"xl/media/padding.bin": b"\x00" * 5_000_000})
    error = refused(yibao, bomb)
    assert "压缩炸弹" in error.messages[0]


def test_macros(yibao):
    error = refused(
        yibao, rezip(workbook_bytes(good_rows()), add={"xl/vbaProject.bin": b"\x01" * 64})
    )
    assert "宏" in error.messages[0]


def test_external_links(yibao):
    data = rezip(
        workbook_bytes(good_rows()),
        add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"},
    )
    error = refused(yibao, data)
    assert codes(error) == {"external_links"} and "外部链接" in error.messages[0]


def test_formulas(yibao):
    rows = good_rows()
    rows[1][2] = "=10000*3"
    error = refused(yibao, workbook_bytes(rows))
    assert codes(error) == {"formulas"} and "公式" in error.messages[0]


def test_xml_entities_in_a_sheet(yibao):
    def poison(content: bytes) -> bytes:
        return content.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1)

    data = rezip(workbook_bytes(good_rows()), replace={"xl/worksheets/sheet1.xml": poison})
    error = refused(yibao, data)
    assert "不安全的XML" in error.messages[0]


def test_huge_dimension_far_cell(yibao):
    workbook = Workbook()
    sheet = workbook.active
    for row in good_rows():
        sheet.append(row)
    sheet.cell(row=1_048_576, column=1, value="远处的单元格")
    buffer = io.BytesIO()
    workbook.save(buffer)
    error = refused(yibao, buffer.getvalue())
    assert codes(error) == {"too_many_rows"} and "上限" in error.messages[0]


def test_huge_dimension_far_column(yibao):
    workbook = Workbook()
    sheet = workbook.active
    for row in good_rows():
        sheet.append(row)
    sheet.cell(row=2, column=16_000, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    error = refused(yibao, buffer.getvalue())
    assert codes(error) == {"too_many_rows"}


def test_too_many_rows_for_the_job(yibao, settings):
    from povertyapp import jobs
    from povertyapp.models import Job

    settings.UPLOAD_INLINE_MAX_ROWS = 2
    settings.LEDGER_IMPORT_MAX_ROWS = 4
    pushed = lists.list_upload(
        actor=yibao,
        layout_key="medical_costs",
        period="",
        file=upload(workbook_bytes(good_rows(6))),
        filename="名单.xlsx",
    )
    job = jobs.job_run(pushed.job.pk)
    assert job.status == Job.Status.FAILED and "超过4行" in job.error
    pushed.refresh_from_db()
    assert pushed.state == DepartmentList.State.REFUSED and not Clue.objects.exists()


def test_missing_required_header(yibao):
    rows = [["患者姓名", "身份证号", "医疗总费用"], ["某某", factories.id_number(), 1]]
    error = refused(yibao, workbook_bytes(rows))
    assert codes(error) == {"missing_header"} and "个人自付金额" in error.messages[0]


def test_duplicate_header_of_one_field(yibao):
    rows = [["患者姓名", "身份证号", "证件号码", "个人自付金额"]]
    error = refused(yibao, workbook_bytes(rows))
    assert codes(error) == {"duplicate_header"} and "证件号码" in error.messages[0]


def test_duplicate_header_text(yibao):
    rows = [["患者姓名", "身份证号", "个人自付金额", "备注", "备注"]]
    error = refused(yibao, workbook_bytes(rows))
    assert codes(error) == {"duplicate_header"}


def test_bad_rows_refuse_the_list_and_are_all_listed(yibao):
    good = factories.id_number(datetime.date(1960, 1, 1))
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        HEADER,
        ["甲", good, 20000],
        ["乙", bad_checksum, 20000],
        ["丙", int(good[:15]), 20000],  # a number: the last digits are lost
        ["", good, "二万"],
    ]
    error = refused(yibao, workbook_bytes(rows))
    text = "\n".join(error.messages)
    assert codes(error) == {"invalid_row"}
    assert "第3行" in text and "校验位" in text
    assert bad_checksum not in text  # the ID is masked in the message
    assert "第4行" in text and "文本格式" in text
    assert "第5行：请填写“姓名”" in text and "第5行“个人自付金额”" in text
    assert "第2行" not in text


def test_an_empty_list(yibao):
    error = refused(yibao, workbook_bytes([HEADER]))
    assert "没有数据行" in error.messages[0]


def test_two_sheets_of_one_list_are_refused(yibao):
    """A second sheet with the list's header would have been left out without a word: the
    list is refused, naming both sheets."""
    workbook = Workbook()
    first = workbook.active
    first.title = "名单"
    for row in good_rows(2):
        first.append(row)
    second = workbook.create_sheet("名单（2）")
    for row in good_rows(3):
        second.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    error = refused(yibao, buffer.getvalue())
    assert codes(error) == {"two_sheets"}
    assert "“名单”和“名单（2）”两张表" in error.messages[0]
