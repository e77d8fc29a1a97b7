"""The holiday calendar (节假日安排) and its seed for 2025–2027.

2025: 国办发明电〔2024〕12号; 2026: 国办发明电〔2025〕7号 (holidays and 调休 make-up working
days as published). 2027: the arrangement was not yet published when this was written, so only
the statutory holidays of 《全国年节及纪念日放假办法》 (2024 revision) are seeded; the county
office adds the 2027 bridging days and 调休 working days in the admin once the notice is
published.
"""

import datetime

from django.db import migrations, models

HOLIDAYS = {
    "元旦": [
        ("2025-01-01", "2025-01-01"),
        ("2026-01-01", "2026-01-03"),
        ("2027-01-01", "2027-01-01"),
    ],
    "春节": [
        ("2025-01-28", "2025-02-04"),
        ("2026-02-15", "2026-02-23"),
        ("2027-02-05", "2027-02-08"),
    ],
    "清明节": [
        ("2025-04-04", "2025-04-06"),
        ("2026-04-04", "2026-04-06"),
        ("2027-04-05", "2027-04-05"),
    ],
    "劳动节": [
        ("2025-05-01", "2025-05-05"),
        ("2026-05-01", "2026-05-05"),
        ("2027-05-01", "2027-05-02"),
    ],
    "端午节": [
        ("2025-05-31", "2025-06-02"),
        ("2026-06-19", "2026-06-21"),
        ("2027-06-09", "2027-06-09"),
    ],
    "中秋节": [("2026-09-25", "2026-09-27"), ("2027-09-15", "2027-09-15")],
    "国庆节": [("2026-10-01", "2026-10-07"), ("2027-10-01", "2027-10-03")],
    "国庆节、中秋节": [("2025-10-01", "2025-10-08")],
}
WORKDAYS = {
    "元旦": ["2026-01-04"],
    "春节": ["2025-01-26", "2025-02-08", "2026-02-14", "2026-02-28"],
    "劳动节": ["2025-04-27", "2026-05-09"],
    "国庆节、中秋节": ["2025-09-28", "2025-10-11"],
    "国庆节": ["2026-09-20", "2026-10-10"],
}


def seed(apps, schema_editor):
    CalendarDay = apps.get_model("povertyapp", "CalendarDay")
    rows = []
    for name, spans in HOLIDAYS.items():
        for first, last in spans:
            day = datetime.date.fromisoformat(first)
            while day <= datetime.date.fromisoformat(last):
                rows.append(CalendarDay(date=day, kind="holiday", name=name))
                day += datetime.timedelta(days=1)
    for name, days in WORKDAYS.items():
        rows.extend(
            CalendarDay(date=datetime.date.fromisoformat(day), kind="workday", name=name)
            for day in days
        )
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)


def unseed(apps, schema_editor):
    apps.get_model("povertyapp", "CalendarDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("povertyapp", "0002_ratesnapshot"),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(unique=True, verbose_name="日期")),
                (
                    "kind",
                    models.CharField(
                        choices=[("holiday", "放假"), ("workday", "调休上班")],
                        max_length=8,
                        verbose_name="类型",
                    ),
                ),
                ("name", models.CharField(max_length=32, verbose_name="节日")),
            ],
            options={
                "verbose_name": "节假日安排",
                "verbose_name_plural": "节假日安排",
                "ordering": ["date"],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
