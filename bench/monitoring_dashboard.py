"""Benchmark: the monitoring dashboard on a registry of 1,000,000 persons (issue 15).

    .venv/bin/python bench/monitoring_dashboard.py [--persons 1000000] [--clients 16]
        [--requests 400] [--database bench_monitoring_dash] [--port 8767] [--keep]

A scratch PostgreSQL database (created, and dropped at the end unless --keep): the demo county
seeded small (`seed_demo --households 200`: regions, users, rate snapshots), then the registry
grown in the database itself to `--persons` (3 persons a household): households and members
cloned from a demo row by `INSERT … SELECT … FROM generate_series` (server-side, the fastest
bulk path there is, faster than COPY from the client: no row crosses the wire), spread evenly
over the county's villages, with ~5 % of the households monitoring objects (70 % monitored,
10 % being identified, 20 % eliminated; 1–2 risks each) and as many clues (every channel and
state, a share overdue).

Measured in one run against the same gunicorn (2 sync workers, `bench.pages_settings`):
  bare         /bench/bare/                         a bare Django view: the baseline
  figures      /dashboards/<county>/                the registry's figures dashboard
  county       /monitoring/dashboard/<county>/      the monitoring dashboard of the county
  township     /monitoring/dashboard/<township>/    a random township
  village      /monitoring/dashboard/<village>/     a random village
  county+saves  the county's page again while a thread writes (moves the figures' generation
               on) every --save-every seconds, as cadres' saves do all day: each save makes
               the cached figures stale, one request sends their recomputation to the Celery
               worker the bench starts, and the pages meanwhile show the figures it replaces
with 16 clients sending back to back (p50/p99 per scenario, × bare). The figures are cached
per region and day in Redis (CACHE_URL, db 13 of --redis, emptied first; the broker is db 14),
shared by the workers as in production. The uncached cost is measured in-process:
`figures.compute` of the county, a township and a village once each, and the county's by 16
threads at once (p50/p99), each on its own connection. Goal (issue 15): p99 ≤ 250 ms at 16
concurrent users.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen

PERSONS_PER_HOUSEHOLD = 3


def _columns(cursor, table: str) -> list[str]:
    """The table's insertable columns (no id, no generated column)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name <> 'id' AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _clone(cursor, table: str, template: int, source: str, overrides: dict[str, str]) -> int:
    """INSERT into `table` one row per row of `source` (a FROM clause naming `g`), each a copy
    of row `template` with the `overrides` (column → SQL expression)."""
    columns = _columns(cursor, table)
    values = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {values} FROM {table} t, {source} WHERE t.id = {int(template)}"
    )
    return cursor.rowcount


def grow(persons: int) -> dict[str, int]:
    """Grow the seeded registry to `persons`, with monitoring objects and clues."""
    from django.db import connection, transaction
    from django.utils import timezone

    from households.models import Household, Member
    from monitoring.models import Clue, MonitoringObject, ObjectRisk
    from povertyapp.models import Region

    households = max(1, persons // PERSONS_PER_HOUSEHOLD - Household.objects.count())
    villages = list(Region.objects.filter(level=Region.Level.VILLAGE).values_list("pk", flat=True))
    village_array = "ARRAY[" + ",".join(str(pk) for pk in villages) + "]"
    template = Household.objects.filter(members__relation="户主").order_by("pk").first()
    members = list(template.members.order_by("pk").values_list("pk", flat=True))[:3]
    start = Household.objects.order_by("-pk").values_list("pk", flat=True).first()
    today = timezone.localdate()
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        counts["households"] = _clone(
            cursor,
            "households_household",
            template.pk,
            f"generate_series(1, {households}) g",
            {
                "number": "'B' || lpad(g::text, 14, '0')",
                "village_id": f"({village_array})[1 + g % {len(villages)}]",
                "group_id": "NULL",
            },
        )
        print(f"  {counts['households']} households in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        counts["members"] = 0
        for index, member in enumerate(members):
            counts["members"] += _clone(
                cursor,
                "households_member",
                member,
                f"(SELECT id AS g FROM households_household WHERE id > {start}) g",
                {
                    "household_id": "g.g",
                    "id_number_index": f"md5('bench-{index}-' || g.g::text)",
                },
            )
        print(f"  {counts['members']} members in {time.perf_counter() - started:.0f} s")
        # One template monitoring object, risk and clue made by the ORM (every column filled
        # as the application fills it), then cloned by SQL and deleted.
        village = Region.objects.get(pk=villages[0])
        household = Household.objects.filter(pk__gt=start).order_by("pk").first()
        clue = Clue.objects.create(
            channel="department",
            department="medical_insurance",
            region=village,
            household=household,
            name="bench",
            id_number="522622198005170035",
            risk_type="illness",
            received_on=today,
            accepted_on=today,
            verify_due=today,
            decide_due=today,
        )
        started = time.perf_counter()
        # Every 20th new household (5 %); `g` numbers them 1, 2, 3 … so that the spreads below
        # (`g % 10` and the like) reach every value.
        picked = (
            f"(SELECT id AS h, id / 20 AS g FROM households_household WHERE id > {start} "
            "AND id % 20 = 0)"
        )
        types = "(ARRAY['unstable','marginal','sudden'])[1 + g.g % 3]"
        state = (
            "CASE WHEN g.g % 10 < 7 THEN 'monitored' WHEN g.g % 10 = 7 THEN 'identifying' "
            "ELSE 'eliminated' END"
        )
        day = f"(DATE '{today}' - (g.g % 700)::int)"
        object_template = MonitoringObject.objects.create(
            household=household, object_type="marginal", state="not_included", clue_date=today
        )
        counts["objects"] = _clone(
            cursor,
            "monitoring_monitoringobject",
            object_template.pk,
            f"{picked} g",
            {
                "household_id": "g.h",
                "object_type": types,
                "state": state,
                "clue_date": day,
                "identified_on": f"CASE WHEN g.g % 10 = 7 THEN NULL ELSE {day} END",
                "elimination_way": (
                    "CASE WHEN g.g % 10 >= 8 THEN (ARRAY['assisted','natural'])[1 + g.g % 2] "
                    "ELSE '' END"
                ),
                "eliminated_on": (
                    f"CASE WHEN g.g % 10 >= 8 THEN DATE '{today}' - (g.g % 300)::int ELSE NULL END"
                ),
                "green_channel": "(g.g % 17 = 0)",
            },
        )
        object_template.delete()
        risk_types = (
            "(ARRAY['illness','education','disability','disaster','accident','industry',"
            "'employment','labour','housing','other'])"
        )
        # The cloned objects only: the demo's own have their risks already.
        objects = (
            "(SELECT id AS g, household_id FROM monitoring_monitoringobject "
            f"WHERE household_id > {start}) g"
        )
        # The risk template, on the first cloned object ("other": no clone below gives it).
        first = MonitoringObject.objects.filter(household_id__gt=start).order_by("pk").first()
        risk = ObjectRisk.objects.create(monitoring_object=first, risk_type="other")
        counts["risks"] = _clone(
            cursor,
            "monitoring_objectrisk",
            risk.pk,
            f"{objects}",
            {"monitoring_object_id": "g.g", "risk_type": f"{risk_types}[1 + g.g % 9]"},
        )
        counts["risks"] += _clone(
            cursor,
            "monitoring_objectrisk",
            risk.pk,
            f"(SELECT id AS g FROM monitoring_monitoringobject WHERE id % 3 = 0 "
            f"AND household_id > {start} AND id <> {first.pk}) g",
            {"monitoring_object_id": "g.g", "resolved_on": "NULL"},
        )
        risk.delete()
        channel = "(ARRAY['self_declaration','cadre_check','department'])[1 + g.g % 3]"
        departments = (
            "(ARRAY['medical_insurance','education','civil_affairs','emergency','housing'])"
        )
        clue_state = (
            "(ARRAY['pending','verified','identifying','included','not_included','duplicate',"
            "'unregistered','included','not_included','included'])[1 + g.g % 10]"
        )
        received = f"(DATE '{today}' - (g.g % 400)::int)"
        counts["clues"] = _clone(
            cursor,
            "monitoring_clue",
            clue.pk,
            f"(SELECT id AS h, id / 20 AS g, village_id FROM households_household "
            f"WHERE id > {start} AND id % 20 = 1) g",
            {
                "channel": channel,
                "department": (
                    f"CASE WHEN g.g % 3 = 2 THEN {departments}[1 + g.g % 5] ELSE '' END"
                ),
                "region_id": "g.village_id",
                "household_id": "g.h",
                "member_id": "NULL",
                "state": clue_state,
                "received_on": received,
                "accepted_on": received,
                "verify_due": f"{received} + 2",
                "decide_due": f"{received} + 15",
                "decided_on": (
                    f"CASE WHEN g.g % 10 IN (3, 4, 7, 8, 9) THEN {received} + (g.g % 20)::int "
                    "ELSE NULL END"
                ),
            },
        )
        clue.delete()
        print(
            f"  {counts['objects']} objects, {counts['risks']} risks, {counts['clues']} clues "
            f"in {time.perf_counter() - started:.0f} s"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts["persons"] = Member.objects.filter(is_active=True).count()
    return counts


def prepare(database: str, persons: int) -> dict[str, Any]:
    loadgen.setup_django(database)
    from django.core.management import call_command
    from django.db import connection

    from households.models import Household, Member
    from povertyapp.models import Region

    if not Household.objects.exists():
        started = time.perf_counter()
        call_command("seed_demo", households=200, seed=2020, verbosity=0)
        print(f"seeded the demo county in {time.perf_counter() - started:.0f} s")
    if Household.objects.count() < 1000:
        started = time.perf_counter()
        counts = grow(persons)
        print(f"grew the registry in {time.perf_counter() - started:.0f} s: {counts}")
    from povertyapp.demo import COUNTY

    # The demo county (the demo province's other counties are small neighbours, issue 16).
    county = Region.objects.get(code=COUNTY[0])
    under = Region.objects.filter(path__startswith=county.path)
    facts = {
        "county": county.code,
        "townships": list(under.filter(level=Region.Level.TOWNSHIP).values_list("code", flat=True)),
        "villages": list(under.filter(level=Region.Level.VILLAGE).values_list("code", flat=True)),
        "persons": Member.objects.filter(
            is_active=True, household__village__path__startswith=county.path
        ).count(),
    }
    connection.close()
    return facts


def uncached(facts: dict[str, Any], clients: int) -> None:
    """`figures.compute` without the cache: each region once, then the county by `clients`
    threads at once."""
    from django.db import connection
    from django.utils import timezone

    from monitoring import figures
    from povertyapp.models import Region

    today = timezone.localdate()
    for label, code in (
        ("county", facts["county"]),
        ("township", facts["townships"][0]),
        ("village", facts["villages"][0]),
    ):
        region = Region.objects.get(code=code)
        figures.compute(region, today=today)  # warm the database's buffers
        started = time.perf_counter()
        figures.compute(region, today=today)
        print(
            f"uncached figures.compute {label:<9} {(time.perf_counter() - started) * 1000:8.1f} ms"
        )
    county = Region.objects.get(code=facts["county"])
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_index: int) -> None:
        started = time.perf_counter()
        figures.compute(county, today=today)
        elapsed = time.perf_counter() - started
        connection.close()
        with lock:
            latencies.append(elapsed * 1000)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(clients * 2)))
    latencies.sort()
    print(
        f"uncached county × {clients} threads: p50 {statistics.median(latencies):.0f} ms, "
        f"max {latencies[-1]:.0f} ms"
    )


@contextlib.contextmanager
def worker(database: str) -> Iterator[None]:
    """A Celery worker (one process) on the bench's database and broker: the dashboard sends
    its stale figures there to be recomputed."""
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=loadgen.SETTINGS,
        DATABASE_URL=f"{loadgen.SERVER}/{database}",
    )
    process = subprocess.Popen(
        [
            str(loadgen.ROOT / ".venv/bin/celery"),
            "-A",
            "povertyapp",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
        ],
        cwd=loadgen.ROOT,
        env=environment,
        start_new_session=True,
    )
    try:
        time.sleep(5)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def saving(every: float, stop: threading.Event) -> None:
    """Cadres saving: a counted row written every `every` seconds (the generation moves on,
    as every save of a household, member, object or clue moves it)."""
    from monitoring import figures

    while not stop.wait(every):
        figures.invalidate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--database", default="bench_monitoring_dash")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379",
        help="the cache (db 13) and broker (db 14), shared by the workers as in production",
    )
    parser.add_argument("--save-every", type=float, default=1.0, help="seconds between saves")
    args = parser.parse_args()
    # The cache the workers share, as in production (CACHE_URL), emptied first.
    os.environ["CACHE_URL"] = f"{args.redis}/13"
    broker = f"{args.redis}/14"
    import redis

    for url in (os.environ["CACHE_URL"], broker):
        redis.Redis.from_url(url).flushdb()
    try:
        facts = prepare(args.database, args.persons)
        uncached(facts, args.clients)
        os.environ["CELERY_BROKER_URL"] = broker  # for gunicorn and the worker
        with worker(args.database), loadgen.gunicorn(args.database, args.port) as base:
            county = [loadgen.login(base, "county") for _ in range(args.clients)]
            page = f"{base}/monitoring/dashboard/"
            scenarios = [
                ("bare", county, [f"{base}{loadgen.BARE}"]),
                ("figures", county, [f"{base}/dashboards/{facts['county']}/"]),
                ("county", county, [f"{page}{facts['county']}/"]),
                ("township", county, [f"{page}{code}/" for code in facts["townships"]]),
                ("village", county, [f"{page}{code}/" for code in facts["villages"]]),
            ]
            print(
                f"{facts['persons']} persons, {len(facts['townships'])} townships, "
                f"{len(facts['villages'])} villages; gunicorn 2 workers; "
                f"{args.clients} clients; {args.requests} requests per scenario"
            )
            # Each region's first page of the day computes its figures in the request (once a
            # day; timed above, uncached): open every page once before measuring the day.
            for _name, _sessions, urls in scenarios:
                for url in urls:
                    county[0].get(url, timeout=120)
            results = loadgen.measure(scenarios, clients=args.clients, requests=args.requests)
            # The county's page again while cadres save: the figures go stale every
            # --save-every seconds and are recomputed by the worker meanwhile.
            stop = threading.Event()
            writer = threading.Thread(target=saving, args=(args.save_every, stop), daemon=True)
            writer.start()
            try:
                name = f"county+saves/{args.save_every:g}s"
                results.update(
                    loadgen.measure(
                        [(name, county, [f"{page}{facts['county']}/"])],
                        clients=args.clients,
                        requests=args.requests,
                    )
                )
            finally:
                stop.set()
                writer.join()
        loadgen.report(results, goal_p99_ms=250)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            loadgen.admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped {args.database}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
