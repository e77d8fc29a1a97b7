"""Issue 18: the rounds' models now live in the `rounds` app (`rounds.0001`, same tables).

State only: the registry's round stamps (`HouseholdEvent.round`, `CaseWorkflow.round`) point
to `rounds.AdjustmentRound`, the same table and the same foreign keys in the database, and the
moved models leave this app's state. Nothing is written to the database.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0013_case_batches"),
        ("rounds", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="caseworkflow",
                    name="round",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="workflows",
                        to="rounds.adjustmentround",
                        verbose_name="动态调整批次",
                    ),
                ),
                migrations.AlterField(
                    model_name="householdevent",
                    name="round",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="rounds.adjustmentround",
                        verbose_name="动态调整批次",
                    ),
                ),
                migrations.DeleteModel(name="RoundChange"),
                migrations.DeleteModel(name="RoundBaselineGroup"),
                migrations.DeleteModel(name="RoundVillage"),
                migrations.DeleteModel(name="RoundBaseline"),
                migrations.DeleteModel(name="AdjustmentRound"),
            ],
        ),
    ]
