"""Issue 15, part A (monitoring objects): the 承诺授权 scan gets a private, unguessable stored name
(served through the file door), and the default 帮扶 by risk type rules (RiskMeasureRule), in
the assistance app's measure categories (households' 帮扶措施类别 value list)."""

from django.db import migrations, models

import povertyapp.filenames

# risk type → the measure categories that answer it (DOMAIN §6–§7; the county edits them).
DEFAULT_RULES = {
    "illness": ["健康帮扶"],
    "education": ["教育帮扶"],
    "disability": ["兜底保障", "残疾人帮扶"],
    "labour": ["兜底保障", "资产收益", "公益岗位"],
    "employment": ["就业帮扶", "技能培训"],
    "industry": ["产业帮扶", "金融帮扶"],
    "housing": ["危房改造"],
    "disaster": ["健康帮扶", "兜底保障", "社会帮扶"],
    "accident": ["健康帮扶", "兜底保障", "社会帮扶"],
    "other": ["社会帮扶"],
}


def add_defaults(apps, schema_editor):
    rule = apps.get_model("monitoring", "RiskMeasureRule")
    for risk_type, categories in DEFAULT_RULES.items():
        for category in categories:
            rule.objects.get_or_create(risk_type=risk_type, measure_category=category)


def remove_defaults(apps, schema_editor):
    rule = apps.get_model("monitoring", "RiskMeasureRule")
    for risk_type, categories in DEFAULT_RULES.items():
        rule.objects.filter(risk_type=risk_type, measure_category__in=categories).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="monitoringobject",
            name="consent",
            field=models.FileField(
                blank=True,
                max_length=255,
                upload_to=povertyapp.filenames.PrivateUploadTo("consent"),
                verbose_name="承诺授权书",
            ),
        ),
        migrations.RunPython(add_defaults, remove_defaults),
    ]
