"""The load-generation harness shared by bench/pages.py and bench/dashboard.py.

A PostgreSQL database of the bench's own (created when missing), gunicorn with 2 sync workers
on the bench settings (`bench.pages_settings`: DEBUG off, the production URLs plus a bare view),
demo users logged in over HTTP, and a bounded thread pool in which every client sends its
requests back to back on its own keep-alive session. Every figure a bench prints is measured
against the bare Django view in the same run.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "Huangping@2020"
SETTINGS = "bench.pages_settings"
BARE = "/bench/bare/"


@dataclass(frozen=True)
class Post:
    """A form's POST as htmx sends it from the page (a search form: povertyapp/search_terms.py),
    with the session's CSRF token; answered 200 with the page."""

    url: str
    data: dict[str, str]
    headers: dict[str, str] = field(default_factory=lambda: {"HX-Request": "true"})

    def send(self, session: Any) -> Any:
        headers = {
            "X-CSRFToken": session.cookies.get("csrftoken", ""),
            "Referer": self.url,
            **self.headers,
        }
        return session.post(self.url, data=self.data, headers=headers, timeout=120)


def admin(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def database_exists(name: str) -> bool:
    import psycopg2

    connection = psycopg2.connect(f"{SERVER}/postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        connection.close()


def setup_django(database: str) -> None:
    """Create the database when missing, point Django at it and migrate it."""
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ.pop("CELERY_BROKER_URL", None)
    if not database_exists(database):
        admin(f'CREATE DATABASE "{database}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def login(base: str, username: str) -> Any:
    """A keep-alive `requests` session logged in through the login form, as a browser does."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        timeout=60,
        allow_redirects=False,
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    if response.status_code != 302:
        raise SystemExit(f"login of {username} failed: {response.status_code}")
    return session


def send(session: Any, url: str | Post) -> Any:
    """One request of a scenario: a GET of `url`, or the `Post`."""
    return url.send(session) if isinstance(url, Post) else session.get(url, timeout=120)


def run(sessions: list[Any], urls: list[str | Post], total: int) -> dict[str, float]:
    """Send `total` requests from len(sessions) clients in parallel; return the figures.

    Each client picks its URLs (a GET, or a `Post`) at random (seeded by its index) from
    `urls`."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, total // len(sessions))

    def client(index: int) -> None:
        nonlocal errors
        session = sessions[index]
        rng = random.Random(index)
        mine, bad = [], 0
        for _ in range(per_client):
            url = rng.choice(urls)
            started = time.perf_counter()
            response = send(session, url)
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
        "p95": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


@contextlib.contextmanager
def gunicorn(database: str, port: int, workers: int = 2) -> Iterator[str]:
    """gunicorn with `workers` sync workers on the bench settings; yields the base URL."""
    import requests

    base = f"http://127.0.0.1:{port}"
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=f"{SERVER}/{database}",
        CONN_MAX_AGE="60",
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "povertyapp.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "--env",
            f"DJANGO_SETTINGS_MODULE={SETTINGS}",
        ],
        cwd=ROOT,
        env=environment,
        # The access log (gunicorn.conf.py, as in production) is still written, not shown.
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}{BARE}", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def measure(
    scenarios: list[tuple[str, list[Any], list[str | Post]]], *, clients: int, requests: int
) -> dict[str, dict[str, float]]:
    """Warm every scenario up (2 requests per client), then measure `requests` of it."""
    results = {}
    for name, sessions, urls in scenarios:
        run(sessions, urls, clients * 2)
        results[name] = run(sessions, urls, requests)
    return results


def report(
    results: dict[str, dict[str, float]], *, goal_p99_ms: float, goal_ratio: float | None = None
) -> None:
    """The table: req/s, p50, p95, p99, errors and req/s relative to the bare view's (and to the
    signed-in bare view's when it ran), with the verdict on the goal: p99 ≤ goal_p99_ms, and
    req/s ≥ goal_ratio × the bare view's when a ratio is part of the goal."""
    bare_rps = results["bare"]["rps"]
    signed_in = results.get("signed-in")
    goal = f"p99 ≤ {goal_p99_ms:.0f} ms" + (
        f" and ≥ {goal_ratio:g} × bare" if goal_ratio is not None else ""
    )
    print(
        f"{'scenario':<13} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'× bare':>7}"
        + (f" {'× signed-in':>11}" if signed_in else "")
        + f"  {goal}"
    )
    for name, figures in results.items():
        ratio = figures["rps"] / bare_rps
        met = figures["p99"] <= goal_p99_ms and (goal_ratio is None or ratio >= goal_ratio)
        verdict = "" if name in ("bare", "signed-in") else ("met" if met else "NOT met")
        print(
            f"{name:<13} {figures['rps']:>8.1f} {figures['p50']:>8.1f} {figures['p95']:>8.1f} "
            f"{figures['p99']:>8.1f} {figures['errors']:>6.0f} {ratio:>7.2f}"
            + (f" {figures['rps'] / signed_in['rps']:>11.2f}" if signed_in else "")
            + f"  {verdict}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
