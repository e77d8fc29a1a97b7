"""The monitoring object pages: scoped (another village's object is 404, a department account
403), IDs masked in the list, identification from a clue and from a household, an income
assessment, a 风险消除 proposal refused with its rules named, 风险解除 of one risk (the village's
cadre; the others read the date), the 承诺授权 scan of a clue's 入户核实 taken over."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from monitoring import clues, inbox, objects, procedures
from monitoring.models import Clue, IncomeAssessment, MonitoringObject
from povertyapp.models import AccessLog, User
from povertyapp.privacy import mask
from tests import factories
from tests.conftest import login
from tests.monitoring.object_fixtures import day, identify, set_line, start
from tests.project import app_today

OBJECT_LINK = re.compile(r"/monitoring/objects/\d+/")


def kept(day) -> str:
    """A date as pages show it: kept whole on a phone (`povertyapp/templatetags/dates.py`)."""
    return f'<span class="date">{day.isoformat()}</span>'


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def department(county) -> User:
    return factories.user(
        "yibao", User.Role.DEPARTMENT, county.county, department="medical_insurance"
    )


def _clue(cast, household) -> Clue:
    head = household.members.get(relation="户主")
    return clues.clue_create(
        channel=Clue.Channel.SELF_DECLARATION,
        name=head.name,
        id_number=head.id_number,
        risk_type="accident",
        received_on=day(0),
        actor=cast.cadre,
    )


def test_the_list_masks_ids_and_keeps_to_the_scope(cast, household_a, household_b):
    found = start(cast, household_a)
    head = household_a.members.get(relation="户主")
    page = login(cast.cadre).get(reverse("monitoring:objects")).content.decode()
    assert household_a.number in page
    assert mask(head.id_number) in page
    assert head.id_number not in page
    assert reverse("monitoring:object", args=[found.pk]) in page
    other = login(cast.cadre2).get(reverse("monitoring:objects")).content.decode()
    assert household_a.number not in other


def test_the_list_filters_by_risk_and_state_in_few_queries(
    cast, county, household_a, django_assert_max_num_queries
):
    start(cast, household_a, risk_types=["illness"])
    for _number in range(4):
        household = factories.household(actor=cast.county, village=county.village_a)
        start(cast, household, risk_types=["education"])
    client = login(cast.cadre)
    page = client.get(reverse("monitoring:objects"), {"risk_type": "illness"}).content.decode()
    assert len(OBJECT_LINK.findall(page)) == 1
    page = client.get(reverse("monitoring:objects"), {"state": "monitored"}).content.decode()
    assert "没有符合条件的监测对象" in page
    with django_assert_max_num_queries(20):
        response = client.get(reverse("monitoring:objects"))
    assert len(OBJECT_LINK.findall(response.content.decode())) == 5


def test_department_accounts_are_refused_every_page(cast, household_a, department):
    found = start(cast, household_a)
    client = login(department)
    for url in (
        reverse("monitoring:objects"),
        reverse("monitoring:object", args=[found.pk]),
        reverse("monitoring:income", args=[household_a.pk]),
        reverse("monitoring:identify-household", args=[household_a.pk]),
        reverse("monitoring:eliminate", args=[found.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_an_object_outside_the_scope_is_404(cast, household_a):
    found = start(cast, household_a)
    assert login(cast.cadre2).get(reverse("monitoring:object", args=[found.pk])).status_code == 404
    for user in (cast.cadre, cast.township, cast.county, cast.auditor):
        response = login(user).get(reverse("monitoring:object", args=[found.pk]))
        assert response.status_code == 200, user
        assert "入户核实" in response.content.decode()


def test_identification_from_a_clue_is_prefilled_and_starts_the_case(cast, household_a):
    clue = _clue(cast, household_a)
    url = reverse("monitoring:identify", args=[clue.pk])
    client = login(cast.cadre)
    form = client.get(url).content.decode()
    assert re.search(r'value="accident"[^>]*checked', form)
    assert day(0).isoformat() in form
    response = client.post(
        url,
        {
            "object_type": "sudden",
            "risk_types": ["accident"],
            "clue_date": day(0).isoformat(),
            "consent": SimpleUploadedFile("c.jpg", b"\xff\xd8\xff\xe0c", content_type="image/jpeg"),
            "consent_signed_on": day(0).isoformat(),
            "green_channel": "on",
            "green_channel_reason": "车祸住院",
        },
    )
    found = MonitoringObject.objects.get(household=household_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:object", args=[found.pk])
    assert found.green_channel is True
    clue.refresh_from_db()
    assert clue.state == Clue.State.IDENTIFYING


def test_identification_takes_over_the_scan_signed_at_the_clue_s_visit(cast, household_a):
    clue = _clue(cast, household_a)
    inbox.clue_verify(
        actor=cast.cadre,
        clue=clue,
        verified_on=app_today(),
        note="入户核实属实",
        expected_version=clue.version,
        consent=SimpleUploadedFile("授权.jpg", b"\xff\xd8\xff\xe0c", content_type="image/jpeg"),
        consent_signed_on=app_today(),
    )
    clue.refresh_from_db()
    url = reverse("monitoring:identify", args=[clue.pk])
    client = login(cast.cadre)
    form = client.get(url).content.decode()
    assert "已在入户核实时上传" in form
    assert 'name="consent"' not in form and 'name="consent_signed_on"' not in form
    assert f"/files/monitoring_clue_consent/{clue.pk}/?t=" in form
    response = client.post(
        url, {"object_type": "sudden", "risk_types": ["accident"], "clue_date": day(0).isoformat()}
    )
    assert response.status_code == 302
    found = MonitoringObject.objects.get(household=household_a)
    assert (found.consent.name, found.consent_signed_on) == (clue.consent.name, app_today())
    with transaction.atomic():  # as the step service calls it: it locks the object
        refusals = procedures.identification_done_refusals(found.identification, app_today())
    assert "承诺授权" not in " ".join(refusals)


def test_identification_is_the_village_cadre_s_alone(cast, household_a):
    clue = _clue(cast, household_a)
    url = reverse("monitoring:identify", args=[clue.pk])
    assert login(cast.cadre2).get(url).status_code == 404
    assert login(cast.township).get(url).status_code == 403
    assert login(cast.county).post(url, {}).status_code == 403
    assert MonitoringObject.objects.count() == 0


def test_identification_from_a_household_shows_the_refusal(cast, household_a):
    start(cast, household_a)
    response = login(cast.cadre).post(
        reverse("monitoring:identify-household", args=[household_a.pk]),
        {
            "object_type": "marginal",
            "risk_types": ["illness"],
            "clue_date": day(0).isoformat(),
            "consent": SimpleUploadedFile("c.jpg", b"\xff\xd8\xff\xe0c", content_type="image/jpeg"),
            "consent_signed_on": day(0).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "该户已是监测对象" in response.content.decode()
    assert MonitoringObject.objects.filter(household=household_a).count() == 1


def test_an_income_assessment_is_recorded_from_its_page(cast, household_a):
    response = login(cast.cadre).post(
        reverse("monitoring:income", args=[household_a.pk]),
        {
            "period_end": app_today().isoformat(),
            "wage": "12000",
            "production": "0",
            "property_income": "0",
            "transfer": "1000",
            "production_cost": "500",
            "compliant_out_of_pocket": "2000",
            "insurance_payouts": "500",
            "co_residents": "王五",
        },
    )
    assert response.status_code == 302
    assessment = IncomeAssessment.objects.get(household=household_a)
    assert str(assessment.net_income) == "11000.00"
    assert assessment.persons == 3
    assert (
        login(cast.township).get(reverse("monitoring:income", args=[household_a.pk])).status_code
        == 403
    )


def test_a_refused_elimination_names_its_rules_on_the_page(cast, county, household_a):
    set_line(county.province)
    found = identify(cast, household_a)
    client = login(cast.cadre)
    detail = client.get(reverse("monitoring:object", args=[found.pk])).content.decode()
    assert "风险消除条件" in detail
    response = client.post(
        reverse("monitoring:eliminate", args=[found.pk]),
        {"way": "natural", "basis": "收入增加", "version": found.version},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "收入稳定超过监测标准" in page
    assert "刚性支出问题已解决" in page
    found.refresh_from_db()
    assert found.elimination_id is None
    assert found.state == MonitoringObject.State.MONITORED


def test_the_household_page_links_to_identification_then_to_the_object(cast, household_a):
    page_url = reverse("households:detail", args=[household_a.pk])
    identify_url = reverse("monitoring:identify-household", args=[household_a.pk])
    income_url = reverse("monitoring:income", args=[household_a.pk])
    page = login(cast.cadre).get(page_url).content.decode()
    assert identify_url in page
    assert income_url in page
    township_page = login(cast.township).get(page_url).content.decode()
    assert identify_url not in township_page
    assert income_url not in township_page
    found = start(cast, household_a)
    page = login(cast.cadre).get(page_url).content.decode()
    assert identify_url not in page
    assert reverse("monitoring:object", args=[found.pk]) in page
    assert "监测对象：识别中" in page


# --- 风险解除 -----------------------------------------------------------------------------------


def _resolve(client, found, risk, resolved_on, version=None):
    prefix = f"risk-{risk.pk}"
    return client.post(
        reverse("monitoring:risk-resolve", args=[found.pk, risk.pk]),
        {
            f"{prefix}-resolved_on": resolved_on,
            f"{prefix}-version": str(found.version if version is None else version),
        },
    )


def test_the_cadre_resolves_one_risk_from_the_object_s_page(cast, household_a):
    found = start(cast, household_a, risk_types=["illness", "education"])
    illness = found.risks.get(risk_type="illness")
    client = login(cast.cadre)
    page = client.get(reverse("monitoring:object", args=[found.pk])).content.decode()
    for risk in found.risks.all():
        assert reverse("monitoring:risk-resolve", args=[found.pk, risk.pk]) in page
        assert f'name="risk-{risk.pk}-resolved_on"' in page
    response = _resolve(client, found, illness, day(20).isoformat())
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:object", args=[found.pk])
    illness.refresh_from_db()
    assert illness.resolved_on == day(20)
    assert found.risks.get(risk_type="education").resolved_on is None
    assert MonitoringObject.objects.get(pk=found.pk).version == found.version + 1
    logged = AccessLog.objects.get(target="monitoring.ObjectRisk")
    assert (logged.action, logged.user, logged.object_id) == (
        "approval",
        cast.cadre,
        str(illness.pk),
    )
    assert logged.detail["resolved_on"] == [None, day(20).isoformat()]
    page = client.get(reverse("monitoring:object", args=[found.pk])).content.decode()
    assert reverse("monitoring:risk-resolve", args=[found.pk, illness.pk]) not in page
    assert f"已解除 {kept(day(20))}" in page


def test_others_see_the_resolution_date_read_only(cast, household_a):
    found = start(cast, household_a)
    risk = found.risks.get()
    objects.risk_resolve(actor=cast.cadre, risk=risk, resolved_on=day(5))
    for user in (cast.township, cast.county, cast.auditor):
        page = login(user).get(reverse("monitoring:object", args=[found.pk])).content.decode()
        assert f"已解除 {kept(day(5))}" in page
        assert "/resolve/" not in page


def test_a_wrong_date_is_refused_on_the_page_keeping_what_was_typed(cast, household_a):
    found = start(cast, household_a)
    risk = found.risks.get()
    before = day(-3).isoformat()
    response = _resolve(login(cast.cadre), found, risk, before)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"风险解除日期应在首次发现风险（{day(0).isoformat()}）之后、今天之前。" in page
    assert f'value="{before}"' in page
    risk.refresh_from_db()
    assert risk.resolved_on is None
    assert MonitoringObject.objects.get(pk=found.pk).version == found.version
    assert not AccessLog.objects.filter(target="monitoring.ObjectRisk").exists()


def test_a_stale_form_is_a_conflict_and_saves_nothing(cast, household_a):
    found = start(cast, household_a, risk_types=["illness", "education"])
    illness, education = (
        found.risks.get(risk_type="illness"),
        found.risks.get(risk_type="education"),
    )
    client = login(cast.cadre)
    loaded = found.version
    assert _resolve(client, found, education, day(3).isoformat()).status_code == 302
    response = _resolve(client, found, illness, day(4).isoformat(), version=loaded)
    assert response.status_code == 409
    page = response.content.decode()
    assert "保存冲突" in page
    assert f'value="{day(4).isoformat()}"' in page
    illness.refresh_from_db()
    assert illness.resolved_on is None


def test_a_risk_resolved_already_keeps_its_date(cast, household_a):
    found = start(cast, household_a)
    risk = found.risks.get()
    objects.risk_resolve(actor=cast.cadre, risk=risk, resolved_on=day(5))
    with pytest.raises(ValidationError) as caught:
        objects.risk_resolve(actor=cast.cadre, risk=risk, resolved_on=day(6))
    assert caught.value.code == "already_resolved"
    risk.refresh_from_db()
    assert risk.resolved_on == day(5)


def test_only_the_village_s_cadre_resolves_a_risk(cast, household_a, department):
    found = start(cast, household_a)
    risk = found.risks.get()
    url = reverse("monitoring:risk-resolve", args=[found.pk, risk.pk])
    assert login(cast.cadre).get(url).status_code == 405
    for user in (cast.township, cast.county, cast.auditor, cast.helper, department):
        assert _resolve(login(user), found, risk, day(5).isoformat()).status_code == 403, user
    assert _resolve(login(cast.cadre2), found, risk, day(5).isoformat()).status_code == 404
    other = start(cast, factories.household(actor=cast.county, village=household_a.village))
    wrong = reverse("monitoring:risk-resolve", args=[found.pk, other.risks.get().pk])
    assert login(cast.cadre).post(wrong, {}).status_code == 404
    risk.refresh_from_db()
    assert risk.resolved_on is None
