"""Benchmark: the household list and the household page under concurrent load.

    .venv/bin/python bench/pages.py [--households 100000] [--clients 16] [--requests 400]
                                    [--database bench_pages] [--port 8765] [--only list,...]

Seeds `--households` demo households on PostgreSQL (`households.demo.build_registry`, the code
behind `seed_demo`; skipped when the database already holds them), starts gunicorn with 2 sync
workers (settings `bench.pages_settings`: DEBUG off, the production URLs plus a bare view),
logs 16 clients in, and drives each scenario with a bounded thread pool: every client sends
its requests back to back on its own keep-alive session, `--requests` in all per scenario (the
harness, shared with bench/dashboard.py, is bench/loadgen.py).

Scenarios (all as the demo county officer, whose scope is the whole county, the largest list):
  bare       /bench/bare/                     a bare Django view: the baseline
  signed-in  /bench/bare-signed-in/           the bare view reading the signed-in user (session
                                              and user, as every page does first): a second
                                              reference, printed, not the goal's baseline
  list       /households/?page=N              the list, 20 per page, random page 1–50
  search     POST /households/ q=<surname> status=poor   search + filter, as cadres use it:
                                              the search form's POST as htmx sends it, answered
                                              with the page (one request)
  search-link /households/?q=<surname>&status=poor   the same search typed or bookmarked as a
                                              link: the redirect that moves the name into a
                                              token, then the page (two requests, one timed)
  household  /households/<id>/                the household page (basic tab), random household
  badge      /households/<id>/assistance-badge/  the 帮扶 warning count, which the household
                                              page loads with htmx after it is shown
  cadre-list /households/                     the village cadre's own village

Prints req/s, p50 and p99 (milliseconds) per scenario and the ratio of each scenario's req/s to
the bare view's, measured in the same run. Goal: p99 ≤ 250 ms at 16 users (issue 19 retired
the earlier "≥ 0.5 × the bare view's req/s": a view that does nothing is no fair baseline; the
plain Django views are, in bench/province.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

SURNAMES = ("杨", "吴", "龙", "潘", "张", "王")


def prepare(database: str, households: int) -> dict[str, object]:
    """Migrate and seed (idempotent), return ids the clients will ask for."""
    loadgen.setup_django(database)
    from django.db import connection

    from households import demo
    from households.models import Household

    have = Household.objects.count()
    if have < households:
        if have:
            raise SystemExit(
                f"{database} holds {have} households, fewer than {households}: "
                f"drop it first (DROP DATABASE {database})."
            )
        started = time.perf_counter()
        demo.build_registry(households=households, seed=2020)
        print(f"seeded {households} households in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ids = list(Household.objects.values_list("pk", flat=True).order_by("?")[:2000])
    connection.close()
    return {"ids": ids, "count": Household.objects.count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run (the bare view always runs): e.g. list,household",
    )
    args = parser.parse_args()

    facts = prepare(args.database, args.households)
    with loadgen.gunicorn(args.database, args.port) as base:
        county = [loadgen.login(base, "county") for _ in range(args.clients)]
        cadre = [loadgen.login(base, "cadre") for _ in range(args.clients)]
        ids = facts["ids"]
        scenarios = [
            ("bare", county, [f"{base}{loadgen.BARE}"]),
            ("signed-in", county, [f"{base}/bench/bare-signed-in/"]),
            ("list", county, [f"{base}/households/?page={n}" for n in range(1, 51)]),
            (
                "search",
                county,
                [
                    loadgen.Post(
                        f"{base}/households/",
                        {"search_terms": "q", "q": name, "status": "poor"},
                    )
                    for name in SURNAMES
                ],
            ),
            (
                "search-link",
                county,
                [f"{base}/households/?q={name}&status=poor" for name in SURNAMES],
            ),
            ("household", county, [f"{base}/households/{pk}/" for pk in ids]),
            ("badge", county, [f"{base}/households/{pk}/assistance-badge/" for pk in ids]),
            ("cadre-list", cadre, [f"{base}/households/?page={n}" for n in range(1, 4)]),
        ]
        if args.only:
            wanted = {"bare", "signed-in", *args.only.split(",")}
            scenarios = [scenario for scenario in scenarios if scenario[0] in wanted]
        print(
            f"{facts['count']} households; gunicorn 2 workers; {args.clients} clients; "
            f"{args.requests} requests per scenario"
        )
        results = loadgen.measure(scenarios, clients=args.clients, requests=args.requests)
    loadgen.report(results, goal_p99_ms=250)
    return 0


if __name__ == "__main__":
    sys.exit(main())
