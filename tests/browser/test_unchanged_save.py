"""Issue 12 §2 in a real browser (Debian's chromium, zh-hans): open the measure form, the visit
form and the household form (with a member whose 证件类型 is not 居民身份证), press 保存
without touching anything, and every date is still in the inputs and in the database.

Chromium's own rules decide here: an `<input type=date>` whose value is not ISO shows empty and
posts "", which is how the dates were lost. Run on the helper's port range with
`--liveserver 127.0.0.1:8120` when the default port is taken.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from assistance.models import Measure, Visit
from households.models import Member
from tests.browser.test_cadre_flow import login
from tests.povertyapp.form_cases import World, differences, snapshot


def press_save(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def date_values(page) -> dict[str, str]:
    """What chromium holds in every date input of the page (its `.value`, after sanitization)."""
    return page.eval_on_selector_all(
        "input[type=date]",
        "inputs => Object.fromEntries(inputs.map(input => [input.name, input.value]))",
    )


@pytest.mark.django_db(transaction=True)
def test_measure_visit_and_household_forms_saved_unchanged_keep_every_date(
    browser, live_server, cast, county
):
    world = World(cast, county)
    measure = world.measure
    household = world.household
    other_id = world.other_id_member
    today = timezone.localdate()
    page = login(browser, live_server, "cadre")
    assert page.evaluate("document.documentElement.lang") == "zh-hans"

    # 帮扶措施: planned start and end.
    before = snapshot()
    page.goto(f"{live_server.url}/assistance/measures/{measure.pk}/edit/")
    assert date_values(page) == {"planned_start": "2020-03-15", "planned_end": "2020-12-03"}
    press_save(page, f"form[action$='/measures/{measure.pk}/edit/'] button[type=submit]")
    assert page.url.startswith(f"{live_server.url}/assistance/households/{household.pk}/")
    measure = Measure.objects.get(pk=measure.pk)
    assert (measure.planned_start, measure.planned_end) == (
        datetime.date(2020, 3, 15),
        datetime.date(2020, 12, 3),
    )
    assert differences(before, snapshot()) == []
    page.goto(f"{live_server.url}/assistance/measures/{measure.pk}/edit/")
    assert date_values(page) == {"planned_start": "2020-03-15", "planned_end": "2020-12-03"}

    # 走访: the date the page offers (today) is kept. 保存 untouched is held by the browser
    # itself on the one required field still empty; the date is not among the invalid ones.
    page.goto(f"{live_server.url}/assistance/households/{household.pk}/visits/new/")
    assert date_values(page) == {"date": today.isoformat()}
    invalid = page.eval_on_selector_all(
        "main form.card :invalid", "controls => controls.map(control => control.name)"
    )
    assert invalid == ["seen"]
    page.fill("textarea[name=seen]", "家中有人，生产生活正常")
    press_save(page, "main form.card button[type=submit].primary")
    visit = Visit.objects.get(household=household)
    assert visit.date == today

    # 农户: three members, one with 证件类型 其他 whose birth date is stored, not derived.
    members = list(household.members.filter(is_active=True).order_by("id"))
    before = snapshot()
    page.goto(f"{live_server.url}/households/{household.pk}/edit/")
    assert date_values(page) == {
        "members-0-birth_date": "1980-05-17",
        "members-1-birth_date": "1982-03-09",
        "members-2-birth_date": "2009-11-23",
    }
    press_save(page, "form.household-form button[type=submit]")
    assert page.url == f"{live_server.url}/households/{household.pk}/"
    assert page.locator(".errorlist").count() == 0
    assert [
        (member.name, member.id_type, member.birth_date)
        for member in Member.objects.filter(pk__in=[member.pk for member in members]).order_by("id")
    ] == [
        ("张三", "居民身份证", datetime.date(1980, 5, 17)),
        ("李四", "居民身份证", datetime.date(1982, 3, 9)),
        ("王小五", "其他", datetime.date(2009, 11, 23)),
    ]
    assert other_id.pk == members[2].pk
    assert differences(before, snapshot()) == []
    page.goto(f"{live_server.url}/households/{household.pk}/edit/")
    assert date_values(page)["members-2-birth_date"] == "2009-11-23"
