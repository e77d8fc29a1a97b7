"""A GIN index over the characters of each member's name (PostgreSQL only).

The household list searches names by substring (`name LIKE '%杨%'`): a Chinese search is one to
three characters, from which pg_trgm extracts no trigram, so without this index every search of
a county read its whole member table (0.1–0.5 s). `string_to_array(name, NULL)` is the name's
characters; `households.filters.HouseholdFilter.filter_text` adds the matching `@>` condition,
and the LIKE stays as the exact test. SQLite has no GIN index: the demo keeps the plain LIKE.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS member_name_chars_idx ON households_member "
    "USING gin (string_to_array(name, NULL))"
)
DROP = "DROP INDEX IF EXISTS member_name_chars_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("households", "0008_completeness_columns")]

    operations = [migrations.RunPython(create, drop)]
