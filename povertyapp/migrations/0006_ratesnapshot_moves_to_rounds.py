"""Issue 18: `RateSnapshot` now lives in the `rounds` app (`rounds.0001`, same table).
State only: nothing is written to the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("povertyapp", "0005_job_dispatch_heartbeat"),
        ("rounds", "0001_initial"),
    ]
    # Issue 14: django-rest-knox's migrations include a RunPython, which renders the models of
    # the moment; between households.0014 (the round models leave households) and this move,
    # RateSnapshot points at a model that is gone and rendering fails. Knox comes after the
    # move. Only the order of a fresh database changes: applied migrations are not touched.
    run_before = [("knox", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="RateSnapshot")],
        ),
    ]
