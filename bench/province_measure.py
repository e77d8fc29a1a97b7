"""The measuring half of bench/province.py: the province rates job against the hand-written
query, and the pages against plain Django views, on the generated province (see its docstring).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import loadgen
from bench import rates as rates_bench

YEAR = rates_bench.YEAR
PROVINCE_CODE = "520000000000"
SURNAMES = ("杨", "吴", "龙", "潘", "张", "王")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def _statements(function: Callable[[], Any]) -> tuple[float, list[tuple[float, str, Any]]]:
    """Run `function` once, timing every statement it sends (with its parameters)."""
    from django.db import connection

    captured: list[tuple[float, str, Any]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append((time.perf_counter() - started, sql, params))

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        function()
    return time.perf_counter() - started, captured


def _explain(sql: str, params: Any, settings: bool = False) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, in a transaction rolled back; with
    `settings`, under the rates job's session settings."""
    from django.db import connection, transaction

    from rounds import figures

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if settings:
                figures.aggregate_settings(cursor)
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
    except Exception as error:  # a statement that cannot be explained alone
        print(f"      (not explainable alone: {error.__class__.__name__})")
        return
    for line in plan:
        print(f"      | {line}")


def rates(args: argparse.Namespace) -> None:
    """The province rates job (chord: county jobs, then the roll-up) with `--workers` worker
    processes against the hand-written query grouped by county; then the slowest statements of
    the largest county's job, explained."""
    from django.db import connection, transaction

    from households.models import Household, Member
    from povertyapp.models import Job, Region
    from rounds import rates as rates_job
    from rounds import rollup
    from rounds.models import AdjustmentRound, RateSnapshot, RollupSnapshot

    with connection.cursor() as cursor:
        # Earlier runs left replaced snapshot and job rows behind (autovacuum's work between
        # two nights), so each run starts from the same state.
        cursor.execute("VACUUM ANALYZE povertyapp_ratesnapshot, povertyapp_job")
    province = Region.objects.get(code=PROVINCE_CODE)
    rounds_ = list(
        AdjustmentRound.objects.filter(county__path__startswith=province.path, year=YEAR)
        .select_related("county")
        .order_by("county__code")
    )
    households = Household.objects.count()
    persons = Member.objects.count()
    print(
        f"rates: {len(rounds_)} counties, {households} households, {persons} persons; "
        f"load average {_load()}",
        flush=True,
    )
    # What the nightly member_completeness jobs have done before the nightly rates.
    rates_bench.keep_member_sums([round_.county for round_ in rounds_])
    raw_seconds, raw_default, raw_tuned, rows = rates_bench._baseline(
        lambda tuned: rates_bench._hand_written(
            [round_.pk for round_ in rounds_], province.path, by_county=True, tuned=tuned
        ),
        2,
    )
    print(f"  hand-written query {raw_seconds:.3f} s; load average {_load()}", flush=True)
    # The worker runs the production settings (this process has the bench's URLconf).
    os.environ["DJANGO_SETTINGS_MODULE"] = "povertyapp.settings"
    worker = rates_bench._worker(args.workers, args.database)
    time.sleep(8)
    try:
        started = time.perf_counter()
        with transaction.atomic():
            created, rollup_job = rollup.province_rates_enqueue(
                user=None, region=province, year=YEAR, rounds=rounds_
            )
        every = [job.pk for job in created] + [rollup_job.pk]
        while Job.objects.filter(pk__in=every, status__in=["queued", "running"]).exists():
            time.sleep(0.2)
        group_seconds = time.perf_counter() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=120)
    load = _load()
    rollup_job.refresh_from_db()
    assert rollup_job.status == "succeeded", rollup_job.error
    county_jobs = list(Job.objects.filter(pk__in=[job.pk for job in created]))
    failed = [job.pk for job in county_jobs if job.status != "succeeded"]
    assert not failed, failed
    by_code = {row[0]: tuple(int(value) for value in row[1:]) for row in rows}
    for round_ in rounds_:
        stored = rates_bench._stored(round_, round_.county)
        assert by_code[round_.county.code] == stored, (round_.county.code, stored)
    top = RollupSnapshot.objects.get(region=province, year=YEAR)
    county_rows = list(
        RateSnapshot.objects.filter(
            round__in=rounds_, region_id__in=[round_.county_id for round_ in rounds_]
        )
    )
    for name in rollup.SUMMED:
        assert getattr(top, name) == sum(getattr(row, name) for row in county_rows), name
    fan_out = (
        max(job.finished_at for job in county_jobs) - min(job.started_at for job in county_jobs)
    ).total_seconds()
    rollup_run = (rollup_job.finished_at - rollup_job.started_at).total_seconds()
    print(
        f"  province rates job (Celery chord, {args.workers} worker processes) "
        f"{group_seconds:8.3f} s, dispatch → roll-up ended ({len(county_jobs)} county jobs, "
        f"0 failed)"
    )
    print(
        f"  hand-written SQL (grouped by county) {raw_seconds:8.3f} s (best of 2; server "
        f"defaults {raw_default:.3f} s, job's settings {raw_tuned:.3f} s); every county's "
        f"stored figures equal its row, the province's the sums: checked"
    )
    print(f"  ratio {group_seconds / raw_seconds:.2f} × (goal ≤ 1.5)")
    print(
        f"  fan-out {fan_out:.3f} s; roll-up step {rollup_run:.3f} s "
        f"(ratio {rollup_run / fan_out:.3f} ×, goal ≤ 0.2)"
    )
    rates_bench._fan_out_breakdown(county_jobs, rollup_job, workers=args.workers)
    print(f"  load average {load}", flush=True)

    # The largest county's job in-process: where its time goes, the slowest statements
    # explained (what the database needs at this size).
    largest = max(rounds_, key=lambda round_: round_.baseline.count())
    seconds, captured = _statements(lambda: rates_job.compute_rates(round=largest))
    print(
        f"  largest county {largest.county.code}: compute_rates in-process {seconds:.3f} s, "
        f"{len(captured)} statements, {sum(item[0] for item in captured):.3f} s in the "
        f"database; the slowest:"
    )
    for elapsed, sql, _params in sorted(captured, key=lambda item: -item[0])[:5]:
        print(f"    {elapsed * 1000:8.1f} ms  {' '.join(sql.split())[:140]}")
    elapsed, sql, params = max(captured, key=lambda item: item[0])
    print("    EXPLAIN (ANALYZE, BUFFERS) of the slowest, under the job's settings:")
    _explain(sql, params, settings=True)
    rates_bench.next_night([round_.county for round_ in rounds_])
    connection.close()


def _run(sessions: list[Any], urls: list[list[Any]], total: int) -> dict[str, float]:
    """bench/loadgen.run with a URL list per client (a search token is its session's own)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, total // len(sessions))

    def client(index: int) -> None:
        nonlocal errors
        rng = random.Random(index)
        mine, bad = [], 0
        for _ in range(per_client):
            started = time.perf_counter()
            response = loadgen.send(sessions[index], rng.choice(urls[index]))
            mine.append(time.perf_counter() - started)
            bad += response.status_code != 200
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


def _search_urls(base: str, session: Any, searches: int) -> list[str]:
    """The application's search pages as the session reaches them: the form's terms moved
    into a token of the session's own (povertyapp.search_terms), then the page."""
    found = []
    for name in SURNAMES[:searches]:
        response = session.get(f"{base}/households/?q={name}&status=poor", timeout=120)
        assert response.status_code == 200 and "qt=" in response.url, response.url
        found.append(response.url)
    return found


def _profile(base_urls: dict[str, str], username: str) -> None:
    """One request of each page in-process (Django's test client, the whole middleware stack)
    after a warm-up: wall time, statements, the slowest statement explained when it is slow."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post("/accounts/login/", {"username": username, "password": loadgen.PASSWORD})
    assert response.status_code == 302, response.status_code
    for name, url in base_urls.items():
        assert client.get(url, follow=True).status_code == 200, url
        best, best_captured = float("inf"), []
        for _ in range(5):
            seconds, captured = _statements(lambda url=url: client.get(url, follow=True))
            if seconds < best:
                best, best_captured = seconds, captured
        database = sum(item[0] for item in best_captured)
        print(
            f"  {name:<22} in-process best of 5: {best * 1000:7.1f} ms, "
            f"{len(best_captured)} statements, {database * 1000:.1f} ms in the database"
        )
        elapsed, sql, params = max(best_captured, key=lambda item: item[0])
        print(f"      slowest {elapsed * 1000:.1f} ms  {' '.join(sql.split())[:150]}")
        if elapsed > 0.02:
            _explain(sql, params)


LIST_PAGES = {
    "county01": {
        "county list p.1": "/households/?page=1",
        "county list p.50": "/households/?page=50",
        "county search 杨": "/households/?q=杨&status=poor",
        "county plain list p.1": "/bench/plain/households/?page=1",
        "county plain list p.50": "/bench/plain/households/?page=50",
        "county plain search 杨": "/bench/plain/households/?q=杨&status=poor",
    },
    "provaudit01": {
        "province list p.50": "/households/?page=50",
        "province plain list p.50": "/bench/plain/households/?page=50",
    },
}


def lists(args: argparse.Namespace) -> None:
    """`--lists-only`: the lists the county key serves (issue 19), in-process, each against its
    plain view (which filters the village path, as the application did before the key): the
    county office's list at pages 1 and 50 and its surname search, and the province-wide list
    at page 50. The load average is printed before and after."""
    from django.db import connection

    print(f"lists in-process on {args.database}, load average {_load()}", flush=True)
    for username, urls in LIST_PAGES.items():
        _profile(urls, username)
    print(f"load average {_load()}", flush=True)
    connection.close()


def pages(args: argparse.Namespace) -> None:
    """The pages at `--clients` users (gunicorn, 2 workers), each against its plain view."""
    from django.db import connection

    from households.models import Household
    from povertyapp.models import User

    county = User.objects.get(username="county01").region
    rng = random.Random(2020)
    county_ids = list(
        Household.objects.filter(village__path__startswith=county.path)
        .order_by("?")
        .values_list("pk", flat=True)[:1000]
    )
    top = Household.objects.order_by("-pk").values_list("pk", flat=True).first()
    province_ids = sorted({rng.randint(1, top) for _ in range(1000)})
    province_ids = list(Household.objects.filter(pk__in=province_ids).values_list("pk", flat=True))
    _with_bank_accounts([*county_ids, *province_ids])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE povertyapp_ratesnapshot, rounds_rollupsnapshot")
    in_county = Household.objects.filter(village__path__startswith=county.path).count()
    # Pages 1–50 (fewer when the scope has fewer: the plain view answers 404 past the end).
    last_page = max(1, min(50, in_county // 20))
    print(
        f"pages: the county office of {county.code} ({county.name}, {in_county} households) "
        f"and a province-wide 评估/审计员 ({Household.objects.count()} households); the province "
        f"office's dashboard",
        flush=True,
    )
    dashboard = f"/dashboards/{PROVINCE_CODE}/"
    if not args.skip_profile:
        _profile_all(last_page, county_ids, province_ids, dashboard)
    if not getattr(args, "skip_load", False):
        _load_test(args, last_page, county_ids, province_ids, dashboard)


def _with_bank_accounts(ids: list[int]) -> None:
    """Give the households the pages open a bank account, as a registered household has (for
    its subsidies): the generator's direct SQL cannot encrypt one. Their page then shows it in
    full to the county office and writes the access-log row of that read, as in a county."""
    from households.models import Household

    households = [
        household
        for household in Household.objects.filter(pk__in=ids)
        if not household.bank_account
    ]
    for household in households:
        household.bank_account = f"62284804{household.pk:011d}"
    Household.objects.bulk_update(households, ["bank_account"], batch_size=500)


def _profile_all(
    last_page: int, county_ids: list[int], province_ids: list[int], dashboard: str
) -> None:
    from django.db import connection

    print("per request, in-process (the slowest statement explained when over 20 ms):")
    for username in ("county01", "provaudit01"):
        ids = county_ids if username.startswith("county") else province_ids
        _profile(
            {
                f"{username} list p.{last_page}": f"/households/?page={last_page}",
                f"{username} search": "/households/?q=杨&status=poor",
                f"{username} household": f"/households/{ids[0]}/",
                f"{username} plain list": f"/bench/plain/households/?page={last_page}",
                f"{username} plain search": "/bench/plain/households/?q=杨&status=poor",
                f"{username} plain household": f"/bench/plain/households/{ids[0]}/",
            },
            username,
        )
    _profile(
        {
            "province dashboard": dashboard,
            "plain dashboard": f"/bench/plain/dashboard/{PROVINCE_CODE}/",
        },
        "province01",
    )
    connection.close()


def _load_test(
    args: argparse.Namespace,
    last_page: int,
    county_ids: list[int],
    province_ids: list[int],
    dashboard: str,
) -> None:
    from django.db import connection

    connection.close()
    with loadgen.gunicorn(args.database, args.port) as base:
        results: dict[str, dict[str, float]] = {}
        logins = {
            prefix: [loadgen.login(base, f"{prefix}{n:02d}") for n in range(1, args.clients + 1)]
            for prefix in ("county", "provaudit", "province")
        }
        print(
            f"gunicorn 2 workers; {args.clients} users (one account each); {args.requests} "
            f"requests per scenario after 2 per user to warm up; load average before {_load()}",
            flush=True,
        )
        bare = [[f"{base}{loadgen.BARE}"]] * args.clients
        scenarios: list[tuple[str, list[Any], list[list[str]]]] = [("bare", logins["county"], bare)]
        for who, prefix, ids in (
            ("county", "county", county_ids),
            ("province", "provaudit", province_ids),
        ):
            sessions = logins[prefix]
            pages_ = [f"?page={n}" for n in range(1, last_page + 1)]
            scenarios += [
                (
                    f"{who} list",
                    sessions,
                    [[f"{base}/households/{page}" for page in pages_]] * len(sessions),
                ),
                (
                    f"{who} list plain",
                    sessions,
                    [[f"{base}/bench/plain/households/{page}" for page in pages_]] * len(sessions),
                ),
                (
                    f"{who} search",
                    sessions,
                    [
                        [
                            loadgen.Post(
                                f"{base}/households/",
                                {"search_terms": "q", "q": name, "status": "poor"},
                            )
                            for name in SURNAMES[: args.searches]
                        ]
                    ]
                    * len(sessions),
                ),
                (
                    f"{who} search page",
                    sessions,
                    [_search_urls(base, session, args.searches) for session in sessions],
                ),
                (
                    f"{who} search plain",
                    sessions,
                    [
                        [
                            f"{base}/bench/plain/households/?q={n}&status=poor"
                            for n in SURNAMES[: args.searches]
                        ]
                    ]
                    * len(sessions),
                ),
                (
                    f"{who} household",
                    sessions,
                    [[f"{base}/households/{pk}/" for pk in ids]] * len(sessions),
                ),
                (
                    f"{who} household plain",
                    sessions,
                    [[f"{base}/bench/plain/households/{pk}/" for pk in ids]] * len(sessions),
                ),
            ]
        scenarios += [
            ("dashboard", logins["province"], [[f"{base}{dashboard}"]] * args.clients),
            (
                "dashboard plain",
                logins["province"],
                [[f"{base}/bench/plain/dashboard/{PROVINCE_CODE}/"]] * args.clients,
            ),
        ]
        skipped = {name.strip() for name in getattr(args, "skip_scenarios", "").split(",")}
        for name, sessions, urls in scenarios:
            if name in skipped:
                print(f"  {name:<24} left out (--skip-scenarios)", flush=True)
                continue
            _run(sessions, urls, args.clients * 2)  # warm up
            results[name] = _run(sessions, urls, args.requests)
            figures = results[name]
            print(
                f"  {name:<24} {figures['rps']:7.1f} req/s  p50 {figures['p50']:7.1f} ms  "
                f"p99 {figures['p99']:7.1f} ms  errors {figures['errors']:.0f}  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    print(
        f"{'scenario':<24} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'× plain req/s':>13} {'× plain p99':>11}  p99 ≤ 250 ms, matches the plain view"
    )
    for name, figures in results.items():
        # The search's page again is held to the same plain search as the search.
        plain = results.get(f"{name} plain") or results.get(f"{name.removesuffix(' page')} plain")
        if plain is None:
            print(
                f"{name:<24} {figures['rps']:7.1f} {figures['p50']:8.1f} {figures['p99']:8.1f} "
                f"{figures['errors']:6.0f}"
            )
            continue
        met = (
            figures["p99"] <= 250
            and figures["rps"] >= 0.95 * plain["rps"]
            and not figures["errors"]
        )
        print(
            f"{name:<24} {figures['rps']:7.1f} {figures['p50']:8.1f} {figures['p99']:8.1f} "
            f"{figures['errors']:6.0f} {figures['rps'] / plain['rps']:13.2f} "
            f"{figures['p99'] / plain['p99']:11.2f}  {'met' if met else 'NOT met'}"
        )
    print(f"load average {_load()}")
