#!/usr/bin/env python3
"""Row counts of every table of a database, and their comparison (.ci/migrate_from_release.sh).

    table_counts.py count DATABASE_URL OUT.json   every table (introspected) -> its row count
    table_counts.py compare BEFORE.json AFTER.json

`compare` prints one line per table (before, after, difference) and exits 1 when a table lost
rows, disappeared, or gained rows. The exception is Django's bookkeeping (BOOKKEEPING): the
migration log, the content types and the permissions may gain rows, since `migrate` records the
migrations it applies and creates the content types and permissions of models that moved to a
new app; those gains are printed, and any loss there fails too. A migration that drops a table
or creates rows on purpose says so in DROPPED or CREATED, with the reason, which is printed.

Needs nothing of the project (sqlite3 from the standard library, psycopg2 for PostgreSQL), so
that it reads the database the same way before and after the code changes under it.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}
# Tables a migration drops on purpose, and why.
DROPPED = {
    "authtoken_token": "issue 14: DRF's never-expiring clear-text API tokens are not carried "
    "over (povertyapp 0008; clients sign in again, docs/operations.md)",
}
# Rows a migration creates on purpose (at most this many, or at most as many as the named tables
# held before: a backfill from them), and why.
CREATED: dict[str, tuple[int | tuple[str, ...], str]] = {
    "povertyapp_auditchainhead": (1, "issue 14: the audit chain's head row (povertyapp 0009)"),
    "monitoring_riskmeasurerule": (
        19,
        "issue 15: the national defaults of 帮扶 by risk type, as data (monitoring 0002)",
    ),
    "rounds_figurehistory": (
        ("povertyapp_ratesnapshot", "rounds_rollupsnapshot"),
        "issue 17: the desk's dated figure history, one row per stored snapshot, county or "
        "roll-up (rounds 0003)",
    ),
    "households_countystatuscount": (
        ("households_villagestatuscount",),
        "issue 19: the village counts summed per county and status, so the lists above the "
        "county read 88 counties' rows (households 0020)",
    ),
}


def _limit(name: str, before: dict[str, int]) -> int:
    limit = CREATED[name][0]
    return sum(before.get(table, 0) for table in limit) if isinstance(limit, tuple) else limit


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def count(url: str) -> dict[str, int]:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:////abs/path (django-environ's form) parses to the path "//abs/path".
        path = "/" + unquote(parsed.path).lstrip("/")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        cursor = connection.cursor()
    elif parsed.scheme in {"postgres", "postgresql"}:
        import psycopg2

        connection = psycopg2.connect(url)
        cursor = connection.cursor()
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
        )
        names = [row[0] for row in cursor.fetchall()]
    else:
        raise SystemExit(f"table_counts.py: unsupported database URL {url!r}")
    counts = {}
    for name in sorted(names):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(name)}")
        counts[name] = cursor.fetchone()[0]
    connection.close()
    return counts


def compare(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Print the table of counts; return the complaints (empty when every row was kept)."""
    complaints = []
    width = max(len(name) for name in {*before, *after})
    print(f"{'table':<{width}}  {'before':>8}  {'after':>8}  {'change':>7}")
    for name in sorted({*before, *after}):
        old, new = before.get(name), after.get(name)
        change = (new or 0) - (old or 0)
        note = ""
        if old is None:
            note = "new table"
        elif new is None:
            note = "TABLE GONE"
        print(
            f"{name:<{width}}  {'-' if old is None else old:>8}  {'-' if new is None else new:>8}"
            f"  {change:>+7}  {note}".rstrip()
        )
        if new is None and name in DROPPED:
            print(f"note: {name} dropped ({old} rows): {DROPPED[name]}")
        elif new is None:
            complaints.append(f"{name}: the table is gone ({old} rows before)")
        elif change < 0:
            complaints.append(f"{name}: lost {-change} rows")
        elif name in CREATED and 0 < change <= _limit(name, before):
            print(f"note: {name} gained {change} rows: {CREATED[name][1]}")
        elif change > 0 and name not in BOOKKEEPING:
            complaints.append(f"{name}: gained {change} rows")
    gains = {n: after[n] - before.get(n, 0) for n in BOOKKEEPING if n in after}
    for name, gain in sorted(gains.items()):
        if gain > 0:
            print(f"note: {name} gained {gain} rows (Django's bookkeeping, allowed)")
    return complaints


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "count":
        counts = count(argv[1])
        Path(argv[2]).write_text(json.dumps(counts, indent=1, sort_keys=True), encoding="utf-8")
        print(f"{len(counts)} tables, {sum(counts.values())} rows")
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        before, after = (json.loads(Path(p).read_text(encoding="utf-8")) for p in argv[1:])
        complaints = compare(before, after)
        if complaints:
            print("Migrating the release's database forward changed its rows:")
            for complaint in complaints:
                print(f"  - {complaint}")
            return 1
        print(f"Every row kept: {len(before)} tables before, {len(after)} after.")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
