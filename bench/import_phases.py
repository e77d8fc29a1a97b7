"""The household import's three phases timed (not a test): read + stage, validate, write; wall
and CPU seconds of each, peak RSS and the load average. The generated workbook of
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


def main() -> None:
    sys.argv, path = sys.argv[:1], sys.argv[1]
    import ledger  # bench/ledger.py: the same regions, user and emptying

    ledger._django()
    from households.imports import import_households, validation, writing

    marks: dict[str, tuple[float, float]] = {}

    def timed(owner: Any, name: str, label: str) -> None:
        function = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                marks[label] = (time.perf_counter() - wall, time.process_time() - cpu)

        setattr(owner, name, wrapper)

    timed(validation._Validator, "stage", "read + stage")
    timed(validation._Validator, "run", "validate")
    timed(writing, "_write", "write")
    ledger._regions()
    user = ledger._county_officer()
    ledger._empty()
    print(f"load average before: {os.getloadavg()}")
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_households(actor=user, path=path, dry_run=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ledger._empty()
    print(
        f"import of {path}: {report.households_created} households, {report.error_count} "
        f"errors: {wall:.1f} s wall, {cpu:.1f} s CPU; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    for label, (seconds, cpu_seconds) in marks.items():
        print(f"  {label}: {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
