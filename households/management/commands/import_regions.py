"""`python manage.py import_regions FILE [--dry-run] [--user U] [--errors OUT.xlsx]`: load a
county's or a province's region tree from the statistical division codes (xlsx or the
statistics office's CSV, UTF-8 or GBK). See docs/onboarding.md."""

from households.management.commands._onboarding import OnboardingCommand


class Command(OnboardingCommand):
    help = "导入行政区划（统计用区划代码和城乡划分代码）；有任何错误则一条也不写入。"
    what = "regions"
