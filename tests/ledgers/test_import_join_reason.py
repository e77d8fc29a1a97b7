"""A member the import adds to a registered household during a round is a 自然增减·增员 with
its reason from the 增员 value list (出生, 婚入, …), as the household form records it."""

from __future__ import annotations

import datetime

import openpyxl
from django.utils import timezone

from households.imports import import_households
from households.models import HouseholdEvent, Member
from povertyapp.ledgers.services import ledger_write
from rounds.models import AdjustmentRound
from tests import factories


def _workbook_adding_a_child(tmp_path, cast, household, reason: str | None) -> str:
    path = str(tmp_path / "registry.xlsx")
    ledger_write(user=cast.county, key="registry", filters={"income_year": "2025"}, path=path)
    workbook = openpyxl.load_workbook(path)
    members = workbook["人员台账"]
    header = {
        cell.value: cell.column
        for row in members.iter_rows(min_row=3, max_row=4)
        for cell in row
        if cell.value
    }
    last = members.max_row + 1
    # The exported ledger has no 增员原因 column (it exists on import only): add it.
    reason_column = max(header.values()) + 1
    members.cell(4, reason_column).value = "增员原因"
    values = {
        "户编号": household.number,
        "姓名": "王妞",
        "证件类型": "居民身份证",
        "证件号码": factories.id_number(datetime.date(2026, 6, 1), "女"),
        "性别": "女",
        "与户主关系": "之女",
        "民族": "苗族",
        "健康状况": "健康",
        "生存状态": "正常",
    }
    for key, value in values.items():
        members.cell(last, header[key]).value = value
    members.cell(last, reason_column).value = reason
    workbook.save(path)
    return path


def open_round(county) -> AdjustmentRound:
    return AdjustmentRound.objects.create(
        county=county.county, year=2026, name="2026年动态调整", opened_at=timezone.now()
    )


def test_a_member_added_during_a_round_takes_the_reason_from_the_value_list(tmp_path, cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    open_round(county)
    path = _workbook_adding_a_child(tmp_path, cast, household, "出生")
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert report.errors == []
    added = Member.objects.get(household=household, name="王妞")
    event = household.events.get(kind=HouseholdEvent.Kind.MEMBER_JOINED, member=added)
    assert event.reason == "出生"
    assert event.round == AdjustmentRound.objects.get()
    assert added.history.get().history_change_reason == "出生"


def test_a_member_added_during_a_round_without_a_reason_is_refused_naming_the_list(
    tmp_path, cast, county
):
    household = factories.household(actor=cast.county, village=county.village_a)
    open_round(county)
    path = _workbook_adding_a_child(tmp_path, cast, household, None)
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert [(error.column, error.message) for error in report.errors] == [
        ("增员原因", "动态调整期间新增成员须填写增员原因（出生、婚入、迁入、刑满释放、其他）。")
    ]
    assert not Member.objects.filter(name="王妞").exists()


def test_a_reason_outside_the_value_list_is_refused(tmp_path, cast, county):
    household = factories.household(actor=cast.county, village=county.village_a)
    path = _workbook_adding_a_child(tmp_path, cast, household, "导入")
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert [(error.column, error.message) for error in report.errors] == [
        (
            "增员原因",
            "增员原因“导入”不在值列表中，请选择：出生、婚入、迁入、刑满释放、其他。",
        )
    ]
    assert not Member.objects.filter(name="王妞").exists()
