"""Benchmark: what a cadre's phone pays for the work desk and a household page (issue 17).

    .venv/bin/python bench/phone_weight.py [--households 200] [--runs 5] [--profile fast3g]
                                           [--cpu 4] [--database bench_phone_weight]
                                           [--port 8767]

Lighthouse-style figures, measured in Debian chromium (/usr/bin/chromium) through Playwright:
seeds the demo county (`povertyapp.demo.seed`, skipped when the database has it) on a
PostgreSQL database of the bench's own, collects the static files as production does (hashed
names, gzip and brotli copies: `povertyapp.staticfiles.ProductionStaticFilesStorage`), serves
them with gunicorn and whitenoise (settings `bench.phone_weight_settings`: DEBUG off), then
for each run opens a fresh browser context (a cold cache: nothing cached, no service worker),
on a 360 × 740 phone screen, signs the village cadre in without throttling, clears the cache,
and loads each page under the throttled network profile (CDP
`Network.emulateNetworkConditions`) and CPU slowdown (`Emulation.setCPUThrottlingRate`):

  login      /accounts/login/        the sign-in page, anonymous: the baseline
  desk       /                       the village cadre's work desk
  household  /households/<id>/       a household of the cadre's village (basic tab)

Profiles (the figures Chrome DevTools and Lighthouse apply):
  fast3g  latency 562.5 ms, 1.44 Mbit/s down, 675 kbit/s up (DevTools "Fast 3G", the network
          Lighthouse's mobile run applies when it throttles through DevTools)
  slow3g  latency 2,000 ms, 400 kbit/s down, 400 kbit/s up (DevTools "Slow 3G")
  slow4g  latency 150 ms, 1.6 Mbit/s down, 750 kbit/s up (Lighthouse's simulated mobile)

Prints, per page, the median and the worst of the runs for the first contentful paint
(`performance.getEntriesByName("first-contentful-paint")`), the bytes transferred (the sum of
CDP `Network.loadingFinished.encodedDataLength`: headers and bodies as sent on the wire,
compressed where the server compressed) and the requests, each page's ratio to the login
page's, the load average, and the verdict on the goal: FCP ≤ 2 s and ≤ 300 KB (1 KB = 1,000
bytes) on a cold cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

CHROMIUM = "/usr/bin/chromium"
SETTINGS = "bench.phone_weight_settings"
PROFILES = {
    # name: (latency ms, download bytes/s, upload bytes/s)
    "fast3g": (562.5, 1_440_000 / 8, 675_000 / 8),
    "slow3g": (2000.0, 400_000 / 8, 400_000 / 8),
    "slow4g": (150.0, 1_600_000 / 8, 750_000 / 8),
}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
GOAL_FCP_MS = 2000.0
GOAL_BYTES = 300_000


def prepare(database: str, households: int) -> int:
    """Migrate and seed the demo county (once); the id of a household of the cadre's village."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    loadgen.SETTINGS = SETTINGS
    loadgen.setup_django(database)
    from households.models import Household
    from povertyapp import demo
    from povertyapp.models import User

    if not User.objects.filter(username="cadre").exists():
        demo.seed(households=households, seed=2020)
    cadre = User.objects.get(username="cadre")
    household = (
        Household.objects.filter(village=cadre.region, status=Household.Status.POOR)
        .order_by("pk")
        .first()
    ) or Household.objects.filter(village=cadre.region).order_by("pk").first()
    assert household is not None, "the cadre's village has no household"
    return household.pk


def collect_static(target: Path) -> None:
    """The production copy of the static files: hashed names and compressed copies."""
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE=SETTINGS, BENCH_STATIC_ROOT=str(target))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=loadgen.ROOT,
        env=environment,
        check=True,
    )


def load(page: Any, cdp: Any, url: str) -> dict[str, float]:
    """Navigate under the throttled profile; FCP (ms), bytes on the wire, requests."""
    sizes: dict[str, float] = {}

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = event["encodedDataLength"]

    cdp.on("Network.loadingFinished", finished)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    fcp = page.evaluate(
        """() => new Promise(resolve => {
            const read = () => {
              const entry = performance.getEntriesByName("first-contentful-paint")[0];
              if (entry) { resolve(entry.startTime); } else { setTimeout(read, 50); }
            };
            read();
        })"""
    )
    cdp.remove_listener("Network.loadingFinished", finished)
    return {"fcp": float(fcp), "bytes": float(sum(sizes.values())), "requests": len(sizes)}


def measure(base: str, household_id: int, *, runs: int, profile: str, cpu: float) -> Any:
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    latency, down, up = PROFILES[profile]
    pages = {"login": "/accounts/login/", "desk": "/", "household": f"/households/{household_id}/"}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        for _ in range(runs):
            for name, path in pages.items():
                context = browser.new_context(**PHONE)  # a cold cache: a new profile
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                if name != "login":
                    page.goto(f"{base}/accounts/login/")
                    page.fill("input[name=username]", "cadre")
                    page.fill("input[name=password]", loadgen.PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state("load")
                    cdp.send("Network.clearBrowserCache")
                    page.goto("about:blank")
                cdp.send(
                    "Network.emulateNetworkConditions",
                    {
                        "offline": False,
                        "latency": latency,
                        "downloadThroughput": down,
                        "uploadThroughput": up,
                    },
                )
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
                results[name].append(load(page, cdp, f"{base}{path}"))
                context.close()
        browser.close()
    return results


def report(results: dict[str, list[dict[str, float]]], *, profile: str, cpu: float) -> None:
    latency, down, up = PROFILES[profile]
    print(
        f"profile {profile}: latency {latency:g} ms, {down * 8 / 1000:g} kbit/s down, "
        f"{up * 8 / 1000:g} kbit/s up, CPU slowed {cpu:g}×; cold cache; "
        f"{len(results['login'])} runs per page"
    )
    print(
        f"{'page':<10} {'FCP ms':>8} {'worst':>8} {'KB':>8} {'requests':>8} "
        f"{'× login FCP':>11} {'× login KB':>10}  goal FCP ≤ {GOAL_FCP_MS:.0f} ms, "
        f"≤ {GOAL_BYTES / 1000:.0f} KB"
    )
    base_fcp = statistics.median(run["fcp"] for run in results["login"])
    base_bytes = statistics.median(run["bytes"] for run in results["login"])
    for name, runs in results.items():
        fcp = statistics.median(run["fcp"] for run in runs)
        worst = max(run["fcp"] for run in runs)
        size = statistics.median(run["bytes"] for run in runs)
        requests = statistics.median(run["requests"] for run in runs)
        verdict = "met" if fcp <= GOAL_FCP_MS and size <= GOAL_BYTES else "NOT met"
        print(
            f"{name:<10} {fcp:>8.0f} {worst:>8.0f} {size / 1000:>8.1f} {requests:>8.0f} "
            f"{fcp / base_fcp:>11.2f} {size / base_bytes:>10.2f}  {verdict}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="fast3g")
    parser.add_argument("--cpu", type=float, default=4.0, help="CPU slowdown (Lighthouse: 4)")
    parser.add_argument("--database", default="bench_phone_weight")
    parser.add_argument("--port", type=int, default=8767)
    arguments = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    household_id = prepare(arguments.database, arguments.households)
    static_root = Path(tempfile.mkdtemp(prefix="phone-weight-static-"))
    try:
        collect_static(static_root)
        os.environ["BENCH_STATIC_ROOT"] = str(static_root)
        # gunicorn.conf.py logs every request; the figures are the bench's output.
        os.environ["GUNICORN_CMD_ARGS"] = "--access-logfile /dev/null"
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        with loadgen.gunicorn(arguments.database, arguments.port) as base:
            results = measure(
                base,
                household_id,
                runs=arguments.runs,
                profile=arguments.profile,
                cpu=arguments.cpu,
            )
        report(results, profile=arguments.profile, cpu=arguments.cpu)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)


if __name__ == "__main__":
    main()
