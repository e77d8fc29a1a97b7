"""Benchmark: the dashboards (county, township, village) under concurrent load (issue 5).

    .venv/bin/python bench/dashboard.py [--households 5000] [--clients 16] [--requests 400]
                                        [--database bench_dashboard] [--port 8766]

Seeds the demo county on PostgreSQL exactly as `manage.py seed_demo --households 5000` does (the
registry, then every app's demo step: the closed 2019 and open 2020 adjustment rounds with their
computed rate snapshots, assistance, inspections; skipped when the database already holds the
county), starts gunicorn with 2 sync workers (settings `bench.pages_settings`: DEBUG off, the
production URLs plus a bare view), logs 16 clients in as the demo county officer and drives each
scenario with the harness of bench/pages.py (`bench/loadgen.py`): every client sends its
requests back to back on its own keep-alive session, `--requests` in all per scenario.

Scenarios (default round: the latest with a snapshot, as a user opening the page gets it):
  bare      /bench/bare/                  a bare Django view: the baseline
  county    /dashboards/<county code>/    the county: 10 townships as child rows
  township  /dashboards/<township code>/  a random township of the county: its villages
  village   /dashboards/<village code>/   a random village of the county: its groups

Prints req/s, p50 and p99 (milliseconds) per scenario and the ratio of each scenario's req/s to
the bare view's, measured in the same run. Goal (issue 5): p99 ≤ 250 ms at 16 concurrent users.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen


def prepare(database: str, households: int) -> dict[str, object]:
    """Migrate and seed the demo county (idempotent); return the region codes to ask for."""
    loadgen.setup_django(database)
    from django.core.management import call_command
    from django.db import connection

    from households.models import Household
    from povertyapp.demo import COUNTY
    from povertyapp.models import Region
    from rounds.models import RateSnapshot

    # The demo county's households (the demo province's other counties are small neighbours).
    in_county = Household.objects.filter(village__path__contains=f"/{COUNTY[0]}/")
    have = in_county.count()
    if have and have != households:
        raise SystemExit(
            f"{database} holds {have} households, not {households}: "
            f"drop it first (DROP DATABASE {database})."
        )
    if not have:
        started = time.perf_counter()
        call_command("seed_demo", households=households, seed=2020, verbosity=0)
        print(
            f"seeded the demo county ({households} households) in "
            f"{time.perf_counter() - started:.0f} s"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    county = Region.objects.get(code=COUNTY[0])
    with_snapshots = set(RateSnapshot.objects.values_list("region_id", flat=True))
    townships = list(
        Region.objects.filter(
            level=Region.Level.TOWNSHIP, pk__in=with_snapshots, path__startswith=county.path
        ).values_list("code", flat=True)
    )
    villages = list(
        Region.objects.filter(
            level=Region.Level.VILLAGE, pk__in=with_snapshots, path__startswith=county.path
        ).values_list("code", flat=True)
    )
    if county.pk not in with_snapshots or not townships or not villages:
        raise SystemExit(f"{database}: the demo county has no rate snapshots")
    facts = {
        "county": county.code,
        "townships": townships,
        "villages": villages,
        "households": in_county.count(),
        "snapshots": len(with_snapshots),
    }
    connection.close()
    return facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--database", default="bench_dashboard")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    facts = prepare(args.database, args.households)
    with loadgen.gunicorn(args.database, args.port) as base:
        county = [loadgen.login(base, "county") for _ in range(args.clients)]
        page = f"{base}/dashboards/"
        scenarios = [
            ("bare", county, [f"{base}{loadgen.BARE}"]),
            ("county", county, [f"{page}{facts['county']}/"]),
            ("township", county, [f"{page}{code}/" for code in facts["townships"]]),
            ("village", county, [f"{page}{code}/" for code in facts["villages"]]),
        ]
        print(
            f"{facts['households']} households, {len(facts['townships'])} townships, "
            f"{len(facts['villages'])} villages, {facts['snapshots']} regions with snapshots; "
            f"gunicorn 2 workers; {args.clients} clients; {args.requests} requests per scenario"
        )
        results = loadgen.measure(scenarios, clients=args.clients, requests=args.requests)
    loadgen.report(results, goal_p99_ms=250)
    return 0


if __name__ == "__main__":
    sys.exit(main())
