"""The pages of the departments' lists and of exclusion scrutiny, through the client."""

from __future__ import annotations

import datetime
import io
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from monitoring.models import CadreRelation, Clue, DepartmentList, ScrutinyTask
from povertyapp.models import User
from tests.conftest import login
from tests.monitoring.test_lists_support import (
    department_user,
    medical_rules,
    upload,
    workbook_bytes,
)

TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _today():
    with mock.patch("households.services.common.today", return_value=TODAY):
        yield


def _ids(household):
    return [m.id_number for m in household.members.filter(is_active=True).order_by("id")]


@pytest.fixture
def yibao(county):
    medical_rules(county.county)
    return department_user("yibao_v", User.Department.MEDICAL_INSURANCE, county.county)


def test_department_uploads_and_reads_its_list(yibao, household_a):
    client = login(yibao)
    page = client.get(reverse("monitoring:list-upload"))
    assert page.status_code == 200
    choices = dict(page.context["form"].fields["layout"].choices)
    assert list(choices) == ["medical_costs"]
    data = workbook_bytes(
        [["患者姓名", "身份证号", "个人自付金额"], ["张三", _ids(household_a)[0], 12000]]
    )
    answer = client.post(
        reverse("monitoring:list-upload"),
        {"layout": "medical_costs", "period": "2026年5月", "workbook": upload(data)},
    )
    pushed = DepartmentList.objects.get()
    assert answer.status_code == 302 and answer.url == reverse("monitoring:list", args=[pushed.pk])
    detail = client.get(answer.url)
    body = detail.content.decode()
    assert "张三" in body and _ids(household_a)[0] not in body  # masked
    assert "522" in body and "待核实" in body
    assert client.get(reverse("monitoring:lists")).status_code == 200


def test_department_cannot_choose_another_departments_layout(yibao, household_a):
    client = login(yibao)
    data = workbook_bytes([["姓名", "身份证号"], ["张三", _ids(household_a)[0]]])
    answer = client.post(
        reverse("monitoring:list-upload"),
        {"layout": "dropout", "period": "", "workbook": upload(data)},
    )
    assert answer.status_code == 400 and not DepartmentList.objects.exists()
    assert client.get(reverse("monitoring:list-template", args=["dropout"])).status_code == 404


def test_refused_upload_lists_the_bad_rows(yibao):
    client = login(yibao)
    data = workbook_bytes(
        [["患者姓名", "身份证号", "个人自付金额"], ["张三", "522622198001010000", 12000]]
    )
    answer = client.post(
        reverse("monitoring:list-upload"),
        {"layout": "medical_costs", "period": "", "workbook": upload(data)},
    )
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "第2行" in body and "均未保存" in body
    assert not DepartmentList.objects.exists() and not Clue.objects.exists()


def test_template_download_has_the_headers(yibao):
    answer = login(yibao).get(reverse("monitoring:list-template", args=["medical_costs"]))
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert [cell.value for cell in sheet[1]][:3] == ["姓名*", "身份证号*", "个人自付金额*"]


def test_other_department_gets_404_on_a_list(yibao, county, household_a):
    client = login(yibao)
    data = workbook_bytes(
        [["患者姓名", "身份证号", "个人自付金额"], ["张三", _ids(household_a)[0], 12000]]
    )
    client.post(
        reverse("monitoring:list-upload"),
        {"layout": "medical_costs", "period": "", "workbook": upload(data)},
    )
    pushed = DepartmentList.objects.get()
    other = department_user("jiaoyu_v", User.Department.EDUCATION, county.county)
    assert login(other).get(reverse("monitoring:list", args=[pushed.pk])).status_code == 404
    assert login(other).get(reverse("monitoring:scrutiny")).status_code == 403


def test_scrutiny_check_and_relation_pages(cast, county, household_a):
    CadreRelation.objects.create(
        member=household_a.members.order_by("id").first(),
        cadre_name="王主任",
        cadre_post="village_cadre",
        relation="兄弟",
    )
    county_client = login(cast.county)
    data = workbook_bytes(
        [["姓名", "身份证号", "车辆价值"], ["张三", _ids(household_a)[0], 200000]]
    )
    county_client.post(
        reverse("monitoring:list-upload"),
        {"layout": "vehicles", "period": "2026", "workbook": upload(data)},
    )
    task = ScrutinyTask.objects.get()
    cadre = login(cast.cadre)
    url = reverse("monitoring:scrutiny-task", args=[task.pk])
    page = cadre.get(url)
    assert page.status_code == 200 and "check_form" in page.context
    assert _ids(household_a)[0] not in page.content.decode()
    bad = cadre.post(url, {"action": "check", "result": "confirmed", "finding": "", "version": 1})
    assert bad.status_code == 400 and "核查属实时请填写核查情况" in bad.content.decode()
    done = cadre.post(
        url, {"action": "check", "result": "confirmed", "finding": "有车", "version": 1}
    )
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.state == ScrutinyTask.State.TOWNSHIP_REVIEW
    assert login(cast.cadre2).get(url).status_code == 404
    reviewed = login(cast.township).post(
        url, {"action": "review", "agree": "1", "opinion": "", "version": task.version}
    )
    assert reviewed.status_code == 302
    task.refresh_from_db()
    assert task.state == ScrutinyTask.State.CONFIRMED
    overview = login(cast.county).get(reverse("monitoring:scrutiny"))
    assert overview.status_code == 200 and "新州镇" in overview.content.decode()
    relations = reverse("monitoring:cadre-relations")
    assert login(cast.auditor).post(relations, {}).status_code == 403
    made = cadre.post(
        relations,
        {
            "id_number": _ids(household_a)[1],
            "cadre_name": "刘书记",
            "cadre_post": "resident_cadre",
            "relation": "姐弟",
        },
    )
    assert made.status_code == 302 and CadreRelation.objects.count() == 2
