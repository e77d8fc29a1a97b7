"""`python manage.py import_village_years FILE --year Y [--dry-run] [--user U] [--errors OUT]`:
the 村年度信息 of one year. See docs/onboarding.md."""

from typing import Any

from django.core.management.base import CommandParser

from households.management.commands._onboarding import OnboardingCommand


class Command(OnboardingCommand):
    help = "导入村年度信息（户籍人口、贫困村、村情分类等）；有任何错误则一条也不写入。"
    what = "village_years"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--year", type=int, required=True, help="年度")

    def year(self, options: dict[str, Any]) -> int | None:
        return int(options["year"])
