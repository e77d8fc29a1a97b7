"""Benchmark: the household list and the household page under concurrent load.

    .venv/bin/python bench/pages.py [--households 100000] [--clients 16] [--requests 400]
                                    [--database bench_pages] [--port 8765]

Seeds `--households` demo households on PostgreSQL (`povertyapp.demo.build_registry`, the code
behind `seed_demo`; skipped when the database already holds them), starts gunicorn with 2 sync
workers (settings `bench.pages_settings`: DEBUG off, the production URLs plus a bare view),
logs 16 clients in, and drives each scenario with a bounded thread pool: every client sends
its requests back to back on its own keep-alive session, `--requests` in all per scenario.

Scenarios (all as the demo county officer, whose scope is the whole county, the largest list):
  bare       /bench/bare/                     a bare Django view: the baseline
  list       /households/?page=N              the list, 20 per page, random page 1–50
  search     /households/?q=<surname>&status=poor   search + filter, as cadres use it
  household  /households/<id>/                the household page (basic tab), random household
  cadre-list /households/                     the village cadre's own village

Prints req/s, p50 and p99 (milliseconds) per scenario and the ratio of each scenario's req/s to
the bare view's, measured in the same run. Goal: p99 ≤ 250 ms and ≥ 0.5 × the bare view's req/s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "demo12345"


def _admin(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def _database_exists(name: str) -> bool:
    import psycopg2

    connection = psycopg2.connect(f"{SERVER}/postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        connection.close()


def prepare(database: str, households: int) -> dict[str, object]:
    """Migrate and seed (idempotent), return ids the clients will ask for."""
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.pages_settings"
    if not _database_exists(database):
        _admin(f'CREATE DATABASE "{database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from households.models import Household
    from povertyapp import demo

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


def login(base: str, username: str):  # type: ignore[no-untyped-def]
    import requests

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        timeout=60,
        allow_redirects=False,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{base}/accounts/login/"},
    )
    if response.status_code != 302:
        raise SystemExit(f"login of {username} failed: {response.status_code}")
    return session


def run(sessions: list, urls: list[str], total: int) -> dict[str, float]:  # type: ignore[type-arg]
    """Send `total` requests from len(sessions) clients in parallel; return the figures."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = total // len(sessions)

    def client(index: int) -> None:
        nonlocal errors
        session = sessions[index]
        rng = random.Random(index)
        mine, bad = [], 0
        for _ in range(per_client):
            url = rng.choice(urls)
            started = time.perf_counter()
            response = session.get(url, timeout=120)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                bad += 1
            mine.append(elapsed)
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        list(pool.map(client, range(len(sessions))))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    facts = prepare(args.database, args.households)
    base = f"http://127.0.0.1:{args.port}"
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.pages_settings",
        DATABASE_URL=f"{SERVER}/{args.database}",
        CONN_MAX_AGE="60",
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "povertyapp.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "--env",
            "DJANGO_SETTINGS_MODULE=bench.pages_settings",
        ],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
    )
    try:
        import requests

        for _ in range(120):
            try:
                requests.get(f"{base}/bench/bare/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.5)
        county = [login(base, "county") for _ in range(args.clients)]
        cadre = [login(base, "cadre") for _ in range(args.clients)]
        ids = facts["ids"]
        scenarios = [
            ("bare", county, [f"{base}/bench/bare/"]),
            ("list", county, [f"{base}/households/?page={n}" for n in range(1, 51)]),
            (
                "search",
                county,
                [
                    f"{base}/households/?q={name}&status=poor"
                    for name in ("杨", "吴", "龙", "潘", "张", "王")
                ],
            ),
            ("household", county, [f"{base}/households/{pk}/" for pk in ids]),
            ("cadre-list", cadre, [f"{base}/households/?page={n}" for n in range(1, 4)]),
        ]
        print(
            f"{facts['count']} households; gunicorn 2 workers; {args.clients} clients; "
            f"{args.requests} requests per scenario"
        )
        results = {}
        for name, sessions, urls in scenarios:
            run(sessions, urls, args.clients * 2)  # warm up the workers' caches
            results[name] = run(sessions, urls, args.requests)
        bare_rps = results["bare"]["rps"]
        print(
            f"{'scenario':<11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'× bare':>7}"
        )
        for name, figures in results.items():
            print(
                f"{name:<11} {figures['rps']:>8.1f} {figures['p50']:>8.1f} "
                f"{figures['p99']:>8.1f} {figures['errors']:>6} "
                f"{figures['rps'] / bare_rps:>7.2f}"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
