"""Batches on a 360 px phone in Chinese: a cadre opens a batch of three applicants, records one
民主评议 meeting (one household not passed), one verification and one list 公示, closes it; the
township reviews the batch in one post, returning one household. No page scrolls sideways and
no page reports a Content-Security-Policy violation. Screenshots: artifacts/screenshots/batch-*."""

from __future__ import annotations

import datetime

from django.utils import timezone

from households.models import CaseWorkflow, Household
from tests import factories
from tests.browser.test_cadre_flow import login, shot, submit
from tests.browser.test_content_security_policy import _watch_violations
from tests.browser.test_procedure_phone import PHONE, fits


def test_a_batch_runs_from_the_meeting_to_the_township_review_on_a_phone(
    browser, live_server, cast, county, tmp_path
):
    today = timezone.localdate()

    def ago(days: int) -> datetime.date:
        return today - datetime.timedelta(days=days)

    households = [
        factories.household(
            actor=cast.county,
            village=county.village_a,
            status=Household.Status.NON_REGISTERED,
            main_cause="因病",
        )
        for _ in range(3)
    ]
    minutes = tmp_path / "minutes.png"
    minutes.write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"minutes")

    cadre = login(browser, live_server, "cadre", **PHONE)
    violations = _watch_violations(cadre)
    cadre.goto(f"{live_server.url}/households/batches/new/?kind=identification")
    fits(cadre)
    for household in households:
        cadre.check(f"input[name=households][value='{household.pk}']")
    cadre.fill("input[name=opened_on]", ago(10).isoformat())
    shot(cadre, "batch-01-phone-create")
    submit(cadre, "form[method=post] button[type=submit].primary")
    fits(cadre)
    cases = {case.household_id: case for case in CaseWorkflow.objects.all()}
    assert len(cases) == 3

    cadre.fill("input[name=meeting_date]", ago(9).isoformat())
    cadre.fill("input[name=attendance]", "30")
    cadre.fill("textarea[name=opinion]", "村民代表会议评议通过")
    cadre.set_input_files("input[name=minutes]", str(minutes))
    cadre.fill(f"input[name=reason_{cases[households[2].pk].pk}]", "家庭收入超过扶贫标准")
    shot(cadre, "batch-02-phone-meeting")
    submit(cadre, "form[action$='/meeting/'] button[type=submit]")
    fits(cadre)

    cadre.fill("textarea[name=opinion]", "入户核实属实")
    cadre.fill("input[name=acted_on]", ago(8).isoformat())
    submit(cadre, "form[action$='/step/'] button[type=submit]")
    fits(cadre)
    cadre.fill("input[name=start_date]", ago(7).isoformat())
    cadre.fill("input[name=phone]", "0855-2345678")
    submit(cadre, "form[action$='/notice/'] button[type=submit]")
    fits(cadre)
    submit(cadre, "text=公示期满无异议，整批办结公示")
    fits(cadre)

    township = login(browser, live_server, "township", **PHONE)
    violations += _watch_violations(township)
    township.goto(cadre.url)
    fits(township)
    returned = cases[households[1].pk].pk
    township.fill("textarea[name=opinion]", "审核同意")
    township.fill("input[name=acted_on]", today.isoformat())
    township.select_option(f"select[name=return_to_{returned}]", "verification")
    township.fill(f"input[name=reason_{returned}]", "住房面积与核实不符")
    shot(township, "batch-03-phone-township-review")
    submit(township, "form[action$='/step/'] button[type=submit]")
    fits(township)

    steps = {
        case.household_id: (case.state, case.step) for case in CaseWorkflow.objects.order_by("id")
    }
    assert steps == {
        households[0].pk: ("open", "second_notice"),
        households[1].pk: ("open", "verification"),
        households[2].pk: ("withdrawn", "appraisal"),
    }
    assert violations == []
