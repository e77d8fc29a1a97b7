"""A GIN index over the characters of each member's name keyed by the member's county
(PostgreSQL only; issue 19).

`member_name_chars_idx` (0009) holds one entry list per character for the whole province, so a
county's search for 杨 first gathered the province's entries to keep its own 18,720 (571,824
entries and 162 ms with two thirds of a 10M-household province generated, before the count's
LIMIT could stop anything). Here each character is
keyed `'<county id>:<character>'`: a county's search reads its own entries only, and a search
over several counties reads them a county at a time (`households.selectors._name_matches`).
The key is an IMMUTABLE SQL function, since an index expression can hold no subquery.

Built CONCURRENTLY (so not in a transaction): a county's members stay writable while it is
built, about 45 s for 10.5M members on the bench machine.
"""

from django.db import migrations

FUNCTION = (
    "CREATE OR REPLACE FUNCTION member_county_name_keys(county bigint, name text) "
    "RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    "$$ SELECT array_agg(county::text || ':' || c) FROM unnest(string_to_array(name, NULL)) "
    "AS c $$"
)
CREATE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS member_county_name_keys_idx ON households_member "
    "USING gin (member_county_name_keys(county_id, name))"
)
DROP = "DROP INDEX CONCURRENTLY IF EXISTS member_county_name_keys_idx"
DROP_FUNCTION = "DROP FUNCTION IF EXISTS member_county_name_keys(bigint, text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("households", "0021_county_key")]

    operations = [migrations.RunPython(create, drop)]
