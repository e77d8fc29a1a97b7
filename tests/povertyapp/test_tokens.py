"""API tokens (issue 14, 身份鉴别): they expire, can be revoked, die with a password change or a
disabled account, are listed for their owner only, and every issue and revocation is audited."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from povertyapp import tokens
from povertyapp.models import AccessLog
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _issue(username: str, password: str = PASSWORD) -> tuple[int, dict]:
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
    )
    return response.status_code, response.json()


def _get(secret: str, url: str = "/api/v1/households/") -> int:
    return Client().get(url, HTTP_AUTHORIZATION=f"Token {secret}").status_code


def test_the_token_endpoint_answers_the_token_and_its_expiry(cast, settings):
    settings.API_TOKEN_TTL_HOURS = 8
    before = timezone.now()
    status, body = _issue("cadre")
    assert status == 200
    assert sorted(body) == ["expiry", "token"]
    expiry = datetime.datetime.fromisoformat(body["expiry"])
    assert expiry.tzinfo is not None
    assert before + datetime.timedelta(hours=8) <= expiry
    assert expiry <= timezone.now() + datetime.timedelta(hours=8)
    assert _get(body["token"]) == 200
    stored = AuthToken.objects.get(user=cast.cadre)
    assert body["token"] not in (stored.digest, stored.token_key)  # only a hash is kept
    assert body["token"].startswith(stored.token_key)


def test_the_lifetime_follows_the_setting(cast, settings):
    settings.API_TOKEN_TTL_HOURS = 2
    _status, body = _issue("cadre")
    expiry = datetime.datetime.fromisoformat(body["expiry"])
    assert expiry <= timezone.now() + datetime.timedelta(hours=2)
    assert expiry > timezone.now() + datetime.timedelta(hours=1, minutes=59)


def test_an_expired_token_is_refused_with_401(cast):
    _status, body = _issue("cadre")
    AuthToken.objects.filter(user=cast.cadre).update(
        expiry=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert _get(body["token"]) == 401
    assert AuthToken.objects.filter(user=cast.cadre).count() == 0  # removed when seen


def test_a_bad_password_gives_no_token_and_is_logged_as_a_failed_sign_in(cast):
    status, body = _issue("cadre", "wrong-password-1")
    assert status == 400
    assert body == {"non_field_errors": ["用户名或密码错误，或账号已停用。请检查后重试。"]}
    assert AuthToken.objects.count() == 0
    row = AccessLog.objects.get(action=AccessLog.Action.LOGIN_FAILED)
    assert (row.username, row.outcome, row.user, row.detail) == (
        "cadre",
        AccessLog.Outcome.FAILED,
        cast.cadre,
        {"channel": "api"},
    )


def test_repeated_bad_passwords_lock_the_account_for_the_api_too(cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _attempt in range(3):
        _issue("cadre", "wrong-password-1")
    status, body = _issue("cadre")  # the right password, but locked
    assert status == 429
    assert body == {
        "detail": "由于连续多次登录失败，该账号已被暂时锁定。请稍后再试，或联系系统管理员解锁。"
    }
    assert AuthToken.objects.count() == 0


def test_logout_revokes_the_current_token_only(cast):
    _status, first = _issue("cadre")
    _status, second = _issue("cadre")
    response = Client().post(
        "/api/v1/auth/token/logout/", HTTP_AUTHORIZATION=f"Token {first['token']}"
    )
    assert response.status_code == 204
    assert _get(first["token"]) == 401
    assert _get(second["token"]) == 200


def test_logout_all_revokes_every_token_of_the_user_and_no_other(cast):
    _status, first = _issue("cadre")
    _status, second = _issue("cadre")
    _status, other = _issue("county")
    response = Client().post(
        "/api/v1/auth/token/logout-all/", HTTP_AUTHORIZATION=f"Token {first['token']}"
    )
    assert (response.status_code, response.json()) == (200, {"revoked": 2})
    assert (_get(first["token"]), _get(second["token"]), _get(other["token"])) == (401, 401, 200)


def test_one_token_is_revoked_by_its_prefix_and_only_by_its_owner(cast):
    _status, mine = _issue("cadre")
    _status, theirs = _issue("county")
    their_prefix = theirs["token"][:15]
    auth = {"Authorization": f"Token {mine['token']}"}
    refused = Client().delete(f"/api/v1/auth/tokens/{their_prefix}/", headers=auth)
    assert refused.status_code == 404
    assert _get(theirs["token"]) == 200
    _status, spare = _issue("cadre")
    response = Client().delete(f"/api/v1/auth/tokens/{spare['token'][:15]}/", headers=auth)
    assert response.status_code == 204
    assert (_get(spare["token"]), _get(mine["token"])) == (401, 200)


def test_a_password_change_revokes_every_token(cast):
    _status, body = _issue("cadre")
    cast.cadre.set_password("Another-pass-456")
    cast.cadre.save()
    assert _get(body["token"]) == 401
    assert AuthToken.objects.filter(user=cast.cadre).count() == 0
    row = AccessLog.objects.get(action=AccessLog.Action.TOKEN, detail__event="password_change")
    assert (row.user, row.detail["revoked"]) == (cast.cadre, 1)


def test_a_password_change_by_the_form_revokes_every_token(cast, client_for):
    _status, body = _issue("cadre")
    response = client_for(cast.cadre).post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Fresh-Passw0rd-2026",
            "new_password2": "Fresh-Passw0rd-2026",
        },
    )
    assert response.status_code == 302
    assert _get(body["token"]) == 401


def test_disabling_the_account_revokes_every_token(cast):
    _status, body = _issue("cadre")
    cast.cadre.is_active = False
    cast.cadre.save(update_fields=["is_active"])
    assert AuthToken.objects.filter(user=cast.cadre).count() == 0
    assert _get(body["token"]) == 401
    row = AccessLog.objects.get(action=AccessLog.Action.TOKEN, detail__event="account_disabled")
    assert row.detail["revoked"] == 1


def test_a_token_of_an_account_disabled_without_signals_is_refused(cast):
    from povertyapp.models import User

    _status, body = _issue("cadre")
    User.objects.filter(pk=cast.cadre.pk).update(is_active=False)
    assert _get(body["token"]) == 401


def test_other_saves_of_the_user_keep_the_tokens(cast):
    _status, body = _issue("cadre")
    cast.cadre.first_name = "明"
    cast.cadre.save()
    cast.cadre.last_login = timezone.now()
    cast.cadre.save(update_fields=["last_login"])
    assert _get(body["token"]) == 200


def test_the_list_shows_my_tokens_without_secrets_and_nobody_elses(cast):
    _status, first = _issue("cadre")
    _status, second = _issue("cadre")
    _status, other = _issue("county")
    response = Client().get("/api/v1/auth/tokens/", HTTP_AUTHORIZATION=f"Token {second['token']}")
    assert response.status_code == 200
    listed = response.json()
    assert [(item["prefix"], item["current"]) for item in listed] == sorted(
        [(first["token"][:15], False), (second["token"][:15], True)],
        key=lambda pair: pair != (second["token"][:15], True),
    )
    assert sorted(listed[0]) == ["created", "current", "expiry", "prefix"]
    text = response.content.decode()
    for secret in (first["token"], second["token"], other["token"]):
        assert secret not in text
    assert other["token"][:15] not in text


def test_the_page_lists_my_tokens_and_revokes_them(cast, client_for):
    _status, mine = _issue("cadre")
    _status, other = _issue("county")
    client = client_for(cast.cadre)
    page = client.get(reverse("account-tokens"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "我的API令牌" in text
    assert mine["token"][:15] in text
    assert mine["token"] not in text
    assert other["token"][:15] not in text
    refused = client.post(reverse("account-token-revoke", args=[other["token"][:15]]))
    assert refused.status_code == 302
    assert _get(other["token"]) == 200
    client.post(reverse("account-token-revoke", args=[mine["token"][:15]]))
    assert _get(mine["token"]) == 401
    _status, again = _issue("cadre")
    client.post(reverse("account-tokens-revoke-all"))
    assert _get(again["token"]) == 401
    assert client.get(reverse("account-token-revoke", args=["x"])).status_code == 405


def test_the_page_needs_a_sign_in():
    response = Client().get(reverse("account-tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_holds_at_most_the_limit_of_tokens(cast, settings):
    settings.API_TOKEN_LIMIT_PER_USER = 2
    assert _issue("cadre")[0] == 200
    assert _issue("cadre")[0] == 200
    status, body = _issue("cadre")
    assert status == 400
    assert body["non_field_errors"][0].startswith("您的有效API令牌已达上限（2个）")
    assert AuthToken.objects.filter(user=cast.cadre).count() == 2


def test_issue_and_revocation_are_audit_rows(cast):
    _status, body = _issue("cadre")
    prefix = body["token"][:15]
    Client().post("/api/v1/auth/token/logout/", HTTP_AUTHORIZATION=f"Token {body['token']}")
    rows = AccessLog.objects.filter(action=AccessLog.Action.TOKEN).order_by("pk")
    assert [(r.user, r.object_id, r.outcome, r.detail["event"]) for r in rows] == [
        (cast.cadre, prefix, AccessLog.Outcome.OK, "issue"),
        (cast.cadre, prefix, AccessLog.Outcome.OK, "logout"),
    ]
    assert all(r.ip_address == "127.0.0.1" and r.request_id for r in rows)


def test_revoking_nothing_writes_no_row(cast):
    assert tokens.token_revoke_all(user=cast.cadre) == 0
    assert AccessLog.objects.filter(action=AccessLog.Action.TOKEN).count() == 0


def test_production_refuses_a_token_lifetime_above_a_day():
    from tests.povertyapp.test_settings import ROOT, _manage

    if (ROOT / ".env").exists():
        pytest.skip(".env in the project root would supply settings to the subprocess")
    from tests.production_env import production_env

    production = production_env()
    refused = _manage("check", API_TOKEN_TTL_HOURS="25", **production)
    assert refused.returncode != 0
    assert "Production refuses API_TOKEN_TTL_HOURS above 24" in refused.stderr
    assert _manage("check", API_TOKEN_TTL_HOURS="24", **production).returncode == 0
    never = _manage("check", API_TOKEN_TTL_HOURS="0")
    assert never.returncode != 0
    assert "API_TOKEN_TTL_HOURS must be between 1 and 720" in never.stderr
