"""python manage.py refresh_member_completeness [--county CODE] [--date YYYY-MM-DD]

Bring the members' kept 信息录入率 sums (`households.completeness`) up to the day for one county
or every county, in-process, as the nightly `member_completeness` jobs do: after an upgrade that
adds them, or after a large load, so that the next rates job reads the kept sums instead of
every member. Until then nothing is wrong, only slower: the rates job reads the members of any
household whose sums are missing or out of date. Prints, per county, how many households were
out of date and how many were stored.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from households import completeness
from povertyapp.models import Region


class Command(BaseCommand):
    help = "Bring the members' kept 信息录入率 sums up to the day (one county or all)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--county", help="县的统计用区划代码（默认：所有县）")
        parser.add_argument(
            "--date", type=datetime.date.fromisoformat, default=None, help="日期（默认今天）"
        )

    def handle(
        self, *args: Any, county: str | None, date: datetime.date | None, **options: Any
    ) -> None:
        counties = Region.objects.filter(level=Region.Level.COUNTY).order_by("code")
        if county is not None:
            counties = counties.filter(code=county)
            if not counties.exists():
                raise CommandError(f"县级区划代码 {county} 不存在。")
        started = time.perf_counter()
        found = stored = 0
        for region in counties:
            outcome = completeness.refresh(region, today=date)
            found += outcome["households"]
            stored += outcome["stored"]
            self.stdout.write(
                f"{region.code} {region.name}: {outcome['households']} out of date, "
                f"{outcome['stored']} stored"
            )
        self.stdout.write(
            f"{found} households out of date, {stored} stored "
            f"in {time.perf_counter() - started:.1f} s"
        )
