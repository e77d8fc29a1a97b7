"""The household import's three phases timed (not a test): read + stage, validate, write; wall
and CPU seconds of each, peak RSS and the load average, and where each phase's wall time went
(`Clocks`: the import and its PostgreSQL backend, each on a CPU or waiting for one, from the
kernel's scheduler statistics; the rest is disk, locks and round trips). The generated workbook of
`bench/ledger.py --generate-only` is imported into the emptied registry of DATABASE_URL:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/importspeed_ab
    .venv/bin/python bench/import_phases.py /tmp/importspeed/import-20k.xlsx

Run from another checkout (e.g. `git archive <commit>` into a directory, with this file copied
in and `.venv` linked), it times that code: the A/B of docs/performance.md, back to back."""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def schedstat(pid: int | str = "self") -> tuple[float, float]:
    """(seconds on a CPU, seconds waiting for one) of a process's main thread, from the
    scheduler's own accounting (/proc/<pid>/schedstat: run time, run-queue wait, in ns)."""
    with open(f"/proc/{pid}/schedstat") as handle:
        on_cpu, waiting, _slices = handle.read().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


class Clocks:
    """Where a stretch of wall time went: this process on a CPU and waiting for one, and the
    PostgreSQL backend serving its connection on a CPU and waiting for one (the server is on
    this machine). The rest of the wall time is spent waiting on neither a CPU nor a run
    queue: disk (fsync, reads), locks, the network's round trips; it is negative where the
    import and the backend worked at the same time (a COPY: the import renders rows while the
    backend parses what it has received)."""

    def __init__(self, backend: int | None) -> None:
        self.backend = backend

    def read(self) -> tuple[float, ...]:
        server = schedstat(self.backend) if self.backend else (0.0, 0.0)
        return (time.perf_counter(), *schedstat(), *server)

    @staticmethod
    def spent(before: tuple[float, ...], after: tuple[float, ...]) -> dict[str, float]:
        deltas = (b - a for a, b in zip(before, after, strict=True))
        wall, cpu, queue, server_cpu, server_queue = deltas
        return {
            "wall": wall,
            "cpu": cpu,
            "queue": queue,
            "server_cpu": server_cpu,
            "server_queue": server_queue,
            "other": wall - cpu - queue - server_cpu - server_queue,
        }

    @staticmethod
    def line(spent: dict[str, float]) -> str:
        return (
            f"{spent['wall']:.1f} s wall = import on CPU {spent['cpu']:.1f} s + waiting for a "
            f"CPU {spent['queue']:.1f} s + PostgreSQL backend on CPU {spent['server_cpu']:.1f} s"
            f" + backend waiting for a CPU {spent['server_queue']:.1f} s + the rest "
            f"{spent['other']:.1f} s (disk, locks, round trips; negative where the two worked "
            "at once, as in a COPY)"
        )


def main() -> None:
    sys.argv, path = sys.argv[:1], sys.argv[1]
    import ledger  # bench/ledger.py: the same regions, user and emptying

    ledger._django()
    from django.db import connection

    from households.imports import import_households, validation, writing

    marks: dict[str, tuple[float, float]] = {}
    spent: dict[str, dict[str, float]] = {}
    backend = None  # SQLite: the database works in this process
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        if not os.path.exists(f"/proc/{backend}/schedstat"):
            backend = None  # the server is on another machine: its side is in the rest
    clocks = Clocks(backend)

    def timed(owner: Any, name: str, label: str) -> None:
        function = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            before = clocks.read()
            try:
                return function(*args, **kwargs)
            finally:
                marks[label] = (time.perf_counter() - wall, time.process_time() - cpu)
                spent[label] = clocks.spent(before, clocks.read())

        setattr(owner, name, wrapper)

    timed(validation._Validator, "stage", "read + stage")
    timed(validation._Validator, "run", "validate")
    timed(writing, "_write", "write")
    ledger._regions()
    user = ledger._county_officer()
    ledger._empty()
    print(f"load average before: {os.getloadavg()}")
    wall, cpu = time.perf_counter(), time.process_time()
    before = clocks.read()
    report = import_households(actor=user, path=path, dry_run=False)
    whole = clocks.spent(before, clocks.read())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ledger._empty()
    print(
        f"import of {path}: {report.households_created} households, {report.error_count} "
        f"errors: {wall:.1f} s wall, {cpu:.1f} s CPU; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(f"  where the wall time went: {Clocks.line(whole)}")
    for label, (seconds, cpu_seconds) in marks.items():
        print(f"  {label}: {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU")
        print(f"    {Clocks.line(spent[label])}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
