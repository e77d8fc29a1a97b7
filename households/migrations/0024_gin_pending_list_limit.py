"""The name indexes' pending lists kept small (PostgreSQL only; issue 19).

A GIN index takes new entries into an unsorted pending list (`fastupdate`, on by default) and
moves them into the index proper only at a VACUUM or when the list passes
`gin_pending_list_limit`, 4 MB by default. Every search through the index reads the whole
pending list first. After the bench's seed of 20,000 households both name indexes held 475
pending pages (72,880 entries): the county's name search (`member_county_name_keys_idx`) took
10.5 ms, 7.3 of them in the pending list, against 3.3 ms once the list was merged, and a
province user's search runs up to seven such statements. Between two vacuums a county's
registrations and imports refill the list towards its 4 MB, so the searches slowed with it.

At 256 kB the list is merged in batches small enough that a search reads at most 32 pages of it:
inserting 300,000 demo names into a copy of both indexes took 2.87 s, as with the default limit
(2.87 s), and the county's search for 杨 then took 1.25 ms against 7.96 ms; 64 kB (PostgreSQL's
smallest) searched in 0.79 ms but inserted in 1.38 × the time, and `fastupdate` off in 4.5 ×
(bench/gin_pending.py, docs/performance.md). The limit is set on the index, so it holds
whatever the server's own setting is; the existing pending lists are merged now.
"""

from django.db import migrations

INDEXES = ("member_name_chars_idx", "member_county_name_keys_idx")
LIMIT_KB = 256


def limit(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(
            f"ALTER INDEX IF EXISTS {index} SET (gin_pending_list_limit = {LIMIT_KB})"
        )
        schema_editor.execute(
            "SELECT gin_clean_pending_list(to_regclass(%s)) WHERE to_regclass(%s) IS NOT NULL",
            [index, index],
        )


def unlimit(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [("households", "0023_member_completeness")]

    operations = [migrations.RunPython(limit, unlimit)]
