"""`python manage.py import_households FILE.xlsx [--dry-run]`: the page's import from the
shell, through the same code (safety checks, whole-file validation, all or nothing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from households.imports import ImportRefused, import_households
from povertyapp.management.commands.export_ledger import acting_user
from povertyapp.models import AccessLog
from povertyapp.privacy import access_log_record


class Command(BaseCommand):
    help = "导入农户（户台账＋人员台账工作簿）；有任何错误则一条也不写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入")
        parser.add_argument("--user", help="以该账号的权限执行（默认唯一的县扶贫办账号）")

    def handle(self, *args: Any, **options: Any) -> None:
        user = acting_user(options["user"], None)
        try:
            report = import_households(actor=user, path=options["file"], dry_run=options["dry_run"])
        except ImportRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        access_log_record(
            user=user,
            action=AccessLog.Action.IMPORT,
            target="households_import",
            detail={
                "file": options["file"],
                "dry_run": options["dry_run"],
                "errors": len(report.errors),
                "written": report.written,
                "command": True,
            },
        )
        for error in report.errors:
            self.stderr.write(
                f"{error.sheet} 第{error.row}行 {error.column} [{error.value}]：{error.message}"
            )
        self.stdout.write(
            f"新建{report.households_created}户、更新{report.households_updated}户、"
            f"无变化{report.households_unchanged}户；新增成员{report.members_created}人、"
            f"更新成员{report.members_updated}人" + ("（预检，未写入）" if report.dry_run else "")
        )
        if report.errors:
            raise CommandError(f"发现{len(report.errors)}处错误，全部未写入。")
