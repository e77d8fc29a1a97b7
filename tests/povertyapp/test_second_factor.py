"""Two-factor sign-in (等保 2.0 身份鉴别): TOTP enrolment with a QR code, verification after the
password before any page, single-use codes and backup codes, the admin site, the demo exemption
and production's refusal of it. Each refusal and success is an audit row."""

from __future__ import annotations

import importlib
import re
import subprocess
import time
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib.admin import site as admin_site
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from povertyapp import crypto
from povertyapp.models import AccessLog
from povertyapp.security import second_factor
from tests import factories
from tests.conftest import login
from tests.povertyapp.signin import code, device_for, sign_in

VERIFY = reverse("account:second-factor-verify")
ENROL = reverse("account:second-factor-enrol")
DIGEST = re.compile(r"[0-9a-f]{16}")


@pytest.fixture(autouse=True)
def strict(settings):
    """Second factor on: no demo exemption, no waiting between wrong codes."""
    settings.SECOND_FACTOR_DEMO_EXEMPT = False
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _second_factor_rows(user) -> list[tuple[str, str]]:
    return list(
        AccessLog.objects.filter(user=user, action=AccessLog.Action.SECOND_FACTOR)
        .order_by("pk")
        .values_list("outcome", "reason")
    )


@pytest.mark.parametrize("who", ["county", "township", "auditor", "sysadmin"])
def test_required_roles_without_a_device_reach_only_the_enrolment(cast, who):
    client = sign_in(getattr(cast, who))
    for path in ["/", "/households/", "/accounts/security/", "/admin/", "/jobs/1/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL), path
    api = client.get("/api/v1/regions/")
    assert api.status_code == 403
    assert "双因素认证" in api.json()["detail"]
    assert client.get(ENROL).status_code == 200


def test_roles_that_may_choose_are_not_asked_without_a_device(cast):
    client = sign_in(cast.cadre)
    assert client.get("/").status_code == 200
    assert client.get("/accounts/security/").status_code == 200


def test_enrolment_shows_a_qr_code_and_the_secret_and_confirms_with_a_first_code(cast):
    client = sign_in(cast.county)
    page = client.get(ENROL)
    body = page.content.decode()
    assert '<svg width="' in body and "http://" not in body.split("<svg", 1)[1][:200]
    device = TOTPDevice.objects.get(user=cast.county, confirmed=False)
    assert second_factor.secret_text(device) in body

    wrong = client.post(ENROL, {"code": "000000" if code(device) != "000000" else "111111"})
    assert "验证码不正确" in wrong.content.decode()
    assert client.get("/").status_code == 302  # still not in

    done = client.post(ENROL, {"code": code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=cast.county).count() == 10
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/").status_code == 200
    assert _second_factor_rows(cast.county) == [
        ("failed", "enrol: wrong code"),
        ("ok", "enrolled"),
        ("ok", "backup codes generated"),
    ]


def test_an_enrolled_user_verifies_after_the_password_before_any_page(cast):
    device = device_for(cast.cadre)  # an optional role that chose the second factor
    client = sign_in(cast.cadre)
    response = client.get("/households/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fhouseholds%2F"
    verified = client.post(VERIFY, {"code": code(device), "next": "/households/"})
    assert verified.status_code == 302 and verified["Location"] == "/households/"
    assert client.get("/households/").status_code == 200
    assert _second_factor_rows(cast.cadre) == [("ok", "verified")]


@pytest.fixture
def steady_clock():
    """The middle of the current 30-second TOTP window, held still: a test that uses one code,
    then the next window's, must not see the window turn between the two (django-otp would take
    the first code as drift and the second as out of range)."""
    middle = int(time.time()) // 30 * 30 + 15
    with time_machine.travel(middle, tick=False):
        yield


def test_a_code_is_accepted_once_a_reused_one_is_refused_and_logged(cast, steady_clock):
    device = device_for(cast.county)
    used = code(device)
    first = sign_in(cast.county)
    assert first.post(VERIFY, {"code": used})["Location"] == "/"

    second = sign_in(cast.county)
    refused = second.post(VERIFY, {"code": used})
    assert refused.status_code == 200
    assert "该验证码已使用，请等待下一个验证码" in refused.content.decode()
    assert second.get("/").status_code == 302
    assert _second_factor_rows(cast.county) == [
        ("ok", "verified"),
        ("refused", "TOTP code reused"),
    ]
    # The next window's code is accepted.
    assert second.post(VERIFY, {"code": code(device, steps_ahead=1)})["Location"] == "/"


def test_a_backup_code_signs_in_once(cast):
    device_for(cast.auditor)
    codes = second_factor.backup_codes_generate(request=None, user=cast.auditor)
    first = sign_in(cast.auditor)
    assert first.post(VERIFY, {"code": codes[0].upper()})["Location"] == "/"
    assert StaticToken.objects.filter(device__user=cast.auditor).count() == 9

    second = sign_in(cast.auditor)
    refused = second.post(VERIFY, {"code": codes[0]})
    assert "验证码不正确" in refused.content.decode()
    assert second.get("/").status_code == 302


def _stored_tokens(user) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token.token FROM otp_static_statictoken token "
            "JOIN otp_static_staticdevice device ON device.id = token.device_id "
            "WHERE device.user_id = %s ORDER BY token.id",
            [user.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_database_keeps_no_backup_code_only_its_keyed_digest(cast):
    codes = second_factor.backup_codes_generate(request=None, user=cast.auditor)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    stored = _stored_tokens(cast.auditor)
    assert len(stored) == 10
    assert all(DIGEST.fullmatch(token) for token in stored)
    shown = {variant for code in codes for variant in (code, code.upper())}
    assert shown.isdisjoint(stored)
    assert not any(code in token or code.upper() in token for code in codes for token in stored)
    assert stored == [crypto.backup_code_digest(code) for code in codes]


def test_the_backup_code_digest_ignores_case_spaces_and_hyphens_and_needs_the_key(settings):
    digest = crypto.backup_code_digest("abcd2345")
    assert DIGEST.fullmatch(digest)
    for typed in ["ABCD2345", " abcd 2345 ", "AbCd-2345", "ab\tcd 23 45"]:
        assert crypto.backup_code_digest(typed) == digest
    assert crypto.backup_code_digest("abcd2346") != digest
    # Not the ID numbers' blind index cut short: a purpose label keeps the two apart.
    assert digest != crypto.blind_index("abcd2345")[:16]
    settings.BLIND_INDEX_KEY = "another blind index key of at least 32 characters"
    assert crypto.backup_code_digest("abcd2345") != digest


def test_a_backup_code_works_once_in_any_case_and_with_spaces(cast):
    device_for(cast.auditor)
    codes = second_factor.backup_codes_generate(request=None, user=cast.auditor)
    typed = [codes[0].upper(), f" {codes[1][:4]} {codes[1][4:]} ", f"{codes[2][:4]}-{codes[2][4:]}"]
    for index, code_typed in enumerate(typed, start=1):
        client = sign_in(cast.auditor)
        assert client.post(VERIFY, {"code": code_typed})["Location"] == "/"
        assert len(_stored_tokens(cast.auditor)) == 10 - index
    again = sign_in(cast.auditor)
    assert "验证码不正确" in again.post(VERIFY, {"code": codes[1]}).content.decode()
    assert again.get("/").status_code == 302
    assert second_factor.backup_codes_left(cast.auditor) == 7
    assert _second_factor_rows(cast.auditor) == [
        ("ok", "backup codes generated"),
        ("ok", "verified"),
        ("ok", "verified"),
        ("ok", "verified"),
        ("failed", "wrong code"),
    ]


def test_a_wrong_backup_code_or_a_stored_digest_is_refused(cast):
    device_for(cast.auditor)
    codes = second_factor.backup_codes_generate(request=None, user=cast.auditor)
    stored = _stored_tokens(cast.auditor)
    wrong = next(c for c in ("abcdefgh", "bcdefghi") if c not in codes)
    # Someone who read the table types a digest: it is digested in turn and matches nothing.
    for typed in [wrong, stored[0], stored[0].upper()]:
        client = sign_in(cast.auditor)
        assert "验证码不正确" in client.post(VERIFY, {"code": typed}).content.decode()
        assert client.get("/").status_code == 302
    assert _stored_tokens(cast.auditor) == stored
    backup = StaticDevice.objects.get(user=cast.auditor)
    assert backup.throttling_failure_count == 3
    assert _second_factor_rows(cast.auditor) == [
        ("ok", "backup codes generated"),
        ("failed", "wrong code"),
        ("failed", "wrong code"),
        ("failed", "wrong code"),
    ]


def _digest_migration():
    return importlib.import_module("povertyapp.migrations.0013_backup_code_digests")


def test_the_migration_digests_plain_backup_codes_and_leaves_digests_alone(cast):
    device_for(cast.auditor)
    device = StaticDevice.objects.create(user=cast.auditor, name="backup", confirmed=True)
    plain = [StaticToken.random_token() for _index in range(3)]
    by_hand = "Typed By Hand"  # django-otp's addstatictoken takes any token up to 16 characters
    digest = crypto.backup_code_digest("kept2345")
    for token in [*plain, by_hand, digest]:
        StaticToken.objects.create(device=device, token=token)
    other = StaticDevice.objects.create(user=cast.county, name="backup", confirmed=True)
    StaticToken.objects.create(device=other, token="county23")
    editor = SimpleNamespace(connection=connection)

    _digest_migration().digest_plain_tokens(django_apps, editor)

    expected = [crypto.backup_code_digest(token) for token in [*plain, by_hand]] + [digest]
    assert _stored_tokens(cast.auditor) == expected
    assert _stored_tokens(cast.county) == [crypto.backup_code_digest("county23")]
    assert StaticToken.objects.count() == 6
    # Idempotent: a second run changes nothing.
    _digest_migration().digest_plain_tokens(django_apps, editor)
    assert _stored_tokens(cast.auditor) == expected
    # The codes the users hold still sign in, once.
    client = sign_in(cast.auditor)
    assert client.post(VERIFY, {"code": plain[0].upper()})["Location"] == "/"
    assert len(_stored_tokens(cast.auditor)) == 4
    assert sign_in(cast.auditor).post(VERIFY, {"code": "kept 2345"})["Location"] == "/"


def test_the_admin_shows_how_many_backup_codes_are_left_never_a_token(cast, settings):
    settings.SECOND_FACTOR_DEMO_EXEMPT = True
    codes = second_factor.backup_codes_generate(request=None, user=cast.auditor)
    stored = _stored_tokens(cast.auditor)
    device = StaticDevice.objects.get(user=cast.auditor)
    client = login(cast.secadmin)
    listing = client.get(reverse("admin:povertyapp_backupcodedevice_changelist"))
    change = client.get(reverse("admin:povertyapp_backupcodedevice_change", args=[device.pk]))
    for response in [listing, change]:
        assert response.status_code == 200
        body = response.content.decode()
        assert "未使用的备用验证码" in body
        assert not any(value in body for value in [*codes, *stored])
    assert '<td class="field-unused_codes">10</td>' in listing.content.decode()
    assert '<div class="readonly">10</div>' in change.content.decode()


def test_too_many_wrong_codes_lock_the_device_like_a_password(cast, settings):
    settings.SECOND_FACTOR_FAILURE_LIMIT = 3
    device = device_for(cast.township)
    client = sign_in(cast.township)
    right = code(device)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for _attempt in range(3):
        assert "验证码不正确" in client.post(VERIFY, {"code": wrong}).content.decode()
    locked = client.post(VERIFY, {"code": right})
    assert "已暂时锁定" in locked.content.decode()
    assert client.get("/").status_code == 302
    assert (
        AccessLog.objects.filter(
            user=cast.township, action=AccessLog.Action.LOCKOUT, outcome="refused"
        ).count()
        == 1
    )


def test_the_admin_site_requires_a_verified_second_factor(cast):
    device = device_for(cast.sysadmin)
    client = sign_in(cast.sysadmin)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": code(device)})
    assert client.get("/admin/").status_code == 200

    # The site's own rule, whatever the way in: a staff user not verified is refused.
    request = RequestFactory().get("/admin/")
    request.user = cast.sysadmin
    request.user.is_verified = lambda: False
    assert admin_site.has_permission(request) is False
    request.user.is_verified = lambda: True
    assert admin_site.has_permission(request) is True


def test_disabling_needs_the_password(cast):
    device = device_for(cast.cadre)
    client = sign_in(cast.cadre)
    client.post(VERIFY, {"code": code(device)})
    disable = reverse("account:second-factor-disable")
    refused = client.post(disable, {"password": "wrong-Password-1"})
    assert "密码不正确" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=cast.cadre).count() == 1
    assert (
        client.post(disable, {"password": factories.PASSWORD})["Location"] == "/accounts/security/"
    )
    assert TOTPDevice.objects.filter(user=cast.cadre).count() == 0


def _token(username: str, **extra: str):
    return Client().post(
        "/api/v1/auth/token/", {"username": username, "password": factories.PASSWORD, **extra}
    )


def test_the_api_token_asks_for_the_second_factor_as_the_pages_do(cast):
    # A required role without a device is told to enrol on the pages first.
    response = _token("county")
    assert response.status_code == 400
    assert "请先登录网页启用" in response.json()["otp"][0]
    device = device_for(cast.county)
    # With a device: the password alone is not enough, nor a wrong code.
    assert _token("county").json() == {"otp": ["请输入验证码。"]}
    assert _token("county", otp="000000").status_code == 400
    good = code(device)
    response = _token("county", otp=good)
    assert response.status_code == 200 and response.json()["token"]
    # The code was used: a second token with it is refused and logged, as on the pages.
    reused = _token("county", otp=good)
    assert reused.json() == {"otp": ["该验证码已使用，请等待下一个验证码"]}
    assert ("refused", "TOTP code reused") in _second_factor_rows(cast.county)
    assert ("ok", "verified") in _second_factor_rows(cast.county)


def test_the_api_token_of_a_role_that_may_choose_needs_a_code_only_with_a_device(cast):
    assert _token("cadre").status_code == 200
    device = device_for(cast.cadre)
    assert _token("cadre").status_code == 400
    assert _token("cadre", otp=code(device)).status_code == 200


def test_an_expired_password_gets_no_api_token(cast, settings):
    from datetime import timedelta

    from django.utils import timezone

    type(cast.cadre).objects.filter(pk=cast.cadre.pk).update(
        password_changed_at=timezone.now() - timedelta(days=settings.PASSWORD_MAX_AGE_DAYS + 1)
    )
    response = _token("cadre")
    assert response.status_code == 400
    assert "密码已过期" in response.json()["non_field_errors"][0]


def test_the_demo_exemption_gives_a_required_role_without_a_device_its_token(cast, settings):
    settings.SECOND_FACTOR_DEMO_EXEMPT = True
    assert _token("county").status_code == 200
    device_for(cast.county)
    assert _token("county").status_code == 400  # a device enrolled is never skipped


def test_the_demo_exemption_lets_the_required_roles_in_without_a_device(cast, settings):
    settings.SECOND_FACTOR_DEMO_EXEMPT = True
    client = sign_in(cast.county)
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_the_demo_exemption_does_not_skip_an_enrolled_device(cast, settings):
    settings.SECOND_FACTOR_DEMO_EXEMPT = True
    device_for(cast.county)
    client = sign_in(cast.county)
    assert client.get("/")["Location"].startswith(VERIFY)


def _production(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from tests.production_env import production_env, settings_subprocess

    return settings_subprocess("SECOND_FACTOR_DEMO_EXEMPT", setup=True, **production_env(**extra))


def test_production_refuses_to_start_with_the_demo_exemption():
    refused = _production({"DEMO_WITHOUT_SECOND_FACTOR": "true"})
    assert refused.returncode == 1
    assert "Production refuses DEMO_WITHOUT_SECOND_FACTOR" in refused.stderr
    default = _production({})
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "False"
