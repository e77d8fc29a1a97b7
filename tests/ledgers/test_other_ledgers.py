"""Ledgers over the assistance records: scope, layout, 报账率."""

from __future__ import annotations

import datetime
from decimal import Decimal

import openpyxl

from assistance import services as assistance_services
from assistance.exports import reimbursement_rate
from povertyapp.ledgers import all_ledgers
from povertyapp.ledgers.services import ledger_write


def _sheet(tmp_path, user, key, filters=None):
    path = str(tmp_path / f"{key}.xlsx")
    result = ledger_write(user=user, key=key, filters=filters or {}, path=path)
    return openpyxl.load_workbook(path).worksheets[0], result


def _headers(sheet, rows=(3, 4)):
    return {
        c.value: c.column
        for r in sheet.iter_rows(min_row=rows[0], max_row=rows[1])
        for c in r
        if c.value
    }


def test_assistance_ledgers_are_offered(db):
    keys = {ledger.key for ledger in all_ledgers()}
    assert {
        "households",
        "members",
        "registry",
        "pairings",
        "measures",
        "projects",
        "funds",
    } <= keys
    assert "coverage" not in keys  # no coverage check has run: not offered


def test_pairing_ledger_lists_the_helper_within_scope(tmp_path, cast, household_a, household_b):
    sheet, result = _sheet(tmp_path, cast.county, "pairings")
    assert result.rows == 1
    headers = _headers(sheet)
    assert sheet.cell(5, headers["户编号"]).value == household_a.number
    assert sheet.cell(5, headers["帮扶责任人"]).value == "helper"
    assert sheet.cell(5, headers["开始日期"]).value == datetime.datetime(2019, 1, 1)
    assert sheet.cell(5, headers["当前状态"]).value == "在帮"
    _sheet_b, result_b = _sheet(tmp_path, cast.cadre2, "pairings")
    assert result_b.rows == 0


def test_measure_ledger_totals_amounts(tmp_path, cast, household_a, household_b):
    for household, amount in ((household_a, "1200.50"), (household_b, "800")):
        assistance_services.measure_create(
            actor=cast.county,
            household=household,
            data={
                "year": 2020,
                "category": "产业帮扶",
                "content": "=发放鸡苗",
                "amount": amount,
                "fund_source": "社会帮扶",
            },
        )
    sheet, result = _sheet(tmp_path, cast.county, "measures", {"year": "2020"})
    assert result.rows == 2
    headers = _headers(sheet)
    assert sheet.cell(7, 1).value == "合计"
    assert sheet.cell(7, headers["帮扶资金"]).value == 2000.5
    assert sheet.cell(5, headers["措施内容"]).value == "'=发放鸡苗"
    assert sheet.cell(5, headers["状态"]).value == "计划"
    _sheet_a, result_a = _sheet(tmp_path, cast.cadre, "measures")
    assert result_a.rows == 1


def test_reimbursement_rate():
    assert reimbursement_rate(Decimal("250"), Decimal("1000")) == Decimal("25.00")
    assert reimbursement_rate(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert reimbursement_rate(Decimal("0"), Decimal("0")) is None


def test_rectification_ledger_marks_overdue_items(tmp_path, cast, county):
    from inspections.models import RectificationItem

    today = datetime.date.today()
    common = {
        "source": "county",
        "category": "帮扶措施",
        "responsible_unit": "县扶贫办",
        "responsible_person": "王五",
        "created_by": cast.county,
    }
    RectificationItem.objects.create(
        region=county.village_a,
        problem="台账不全",
        deadline=today - datetime.timedelta(days=3),
        **common,
    )
    RectificationItem.objects.create(
        region=county.village_b,
        problem="+公示缺失",
        deadline=today + datetime.timedelta(days=3),
        **common,
    )
    sheet, result = _sheet(tmp_path, cast.county, "rectification")
    assert result.rows == 2
    headers = _headers(sheet)
    assert [sheet.cell(row, headers["是否逾期"]).value for row in (5, 6)] == ["是", "否"]
    assert sheet.cell(6, headers["问题描述"]).value == "'+公示缺失"
    assert sheet.cell(5, headers["问题来源"]).value == "县级录入"
    _sheet_a, result_a = _sheet(tmp_path, cast.cadre, "rectification")
    assert result_a.rows == 1


def test_round_lists_ledger_groups_the_four_lists(tmp_path, cast, county, household_a, household_b):
    from django.utils import timezone

    from povertyapp.ledgers import ledger_get
    from rounds.models import AdjustmentRound, RoundChange

    assert ledger_get("round_lists") is None  # no round change yet: not offered
    adjustment = AdjustmentRound.objects.create(
        county=county.county, year=2020, name="2020年动态调整", opened_at=timezone.now()
    )
    for household, kind in ((household_b, "removed"), (household_a, "exited")):
        RoundChange.objects.create(
            round=adjustment,
            household=household,
            village=household.village,
            kind=kind,
            persons=2,
            head_name="张三",
            reason="核实",
            proposed_by=cast.cadre,
            proposed_at=timezone.now(),
        )
    sheet, result = _sheet(tmp_path, cast.county, "round_lists")
    assert result.rows == 2
    assert sheet["A1"].value == "2020年动态调整 四类名单"
    headers = _headers(sheet)
    assert [sheet.cell(row, headers["名单"]).value for row in (5, 6)] == ["剔除", "标注脱贫"]
    assert sheet.cell(7, headers["人数"]).value == 4
    _sheet_a, masked = _sheet(tmp_path, cast.auditor, "round_lists")
    assert masked.rows == 2
