"""Benchmark of the Excel ledgers (not a test): prints figures and ratios to baselines measured
in the same run.

    createdb -h 127.0.0.1 -U postgres bench_ledger
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ledger
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/ledger.py --households 100000 --import-households 100000

Data are generated (deterministic; ≈3.7 persons per household, valid ID numbers): the import
benchmark writes a 户台账+人员台账 workbook of --import-households households and imports it
into an emptied registry; the exports run over --households households loaded with bulk_create.

Exports (户台账 ≈ 100k rows, 人员台账 ≈ 370k rows): seconds and peak RSS of the ledger writer
(database → xlsx, each in its own subprocess so RSS is its own), against the raw writers writing
the same values, already in memory, without any layout: openpyxl write-only `append`, and
xlsxwriter constant_memory `write_row`. Goals: ≤ 1.3× the faster raw writer, ≤ 300 MB. The raw
children fetch the values with the ledger's own row functions first; that fetch is timed apart
(the query alone) and also shown added to the raw writer. CPU seconds are printed next to wall
seconds (a loaded machine inflates wall time). On the demo registry seeded once outside the
benchmark (what docs/performance.md records):

    .venv/bin/python bench/seed.py --households 100000 --database h5_ledger --keep
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h5_ledger flock /tmp/team/bench.lock \\
        .venv/bin/python bench/ledger.py --skip-import --existing-data --user county \\
        --ledgers households

Import (issue 19): the generated workbook imported into an emptied registry (TRUNCATE of the
registry tables), as the job runs it, against the baseline the issue names: a raw COPY of the
very rows the import wrote (households, members, incomes, their history rows, the 建档 events:
dumped as COPY text after the import, COPYed back into the emptied tables in one transaction)
plus the XML-parse floor of the workbook (both sheets inflated and run through pyexpat with no
handler, measured before and after the import, the mean taken). Goal: ≤ 3×, ≤ 300 MB peak RSS
(each step runs in its own subprocess, so the peak RSS printed is the import's own). CPU
seconds of the import process and the load average are printed (wall time on a shared machine
measures the scheduler too). `--bulk-create-baseline` adds the earlier baseline, Django
bulk_create of the same households and members before and after. Generate the workbook once:

    .venv/bin/python bench/ledger.py --import-households 100000 \
        --import-workbook /tmp/import-100k.xlsx --generate-only
    .venv/bin/python bench/ledger.py --import-only --skip-reimport \
        --import-households 100000 --import-workbook /tmp/import-100k.xlsx
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
    import django

    django.setup()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _county_officer(username: str = "bench_county"):
    from povertyapp.models import User

    return User.objects.get(username=username)


def _export_filters(income_year: str) -> dict:
    """The 户台账's income year: the given one, else the latest year with income rows (the
    default, last calendar year, may have none in generated data, which would leave the
    sixteen income columns empty)."""
    from django.db.models import Max

    from households.models import HouseholdIncome

    year = income_year or HouseholdIncome.objects.aggregate(year=Max("year"))["year"]
    return {"income_year": str(year)} if year else {}


def child_ledger(key: str, output: str, username: str, income_year: str) -> dict:
    _django()
    from povertyapp.ledgers.services import ledger_write

    user = _county_officer(username)
    filters = _export_filters(income_year)
    start, cpu = time.perf_counter(), time.process_time()
    result = ledger_write(user=user, key=key, filters=filters, path=output)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "rss_mb": _rss_mb(),
        "rows": result.rows,
        "bytes": os.path.getsize(output),
        "filters": filters,
    }


def _values(key: str, username: str, income_year: str) -> list:
    """The values the ledger writes, fetched by the ledger's own row functions."""
    from households import exports

    user = _county_officer(username)
    rows = exports.household_rows if key == "households" else exports.member_rows
    return [tuple(row) for row in rows(user=user, filters=_export_filters(income_year))]


def child_raw(key: str, writer: str, output: str, username: str, income_year: str) -> dict:
    _django()
    start = time.perf_counter()
    values = _values(key, username, income_year)
    fetch_seconds = time.perf_counter() - start
    before = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    if writer == "openpyxl":
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for row in values:
            sheet.append(row)
        workbook.save(output)
    else:
        import xlsxwriter

        workbook = xlsxwriter.Workbook(
            output,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        sheet = workbook.add_worksheet()
        write_row = sheet.write_row
        for index, row in enumerate(values):
            write_row(index, 0, row)
        workbook.close()
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "fetch_seconds": fetch_seconds,
        "rss_mb": _rss_mb(),
        "rss_values_mb": before,
        "rows": len(values),
    }


BENCH_COUNTY = "522622000000"
TOWNSHIPS, VILLAGES = 10, 10


def _regions():
    from povertyapp.models import Region, User
    from povertyapp.services import region_create, user_create

    def region(code, name, level, parent=None):
        return Region.objects.filter(code=code).first() or region_create(
            code=code, name=name, level=level, parent=parent, is_western=True
        )

    province = region("520000000000", "贵州省", Region.Level.PROVINCE)
    city = region("522600000000", "黔东南苗族侗族自治州", Region.Level.CITY, province)
    county = region(BENCH_COUNTY, "黄平县", Region.Level.COUNTY, city)
    villages = []
    for t in range(TOWNSHIPS):
        township = region(f"522622{100 + t:03d}000", f"第{t + 1}镇", Region.Level.TOWNSHIP, county)
        for v in range(VILLAGES):
            villages.append(
                region(
                    f"522622{100 + t:03d}{200 + v:03d}",
                    f"第{t + 1}镇{v + 1}村",
                    Region.Level.VILLAGE,
                    township,
                )
            )
    if not User.objects.filter(username="bench_county").exists():
        user_create(
            username="bench_county",
            password="Bench-pass-123",
            role=User.Role.COUNTY_OFFICER,
            region=county,
            validate_password=False,
        )
    return villages


def _id_number(birth: datetime.date, sex: str, used: dict) -> str:
    from stdnum.cn import ric

    count = used.get((birth, sex), 0)
    used[(birth, sex)] = count + 1
    sequence = count * 2 + (1 if sex == "男" else 2)
    body = f"522622{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def generate(households: int, villages: list) -> tuple[list, list]:
    """Deterministic households and members (dicts of Household/Member fields)."""
    day = datetime.timedelta(days=1)
    used: dict = {}
    causes = ["因病", "因残", "因学", "缺技术", "缺劳力", "缺资金"]
    household_rows, member_rows = [], []
    for index in range(households):
        village = villages[index % len(villages)]
        number = f"{village.code}{index // len(villages) + 1:05d}"
        exited = index % 3 == 0
        head_birth = datetime.date(1950, 1, 1) + (index * 37 % 14000) * day
        members = [("户主", "男", head_birth), ("配偶", "女", head_birth + 700 * day)]
        for child in range(1 if index % 10 < 6 else 2):
            sex = "男" if (index + child) % 2 else "女"
            members.append(
                (
                    "之子" if sex == "男" else "之女",
                    sex,
                    datetime.date(2000, 1, 1) + ((index * 13 + child * 400) % 6000) * day,
                )
            )
        if index % 10 < 3:
            members.append(("之母", "女", datetime.date(1935, 1, 1) + (index % 5000) * day))
        household_rows.append(
            {
                "number": number,
                "township_name": village.parent.name,
                "village_name": village.name,
                "status": "已脱贫" if exited else "未脱贫",
                "exit_year": 2019 if exited else None,
                "identification_standard": "国家标准",
                "poverty_attribute": "一般贫困户",
                "main_cause": causes[index % len(causes)],
                "first_identified_year": 2016,
                "phone": f"138{index:08d}",
                "bank_name": "农村信用社",
                "bank_account": f"62284804{index:011d}",
                "cultivated_land": Decimal(index % 50) / 10,
                "road_type": "水泥路",
                "house_grade": "B",
                "water_safe": True,
                "food_secure": True,
                "clothing_secure": True,
                "fuel_type": "柴草",
                "income_year": 2024,
                "wage": Decimal(12000 + index % 5000),
                "production": Decimal("3000.50"),
                "dibao": Decimal("1200"),
                "production_cost": Decimal("800"),
                "village": village,
            }
        )
        for relation, sex, birth in members:
            student = birth.year >= 2004
            member_rows.append(
                {
                    "household_number": number,
                    "name": f"{relation}{index}",
                    "id_type": "居民身份证",
                    "id_number": _id_number(birth, sex, used),
                    "sex": sex,
                    "birth_date": birth,
                    "relation": relation,
                    "ethnicity": "苗族" if index % 2 else "汉族",
                    "political_status": "群众",
                    "education": "初中" if not student else "小学",
                    "school_status": "小学" if student else "非在校生",
                    "health": "健康",
                    "labour_skill": "无劳动力" if student else "普通劳动力",
                    "work_status": "无" if student else "县内",
                    "work_months": 0 if student else 8,
                    "has_medical_insurance": True,
                    "has_pension_insurance": not student,
                    "living_status": "正常",
                }
            )
    return household_rows, member_rows


def _workbook(path: str, household_rows: list, member_rows: list) -> None:
    from django.utils import timezone

    from households.exports import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
    from povertyapp.ledgers.layout import LedgerWorkbook, Letterhead, SheetSpec

    def rows(data, columns):
        keys = [column.key for column in columns]
        for item in data:
            yield [item.get(key) for key in keys]

    with LedgerWorkbook(
        path,
        letterhead=Letterhead("黄平县", "bench", timezone.localdate()),
        sensitive_visible=True,
    ) as workbook:
        workbook.write_sheet(
            SheetSpec(
                "户台账",
                "户台账",
                HOUSEHOLD_COLUMNS,
                lambda: rows(household_rows, HOUSEHOLD_COLUMNS),
                lambda: len(household_rows),
            )
        )
        workbook.write_sheet(
            SheetSpec(
                "人员台账",
                "人员台账",
                MEMBER_COLUMNS,
                lambda: rows(member_rows, MEMBER_COLUMNS),
                lambda: len(member_rows),
            )
        )


REGISTRY_TABLES = [
    "households_household",
    "households_member",
    "households_householdincome",
    "households_householdevent",
    "households_historicalhousehold",
    "households_historicalmember",
    "households_historicalhouseholdincome",
]


def _empty() -> None:
    from django.db import connection, transaction

    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute("TRUNCATE " + ", ".join(REGISTRY_TABLES) + " CASCADE")


def _bulk_create(household_rows, member_rows, user, *, incomes: bool) -> None:
    """Django bulk_create of the generated households and members (the import's baseline)."""
    from django.db import transaction

    from households import counties
    from households.models import Household, HouseholdIncome, Member

    county_of = counties.county_ids_of_villages({row["village"].pk for row in household_rows})
    household_fields = {f.name for f in Household._meta.concrete_fields}
    member_fields = {f.name for f in Member._meta.concrete_fields}
    income_fields = {f.name for f in HouseholdIncome._meta.concrete_fields} - {"id", "year"}
    status = {"未脱贫": "poor", "已脱贫": "exited"}
    with transaction.atomic():
        objects = [
            Household(
                **{
                    k: v
                    for k, v in row.items()
                    if k in household_fields and k != "status" and v is not None
                },
                status=status[row["status"]],
                created_by=user,
                county_id=county_of[row["village"].pk],
            )
            for row in household_rows
        ]
        Household.objects.bulk_create(objects, batch_size=1000)
        ids = {household.number: household.pk for household in objects}
        county_ids = {household.number: household.county_id for household in objects}
        Member.objects.bulk_create(
            [
                Member(
                    household_id=ids[row["household_number"]],
                    county_id=county_ids[row["household_number"]],
                    **{k: v for k, v in row.items() if k in member_fields},
                )
                for row in member_rows
            ],
            batch_size=1000,
        )
        if incomes:
            HouseholdIncome.objects.bulk_create(
                [
                    HouseholdIncome(
                        household_id=ids[row["number"]],
                        year=row["income_year"],
                        **{k: v for k, v in row.items() if k in income_fields},
                    )
                    for row in household_rows
                ],
                batch_size=1000,
            )


def child_populate(households: str) -> dict:
    """Fill the registry with N generated households for the export benchmarks."""
    _django()
    villages = _regions()
    household_rows, member_rows = generate(int(households), villages)
    _empty()
    start = time.perf_counter()
    _bulk_create(household_rows, member_rows, _county_officer(), incomes=True)
    return {
        "seconds": time.perf_counter() - start,
        "households": len(household_rows),
        "members": len(member_rows),
    }


def child_import_workbook(households: str, path: str) -> dict:
    """Generate the import workbook (deterministic) unless it is already there."""
    _django()
    if not os.path.exists(path):
        household_rows, member_rows = generate(int(households), _regions())
        _workbook(path, household_rows, member_rows)
    return {"bytes": os.path.getsize(path)}


def child_import_baseline(households: str) -> dict:
    """Django bulk_create of the workbook's rows (generated again, deterministic) into an
    emptied registry: households and members, then the 户台账's income columns (timed apart)."""
    _django()
    from django.db import transaction

    from households.models import Household, HouseholdIncome

    villages = _regions()
    user = _county_officer()
    household_rows, member_rows = generate(int(households), villages)
    _empty()
    start = time.perf_counter()
    _bulk_create(household_rows, member_rows, user, incomes=False)
    seconds = time.perf_counter() - start
    ids = dict(Household.objects.values_list("number", "pk"))
    fields = {f.name for f in HouseholdIncome._meta.concrete_fields} - {"id", "year"}
    start = time.perf_counter()
    with transaction.atomic():
        HouseholdIncome.objects.bulk_create(
            [
                HouseholdIncome(
                    household_id=ids[row["number"]],
                    year=row["income_year"],
                    **{k: v for k, v in row.items() if k in fields},
                )
                for row in household_rows
            ],
            batch_size=1000,
        )
    income_seconds = time.perf_counter() - start
    _empty()
    return {
        "seconds": seconds,
        "income_seconds": income_seconds,
        "households": len(household_rows),
        "members": len(member_rows),
    }


def child_import_run(path: str, reimport: str = "yes", dump: str = "") -> dict:
    """The import, as the job runs it, into an emptied registry; then the same file again."""
    _django()
    from households.imports import import_households
    from households.models import Household, HouseholdEvent, Member

    _regions()
    user = _county_officer()
    _empty()
    from households.imports import validation

    # The import process's peak by the end of the reading, when the households sheet's reader
    # process (if any) has ended: their sum bounds the two processes' memory together.
    stage = validation._Validator.stage
    read_peak: list[float] = []

    def staged(self, *args):
        try:
            return stage(self, *args)
        finally:
            read_peak.append(_rss_mb())

    validation._Validator.stage = staged  # type: ignore[method-assign]  # the bench's probe
    rss_before = _rss_mb()
    start = time.perf_counter()
    cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = import_households(actor=user, path=path, dry_run=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures: dict = {
        "import_seconds": seconds,
        "import_cpu_seconds": cpu,
        # The households sheet's reader process (households.imports.beside), when it ran.
        "reader_cpu_seconds": (after.ru_utime + after.ru_stime)
        - (children.ru_utime + children.ru_stime),
        "reader_rss_mb": after.ru_maxrss / 1024,
        "read_rss_mb": read_peak[0] if read_peak else 0,
        "rss_before_mb": rss_before,
        "rss_mb": _rss_mb(),
        "import_errors": report.error_count,
        "first_errors": [e.as_dict() for e in report.errors[:3]],
        "households": report.households_created,
        "members": report.members_created,
        "written": {
            "households": Household.objects.count(),
            "household_history": Household.history.count(),
            "members": Member.objects.count(),
            "member_history": Member.history.count(),
            "events": HouseholdEvent.objects.count(),
        },
    }
    if reimport == "yes":
        start = time.perf_counter()
        again = import_households(actor=user, path=path, dry_run=False)
        figures["reimport_seconds"] = time.perf_counter() - start
        figures["reimport_unchanged"] = again.households_unchanged
        figures["reimport_written"] = again.households_created + again.households_updated
        figures["rss_after_reimport_mb"] = _rss_mb()
    if dump:
        _dump_registry(dump)
    _empty()
    return figures


def _dump_registry(directory: str) -> None:
    """The rows the import wrote, every registry table, as COPY text files (for the baseline)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in REGISTRY_TABLES:
            with open(os.path.join(directory, f"{table}.copy"), "wb") as handle:
                cursor.cursor.copy_expert(f'COPY "{table}" TO STDOUT', handle)


def child_copy_baseline(directory: str) -> dict:
    """The baseline the issue names: a raw COPY of the very rows the import wrote (households,
    members, incomes, their history rows, the 建档 events), read from the files the import run
    dumped, into the emptied registry, in one transaction: the database's floor."""
    _django()
    from django.db import connection, transaction

    _empty()
    sizes = {}
    start = time.perf_counter()
    cpu = time.process_time()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in REGISTRY_TABLES:
            name = os.path.join(directory, f"{table}.copy")
            sizes[table] = os.path.getsize(name)
            with open(name, "rb") as handle:
                cursor.cursor.copy_expert(f'COPY "{table}" FROM STDIN', handle, size=1 << 18)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    with connection.cursor() as cursor:
        counts = {}
        for table in REGISTRY_TABLES:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    _empty()
    return {"seconds": seconds, "cpu_seconds": cpu, "bytes": sum(sizes.values()), "rows": counts}


def child_parse_floor(path: str) -> dict:
    """The XML-parse floor: both sheets' XML inflated and run through pyexpat with no handler
    at all (what any pyexpat-based reader pays before doing anything with a cell)."""
    import pyexpat
    import zipfile

    start = time.perf_counter()
    cpu = time.process_time()
    cells = 0
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            parser = pyexpat.ParserCreate()
            with package.open(name) as part:
                while chunk := part.read(1 << 16):
                    cells += chunk.count(b"<c ")
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "cells": cells,
    }


def _import_figures(options: argparse.Namespace, directory: str) -> None:
    """Each step in its own subprocess (so peak RSS is the import's own): the workbook
    (generated once; kept with --import-workbook), the parse floor, the import (its rows then
    dumped as COPY text), the raw COPY of those same rows (the baseline of issue 19: COPY +
    parse floor), the re-import; with --bulk-create-baseline also Django bulk_create of the
    same households and members before and after the import (the earlier baseline)."""
    count = str(options.import_households)
    path = options.import_workbook or f"{directory}/registry.xlsx"
    made = _run_child("import-workbook", count, path)
    if options.generate_only:
        print(f"workbook {path}: {made['bytes'] / 1048576:.1f} MB")
        return
    dump = tempfile.mkdtemp(prefix="import-copy-", dir=directory)
    print(f"load average before the import: {os.getloadavg()}")
    before = _run_child("import-baseline", count) if options.bulk_create_baseline else None
    floor = _run_child("parse-floor", path)
    print(f"load average before the import run: {os.getloadavg()}")
    figures = _run_child("import-run", path, "no" if options.skip_reimport else "yes", dump)
    print(f"load average after the import run: {os.getloadavg()}")
    copy = _run_child("copy-baseline", dump)
    floor_after = _run_child("parse-floor", path)
    for name in os.listdir(dump):
        os.unlink(os.path.join(dump, name))
    os.rmdir(dump)
    print(f"load average after the baselines: {os.getloadavg()}")
    print(
        "import of a generated 户台账+人员台账 workbook "
        f"({made['bytes'] / 1048576:.1f} MB, {floor['cells']:,} cells): "
        f"{figures['households']} households, {figures['members']} members in "
        f"{figures['import_seconds']:.1f} s (CPU of the import process "
        f"{figures['import_cpu_seconds']:.1f} s, of its households sheet's reader process "
        f"{figures.get('reader_cpu_seconds', 0):.1f} s; errors: {figures['import_errors']} "
        f"{figures['first_errors']}); rows written {figures['written']}"
    )
    print(
        f"  peak RSS of the import process {figures['rss_mb']:.0f} MB "
        f"({figures['rss_before_mb']:.0f} MB after Django start-up; goal ≤ 300 MB)"
    )
    if figures.get("reader_cpu_seconds"):
        together = figures["read_rss_mb"] + figures["reader_rss_mb"]
        print(
            f"  the households sheet's reader process: peak RSS {figures['reader_rss_mb']:.0f} "
            f"MB; with the import process's peak by the end of the reading "
            f"({figures['read_rss_mb']:.0f} MB), at most {together:.0f} MB together "
            "(goal ≤ 300 MB)"
        )
    parse = (floor["seconds"] + floor_after["seconds"]) / 2
    print(
        f"  parse floor (pyexpat, no handlers, both sheets): {floor['seconds']:.1f} s before, "
        f"{floor_after['seconds']:.1f} s after (mean {parse:.1f} s)"
    )
    print(
        f"  raw COPY of the same rows ({sum(copy['rows'].values()):,} rows in "
        f"{len(copy['rows'])} tables, {copy['bytes'] / 1048576:.0f} MB of COPY text, "
        f"history rows and events included): {copy['seconds']:.1f} s"
    )
    floor_total = copy["seconds"] + parse
    print(
        f"  ratio import / (COPY + parse floor = {floor_total:.1f} s): "
        f"{figures['import_seconds'] / floor_total:.2f}× (goal ≤ 3×)"
    )
    if before is not None:
        after = _run_child("import-baseline", count)
        baseline = (before["seconds"] + after["seconds"]) / 2
        print(
            f"  bulk_create of the same households and members: {before['seconds']:.1f} s "
            f"before, {after['seconds']:.1f} s after (mean {baseline:.1f} s); ratio "
            f"{figures['import_seconds'] / baseline:.2f}×"
        )
    if "reimport_seconds" in figures:
        print(
            f"  re-import of the same file: {figures['reimport_seconds']:.1f} s, "
            f"{figures['reimport_unchanged']} households unchanged, "
            f"{figures['reimport_written']} written; peak RSS after it "
            f"{figures['rss_after_reimport_mb']:.0f} MB"
        )
    print(f"load average at the end: {os.getloadavg()}")


def _run_child(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise SystemExit(completed.stderr[-3000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _export_figures(options: argparse.Namespace, directory: str) -> None:
    """Each figure in its own subprocess: ours (database → xlsx with the layout), then the raw
    writers writing the same values fetched beforehand by the ledger's own row functions (the
    fetch timed separately: it is the query alone, and raw + fetch is the fairer second view)."""
    labels = {"households": "户台账", "members": "人员台账"}
    who = (options.user, options.income_year)
    print(f"load average before the exports: {os.getloadavg()}")
    for key in options.ledgers:
        ours = _run_child("ledger", key, f"{directory}/{key}.xlsx", *who)
        raw = {
            writer: _run_child("raw", key, writer, f"{directory}/{key}-{writer}.xlsx", *who)
            for writer in options.writers
        }
        faster_name = min(raw, key=lambda writer: raw[writer]["seconds"])
        faster = raw[faster_name]
        fetch = min(figures["fetch_seconds"] for figures in raw.values())
        print(
            f"{labels[key]} ({ours['filters']}, user {options.user}): {ours['rows']} rows, "
            f"{ours['seconds']:.1f} s (CPU {ours['cpu_seconds']:.1f} s), "
            f"peak RSS {ours['rss_mb']:.0f} MB, {ours['bytes'] / 1048576:.1f} MB file"
        )
        for writer, figures in raw.items():
            print(
                f"  raw {writer}: {figures['seconds']:.1f} s (CPU {figures['cpu_seconds']:.1f} s)"
                f" for {figures['rows']} rows held in memory (fetched beforehand in "
                f"{figures['fetch_seconds']:.1f} s, not timed; process RSS "
                f"{figures['rss_mb']:.0f} MB)"
            )
        print(f"  the query alone (the ledger's row function, fetched into a list): {fetch:.1f} s")
        print(
            f"  ratio to the faster raw writer ({faster_name}): "
            f"{ours['seconds'] / faster['seconds']:.2f}× (goal ≤ 1.3×); "
            f"CPU ratio {ours['cpu_seconds'] / faster['cpu_seconds']:.2f}×; "
            f"peak RSS {ours['rss_mb']:.0f} MB (goal ≤ 300 MB)"
        )
        print(
            f"  ratio to the faster raw writer plus the same fetch: "
            f"{ours['seconds'] / (faster['seconds'] + fetch):.2f}×"
        )
    print(f"load average after the exports: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--households", type=int, default=100_000, help="for the exports")
    parser.add_argument("--import-households", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--import-only", action="store_true", help="no export figures")
    parser.add_argument(
        "--import-workbook",
        default="",
        help="the generated import workbook: made once at this path, reused if present",
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="only make --import-workbook, measure nothing"
    )
    parser.add_argument("--skip-reimport", action="store_true", help="import once only")
    parser.add_argument(
        "--bulk-create-baseline",
        action="store_true",
        help="also time Django bulk_create of the same rows before and after the import",
    )
    parser.add_argument(
        "--existing-data",
        action="store_true",
        help="export the registry already in the database (e.g. seeded by bench/seed.py "
        "--keep) instead of filling it with --households generated households",
    )
    parser.add_argument("--user", default="bench_county", help="who exports (its scope)")
    parser.add_argument("--income-year", default="", help="户台账 income year (default: latest)")
    parser.add_argument(
        "--ledgers", nargs="+", default=["households", "members"], choices=["households", "members"]
    )
    parser.add_argument(
        "--writers",
        nargs="+",
        default=["xlsxwriter", "openpyxl"],
        choices=["xlsxwriter", "openpyxl"],
    )
    options = parser.parse_args()
    if options.child:
        kind, *rest = options.child
        function = {
            "ledger": child_ledger,
            "raw": child_raw,
            "import-workbook": child_import_workbook,
            "import-baseline": child_import_baseline,
            "import-run": child_import_run,
            "copy-baseline": child_copy_baseline,
            "parse-floor": child_parse_floor,
            "populate": child_populate,
        }[kind]
        print(json.dumps(function(*rest), ensure_ascii=False, default=str))
        return
    directory = tempfile.mkdtemp(prefix="bench-ledger-")
    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}")
    if not options.skip_import:
        _import_figures(options, directory)
    if options.import_only or options.generate_only:
        return
    if not options.existing_data:
        filled = _run_child("populate", str(options.households))
        print(
            f"registry for the exports: {filled['households']} households, "
            f"{filled['members']} members (bulk_create, {filled['seconds']:.1f} s)"
        )
    _export_figures(options, directory)
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)


if __name__ == "__main__":
    main()
