"""python manage.py archive_audit

Writes the audit rows older than AUDIT_RETENTION_DAYS (at least 180) to a gzip-compressed
JSON-lines file under AUDIT_ARCHIVE_DIR, records the file (name, first/last row, row count,
SHA-256, the chain hash at its end) in AuditArchive, then deletes those rows; never a row that
is not in a file. `verify_audit` continues from the archive's end hash. The monthly beat task
`archive-audit-log` runs the same.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from povertyapp import audit


class Command(BaseCommand):
    help = "Archive audit rows older than the retention to a file, then delete them."

    def handle(self, *args: Any, **options: Any) -> None:
        entry = audit.archive()
        if entry is None:
            self.stdout.write(f"没有超过{audit.retention_days()}天的审计日志，无需归档。")
            return
        self.stdout.write(
            f"已归档{entry.row_count}条审计日志（链序号{entry.first_seq}–{entry.last_seq}）"
            f"到 {audit.archive_dir() / entry.file_name}，SHA-256 {entry.sha256}。"
        )
