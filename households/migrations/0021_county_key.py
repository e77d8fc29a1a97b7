"""The county key (issue 19): `county` on households and members, with (county, number) and
(county, household) indexes; see `households.counties`.

Added nullable, filled set-wise (one `UPDATE ... FROM` per table: each household from its
village's county-level ancestor, each member from its household), then made NOT NULL, so that
a write path that forgets the column fails at once. The SQL is the same on SQLite (3.33+) and
PostgreSQL. On PostgreSQL the new foreign keys are checked at once during the fill
(`SET CONSTRAINTS ... IMMEDIATE`): deferred checks left pending would refuse the ALTER TABLE
that follows ("pending trigger events"); the two tables are analysed at the end. On a
PostgreSQL of 1M households / 3.5M members it took 8 min 49 s under a load of 5–7 (every row
rewritten: docs/performance.md, "The county key"); VACUUM the two tables afterwards. A
household whose village lies under no county (a malformed region tree) stops the migration
with its number named.
"""

import django.db.models.deletion
from django.db import migrations, models

VILLAGE_COUNTY = (
    "SELECT v.id AS village_id, c.id AS county_id FROM povertyapp_region v "
    "JOIN povertyapp_region c ON c.level = 'county' AND substr(v.path, 1, length(c.path)) = c.path"
)


def fill(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "UPDATE households_household SET county_id = m.county_id "
            f"FROM ({VILLAGE_COUNTY}) m WHERE households_household.village_id = m.village_id"
        )
        cursor.execute("SELECT number FROM households_household WHERE county_id IS NULL LIMIT 5")
        orphans = [row[0] for row in cursor.fetchall()]
        if orphans:
            raise RuntimeError(
                "Households whose village lies under no county-level region (fix the region "
                f"tree, then migrate again): {', '.join(orphans)}"
            )
        cursor.execute(
            "UPDATE households_member SET county_id = h.county_id "
            "FROM households_household h WHERE households_member.household_id = h.id"
        )
        if postgresql:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def analyze(apps, schema_editor):
    """Statistics of the new column at once (PostgreSQL): the scopes filter on it from the
    first request, and the planner without them guesses its selectivity."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ANALYZE households_household, households_member")


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0020_county_status_counts"),
        ("povertyapp", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="county",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="county_households",
                to="povertyapp.region",
                verbose_name="县",
            ),
        ),
        migrations.AddField(
            model_name="member",
            name="county",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="county_members",
                to="povertyapp.region",
                verbose_name="县",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="household",
            name="county",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="county_households",
                to="povertyapp.region",
                verbose_name="县",
            ),
        ),
        migrations.AlterField(
            model_name="member",
            name="county",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="county_members",
                to="povertyapp.region",
                verbose_name="县",
            ),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["county", "number"], name="household_county_number_idx"),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["county", "household"], name="member_county_household_idx"),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=False),
    ]
