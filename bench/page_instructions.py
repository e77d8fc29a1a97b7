"""Instructions per request of pages, counted by valgrind's callgrind: a page's own cost that a
busy machine does not move.

    .venv/bin/python bench/page_instructions.py [--database bench_pages] [--user county]
                                                [--requests 20] [--settings MODULE]
                                                [--jobs 2] URL [URL ...]

bench/page_cost.py times requests in-process, and bench/pages.py under load; on these shared
machines both move by 10-20 % between runs of the same code, more than most changes to a page
save. callgrind counts the instructions the Python process executes (not the database
server's), nearly the same for the same code and data whatever else the machine is doing
(about 1.5 % apart between runs: the access log's chain, the session): what a change to a page
costs or saves, to a few percent.

Each URL is measured in a process of its own under callgrind: Django set up on the bench
database (seeded by bench/pages.py or bench/province.py; not migrated here), the user signed
in, every URL requested 5 times to warm the caches, then the URL `--requests` times more. A
run that requests none of them more gives the fixed part, subtracted. The bare view is always
measured too, as the baseline, and each page's ratio to it printed (with
bench.province_settings the plain Django views, /bench/plain/..., are URLs to give too). Every
request must answer 200, or the run stops. A URL written `POST:<path>?<data>` is a form's POST
as htmx sends it (a search form: answered 200 with the page). PYTHONHASHSEED is fixed. Each
request runs about 50 times slower under callgrind, so keep `--requests` small: five URLs at 20
requests took 11.5 minutes with `--jobs 2` while a second run and a test suite shared the two
cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 5
# `POST:/households/?search_terms=q&q=杨&status=poor`: the query string is posted as the form's
# data, with htmx's header (the test client checks no CSRF token: a search form's POST less
# the token's check).
POST = "POST:"


def child(args: argparse.Namespace) -> int:
    """Inside callgrind: warm every URL, then request `--measure` `--requests` times."""
    os.environ["DATABASE_URL"] = f"{loadgen.SERVER}/{args.database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    os.environ["CONN_MAX_AGE"] = "60"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.http import QueryDict
    from django.test import Client

    from povertyapp.models import User

    client = Client()
    client.force_login(
        User.objects.get(username=args.user), backend="povertyapp.backends.ModelBackendWithRegion"
    )

    def get(url: str) -> None:
        if url.startswith(POST):  # a form's POST as htmx sends it (a search form)
            path, _, body = url.removeprefix(POST).partition("?")
            response = client.post(path, QueryDict(body), headers={"HX-Request": "true"})
        else:
            response = client.get(url)
        if response.status_code != 200:  # a redirect or an error page is not the page's cost
            raise SystemExit(f"{url}: {response.status_code}")

    for url in args.urls:
        for _ in range(WARM_UP):
            get(url)
    for _ in range(args.requests if args.measure else 0):
        get(args.measure)
    return 0


def count(args: argparse.Namespace, measure: str) -> int:
    """The instructions callgrind collected in one child run."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        "--database",
        args.database,
        "--user",
        args.user,
        "--settings",
        args.settings,
        "--requests",
        str(args.requests),
        "--measure",
        measure,
        *args.urls,
    ]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        cwd=ROOT,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run for {measure or 'the fixed part'} failed:\n{run.stderr}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--database", default="bench_pages")
    parser.add_argument("--user", default="county")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--settings", default=loadgen.SETTINGS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if loadgen.BARE not in args.urls:
        args.urls = [loadgen.BARE, *args.urls]
    if not loadgen.database_exists(args.database):
        raise SystemExit(f"no database {args.database}: seed it with bench/pages.py first")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        totals = dict(
            zip(
                ["", *args.urls],
                pool.map(lambda measure: count(args, measure), ["", *args.urls]),
                strict=True,
            )
        )
    per_request = {url: (totals[url] - totals[""]) / args.requests for url in args.urls}
    bare = per_request[loadgen.BARE]
    print(f"{'url':<50} {'instructions':>14} {'× bare':>8}")
    for url in args.urls:
        print(f"{url:<50} {per_request[url]:>14,.0f} {per_request[url] / bare:>8.2f}")
    print(
        f"per request, {args.requests} requests after {WARM_UP} of each URL; "
        f"{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f} "
        "(instruction counts do not depend on it)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
