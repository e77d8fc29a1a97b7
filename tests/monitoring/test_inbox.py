"""The village's work on a clue: 入户核实 (with the household's signed 承诺授权 scan), 不纳入,
closing a 待登记 task (attaching a household, or registering it from the clue's prefilled form);
scope, masking and concurrent edits."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from households.models import Household, Member
from monitoring import inbox
from monitoring.models import Clue
from povertyapp.conflicts import ConflictError
from povertyapp.models import AccessLog
from tests import factories
from tests.conftest import login
from tests.html_forms import form_holding
from tests.monitoring.clue_fixtures import consent_scan, declared, freeze, head_id, signed

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def today(monkeypatch):
    return freeze(monkeypatch, D(2026, 4, 8))


@pytest.fixture
def clue(today, county, household_a):
    return declared(village=county.village_a, id_number=head_id(household_a), received_on=today)


def _verify(actor, clue, day):
    return inbox.clue_verify(
        actor=actor, clue=clue, verified_on=day, note="a", expected_version=1, **signed(day)
    )


# --- 入户核实 --------------------------------------------------------------------------------


def test_the_cadre_records_the_visit(clue, cast, today):
    verified = inbox.clue_verify(
        actor=cast.cadre,
        clue=clue,
        verified_on=today,
        note="住院属实",
        expected_version=1,
        **signed(D(2026, 4, 7)),
    )
    assert verified.state == Clue.State.VERIFIED
    assert (verified.verified_on, verified.verified_by) == (today, cast.cadre)
    assert verified.verification_note == "住院属实"
    assert verified.version == 2
    assert verified.consent.name.startswith("consent/")
    assert verified.consent.name.endswith("_承诺授权书.jpg")
    assert verified.consent_signed_on == D(2026, 4, 7)
    logged = AccessLog.objects.get(target="monitoring.Clue", object_id=str(clue.pk))
    assert (logged.action, logged.user, logged.reason) == (
        AccessLog.Action.APPROVAL,
        cast.cadre,
        "入户核实",
    )


def test_a_visit_without_the_consent_scan_is_refused_naming_it(clue, cast, today):
    with pytest.raises(ValidationError) as caught:
        inbox.clue_verify(
            actor=cast.cadre, clue=clue, verified_on=today, note="住院属实", expected_version=1
        )
    errors = caught.value.error_dict
    assert set(errors) == {"consent", "consent_signed_on"}
    assert errors["consent"][0].code == "consent_missing"
    assert "承诺授权书" in errors["consent"][0].messages[0]
    clue.refresh_from_db()
    assert (clue.state, clue.verified_on, clue.consent.name, clue.version) == (
        Clue.State.PENDING,
        None,
        "",
        1,
    )
    assert not AccessLog.objects.filter(target="monitoring.Clue").exists()


def test_a_scan_on_file_is_enough_and_a_signing_date_in_the_future_is_refused(clue, cast, today):
    Clue.objects.filter(pk=clue.pk).update(consent="consent/2026/04/a_b.jpg")
    with pytest.raises(ValidationError) as caught:
        inbox.clue_verify(
            actor=cast.cadre,
            clue=clue,
            verified_on=today,
            note="属实",
            expected_version=1,
            consent_signed_on=D(2026, 4, 9),
        )
    assert [error.code for error in caught.value.error_dict["consent_signed_on"]] == ["future"]
    verified = inbox.clue_verify(
        actor=cast.cadre,
        clue=clue,
        verified_on=today,
        note="属实",
        expected_version=1,
        consent_signed_on=today,
    )
    assert (verified.consent.name, verified.consent_signed_on) == ("consent/2026/04/a_b.jpg", today)


@pytest.mark.parametrize(
    ("day", "code"), [(D(2026, 4, 7), "before_acceptance"), (D(2026, 4, 9), "future")]
)
def test_a_visit_before_acceptance_or_in_the_future_is_refused(clue, cast, day, code):
    with pytest.raises(ValidationError) as caught:
        inbox.clue_verify(
            actor=cast.cadre,
            clue=clue,
            verified_on=day,
            note="核实",
            expected_version=1,
            **signed(D(2026, 4, 8)),
        )
    assert caught.value.error_dict["verified_on"][0].code == code
    clue.refresh_from_db()
    assert (clue.state, clue.verified_on, clue.version) == (Clue.State.PENDING, None, 1)


def test_a_stale_version_is_a_conflict(clue, cast, today):
    _verify(cast.cadre, clue, today)
    with pytest.raises(ConflictError):
        inbox.clue_not_include(actor=cast.cadre, clue=clue, reason="b", expected_version=1)
    clue.refresh_from_db()
    assert clue.state == Clue.State.VERIFIED


def test_the_verify_page_answers_409_to_a_stale_form(clue, cast, today):
    Clue.objects.filter(pk=clue.pk).update(version=5)
    response = login(cast.cadre).post(
        reverse("monitoring:clue-verify", args=[clue.pk]),
        {"verified_on": "2026-04-08", "note": "属实", "version": "1"},
    )
    assert response.status_code == 409
    assert "保存冲突" in response.content.decode()
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING


def test_the_verify_page_records_the_visit_with_the_scan(clue, cast, today):
    client = login(cast.cadre)
    form = client.get(reverse("monitoring:clue", args=[clue.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in form
    assert 'name="consent"' in form and 'name="consent_signed_on"' in form
    response = client.post(
        reverse("monitoring:clue-verify", args=[clue.pk]),
        {
            "verified_on": "2026-04-08",
            "note": "属实",
            "consent": consent_scan(),
            "consent_signed_on": "2026-04-08",
            "version": "1",
        },
    )
    assert response.status_code == 302
    clue.refresh_from_db()
    assert (clue.state, clue.verified_by) == (Clue.State.VERIFIED, cast.cadre)
    assert clue.consent_signed_on == today
    page = client.get(reverse("monitoring:clue", args=[clue.pk])).content.decode()
    assert f"/files/monitoring_clue_consent/{clue.pk}/?t=" in page


def test_the_verify_page_refuses_without_a_scan_keeping_what_was_typed(clue, cast, today):
    response = login(cast.cadre).post(
        reverse("monitoring:clue-verify", args=[clue.pk]),
        {
            "verified_on": "2026-04-08",
            "note": "妻子住院，自付医疗费用较高",
            "consent_signed_on": "2026-04-07",
            "version": "1",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "入户核实须有农户签字的承诺授权书：该线索尚未上传承诺授权书扫描件" in page
    assert "妻子住院，自付医疗费用较高</textarea>" in page
    assert 'value="2026-04-07"' in page and 'value="2026-04-08"' in page
    clue.refresh_from_db()
    assert (clue.state, clue.consent.name, clue.version) == (Clue.State.PENDING, "", 1)


def test_a_chosen_scan_refused_with_the_rest_of_the_form_asks_to_be_chosen_again(clue, cast, today):
    response = login(cast.cadre).post(
        reverse("monitoring:clue-verify", args=[clue.pk]),
        {
            "verified_on": "2026-04-08",
            "note": "  ",
            "consent": consent_scan(),
            "consent_signed_on": "2026-04-08",
            "version": "1",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "所选的承诺授权书扫描件尚未保存（本次未办结），请重新选择后提交。" in page
    clue.refresh_from_db()
    assert (clue.state, clue.consent.name) == (Clue.State.PENDING, "")


def test_the_township_reads_but_cannot_verify(clue, cast, today):
    client = login(cast.township)
    assert client.get(reverse("monitoring:clue", args=[clue.pk])).status_code == 200
    response = client.post(
        reverse("monitoring:clue-verify", args=[clue.pk]),
        {
            "verified_on": "2026-04-08",
            "note": "属实",
            "consent": consent_scan(),
            "consent_signed_on": "2026-04-08",
            "version": "1",
        },
    )
    assert response.status_code == 403
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING


def test_a_cadre_of_another_village_does_not_find_the_clue(clue, cast):
    assert login(cast.cadre2).get(reverse("monitoring:clue", args=[clue.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        inbox.clue_verify(
            actor=cast.cadre2,
            clue=clue,
            verified_on=clue.accepted_on,
            note="x",
            expected_version=1,
            **signed(clue.accepted_on),
        )


# --- 不纳入 and 发起识别 ------------------------------------------------------------------------


def test_not_include_needs_the_visit_first_and_a_reason(clue, cast, today):
    with pytest.raises(ValidationError) as caught:
        inbox.clue_not_include(actor=cast.cadre, clue=clue, reason="收入高", expected_version=1)
    assert caught.value.code == "state"
    _verify(cast.cadre, clue, today)
    with pytest.raises(ValidationError) as caught:
        inbox.clue_not_include(actor=cast.cadre, clue=clue, reason="  ", expected_version=2)
    assert caught.value.error_dict["reason"][0].code == "required"
    clue.refresh_from_db()
    assert clue.state == Clue.State.VERIFIED


def test_not_include_closes_the_clue_with_the_reason(clue, cast, today):
    _verify(cast.cadre, clue, today)
    response = login(cast.cadre).post(
        reverse("monitoring:clue-not-include", args=[clue.pk]),
        {"reason": "医保报销后自付不足两千元，收入稳定", "version": "2"},
    )
    assert response.status_code == 302
    clue.refresh_from_db()
    assert clue.state == Clue.State.NOT_INCLUDED
    assert clue.result_reason == "医保报销后自付不足两千元，收入稳定"
    assert (clue.decided_on, clue.decided_by) == (today, cast.cadre)
    assert AccessLog.objects.filter(
        action=AccessLog.Action.APPROVAL, target="monitoring.Clue", object_id=str(clue.pk)
    ).exists()


def test_a_verified_clue_offers_the_decision(clue, cast, today):
    _verify(cast.cadre, clue, today)
    html = login(cast.cadre).get(reverse("monitoring:clue", args=[clue.pk])).content.decode()
    assert reverse("monitoring:clue-not-include", args=[clue.pk]) in html


# --- 待登记 ------------------------------------------------------------------------------------


def test_an_unregistered_clue_is_a_register_task_closed_by_attaching_the_household(
    today, county, cast, household_b
):
    number = factories.id_number(D(1975, 2, 1))
    clue = declared(village=county.village_a, id_number=number, received_on=today, name="赵六")
    client = login(cast.cadre)
    html = client.get(reverse("monitoring:clue", args=[clue.pk])).content.decode()
    assert "data-register-task" in html
    assert reverse("monitoring:clue-register", args=[clue.pk]) in html
    assert "档案中还没有持该身份证号的成员。" in html
    # Attaching a household without the ID is refused, whoever's it is.
    with pytest.raises(ValidationError) as caught:
        inbox.clue_attach(actor=cast.county, clue=clue, household=household_b, expected_version=1)
    assert caught.value.error_dict["household"][0].code == "no_member"
    # The cadre registers the household, then attaches the clue to it.
    household = factories.household(
        actor=cast.cadre,
        village=county.village_a,
        status="non_registered",
        members=[factories.member_data(name="赵六", id_number=number, birth_date=D(1975, 2, 1))],
    )
    assert list(inbox.attach_candidates(user=cast.cadre, clue=clue)) == [household]
    response = client.post(
        reverse("monitoring:clue-attach", args=[clue.pk]),
        {"household": household.pk, "version": "1"},
    )
    assert response.status_code == 302
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING
    assert (clue.household, clue.member.name, clue.region) == (household, "赵六", county.village_a)
    assert clue.verify_due == D(2026, 4, 10)


def _register_task(county, *, today, name="赵六"):
    number = factories.id_number(D(1975, 2, 1))
    return declared(village=county.village_a, id_number=number, received_on=today, name=name)


def test_registering_from_the_clue_prefills_the_form_and_attaches_the_clue(today, county, cast):
    clue = _register_task(county, today=today)
    number = clue.id_number
    client = login(cast.cadre)
    url = reverse("monitoring:clue-register", args=[clue.pk])
    assert url == f"/monitoring/clues/{clue.pk}/register/"  # the clue's id only, no ID number
    page = client.get(url).content.decode()
    posted = form_holding(page, "members-0-id_number")
    values = dict(posted.entries)
    assert values["members-0-name"] == "赵六"
    assert values["members-0-id_number"] == number
    assert values["members-0-birth_date"] == "1975-02-01"
    assert values["members-0-relation"] == "户主"
    assert values["phone"] == "13812345678"
    assert values["village"] == str(county.village_a.pk)
    assert values["clue_version"] == "1"
    assert "data-register-from-clue" in page
    logged = AccessLog.objects.get(action=AccessLog.Action.VIEW_SENSITIVE)
    assert (logged.target, logged.object_id, logged.fields) == (
        "monitoring.Clue",
        str(clue.pk),
        ["id_number", "phone"],
    )
    # What the browser posts back, with the one field the cadre adds.
    data = posted.data()
    data["main_cause"] = "因病"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("monitoring:clue", args=[clue.pk])
    household = Household.objects.get(members__in=Member.objects.with_id_number(number))
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING
    assert (clue.household, clue.member.name, clue.region) == (household, "赵六", county.village_a)
    assert (household.village, household.phone) == (county.village_a, "13812345678")


def test_registering_from_the_clue_refuses_a_form_without_the_clue_s_person_writing_nothing(
    today, county, cast
):
    clue = _register_task(county, today=today)
    client = login(cast.cadre)
    url = reverse("monitoring:clue-register", args=[clue.pk])
    data = form_holding(client.get(url).content.decode(), "members-0-id_number").data()
    other = factories.id_number(D(1980, 5, 6))
    data["members-0-id_number"] = other
    data["members-0-birth_date"] = "1980-05-06"
    before = Household.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "家庭成员中须有持该线索身份证号" in page
    assert f'value="{other}"' in page  # what was typed stays
    assert Household.objects.count() == before
    clue.refresh_from_db()
    assert (clue.state, clue.household) == (Clue.State.UNREGISTERED, None)


def test_registering_from_a_clue_saved_meanwhile_is_a_conflict(today, county, cast):
    clue = _register_task(county, today=today)
    client = login(cast.cadre)
    url = reverse("monitoring:clue-register", args=[clue.pk])
    data = form_holding(client.get(url).content.decode(), "members-0-id_number").data()
    data["main_cause"] = "因病"
    Clue.objects.filter(pk=clue.pk).update(version=2)
    before = Household.objects.count()
    response = client.post(url, data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "保存冲突" in page
    assert Household.objects.count() == before
    # The form came back with what was typed and the clue's current version: saved again, it
    # registers the household and attaches the clue.
    again = form_holding(page, "members-0-id_number")
    assert dict(again.entries)["main_cause"] == "因病"
    assert dict(again.entries)["clue_version"] == "2"
    assert client.post(url, again.data()).status_code == 302
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING and clue.household is not None


def test_only_who_works_the_inbox_registers_and_only_a_register_task(
    today, county, cast, household_a
):
    task = _register_task(county, today=today)
    url = reverse("monitoring:clue-register", args=[task.pk])
    assert login(cast.township).get(url).status_code == 403
    assert login(cast.auditor).get(url).status_code == 403
    assert login(cast.cadre2).get(url).status_code == 404
    assert login(cast.county).get(url).status_code == 200
    matched = declared(village=county.village_a, id_number=head_id(household_a), received_on=today)
    response = login(cast.cadre).get(reverse("monitoring:clue-register", args=[matched.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:clue", args=[matched.pk])


def test_attaching_a_household_outside_the_scope_is_refused(today, county, cast, household_b):
    clue = declared(village=county.village_a, id_number=head_id(household_b), received_on=today)
    # household_b matched at once: not a register task.
    assert clue.state == Clue.State.PENDING
    number = factories.id_number()
    task = declared(village=county.village_a, id_number=number, received_on=today)
    with pytest.raises(ValidationError) as caught:
        inbox.clue_attach(actor=cast.cadre, clue=task, household=household_b, expected_version=1)
    assert caught.value.error_dict["household"][0].code == "scope"


# --- the list -------------------------------------------------------------------------------


def test_the_inbox_masks_ids_and_phones_and_the_detail_audits_the_full_number(clue, cast):
    number = clue.id_number
    client = login(cast.cadre)
    html = client.get(reverse("monitoring:clues")).content.decode()
    assert number not in html
    assert number[:3] + "*" * 11 + number[-4:] in html
    detail = client.get(reverse("monitoring:clue", args=[clue.pk])).content.decode()
    assert number not in detail and "13812345678" not in detail
    assert not AccessLog.objects.filter(action=AccessLog.Action.VIEW_SENSITIVE).exists()
    full = client.get(reverse("monitoring:clue", args=[clue.pk]), {"full": "1"}).content.decode()
    assert number in full
    logged = AccessLog.objects.get(action=AccessLog.Action.VIEW_SENSITIVE)
    assert (logged.target, logged.object_id, logged.user, logged.fields) == (
        "monitoring.Clue",
        str(clue.pk),
        cast.cadre,
        ["id_number", "phone"],
    )
    # A clue without a phone: the row names the ID number alone.
    type(clue).objects.filter(pk=clue.pk).update(phone="")
    client.get(reverse("monitoring:clue", args=[clue.pk]), {"full": "1"})
    assert AccessLog.objects.filter(action="view_sensitive").latest("seq").fields == ["id_number"]


def test_the_auditor_never_sees_the_full_number(clue, cast):
    html = (
        login(cast.auditor)
        .get(reverse("monitoring:clue", args=[clue.pk]), {"full": "1"})
        .content.decode()
    )
    assert clue.id_number not in html


def test_the_inbox_is_scoped_and_filtered(today, county, cast, household_a, household_b):
    mine = declared(village=county.village_a, id_number=head_id(household_a), received_on=today)
    theirs = declared(
        village=county.village_b,
        id_number=head_id(household_b),
        received_on=today,
        risk_type="disaster",
    )
    cadre_html = login(cast.cadre).get(reverse("monitoring:clues")).content.decode()
    assert f'data-clue="{mine.pk}"' in cadre_html
    assert f'data-clue="{theirs.pk}"' not in cadre_html
    county_client = login(cast.county)
    both = county_client.get(reverse("monitoring:clues")).content.decode()
    assert f'data-clue="{mine.pk}"' in both and f'data-clue="{theirs.pk}"' in both
    disaster = county_client.get(
        reverse("monitoring:clues"), {"risk_type": "disaster"}
    ).content.decode()
    assert f'data-clue="{mine.pk}"' not in disaster
    assert f'data-clue="{theirs.pk}"' in disaster


def test_the_inbox_list_makes_a_fixed_number_of_queries(
    today, county, cast, django_assert_max_num_queries
):
    for _index in range(12):
        declared(village=county.village_a, id_number=factories.id_number(), received_on=today)
    client = login(cast.county)
    client.get(reverse("monitoring:clues"))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("monitoring:clues"))
    assert response.status_code == 200
