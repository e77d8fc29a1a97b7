"""Benchmark: seed 100k demo households on PostgreSQL, against a raw COPY of the same rows.

    .venv/bin/python bench/seed.py [--households 100000] [--seed 2020] [--database bench_seed]

Creates (and at the end drops) its own PostgreSQL database, migrates it, then

  1. seed    builds the demo county with `households.demo.build_registry` (the code behind
             `seed_demo`); timed: the registry rows (households, members, incomes, events,
             pairings: generated and loaded by `demo.generate_and_stream`), and the whole
             call (plus regions through the service, users, village years) for reference;
  2. render  renders the very same rows of the five bulk tables into COPY text in memory
             (not timed), truncates those tables;
  3. copy    loads the rendered text with `COPY ... FROM STDIN` only, timed, in one
             transaction: the floor any loader of these rows can reach on this machine.

and prints seconds, rows/s and the ratio seed / copy (goal: at most 2). Both loads write into
the same tables with the same indexes and constraints. The figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402 (needs the project root on sys.path)

SERVER = loadgen.SERVER
_admin = loadgen.admin


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--database", default="bench_seed")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()

    _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{args.database}"')
    os.environ["DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        return _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def _run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from assistance.models import Pairing
    from households import demo
    from households.models import Household, HouseholdEvent, HouseholdIncome, Member
    from povertyapp import bulk

    call_command("migrate", verbosity=0)
    tables = [Household, Member, HouseholdIncome, HouseholdEvent, Pairing]
    print(
        f"seed benchmark: {args.households} households, seed {args.seed}, "
        f"PostgreSQL {connection.pg_version // 10000}, database {args.database}"
    )

    # 1. The seeder, end to end; the generation + load of the registry rows timed inside it.
    stream = demo.generate_and_stream
    rows_timing: list[float] = []

    def timed_stream(**arguments):
        started = time.perf_counter()
        try:
            return stream(**arguments)
        finally:
            rows_timing.append(time.perf_counter() - started)

    demo.generate_and_stream = timed_stream
    gc.collect()
    started = time.perf_counter()
    result = demo.build_registry(households=args.households, seed=args.seed)
    total_seconds = time.perf_counter() - started
    demo.generate_and_stream = stream
    (seed_seconds,) = rows_timing
    counts = {model: model.objects.count() for model in tables}
    rows = sum(counts.values())
    seed_peak = _peak_mb()

    # 2. The same rows, read back in table order and rendered as COPY text (not timed).
    del result
    gc.collect()
    rendered: list[tuple[type, bytes]] = []
    for model in tables:
        attnames, columns, _defaults = bulk.table_columns(model)
        buffer = io.BytesIO()
        with connection.cursor() as cursor:
            quoted = ", ".join(f'"{column}"' for column in columns)
            cursor.cursor.copy_expert(
                f'COPY (SELECT {quoted} FROM "{model._meta.db_table}" ORDER BY 1) TO STDOUT',
                buffer,
            )
        rendered.append((model, buffer.getvalue()))
    megabytes = sum(len(data) for _model, data in rendered) / 1e6
    names = ", ".join(f'"{model._meta.db_table}"' for model in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {names} CASCADE")
    connection.close()  # the COPY starts on a fresh connection, as the seeder did

    # 3. COPY only.
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for model, data in rendered:
            _attnames, columns, _defaults = bulk.table_columns(model)
            quoted = ", ".join(f'"{column}"' for column in columns)
            cursor.cursor.copy_expert(
                f'COPY "{model._meta.db_table}" ({quoted}) FROM STDIN', io.BytesIO(data)
            )
    copy_seconds = time.perf_counter() - started
    copied = {model: model.objects.count() for model in tables}
    if copied != counts:
        print(f"COPY loaded {copied}, the seeder {counts}: not the same rows")
        return 1

    detail = ", ".join(f"{model._meta.db_table} {count}" for model, count in counts.items())
    print(f"rows:  {rows} ({detail}); {megabytes:.0f} MB of COPY text")
    print(
        f"seed, registry rows (generate + load):  {seed_seconds:7.2f} s  "
        f"{rows / seed_seconds:9.0f} rows/s  (peak RSS {seed_peak:.0f} MB)"
    )
    print(
        f"COPY of the same rows, pre-rendered:     {copy_seconds:7.2f} s  "
        f"{rows / copy_seconds:9.0f} rows/s"
    )
    ratio = seed_seconds / copy_seconds
    print(f"ratio seed/COPY: {ratio:.2f}  (goal <= 2.00: {'met' if ratio <= 2 else 'NOT met'})")
    print(
        f"whole build_registry (+ regions through the service, users with password hashing, "
        f"village years): {total_seconds:.2f} s"
    )
    print(
        f"at {timezone.now():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
