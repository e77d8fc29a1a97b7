"""Issue 18: `RateSnapshot` now lives in the `rounds` app (`rounds.0001`, same table).
State only: nothing is written to the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("povertyapp", "0005_job_dispatch_heartbeat"),
        ("rounds", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="RateSnapshot")],
        ),
    ]
