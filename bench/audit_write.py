"""The cost of one audit row (`povertyapp.audit.record`): per row in-process, and the rows a
second the whole database takes from many writers at once, against the floor measured in the
same run.

    .venv/bin/python bench/audit_write.py [--database bench_pages] [--rows 2000]
                                          [--writers 1 8 16] [--seconds 5]

Every sensitive read, export, sign-in and approval writes one row, chained to the row before it
under a lock on the one-row chain head, so the chain head is the one place every user of a
province meets. The row is the household page's (a county officer's read of a bank account:
`view_sensitive`, one field, the page's detail).

The floor is the same row, its hash computed in Python, INSERTed into a copy of the table
(`bench_audit_plain`: the same columns, indexes and constraints) with one autocommit
statement: writing a row without the chain. Each writer is a process of its own with its own
connection, writing back to back for `--seconds`; the rows a second of all of them together is
the database's capacity for audit rows (2 cores here, so past 2 writers the figure is the
server's and the writers' share of them). The load average is printed at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from povertyapp.models import User

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

PLAIN_TABLE = "bench_audit_plain"


def _plain_insert(user: User) -> None:
    """One autocommit INSERT of the household page's row into the copy, hash included."""
    import hashlib
    import json

    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields, detail = ["bank_account"], {"via": "page", "tab": "basic"}
    digest = hashlib.sha256(
        json.dumps(
            {"user": user.pk, "at": now.isoformat(), "fields": fields, "detail": detail},
            sort_keys=True,
        ).encode()
    ).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PLAIN_TABLE} (user_id, username, role, action, target, object_id,"
            " outcome, reason, fields, detail, ip_address, request_id, sha256, created_at, seq,"
            " prev_hash, row_hash) VALUES (%s, %s, %s, 'view_sensitive', 'household', '1',"
            " 'ok', '', %s, %s, '127.0.0.1', '', '', %s,"
            f" nextval('{PLAIN_TABLE}_seq'), %s, %s)",
            [
                user.pk,
                user.username,
                user.role,
                json.dumps(fields),
                json.dumps(detail),
                now,
                digest,
                digest,
            ],
        )


def _chained_insert(user: User) -> None:
    from povertyapp.privacy import access_log_record

    access_log_record(
        user=user,
        action="view_sensitive",
        target="household",
        object_id=1,
        fields=["bank_account"],
        detail={"via": "page", "tab": "basic"},
    )


WRITES: dict[str, Callable[[User], None]] = {"chained": _chained_insert, "plain": _plain_insert}


def _writer(kind: str, seconds: float, start: float, counts: multiprocessing.Queue[int]) -> None:
    from django.db import connection

    from povertyapp.models import User

    connection.close()  # a connection of this process's own
    user = User.objects.get(username="county")
    write = WRITES[kind]
    while time.time() < start:
        time.sleep(0.001)
    end, rows = start + seconds, 0
    while time.time() < end:
        write(user)
        rows += 1
    counts.put(rows)


def concurrent(kind: str, writers: int, seconds: float) -> float:
    """Rows a second from `writers` processes writing back to back."""
    from django.db import connections

    connections.close_all()
    counts: multiprocessing.Queue[int] = multiprocessing.Queue()
    start = time.time() + 1.0
    processes = [
        multiprocessing.Process(target=_writer, args=(kind, seconds, start, counts))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    total = sum(counts.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def in_process(kind: str, rows: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds per row, one writer."""
    from povertyapp.models import User

    user = User.objects.get(username="county")
    write = WRITES[kind]
    for _ in range(50):
        write(user)
    wall, cpu = [], []
    for _ in range(rows):
        started, started_cpu = time.perf_counter(), time.process_time()
        write(user)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    os.environ.setdefault("CONN_MAX_AGE", "60")
    loadgen.setup_django(args.database)
    from django.db import connection

    from povertyapp.models import User

    if not User.objects.filter(username="county").exists():
        raise SystemExit(f"{args.database}: no user 'county' (seed it with bench/pages.py)")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PLAIN_TABLE} (LIKE povertyapp_accesslog INCLUDING ALL)"
        )
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {PLAIN_TABLE}_seq")
    multiprocessing.set_start_method("fork")
    print(f"{'row':<8} {'wall ms/row':>11} {'cpu ms/row':>10}")
    single: dict[str, tuple[float, float]] = {}
    for kind in ("plain", "chained"):
        single[kind] = in_process(kind, args.rows)
        print(f"{kind:<8} {single[kind][0]:>11.3f} {single[kind][1]:>10.3f}")
    print(
        f"chained ÷ plain: wall {single['chained'][0] / single['plain'][0]:.2f} ×, "
        f"cpu {single['chained'][1] / single['plain'][1]:.2f} ×"
    )
    print(f"\n{'writers':>7} {'plain rows/s':>12} {'chained rows/s':>14} {'× plain':>8}")
    for writers in args.writers:
        plain = concurrent("plain", writers, args.seconds)
        chained = concurrent("chained", writers, args.seconds)
        print(f"{writers:>7} {plain:>12.0f} {chained:>14.0f} {chained / plain:>8.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
