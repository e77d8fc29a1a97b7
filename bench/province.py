"""Benchmark: a whole province (88 counties, 10M households / 35M persons at full size) on
PostgreSQL — the province rates job and the cadre and dashboard pages at 16 users.

    .venv/bin/python bench/province.py [--households 10000000] [--database bench_province]
                                       [--generate-only] [--regenerate] [--workers 2]
                                       [--clients 16] [--requests 400] [--port 8781]
                                       [--skip-rates] [--skip-pages] [--skip-profile]
                                       [--skip-load] [--lists-only]
                                       [--searches 6]

Generation (once; reused when the database exists and holds the requested size, refused when it
holds another size unless --regenerate): direct SQL, `INSERT ... SELECT` over `generate_series`
per county (never the ORM per row), in a database of its own. The province is laid out as
贵州省 is: 9 cities / autonomous prefectures and 88 counties, with real-looking 12-digit
statistical codes (province 520000000000, city 5201…, county 520121…, township …100…,
village …200…). County sizes are uneven, 30–80万 persons each at full size (a skewed spread:
most counties near 30–45万, a few near 80万), scaled with `--households`; townships and
villages follow the full-size county (≈ 380 households a village, 18 villages a township) at
every scale, so a scaled-down run keeps the real tree. Households carry the demo's status mix
(≈ 24 % 未脱贫, 3 % 返贫, 54 % 已脱贫, 4 % 剔除, 15 % 非建档立卡), causes and attributes,
the last year's income (HouseholdIncome, registered households), 3.5 members on average with
common Guizhou surnames, real-looking 18-digit ID numbers (stored in clear: a bench database;
the application encrypts on write) and birth dates; each village its 户籍农业人口 (VillageYear);
each county an adjustment round with its frozen baseline (`rounds.services.baseline_freeze`,
the application's own INSERT ... SELECT) and the round's events. The generation time and the
database's size are printed.

Measured, each against its baseline in the same run, with the load average:

  rates     the province rates job (`rounds.rollup.province_rates_enqueue`: one job per county
            as a Celery chord's header, the roll-up as its body) on a worker with --workers
            processes started here (Redis DB 14 unless BENCH_BROKER), wall time from dispatch
            until the roll-up ended, against the hand-written person-level query grouped by
            county (bench/rates.py's); every county's stored figures must equal its row and the
            province's the sums. Goal: ≤ 1.5×.
  pages     gunicorn 2 workers (settings `bench.province_settings`: the production URLs plus
            bench-only plain views, never in the app's URLs), 16 users each signed in as their
            own account (the search budget is per user), as a county office (the largest
            county) and as a province-wide case user (an 评估/审计员 whose region is the province:
            the 省级乡村振兴部门's own role reads the roll-up, not the registry), each page against
            a plain Django ListView/DetailView over the same tables with the same filters and
            page size (20):
              list       /households/?page=N (1–50)   vs /bench/plain/households/?page=N
              search     the search form's POST (q=<surname>, status=poor) as htmx sends it,
                         answered with the page    vs the plain view, same query
              search page  /households/?status=poor&qt=<token>: the search's page again
                         (paging, a reload)        vs the same plain view
              household  /households/<id>/            vs /bench/plain/households/<id>/
            and the province dashboard for the province office:
              dashboard  /dashboards/520000000000/    vs /bench/plain/dashboard/520000000000/
            Goal: every page p99 ≤ 250 ms, and match or beat the plain view (printed as met
            when its p99 ≤ 250 ms, its req/s ≥ 0.95 × the plain view's and no request failed).

Before the load, each page is profiled in-process (Django's test client, best of 5: its
statements, their database time, the slowest statement's EXPLAIN (ANALYZE, BUFFERS) when over
20 ms; `--skip-profile` leaves it out), and the rates part explains the slowest statement of the
largest county's job. The users (county01–16, provaudit01–16, province01–16, the demo's
password) are made with the database.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# A Redis DB of the bench's own (bench/rates.py reads it on import).
os.environ.setdefault("BENCH_BROKER", "redis://127.0.0.1:6379/14")

from bench import loadgen  # noqa: E402 (needs the project root on sys.path)
from bench import rates as rates_bench  # noqa: E402

SERVER = loadgen.SERVER
SETTINGS = "bench.province_settings"
loadgen.SETTINGS = SETTINGS  # gunicorn serves the production URLs and the plain views
YEAR = rates_bench.YEAR  # the round's year (2020)
PROVINCE_CODE = "520000000000"
FULL_HOUSEHOLDS = 10_000_000
HOUSEHOLDS_PER_VILLAGE = 380  # at full size
VILLAGES_PER_TOWNSHIP = 18
# 贵州省: its 9 cities and autonomous prefectures, with their counties' count (88 in all).
CITIES = (
    ("5201", "贵阳市", 10),
    ("5202", "六盘水市", 4),
    ("5203", "遵义市", 14),
    ("5204", "安顺市", 6),
    ("5205", "毕节市", 8),
    ("5206", "铜仁市", 10),
    ("5223", "黔西南布依族苗族自治州", 8),
    ("5226", "黔东南苗族侗族自治州", 16),
    ("5227", "黔南布依族苗族自治州", 12),
)
COUNTY_NAMES = "平安宁和丰泰兴隆瓮榕锦施台剑麻雷岑三天从黎江凯镇普罗紫关望册贞晴盘水"
SURNAMES = (
    "杨",
    "吴",
    "龙",
    "潘",
    "张",
    "王",
    "李",
    "刘",
    "陈",
    "罗",
    "石",
    "田",
    "欧",
    "邰",
    "顾",
    "黄",
    "赵",
    "周",
    "胡",
    "韦",
    "蒙",
    "莫",
    "徐",
    "何",
)
GIVEN = (
    "正华",
    "光明",
    "秀英",
    "德成",
    "志强",
    "桂兰",
    "金花",
    "文军",
    "国平",
    "玉梅",
    "建国",
    "春燕",
    "海",
    "勇",
    "芳",
    "明",
    "小龙",
    "世荣",
    "昌荣",
    "永福",
    "红梅",
    "家兴",
    "子涵",
    "雨欣",
)
CAUSES = ("缺技术", "因病", "自身发展动力不足", "缺劳力", "因学", "因残", "缺资金", "因灾")
# 3.5 persons a household on average (1–6).
PERSONS = "(1 + ((h.id * 37) % 6))"
META = "bench_province_meta"  # the generated size, written last: a half-generated db has none


def county_weights() -> list[float]:
    """88 uneven county sizes in 万 persons at full size, 30–80: a skewed spread (mean ≈ 40)."""
    weights = []
    for index in range(sum(count for _code, _name, count in CITIES)):
        spread = (index * 0.6180339887 + 0.31) % 1.0  # a deterministic, even spread over [0, 1)
        weights.append(30 + 50 * spread**4)
    return weights


def _setup(database: str, settings: str = SETTINGS) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ["CELERY_BROKER_URL"] = rates_bench.BROKER
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    import django

    django.setup()


def _sql(statement: str, params: list | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else cursor.rowcount


def _generated_size() -> int | None:
    from django.db import connection

    if META not in connection.introspection.table_names():
        return None
    rows = _sql(f"SELECT households FROM {META}")
    return rows[0][0] if rows else None


def _regions(households: int) -> list[tuple]:
    """The region tree (ORM bulk inserts: ≈ 30k rows); returns per county (county, its
    households at this scale, its village ids)."""
    from povertyapp.models import Region

    province = Region.objects.create(
        code=PROVINCE_CODE, name="贵州省", level="province", path=f"/{PROVINCE_CODE}/"
    )
    weights = county_weights()
    total = sum(weights)
    counties = []
    index = 0
    for prefix, city_name, count in CITIES:
        city = Region.objects.create(
            code=f"{prefix}00000000",
            name=city_name,
            level="city",
            parent=province,
            path=f"{province.path}{prefix}00000000/",
            is_western=True,
        )
        for number in range(count):
            code6 = f"{prefix}{21 + number:02d}"
            full = FULL_HOUSEHOLDS * weights[index] / total
            mine = max(1, round(households * weights[index] / total))
            county = Region.objects.create(
                code=f"{code6}000000",
                name=f"{COUNTY_NAMES[index % len(COUNTY_NAMES)]}{'县' if number % 3 else '市'}"
                f"{index + 1}",
                level="county",
                parent=city,
                path=f"{city.path}{code6}000000/",
                is_western=True,
            )
            villages = max(1, round(full / HOUSEHOLDS_PER_VILLAGE))
            townships = math.ceil(villages / VILLAGES_PER_TOWNSHIP)
            made = Region.objects.bulk_create(
                [
                    Region(
                        code=f"{code6}{100 + t:03d}000",
                        name=f"{COUNTY_NAMES[(index + t) % len(COUNTY_NAMES)]}镇{t + 1}",
                        level="township",
                        parent=county,
                        path=f"{county.path}{code6}{100 + t:03d}000/",
                        is_western=True,
                    )
                    for t in range(townships)
                ]
            )
            rows = []
            for v in range(villages):
                township = made[v % townships]
                code = f"{township.code[:9]}{200 + v // townships:03d}"
                rows.append(
                    Region(
                        code=code,
                        name=f"{SURNAMES[v % len(SURNAMES)]}家寨村{v + 1}",
                        level="village",
                        parent=township,
                        path=f"{township.path}{code}/",
                        is_western=True,
                    )
                )
            village_ids = [row.pk for row in Region.objects.bulk_create(rows, batch_size=2000)]
            counties.append((county, mine, village_ids))
            index += 1
    return counties


def _array(values) -> str:
    return "(ARRAY[" + ",".join(f"'{value}'" for value in values) + "])"


def _county(county, households: int, village_ids: list[int]) -> None:
    """One county's registry, round and events, by INSERT ... SELECT."""
    from django.utils import timezone

    from households.models import Household, HouseholdEvent, HouseholdIncome, Member
    from povertyapp.models import VillageYear
    from rounds.models import AdjustmentRound
    from rounds.services import baseline_freeze

    insert = rates_bench._insert_select
    code6 = county.code[:6]
    share = "((g * 7919) % 100)"
    insert(
        Household,
        {
            "number": f"'{code6}' || lpad(g::text, 9, '0')",
            "village_id": f"(%s::bigint[])[1 + (g % {len(village_ids)})]",
            "county_id": str(county.pk),  # the county key (households.counties)
            "status": rates_bench.STATUS.replace("s <", f"{share} <"),
            "exit_year": f"CASE WHEN {share} BETWEEN 24 AND 80 THEN 2016 + g % 4 ELSE NULL END",
            "main_cause": (
                f"CASE WHEN {share} < 85 THEN {_array(CAUSES)}[1 + (g % {len(CAUSES)})] ELSE '' END"
            ),
            "poverty_attribute": (
                f"CASE WHEN {share} < 85 THEN (ARRAY['一般贫困户','低保贫困户','特困供养贫困户'])"
                f"[1 + g % 3] ELSE '' END"
            ),
            "first_identified_year": f"CASE WHEN {share} < 85 THEN 2014 + g % 3 ELSE NULL END",
            "phone": "'1' || (38 + g % 12)::text || lpad(((g * 7717) % 100000000)::text, 8, '0')",
            "road_type": "(ARRAY['水泥路','沥青路','砂石路'])[1 + g % 3]",
            "house_grade": "(ARRAY['A','B','B','C'])[1 + g % 4]",
            "fuel_type": "(ARRAY['柴草','电','液化气'])[1 + g % 3]",
            "housing_area": "40 + g % 120",
            "water_safe": "true",
            "water_difficult": "(g % 29 = 0)",
            "has_sanitary_toilet": "(g % 3 <> 0)",
        },
        "FROM generate_series(1, %s) g",
        [village_ids, households],
    )
    surnames, given = _array(SURNAMES), _array(GIVEN)
    insert(
        Member,
        {
            "household_id": "h.id",
            "county_id": "h.county_id",
            # The head and the children carry the household's surname, the spouse another.
            "name": (
                f"{surnames}[1 + ((h.id * 31 + CASE WHEN k = 2 THEN 7 ELSE 0 END) "
                f"% {len(SURNAMES)})] || {given}[1 + ((h.id * 7 + k * 13) % {len(GIVEN)})]"
            ),
            "id_type": "'居民身份证'",
            "id_number": (
                f"'{code6}' || to_char(date '1940-01-01' + ((h.id * 13 + k * 101) % 27000)::int,"
                " 'YYYYMMDD') || lpad(((h.id * 10 + k) % 1000)::text, 3, '0') || "
                "(ARRAY['0','1','2','3','4','5','6','7','8','9','X'])[1 + (h.id + k) % 11]"
            ),
            "sex": "CASE WHEN k % 2 = 1 THEN '男' ELSE '女' END",
            "birth_date": "date '1940-01-01' + ((h.id * 13 + k * 101) % 27000)::int",
            "relation": (
                "CASE WHEN k = 1 THEN '户主' WHEN k = 2 THEN '配偶' "
                "WHEN k < 5 THEN '之子' ELSE '之女' END"
            ),
            "ethnicity": "(ARRAY['苗族','侗族','汉族','布依族','水族'])[1 + (h.id + k) % 5]",
            "education": "(ARRAY['小学','初中','高中','文盲或半文盲'])[1 + (h.id + k) % 4]",
            "school_status": "'非在校生'",
            "health": "CASE WHEN (h.id + k) % 11 = 0 THEN '长期慢性病' ELSE '健康' END",
            "labour_skill": "CASE WHEN k % 5 = 0 THEN '' ELSE '普通劳动力' END",
            "work_status": "CASE WHEN k < 3 THEN '省外务工' ELSE '' END",
            "work_months": "CASE WHEN k < 3 THEN 6 + h.id % 7 ELSE 0 END",
            "has_medical_insurance": "true",
            "has_pension_insurance": "(k < 3)",
            "joined_on": "date '2014-03-01'",
        },
        f"FROM households_household h CROSS JOIN LATERAL generate_series(1, {PERSONS}) k "
        "WHERE h.village_id = ANY(%s)",
        [village_ids],
    )
    insert(
        HouseholdIncome,
        {
            "household_id": "h.id",
            "year": str(YEAR - 1),
            "wage": f"(3000 + (h.id * 17) % 30000) * {PERSONS} / 2",
            "production": "(h.id * 29) % 6000",
            "property_income": "(h.id * 13) % 500",
            "family_planning": "0",
            "dibao": "CASE WHEN h.poverty_attribute = '低保贫困户' THEN 3600 ELSE 0 END",
            "tekun": "CASE WHEN h.poverty_attribute = '特困供养贫困户' THEN 6000 ELSE 0 END",
            "pension": "(h.id % 4) * 1200",
            "eco_compensation": "(h.id * 7) % 800",
            "other_transfer": "0",
            "production_cost": "(h.id * 11) % 2000",
            "compliant_out_of_pocket": "(h.id * 3) % 1500",
            "insurance_claims": "0",
        },
        "FROM households_household h WHERE h.village_id = ANY(%s) "
        "AND h.status IN ('poor','returned','exited')",
        [village_ids],
    )
    _sql(
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
    round = AdjustmentRound.objects.create(
        county=county, year=YEAR, name=f"{YEAR}年动态调整", opened_at=timezone.now()
    )
    baseline_freeze(round)
    kind = (
        "CASE WHEN h.status IN ('poor','returned','exited') AND h.id % 83 = 0 THEN 'removed' "
        "WHEN h.status = 'exited' AND h.id % 97 = 1 THEN 'returned' "
        "WHEN h.status = 'non_registered' AND h.id % 71 = 2 THEN 'identified' "
        "WHEN h.status IN ('poor','returned') AND h.id % 5 = 3 THEN 'exited' END"
    )
    insert(
        HouseholdEvent,
        {
            "household_id": "h.id",
            "kind": kind,
            "from_status": "h.status",
            "to_status": kind.replace("THEN 'identified'", "THEN 'poor'"),
            "effective_date": "date '2020-06-20'",
            "round_id": "%s",
            "persons": PERSONS,
            "reason": "'动态调整'",
        },
        f"FROM households_household h WHERE h.village_id = ANY(%s) AND ({kind}) IS NOT NULL",
        [round.pk, village_ids],
    )


def _users(largest) -> None:
    """16 county officers of the largest county, 16 province-wide auditors and 16 province
    officers (one account per client: the search budget is per user)."""
    from povertyapp.models import Region, User
    from povertyapp.services import user_create

    province = Region.objects.get(code=PROVINCE_CODE)
    for prefix, role, region, title in (
        ("county", User.Role.COUNTY_OFFICER, largest, "县扶贫办"),
        ("provaudit", User.Role.AUDITOR, province, "省级评估组"),
        ("province", User.Role.PROVINCE_OFFICER, province, "省级乡村振兴部门"),
    ):
        for number in range(1, 17):
            username = f"{prefix}{number:02d}"
            if not User.objects.filter(username=username).exists():
                user_create(
                    username=username,
                    password=loadgen.PASSWORD,
                    role=role,
                    region=region,
                    full_name=f"{title}{number}",
                    validate_password=False,
                )


def generate(args: argparse.Namespace) -> None:
    """Create, migrate and fill the database, or reuse it when it holds the requested size."""
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    size = _generated_size()
    if size == args.households:
        print(f"reused {args.database}: {size} households (generated earlier)")
        return
    if size is not None or _sql("SELECT EXISTS (SELECT 1 FROM povertyapp_region)")[0][0]:
        raise SystemExit(
            f"{args.database} holds another or an unfinished generation ({size} households): "
            "run with --regenerate to drop it and generate again"
        )
    started = time.perf_counter()
    with transaction.atomic():
        counties = _regions(args.households)
    print(
        f"regions: 1 province, {len(CITIES)} cities, {len(counties)} counties, "
        f"{sum(len(ids) for _c, _h, ids in counties)} villages "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    for number, (county, households, village_ids) in enumerate(counties, start=1):
        with transaction.atomic():
            _county(county, households, village_ids)
        print(
            f"  county {number}/{len(counties)} {county.code} {households} households, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    largest = max(counties, key=lambda item: item[1])[0]
    _users(largest)
    filled = time.perf_counter() - started
    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    vacuum = time.perf_counter() - vacuum_started
    _sql(f"CREATE TABLE {META} (households bigint NOT NULL, generated_at timestamptz NOT NULL)")
    _sql(f"INSERT INTO {META} VALUES (%s, now())", [args.households])
    persons = _sql("SELECT count(*) FROM households_member")[0][0]
    database_size = _sql("SELECT pg_size_pretty(pg_database_size(current_database()))")[0][0]
    load = os.getloadavg()
    print(
        f"generated {args.households} households / {persons} persons in {len(counties)} "
        f"counties in {filled:.0f} s (direct SQL) + {vacuum:.0f} s VACUUM ANALYZE; database "
        f"{args.database} {database_size}; load average {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=FULL_HOUSEHOLDS, help="in all")
    parser.add_argument("--database", default="bench_province")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--regenerate", action="store_true", help="drop the database and generate it again"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--skip-rates", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument(
        "--skip-load",
        action="store_true",
        help="pages: the in-process profile only, no gunicorn load test",
    )
    parser.add_argument(
        "--skip-profile", action="store_true", help="pages: no in-process profile before the load"
    )
    parser.add_argument(
        "--lists-only",
        action="store_true",
        help="only the county and province lists in-process (the county key, issue 19)",
    )
    parser.add_argument(
        "--skip-scenarios",
        default="",
        help="pages: load-test scenarios left out, comma-separated (e.g. 'province search "
        "plain': at full size each of its requests counts every match of the province)",
    )
    parser.add_argument(
        "--searches",
        type=int,
        default=6,
        help="pages: surnames searched per user (each first run once to get its token)",
    )
    args = parser.parse_args()
    if args.regenerate:
        loadgen.admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    if not loadgen.database_exists(args.database):
        loadgen.admin(f'CREATE DATABASE "{args.database}"')
    _setup(args.database)
    generate(args)
    if args.generate_only:
        return 0
    from bench import province_measure

    if args.lists_only:
        province_measure.lists(args)
        return 0
    if not args.skip_rates:
        province_measure.rates(args)
    if not args.skip_pages:
        province_measure.pages(args)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    raise SystemExit(main())
