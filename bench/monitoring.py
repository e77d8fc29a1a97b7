"""Benchmark of monitoring (issue 15; not a test). PostgreSQL only.

    .venv/bin/python bench/monitoring.py [--persons 1000000] [--rows 50000] [--keep]
        [--only matching|sweep|dashboard] [--clients 16] [--requests 400]

Creates (and at the end drops, unless --keep) its own database `bench_monitoring`, migrates
it, and loads a registry of --persons persons (4 per household, in the bench county's villages)
with COPY (`povertyapp.bulk.load_rows`: ID numbers encrypted, blind indexes computed, as the
seeder writes them). Then one section per measure:

  matching  (part C, the departments' lists) a 医保 push of --rows rows: half of them persons
            of the registry, a twentieth repeated (duplicates), the rest IDs the registry does
            not hold. Timed in the same run, each the median of --repeat:
              ours  `monitoring.clues.match_many` over the push's IDs: normalise, blind index,
                    members in chunks of 5,000 IDs, their households, the households' current
                    monitoring objects and open clues (what the list service runs before it
                    writes), answered as `Match` rows with member and household instances;
              join  one hand-written SQL join of the same rows: the blind indexes computed,
                    COPYed into a temp table, joined to the member table (with the household's
                    village and status);
            ratio ours / join (goal <= 2), the median of --repeat alternated pairs. Then the
            whole list service once (`list_apply`:
            the workbook read and every row checked, matched, the clues bulk-created), for
            reference. Peak memory: tracemalloc's peak over the matching path and over the
            service (goal <= 300 MB), and the process's peak RSS.
  sweep     opening the county's 集中排查 over that registry (all ten priority groups): the
            seconds, the households a second, tracemalloc's peak.
  dashboard the monitoring dashboard at --clients concurrent users on a registry of the same
            --persons: `bench/monitoring_dashboard.py`, run as its own process (it serves the
            app with gunicorn on a database of its own, `bench_monitoring_dash`, grown from
            the demo county so that the pages have monitoring objects and clues to count),
            p50/p99 per scenario against a bare page in the same run (goal p99 <= 250 ms).

The figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402 (needs the project root on sys.path)

DATABASE = "bench_monitoring"
PER_HOUSEHOLD = 4


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _id(address: str, index: int) -> str:
    """A valid ID number, unique per (address, index)."""
    from stdnum.cn import ric

    day, serial = divmod(index, 900)
    birth = datetime.date(1935, 1, 1) + datetime.timedelta(days=day)
    body = f"{address}{birth:%Y%m%d}{serial + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


def populate(persons: int) -> dict[str, Any]:
    """The registry (households and members) by COPY; reused when already there."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench import ledger
    from households import counties
    from households.models import Household, Member
    from povertyapp import bulk

    villages = ledger._regions()
    if Member.objects.count() >= persons:
        return {"persons": Member.objects.count(), "loaded_seconds": 0.0}
    households = persons // PER_HOUSEHOLD
    now = timezone.now()
    started = time.perf_counter()
    county_of = counties.county_ids_of_villages(village.pk for village in villages)

    def household_rows() -> Any:
        for index in range(households):
            village = villages[index % len(villages)]
            exited = index % 3 == 0
            yield {
                "id": index + 1,
                "number": f"{village.code}{index:07d}",
                "village_id": village.pk,
                "county_id": county_of[village.pk],
                "status": "exited" if exited else ("poor" if index % 3 == 1 else "non_registered"),
                "exit_year": 2019 if exited else None,
                "first_identified_year": None if index % 3 == 2 else 2016,
                "poverty_attribute": "" if index % 3 == 2 else "一般贫困户",
                "main_cause": "" if index % 3 == 2 else "因病",
                "identification_standard": "国家标准",
            }

    relations = ("户主", "配偶", "之子", "之女")

    def member_rows() -> Any:
        for index in range(households * PER_HOUSEHOLD):
            number = _id("522622", index)
            yield {
                "household_id": index // PER_HOUSEHOLD + 1,
                "county_id": county_of[villages[(index // PER_HOUSEHOLD) % len(villages)].pk],
                "name": f"成员{index}",
                "id_type": "居民身份证",
                "id_number": number,
                "sex": "男" if int(number[16]) % 2 else "女",
                "birth_date": datetime.date(
                    int(number[6:10]), int(number[10:12]), int(number[12:14])
                ),
                "relation": relations[index % PER_HOUSEHOLD],
                "is_active": True,
            }

    with transaction.atomic():
        bulk.load_rows(Household, household_rows(), now=now)
        bulk.load_rows(Member, member_rows(), now=now)
        bulk.reset_sequences(Household, Member)
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{Household._meta.db_table}"')
        cursor.execute(f'ANALYZE "{Member._meta.db_table}"')
    return {"persons": households * PER_HOUSEHOLD, "loaded_seconds": time.perf_counter() - started}


def push_ids(persons: int, rows: int, rng: random.Random) -> list[str]:
    """Half registry persons, a twentieth repeated, the rest IDs nobody in the registry holds."""
    matched = [_id("522622", rng.randrange(persons)) for _ in range(rows // 2)]
    duplicates = rng.sample(matched, rows // 20)
    strangers = [_id("522601", index) for index in range(rows - len(matched) - len(duplicates))]
    numbers = matched + duplicates + strangers
    rng.shuffle(numbers)
    return numbers


def _median(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    seconds = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def _join(numbers: list[str]) -> int:
    """The hand-written baseline: blind indexes into a temp table, joined to the members."""
    from django.db import connection, transaction

    from households.models import Household, Member
    from povertyapp.crypto import blind_index

    member = Member._meta.db_table
    household = Household._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE push_ids (idx varchar(64)) ON COMMIT DROP")
        text = "\n".join(blind_index(number) for number in numbers) + "\n"
        cursor.cursor.copy_expert("COPY push_ids (idx) FROM STDIN", io.StringIO(text))
        cursor.execute(
            f"SELECT m.id, m.household_id, h.village_id, h.status FROM push_ids p "
            f'JOIN "{member}" m ON m.id_number_index = p.idx '
            f'JOIN "{household}" h ON h.id = m.household_id'
        )
        return len(cursor.fetchall())


def _ours(numbers: list[str]) -> int:
    from monitoring.clues import match_many

    found = match_many(numbers)
    return sum(1 for match in found.values() if match.member is not None)


def _workbook(numbers: list[str], path: str, rng: random.Random) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("大额医疗费用个人自付")
    sheet.append(["序号", "患者姓名", "身份证号码", "医疗总费用", "个人自付金额"])
    for index, number in enumerate(numbers, start=1):
        paid = rng.randrange(2000, 40000)
        sheet.append([index, f"患者{index}", number, paid * 3, paid])
    workbook.save(path)


def _traced(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, tracemalloc peak MB, result) of one call."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = function()
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak / 1048576, result


def matching(args: argparse.Namespace) -> None:
    from decimal import Decimal

    from django.db import connection

    from monitoring import lists
    from monitoring.models import Clue, DepartmentList, LocalRules, MonitoringObject
    from povertyapp.models import Region, User

    rng = random.Random(2020)
    loaded = populate(args.persons)
    print(
        f"registry: {loaded['persons']} persons, loaded in {loaded['loaded_seconds']:.1f} s "
        f"(PostgreSQL {connection.pg_version // 10000})"
    )
    numbers = push_ids(args.persons, args.rows, rng)
    with connection.cursor() as cursor:
        # Statistics as autovacuum keeps them: a kept database has the clues of earlier runs'
        # services, bulk-inserted just before their ANALYZE would come.
        for model in (Clue, MonitoringObject):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    # Alternated, so that the machine's load falls on both alike; the ratio is the median of
    # the pairs' ratios.
    _ours(numbers), _join(numbers)  # warm the database's buffers for both
    pairs = []
    for _ in range(args.repeat):
        ours_pair, ours_found = _median(lambda: _ours(numbers), 1)
        join_pair, join_found = _median(lambda: _join(numbers), 1)
        pairs.append((ours_pair, join_pair))
    ours_seconds = statistics.median(pair[0] for pair in pairs)
    join_seconds = statistics.median(pair[1] for pair in pairs)
    unique = len(set(numbers))
    print(f"push: {len(numbers)} rows, {unique} distinct IDs")
    print(f"ours  match_many:        {ours_seconds:7.3f} s  ({ours_found} IDs matched)")
    print(f"join  temp table + join: {join_seconds:7.3f} s  ({join_found} rows joined)")
    ratios = sorted(ours / join for ours, join in pairs)
    ratio = statistics.median(ratios)
    print(
        f"ratio ours/join: {ratio:.2f}, median of {len(pairs)} alternated pairs "
        f"({ratios[0]:.2f}–{ratios[-1]:.2f})  (goal <= 2.00: {'met' if ratio <= 2 else 'NOT met'})"
    )
    match_peak = _traced(lambda: _ours(numbers))[1]

    county = Region.objects.get(code="522622000000")
    LocalRules.objects.update_or_create(region=county, defaults={"rural_income": Decimal("15800")})
    officer = User.objects.get(username="bench_county")
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="bench-push-")
    os.close(handle)
    try:
        _workbook(numbers[: args.service_rows or None], path, rng)
        pushed = DepartmentList.objects.create(
            county=county,
            department="medical_insurance",
            purpose="risk",
            layout="medical_costs",
            file_name="bench.xlsx",
            uploaded_by=officer,
        )
        seconds, service_peak, done = _traced(
            lambda: lists.list_apply(
                department_list=pushed, path=path, actor=officer, max_rows=len(numbers) + 10
            )
        )
    finally:
        os.unlink(path)
    print(
        f"service list_apply (read, check, match, write): {seconds:7.2f} s; "
        f"rows {done.rows_total}: matched {done.rows_matched}, unmatched {done.rows_unmatched}, "
        f"duplicate {done.rows_duplicate}, under the standard {done.rows_below}; "
        f"{Clue.objects.filter(source_list=done).count()} clues"
    )
    peak = max(match_peak, service_peak)
    print(
        f"memory: tracemalloc peak matching {match_peak:.0f} MB, service {service_peak:.0f} MB "
        f"(goal <= 300 MB: {'met' if peak <= 300 else 'NOT met'}); process peak RSS "
        f"{_rss_mb():.0f} MB (registry generation included)"
    )


def sweep(args: argparse.Namespace) -> None:
    """Opening the county's 集中排查 over the whole registry: every household but the 剔除
    ones gets its 排查 row and its priority groups (all ten chosen), in batched inserts."""
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from monitoring import sweeps
    from monitoring.models import PriorityGroup, Sweep, SweepHousehold
    from povertyapp.models import Region, User

    loaded = populate(args.persons)
    print(f"registry: {loaded['persons']} persons (PostgreSQL {connection.pg_version // 10000})")
    county = Region.objects.get(code="522622000000")
    officer = User.objects.get(username="bench_county")
    year = timezone.localdate().year

    def clear() -> None:
        SweepHousehold.objects.filter(sweep__county=county, sweep__year=year).delete()
        Sweep.objects.filter(county=county, year=year).delete()

    def opening() -> Sweep:
        return sweeps.sweep_open(
            actor=officer,
            county=county,
            year=year,
            name="bench",
            start_date=datetime.date(year, 1, 2),
            end_date=datetime.date(year, 12, 31),
            line=Decimal("7000"),
            groups=PriorityGroup.values,
        )

    clear()
    started = time.perf_counter()
    opened = opening()
    seconds = time.perf_counter() - started
    rows = SweepHousehold.objects.filter(sweep=opened).count()
    clear()
    peak = _traced(opening)[1]
    clear()
    print(
        f"sweep_open: {rows} households in {seconds:.1f} s ({rows / seconds:,.0f} a second); "
        f"tracemalloc peak {peak:.0f} MB"
    )


def dashboard(args: argparse.Namespace) -> None:
    import subprocess

    command = [
        sys.executable,
        str(ROOT / "bench" / "monitoring_dashboard.py"),
        f"--persons={args.persons}",
        f"--clients={args.clients}",
        f"--requests={args.requests}",
    ]
    if args.keep:
        command.append("--keep")
    subprocess.run(command, check=True)


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "matching": matching,
    "sweep": sweep,
    "dashboard": dashboard,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--service-rows",
        type=int,
        default=0,
        help="rows of the push the whole list service runs on (default: all of them)",
    )
    parser.add_argument("--clients", type=int, default=16, help="dashboard: concurrent users")
    parser.add_argument("--requests", type=int, default=400, help="dashboard: per scenario")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"{loadgen.SERVER}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    if not loadgen.database_exists(args.database):
        loadgen.admin(f'CREATE DATABASE "{args.database}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        for name in args.only or list(SECTIONS):
            print(f"--- {name} ---")
            SECTIONS[name](args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            loadgen.admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
