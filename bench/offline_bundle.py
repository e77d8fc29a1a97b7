"""Benchmark: how much the offline page puts on a phone (issue 17, docs/offline.md).

    .venv/bin/python bench/offline_bundle.py [--households 5000] [--runs 3]
                                             [--database bench_offline_bundle]

Seeds the demo county (`povertyapp.demo.seed`, skipped when the database has it) on a
PostgreSQL database of the bench's own (`bench.loadgen.setup_django`, settings
`bench.pages_settings`: DEBUG off), then, signed in through Django's test client, fetches the
two bundles the offline page downloads for

  cadre      the demo village cadre (one village)
  county     the demo county office (the whole county: the lists are capped)

and prints, per user and bundle, the rows kept (and the total when capped), the JSON bytes as
the server sends them uncompressed and gzip-compressed (what a phone on 3G pays when the
server compresses), and the median time of `--runs` requests. The baseline, measured in the
same run, is the county office's household list without the cap (what the bundle was before
it was bounded): the ratio of each bundle's bytes to it is printed, with the load average.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

BUNDLES = {
    "visits": "/api/v1/assistance/offline/bundle/",
    "monitoring": "/api/v1/monitoring/offline/bundle/",
}


def prepare(database: str, households: int) -> None:
    loadgen.setup_django(database)
    from povertyapp import demo
    from povertyapp.models import User

    if not User.objects.filter(username="cadre").exists():
        started = time.perf_counter()
        demo.seed(households=households, seed=2020)
        print(f"seeded {households} households in {time.perf_counter() - started:.0f} s")


def measure(client: Any, url: str, runs: int) -> dict[str, Any]:
    times = []
    body = b""
    for _run in range(runs):
        started = time.perf_counter()
        response = client.get(url, HTTP_ACCEPT="application/json")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        body = response.content
    return {
        "bytes": len(body),
        "gzip": len(gzip.compress(body, compresslevel=6)),
        "ms": statistics.median(times) * 1000,
        "json": json.loads(body),
    }


def rows(kind: str, data: dict[str, Any]) -> str:
    if kind == "visits":
        parts = [("households", data["households"], data.get("capped"))]
    else:
        capped = data.get("capped") or {}
        parts = [
            ("clues", data["clues"], capped.get("clues")),
            ("cases", data["steps"], capped.get("steps")),
            ("sweep", data["sweep_households"], capped.get("sweep_households")),
        ]
    shown = []
    for name, items, cap in parts:
        text = f"{name} {len(items)}"
        if cap:
            text += f" of {cap['total']}"
        shown.append(text)
    return ", ".join(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", default="bench_offline_bundle")
    arguments = parser.parse_args()
    prepare(arguments.database, arguments.households)

    from django.test import Client

    from assistance import selectors
    from povertyapp.models import User

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(
            User.objects.get(username=username),
            backend="povertyapp.backends.ModelBackendWithRegion",
        )
        return client

    county = client_for("county")
    limit = selectors.OFFLINE_LIMIT
    selectors.OFFLINE_LIMIT = 10**9
    try:
        baseline = measure(county, BUNDLES["visits"], arguments.runs)
    finally:
        selectors.OFFLINE_LIMIT = limit
    print(f"database {arguments.database}, {arguments.runs} runs, median time")
    print(
        f"baseline  county office, households uncapped: {rows('visits', baseline['json'])}; "
        f"{baseline['bytes'] / 1000:,.1f} KB, gzip {baseline['gzip'] / 1000:,.1f} KB, "
        f"{baseline['ms']:.0f} ms"
    )
    for username in ("cadre", "county"):
        client = client_for(username)
        for kind, url in BUNDLES.items():
            figures = measure(client, url, arguments.runs)
            print(
                f"{username:<7} {kind:<10} {rows(kind, figures['json'])}; "
                f"{figures['bytes'] / 1000:,.1f} KB, gzip {figures['gzip'] / 1000:,.1f} KB "
                f"(×{figures['bytes'] / baseline['bytes']:.3f} of the baseline), "
                f"{figures['ms']:.0f} ms"
            )
    print("load average: " + " ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
