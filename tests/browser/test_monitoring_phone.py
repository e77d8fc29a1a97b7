"""Issue 15's "Must show", on a 360 px phone in Chinese: a farmer declares a risk on the public
page, the village cadre finds the clue, verifies it at home (refused first without the
household's signed 承诺授权 scan, losing nothing typed, then with it) and identifies the household
as a monitoring object through 民主评议, 村内公示, 乡镇审核 and 县级审定, the scan taken over;
months later the cadre records the illness resolved on the object's page and, with the income
stably above the line, proposes 风险消除 (refused first, naming the rule, losing nothing typed)
and the township and the county approve it.
No page may scroll sideways. Screenshots go to artifacts/screenshots/ (monitoring-*)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from households.models import CaseWorkflow, PublicNotice, WorkflowStep
from monitoring.models import Clue, MonitoringLine, MonitoringObject, RiskType
from tests import factories
from tests.browser.test_cadre_flow import login, shot, submit
from tests.browser.test_procedure_phone import PHONE, close_notice, fits, post_notice, step


def shift_case(workflow: CaseWorkflow, days: int) -> None:
    """Move a case, its records and its notices `days` days into the past."""
    back = datetime.timedelta(days=days)
    CaseWorkflow.objects.filter(pk=workflow.pk).update(
        opened_on=workflow.opened_on - back,
        deadline=workflow.deadline - back if workflow.deadline else None,
    )
    for record in WorkflowStep.objects.filter(workflow=workflow):
        WorkflowStep.objects.filter(pk=record.pk).update(acted_on=record.acted_on - back)
    for notice in PublicNotice.objects.filter(workflow=workflow):
        PublicNotice.objects.filter(pk=notice.pk).update(start_date=notice.start_date - back)


def fill_income(page, period_end: datetime.date, wage: str) -> None:
    page.fill("#id_period_end", period_end.isoformat())
    page.fill("#id_wage", wage)
    for name in (
        "production",
        "property_income",
        "transfer",
        "production_cost",
        "compliant_out_of_pocket",
        "insurance_payouts",
    ):
        page.fill(f"#id_{name}", "0")
    submit(page, "main form button[type=submit].primary")
    fits(page)


def test_a_declared_risk_is_identified_and_eliminated_on_a_phone(
    browser,
    live_server,
    cast,
    county,
    tmp_path,
):
    today = timezone.localdate()

    def ago(days: int) -> datetime.date:
        return today - datetime.timedelta(days=days)

    household = factories.household(actor=cast.county, village=county.village_a)
    head = household.members.get(relation="户主")
    scan = tmp_path / "consent.png"
    scan.write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"consent")
    minutes = tmp_path / "minutes.png"
    minutes.write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"minutes")

    # 1. The farmer declares on the public page, on his own phone, without an account.
    farmer = browser.new_context(locale="zh-CN", **PHONE).new_page()
    farmer.goto(f"{live_server.url}/monitoring/declare/")
    fits(farmer)
    farmer.fill("#id_name", head.name)
    farmer.fill("#id_phone", "13812345678")
    farmer.fill("#id_id_number", head.id_number)
    farmer.fill("#id_difficulty", "妻子住院，医疗费用负担重")
    farmer.select_option("#id_village", str(county.village_a.pk))
    farmer.select_option("#id_risk_type", RiskType.ILLNESS)
    shot(farmer, "monitoring-01-phone-declare")
    submit(farmer, "main form button[type=submit]")
    fits(farmer)
    receipt = farmer.inner_text("main")
    clue = Clue.objects.get()
    assert clue.household == household
    assert "受理回执" in receipt
    assert farmer.inner_text("[data-reference]").strip() != ""
    assert head.id_number not in receipt and head.id_number[6:14] not in receipt  # nor birth
    shot(farmer, "monitoring-02-phone-receipt")
    farmer.context.close()

    # The declaration came two weeks ago: the machine forbids steps dated before the clue and
    # a 公示 must run 5 days, so the clue's dates are moved back to leave room for the steps.
    back = datetime.timedelta(days=14)
    Clue.objects.filter(pk=clue.pk).update(
        received_on=clue.received_on - back,
        accepted_on=clue.accepted_on - back,
        verify_due=clue.verify_due - back,
        decide_due=clue.decide_due - back,
    )

    # 2. The cadre finds the clue in the inbox, verifies it at home and starts identification.
    cadre = login(browser, live_server, "cadre", **PHONE)
    cadre.goto(f"{live_server.url}/monitoring/clues/")
    fits(cadre)
    submit(cadre, f"main a[href$='/monitoring/clues/{clue.pk}/']")
    fits(cadre)
    # Without the household's signed 承诺授权 the visit is refused, naming it; nothing typed
    # is lost. With the scan (photographed on the phone) it is recorded.
    note = "入户核实：妻子住院，自付医疗费用较高"
    cadre.fill("#id_verified_on", ago(13).isoformat())
    cadre.fill("#id_note", note)
    cadre.fill("#id_consent_signed_on", ago(13).isoformat())
    submit(cadre, f"form[action$='/clues/{clue.pk}/verify/'] button[type=submit]")
    fits(cadre)
    refusal = cadre.inner_text("[data-field=consent] .errorlist")
    assert "承诺授权书" in refusal and "尚未上传" in refusal
    assert cadre.input_value("#id_note") == note
    assert cadre.input_value("#id_verified_on") == ago(13).isoformat()
    assert cadre.input_value("#id_consent_signed_on") == ago(13).isoformat()
    shot(cadre, "monitoring-03a-phone-visit-needs-consent")
    clue.refresh_from_db()
    assert clue.state == Clue.State.PENDING
    cadre.set_input_files("#id_consent", str(scan))
    submit(cadre, f"form[action$='/clues/{clue.pk}/verify/'] button[type=submit]")
    fits(cadre)
    assert "入户核实已记录" in cadre.inner_text("main")
    shot(cadre, "monitoring-03b-phone-clue-verified")
    submit(cadre, "text=发起监测对象识别")
    fits(cadre)
    cadre.select_option("#id_object_type", "marginal")
    assert cadre.input_value("#id_clue_date") == ago(14).isoformat()
    assert cadre.is_checked(f"input[name=risk_types][value={RiskType.ILLNESS}]")
    # The scan signed at the visit is on file: the identification takes it over.
    assert "已在入户核实时上传" in cadre.inner_text("[data-consent-on-file]")
    assert cadre.locator("#id_consent").count() == 0
    cadre.fill("#id_opinion", "因病支出大，拟纳入边缘易致贫户")
    shot(cadre, "monitoring-04-phone-identify")
    submit(cadre, "main form button[type=submit].primary")
    fits(cadre)
    found = MonitoringObject.objects.get(household=household)
    assert found.state == MonitoringObject.State.IDENTIFYING
    workflow = found.identification
    assert workflow is not None and workflow.opened_on == ago(14)
    clue.refresh_from_db()
    assert (found.consent.name, found.consent_signed_on) == (clue.consent.name, ago(13))
    case_url = f"{live_server.url}/households/cases/{workflow.pk}/"

    cadre.goto(case_url)
    fits(cadre)
    step(cadre, "入户核实属实，农户已签署承诺授权书", ago(13))
    step(cadre, "村民代表评议同意纳入", ago(12), attendance="19", evidence=str(minutes))
    post_notice(cadre, ago(11))
    close_notice(cadre)
    shot(cadre, "monitoring-05-phone-village-done")

    township = login(browser, live_server, "township", **PHONE)
    township.goto(case_url)
    fits(township)
    step(township, "乡镇审核同意", ago(5))

    county_page = login(browser, live_server, "county", **PHONE)
    county_page.goto(case_url)
    fits(county_page)
    step(county_page, "县级审定纳入监测并公告", ago(3))
    shot(county_page, "monitoring-06-phone-identified")

    found.refresh_from_db()
    clue.refresh_from_db()
    assert found.state == MonitoringObject.State.MONITORED
    assert found.identified_on == ago(3)
    assert clue.state == Clue.State.INCLUDED
    county_page.goto(f"{live_server.url}/monitoring/objects/{found.pk}/")
    fits(county_page)
    assert "监测中" in county_page.inner_text("main")

    # 3. Nine months pass: the identification happened nine months ago (its clue, object and
    # case moved back by the ORM), so that income can be assessed twice six months apart.
    months = 270
    shift = datetime.timedelta(days=months)
    shift_case(workflow, months)
    Clue.objects.filter(pk=clue.pk).update(
        received_on=clue.received_on - shift,
        accepted_on=clue.accepted_on - shift,
        verify_due=clue.verify_due - shift,
        decide_due=clue.decide_due - shift,
        verified_on=clue.verified_on - shift,
        decided_on=clue.decided_on - shift,
    )
    MonitoringObject.objects.filter(pk=found.pk).update(
        clue_date=found.clue_date - shift,
        identified_on=found.identified_on - shift,
        consent_signed_on=found.consent_signed_on - shift,
    )
    for year in {today.year, ago(200).year}:
        MonitoringLine.objects.update_or_create(
            region=county.province,
            year=year,
            defaults={"kind": MonitoringLine.Kind.AMOUNT, "amount": Decimal("7000")},
        )
    # The illness is resolved: the cadre records it on the object's page.
    object_url = f"{live_server.url}/monitoring/objects/{found.pk}/"
    cadre.goto(object_url)
    fits(cadre)
    risk = found.risks.get()
    cadre.fill(f"#id_risk-{risk.pk}-resolved_on", ago(30).isoformat())
    submit(cadre, f"form[action$='/risks/{risk.pk}/resolve/'] button[type=submit]")
    fits(cadre)
    assert f"已解除 {ago(30).isoformat()}" in cadre.inner_text("[data-risks]")
    shot(cadre, "monitoring-07a-phone-risk-resolved")
    risk.refresh_from_db()
    assert risk.resolved_on == ago(30)
    submit(cadre, "main a[href$='/income/']")
    fits(cadre)
    fill_income(cadre, ago(200), "30000")
    shot(cadre, "monitoring-07b-phone-first-income")

    # Proposed with one assessment only: refused, naming the income rule; nothing typed lost.
    cadre.goto(f"{object_url}eliminate/")
    fits(cadre)
    basis = "务工收入稳定，医疗费用已报销"
    cadre.select_option("#id_way", "assisted")
    cadre.fill("#id_basis", basis)
    submit(cadre, "main form button[type=submit].primary")
    fits(cadre)
    refusal = cadre.inner_text("main form .errorlist")
    assert "收入稳定超过监测标准" in refusal
    assert "不满6个月" in refusal
    assert cadre.input_value("#id_basis") == basis
    assert cadre.input_value("#id_way") == "assisted"
    shot(cadre, "monitoring-08-phone-elimination-refused")
    found.refresh_from_db()
    assert found.state == MonitoringObject.State.MONITORED and found.elimination_id is None

    cadre.goto(f"{live_server.url}/monitoring/households/{household.pk}/income/")
    fits(cadre)
    fill_income(cadre, ago(10), "32000")
    cadre.goto(f"{object_url}eliminate/")
    fits(cadre)
    cadre.select_option("#id_way", "assisted")
    cadre.fill("#id_basis", basis)
    submit(cadre, "main form button[type=submit].primary")
    fits(cadre)
    assert "已提出风险消除" in cadre.inner_text("main")
    found.refresh_from_db()
    elimination = found.elimination
    assert elimination is not None

    # The proposal was made twelve days ago: its case is moved back so the 公示 can run its
    # five days before the township and the county decide.
    shift_case(elimination, 12)
    elimination_url = f"{live_server.url}/households/cases/{elimination.pk}/"
    cadre.goto(elimination_url)
    fits(cadre)
    post_notice(cadre, ago(11))
    close_notice(cadre)
    shot(cadre, "monitoring-09-phone-elimination-notice")

    township.goto(elimination_url)
    fits(township)
    step(township, "乡镇审核同意风险消除", ago(4))
    county_page.goto(elimination_url)
    fits(county_page)
    step(county_page, "县级审定风险消除", ago(2))
    shot(county_page, "monitoring-10-phone-eliminated")

    found.refresh_from_db()
    elimination.refresh_from_db()
    assert elimination.state == CaseWorkflow.State.DONE
    assert found.state == MonitoringObject.State.ELIMINATED
    assert found.elimination_way == "assisted"
    assert found.eliminated_on == ago(2)
    county_page.goto(object_url)
    fits(county_page)
    page_text = county_page.inner_text("main")
    assert "风险已消除" in page_text and "帮扶消除" in page_text
    assert ago(2).isoformat() in page_text
