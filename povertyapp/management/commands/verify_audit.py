"""python manage.py verify_audit [--chunk-size N]

Walks the audit trail's hash chain (povertyapp.audit.verify) in chain order, from the end of the
last archive, with constant memory. Prints `OK` with the number of rows, or the id of the first
broken row and why (hash mismatch: the row was edited; prev mismatch or gap: rows were deleted
or inserted; head mismatch: the newest rows were deleted). Exit code 1 when the chain is broken.
The run itself is an audit row.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from povertyapp import audit


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit code 1 at the first broken link."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args: Any, chunk_size: int, **options: Any) -> None:
        result = audit.verify(chunk_size=chunk_size)
        audit.record(
            "audit",
            username="manage.py",
            target="verify_audit",
            object_id=result.broken_id or "",
            outcome="ok" if result.ok else "failed",
            reason=result.message()[:255],
            detail={"rows": result.count, "via": "command"},
        )
        if not result.ok:
            raise CommandError(result.message(), returncode=1)
        self.stdout.write(result.message())
