"""The security administrator's desk (povertyapp/security/posture.py): the accounts that need
doing today, each count the count of the account list its link opens (filter 安全状况), and
the locks lifted from that list with an audit row."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from povertyapp import desk
from povertyapp.models import AccessLog, User
from povertyapp.security import posture
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _ago(**delta: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


@pytest.fixture
def states(cast):
    """One account in each state, and one just outside it."""
    now = timezone.now()
    User.objects.update(last_login=now, password_changed_at=now)
    # Locked by passwords: the limit reached within the cool-off; one whose lock has run out.
    AccessAttempt.objects.create(
        username=cast.cadre.username,
        ip_address="10.0.0.1",
        user_agent="test",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=now,
    )
    expired = AccessAttempt.objects.create(
        username=cast.cadre2.username,
        ip_address="10.0.0.1",
        user_agent="test",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )
    AccessAttempt.objects.filter(pk=expired.pk).update(  # attempt_time is set on create
        attempt_time=_ago(hours=settings.AXES_COOLOFF_TIME + 1)
    )
    # Locked by wrong codes (the township's confirmed device).
    TOTPDevice.objects.create(
        user=cast.township,
        name="TOTP",
        confirmed=True,
        throttling_failure_count=settings.SECOND_FACTOR_FAILURE_LIMIT,
        throttling_failure_timestamp=now,
    )
    TOTPDevice.objects.create(user=cast.county, name="TOTP", confirmed=True)
    # Passwords: one past its age, one a day inside the warning, one well within.
    max_age = settings.PASSWORD_MAX_AGE_DAYS
    User.objects.filter(pk=cast.helper.pk).update(password_changed_at=_ago(days=max_age + 1))
    User.objects.filter(pk=cast.auditor.pk).update(password_changed_at=_ago(days=max_age - 6))
    User.objects.filter(pk=cast.cadre2.pk).update(password_changed_at=_ago(days=max_age - 8))
    # Sign-ins: one disabled within the week, one not.
    inactive = settings.ACCOUNT_INACTIVE_DAYS
    User.objects.filter(pk=cast.sysadmin.pk).update(last_login=_ago(days=inactive - 3))
    User.objects.filter(pk=cast.auditadmin.pk).update(last_login=_ago(days=inactive - 10))
    return cast


def _names(key: str) -> set[str]:
    return set(posture.accounts(key).values_list("username", flat=True))


def test_each_kind_holds_the_accounts_in_that_state(states):
    cast = states
    assert _names("locked") == {cast.cadre.username, cast.township.username}
    owed = _names("no_second_factor")
    assert cast.county.username not in owed and cast.township.username not in owed
    assert {cast.auditor.username, cast.secadmin.username} <= owed
    assert cast.cadre.username not in owed  # a village cadre signs in with a password only
    assert _names("password_expiring") == {cast.helper.username, cast.auditor.username}
    assert _names("dormant") == {cast.sysadmin.username}


def test_the_desk_counts_what_its_links_list(states, settings):
    cast = states
    client = login(cast.secadmin)
    items = {item.url.split("security=")[-1]: item for item in desk.items_for(cast.secadmin)}
    for key in posture.KINDS:
        item = items[key]
        response = client.get(item.url)
        assert response.status_code == 200
        assert response.context["cl"].result_count == item.count == len(_names(key)), key
    # Where the second factor is owed (production), every count but the coming 停用 is late.
    settings.SECOND_FACTOR_DEMO_EXEMPT = False
    for item in desk.items_for(cast.secadmin)[1:]:
        assert item.late == ("dormant" not in item.url) and not item.note, item
    # The other two administrators do not see the accounts' state.
    for other in (cast.sysadmin, cast.auditadmin):
        assert not [item for item in desk.items_for(other) if "security=" in item.url]


def test_the_demo_waiver_is_said_not_flagged(states, settings):
    settings.SECOND_FACTOR_DEMO_EXEMPT = True
    item = next(i for i in desk.items_for(states.secadmin) if "no_second_factor" in i.url)
    assert item.count and not item.late and item.note == "本环境免除双因素认证（演示）"


def test_the_account_list_lifts_the_locks_with_an_audit_row(states):
    cast = states
    client = login(cast.secadmin)
    selected = [cast.cadre.pk, cast.township.pk, cast.helper.pk]
    response = client.post(
        "/admin/povertyapp/user/",
        {"action": "unlock_accounts", "_selected_action": selected},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["已解除2个账号的登录锁定：cadre、township。"] or shown == [
        "已解除2个账号的登录锁定：township、cadre。"
    ]
    assert _names("locked") == set()
    assert not AccessAttempt.objects.filter(username=cast.cadre.username).exists()
    device = TOTPDevice.objects.get(user=cast.township)
    assert device.throttling_failure_count == 0
    rows = AccessLog.objects.filter(action="account", reason="解除登录锁定")
    assert sorted(int(row.object_id) for row in rows) == sorted([cast.cadre.pk, cast.township.pk])
    assert {row.user_id for row in rows} == {cast.secadmin.pk}
    # Nothing locked among the selected: said, nothing written.
    again = client.post(
        "/admin/povertyapp/user/",
        {"action": "unlock_accounts", "_selected_action": [cast.helper.pk]},
        follow=True,
    )
    assert [str(m) for m in again.context["messages"]] == ["所选账号均未处于登录锁定状态。"]
    assert rows.count() == 2


def test_only_the_security_administrator_lifts_locks(states):
    for other in (states.sysadmin, states.auditadmin):
        response = login(other).post(
            "/admin/povertyapp/user/",
            {"action": "unlock_accounts", "_selected_action": [states.cadre.pk]},
        )
        assert response.status_code in (302, 403)
    assert states.cadre.username in _names("locked")
