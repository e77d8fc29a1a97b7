"""The body the three assistance import commands share: the page's import from the shell,
through the same code (safety checks, whole-file validation, all or nothing)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistance.imports import IMPORTS
from povertyapp import uploads
from povertyapp.management.commands.export_ledger import acting_user


class WorkbookImportCommand(BaseCommand):
    key = ""  # measures, pairings, projects

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", help="以该账号的权限执行（默认唯一的县扶贫办账号）")

    def handle(self, *args: Any, **options: Any) -> None:
        item = IMPORTS[self.key]
        user = acting_user(options["user"], None)
        try:
            result = item.run(actor=user, path=options["file"], max_rows=uploads.job_max_rows())
        except PermissionDenied as denied:
            raise CommandError(str(denied)) from denied
        except ValidationError as error:
            for message in error.messages:
                self.stderr.write(message)
            raise CommandError(
                f"发现{len(error.messages)}个问题，文件中的记录均未写入。"
            ) from error
        self.stdout.write(
            f"新增{result.created}条、更新{result.updated}条、无变化{result.unchanged}条。"
        )
