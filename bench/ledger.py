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
xlsxwriter constant_memory `write_row`. Goals: ≤ 1.3× the faster raw writer, ≤ 300 MB.

Import: the generated workbook imported into an emptied registry (TRUNCATE of the registry
tables) against Django `bulk_create` of the same households and members (built in memory from
the same generated values, timed alone; then emptied again). Goal: ≤ 3×.
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


def _county_officer():  # type: ignore[no-untyped-def]
    from povertyapp.models import User

    return User.objects.get(username="bench_county")


def child_ledger(key: str, output: str) -> dict:
    _django()
    from povertyapp.ledgers.services import ledger_write

    user = _county_officer()
    start = time.perf_counter()
    result = ledger_write(user=user, key=key, filters={}, path=output)
    return {
        "seconds": time.perf_counter() - start,
        "rss_mb": _rss_mb(),
        "rows": result.rows,
        "bytes": os.path.getsize(output),
    }


def _values(key: str) -> list:
    from households import exports

    user = _county_officer()
    rows = exports.household_rows if key == "households" else exports.member_rows
    return [tuple(row) for row in rows(user=user, filters={})]


def child_raw(key: str, writer: str, output: str) -> dict:
    _django()
    values = _values(key)
    before = _rss_mb()
    start = time.perf_counter()
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
        "rss_mb": _rss_mb(),
        "rss_values_mb": before,
        "rows": len(values),
    }


BENCH_COUNTY = "522622000000"
TOWNSHIPS, VILLAGES = 10, 10


def _regions():  # type: ignore[no-untyped-def]
    from povertyapp.models import Region, User
    from povertyapp.services import region_create, user_create

    def region(code, name, level, parent=None):  # type: ignore[no-untyped-def]
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


def generate(households: int, villages: list) -> tuple[list, list]:  # type: ignore[type-arg]
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


def _workbook(path: str, household_rows: list, member_rows: list) -> None:  # type: ignore[type-arg]
    from households.exports import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
    from povertyapp.ledgers.layout import LedgerWorkbook, Letterhead, SheetSpec

    def rows(data, columns):  # type: ignore[no-untyped-def]
        keys = [column.key for column in columns]
        for item in data:
            yield [item.get(key) for key in keys]

    with LedgerWorkbook(
        path,
        letterhead=Letterhead("黄平县", "bench", datetime.date.today()),
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


def _bulk_create(household_rows, member_rows, user, *, incomes: bool) -> None:  # type: ignore[no-untyped-def]
    """Django bulk_create of the generated households and members (the import's baseline)."""
    from django.db import transaction

    from households.models import Household, HouseholdIncome, Member

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
            )
            for row in household_rows
        ]
        Household.objects.bulk_create(objects, batch_size=1000)
        ids = {household.number: household.pk for household in objects}
        Member.objects.bulk_create(
            [
                Member(
                    household_id=ids[row["household_number"]],
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


def child_import(households: str, path: str) -> dict:
    _django()
    from households.imports import import_households

    villages = _regions()
    user = _county_officer()
    household_rows, member_rows = generate(int(households), villages)
    _workbook(path, household_rows, member_rows)
    figures: dict = {"bytes": os.path.getsize(path)}
    _empty()
    start = time.perf_counter()
    _bulk_create(household_rows, member_rows, user, incomes=False)
    figures["bulk_create_seconds"] = time.perf_counter() - start
    _empty()
    start = time.perf_counter()
    report = import_households(actor=user, path=path, dry_run=False)
    figures["import_seconds"] = time.perf_counter() - start
    figures["import_errors"] = len(report.errors)
    figures["first_errors"] = [e.as_dict() for e in report.errors[:3]]
    figures["households"] = report.households_created
    figures["members"] = report.members_created
    start = time.perf_counter()
    again = import_households(actor=user, path=path, dry_run=False)
    figures["reimport_seconds"] = time.perf_counter() - start
    figures["reimport_unchanged"] = again.households_unchanged
    figures["rss_mb"] = _rss_mb()
    return figures


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--households", type=int, default=100_000, help="for the exports")
    parser.add_argument("--import-households", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    options = parser.parse_args()
    if options.child:
        kind, *rest = options.child
        function = {
            "ledger": child_ledger,
            "raw": child_raw,
            "import": child_import,
            "populate": child_populate,
        }[kind]
        print(json.dumps(function(*rest), ensure_ascii=False, default=str))
        return
    directory = tempfile.mkdtemp(prefix="bench-ledger-")
    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}")
    if not options.skip_import:
        figures = _run_child("import", str(options.import_households), f"{directory}/registry.xlsx")
        print(
            "import of a generated 户台账+人员台账 workbook "
            f"({figures['bytes'] / 1048576:.1f} MB): "
            f"{figures['households']} households, {figures['members']} members in "
            f"{figures['import_seconds']:.1f} s (errors: {figures['import_errors']} "
            f"{figures['first_errors']}), peak RSS {figures['rss_mb']:.0f} MB"
        )
        print(
            f"  bulk_create of the same rows: {figures['bulk_create_seconds']:.1f} s; ratio "
            f"{figures['import_seconds'] / figures['bulk_create_seconds']:.2f}× (goal ≤ 3×)"
        )
        print(
            f"  re-import of the same file: {figures['reimport_seconds']:.1f} s, "
            f"{figures['reimport_unchanged']} households unchanged, nothing written"
        )
    filled = _run_child("populate", str(options.households))
    print(
        f"registry for the exports: {filled['households']} households, {filled['members']} "
        f"members (bulk_create, {filled['seconds']:.1f} s)"
    )
    for key, label in (("households", "户台账"), ("members", "人员台账")):
        ours = _run_child("ledger", key, f"{directory}/{key}.xlsx")
        raw_openpyxl = _run_child("raw", key, "openpyxl", f"{directory}/{key}-openpyxl.xlsx")
        raw_xlsxwriter = _run_child("raw", key, "xlsxwriter", f"{directory}/{key}-xlsxwriter.xlsx")
        faster = min(raw_openpyxl["seconds"], raw_xlsxwriter["seconds"])
        print(
            f"{label}: {ours['rows']} rows, {ours['seconds']:.1f} s, "
            f"peak RSS {ours['rss_mb']:.0f} MB, {ours['bytes'] / 1048576:.1f} MB file"
        )
        print(
            f"  raw openpyxl write-only {raw_openpyxl['seconds']:.1f} s, "
            f"raw xlsxwriter constant_memory {raw_xlsxwriter['seconds']:.1f} s "
            f"(values held in memory beforehand, not timed)"
        )
        print(
            f"  ratio to the faster raw writer: {ours['seconds'] / faster:.2f}× (goal ≤ 1.3×); "
            f"peak RSS {ours['rss_mb']:.0f} MB (goal ≤ 300 MB)"
        )
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)


if __name__ == "__main__":
    main()
