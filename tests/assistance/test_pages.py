"""Pages and API: the helper sees only paired households (404 elsewhere), read-only roles get
403 on writes, and the printable cards carry the household's actual measures and amounts."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from assistance import services
from assistance.models import Measure, Pairing, Visit
from povertyapp.models import AccessLog

PAGES = [
    "/assistance/households/{id}/",
    "/assistance/households/{id}/?tab=plan",
    "/assistance/households/{id}/?tab=visits",
    "/assistance/households/{id}/?tab=pairing",
    "/assistance/households/{id}/print/contact-card/",
    "/assistance/households/{id}/print/benefit-card/",
    "/assistance/households/{id}/print/record-book/",
    "/api/v1/assistance/households/{id}/measures/",
    "/api/v1/assistance/households/{id}/needs/",
    "/api/v1/assistance/households/{id}/visits/",
    "/api/v1/assistance/households/{id}/pairings/",
]


@pytest.fixture
def measure(cast, household_a):
    return services.measure_create(
        actor=cast.cadre,
        household=household_a,
        data={
            "year": 2020,
            "category": "产业帮扶",
            "content": "发放精品水果苗木300株",
            "amount": "1234.56",
            "fund_source": "中央财政专项扶贫资金",
            "responsible": "杨光荣",
        },
    )


@pytest.mark.parametrize("url", PAGES)
def test_helper_sees_the_paired_household_and_not_another(
    cast, household_a, household_b, client_for, url
):
    client = client_for(cast.helper)
    assert client.get(url.format(id=household_a.pk)).status_code == 200
    assert client.get(url.format(id=household_b.pk)).status_code == 404


@pytest.mark.parametrize("url", PAGES[:4])
def test_cadre_of_another_village_gets_404(cast, household_a, client_for, url):
    assert client_for(cast.cadre2).get(url.format(id=household_a.pk)).status_code == 404


def test_helper_list_shows_only_paired_households(cast, household_a, household_b, client_for):
    text = client_for(cast.helper).get("/assistance/households/").content.decode()
    assert household_a.number in text
    assert household_b.number not in text


def test_the_list_finds_a_household_by_a_members_name_and_names_its_head(
    cast, household_a, household_b, client_for
):
    """A helper knows the family, not its 户编号: the list's search takes a member's name as
    well as a number or a village, and each row names the household's head."""
    from households.models import Member

    head = Member.objects.get(household=household_a, relation="户主", is_active=True)
    client = client_for(cast.county)

    def search(text):
        found = client.post("/assistance/households/", {"q": text, "search_terms": "q"})
        assert found.status_code == 302  # the term goes into a session token, not the URL
        return client.get(found["Location"])

    page = search(head.name[:2])
    assert household_a.number in [h.number for h in page.context["page"].object_list]
    assert f"{household_a.number}</a> {head.name}</td>" in page.content.decode()
    by_number = search(household_b.number).context["page"].object_list
    assert [h.number for h in by_number] == [household_b.number]
    assert list(search("无此人名").context["page"].object_list) == []


def test_helper_sees_no_project_and_no_coverage(cast, client_for):
    client = client_for(cast.helper)
    assert client.get("/assistance/coverage/").status_code == 403
    assert json.loads(client.get("/api/v1/assistance/projects/").content)["count"] == 0


def test_helper_records_a_visit_on_the_paired_household_only(
    cast, household_a, household_b, client_for
):
    client = client_for(cast.helper)
    data = {
        "date": "2020-05-06",
        "seen": "户主在家，大棚蔬菜长势良好",
        "q_food": "是",
        "q_satisfaction": "满意",
        "benefit_card_given": "on",
    }
    assert (
        client.post(f"/assistance/households/{household_b.pk}/visits/new/", data).status_code == 404
    )
    response = client.post(f"/assistance/households/{household_a.pk}/visits/new/", data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.household, visit.visitor, visit.questionnaire, visit.benefit_card_given) == (
        household_a,
        cast.helper,
        {"food": "是", "satisfaction": "满意"},
        True,
    )
    assert household_a.assistance_events.filter(kind="visit").count() == 1


def test_api_helper_adds_a_measure_only_where_paired(cast, household_a, household_b, client_for):
    client = client_for(cast.helper)
    body = {"year": 2020, "category": "就业帮扶", "content": "推荐到县工业园务工", "amount": "0"}
    assert (
        client.post(
            f"/api/v1/assistance/households/{household_b.pk}/measures/",
            body,
            content_type="application/json",
        ).status_code
        == 404
    )
    response = client.post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Measure.objects.filter(household=household_b).count() == 0


def test_api_refuses_bad_amount_with_a_chinese_message(cast, household_a, client_for):
    response = client_for(cast.cadre).post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        {
            "year": 2020,
            "category": "产业帮扶",
            "content": "养牛",
            "amount": "-3",
            "fund_source": "社会帮扶",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "不能为负数" in response.content.decode()
    assert Measure.objects.count() == 0


def test_auditor_cannot_write(cast, household_a, client_for, measure):
    client = client_for(cast.auditor)
    assert (
        client.post(
            f"/assistance/households/{household_a.pk}/measures/",
            {"year": 2020, "category": "产业帮扶", "content": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/assistance/measures/{measure.pk}/status/",
            {"status": "cancelled", "on": "2020-05-05", "result": "x", "version": measure.version},
        ).status_code
        == 403
    )
    measure.refresh_from_db()
    assert measure.status == Measure.Status.PLANNED
    assert Measure.objects.count() == 1


def test_measure_status_from_the_page_records_result_and_event(
    cast, household_a, client_for, measure
):
    client = client_for(cast.cadre)
    client.post(
        f"/assistance/measures/{measure.pk}/status/",
        {"status": "in_progress", "on": "2020-05-01", "version": measure.version},
    )
    measure.refresh_from_db()
    client.post(
        f"/assistance/measures/{measure.pk}/status/",
        {
            "status": "completed",
            "on": "2020-10-01",
            "result": "挂果，年增收",
            "income_effect": "2400.50",
            "version": measure.version,
        },
    )
    measure.refresh_from_db()
    assert (measure.status, measure.actual_start, measure.actual_end, measure.income_effect) == (
        Measure.Status.COMPLETED,
        datetime.date(2020, 5, 1),
        datetime.date(2020, 10, 1),
        Decimal("2400.50"),
    )
    events = list(
        household_a.assistance_events.filter(kind="measure_status")
        .order_by("id")
        .values_list("from_value", "to_value")
    )
    assert events == [("计划", "实施中"), ("实施中", "已完成")]


def test_printable_cards_contain_the_actual_measures_and_amounts(
    cast, household_a, client_for, measure
):
    services.measure_create(
        actor=cast.cadre,
        household=household_a,
        data={
            "year": 2020,
            "category": "健康帮扶",
            "content": "慢病签约服务",
            "amount": "800.04",
            "fund_source": "县级财政专项扶贫资金",
        },
    )
    Pairing.objects.filter(household=household_a).update(
        name="潘志强", phone="13912345678", unit="县农业农村局"
    )
    client = client_for(cast.cadre)
    benefit = client.get(
        f"/assistance/households/{household_a.pk}/print/benefit-card/"
    ).content.decode()
    for text in (
        "发放精品水果苗木300株",
        "1234.56",
        "慢病签约服务",
        "800.04",
        "2034.60",
        "潘志强",
        "13912345678",
        "城乡居民基本医疗保险",
        # The A4 print rules, from a static file (the CSP refuses inline styles).
        '<link rel="stylesheet" href="/static/css/print/cards.css">',
    ):
        assert text in benefit, text
    from django.contrib.staticfiles import finders

    cards_css = finders.find("css/print/cards.css")
    assert cards_css is not None
    with open(cards_css, encoding="utf-8") as stylesheet:
        assert "@page { size: A4 portrait;" in stylesheet.read()
    contact = client.get(
        f"/assistance/households/{household_a.pk}/print/contact-card/"
    ).content.decode()
    assert "潘志强" in contact and "县农业农村局" in contact and "慢病签约服务" in contact
    book = client.get(
        f"/assistance/households/{household_a.pk}/print/record-book/"
    ).content.decode()
    for section in ("家庭基本情况", "致贫原因", "帮扶责任人", "帮扶计划", "帮扶措施", "帮扶成效"):
        assert section in book
    assert "1234.56" in book and "缺技术" in book
    assert AccessLog.objects.filter(action="print", object_id=str(household_a.pk)).count() == 1


def test_record_book_masks_id_numbers_for_the_helper(cast, household_a, client_for):
    head = household_a.members.get(relation="户主")
    book = (
        client_for(cast.helper)
        .get(f"/assistance/households/{household_a.pk}/print/record-book/")
        .content.decode()
    )
    assert head.id_number not in book
    assert head.id_number[:3] + "*" in book


def test_household_page_warns_about_too_few_and_missing_measures(
    cast, household_a, client_for, measure
):
    text = client_for(cast.cadre).get(f"/assistance/households/{household_a.pk}/").content.decode()
    assert "措施不足" in text
    assert "就业帮扶或技能培训" in text  # 缺技术 with working-age labour
    assert "帮扶措施与致贫原因不符" in text  # only 产业帮扶, the cause asks for employment


def test_pairing_change_keeps_history(cast, household_a, client_for):
    client = client_for(cast.cadre)
    assert (
        client_for(cast.helper).get(f"/assistance/households/{household_a.pk}/pairing/").status_code
        == 403
    )
    response = client.post(
        f"/assistance/households/{household_a.pk}/pairing/",
        {
            "name": "龙秀梅",
            "unit": "县教育局",
            "post": "干部",
            "phone": "13800001111",
            "start_date": "2020-03-01",
        },
    )
    assert response.status_code == 302
    lines = list(
        Pairing.objects.filter(household=household_a)
        .order_by("start_date")
        .values_list("name", "start_date", "end_date")
    )
    assert lines == [
        ("helper", datetime.date(2019, 1, 1), datetime.date(2020, 2, 29)),
        ("龙秀梅", datetime.date(2020, 3, 1), None),
    ]
    # The old helper no longer sees the household.
    assert (
        client_for(cast.helper).get(f"/assistance/households/{household_a.pk}/").status_code == 404
    )


def test_pairing_date_before_current_is_refused(cast, household_a, client_for):
    response = client_for(cast.cadre).post(
        f"/assistance/households/{household_a.pk}/pairing/",
        {"name": "龙秀梅", "start_date": "2018-12-31"},
    )
    assert response.status_code == 400
    assert "应晚于" in response.content.decode()
    assert Pairing.objects.filter(household=household_a).count() == 1


def test_project_pages_for_the_county_office(cast, county, household_a, client_for):
    client = client_for(cast.county)
    response = client.post(
        "/assistance/projects/new/",
        {
            "name": "凤场村饮水工程",
            "category": "基础设施",
            "region": county.village_a.pk,
            "year": 2020,
            "responsible_unit": "县水务局",
            "beneficiaries": household_a.number,
            "fund_中央财政专项扶贫资金": "50000.00",
        },
    )
    assert response.status_code == 302
    project_url = response["Location"]
    client.post(project_url + "approve/", {"approved_on": "2020-01-02", "document_number": "A1"})
    client.post(project_url + "publish/", {"start": "2020-01-03", "days": "10"})
    client.post(
        project_url + "movements/",
        {
            "kind": "allocated",
            "source": "中央财政专项扶贫资金",
            "amount": "50000",
            "date": "2020-03-01",
            "document_number": "黄财农〔2020〕3号",
        },
    )
    page = client.get(project_url).content.decode()
    assert "50000.00" in page and "项目合计与资金流水一致" in page
    assert client_for(cast.cadre).get(project_url).status_code == 200
    assert client_for(cast.cadre2).get(project_url).status_code == 404
    assert (
        client_for(cast.cadre)
        .post(
            project_url + "movements/",
            {
                "kind": "arrived",
                "source": "中央财政专项扶贫资金",
                "amount": "1",
                "date": "2020-03-02",
            },
        )
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    "url",
    [
        "/assistance/",
        "/assistance/households/",
        "/assistance/coverage/",
        "/assistance/projects/",
        "/assistance/funds/",
        "/assistance/teams/",
    ],
)
def test_section_pages_render_for_the_county(cast, household_a, client_for, url):
    assert client_for(cast.county).get(url).status_code == 200


def test_county_office_edits_matching_rules_in_the_admin(cast, client_for):
    from assistance.models import MatchingRule

    rule = MatchingRule.objects.get(code="cause-capital")
    client = client_for(cast.county)
    assert client.get("/admin/assistance/matchingrule/").status_code == 200
    page = client.get(f"/admin/assistance/matchingrule/{rule.pk}/change/")
    assert page.status_code == 200
    assert client_for(cast.cadre).get("/admin/assistance/matchingrule/").status_code == 403
