"""`python manage.py rotate_encryption_key [--chunk N] [--reindex]`: re-encrypt every encrypted
column (and the encrypted values kept in JSON details) under the current key and algorithm.

Rotation: put the new key FIRST in FIELD_ENCRYPTION_KEYS (or the key file), keep the old ones
after it, restart, run this command; when it reports nothing left under an old key, the old
key may be removed. Resumable: an interrupted run is run again (rows already current are only
read). `--reindex` also recomputes the blind indexes, after BLIND_INDEX_KEY was changed (the
two-factor backup codes, kept only as digests under that key, cannot be: they become void)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from povertyapp import crypto


class Command(BaseCommand):
    help = "用当前密钥重新加密所有加密字段（可中断后重跑）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=2000, help="每批行数（默认 2000）")
        parser.add_argument(
            "--reindex", action="store_true", help="同时重算盲索引（更换 BLIND_INDEX_KEY 后）"
        )

    def handle(self, *args: Any, chunk: int, reindex: bool, **options: Any) -> None:
        ring = crypto.keyring()
        self.stdout.write(
            f"Current key {ring.current!r}, algorithm {ring.algorithm}; "
            f"keys configured: {', '.join(ring.keys)}"
        )

        def progress(count: crypto.RotationCount) -> None:
            self.stdout.write(
                f"  {count.table}: {count.rows} rows read, {count.rewritten} re-encrypted"
            )

        counts = crypto.rotate(chunk=max(1, chunk), reindex=reindex, progress=progress)
        total = sum(count.rewritten for count in counts)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {total} rows re-encrypted in {len(counts)} tables; every value is now "
                f"under key {ring.current!r}."
            )
        )
        if reindex:
            # Backup codes are kept only as digests under BLIND_INDEX_KEY: nothing to recompute.
            self.stdout.write(
                self.style.WARNING(
                    "Two-factor backup codes are digests keyed with BLIND_INDEX_KEY and cannot "
                    "be recomputed: if that key changed, every backup code issued before is void "
                    "and the enrolled users must generate a new set (TOTP is unaffected)."
                )
            )
