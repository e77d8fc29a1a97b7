"""Issue 18: the dynamic-adjustment rounds and their figures move into this app.

The models existed already: `AdjustmentRound`, `RoundBaseline`, `RoundVillage`,
`RoundBaselineGroup` and `RoundChange` in `households`, `RateSnapshot` in `povertyapp`. Their
tables keep their names (`db_table`), so this migration changes Django's state only and writes
nothing to the database but the content types: their rows are renamed to this app, so the
permissions, the admin log and every id that names them stay as they were (no row is added or
lost; `.ci/migrate_from_release.sh` counts them). `households.0014` and `povertyapp.0006` then
drop the models from their apps' state and point the registry's round stamps here.
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = {
    "households": [
        "adjustmentround",
        "roundbaseline",
        "roundvillage",
        "roundbaselinegroup",
        "roundchange",
    ],
    "povertyapp": ["ratesnapshot"],
}


def content_types_to_rounds(apps, schema_editor):
    """Rename the moved models' content types, unless Django already made new ones (then the
    new ones stay and the old ones are left for `remove_stale_contenttypes`)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for app_label, models_ in MOVED.items():
        for model in models_:
            if ContentType.objects.using(db).filter(app_label="rounds", model=model).exists():
                continue
            ContentType.objects.using(db).filter(app_label=app_label, model=model).update(
                app_label="rounds"
            )


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for app_label, models_ in MOVED.items():
        ContentType.objects.using(db).filter(app_label="rounds", model__in=models_).update(
            app_label=app_label
        )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("households", "0013_case_batches"),
        ("povertyapp", "0005_job_dispatch_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AdjustmentRound',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(2010), django.core.validators.MaxValueValidator(2100)], verbose_name='年度')),
                        ('name', models.CharField(max_length=64, verbose_name='名称')),
                        ('status', models.CharField(choices=[('open', '进行中'), ('closed', '已关闭')], default='open', max_length=8, verbose_name='状态')),
                        ('opened_at', models.DateTimeField(verbose_name='开启时间')),
                        ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='关闭时间')),
                        ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='关闭人')),
                        ('county', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rounds', to='povertyapp.region', verbose_name='县')),
                        ('opened_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='开启人')),
                    ],
                    options={
                        'verbose_name': '动态调整批次',
                        'verbose_name_plural': '动态调整批次',
                        'db_table': 'households_adjustmentround',
                        'ordering': ['county', '-year'],
                    },
                ),
                migrations.CreateModel(
                    name='RateSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.CharField(choices=[('province', '省'), ('city', '市'), ('county', '县'), ('township', '乡镇'), ('village', '行政村'), ('group', '村民小组')], max_length=16, verbose_name='层级')),
                        ('wrongful_inclusion_numerator', models.PositiveIntegerField(verbose_name='错评人数')),
                        ('wrongful_inclusion_denominator', models.PositiveIntegerField(verbose_name='基期建档立卡人数')),
                        ('wrongful_inclusion_rate', models.DecimalField(decimal_places=8, max_digits=12, null=True, verbose_name='错评率')),
                        ('omission_numerator', models.PositiveIntegerField(verbose_name='漏评人数')),
                        ('omission_denominator', models.PositiveIntegerField(verbose_name='基期非建档立卡农业人口')),
                        ('omission_rate', models.DecimalField(decimal_places=8, max_digits=12, null=True, verbose_name='漏评率')),
                        ('wrongful_exit_numerator', models.PositiveIntegerField(verbose_name='错退人数')),
                        ('wrongful_exit_denominator', models.PositiveIntegerField(verbose_name='基期已脱贫人数')),
                        ('wrongful_exit_rate', models.DecimalField(decimal_places=8, max_digits=12, null=True, verbose_name='错退率')),
                        ('incidence_numerator', models.PositiveIntegerField(verbose_name='未脱贫人数')),
                        ('incidence_denominator', models.PositiveIntegerField(verbose_name='户籍农业人口')),
                        ('incidence_rate', models.DecimalField(decimal_places=8, max_digits=12, null=True, verbose_name='贫困发生率')),
                        ('baseline_incidence_numerator', models.PositiveIntegerField(verbose_name='基期未脱贫人数')),
                        ('baseline_incidence_rate', models.DecimalField(decimal_places=8, max_digits=12, null=True, verbose_name='基期贫困发生率')),
                        ('completeness_numerator', models.PositiveIntegerField(verbose_name='已填必填项')),
                        ('completeness_denominator', models.PositiveIntegerField(verbose_name='必填项')),
                        ('completeness_rate', models.DecimalField(decimal_places=8, max_digits=12, null=True, verbose_name='信息录入率')),
                        ('status_counts', models.JSONField(default=dict, verbose_name='按状态户数人数')),
                        ('baseline_status_counts', models.JSONField(default=dict, verbose_name='基期按状态户数人数')),
                        ('cause_counts', models.JSONField(default=dict, verbose_name='致贫原因构成')),
                        ('list_counts', models.JSONField(default=dict, verbose_name='四类名单户数人数')),
                        ('computed_at', models.DateTimeField(verbose_name='计算时间')),
                        ('source', models.JSONField(default=dict, verbose_name='数据来源')),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rate_snapshots', to='povertyapp.region', verbose_name='区域')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rate_snapshots', to='rounds.adjustmentround', verbose_name='动态调整批次')),
                    ],
                    options={
                        'verbose_name': '指标快照',
                        'verbose_name_plural': '指标快照',
                        'db_table': 'povertyapp_ratesnapshot',
                        'ordering': ['round', 'region__code'],
                    },
                ),
                migrations.CreateModel(
                    name='RoundBaseline',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('poor', '未脱贫'), ('exited', '已脱贫'), ('returned', '返贫'), ('removed', '剔除'), ('non_registered', '非建档立卡户')], max_length=16, verbose_name='基期状态')),
                        ('persons', models.PositiveSmallIntegerField(verbose_name='基期人数')),
                        ('main_cause', models.CharField(blank=True, max_length=32, verbose_name='主要致贫原因')),
                        ('household', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='households.household', verbose_name='户')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='baseline', to='rounds.adjustmentround', verbose_name='动态调整批次')),
                        ('village', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='povertyapp.region', verbose_name='行政村')),
                    ],
                    options={
                        'verbose_name': '批次基期农户',
                        'verbose_name_plural': '批次基期农户',
                        'db_table': 'households_roundbaseline',
                    },
                ),
                migrations.CreateModel(
                    name='RoundBaselineGroup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('poor', '未脱贫'), ('exited', '已脱贫'), ('returned', '返贫'), ('removed', '剔除'), ('non_registered', '非建档立卡户')], max_length=16, verbose_name='基期状态')),
                        ('main_cause', models.CharField(blank=True, max_length=32, verbose_name='主要致贫原因')),
                        ('households', models.PositiveIntegerField(verbose_name='基期户数')),
                        ('persons', models.PositiveIntegerField(verbose_name='基期人数')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='baseline_groups', to='rounds.adjustmentround', verbose_name='动态调整批次')),
                        ('village', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='povertyapp.region', verbose_name='行政村')),
                    ],
                    options={
                        'verbose_name': '批次基期分组',
                        'verbose_name_plural': '批次基期分组',
                        'db_table': 'households_roundbaselinegroup',
                    },
                ),
                migrations.CreateModel(
                    name='RoundChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('identified', '新识别纳入'), ('removed', '剔除'), ('returned', '返贫'), ('exited', '标注脱贫'), ('natural', '自然增减'), ('corrected', '信息更正')], max_length=16, verbose_name='名单')),
                        ('persons', models.PositiveSmallIntegerField(verbose_name='人数')),
                        ('head_name', models.CharField(max_length=32, verbose_name='户主姓名')),
                        ('reason', models.CharField(max_length=500, verbose_name='理由')),
                        ('ground', models.CharField(blank=True, max_length=64, verbose_name='剔除理由')),
                        ('state', models.CharField(choices=[('proposed', '村级已提出'), ('reviewed', '乡镇已审核'), ('approved', '县级已审定'), ('rejected', '已退回'), ('withdrawn', '已撤回')], default='proposed', max_length=12, verbose_name='办理状态')),
                        ('source', models.CharField(default='form', max_length=16, verbose_name='来源')),
                        ('proposed_at', models.DateTimeField(verbose_name='提出时间')),
                        ('reviewed_at', models.DateTimeField(blank=True, null=True, verbose_name='审核时间')),
                        ('review_opinion', models.CharField(blank=True, max_length=500, verbose_name='审核意见')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审定时间')),
                        ('decision_opinion', models.CharField(blank=True, max_length=500, verbose_name='审定意见')),
                        ('details', models.JSONField(blank=True, default=dict, verbose_name='变动内容')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审定人')),
                        ('event', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='round_change', to='households.householdevent', verbose_name='状态变动')),
                        ('household', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='round_changes', to='households.household', verbose_name='户')),
                        ('member', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='round_changes', to='households.member', verbose_name='成员')),
                        ('proposed_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='提出人')),
                        ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审核人')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='rounds.adjustmentround', verbose_name='动态调整批次')),
                        ('village', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='povertyapp.region', verbose_name='行政村')),
                    ],
                    options={
                        'verbose_name': '动态调整名单',
                        'verbose_name_plural': '动态调整名单',
                        'db_table': 'households_roundchange',
                        'ordering': ['round', 'village', 'kind', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='RoundVillage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('rural_population', models.PositiveIntegerField(verbose_name='户籍农业人口')),
                        ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='villages', to='rounds.adjustmentround', verbose_name='动态调整批次')),
                        ('village', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='povertyapp.region', verbose_name='行政村')),
                    ],
                    options={
                        'verbose_name': '批次基期村人口',
                        'verbose_name_plural': '批次基期村人口',
                        'db_table': 'households_roundvillage',
                    },
                ),
                migrations.AddConstraint(
                    model_name='adjustmentround',
                    constraint=models.UniqueConstraint(fields=('county', 'year'), name='round_county_year'),
                ),
                migrations.AddConstraint(
                    model_name='adjustmentround',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('county',), name='round_one_open'),
                ),
                migrations.AddConstraint(
                    model_name='ratesnapshot',
                    constraint=models.UniqueConstraint(fields=('region', 'round'), name='rate_snapshot_region_round'),
                ),
                migrations.AddIndex(
                    model_name='roundbaseline',
                    index=models.Index(fields=['round', 'village', 'status'], name='baseline_round_village_idx'),
                ),
                migrations.AddConstraint(
                    model_name='roundbaseline',
                    constraint=models.UniqueConstraint(fields=('round', 'household'), name='baseline_round_household'),
                ),
                migrations.AddConstraint(
                    model_name='roundbaselinegroup',
                    constraint=models.UniqueConstraint(fields=('round', 'village', 'status', 'main_cause'), name='baseline_group_unique'),
                ),
                migrations.AddIndex(
                    model_name='roundchange',
                    index=models.Index(fields=['round', 'village', 'state'], name='change_round_idx'),
                ),
                migrations.AddConstraint(
                    model_name='roundchange',
                    constraint=models.UniqueConstraint(condition=models.Q(('kind__in', ['identified', 'removed', 'returned', 'exited']), ('state__in', ['proposed', 'reviewed'])), fields=('round', 'household'), name='change_one_pending_per_household'),
                ),
                migrations.AddConstraint(
                    model_name='roundvillage',
                    constraint=models.UniqueConstraint(fields=('round', 'village'), name='round_village_unique'),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_rounds, content_types_back),
    ]
