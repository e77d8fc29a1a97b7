"""python manage.py break_glass create|enable|disable|status [--reason ...] [--hours H]

The break-glass account (应急账号), the system's only superuser (povertyapp.security.break_glass):
`create` makes it disabled; `enable --reason "..." [--hours 2]` opens a time-limited window and
prints a fresh password once; `disable --reason "..."` closes the window now; `status` says
whether a window is open and lists any other active superuser. Every step is an audit row.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from povertyapp.security import break_glass


class Command(BaseCommand):
    help = "Create, enable (time-limited, with a reason), disable or show the break-glass account."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["create", "enable", "disable", "status"])
        parser.add_argument("--reason", default="", help="Why (required for create and enable).")
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="How long the window stays open (enable; default BREAK_GLASS_DEFAULT_HOURS).",
        )

    def handle(self, *args: Any, action: str, reason: str, hours: float | None, **options: Any):
        operator = _operator()
        try:
            if action == "create":
                user = break_glass.break_glass_create(reason=reason, operator=operator)
                self.stdout.write(f"应急账号 {user.username} 已创建（停用状态）。")
            elif action == "enable":
                grant, password = break_glass.break_glass_enable(
                    reason=reason,
                    hours=hours if hours is not None else settings.BREAK_GLASS_DEFAULT_HOURS,
                    operator=operator,
                )
                until = timezone.localtime(grant.expires_at).strftime("%Y-%m-%d %H:%M")
                self.stdout.write(f"应急账号 {grant.user.username} 已启用，至 {until} 自动停用。")
                self.stdout.write(f"一次性密码（仅显示这一次）：{password}")
            elif action == "disable":
                grant = break_glass.break_glass_disable(
                    reason=reason or "手工停用", operator=operator
                )
                self.stdout.write(
                    "应急账号已停用。" if grant is not None else "应急账号未处于启用状态。"
                )
            else:
                self._status()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

    def _status(self) -> None:
        user = break_glass.account()
        if user is None:
            self.stdout.write("应急账号不存在（manage.py break_glass create）。")
        else:
            grant = break_glass.open_grant(user)
            if grant is None:
                self.stdout.write(f"应急账号 {user.username}：停用。")
            else:
                until = timezone.localtime(grant.expires_at).strftime("%Y-%m-%d %H:%M")
                self.stdout.write(
                    f"应急账号 {user.username}：启用至 {until}，原因：{grant.reason}"
                    f"（操作人 {grant.operator}）。"
                )
        others = break_glass.other_superusers()
        if others:
            self.stderr.write(f"警告：存在其他启用的超级用户：{', '.join(others)}。")


def _operator() -> str:
    """Who ran the command: the operating-system account (the shell's user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
