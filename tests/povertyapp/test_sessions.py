"""Sessions (等保 2.0 身份鉴别): a new id at sign-in, dead on the server after sign-out, a 12-hour
absolute limit, and 我的会话: a user sees their sessions and ends the others (logged)."""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from povertyapp.models import AccessLog, UserSession
from povertyapp.security import steps
from povertyapp.tasks import clear_expired_sessions_task
from tests import factories
from tests.povertyapp.signin import sign_in

COOKIE = settings.SESSION_COOKIE_NAME


def test_signing_in_gives_a_new_session_id(cast):
    client = Client()
    anonymous = client.session
    anonymous["probe"] = "before sign-in"
    anonymous.save()
    client.cookies[COOKIE] = anonymous.session_key
    before = anonymous.session_key
    sign_in(cast.cadre, client)
    after = client.cookies[COOKIE].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.filter(session_key=after).exists()


def test_signing_out_kills_the_session_on_the_server(cast):
    client = sign_in(cast.cadre)
    key = client.cookies[COOKIE].value
    assert client.get("/").status_code == 200
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_id=key).exists()

    stolen = Client()
    stolen.cookies[COOKIE] = key  # the old cookie, replayed
    response = stolen.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_session_ends_twelve_hours_after_sign_in_however_active(cast):
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    client = sign_in(cast.cadre)
    key = client.cookies[COOKIE].value
    session = client.session
    session[steps.STARTED_AT] = int(time.time()) - 12 * 60 * 60 + 60
    session.save()
    assert client.get("/").status_code == 200  # 11 h 59 min: still in

    session = client.session
    session[steps.STARTED_AT] = int(time.time()) - 12 * 60 * 60 - 1
    session.save()
    response = client.get("/households/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fhouseholds%2F"
    assert not Session.objects.filter(session_key=key).exists()
    assert "登录已超过12小时" in client.get(response["Location"]).content.decode()


def test_a_user_sees_their_sessions_with_address_and_browser(cast):
    office = sign_in(cast.cadre, REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Office-PC Firefox")
    phone = sign_in(cast.cadre, REMOTE_ADDR="10.9.8.7", HTTP_USER_AGENT="Phone WeChat")
    sign_in(cast.cadre2)
    page = office.get(reverse("account:sessions"))
    body = page.content.decode()
    assert [row["row"].ip_address for row in page.context["rows"]] == ["10.9.8.7", "10.1.2.3"]
    assert [row["current"] for row in page.context["rows"]] == [False, True]
    assert "Phone WeChat" in body and "Office-PC Firefox" in body
    assert phone.get("/").status_code == 200


def test_a_user_ends_another_session_and_it_is_logged(cast):
    office = sign_in(cast.cadre, REMOTE_ADDR="10.1.2.3")
    phone = sign_in(cast.cadre, REMOTE_ADDR="10.9.8.7")
    phone_row = UserSession.objects.get(user=cast.cadre, ip_address="10.9.8.7")
    office.post(reverse("account:session-end"), {"session": phone_row.pk})
    assert phone.get("/").status_code == 302  # signed out
    assert office.get("/").status_code == 200
    assert list(
        AccessLog.objects.filter(action=AccessLog.Action.SESSION).values_list(
            "user__username", "object_id", "outcome"
        )
    ) == [("cadre", str(phone_row.pk), "ok")]


def test_ending_someone_elses_session_is_refused_and_changes_nothing(cast):
    theirs = sign_in(cast.cadre2)
    row = UserSession.objects.get(user=cast.cadre2)
    mine = sign_in(cast.cadre)
    response = mine.post(reverse("account:session-end"), {"session": row.pk}, follow=True)
    assert "该会话已结束或不属于您" in response.content.decode()
    assert theirs.get("/").status_code == 200
    assert UserSession.objects.filter(pk=row.pk).exists()


def test_end_all_other_sessions_keeps_the_current_one(cast):
    current = sign_in(cast.cadre)
    others = [sign_in(cast.cadre) for _n in range(2)]
    response = current.post(reverse("account:session-end"), {"all_others": "1"}, follow=True)
    assert "已结束其他2个会话。" in response.content.decode()
    assert [client.get("/").status_code for client in others] == [302, 302]
    assert current.get("/").status_code == 200
    assert UserSession.objects.filter(user=cast.cadre).count() == 1


def test_the_account_page_is_in_the_header_and_links_the_parts(cast, client_for):
    client = client_for(cast.cadre)
    home = client.get("/").content.decode()
    assert 'href="/accounts/security/"' in home
    page = client.get("/accounts/security/").content.decode()
    for url in ["/accounts/second-factor/enrol/", "/accounts/password/", "/accounts/sessions/"]:
        assert f'href="{url}"' in page


def test_changing_the_password_ends_the_other_sessions(cast):
    current = sign_in(cast.cadre)
    other = sign_in(cast.cadre)
    response = current.post(
        reverse("password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": "Spring#Tea-2026",
            "new_password2": "Spring#Tea-2026",
        },
    )
    assert response.status_code == 302
    assert current.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_the_nightly_clean_up_deletes_sessions_past_either_limit(cast):
    live = sign_in(cast.cadre)
    idle = sign_in(cast.cadre2)
    old = sign_in(cast.township)
    Session.objects.filter(session_key=idle.cookies[COOKIE].value).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    UserSession.objects.filter(user=cast.township).update(
        started_at=timezone.now() - datetime.timedelta(hours=12, seconds=1)
    )
    assert clear_expired_sessions_task() == 2
    assert list(UserSession.objects.values_list("user__username", flat=True)) == ["cadre"]
    assert live.get("/").status_code == 200
    assert old.get("/").status_code == 302
