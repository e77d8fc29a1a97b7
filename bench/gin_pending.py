"""Benchmark: the name indexes' pending list, what it costs a search and what bounding it costs
the writes (households migration 0024).

    .venv/bin/python bench/gin_pending.py [--database bench_gin] [--rows 300000]
                                          [--counties 3] [--rounds 2]

A GIN index takes new entries into an unsorted pending list and merges them into the index at a
VACUUM or when the list passes `gin_pending_list_limit` (4 MB unless set); every search through
the index reads the whole list first. The bench builds a scratch table on the migrated bench
database with the two name indexes of the members (`member_name_chars_idx`,
`member_county_name_keys_idx`, same expressions), and for each setting, in turn and `--rounds`
times: empties the table, inserts `--rows` demo names over `--counties` counties in one
statement (as an import or a seed writes them), then times a county's search for 杨 through
the county-keyed index 21 times (median) with the pending list the insert left.

Settings: the server's default limit (the baseline), 64 kB (PostgreSQL's smallest), 256 kB
(what migration 0024 sets on both indexes) and `fastupdate` off (no pending list). Prints each
setting's median insert and search time, their ratios to the baseline measured in the same
run, and the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

TABLE = "bench_gin_names"
SETTINGS = (
    ("server default (4 MB)", "RESET (gin_pending_list_limit)", "SET (fastupdate = on)"),
    ("64 kB (the smallest)", "SET (gin_pending_list_limit = 64)", "SET (fastupdate = on)"),
    ("256 kB (migration 0024)", "SET (gin_pending_list_limit = 256)", "SET (fastupdate = on)"),
    ("fastupdate off", "RESET (gin_pending_list_limit)", "SET (fastupdate = off)"),
)
SEARCHES = 21


def names(rows: int, counties: int) -> list[tuple[int, str]]:
    """`rows` (county, name) pairs drawn as the demo seed draws its members' names."""
    from povertyapp.demo import SURNAMES, person_name

    rng = random.Random(2020)
    return [
        (rng.randrange(counties) + 1, person_name(rng, rng.choice(SURNAMES), rng.choice("男女")))
        for _ in range(rows)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_gin")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--counties", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    loadgen.setup_django(args.database)  # the migrated schema: member_county_name_keys()
    from django.db import connection

    pairs = names(args.rows, args.counties)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}_source")
        cursor.execute(f"CREATE UNLOGGED TABLE {TABLE}_source (county_id bigint, name text)")
        cursor.executemany(f"INSERT INTO {TABLE}_source VALUES (%s, %s)", pairs)
        cursor.execute(
            f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, county_id bigint, name varchar(64))"
        )
        cursor.execute(
            f"CREATE INDEX {TABLE}_chars ON {TABLE} USING gin (string_to_array(name::text, NULL))"
        )
        cursor.execute(
            f"CREATE INDEX {TABLE}_keys ON {TABLE} "
            "USING gin (member_county_name_keys(county_id, name::text))"
        )
    search = (
        f"SELECT count(*) FROM {TABLE} WHERE member_county_name_keys(county_id, name::text) "
        "@> ARRAY['1:杨'] AND name LIKE '%%杨%%'"
    )
    inserts: dict[str, list[float]] = {label: [] for label, _, _ in SETTINGS}
    searches: dict[str, list[float]] = {label: [] for label, _, _ in SETTINGS}
    found = 0
    for _ in range(args.rounds):
        for label, limit, fastupdate in SETTINGS:
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {TABLE}")
                for index in (f"{TABLE}_chars", f"{TABLE}_keys"):
                    cursor.execute(f"ALTER INDEX {index} {limit}")
                    cursor.execute(f"ALTER INDEX {index} {fastupdate}")
                started = time.perf_counter()
                cursor.execute(
                    f"INSERT INTO {TABLE} (county_id, name) SELECT county_id, name "
                    f"FROM {TABLE}_source"
                )
                inserts[label].append(time.perf_counter() - started)
                times = []
                for _ in range(SEARCHES):
                    started = time.perf_counter()
                    cursor.execute(search)
                    found = cursor.fetchone()[0]
                    times.append(time.perf_counter() - started)
                searches[label].append(statistics.median(times))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}, {TABLE}_source")

    insert_s = {label: statistics.median(times) for label, times in inserts.items()}
    search_s = {label: statistics.median(times) for label, times in searches.items()}
    baseline = SETTINGS[0][0]
    print(
        f"{args.rows:,} names over {args.counties} counties inserted in one statement, "
        f"{args.rounds} rounds; the county search for 杨 finds {found:,} members"
    )
    print(f"{'setting':<24} {'insert s':>9} {'× default':>9} {'search ms':>10} {'× default':>9}")
    for label, _, _ in SETTINGS:
        print(
            f"{label:<24} {insert_s[label]:>9.2f} {insert_s[label] / insert_s[baseline]:>9.2f} "
            f"{search_s[label] * 1000:>10.2f} {search_s[label] / search_s[baseline]:>9.2f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
