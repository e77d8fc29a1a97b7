"""In-process cost of pages: CPU and wall time per request, and the queries, without HTTP.

    .venv/bin/python bench/page_cost.py [--database bench_pages] [--user county]
                                        [--requests 200] [--settings MODULE] URL [URL ...]

Runs against a bench database seeded by bench/pages.py (or bench/dashboard.py), with the bench
settings (DEBUG off, the production URLs plus the bare views), the user signed in as by the login
form. For each URL: the number of queries, then CPU and wall time per request (minimum and
median of `--requests` requests after a warm-up), and the same for the bare view first, measured
in the same run. The load generator, gunicorn and the network are left out, so these figures are
steadier than bench/pages.py's under a busy machine: they tell what a change to a page costs or
saves, bench/pages.py what users would get.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument("--user", default="county")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--settings",
        default=loadgen.SETTINGS,
        help="bench.province_settings adds the plain Django views (/bench/plain/...)",
    )
    args = parser.parse_args()

    os.environ.setdefault("CONN_MAX_AGE", "60")
    loadgen.SETTINGS = args.settings
    loadgen.setup_django(args.database)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from povertyapp.models import User

    client = Client()
    client.force_login(
        User.objects.get(username=args.user), backend="povertyapp.backends.ModelBackendWithRegion"
    )
    print(
        f"{'url':<50} {'queries':>7} {'cpu min':>8} {'cpu p50':>8} {'wall min':>9} {'wall p50':>9}"
    )
    for url in [loadgen.BARE, *args.urls]:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        query_count = len(queries)  # now: the next request resets the connection's log
        cpu, wall = [], []
        for _ in range(args.requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(
            f"{url[:50]:<50} {query_count:>7} {min(cpu) * 1000:>8.2f} "
            f"{statistics.median(cpu) * 1000:>8.2f} {min(wall) * 1000:>9.2f} "
            f"{statistics.median(wall) * 1000:>9.2f}"
        )
    print(f"milliseconds per request; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
