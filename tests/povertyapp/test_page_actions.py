"""Every action a page offers outright (a button with nothing to fill: 签署, 关闭批次, 结束排查,
标记已录入) is one the state allows its user: pressing it is never answered with a refusal.

A round's page offered 关闭批次 while lines waited for review, and a sweep's page 结束排查
while households were not visited, each refused with the reason only after the press (found by
this test 2026-12-07; the reason is now shown in place of the button, from the function the
service refuses with: `rounds.services.round_close_blocker`, `monitoring.sweeps.
sweep_close_blocker`). A refusal the page can foresee belongs on the page. The sign-off page's
签署 offered to a county that had signed (fixed the same day) has a field to fill, so its own
test holds it (`tests/years/test_signoff.py`), and so does the correction task list's 销号
(`inspections.services.task_not_corrected`, `tests/inspections/test_findings.py`).

Each demo user walks the site (`tests/site_walk.py`) and posts every such form of every page,
as the browser would (its hidden values, the button's name and value), inside a transaction
rolled back after the answer, so that no press changes what the next one meets. An answer of
400 or more, or a warning or error message, fails. Forms with a field to fill are left out: an
empty required field is refused by design, with its error on the field.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.contrib.messages import constants, get_messages
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from povertyapp.menu import menu_for
from tests.site_walk import NOT_WALKED, button_forms, walk


class _RolledBack(Exception):
    pass


@pytest.fixture
def demo_users(db, settings, tmp_path):
    from povertyapp import demo

    settings.MEDIA_ROOT = tmp_path
    return demo.seed(households=20, seed=1)["users"]


def _action_name(action: str) -> str | None:
    try:
        return resolve(action.split("?")[0]).view_name
    except Resolver404:
        return None


def press(client: Client, action: str, data: dict[str, list[str]]) -> tuple[int, list[str]]:
    """Post `data` to `action` and roll back what it did: the status and the warnings and errors
    the answer queued."""
    client.cookies.pop("messages", None)
    answer: tuple[int, list[str]] = (0, [])
    try:
        with transaction.atomic():
            response = client.post(action, data)
            shown = [
                str(message)
                for message in get_messages(response.wsgi_request)
                if message.level >= constants.WARNING
            ]
            answer = (response.status_code, shown)
            raise _RolledBack
    except _RolledBack:
        pass
    return answer


def test_every_action_a_page_offers_outright_is_allowed(demo_users):
    refused: dict[str, set[str]] = defaultdict(set)
    pressed = 0
    for username, user in demo_users.items():
        client = Client()
        client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
        walked = walk(client, ["/", *(link.url for link in menu_for(user))])
        done: set[tuple[str, str, str]] = set()
        for url, html in walked.pages.items():
            for form in button_forms(html):
                action = form.action or url
                if _action_name(action) in NOT_WALKED:  # signing out, the language switch
                    continue
                for name, value in form.buttons:
                    if (action, name, value) in done:
                        continue
                    done.add((action, name, value))
                    data: dict[str, list[str]] = defaultdict(list)
                    for key, hidden in form.values:
                        data[key].append(hidden)
                    if name:
                        data[name] = [value]
                    status, shown = press(client, action, dict(data))
                    pressed += 1
                    if status >= 400 or shown:
                        refused[f"{action} {name}={value}: {status} {shown}"].add(
                            f"{username} on {url}"
                        )
    assert not refused, "actions offered and refused: " + "; ".join(
        f"{what} ({', '.join(sorted(where)[:3])})" for what, where in sorted(refused.items())
    )
    assert pressed > 15  # 19 on the demo of 2026-12-07


def test_a_refused_press_is_caught(demo_users):
    """The rule can fail: the county's 关闭批次 pressed while lines wait for review."""
    from rounds.models import AdjustmentRound

    county = demo_users["county"]
    round = AdjustmentRound.objects.get(status=AdjustmentRound.Status.OPEN, county=county.region)
    client = Client()
    client.force_login(county, backend="povertyapp.backends.ModelBackendWithRegion")
    status, shown = press(client, f"/rounds/{round.pk}/close/", {})
    assert status == 302 and shown and "关闭批次" in shown[0]
    page = client.get(f"/rounds/{round.pk}/").content.decode()
    assert f'action="/rounds/{round.pk}/close/"' not in page
    assert shown[0] in page  # the reason, in place of the button
    forms = button_forms(
        '<form method="post" action="/a/"><input type="hidden" name="v" value="3">'
        '<button name="do" value="x">甲</button><button disabled>乙</button></form>'
        '<form method="post"><textarea name="t"></textarea><button>丙</button></form>'
    )
    assert [(form.action, form.values, form.buttons) for form in forms] == [
        ("/a/", [("v", "3")], [("do", "x")])
    ]
