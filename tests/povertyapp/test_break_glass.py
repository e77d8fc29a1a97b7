"""The break-glass account (povertyapp/security/break_glass.py): created disabled, enabled only
with a reason and a time limit, disabled again when the window runs out (task or next request),
and every step, sign-in and request logged."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from povertyapp import tasks
from povertyapp.models import AccessLog, BreakGlassGrant, User
from povertyapp.security import break_glass

pytestmark = pytest.mark.django_db


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("break_glass", *args, stdout=out, stderr=out)
    return out.getvalue()


def _password(output: str) -> str:
    return output.strip().splitlines()[-1].split("：", 1)[1]


def _break_glass_rows() -> list[str]:
    return [
        row.detail.get("event", "")
        for row in AccessLog.objects.filter(action="break_glass").order_by("id")
    ]


def _window_over() -> None:
    now = timezone.now()
    BreakGlassGrant.objects.update(
        enabled_at=now - datetime.timedelta(hours=2), expires_at=now - datetime.timedelta(seconds=1)
    )


def test_created_disabled_and_without_a_usable_password():
    _command("create", "--reason", "初始化部署")
    user = User.objects.get(username="breakglass")
    assert (user.is_active, user.is_superuser, user.has_usable_password()) == (False, True, False)
    assert _break_glass_rows() == ["created"]
    assert "停用" in _command("status")


def test_enabling_needs_a_reason_and_a_time_limit_within_the_maximum(settings):
    _command("create", "--reason", "初始化部署")
    with pytest.raises(CommandError, match="必须填写原因"):
        _command("enable")
    with pytest.raises(CommandError, match="不超过8"):
        _command("enable", "--reason", "数据库故障排查", "--hours", "9")
    assert not User.objects.get(username="breakglass").is_active
    assert not BreakGlassGrant.objects.exists()


def test_an_enabled_window_lets_the_account_in_and_every_sign_in_and_request_is_logged():
    _command("create", "--reason", "初始化部署")
    output = _command("enable", "--reason", "安全管理员账号被锁定", "--hours", "2")
    password = _password(output)
    grant = BreakGlassGrant.objects.get()
    assert grant.reason == "安全管理员账号被锁定"
    assert grant.expires_at - grant.enabled_at == datetime.timedelta(hours=2)
    client = Client()
    response = client.post("/accounts/login/", {"username": "breakglass", "password": password})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/povertyapp/user/").status_code == 200
    rows = AccessLog.objects.filter(action="break_glass").order_by("id")
    assert [row.detail.get("event") for row in rows] == [
        "created",
        "enabled",
        "sign_in",
        "request",
        "request",
    ]
    assert [row.object_id for row in rows][-2:] == ["/admin/", "/admin/povertyapp/user/"]
    assert {row.reason for row in rows[1:]} == {"安全管理员账号被锁定"}


def test_the_window_expires_by_the_task_and_the_account_is_disabled_again():
    _command("create", "--reason", "初始化部署")
    password = _password(_command("enable", "--reason", "紧急恢复", "--hours", "1"))
    assert tasks.expire_break_glass_task.delay().get() is False  # still inside the window
    _window_over()
    assert tasks.expire_break_glass_task.delay().get() is True
    user = User.objects.get(username="breakglass")
    assert (user.is_active, user.has_usable_password()) == (False, False)
    assert BreakGlassGrant.objects.get().ended_at is not None
    assert not user.check_password(password)
    response = Client().post("/accounts/login/", {"username": "breakglass", "password": password})
    assert response.status_code == 200  # the sign-in form again, with its error
    assert _break_glass_rows()[-1] == "expired"


def test_a_request_after_the_window_signs_the_account_out_and_disables_it():
    _command("create", "--reason", "初始化部署")
    password = _password(_command("enable", "--reason", "紧急恢复"))
    client = Client()
    client.post("/accounts/login/", {"username": "breakglass", "password": password})
    _window_over()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not User.objects.get(username="breakglass").is_active
    refused = AccessLog.objects.get(action="break_glass", outcome="refused")
    assert refused.detail["event"] == "request_after_expiry"


def test_disable_closes_the_window_now_and_is_logged():
    _command("create", "--reason", "初始化部署")
    _command("enable", "--reason", "紧急恢复")
    assert "已停用" in _command("disable", "--reason", "处理完毕")
    assert not User.objects.get(username="breakglass").is_active
    assert BreakGlassGrant.objects.get().end_reason == "处理完毕"
    assert _break_glass_rows()[-1] == "disabled"
    # A second window is refused while one is open, and allowed once it is closed.
    _command("enable", "--reason", "再次排查")
    with pytest.raises(CommandError, match="已处于启用状态"):
        _command("enable", "--reason", "第三次")


def test_the_database_check_warns_of_any_other_active_superuser(cast):
    assert break_glass.check_no_everyday_superuser(databases=["default"]) == []
    _command("create", "--reason", "初始化部署")
    User.objects.create(username="root", is_superuser=True, is_staff=True)
    warnings = break_glass.check_no_everyday_superuser(databases=["default"])
    assert [warning.id for warning in warnings] == ["povertyapp.W014"]
    assert "root" in warnings[0].msg
    assert "root" in _command("status")


def test_the_demo_has_no_superuser(settings):
    from povertyapp import demo

    demo.seed(households=20, seed=1)
    assert not User.objects.filter(is_superuser=True).exists()
    assert {"sysadmin", "secadmin", "auditadmin"} <= set(
        User.objects.values_list("username", flat=True)
    )
