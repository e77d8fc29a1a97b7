"""What the three onboarding commands share: the same import as the page (validate the whole
file, all or nothing), run as the operator (any tree) or, with --user, within that user's
region; the errors printed by row, and with --errors as the error workbook."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from households.imports.report import ImportRefused
from households.onboarding import error_lines, onboarding_import, write_error_workbook
from povertyapp.models import User


class OnboardingCommand(BaseCommand):
    what = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="xlsx 或 CSV（UTF-8/GBK）文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入")
        parser.add_argument(
            "--user", help="以该账号的权限执行（只能导入其管辖范围内的数据；默认不限范围）"
        )
        parser.add_argument("--errors", help="有错误时把标出错误单元格的工作簿写到此路径")

    def year(self, options: dict[str, Any]) -> int | None:
        return None

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"没有启用的用户 {options['user']}")
        try:
            report = onboarding_import(
                self.what,
                actor=actor,
                path=options["file"],
                dry_run=options["dry_run"],
                year=self.year(options),
            )
        except (ImportRefused, OSError) as refusal:
            raise CommandError(str(refusal)) from refusal
        for line in error_lines(report):
            self.stderr.write(line)
        if report.errors:
            if options["errors"]:
                write_error_workbook(
                    options["errors"], what=self.what, source=options["file"], report=report
                )
            raise CommandError(f"发现{len(report.errors)}处错误，全部未写入。")
        self.stdout.write(report.summary())
