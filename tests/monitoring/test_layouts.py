"""The departments' layouts as data: header spellings, required fields, risk types, who uploads
which layout; and a header found wherever its columns are."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest

from monitoring import layouts, lists
from monitoring.models import DepartmentList, RiskType
from povertyapp.models import User
from tests import factories
from tests.monitoring.test_lists_support import department_user, workbook_bytes

Department = User.Department


def test_every_layout_has_name_and_id_required_and_unique_spellings():
    assert len({layout.key for layout in layouts.LAYOUTS}) == len(layouts.LAYOUTS)
    for layout in layouts.LAYOUTS:
        required = {item.key for item in layout.required}
        assert {"name", "id_number"} <= required, layout.key
        spellings = [layouts.normalise_header(h) for item in layout.fields for h in item.headers]
        assert len(spellings) == len(set(spellings)), layout.key
        if layout.purpose == DepartmentList.Purpose.RISK:
            assert layout.risk_type in RiskType.values, layout.key
        else:
            assert layout.risk_type == ""


def test_the_risk_each_department_raises():
    risk = {layout.key: layout.risk_type for layout in layouts.LAYOUTS}
    assert risk["medical_costs"] == RiskType.ILLNESS
    assert risk["dropout"] == risk["student_aid"] == RiskType.EDUCATION
    assert risk["disability"] == RiskType.DISABILITY
    assert risk["disaster"] == RiskType.DISASTER
    assert risk["accident"] == risk["casualty"] == RiskType.ACCIDENT
    assert risk["unsafe_housing"] == RiskType.HOUSING
    assert risk["unemployment"] == RiskType.EMPLOYMENT
    assert layouts.get("medical_costs").standard == layouts.MEDICAL_THRESHOLD
    assert layouts.get("vehicles").standard == layouts.VEHICLE_VALUE
    scrutiny = {
        layout.key
        for layout in layouts.LAYOUTS
        if layout.purpose == DepartmentList.Purpose.SCRUTINY
    }
    assert scrutiny == {"vehicles", "property", "enterprises", "public_payroll", "village_cadres"}


def test_spellings_are_normalised():
    mapping = layouts.header_map(layouts.get("medical_costs"))
    for header in ("身份证号", "身份证号码", "证件号码", " 公民身份\n号码 ", "身份证号*"):
        assert mapping[layouts.normalise_header(header)] == "id_number"
    assert mapping["患者姓名"] == mapping["姓名"] == "name"


@pytest.mark.django_db
def test_layouts_by_account(county):
    officer = factories.user("county_l", User.Role.COUNTY_OFFICER, county.county)
    jiaoyu = department_user("jiaoyu_l", Department.EDUCATION, county.county)
    cadre = factories.user("cadre_l", User.Role.VILLAGE_CADRE, county.village_a)
    assert {layout.key for layout in layouts.layouts_for(jiaoyu)} == {"dropout", "student_aid"}
    assert len(layouts.layouts_for(officer)) == len(layouts.LAYOUTS)
    assert layouts.layouts_for(cadre) == []
    assert layouts.may_upload(jiaoyu, layouts.get("dropout"))
    assert not layouts.may_upload(jiaoyu, layouts.get("medical_costs"))


@pytest.mark.django_db
def test_header_found_wherever_the_columns_are_and_extra_columns_kept(tmp_path):
    number = factories.id_number(datetime.date(1970, 3, 4))
    rows = [
        ["", "", "学校名称", "备注", "学生姓名", "家长电话", "身份证件号码"],
        ["", "", "县一中", "辍学半年", "张小明", "13800001111", number],
    ]
    path = tmp_path / "list.xlsx"
    path.write_bytes(workbook_bytes(rows, before=3))
    with mock.patch("households.services.common.today", return_value=datetime.date(2026, 1, 1)):
        read = lists.read(
            str(path), layouts.get("dropout"), max_rows=10, today=datetime.date(2026, 1, 1)
        )
    (row,) = read
    assert row.number == 5
    assert row.values["name"] == "张小明" and row.values["id_number"] == number
    assert row.values["school"] == "县一中" and row.values["difficulty"] == "辍学半年"
    assert row.details == {"家长电话": "13800001111"}


def test_a_list_is_named_by_its_layout_in_words():
    """The admin and the logs name a list by its layout's label, not its key (a list recorded
    before the layouts keeps the department's own name for it)."""
    from monitoring.models import DepartmentList

    pushed = DepartmentList(
        department="medical_insurance", layout="medical_costs", period="2026年5月"
    )
    assert str(pushed) == "医保 大额医疗费用个人自付 2026年5月"
    older = DepartmentList(department="civil_affairs", layout="民政新增低保名单", period="")
    assert str(older) == "民政 民政新增低保名单"
