"""A department's answer: the list's result page, the result workbook (opened with openpyxl)
and the clues API."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from monitoring import inbox, results
from monitoring.models import Clue, MonitoringObject
from povertyapp.models import AccessLog
from tests import factories
from tests.conftest import login
from tests.monitoring.clue_fixtures import (
    department_clue,
    department_user,
    freeze,
    head_id,
    push,
    signed,
)

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(monkeypatch, county, cast, household_a, household_b):
    """A 医保 push of four rows: one later 不纳入, one unmatched, one duplicate of a current
    monitoring object, one still pending."""
    today = freeze(monkeypatch, D(2026, 4, 8))
    yibao = department_user("yibao", "medical_insurance", county.county)
    source = push(county=county.county, uploaded_by=yibao)
    columns = {"_columns": ["就诊医院", "自付金额"]}
    rejected = department_clue(
        source,
        row=2,
        name="张三",
        id_number=head_id(household_a),
        received_on=today,
        details={**columns, "就诊医院": "黄平县人民医院", "自付金额": "=1+1"},
    )
    unmatched_id = factories.id_number()
    unmatched = department_clue(
        source,
        row=3,
        name="王五",
        id_number=unmatched_id,
        received_on=today,
        details={**columns, "就诊医院": "凯里市第一人民医院", "自付金额": "52000"},
    )
    MonitoringObject.objects.create(
        household=household_b,
        object_type="sudden",
        state=MonitoringObject.State.MONITORED,
        clue_date=today,
        created_by=cast.county,
    )
    duplicate = department_clue(
        source,
        row=4,
        name="张三",
        id_number=head_id(household_b),
        received_on=today,
        details={**columns, "就诊医院": "黄平县人民医院", "自付金额": "31000"},
    )
    inbox.clue_verify(
        actor=cast.cadre,
        clue=rejected,
        verified_on=today,
        note="已核实",
        expected_version=1,
        **signed(today),
    )
    inbox.clue_not_include(
        actor=cast.cadre, clue=rejected, reason="自付费用已由大病保险报销", expected_version=2
    )
    return {
        "today": today,
        "yibao": yibao,
        "list": source,
        "rejected": rejected,
        "unmatched": unmatched,
        "unmatched_id": unmatched_id,
        "duplicate": duplicate,
    }


def test_the_result_workbook_lists_every_row_with_its_result(world):
    response = login(world["yibao"]).get(
        reverse("monitoring:list-results-export", args=[world["list"].pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.values]
    assert rows[0] == [
        "行号",
        "姓名",
        "身份证号",
        "就诊医院",
        "自付金额",
        "所在村",
        "匹配结果",
        "处理结果",
        "原因",
        "处理日期",
    ]
    assert len(rows) == 4
    by_row = {row[0]: row for row in rows[1:]}
    assert by_row[2][6:9] == ["已匹配", "不纳入", "自付费用已由大病保险报销"]
    assert by_row[2][5] == "凤场村"
    assert by_row[2][9] == datetime.datetime(2026, 4, 8)
    # A department's formula is text, never run.
    assert by_row[2][4] == "'=1+1"
    assert by_row[3][6:8] == ["未匹配（待登记）", "处理中"]
    assert by_row[3][5] == "黄平县"
    assert by_row[4][6:9] == ["重复线索", "纳入监测", "该户已是监测对象"]
    # ID numbers masked; nothing else of the household.
    number = world["unmatched_id"]
    assert by_row[3][2] == number[:3] + "*" * 11 + number[-4:]
    assert number.encode() not in content
    log = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (log.target, log.object_id, log.user) == (
        "monitoring.DepartmentList",
        str(world["list"].pk),
        world["yibao"],
    )
    assert log.detail["rows"] == 3
    assert len(log.sha256) == 64


def test_the_department_home_counts_each_lists_outcomes(world):
    html = login(world["yibao"]).get(reverse("monitoring:department-home")).content.decode()
    row = html[html.index(f'data-list="{world["list"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "data-included>1<" in row
    assert "data-not-included>1<" in row
    assert "data-pending>1<" in row


def test_the_result_page_shows_results_and_no_household_detail(world, household_a):
    html = (
        login(world["yibao"])
        .get(reverse("monitoring:list-results", args=[world["list"].pk]))
        .content.decode()
    )
    assert 'data-result="not_included"' in html
    assert "自付费用已由大病保险报销" in html
    assert head_id(household_a) not in html
    assert household_a.number not in html
    assert reverse("households:detail", args=[household_a.pk]) not in html
    assert "李四" not in html  # another member of the household


def test_the_api_gives_a_department_only_the_result_fields(world):
    response = login(world["yibao"]).get("/api/v1/monitoring/clues/")
    assert response.status_code == 200
    results = {row["source_row"]: row for row in response.json()["results"]}
    assert set(results) == {2, 3, 4}
    assert set(results[2]) == {
        "id",
        "source_list",
        "source_row",
        "name",
        "id_number",
        "village",
        "received_on",
        "match",
        "result",
        "result_label",
        "reason",
        "decided_on",
    }
    assert (results[2]["result"], results[2]["reason"]) == (
        "not_included",
        "自付费用已由大病保险报销",
    )
    assert results[4]["result"] == "included"
    assert "*" in results[3]["id_number"]


def test_a_department_creates_a_clue_through_the_api(world, household_a):
    client = login(world["yibao"])
    number = factories.id_number()
    response = client.post(
        "/api/v1/monitoring/clues/",
        {"name": "孙七", "id_number": number, "risk_type": "illness", "amount": "48000.00"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    clue = Clue.objects.get(pk=response.json()["id"])
    assert (clue.channel, clue.department) == (Clue.Channel.DEPARTMENT, "medical_insurance")
    assert clue.state == Clue.State.UNREGISTERED
    assert str(clue.amount) == "48000.00"
    assert response.json()["result"] == "pending"


def test_a_bad_api_clue_is_refused_with_chinese_field_errors(world):
    response = login(world["yibao"]).post(
        "/api/v1/monitoring/clues/",
        {"name": "孙七", "id_number": "522622198005170011", "risk_type": "nonsense"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    text = str(body)
    assert "身份证号码校验位错误，请核对每一位数字。" in text
    assert "risk_type" in text
    assert Clue.objects.count() == 3


def test_a_cadre_creates_a_clue_through_the_api_in_the_own_village_only(world, cast, county):
    client = login(cast.cadre)
    payload = {
        "name": "周八",
        "id_number": factories.id_number(),
        "risk_type": "disaster",
        "channel": "cadre_check",
    }
    refused = client.post(
        "/api/v1/monitoring/clues/",
        {**payload, "village": county.village_b.pk},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "所选村不存在或不在您的区域内。" in str(refused.json())
    created = client.post(
        "/api/v1/monitoring/clues/",
        {**payload, "village": county.village_a.pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["channel"] == "cadre_check"
    assert "*" in created.json()["id_number"]


def test_the_api_lists_a_cadres_village_clues_masked(world, cast):
    response = login(cast.cadre2).get("/api/v1/monitoring/clues/")
    # Village B holds only the duplicate row (household_b's).
    rows = response.json()["results"]
    assert [row["source_row"] for row in rows] == [4]
    assert "household" in rows[0]
    assert "*" in rows[0]["id_number"]


def test_a_list_of_a_registered_layout_is_called_by_its_label_never_its_key(world):
    """The department's pages and the result workbook's name say 大额医疗费用个人自付, not the
    layout's key `medical_costs`; a list recorded with its own name keeps that name."""
    source = world["list"]
    source.layout = "medical_costs"
    source.save(update_fields=["layout"])
    client = login(world["yibao"])
    pages = [
        client.get(reverse("monitoring:department-home")).content.decode(),
        client.get(reverse("monitoring:list-results", args=[source.pk])).content.decode(),
    ]
    for html in pages:
        assert "大额医疗费用个人自付" in html
        assert "medical_costs" not in html
    assert "大额医疗费用个人自付" in results.filename_for(source)
    assert "medical_costs" not in results.filename_for(source)
    source.layout = "大额医疗自付"
    assert "大额医疗自付" in results.filename_for(source)
