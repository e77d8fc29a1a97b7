"""Issue 13's "Must show", on a 360 px phone in Chinese: a cadre takes a household from 申请 to
公告 with the township and the county, in the legal order of the dates. One date entered too
early is refused in Chinese, names the rule and the dates, and loses nothing the cadre typed.
No page may scroll sideways. Screenshots go to artifacts/screenshots/ (procedure-*)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from households.models import CaseWorkflow, Household, HouseholdEvent
from tests import factories
from tests.browser.test_cadre_flow import login, shot, submit

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, (page.url, width)


def step(page, opinion: str, on: datetime.date, **extra: str) -> None:
    page.fill("textarea[name=opinion]", opinion)
    page.fill("input[name=acted_on]", on.isoformat())
    for name, value in extra.items():
        if name == "evidence":
            page.set_input_files("input[name=evidence]", value)
        else:
            page.fill(f"input[name={name}]", value)
    submit(page, "form[action$='/complete/'] button[type=submit]")
    fits(page)


def post_notice(page, start: datetime.date) -> None:
    page.fill("input[name=start_date]", start.isoformat())
    page.fill("input[name=phone]", "0855-2345678")
    submit(page, "form[action$='/notice/'] button[type=submit]")
    fits(page)


def close_notice(page) -> None:
    submit(page, "text=公示期满无异议，办结公示")
    fits(page)


def test_a_cadre_takes_a_household_from_application_to_announcement_on_a_phone(
    browser,
    live_server,
    cast,
    county,
    tmp_path,
):
    today = timezone.localdate()

    def ago(days: int) -> datetime.date:
        return today - datetime.timedelta(days=days)

    household = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )
    minutes = tmp_path / "minutes.png"
    minutes.write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"minutes")

    cadre = login(browser, live_server, "cadre", **PHONE)
    cadre.goto(f"{live_server.url}/households/{household.pk}/")
    fits(cadre)
    cadre.click("details.start-procedure summary")
    cadre.fill("input[name=effective_date]", ago(20).isoformat())
    shot(cadre, "procedure-01-phone-apply")
    submit(cadre, "details.start-procedure button[type=submit]")
    fits(cadre)
    workflow = CaseWorkflow.objects.get()
    assert workflow.opened_on == ago(20)
    assert "剩余" in cadre.inner_text("main")  # the clock: working days left to the deadline

    step(cadre, "村民代表评议同意", ago(19), attendance="21", evidence=str(minutes))
    # Too early: the verification dated before the appraisal it follows.
    cadre.fill("textarea[name=opinion]", "入户核实属实")
    cadre.fill("input[name=acted_on]", ago(25).isoformat())
    submit(cadre, "form[action$='/complete/'] button[type=submit]")
    fits(cadre)
    refusal = cadre.locator("form[action$='/complete/'] .errorlist").inner_text()
    assert refusal == (
        f"“村委会和驻村工作队核实”的办理日期（{ago(25).isoformat()}）不能早于上一环节"
        f"“民主评议”的日期（{ago(19).isoformat()}）。"
    )
    assert cadre.input_value("textarea[name=opinion]") == "入户核实属实"  # nothing lost
    shot(cadre, "procedure-02-phone-too-early-refused")
    workflow.refresh_from_db()
    assert workflow.step == "verification"
    cadre.fill("input[name=acted_on]", ago(18).isoformat())
    submit(cadre, "form[action$='/complete/'] button[type=submit]")
    fits(cadre)
    post_notice(cadre, ago(17))
    close_notice(cadre)
    shot(cadre, "procedure-03-phone-village-done")
    # The case now waits on the township: the cadre's 待办 says so, with its step.
    cadre.goto(f"{live_server.url}/households/todo/")
    fits(cadre)
    waiting = cadre.inner_text("main")
    assert "我的案件（等待他人办理）" in waiting and "乡镇审核" in waiting

    township = login(browser, live_server, "township", **PHONE)
    township.goto(f"{live_server.url}/households/todo/")
    fits(township)
    submit(township, f"text={household.number}")
    step(township, "乡镇审核同意", ago(10))
    post_notice(township, ago(9))
    notice_id = workflow.notices.get(step="second_notice").pk
    sheet = township.context.new_page()
    sheet.goto(f"{live_server.url}/households/notices/{notice_id}/print/")
    assert "新州镇人民政府审核同意" in sheet.inner_text("article")
    assert sheet.inner_text(".notice-sign").startswith("新州镇人民政府")
    shot(sheet, "procedure-04-phone-second-notice")
    sheet.close()
    close_notice(township)

    county_page = login(browser, live_server, "county", **PHONE)
    county_page.goto(f"{live_server.url}/households/todo/")
    fits(county_page)
    submit(county_page, f"text={household.number}")
    step(county_page, "县扶贫办审定同意", ago(2))
    step(county_page, "已公告", ago(1))
    shot(county_page, "procedure-05-phone-announced")

    workflow.refresh_from_db()
    household.refresh_from_db()
    assert workflow.state == CaseWorkflow.State.DONE
    assert household.status == Household.Status.POOR
    event = household.events.get(kind=HouseholdEvent.Kind.IDENTIFIED)
    assert event.effective_date == ago(1)
    assert list(
        workflow.steps.filter(decision="done").values_list("step", "acted_on").order_by("id")
    ) == [
        ("application", ago(20)),
        ("appraisal", ago(19)),
        ("verification", ago(18)),
        ("first_notice", ago(10)),
        ("township_review", ago(10)),
        ("second_notice", ago(2)),
        ("county_approval", ago(2)),
        ("announcement", ago(1)),
    ]
