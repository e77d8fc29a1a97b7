"""`python manage.py export_ledger KIND --region CODE --output FILE.xlsx [--reason TEXT]`: the
page's export from the shell, through the same code (scope, masking, the reason an unmasked
county-wide or large export needs, watermark, access log)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from povertyapp.ledgers import ledger_keys
from povertyapp.ledgers.services import ledger_export_check, ledger_write
from povertyapp.models import Region, User


def acting_user(username: str | None, region: Region | None) -> User:
    """The user the command acts as: --user, or the county officer over the region."""
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"没有启用的用户 {username}")
        return user
    officers = [
        user
        for user in User.objects.filter(
            role=User.Role.COUNTY_OFFICER, is_active=True, region__isnull=False
        ).select_related("region")
        if user.region is not None and (region is None or region.path.startswith(user.region.path))
    ]
    if len(officers) != 1:
        raise CommandError(
            f"请用 --user 指定以哪个账号的权限执行（找到{len(officers)}个县扶贫办账号）"
        )
    return officers[0]


class Command(BaseCommand):
    help = "导出台账（Excel）。KIND: " + "、".join(ledger_keys())

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind")
        parser.add_argument("--region", required=True, help="区划代码")
        parser.add_argument("--output", required=True)
        parser.add_argument("--user", help="以该账号的权限和脱敏规则导出")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            help="与农户列表相同的筛选条件，如 status=poor、cause=因病、income_year=2019",
        )
        parser.add_argument(
            "--reason",
            default="",
            help="导出事由：未脱敏导出全县范围或超过 UNMASKED_EXPORT_REASON_ROWS 行时必填，"
            "记入审计日志",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"没有区划代码 {options['region']}")
        user = acting_user(options["user"], region)
        filters = {"region": region.code}
        for item in options["filter"]:
            key, _sep, value = item.partition("=")
            filters[key.strip()] = value.strip()
        try:
            _rows, reason = ledger_export_check(
                user=user, key=options["kind"], filters=filters, reason=options["reason"]
            )
            result = ledger_write(
                user=user,
                key=options["kind"],
                filters=filters,
                path=options["output"],
                reason=reason,
                # As the web path's job does: a command runs with no request to pin it to the
                # primary, so it first waits for the replica to replay what the primary had
                # (the writes of a script that ran just before), else reads the primary.
                catch_up=True,
            )
        except (PermissionDenied, Http404, ValidationError) as error:
            message = "；".join(error.messages) if isinstance(error, ValidationError) else error
            raise CommandError(str(message)) from error
        self.stdout.write(f"{options['output']}: {result.rows}行, SHA-256 {result.sha256}")
