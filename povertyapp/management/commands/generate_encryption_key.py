"""`python manage.py generate_encryption_key [KEY_ID]`: print a new random 256-bit key as a
`key-id:base64` line for FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE (put it first to
make it current, then run rotate_encryption_key)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from povertyapp import crypto


class Command(BaseCommand):
    help = "生成一个新的字段加密密钥（key-id:base64）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "key_id", nargs="?", default="", help="密钥编号（字母、数字、连字符；默认 k+日期）"
        )

    def handle(self, *args: Any, key_id: str, **options: Any) -> None:
        key_id = key_id or "k" + timezone.localdate().strftime("%Y%m%d")
        try:
            self.stdout.write(crypto.generate_key_line(key_id))
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
