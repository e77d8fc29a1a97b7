"""python manage.py files_privatise_names [--dry-run]

Renames the files stored before issue 12 (guessable names such as
`rectification/2026/12/整改佐证-12.pdf`) to the unguessable form every new file gets
(`rectification/2026/12/<32 hex>_整改佐证-12.pdf`), on disk and on their rows. Run once after
upgrading; running it again changes nothing. Downloads keep their names.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from povertyapp import files


class Command(BaseCommand):
    help = "Give files stored before the file door their unguessable names (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只统计，不改名")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        report = files.legacy_names_privatise(dry_run=dry_run)
        verb = "将改名" if dry_run else "已改名"
        self.stdout.write(f"{verb}{report.renamed}个文件。")
        for line in report.missing:
            self.stderr.write(f"文件缺失：{line}")
