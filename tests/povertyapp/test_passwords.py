"""Password rules (等保 2.0 身份鉴别), in Chinese: 12 to 128 characters, three classes, nothing
derived from the username, no ID number or phone, not common, not one of the last 5; expiry
after PASSWORD_MAX_AGE_DAYS forces a change at the next sign-in, and the change is logged."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from povertyapp import demo
from povertyapp.models import AccessLog, User
from tests import factories
from tests.povertyapp.signin import sign_in

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _refusal(password: str, user: User | None = None) -> list[tuple[str, str]]:
    # As the pages show them: in the interface's language, Simplified Chinese.
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    return [(error.code or "", error.messages[0]) for error in refused.value.error_list]


def test_eleven_characters_are_refused_twelve_accepted():
    refusal = _refusal("Abcd-12345x")
    assert [code for code, _message in refusal] == ["password_too_short"]
    assert refusal[0][1] == "密码太短，至少需要12个字符，请加长后重试。"
    assert validate_password("Abcd-123456x") is None


def test_up_to_128_characters_are_accepted_longer_refused():
    assert validate_password("Ab-1" + "x7Q" * 41 + "k") is None  # 128
    assert len("Ab-1" + "x7Q" * 41 + "k") == 128
    refusal = _refusal("Ab-1" + "x7Q" * 42 + "kkk")  # 132
    assert refusal == [("password_too_long", "密码不能超过128个字符，请缩短后重试。")]
    assert _refusal("Ab-1" + "x7Q" * 41 + "kk") == refusal  # 129


@pytest.mark.parametrize(
    "password", ["Cadre-2020-xy", "2020#CADRExyz", "Q7-erdac-2020", "xx!ErDaC2020"]
)
def test_a_password_derived_from_the_username_is_refused(cast, password):
    refusal = _refusal(password, cast.cadre)
    assert (
        "password_contains_username",
        "密码不能包含用户名（含倒序、大小写变化），请另设密码。",
    ) in (refusal)


def test_a_password_containing_an_id_number_is_refused(cast):
    refusal = _refusal(f"Ab-{factories.id_number()}", cast.cadre)
    assert refusal == [("password_contains_id_number", "密码不能包含身份证号码，请另设密码。")]
    assert _refusal("Ab-52262219800517001X", None)[0][0] == "password_contains_id_number"


def test_a_password_containing_the_users_phone_is_refused(cast):
    cast.cadre.phone = "138-0851-2345"
    refusal = _refusal("Xy#13808512345", cast.cadre)
    assert refusal == [("password_contains_phone", "密码不能包含本人的联系电话，请另设密码。")]


def test_a_common_password_is_refused_in_chinese():
    refusal = _refusal("Password123456")
    assert [code for code, _message in refusal] == ["password_too_common"]
    assert CHINESE.search(refusal[0][1])


def test_none_of_the_last_five_passwords_is_reused(cast):
    user = cast.cadre
    used = [f"Fifth-pass-{n}x" for n in range(1, 7)]  # after the factory's, six more
    for password in used:
        validate_password(password, user)
        user.set_password(password)
        user.save()
    for password in used[1:]:  # the last five
        refusal = _refusal(password, user)
        assert refusal == [("password_reused", "新密码不能与最近5次使用过的密码相同，请另设密码。")]
    assert validate_password(used[0], user) is None  # the sixth back may come again


def test_the_demo_password_meets_every_rule():
    for username, *_rest in demo.DEMO_USERS:
        validate_password(demo.DEMO_PASSWORD, User(username=username))


def test_an_expired_password_forces_a_change_at_the_next_sign_in(cast, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = cast.cadre
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - datetime.timedelta(days=91)
    )
    client = sign_in(user)
    change = reverse("password_change")
    for path in ["/", "/households/", "/accounts/security/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(change), path
    page = client.get(change)
    assert "您的密码已超过90天未修改，请修改后继续使用系统。" in page.content.decode()

    reused = client.post(
        change,
        {
            "old_password": factories.PASSWORD,
            "new_password1": factories.PASSWORD,
            "new_password2": factories.PASSWORD,
        },
    )
    assert "新密码不能与最近5次使用过的密码相同" in reused.content.decode()
    assert client.get("/").status_code == 302

    done = client.post(
        change,
        {
            "old_password": factories.PASSWORD,
            "new_password1": "Spring#Tea-2026",
            "new_password2": "Spring#Tea-2026",
        },
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    user.refresh_from_db()
    assert timezone.now() - user.password_changed_at < datetime.timedelta(minutes=1)
    assert list(
        AccessLog.objects.filter(user=user, action=AccessLog.Action.PASSWORD_CHANGE).values_list(
            "outcome", "object_id"
        )
    ) == [("ok", str(user.pk))]


def test_a_password_within_its_age_is_not_asked_to_change(cast):
    User.objects.filter(pk=cast.cadre.pk).update(
        password_changed_at=timezone.now() - datetime.timedelta(days=89)
    )
    assert sign_in(cast.cadre).get("/").status_code == 200
