"""The cadre pages: create and edit with the member formset, bad input, conflicts, the list."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from households import services
from households.models import Household, HouseholdEvent, HouseholdIncome, Member
from tests import factories
from tests.project import app_today

NULLABLE = {
    "water_safe",
    "water_difficult",
    "has_sanitary_toilet",
    "food_secure",
    "clothing_secure",
}


def member_post(index: int, data: dict[str, Any]) -> dict[str, str]:
    row = {
        "id": "",
        "name": "",
        "id_type": "居民身份证",
        "id_number": "",
        "sex": "",
        "birth_date": "",
        "relation": "",
        "ethnicity": "汉族",
        "political_status": "群众",
        "education": "初中",
        "school_status": "非在校生",
        "labour_skill": "普通劳动力",
        "work_status": "无",
        "work_months": "0",
        "living_status": "正常",
        "has_medical_insurance": "on",
    }
    row.update({key: value for key, value in data.items() if key != "health"})
    post = {
        f"members-{index}-{key}": str(value)
        for key, value in row.items()
        if value is not None and value is not False
    }
    post = {key: ("on" if value == "True" else value) for key, value in post.items()}
    return post


def household_post(
    village, members: list[dict[str, Any]], version: int | str = "", **fields: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": str(version),
        "village": str(village.pk),
        "group": "",
        "identification_standard": "国家标准",
        "poverty_attribute": "一般贫困户",
        "main_cause": "缺技术",
        "road_type": "水泥路",
        "house_grade": "B",
        "fuel_type": "柴草",
        "water_safe": "true",
        "water_difficult": "false",
        "has_sanitary_toilet": "true",
        "food_secure": "true",
        "clothing_secure": "true",
        "housing_area": "90",
        "cultivated_land": "3.5",
        "has_production_power": "on",
        "has_household_power": "on",
        "has_broadcast_tv": "on",
        "phone": "13800000000",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "30",
    }
    data.update({key: str(value) for key, value in fields.items()})
    healths: dict[str, list[str]] = {}
    for index, member in enumerate(members):
        data.update(member_post(index, member))
        healths[f"members-{index}-health"] = member.get("health", ["健康"])
    data.update(healths)
    return data


def three_members() -> list[dict[str, Any]]:
    return [
        {
            "name": "王大山",
            "relation": "户主",
            "id_number": factories.id_number(datetime.date(1975, 4, 2), "男"),
        },
        {
            "name": "刘小花",
            "relation": "配偶",
            "id_number": factories.id_number(datetime.date(1978, 9, 12), "女"),
        },
        {
            "name": "王小明",
            "relation": "之子",
            "id_number": factories.id_number(datetime.date(2010, 1, 20), "男"),
            "school_status": "九年级",
            "education": "",
            "labour_skill": "",
        },
    ]


def test_create_household_with_three_members_fills_birth_and_sex_from_id(cast, county, client_for):
    response = client_for(cast.cadre).post(
        "/households/new/", household_post(county.village_a, three_members())
    )
    assert response.status_code == 302
    household = Household.objects.get()
    assert household.status == Household.Status.NON_REGISTERED
    members = list(household.members.order_by("id"))
    assert [m.name for m in members] == ["王大山", "刘小花", "王小明"]
    assert [(m.birth_date, m.sex) for m in members] == [
        (datetime.date(1975, 4, 2), "男"),
        (datetime.date(1978, 9, 12), "女"),
        (datetime.date(2010, 1, 20), "男"),
    ]
    assert household.events.get().kind == HouseholdEvent.Kind.REGISTERED
    assert household.created_by == cast.cadre


def _bad_checksum() -> str:
    number = factories.id_number(datetime.date(1975, 4, 2), "男")
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda m, h: m[0].update(id_number=_bad_checksum()),
            "members-0-id_number",
            "身份证号码校验位错误",
        ),
        (
            lambda m, h: m[0].update(id_number="522622197502301234"),
            "members-0-id_number",
            "出生日期（第7–14位）不是有效日期",
        ),
        (
            lambda m, h: m[1].update(birth_date="1978-02-30", id_type="其他", id_number=""),
            "members-1-birth_date",
            "有效的日期",
        ),
        (
            lambda m, h: m[0].update(
                id_number=factories.id_number(
                    app_today().replace(year=app_today().year - 3, day=1), "男"
                )
            ),
            "members-0-relation",
            "户主应年满16周岁",
        ),
        (lambda m, h: m[1].update(work_months="13"), "members-1-work_months", "0到12个月"),
        (lambda m, h: m[1].update(work_months="-1"), "members-1-work_months", ""),
        (lambda m, h: h.update(cultivated_land="三亩"), "cultivated_land", "数字"),
        (lambda m, h: h.update(cause_note="长" * 501), "cause_note", "500"),
        (lambda m, h: m[0].update(name="名" * 33), "members-0-name", "32"),
        (lambda m, h: m[1].update(relation="户主"), "members-1-relation", "只能有一名户主"),
        (lambda m, h: h.update(housing_area="-5"), "housing_area", "0"),
    ],
    ids=[
        "checksum",
        "id-date",
        "impossible-date",
        "head-aged-3",
        "months-13",
        "months-negative",
        "text-for-number",
        "long-text",
        "long-name",
        "second-head",
        "negative-area",
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    cast, county, client_for, change, field, message
):
    members = three_members()
    extra: dict[str, Any] = {}
    change(members, extra)
    post = household_post(county.village_a, members, **extra)
    response = client_for(cast.cadre).post("/households/new/", post)
    assert response.status_code == 200
    assert Household.objects.count() == 0
    assert Member.objects.count() == 0
    html = response.content.decode()
    assert 'role="alert"' in html
    assert message in html
    # The message sits beside the field it is about.
    assert f'name="{field}"' in html
    block = html.split(f'data-field="{field.rsplit("-", 1)[-1]}"')
    assert any(message in part.split("</div>")[0] + part.split("</ul>")[0] for part in block[1:])


def test_create_refuses_a_household_with_no_members(cast, county, client_for):
    post = household_post(county.village_a, [])
    response = client_for(cast.cadre).post("/households/new/", post)
    assert response.status_code == 200
    assert Household.objects.count() == 0
    assert "请至少提交 1 个表单" in response.content.decode() or "至少" in response.content.decode()


def test_create_refuses_a_village_outside_the_scope_edited_into_the_form(cast, county, client_for):
    post = household_post(county.village_b, three_members())
    response = client_for(cast.cadre).post("/households/new/", post)
    assert response.status_code == 200
    assert Household.objects.count() == 0
    assert "所选行政村不在您的管辖范围内" in response.content.decode()


def test_create_refuses_an_active_member_of_another_household(
    cast, county, client_for, household_b
):
    members = three_members()
    members[1]["id_number"] = factories.active_members(household_b)[1].id_number
    response = client_for(cast.cadre).post(
        "/households/new/", household_post(county.village_a, members)
    )
    assert response.status_code == 200
    assert Household.objects.count() == 1
    assert "一人只能是一户的在户成员" in response.content.decode()


def test_income_page_refuses_negative_and_text_amounts(cast, household_a, client_for):
    client = client_for(cast.cadre)
    url = f"/households/{household_a.pk}/income/{app_today().year - 1}/"
    response = client.post(url, {"wage": "-100", "production": "abc"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "确保该值大于或等于0" in html
    assert "输入一个数字" in html
    assert HouseholdIncome.objects.count() == 0
    response = client.post(url, {"wage": "12000.50", "dibao": "1800"})
    assert response.status_code == 302
    income = HouseholdIncome.objects.get()
    assert (income.wage, income.dibao, income.net) == (
        __import__("decimal").Decimal("12000.50"),
        1800,
        __import__("decimal").Decimal("13800.50"),
    )


def _edit_post(household: Household, **fields: Any) -> dict[str, Any]:
    members = []
    for member in factories.active_members(household):
        members.append(
            {
                "id": member.pk,
                "name": member.name,
                "relation": member.relation,
                "id_number": member.id_number,
                "sex": member.sex,
                "birth_date": member.birth_date.isoformat(),
                "ethnicity": member.ethnicity,
                "education": member.education,
                "labour_skill": member.labour_skill,
                "work_status": member.work_status,
                "work_months": member.work_months,
                "health": member.health_conditions,
            }
        )
    current = {}
    for name in services.HOUSEHOLD_FIELDS:
        if name == "village":
            continue
        value = getattr(household, name)
        if isinstance(value, bool) and name in NULLABLE:
            current[name] = "true" if value else "false"
        elif isinstance(value, bool):
            current[name] = "on" if value else ""
        elif value is None:
            current[name] = "unknown" if name in NULLABLE else ""
        else:
            current[name] = getattr(value, "pk", value)
    post = household_post(
        household.village, members, version=household.version, **{**current, **fields}
    )
    post = {key: value for key, value in post.items() if value != "" or not key.startswith("has_")}
    post["members-INITIAL_FORMS"] = str(len(members))
    return post


def test_edit_corrects_a_member_and_adds_one_with_history(cast, household_a, client_for):
    post = _edit_post(household_a, phone="13912345678")
    head_name = post["members-0-name"]
    post["members-0-name"] = head_name + "明"
    post["members-TOTAL_FORMS"] = "3"
    newborn = factories.id_number(datetime.date(app_today().year - 1, 3, 3), "女")
    post.update(
        member_post(
            2,
            {
                "name": "小妹",
                "relation": "之女",
                "id_number": newborn,
                "education": "学龄前儿童",
                "labour_skill": "",
            },
        )
    )
    post["members-2-health"] = "健康"
    post["join_reason"] = "出生"
    response = client_for(cast.cadre).post(f"/households/{household_a.pk}/edit/", post)
    assert response.status_code == 302, response.content.decode()[:2000]
    household_a.refresh_from_db()
    assert household_a.phone == "13912345678"
    names = [m.name for m in factories.active_members(household_a)]
    assert names == [head_name + "明", "李四", "小妹"]
    joined = household_a.events.get(kind=HouseholdEvent.Kind.MEMBER_JOINED)
    assert (joined.reason, joined.member.name) == ("出生", "小妹")
    history = household_a.members.get(name=head_name + "明").history.first()
    assert history.history_user == cast.cadre


def test_edit_cannot_drop_a_member_silently(cast, household_a, client_for):
    post = _edit_post(household_a)
    post["members-TOTAL_FORMS"] = "1"
    response = client_for(cast.cadre).post(f"/households/{household_a.pk}/edit/", post)
    assert response.status_code == 200
    assert "不能直接删除" in response.content.decode()
    assert household_a.members.filter(is_active=True).count() == 2


def test_second_save_of_the_same_version_is_a_conflict_showing_what_changed(
    cast, household_a, client_for
):
    first = client_for(cast.cadre)
    second = client_for(cast.county)
    loaded_version = household_a.version
    response = first.post(
        f"/households/{household_a.pk}/edit/", _edit_post(household_a, phone="13100000001")
    )
    assert response.status_code == 302
    # The county officer loaded the same version and changes another field.
    stale = _edit_post(household_a, fuel_type="煤炭")
    stale["version"] = str(loaded_version)
    response = second.post(f"/households/{household_a.pk}/edit/", stale)
    assert response.status_code == 200
    html = response.content.decode()
    assert "保存冲突" in html
    assert "联系电话" in html and "13100000001" in html
    household_a.refresh_from_db()
    assert (household_a.phone, household_a.fuel_type) == ("13100000001", "柴草")
    # Their change is merged into the form, mine kept; saving again keeps both.
    form = response.context["form"]
    assert form.data["phone"] == "13100000001"
    assert form.data["fuel_type"] == "煤炭"
    assert form.data["version"] == str(household_a.version)
    retry = dict(stale, phone=form.data["phone"], version=form.data["version"])
    response = second.post(f"/households/{household_a.pk}/edit/", retry)
    assert response.status_code == 302
    household_a.refresh_from_db()
    assert (household_a.phone, household_a.fuel_type) == ("13100000001", "煤炭")


def test_conflict_on_the_same_field_asks_the_user_to_choose(cast, household_a, client_for):
    loaded_version = household_a.version
    client_for(cast.cadre).post(
        f"/households/{household_a.pk}/edit/", _edit_post(household_a, phone="13100000001")
    )
    stale = _edit_post(household_a, phone="13200000002")
    stale["version"] = str(loaded_version)
    response = client_for(cast.county).post(f"/households/{household_a.pk}/edit/", stale)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.data["phone"] == "13200000002"
    assert "已改为“13100000001”" in str(form.errors["phone"])
    household_a.refresh_from_db()
    assert household_a.phone == "13100000001"


def test_edit_outside_scope_is_404_and_read_only_role_403(cast, household_a, client_for):
    assert client_for(cast.cadre2).get(f"/households/{household_a.pk}/edit/").status_code == 404
    response = client_for(cast.auditor).post(
        f"/households/{household_a.pk}/edit/", _edit_post(household_a, phone="1")
    )
    assert response.status_code == 403
    household_a.refresh_from_db()
    assert household_a.phone == ""


def test_member_remove_needs_a_listed_reason_and_records_an_event(cast, household_a, client_for):
    spouse = factories.active_members(household_a)[1]
    url = f"/households/{household_a.pk}/members/{spouse.pk}/remove/"
    client = client_for(cast.cadre)
    response = client.post(url, {"reason": "被删了", "effective_date": app_today().isoformat()})
    assert response.status_code == 200
    spouse.refresh_from_db()
    assert spouse.is_active is True
    response = client.post(url, {"reason": "死亡", "effective_date": app_today().isoformat()})
    assert response.status_code == 302
    spouse.refresh_from_db()
    assert (spouse.is_active, spouse.left_reason, spouse.living_status) == (False, "死亡", "死亡")
    event = household_a.events.get(kind=HouseholdEvent.Kind.MEMBER_LEFT)
    assert event.member == spouse
    assert Member.objects.filter(pk=spouse.pk).exists()


def test_member_move_to_another_household_of_the_village(cast, county, household_a, client_for):
    other = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[factories.member_data(name="赵六", birth_date=datetime.date(1970, 1, 1))],
    )
    spouse = factories.active_members(household_a)[1]
    response = client_for(cast.cadre).post(
        f"/households/{household_a.pk}/members/{spouse.pk}/move/",
        {"to_number": other.number, "relation": "配偶", "effective_date": app_today().isoformat()},
    )
    assert response.status_code == 302
    assert [m.name for m in factories.active_members(other)] == ["赵六", "李四"]
    assert household_a.events.filter(kind=HouseholdEvent.Kind.MEMBER_MOVED).count() == 1
    assert other.events.filter(kind=HouseholdEvent.Kind.MEMBER_JOINED).count() == 1


def test_member_move_to_a_household_outside_scope_is_refused(
    cast, household_a, household_b, client_for
):
    spouse = factories.active_members(household_a)[1]
    response = client_for(cast.cadre).post(
        f"/households/{household_a.pk}/members/{spouse.pk}/move/",
        {
            "to_number": household_b.number,
            "relation": "配偶",
            "effective_date": app_today().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "不在您的管辖范围内" in response.content.decode()
    spouse.refresh_from_db()
    assert spouse.is_active is True


def test_list_finds_by_full_id_number_and_shows_it_masked(cast, household_a, client_for):
    head = factories.active_members(household_a)[0]
    # The search box posts; the list is shown behind a token (tests/households/test_search_post.py).
    response = client_for(cast.cadre).post(
        "/households/", {"search_terms": "q", "q": head.id_number}, follow=True
    )
    html = response.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    assert household_a.number in html
    assert head.id_number not in html
    assert head.id_number[:3] + "*" * 11 + head.id_number[-4:] in html
    assert response.context["page"].paginator.count == 1


def test_list_finds_names_by_any_part_and_numbers_by_prefix(cast, county, client_for):
    yang = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[factories.member_data(name="杨明华", birth_date=datetime.date(1970, 1, 1))],
    )
    wu = factories.household(
        actor=cast.county,
        village=county.village_a,
        members=[factories.member_data(name="吴华", birth_date=datetime.date(1971, 1, 1))],
    )
    client = client_for(cast.county)

    def found(text: str) -> set[str]:
        response = client.post("/households/", {"search_terms": "q", "q": text}, follow=True)
        assert response.context["page"].paginator.count == len(response.context["page"].object_list)
        return {row["number"] for row in response.context["page"].object_list}

    assert found("杨") == {yang.number}
    assert found("明华") == {yang.number}  # not only from the start
    assert found("华") == {yang.number, wu.number}
    assert found("华明") == set()  # every character, in order
    assert found("杨 ") == {yang.number}
    assert found(yang.number[:12]) >= {yang.number, wu.number}
    assert found(yang.number) == {yang.number}


def test_list_counts_by_status_on_top(cast, county, household_a, client_for):
    factories.household(actor=cast.county, village=county.village_a, status=Household.Status.EXITED)
    response = client_for(cast.cadre).get("/households/")
    counts = {label: count for label, count, _ in response.context["status_counts"]}
    assert counts["未脱贫"] == 1
    assert counts["已脱贫"] == 1
    assert response.context["page"].paginator.count == 2


@pytest.mark.parametrize("page_size", [20, 100])
def test_list_query_count_does_not_grow_with_the_page_size(
    cast, county, client_for, django_assert_max_num_queries, page_size
):
    for _ in range(25):
        factories.household(
            actor=cast.county,
            village=county.village_a,
            members=[factories.member_data(birth_date=datetime.date(1970, 1, 1))],
        )
    client = client_for(cast.cadre)
    client.get("/households/")  # warm the session and the user
    # session, user, region, counts, the page's ids, its rows, the line of warnings (overdue
    # procedures, work due, monitoring risk: one each), villages and groups, session save
    # (with its savepoint)
    with django_assert_max_num_queries(13):
        response = client.get("/households/", {"page_size": page_size})
    assert len(response.context["page"].object_list) == min(page_size, 25)


def _namesakes(cast: Any, county: Any, count: int) -> set[str]:
    """`count` households of village A, each of one person named 杨明: the 户编号."""
    return {
        factories.household(
            actor=cast.county,
            village=county.village_a,
            members=[factories.member_data(name="杨明", birth_date=datetime.date(1970, 1, 1))],
        ).number
        for _ in range(count)
    }


@pytest.mark.parametrize("ordering", ["number", "head", "-persons", "status"])
def test_list_pages_show_every_household_once_in_any_order(cast, county, client_for, ordering):
    # Same head names and person counts: ties must not move households between pages.
    numbers = _namesakes(cast, county, 25)
    client = client_for(cast.county)
    shown: list[str] = []
    for page in (1, 2):
        response = client.get("/households/", {"ordering": ordering, "page": page})
        rows = response.context["page"].object_list
        shown += [row["number"] for row in rows]
        assert all(row["head_name"] == "杨明" for row in rows)
        assert all(row["person_count"] == 1 for row in rows)
    assert sorted(shown) == sorted(numbers)


@pytest.mark.parametrize(
    ("ordering", "key", "descending"),
    [
        ("number", "number", False),
        ("head", "head_name", False),
        ("-head", "head_name", True),
        ("-persons", "person_count", True),
        ("persons", "person_count", False),
        ("head,-persons", "head_name", False),
    ],
)
def test_list_orders_by_the_members_figures(cast, county, client_for, ordering, key, descending):
    # The page's scope aliases the head's name and the person count for these orderings only
    # (`household_list_page_scope`): each must still sort the list by them.
    for persons, head in enumerate(("赵敏", "王芳", "李强", "陈静"), start=1):
        factories.household(
            actor=cast.county,
            village=county.village_a,
            members=[factories.member_data(name=head)]
            + [
                factories.member_data(
                    name=f"{head}{index}",
                    relation="之子",
                    birth_date=datetime.date(2000 + index, 1, 1),
                )
                for index in range(persons - 1)
            ],
        )
    response = client_for(cast.county).get("/households/", {"ordering": ordering})
    rows = response.context["page"].object_list
    assert len(rows) == 4
    values = [row[key] for row in rows]
    assert values == sorted(values, reverse=descending)
    assert len(set(values)) == 4  # distinct: the order was the ordering's, not a tie's


def test_api_list_pages_show_every_household_once(cast, county, client_for):
    numbers = _namesakes(cast, county, 7)
    client = client_for(cast.county)
    shown = []
    for page in (1, 2, 3):
        data = client.get(
            "/api/v1/households/", {"ordering": "head", "page_size": 3, "page": page}
        ).json()
        assert data["count"] == 7
        shown += [row["number"] for row in data["results"]]
        assert all(row["head_name"] == "杨明" for row in data["results"])
    assert sorted(shown) == sorted(numbers)


def test_list_filters_cause_and_attribute_from_the_value_lists(cast, county, client_for):
    from households.models import ValueList, ValueListItem

    sick = factories.household(actor=cast.county, village=county.village_a, main_cause="因病")
    factories.household(actor=cast.county, village=county.village_a, main_cause="缺技术")
    ValueListItem.objects.create(
        list=ValueList.CAUSE, label="因灾（本省）", province=county.province
    )
    client = client_for(cast.county)
    html = client.get("/households/").content.decode()
    assert '<option value="因病">因病</option>' in html
    assert '<option value="因灾（本省）">因灾（本省）</option>' in html  # the province's own
    assert '<option value="低保贫困户">低保贫困户</option>' in html
    response = client.get("/households/", {"cause": "因病"})
    assert [row["number"] for row in response.context["page"].object_list] == [sick.number]
    assert '<option value="因病" selected>因病</option>' in response.content.decode()
    # A label no longer in the lists stays offered when it is the one asked for.
    old = client.get("/households/", {"cause": "旧原因"}).content.decode()
    assert '<option value="旧原因" selected>旧原因</option>' in old


@pytest.mark.parametrize("field", ["village", "group"])
def test_an_id_too_big_for_the_database_is_refused_with_a_message(cast, county, client_for, field):
    # Was a 500 on SQLite (the number did not bind as a query parameter).
    huge = "9" * 23
    client = client_for(cast.county)
    page = client.get("/households/", {field: huge})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0
    assert "确保该值小于或等于" in page.content.decode()
    assert client.get("/api/v1/households/", {field: huge}).status_code == 400
    options = client.get("/households/group-options/", {"village": huge})
    assert options.status_code == 200 and "第一村民小组" not in options.content.decode()


def test_list_offers_the_groups_of_the_chosen_village_only(cast, county, client_for):
    page = client_for(cast.county).get("/households/").content.decode()
    assert "凤场村" in page and "龙坪村" in page
    assert "第一村民小组" not in page  # no village chosen: no groups
    page = client_for(cast.county).get("/households/", {"village": county.village_a.pk})
    html = page.content.decode()
    assert f'<option value="{county.group_a1.pk}">第一村民小组</option>' in html
    # A village cadre's own village is chosen for them.
    assert "第二村民小组" in client_for(cast.cadre).get("/households/").content.decode()


def test_group_options_follow_the_village_and_the_scope(cast, county, client_for):
    url = "/households/group-options/"
    county_client = client_for(cast.county)
    options = county_client.get(url, {"village": county.village_a.pk}).content.decode()
    assert "第一村民小组" in options and "第二村民小组" in options
    assert (
        "该村没有村民小组"
        in county_client.get(url, {"village": county.village_a2.pk}).content.decode()
    )
    assert "第一村民小组" not in county_client.get(url, {"village": "x"}).content.decode()
    # Another village's groups are outside cadre2's scope.
    other = client_for(cast.cadre2).get(url, {"village": county.village_a.pk}).content.decode()
    assert "第一村民小组" not in other


def test_assistance_badge_is_loaded_after_the_page_and_scoped(
    cast, county, household_a, client_for
):
    from assistance.matching import assess_household

    page = client_for(cast.cadre).get(f"/households/{household_a.pk}/").content.decode()
    badge_url = f"/households/{household_a.pk}/assistance-badge/"
    assert f'hx-get="{badge_url}"' in page
    warnings = assess_household(household_a, on=app_today()).warning_count
    assert warnings > 0  # a poor household without measures: at least too few measures
    badge = client_for(cast.cadre).get(badge_url)
    assert badge.status_code == 200
    assert f'<span class="badge bad">{warnings}</span>' in badge.content.decode()
    assert client_for(cast.cadre2).get(badge_url).status_code == 404
