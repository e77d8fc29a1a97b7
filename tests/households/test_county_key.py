"""The county key (`Household.county`, `Member.county`, issue 19): every write path keeps it
equal to the village's county, the scopes on it see exactly what the village path saw, no bulk
writer of households or members goes without it, and a county office's list reads the
(county, number) index on PostgreSQL.

`counties.stale()` is the check: one query counting the households and members whose key is
not their village's county. The class test below drives every path that writes the key — the
demo seed (COPY on PostgreSQL, batched INSERTs on SQLite), the workbook import (its set-wise
register), the services' household and member writes, a household moved to another county,
a village re-coded into another county and a village merged into another county's — and then
asks that one query."""

from __future__ import annotations

import ast
import datetime
import re
from pathlib import Path

import openpyxl
import pytest
from django.db import connection

from households import counties, selectors, services
from households.imports import import_households
from households.models import Household, Member
from households.onboarding import import_regions
from povertyapp import demo, roles
from povertyapp.models import Region, User
from povertyapp.services import region_create, user_create
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")


@pytest.fixture
def seeded(db):
    """The demo county (small) and a neighbour county of the same city with two villages."""
    result = demo.seed(households=40, seed=7)
    home = result["county"]
    neighbour = region_create(
        code="522631000000", name="黎平县", level=Region.Level.COUNTY, parent=home.county.parent
    )
    township = region_create(
        code="522631100000", name="德凤街道", level=Region.Level.TOWNSHIP, parent=neighbour
    )
    villages = [
        region_create(
            code=f"52263110020{index}",
            name=f"邻县村{index}",
            level=Region.Level.VILLAGE,
            parent=township,
        )
        for index in range(2)
    ]
    return result, neighbour, villages


def _import_workbook(path: Path, township: Region, village: Region, count: int) -> str:
    book = openpyxl.Workbook()
    households = book.active
    households.title = "户台账"
    households.append(["户编号", "乡（镇）", "行政村", "户状态", "主要致贫原因"])
    members = book.create_sheet("人员台账")
    members.append(["户编号", "姓名", "证件号码", "性别", "出生日期", "与户主关系", "民族"])
    for index in range(count):
        number = f"CK{index:04d}"
        birth = datetime.date(1931, 1, 1) + datetime.timedelta(days=index * 11)
        households.append([number, township.name, village.name, "未脱贫", "缺技术"])
        members.append(
            [number, f"导入{index}", factories.id_number(birth, "男"), "男", birth, "户主", "汉族"]
        )
    book.save(path)
    return str(path)


def _regions_file(path: Path, sheets: dict[str, list[list]]) -> str:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return str(path)


def test_every_write_path_keeps_the_county_key_true(seeded, tmp_path):
    result, neighbour, (village_n0, _village_n1) = seeded
    home = result["county"]
    officer = result["users"]["county"]
    assert Household.objects.count() >= 40 and counties.stale() == (0, 0)
    in_home = Household.objects.filter(village__path__startswith=home.county.path)
    assert set(in_home.values_list("county_id", flat=True)) == {home.county.pk}

    # The workbook import (its set-wise register: COPY on PostgreSQL, bulk_create elsewhere).
    township = home.townships[0]
    village = next(v for v in home.villages if v.parent_id == township.pk)
    report = import_households(
        actor=officer,
        path=_import_workbook(tmp_path / "import.xlsx", township, village, 3),
        dry_run=False,
    )
    assert (report.errors, report.written) == ([], True)
    imported = Household.objects.filter(number__startswith="CK")
    assert imported.count() == 3 and counties.stale() == (0, 0)

    # The services: a household moved to a village of another township, a member added.
    household = imported.first()
    other = next(v for v in home.villages if v.parent_id != township.pk)
    household = services.household_update(
        actor=officer, household=household, data={"village": other}, expected_version=1
    )
    assert household.village_id == other.pk
    # A household moved to another county (the model's own save: the path of any writer the
    # services do not cover) takes the new county, and its members follow.
    moved = Household.objects.exclude(pk=household.pk).filter(number__startswith="CK").first()
    moved.village = village_n0
    moved.save(update_fields=["village"])
    assert Household.objects.get(pk=moved.pk).county_id == neighbour.pk
    assert set(Member.objects.filter(household=moved).values_list("county_id", flat=True)) == {
        neighbour.pk
    }

    # A village re-coded into the neighbour county, another merged into a neighbour village.
    recoded, merged = home.villages[-1], home.villages[-2]
    recoded_households = Household.objects.filter(village=recoded).count()
    merged_households = Household.objects.filter(village=merged).count()
    assert recoded_households and merged_households
    path = _regions_file(
        tmp_path / "regions.xlsx",
        {
            "行政区划": [
                ["统计用区划代码", "名称", "城乡分类代码", "层级", "原区划代码"],
                ["522631100205", recoded.name, "220", "", recoded.code],
                ["522631100200", village_n0.name, "220", "", ""],
            ],
            "撤并": [
                ["原区划代码", "原名称", "并入区划代码"],
                [merged.code, merged.name, "522631100200"],
            ],
        },
    )
    report = import_regions(actor=None, path=path, dry_run=False)
    assert report.errors == [] and report.households_moved == merged_households

    in_neighbour = Household.objects.filter(county=neighbour)
    assert in_neighbour.count() == recoded_households + merged_households + 1
    assert set(in_neighbour.values_list("village__path", flat=True)) <= {
        Region.objects.get(pk=recoded.pk).path,
        village_n0.path,
    }
    assert Member.objects.filter(county=neighbour).count() == (
        Member.objects.filter(household__in=in_neighbour).count()
    )
    assert counties.stale() == (0, 0)

    # The check itself sees one wrong row (a test that cannot fail proves nothing).
    member = Member.objects.filter(county=neighbour).first()
    Member.objects.filter(pk=member.pk).update(county=home.county)
    assert counties.stale() == (0, 1)
    Household.objects.filter(pk=moved.pk).update(county=home.county)
    assert counties.stale() == (1, 1)
    assert counties.resync() == (1, 1) and counties.stale() == (0, 0)


def test_the_scopes_on_the_key_see_what_the_village_path_sees(seeded):
    """A county office, a city-wide and a province-wide case user (the key), a township and a
    village user (the path): each sees exactly the households and members of its subtree."""
    result, neighbour, (village_n0, _) = seeded
    home = result["county"]
    officer = result["users"]["county"]
    factories.household(actor=officer, village=home.villages[0])
    other_officer = factories.user("county_n", User.Role.COUNTY_OFFICER, neighbour)
    factories.household(actor=other_officer, village=village_n0)
    users = [
        officer,
        other_officer,
        result["users"]["township"],
        result["users"]["cadre"],
        user_create(
            username="city_auditor",
            password="x",
            role=User.Role.AUDITOR,
            region=home.county.parent,
            validate_password=False,
        ),
        user_create(
            username="province_auditor",
            password="x",
            role=User.Role.AUDITOR,
            region=home.county.parent.parent,
            validate_password=False,
        ),
    ]
    for user in users:
        path = user.region.path
        expected = set(
            Household.objects.filter(village__path__startswith=path).values_list("pk", flat=True)
        )
        assert expected, user.username
        seen = set(
            roles.household_scope(user, Household.objects.all()).values_list("pk", flat=True)
        )
        assert seen == expected, user.username
        expected_members = set(
            Member.objects.filter(household__village__path__startswith=path).values_list(
                "pk", flat=True
            )
        )
        members = set(
            Member.objects.filter(roles.household_scope_q(user)).values_list("pk", flat=True)
        )
        assert members == expected_members, user.username
        # The member list filters on the members' own key at the county and above.
        listed = selectors.member_list(user=user, include_inactive=True)
        assert set(listed.values_list("pk", flat=True)) == expected_members, user.username
        where = str(listed.query).split(" WHERE ", 1)[1]
        above = user.region.level in (Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE)
        assert ('"households_member"."county_id"' in where) is above, (user.username, where)
    assert Household.objects.filter(county=neighbour).count() == 1


# --- every bulk writer of households or members fills the key --------------------------------

# Calls that write rows without `Model.save()`: a module that calls one of them on Household or
# Member (by name, or through the tables' names in SQL) must write `county_id` itself.
BULK_CALLS = {"load_rows", "bulk_create", "RenderedRows", "CopyStream", "_insert_select"}
TABLES = re.compile(r"\b(households_household|households_member)\b")
WRITE_SQL = re.compile(r"\b(INSERT\s+INTO|COPY)\s+\"?(households_household|households_member)\b")
# The writers there are today: the scan must find each (it is not vacuous).
KNOWN_WRITERS = {
    "households/services/bulk.py",
    "households/demo.py",
    "bench/province.py",
    "bench/rates.py",
    "bench/ledger.py",
    "bench/monitoring.py",
}


def _project_modules() -> list[Path]:
    skipped = {".venv", "tests", "migrations", "node_modules", "static", "staticfiles"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skipped.intersection(path.relative_to(ROOT).parts)
    ]


def _bulk_writes_registry(tree: ast.AST, text: str) -> bool:
    # Local names given to a bulk call (`insert = rates_bench._insert_select`).
    calls = set(BULK_CALLS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Attribute, ast.Name)):
            value = getattr(node.value, "attr", None) or getattr(node.value, "id", None)
            if value in BULK_CALLS:
                calls.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = getattr(function, "attr", None) or getattr(function, "id", None)
        if name not in calls:
            continue
        subject = [*node.args[:1]]
        if isinstance(function, ast.Attribute):
            subject.append(function.value)
        for part in subject:
            for inner in ast.walk(part):
                if isinstance(inner, ast.Name) and inner.id in ("Household", "Member"):
                    return True
        # A loop over models (`for model in (Household, ...)`): the module's model names.
        if any(isinstance(a, ast.Name) and a.id == "model" for a in node.args[:1]) and re.search(
            r"\bfor model in \([^)]*\b(Household|Member)\b", text
        ):
            return True
    return bool(WRITE_SQL.search(text))


def test_every_bulk_writer_of_households_or_members_writes_the_county_key():
    writers = set()
    missing = []
    for path in _project_modules():
        text = path.read_text(encoding="utf-8")
        if "Household" not in text and "Member" not in text and not TABLES.search(text):
            continue
        relative = path.relative_to(ROOT).as_posix()
        if not _bulk_writes_registry(ast.parse(text), text):
            continue
        writers.add(relative)
        if "county_id" not in text:
            missing.append(relative)
    assert not missing, (
        "These modules write households or members in bulk without the county key "
        f"(county_id: households.counties.county_ids_of_villages): {missing}"
    )
    assert writers >= KNOWN_WRITERS, f"the scan no longer finds {KNOWN_WRITERS - writers}"


def test_a_row_without_the_key_is_refused_by_the_database(db, cast, county):
    """NOT NULL: a writer that forgets the column fails at once, not with a stale list."""
    from django.db import transaction
    from django.utils import timezone

    from povertyapp import bulk

    # IntegrityError on SQLite; psycopg2's NotNullViolation out of PostgreSQL's COPY (the raw
    # cursor's, which Django does not wrap): both name the column.
    with pytest.raises(Exception, match="county_id"), transaction.atomic():
        bulk.load_rows(
            Household,
            iter([{"number": "NOKEY1", "village_id": county.village_a.pk, "version": 1}]),
            now=timezone.now(),
        )


# --- the plan on PostgreSQL -------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_a_county_list_page_reads_the_county_number_index(seeded):
    """The county office's list, page 50 of 20 (`ORDER BY number, id LIMIT 20 OFFSET 980`):
    the (county, number) index range of its county, not the whole number index filtered row by
    row. Sequential scans are off so that the small test tables do not decide the plan; the
    choice left is between the indexes."""
    from django.db import transaction

    from households import selectors

    result, neighbour, (village_n0, village_n1) = seeded
    officer = result["users"]["county"]
    other = factories.user("county_n", User.Role.COUNTY_OFFICER, neighbour)
    # The neighbour holds most of the registry, as the other counties of a province do: with
    # the officer's county a small share, walking the whole number index is the wrong plan
    # whatever the order the tests ran in (with two counties of equal size it is a fair one).
    with transaction.atomic():
        services.households_bulk_register(
            actor=other,
            households=[
                (
                    {
                        "village": (village_n0, village_n1)[index % 2],
                        "number": f"NB{index:05d}",
                        "status": Household.Status.NON_REGISTERED,
                        "exit_year": None,
                        "main_cause": "",
                        "poverty_attribute": "",
                    },
                    [
                        factories.member_data(
                            name=f"邻{index}",
                            birth_date=datetime.date(1950, 1, 1) + datetime.timedelta(days=index),
                        )
                    ],
                    None,
                )
                for index in range(3000)
            ],
            reason="导入",
        )
    queryset = selectors.household_list(user=officer).values("pk")[980:1000]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE households_household")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "household_county_number_idx" in plan, plan
    assert "households_household_number_key" not in plan, plan
