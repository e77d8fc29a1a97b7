"""Benchmark: the rates job for a county (100k households) and a province (30 counties) on
PostgreSQL, each against one hand-written SQL query computing the same figures, same run.

    .venv/bin/python bench/rates.py [--households 100000] [--counties 30] [--workers 2]
                                    [--database bench_rates] [--keep] [--skip-province]
                                    [--generate-only] [--reuse] [--skip-dashboard]
                                    [--clients 16] [--requests 400] [--port 8767]
                                    [--dashboard-only [--repeat 3]]

Creates its own database (dropped at the end unless --keep; --generate-only generates, keeps it
and stops, to be run outside the bench lock; --reuse measures on a kept database of the same
sizes, generating it if missing), migrates it, and generates the
registry with direct SQL (INSERT ... SELECT over generate_series: the demo generator needs
minutes per 100k households in Python, far too slow for 3M): per county 10 townships × 30
villages, households with the demo's status mix (≈24 % 未脱贫, 3 % 返贫, 54 % 已脱贫, 4 % 剔除,
15 % 非建档立卡), 3.7 persons per household on average, each village's 户籍农业人口, then one
round per county opened with `rounds.services.baseline_freeze` (the INSERT ... SELECT the
application uses) and the round's events (剔除, 返贫, 新识别纳入, 标注脱贫 for ≈ 1–20 % of the
eligible households).

  county    `rounds.rates.compute_rates` for county 1 (every region: baseline counts, lists,
            state after the round, cause breakdown, 信息录入率, rollup, snapshot writes), best
            of 3, against the hand-written person-level query over members ⋈ households ⋈
            the round's events (best of 3, the faster of the server's defaults and the job's
            session settings); the job's stored county numerators and denominators must equal
            the query's. Goal: ≤ 1.5×.
  province  one job per county sent as one Celery group to a worker with --workers processes
            (started here, Redis DB 4, stopped at the end), wall time from dispatch until the
            last job finished, against the hand-written query grouped by county over all
            counties (every county's stored figures must equal its row). Goal: ≤ 1.5×.
            The jobs are sent as the province's rates job (issue 16,
            `rounds.rollup.province_rates_enqueue`): the group is the header of a Celery chord
            whose body rolls the counties' figures up to the city and the province.
  roll-up   the chord's body job's run time against the fan-out's (first county job started →
            last ended), and `rollup_compute` alone (best of 3); the province's numerators and
            denominators must equal the sums of its counties'. Goal: ≤ 0.2×. With the load
            average (the machine must be idle for the figures to mean anything), and a
            breakdown of the fan-out from the job rows (the jobs' own run time and its share of
            the span, creation → dispatch → first start, the gaps between jobs, the wait for
            the roll-up).
  dashboard the province's and its city's dashboard pages under --clients users signed in as a
            province office (gunicorn, 2 workers; `bench/loadgen.py`), against a bare view.
            Goal: p99 ≤ 250 ms at 16 users.

--dashboard-only reuses a generated province (`--generate-only` first; any size, the sizes are
not checked), computes its counties' figures and the roll-up in-process when they are missing,
profiles one request of each page in-process (statements per request and the time of each,
the session and user reads among them), then loads the bare view, the province's and the city's
dashboards `--repeat` times in the same run, printing p50/p95/p99 and the load average of each
round.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402 (needs the project root on sys.path)

SERVER = loadgen.SERVER
_admin = loadgen.admin
_exists = loadgen.database_exists
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/4")
TOWNSHIPS, VILLAGES = 10, 30
YEAR = 2020


def _setup(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
    import django

    django.setup()


def _regions(county_index: int, province, city):
    from povertyapp.models import Region

    code = f"6101{county_index + 1:02d}"
    county = Region.objects.create(
        code=f"{code}000000",
        name=f"基准县{county_index + 1}",
        level="county",
        parent=city,
        path=f"{city.path}{code}000000/",
        is_western=True,
    )
    townships = [
        Region(
            code=f"{code}{100 + t:03d}000",
            name=f"基准镇{t + 1}",
            level="township",
            parent=county,
            path=f"{county.path}{code}{100 + t:03d}000/",
            is_western=True,
        )
        for t in range(TOWNSHIPS)
    ]
    townships = Region.objects.bulk_create(townships)
    villages = [
        Region(
            code=f"{t.code[:9]}{200 + v:03d}",
            name=f"基准村{t.code[6:9]}{v}",
            level="village",
            parent=t,
            path=f"{t.path}{t.code[:9]}{200 + v:03d}/",
            is_western=True,
        )
        for t in townships
        for v in range(VILLAGES)
    ]
    villages = Region.objects.bulk_create(villages)
    return county, [village.pk for village in villages]


def _insert_select(model, overrides: dict[str, str], source: str, params: list) -> int:
    """INSERT INTO model's table every concrete column: the override SQL where given, else the
    field's Django default as a literal (now() for auto_now fields)."""
    from django.db import connection

    columns, expressions, values = [], [], []
    remaining = list(params)
    for field in model._meta.concrete_fields:
        if field.primary_key or field.generated:  # generated: computed by the database
            continue
        columns.append(f'"{field.column}"')
        if field.column in overrides:
            expressions.append(overrides[field.column])
            taken = overrides[field.column].count("%s")
            values.extend(remaining[:taken])
            remaining = remaining[taken:]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        else:
            default = field.get_default()
            if default is None:
                expressions.append("NULL")
            else:
                expressions.append("%s")
                values.append(
                    field.get_db_prep_value(default, connection)
                    if not isinstance(default, (dict, list))
                    else __import__("json").dumps(default)
                )
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"SELECT {', '.join(expressions)} {source}"
    )
    sql = sql.replace(" % ", " %% ")  # modulo, not a placeholder
    with connection.cursor() as cursor:
        cursor.execute(sql, values + remaining)
        return cursor.rowcount


PERSONS = "(1 + ((h.id * 37) % 6) + CASE WHEN h.id % 10 < 2 THEN 1 ELSE 0 END)"
STATUS = (
    "CASE WHEN s < 24 THEN 'poor' WHEN s < 27 THEN 'returned' WHEN s < 81 THEN 'exited' "
    "WHEN s < 85 THEN 'removed' ELSE 'non_registered' END"
)


def _county(index: int, households: int, province, city) -> tuple:
    from django.db import connection

    from households.models import Household, HouseholdEvent, Member
    from povertyapp.models import VillageYear
    from rounds.models import AdjustmentRound
    from rounds.services import baseline_freeze

    county, village_ids = _regions(index, province, city)
    prefix = county.code[:6]
    causes = (
        "(ARRAY['缺技术','因病','自身发展动力不足','缺劳力','因学','因残','缺资金','因灾',"
        "'交通条件落后'])"
    )
    _insert_select(
        Household,
        {
            "number": f"'B{prefix}' || lpad(g::text, 8, '0')",
            "village_id": f"(%s::bigint[])[1 + (g % {len(village_ids)})]",
            "county_id": str(county.pk),  # the county key (households.counties)
            "status": STATUS.replace("s <", "((g * 7919) % 100) <"),
            "exit_year": "CASE WHEN ((g * 7919) % 100) BETWEEN 24 AND 80 THEN 2018 ELSE NULL END",
            "main_cause": (
                f"CASE WHEN ((g * 7919) % 100) < 85 THEN {causes}[1 + (g % 9)] ELSE '' END"
            ),
            "poverty_attribute": "CASE WHEN ((g * 7919) % 100) < 85 THEN '一般贫困户' ELSE '' END",
            "first_identified_year": "CASE WHEN ((g * 7919) % 100) < 85 THEN 2014 ELSE NULL END",
            "road_type": "'水泥路'",
            "house_grade": "'B'",
            "fuel_type": "'柴草'",
            "housing_area": "80",
            "water_safe": "true",
            "water_difficult": "false",
            "has_sanitary_toilet": "(g % 3 <> 0)",
        },
        "FROM generate_series(1, %s) g",
        [village_ids, households],
    )
    _insert_select(
        Member,
        {
            "household_id": "h.id",
            "county_id": "h.county_id",
            "name": "'成员' || k",
            "id_type": "'居民身份证'",
            "id_number": "'B' || lpad(h.id::text, 12, '0') || lpad(k::text, 2, '0')",
            "sex": "CASE WHEN k % 2 = 1 THEN '男' ELSE '女' END",
            "birth_date": "date '1950-01-01' + ((h.id * 13 + k * 101) % 25000)::int",
            "relation": "CASE WHEN k = 1 THEN '户主' ELSE '其他' END",
            "ethnicity": "'苗族'",
            "education": "'初中'",
            "school_status": "'非在校生'",
            "health": "'健康'",
            "labour_skill": "CASE WHEN k % 5 = 0 THEN '' ELSE '普通劳动力' END",
            "joined_on": "date '2014-03-01'",
        },
        f"FROM households_household h CROSS JOIN LATERAL generate_series(1, {PERSONS}) k "
        "WHERE h.village_id = ANY(%s)",
        [village_ids],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {VillageYear._meta.db_table}
                  (village_id, year, registered_rural_population, total_households,
                   is_poor_village, is_deep_poverty, condition, first_secretary,
                   first_secretary_phone)
                SELECT h.village_id, %s, SUM({PERSONS}) * 3, COUNT(*) * 3, false, false, '中',
                       '', ''
                FROM households_household h WHERE h.village_id = ANY(%s)
                GROUP BY h.village_id""".replace(" % ", " %% "),
            [YEAR, village_ids],
        )
    from django.utils import timezone

    round = AdjustmentRound.objects.create(
        county=county, year=YEAR, name=f"{YEAR}年动态调整", opened_at=timezone.now()
    )
    started = time.perf_counter()
    baseline_freeze(round)
    freeze = time.perf_counter() - started
    kind = (
        "CASE WHEN h.status IN ('poor','returned','exited') AND h.id % 83 = 0 THEN 'removed' "
        "WHEN h.status = 'exited' AND h.id % 97 = 1 THEN 'returned' "
        "WHEN h.status = 'non_registered' AND h.id % 71 = 2 THEN 'identified' "
        "WHEN h.status IN ('poor','returned') AND h.id % 5 = 3 THEN 'exited' END"
    )
    to_status = (
        kind.replace("THEN 'removed'", "THEN 'removed'")
        .replace("THEN 'returned'", "THEN 'returned'")
        .replace("THEN 'identified'", "THEN 'poor'")
    )
    _insert_select(
        HouseholdEvent,
        {
            "household_id": "h.id",
            "kind": kind,
            "from_status": "h.status",
            "to_status": to_status,
            "effective_date": "date '2020-06-20'",
            "round_id": "%s",
            "persons": PERSONS,
            "reason": "'基准'",
        },
        f"FROM households_household h WHERE h.village_id = ANY(%s) AND ({kind}) IS NOT NULL",
        [round.pk, village_ids],
    )
    return county, round, freeze


HAND_WRITTEN = """
SELECT {group}
       SUM(CASE WHEN h.status IN ('poor','returned','exited') THEN 1 ELSE 0 END),
       SUM(CASE WHEN h.status = 'exited' THEN 1 ELSE 0 END),
       SUM(CASE WHEN e.removed THEN 1 ELSE 0 END),
       SUM(CASE WHEN e.identified THEN 1 ELSE 0 END),
       SUM(CASE WHEN e.returned THEN 1 ELSE 0 END),
       SUM(CASE WHEN COALESCE(e.last_status, h.status) IN ('poor','returned') THEN 1 ELSE 0 END)
FROM households_member m
JOIN households_household h ON h.id = m.household_id
JOIN povertyapp_region r ON r.id = h.village_id
LEFT JOIN (
    SELECT household_id, bool_or(kind = 'removed') AS removed,
           bool_or(kind = 'identified') AS identified, bool_or(kind = 'returned') AS returned,
           (array_agg(to_status ORDER BY id DESC))[1] AS last_status
    FROM households_householdevent WHERE round_id = ANY(%s) GROUP BY household_id
) e ON e.household_id = h.id
WHERE m.is_active AND r.path LIKE %s
{group_by}
"""


def _hand_written(
    round_ids: list[int], path: str, *, by_county: bool, tuned: bool = False
) -> list[tuple]:
    """The hand-written query; ``tuned``: under the job's own session settings
    (`figures.AGGREGATE_SETTINGS`: work_mem, no JIT), so the baseline gets every advantage the
    job has."""
    from django.db import connection, transaction

    from rounds import figures

    sql = HAND_WRITTEN.format(
        group="split_part(r.path, '/', 4)," if by_county else "",
        group_by="GROUP BY split_part(r.path, '/', 4)" if by_county else "",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if tuned:
            figures.aggregate_settings(cursor)
        cursor.execute(sql, [round_ids, path + "%"])
        return cursor.fetchall()


def _stored(round, county) -> tuple[int, ...]:
    """The job's stored county figures, in the hand-written query's column order."""
    from rounds.models import RateSnapshot

    snapshot = RateSnapshot.objects.get(round=round, region=county)
    return (
        snapshot.wrongful_inclusion_denominator,  # registered persons at baseline
        snapshot.wrongful_exit_denominator,  # exited persons at baseline
        snapshot.wrongful_inclusion_numerator,  # removed
        snapshot.omission_numerator,  # newly included
        snapshot.wrongful_exit_numerator,  # returned
        snapshot.incidence_numerator,  # poor after the round
    )


def keep_member_sums(counties) -> None:
    """Bring the members' kept 信息录入率 sums (households.completeness) up to today for every
    county, as the nightly `member_completeness` jobs do before the nightly rates; print how
    many households were out of date and how long it took (after a load by direct SQL: all of
    them, the first night's cost)."""
    from django.db import connection

    from households import completeness

    started = time.perf_counter()
    found = stored = 0
    for county in counties:
        outcome = completeness.refresh(county)
        found += outcome["households"]
        stored += outcome["stored"]
    seconds = time.perf_counter() - started
    if found:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE households_membercompleteness")
    print(
        f"  members' sums kept (households.completeness.refresh, {len(counties)} counties): "
        f"{found} households out of date, {stored} stored in {seconds:.1f} s",
        flush=True,
    )


def next_night(counties) -> None:
    """The next night's refresh: the households whose kept sums stop holding tomorrow (a member's
    birthday at an age bound), refreshed for tomorrow; printed with their count and time."""
    import datetime

    from django.utils import timezone

    from households import completeness

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    started = time.perf_counter()
    found = sum(completeness.refresh(county, today=tomorrow)["households"] for county in counties)
    seconds = time.perf_counter() - started
    print(f"  the next night's refresh: {found} households out of date, {seconds:.1f} s")


def _baseline(function, repeat: int):
    """The hand-written query's best time under the server's defaults and under the job's
    settings: the faster of the two is the baseline."""
    default, rows = _best(lambda: function(False), repeat=repeat)
    tuned, tuned_rows = _best(lambda: function(True), repeat=repeat)
    assert sorted(rows) == sorted(tuned_rows)
    return min(default, tuned), default, tuned, rows


def _best(function, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def _worker(workers: int, database: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=f"{SERVER}/{database}", CELERY_BROKER_URL=BROKER)
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "povertyapp",
            "worker",
            "-c",
            str(workers),
            "--pool",
            "prefork",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _job_profile(args) -> int:
    """One county job of a province's fan-out, in this process as a worker runs it
    (`jobs.job_create` with the fan-out's ``serial`` parameter, then `jobs.job_run`), N times on
    the first county of a generated province: its statements, its commits (statements outside
    a transaction, each its own, plus the transactions committed) and those on the job row,
    and its wall time (best and median), with the load average."""
    _setup(args.database)
    from django.db import connection

    from povertyapp import jobs
    from povertyapp.models import Job
    from rounds import rates
    from rounds.models import AdjustmentRound

    round = (
        AdjustmentRound.objects.filter(year=YEAR, county__code__startswith="6101")
        .select_related("county")
        .order_by("county__code")
        .first()
    )
    if round is None:
        raise SystemExit(f"{args.database} holds no generated province: --generate-only first")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE povertyapp_ratesnapshot, povertyapp_job")
    counts = {"statements": 0, "commits": 0, "writes": 0, "job_writes": 0, "dirty": 0}
    table = Job._meta.db_table

    def count(execute, sql, params, many, context):
        counts["statements"] += 1
        head = sql.lstrip().upper()
        # a data-modifying CTE (WITH ... INSERT: the snapshots and their history) writes too
        writes = head.startswith(("INSERT", "UPDATE", "DELETE")) or (
            head.startswith("WITH") and any(verb in head for verb in ("INSERT", "UPDATE", "DELETE"))
        )
        if not connection.in_atomic_block:
            counts["commits"] += 1
            counts["writes"] += writes
            counts["job_writes"] += writes and table in sql
        else:
            counts["dirty"] |= writes
        return execute(sql, params, many, context)

    commit = connection.commit

    def counted_commit() -> None:
        counts["commits"] += 1
        counts["writes"] += counts["dirty"]
        counts["dirty"] = 0
        commit()

    times, statements, commits, writes, job_writes = [], [], [], [], []
    for _turn in range(args.job_profile):
        job = jobs.job_create(
            user=None,
            kind=rates.KIND,
            region=round.county,
            parameters={"round": round.pk, "serial": True},
        )
        counts.update(statements=0, commits=0, writes=0, job_writes=0, dirty=0)
        setattr(connection, "commit", counted_commit)  # noqa: B010 (patched for the count)
        try:
            with connection.execute_wrapper(count):
                started = time.perf_counter()
                finished = jobs.job_run(job.pk)
                times.append(time.perf_counter() - started)
        finally:
            setattr(connection, "commit", commit)  # noqa: B010 (restored)
        assert finished.status == Job.Status.SUCCEEDED, finished.error
        statements.append(counts["statements"])
        commits.append(counts["commits"])
        writes.append(counts["writes"])
        job_writes.append(counts["job_writes"])
    times.sort()
    print(
        f"one county job of the fan-out ({round.baseline.count()} households), "
        f"{args.job_profile} runs in this process:\n"
        f"  wall {times[0]:.3f} s best, {times[len(times) // 2]:.3f} s median; "
        f"{max(statements)} statements, {max(commits)} commits, {max(writes)} of them writing "
        f"({max(job_writes)} on the job row alone)\n"
        f"  load average {' '.join(f'{value:.1f}' for value in os.getloadavg())} on "
        f"{os.cpu_count()} cores"
    )
    connection.close()
    return 0


def _fan_out_breakdown(county_jobs, rollup_job, *, workers: int) -> None:
    """Where the fan-out's wall time goes, from the job rows: the county jobs' own run time
    (and its share of the span with `workers` processes), the wait before the first job
    started (creation → dispatch → start), the idle time between two jobs of a worker, and the
    wait for the roll-up after the last county ended."""
    runs = sorted((job.finished_at - job.started_at).total_seconds() for job in county_jobs)
    created = min(job.created_at for job in county_jobs)
    dispatched = min(job.dispatched_at for job in county_jobs if job.dispatched_at)
    first = min(job.started_at for job in county_jobs)
    last = max(job.finished_at for job in county_jobs)
    span = (last - first).total_seconds()
    # Each start after the first `workers` follows the end of the job its worker ran before;
    # the gap is taken against the latest end before that start (a lower bound per start).
    ends = sorted(job.finished_at for job in county_jobs)
    gaps = []
    for job in sorted(county_jobs, key=lambda item: item.started_at)[workers:]:
        before = [end for end in ends if end <= job.started_at]
        if before:
            gaps.append((job.started_at - before[-1]).total_seconds())
    print(
        f"  fan-out breakdown: {len(runs)} county jobs ran {sum(runs):.2f} s in all (mean "
        f"{sum(runs) / len(runs):.3f} s, min {runs[0]:.3f}, max {runs[-1]:.3f}), i.e. "
        f"{sum(runs) / workers:.2f} s per worker of the {span:.2f} s span "
        f"({sum(runs) / workers / span:.0%}); created → dispatched "
        f"{(dispatched - created).total_seconds():.2f} s, → first started "
        f"{(first - dispatched).total_seconds():.2f} s; between two jobs "
        f"{sum(gaps) / max(len(gaps), 1) * 1000:.0f} ms on average ({len(gaps)} starts); last "
        f"county ended → roll-up started {(rollup_job.started_at - last).total_seconds():.2f} s"
    )


def _dashboard(args: argparse.Namespace, province) -> None:
    """The province's and its city's dashboards (the roll-up just computed) under `--clients`
    concurrent users signed in as a province office (gunicorn, 2 workers: `bench/loadgen.py`).
    Goal: p99 ≤ 250 ms at 16 users."""
    from povertyapp.models import Region, User
    from povertyapp.services import user_create

    if not User.objects.filter(username="province").exists():
        user_create(
            username="province",
            password=loadgen.PASSWORD,
            role=User.Role.PROVINCE_OFFICER,
            region=province,
            full_name="省级乡村振兴部门",
            validate_password=False,
        )
    city = Region.objects.filter(parent=province, level="city").first()
    from django.db import connection

    connection.close()
    with loadgen.gunicorn(args.database, args.port) as base:
        sessions = [loadgen.login(base, "province") for _ in range(args.clients)]
        scenarios = [
            ("bare", sessions, [f"{base}{loadgen.BARE}"]),
            ("province", sessions, [f"{base}/dashboards/{province.code}/"]),
            ("city", sessions, [f"{base}/dashboards/{city.code}/"] if city else []),
        ]
        print(
            f"province dashboard: gunicorn 2 workers; {args.clients} users; "
            f"{args.requests} requests per scenario"
        )
        results = loadgen.measure(
            [item for item in scenarios if item[2]], clients=args.clients, requests=args.requests
        )
    loadgen.report(results, goal_p99_ms=250)


def _page_profile(base_urls: dict[str, str], username: str) -> None:
    """One request of each page in-process (Django's test client, the whole middleware stack,
    signed in through the login form), after one warm-up request: wall time, statements and
    the time of each statement. The session and user reads are the first statements."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post("/accounts/login/", {"username": username, "password": loadgen.PASSWORD})
    assert response.status_code == 302, response.status_code
    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql))

    for name, url in base_urls.items():
        assert client.get(url).status_code == 200, url  # warm: the body cache filled
        best = best_cpu = float("inf")
        cpu: list[float] = []
        for _ in range(50):
            statements.clear()
            with connection.execute_wrapper(timed):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                cpu.append(time.process_time() - started_cpu)
                best = min(best, time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        best_cpu = min(cpu)
        total = sum(seconds for seconds, _sql in statements)
        print(
            f"  {name:<9} in-process, 50 requests: wall best {best * 1000:6.2f} ms, this "
            f"process's CPU best {best_cpu * 1000:5.2f} / median "
            f"{sorted(cpu)[len(cpu) // 2] * 1000:5.2f} ms; {len(statements)} statements, "
            f"{total * 1000:.2f} ms in the database (last request):"
        )
        for seconds, sql in statements:
            print(f"      {seconds * 1000:6.2f} ms  {' '.join(sql.split())[:110]}")


def _ensure_figures(province) -> None:
    """The counties' snapshots and the province's roll-up of YEAR, computed in-process when
    missing (a freshly generated database has neither); then the tables analysed."""
    from django.db import connection

    from rounds.models import RollupSnapshot

    if not RollupSnapshot.objects.filter(region=province, year=YEAR).exists():
        _compute_figures(province)
    # As autovacuum would after the nightly run: without statistics the planner hashes the whole
    # snapshot table for the state statement (23 ms instead of 0.3 ms measured).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE povertyapp_ratesnapshot, rounds_rollupsnapshot, povertyapp_region")


def _compute_figures(province) -> None:
    from rounds import rates, rollup
    from rounds.models import AdjustmentRound

    started = time.perf_counter()
    rounds_ = AdjustmentRound.objects.filter(county__path__startswith=province.path, year=YEAR)
    for round_ in rounds_:
        rates.compute_rates(round=round_)
    rollup.rollup_compute(region=province, year=YEAR)
    seconds = time.perf_counter() - started
    print(f"computed the counties' figures and the roll-up in {seconds:.1f} s")


def _dashboard_only(args: argparse.Namespace) -> int:
    """Reuse a generated province: profile the dashboards in-process, then load them
    `--repeat` times (bare view, province, city in each round, same run)."""
    if not _exists(args.database):
        raise SystemExit(f"{args.database} does not exist: run with --generate-only first")
    os.environ["DJANGO_SETTINGS_MODULE"] = loadgen.SETTINGS  # the bare view's URLconf
    _setup(args.database)
    from django.core.management import call_command
    from django.db import connection

    from households.models import Household
    from povertyapp.models import Region, User
    from povertyapp.services import user_create

    call_command("migrate", verbosity=0)
    province = Region.objects.get(code="610000000000")
    city = Region.objects.get(parent=province, level="city")
    counties = Region.objects.filter(parent=city, level="county").count()
    households = Household.objects.count()
    print(f"reused {args.database}: {counties} counties, {households} households")
    _ensure_figures(province)
    if not User.objects.filter(username="province").exists():
        user_create(
            username="province",
            password=loadgen.PASSWORD,
            role=User.Role.PROVINCE_OFFICER,
            region=province,
            full_name="省级乡村振兴部门",
            validate_password=False,
        )
    urls = {
        "bare": loadgen.BARE,
        "signed-in": "/bench/bare-signed-in/",
        "province": f"/dashboards/{province.code}/",
        "city": f"/dashboards/{city.code}/",
    }
    print("per request, in-process (statements and their times):")
    _page_profile(urls, "province")
    connection.close()
    with loadgen.gunicorn(args.database, args.port) as base:
        sessions = [loadgen.login(base, "province") for _ in range(args.clients)]
        scenarios = [(name, sessions, [f"{base}{url}"]) for name, url in urls.items()]
        for repeat in range(args.repeat):
            print(
                f"round {repeat + 1}/{args.repeat}: gunicorn 2 workers; {args.clients} users; "
                f"{args.requests} requests per scenario; load average before "
                f"{' '.join(f'{value:.1f}' for value in os.getloadavg())}"
            )
            loadgen.report(
                loadgen.measure(scenarios, clients=args.clients, requests=args.requests),
                goal_p99_ms=250,
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000, help="per county")
    parser.add_argument("--counties", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default="bench_rates")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the database kept by an earlier run with the same sizes (migrating it); "
        "generate it (and keep it) when it does not exist",
    )
    parser.add_argument(
        "--generate-only",
        action="store_true",
        help="generate the database, keep it and stop (run outside the bench lock)",
    )
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument(
        "--skip-dashboard", action="store_true", help="no load test of the province dashboard"
    )
    parser.add_argument("--clients", type=int, default=16, help="dashboard load: users")
    parser.add_argument("--requests", type=int, default=400, help="dashboard load: per scenario")
    parser.add_argument("--port", type=int, default=8767, help="dashboard load: gunicorn's port")
    parser.add_argument(
        "--dashboard-only",
        action="store_true",
        help="reuse a generated province: profile and load its dashboards only",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="--dashboard-only: rounds of the load, same run"
    )
    parser.add_argument(
        "--job-profile",
        type=int,
        default=0,
        metavar="N",
        help="reuse a generated province: run one county's job as the fan-out does, N times",
    )
    args = parser.parse_args()
    if args.dashboard_only:
        return _dashboard_only(args)
    if args.job_profile:
        return _job_profile(args)
    counties = 1 if args.skip_province else args.counties
    keep = args.keep or args.reuse or args.generate_only

    reused = args.reuse and _exists(args.database)
    if not reused:
        _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{args.database}"')
    _setup(args.database)
    from django.core.management import call_command
    from django.db import connection, transaction

    from households.models import Member
    from povertyapp.models import Job, Region
    from rounds import rates, rollup
    from rounds.models import AdjustmentRound, RateSnapshot, RollupSnapshot

    call_command("migrate", verbosity=0)
    if reused:
        # Earlier runs left replaced snapshot and job rows behind; vacuum them as the server's
        # autovacuum would between two nights, so each run starts from the same state. The
        # registry tables too: a migration that rewrites them (households 0008 adds stored
        # columns) leaves their visibility map empty until vacuumed, and both the job and the
        # hand-written query use index-only scans (quick when nothing changed: all-visible
        # pages are skipped).
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE povertyapp_ratesnapshot, povertyapp_job, households_household, "
                "households_member"
            )
        province = Region.objects.get(code="610000000000")
        made = [
            (round.county, round, None)
            for round in AdjustmentRound.objects.filter(
                county__path__startswith=province.path, year=YEAR
            )
            .select_related("county")
            .order_by("county__code")
        ]
        generated = {round.county.code: round.baseline.count() for _county_, round, _freeze in made}
        if len(made) < counties or set(list(generated.values())[:counties]) != {args.households}:
            raise SystemExit(
                f"{args.database} holds {len(made)} counties of {sorted(set(generated.values()))} "
                f"households, not {counties} of {args.households}: run without --reuse"
            )
        made = made[:counties]
        persons = Member.objects.filter(household__village__path__startswith=province.path).count()
        print(f"reused {args.database}: {len(made)} counties, {persons} persons in the database")
    else:
        province = Region.objects.create(
            code="610000000000",
            name="基准省",
            level="province",
            path="/610000000000/",
            is_western=True,
        )
        city = Region.objects.create(
            code="610100000000",
            name="基准市",
            level="city",
            parent=province,
            path="/610000000000/610100000000/",
            is_western=True,
        )
        started = time.perf_counter()
        made = []
        for index in range(counties):
            with transaction.atomic():
                made.append(_county(index, args.households, province, city))
            print(f"  generated county {index + 1}/{counties}", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        persons = Member.objects.count()
        print(
            f"generated {counties} counties, {counties * args.households} households, {persons} "
            f"persons in {time.perf_counter() - started:.1f} s (direct SQL)"
        )
    if args.generate_only:
        connection.close()
        return 0
    county, round, freeze = made[0]
    county_persons = Member.objects.filter(household__village__path__startswith=county.path).count()
    if freeze is not None:
        print(f"baseline freeze (INSERT ... SELECT) county 1: {freeze:.3f} s")

    keep_member_sums([item[0] for item in made])
    # --- county --------------------------------------------------------------------------
    job_seconds, summary = _best(lambda: rates.compute_rates(round=round))
    raw_seconds, raw_default, raw_tuned, raw = _baseline(
        lambda tuned: _hand_written([round.pk], county.path, by_county=False, tuned=tuned), 3
    )
    stored = _stored(round, county)
    assert tuple(int(value) for value in raw[0]) == stored, (raw[0], stored)
    print(
        f"county: {args.households} households / {county_persons} persons, "
        f"{summary['regions']} regions"
    )
    print(f"  compute_rates     {job_seconds:8.3f} s   (best of 3)")
    print(
        f"  hand-written SQL  {raw_seconds:8.3f} s   (best of 3; server defaults "
        f"{raw_default:.3f} s, job's settings {raw_tuned:.3f} s; the job's stored "
        f"numerators/denominators equal it: checked)"
    )
    print(f"  ratio             {job_seconds / raw_seconds:8.2f} ×   (goal ≤ 1.5)")
    # The consistency check (issue 13: every numerator equals the count of its list) is part of
    # the job; its own share, measured by running the job once more without it, same run.
    from rounds import figures

    registered = list(figures._list_counter)
    figures._list_counter[:] = []
    try:
        unchecked_seconds, _summary = _best(lambda: rates.compute_rates(round=round))
    finally:
        figures._list_counter[:] = registered
    print(
        f"  without the consistency check {unchecked_seconds:8.3f} s   (best of 3; ratio "
        f"{unchecked_seconds / raw_seconds:.2f} ×): the check costs "
        f"{job_seconds - unchecked_seconds:.3f} s"
    )

    # --- province --------------------------------------------------------------------------
    if not args.skip_province:
        rounds_ = [item[1] for item in made]
        raw_province, raw_default, raw_tuned, rows = _baseline(
            lambda tuned: _hand_written(
                [r.pk for r in rounds_], province.path, by_county=True, tuned=tuned
            ),
            2,
        )
        worker = _worker(args.workers, args.database)
        time.sleep(6)
        try:
            started = time.perf_counter()
            with transaction.atomic():
                # The province's rates job (issue 16): one job per county, then the roll-up as
                # the chord's body once the last county ended.
                created, rollup_job = rollup.province_rates_enqueue(
                    user=None, region=province, year=YEAR, rounds=rounds_
                )
            ids = [job.pk for job in created]
            every = [*ids, rollup_job.pk]
            while Job.objects.filter(pk__in=every, status__in=["queued", "running"]).exists():
                time.sleep(0.1)
            group_seconds = time.perf_counter() - started
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        load = os.getloadavg()
        rollup_job.refresh_from_db()
        assert rollup_job.status == "succeeded", rollup_job.error
        county_jobs = list(Job.objects.filter(pk__in=ids))
        fan_out = (
            max(job.finished_at for job in county_jobs) - min(job.started_at for job in county_jobs)
        ).total_seconds()
        rollup_run = (rollup_job.finished_at - rollup_job.started_at).total_seconds()
        rollup_best, _rollup_summary = _best(
            lambda: rollup.rollup_compute(region=province, year=YEAR)
        )
        top = RollupSnapshot.objects.get(region=province, year=YEAR)
        county_rows = list(
            RateSnapshot.objects.filter(
                round__in=rounds_, region_id__in=[county_.pk for county_, _r, _f in made]
            )
        )
        for name in rollup.SUMMED:
            assert getattr(top, name) == sum(getattr(row, name) for row in county_rows), name
        failed = Job.objects.filter(pk__in=ids).exclude(status="succeeded").count()
        by_code = {row[0]: tuple(int(value) for value in row[1:]) for row in rows}
        for county_, round_, _freeze in made:
            stored = _stored(round_, county_)
            assert by_code[county_.code] == stored, (county_.code, by_code[county_.code], stored)
            job = Job.objects.get(pk__in=ids, region=county_)
            assert job.status == "succeeded" and job.finished_at is not None, job.pk
        print(
            f"province: {counties} counties, {counties * args.households} households, "
            f"{persons} persons, {len(rows)} county rows from the raw query"
        )
        print(
            f"  Celery group ({args.workers} worker processes) {group_seconds:8.3f} s "
            f"({failed} failed jobs)"
        )
        print(
            f"  hand-written SQL (grouped by county) {raw_province:8.3f} s   (best of 2; server "
            f"defaults {raw_default:.3f} s, job's settings {raw_tuned:.3f} s; every county's "
            f"stored figures equal it: checked)"
        )
        print(
            f"  ratio                               {group_seconds / raw_province:8.2f} ×  "
            f"(goal ≤ 1.5)"
        )
        print(
            f"  fan-out (first county job started → last ended) {fan_out:8.3f} s; roll-up step "
            f"(the chord's body job) {rollup_run:8.3f} s, rollup_compute alone {rollup_best:.3f} s "
            f"(best of 3); ratio {rollup_run / fan_out:.3f} × (goal ≤ 0.2); the province's "
            f"numerators and denominators equal the sum of its counties': checked"
        )
        _fan_out_breakdown(county_jobs, rollup_job, workers=args.workers)
        print(f"  load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
        if not args.skip_dashboard:
            _dashboard(args, province)
    connection.close()
    if not keep:
        _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
