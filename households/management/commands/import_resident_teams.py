"""`python manage.py import_resident_teams FILE [--dry-run] [--user U] [--errors OUT.xlsx]`: the
驻村工作队 members by village and year. See docs/onboarding.md."""

from households.management.commands._onboarding import OnboardingCommand


class Command(OnboardingCommand):
    help = "导入驻村工作队；有任何错误则一条也不写入。"
    what = "resident_teams"
