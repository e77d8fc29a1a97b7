"""The one door of clues: matching by ID, deduplication, and the two doors of a declaration
(the farmer's public page, a cadre's hotline entry or 基层干部排查)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import Clue, MonitoringObject
from povertyapp.models import AccessLog
from tests import factories
from tests.conftest import login
from tests.monitoring.clue_fixtures import (
    declared,
    department_clue,
    department_user,
    freeze,
    head_id,
    push,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):
    return freeze(monkeypatch)


# --- matching and deduplication --------------------------------------------------------------


def test_a_matched_member_gives_the_clue_the_households_village(today, county, household_a, cast):
    member = household_a.members.order_by("id").first()
    # Declared for village B by mistake: the registry's village wins.
    clue = declared(village=county.village_b, id_number=member.id_number, received_on=today)
    assert clue.state == Clue.State.PENDING
    assert clue.household == household_a
    assert clue.member == member
    assert clue.region == county.village_a
    assert clue.accepted_on == today


def test_an_unmatched_id_becomes_a_register_this_household_task(today, county, cast):
    number = factories.id_number()
    clue = declared(village=county.village_a2, id_number=number, received_on=today)
    assert clue.state == Clue.State.UNREGISTERED
    assert clue.household is None
    assert clue.region == county.village_a2


def test_an_unmatched_department_row_goes_to_the_lists_county(today, county, cast):
    yibao = department_user("yibao", "medical_insurance", county.county)
    source = push(county=county.county, uploaded_by=yibao)
    clue = department_clue(
        source, row=2, name="王五", id_number=factories.id_number(), received_on=today
    )
    assert clue.state == Clue.State.UNREGISTERED
    assert clue.region == county.county
    assert clue.department == "medical_insurance"


def test_a_second_clue_for_a_household_with_an_open_clue_is_a_duplicate(today, county, household_a):
    members = list(household_a.members.order_by("id"))
    first = declared(village=county.village_a, id_number=members[0].id_number, received_on=today)
    # Another member of the same household: still the same household's open clue.
    second = declared(village=county.village_a, id_number=members[1].id_number, received_on=today)
    assert second.state == Clue.State.DUPLICATE
    assert second.duplicate_of == first
    assert second.result_reason == "已有未办结线索"
    assert second.decided_on == today
    assert first.state == Clue.State.PENDING


def test_an_unmatched_id_already_in_an_open_clue_is_a_duplicate(today, county):
    number = factories.id_number()
    first = declared(village=county.village_a, id_number=number, received_on=today)
    second = declared(village=county.village_a, id_number=number, received_on=today)
    assert (second.state, second.duplicate_of) == (Clue.State.DUPLICATE, first)


def test_a_clue_for_a_current_monitoring_object_is_a_duplicate_of_it(
    today, county, household_a, cast
):
    current = MonitoringObject.objects.create(
        household=household_a,
        object_type="marginal",
        state=MonitoringObject.State.MONITORED,
        clue_date=today,
        created_by=cast.county,
    )
    clue = declared(village=county.village_a, id_number=head_id(household_a), received_on=today)
    assert clue.state == Clue.State.DUPLICATE
    assert clue.monitoring_object == current
    assert clue.result_reason == "该户已是监测对象"


def test_a_closed_clue_does_not_make_the_next_a_duplicate(today, county, household_a):
    first = declared(village=county.village_a, id_number=head_id(household_a), received_on=today)
    Clue.objects.filter(pk=first.pk).update(state=Clue.State.NOT_INCLUDED)
    second = declared(village=county.village_a, id_number=head_id(household_a), received_on=today)
    assert second.state == Clue.State.PENDING
    assert second.duplicate_of is None


def test_a_clue_dated_in_the_future_is_refused(today, county):
    import datetime

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        declared(
            village=county.village_a,
            id_number=factories.id_number(),
            received_on=today + datetime.timedelta(days=1),
        )
    assert caught.value.error_dict["received_on"][0].code == "future"
    assert Clue.objects.count() == 0


# --- the public declaration page --------------------------------------------------------------


def _declaration(county, **extra):
    data = {
        "name": "张三",
        "phone": "13812345678",
        "id_number": factories.id_number(),
        "difficulty": "丈夫住院，花费五万元",
        "village": county.village_a.pk,
        "risk_type": "illness",
    }
    data.update(extra)
    return data


def test_the_declaration_page_opens_without_signing_in_and_lists_villages_by_township(
    client, county
):
    response = client.get(reverse("monitoring:declare"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<optgroup label="新州镇">' in html
    assert "凤场村" in html and "西垭村" in html


def test_a_declaration_creates_the_clue_and_answers_a_receipt_without_personal_data(
    client, county, today
):
    data = _declaration(county)
    response = client.post(reverse("monitoring:declare"), data)
    assert response.status_code == 200
    clue = Clue.objects.get()
    assert clue.channel == Clue.Channel.SELF_DECLARATION
    assert clue.via_hotline is False
    assert clue.created_by is None
    assert (clue.name, clue.phone, clue.id_number) == ("张三", "13812345678", data["id_number"])
    assert clue.region == county.village_a
    html = response.content.decode()
    assert f"FX20260403{clue.pk:06d}" in html
    # The promised visit: 2 working days after Friday 3 April, past 清明 (4–6 April).
    assert "2026-04-08" in html
    for personal in ("张三", "13812345678", data["id_number"], data["id_number"][-4:] + "<"):
        assert personal not in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "522622198005170011", "身份证号码校验位错误，请核对每一位数字。"),
        ("phone", "0855123", "请填写11位手机号码。"),
        ("village", "999999", ""),
    ],
)
def test_a_declaration_with_a_bad_field_is_refused_and_nothing_is_written(
    client, county, today, field, value, message
):
    response = client.post(reverse("monitoring:declare"), _declaration(county, **{field: value}))
    assert response.status_code == 400
    assert Clue.objects.count() == 0
    if message:
        assert message in response.content.decode()


def test_declarations_past_the_limit_per_address_are_refused(client, county, today, settings):
    settings.RATE_LIMIT_DECLARATION = "2/h"
    for _round in range(2):
        assert client.post(reverse("monitoring:declare"), _declaration(county)).status_code == 200
    response = client.post(reverse("monitoring:declare"), _declaration(county))
    assert response.status_code == 429
    assert "操作过于频繁，请稍后再试。" in response.content.decode()
    assert Clue.objects.count() == 2
    refusal = AccessLog.objects.get(action=AccessLog.Action.RATE_LIMITED)
    assert refusal.target == "declaration"


# --- a cadre's entry --------------------------------------------------------------------------


def test_a_cadre_enters_a_hotline_call(county, cast, today):
    number = factories.id_number()
    response = login(cast.cadre).post(
        reverse("monitoring:clue-add"),
        {
            "source": "hotline",
            "received_on": "2026-04-02",
            **_declaration(county, id_number=number),
        },
    )
    clue = Clue.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:clue", args=[clue.pk])
    assert (clue.channel, clue.via_hotline) == (Clue.Channel.SELF_DECLARATION, True)
    assert clue.created_by == cast.cadre
    assert str(clue.received_on) == "2026-04-02"


def test_a_cadre_records_a_check_finding_without_a_phone(county, cast, today):
    response = login(cast.cadre).post(
        reverse("monitoring:clue-add"),
        {"source": "cadre_check", "received_on": "2026-04-03", **_declaration(county, phone="")},
    )
    assert response.status_code == 302
    assert Clue.objects.get().channel == Clue.Channel.CADRE_CHECK


def test_a_hotline_entry_needs_the_callers_phone(county, cast, today):
    response = login(cast.cadre).post(
        reverse("monitoring:clue-add"),
        {"source": "hotline", "received_on": "2026-04-03", **_declaration(county, phone="")},
    )
    assert response.status_code == 400
    assert "热线代录请填写来电手机号。" in response.content.decode()
    assert Clue.objects.count() == 0


def test_a_cadre_cannot_declare_for_a_village_outside_the_area(county, cast, today):
    response = login(cast.cadre).post(
        reverse("monitoring:clue-add"),
        {
            "source": "cadre_check",
            "received_on": "2026-04-03",
            **_declaration(county, village=county.village_b.pk),
        },
    )
    assert response.status_code == 400
    assert Clue.objects.count() == 0


@pytest.mark.parametrize("who", ["auditor", "helper", "township"])
def test_read_only_roles_cannot_enter_clues(county, cast, today, who):
    response = login(getattr(cast, who)).post(
        reverse("monitoring:clue-add"),
        {"source": "cadre_check", "received_on": "2026-04-03", **_declaration(county)},
    )
    assert response.status_code == 403
    assert Clue.objects.count() == 0


def test_behind_the_proxy_each_declarant_address_has_its_own_budget(
    client, county, today, settings
):
    settings.RATE_LIMIT_DECLARATION = "1/h"
    url = reverse("monitoring:declare")
    # Through nginx (a loopback connection): the address nginx appended last counts.
    first = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.1"}
    assert client.post(url, _declaration(county), **first).status_code == 200
    assert client.post(url, _declaration(county), **first).status_code == 429
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.2"}
    assert client.post(url, _declaration(county), **other).status_code == 200
    # A direct connection cannot pick its budget with a forged header.
    direct = {"REMOTE_ADDR": "203.0.113.5"}
    assert (
        client.post(url, _declaration(county), **direct, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code
        == 200
    )
    assert (
        client.post(url, _declaration(county), **direct, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code
        == 429
    )
    assert Clue.objects.count() == 3
