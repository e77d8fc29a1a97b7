"""The fixed cast every access test uses, in a small hand-built county.

county 522622 黄平县 (western)
  township T1 新州镇 ── village A 凤场村 (groups A1, A2), village A2 龙坪村
  township T2 旧州镇 ── village B 西垭村

cadre (village A)   cadre2 (village B)   township (T1)   county (county)
auditor (county)    helper (paired with one household of A)
sysadmin, secadmin, auditadmin (the three administrators of 三权分立, no region)
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from households.models import Household
from povertyapp.models import Region, User
from tests import factories

# Celery runs eagerly in every test except those marked `real_worker`, even with a broker set.
pytest_plugins = ["tests.celery_eager"]

# Reference data the data migrations load: (migration module, app, model, loader). A
# transactional test (live server, real worker) flushes every table when it ends, these
# included; post_migrate recreates content types and permissions, and the next test gets these
# back from here. This is the suite's one way to restore what migrations made: serialized
# rollback is refused (below), because mixed with flushing tests it restores content types
# under ids that post_migrate has since given to others (UNIQUE constraint failed on
# django_content_type, on PostgreSQL whatever the order).
REFERENCE_DATA = [
    (
        "households.migrations.0003_default_value_lists",
        "households",
        "ValueListItem",
        "add_defaults",
    ),
    (
        "assistance.migrations.0004_default_matching_rules",
        "assistance",
        "MatchingRule",
        "add_defaults",
    ),
    (
        "monitoring.migrations.0002_objects",
        "monitoring",
        "RiskMeasureRule",
        "add_defaults",
    ),
    (
        "povertyapp.migrations.0003_calendarday_holiday_arrangements",
        "povertyapp",
        "CalendarDay",
        "seed",
    ),
]


def pytest_collection_modifyitems(items):
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: serialized_rollback is not used in this suite; a transactional "
                "test flushes and tests/conftest.py's REFERENCE_DATA restores what the data "
                "migrations load."
            )


def _uses_db(request) -> bool:
    return bool(request.node.get_closest_marker("django_db")) or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )


@pytest.fixture(autouse=True)
def _reference_data(request):
    if not _uses_db(request):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue(
        "db"
        if "transactional_db" not in request.fixturenames
        and "live_server" not in request.fixturenames
        else "transactional_db"
    )
    for module, app_label, model, loader in REFERENCE_DATA:
        if not apps.get_model(app_label, model).objects.exists():
            getattr(importlib.import_module(module), loader)(apps, None)


@pytest.fixture(autouse=True)
def _row_locks_inside_a_transaction(request, _reference_data, monkeypatch):
    """Every row lock (`select_for_update`) the code takes is inside a transaction the code
    opened itself, not only the test's: in production (PostgreSQL, autocommit) a lock outside
    one raises TransactionManagementError, a 500, while every test runs inside its own
    transaction and SQLite ignores the lock, so neither CI lane saw it (2026-12-07: 完成评估
    and 结束排查 took their lock outside any transaction). The transactions the test itself
    is wrapped in are counted when it starts; a lock must be nested deeper. It is checked when
    the query runs (the compiler), not when the queryset is built: a locking queryset built in
    one place and evaluated inside another's transaction is judged where it takes the lock."""
    if not _uses_db(request):
        return
    from django.db import connections
    from django.db.models.sql.compiler import SQLCompiler

    wrapped = {alias: len(connections[alias].atomic_blocks) for alias in connections}
    original = SQLCompiler.execute_sql

    def execute_sql(self, *args, **kwargs):
        # SQLite writes no FOR UPDATE, but the query still carries the lock it asks for.
        if self.query.select_for_update and len(
            connections[self.using].atomic_blocks
        ) <= wrapped.get(self.using, 0):
            raise AssertionError(
                f"{self.query.model.__name__}.select_for_update() ran outside a transaction "
                "of the code's own: wrap the service in transaction.atomic"
            )
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "execute_sql", execute_sql)


# --- no test writes into the checkout ------------------------------------------------------------
# The directories below the checkout that the application writes to (git-ignored; the demo
# serves its files from them). A test's uploads, job workbooks, 整改佐证 files, 承诺授权书 scans,
# audit archives and staged imports go to the test's own temporary directory instead
# (`_files_in_tmp`), and the session fails if any file there is newer than the session's start.
WRITABLE_IN_CHECKOUT = ("media", "var")
CHECKOUT = Path(__file__).resolve().parents[1]
_SESSION_STARTED = pytest.StashKey[float]()
_WRITTEN = pytest.StashKey[list[str]]()


def _written_in_checkout(since: float) -> list[str]:
    return sorted(
        str(path.relative_to(CHECKOUT))
        for name in WRITABLE_IN_CHECKOUT
        for path in (CHECKOUT / name).rglob("*")
        if path.is_file() and path.stat().st_mtime >= since
    )


def pytest_sessionstart(session):
    session.config.stash[_SESSION_STARTED] = time.time()


def pytest_sessionfinish(session, exitstatus):
    started = session.config.stash.get(_SESSION_STARTED, None)
    written = [] if started is None else _written_in_checkout(started)
    session.config.stash[_WRITTEN] = written
    if written:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    written = config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.section("files written into the checkout", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(written)} file(s) were written below the checkout during the tests: a test "
            "must write below its tmp_path (tests/conftest.py `_files_in_tmp`). A demo served "
            "from this checkout at the same time writes there too."
        )
        for name in written[:20]:
            terminalreporter.write_line(f"  {name}")


@pytest.fixture(autouse=True)
def _files_in_tmp(request, settings, tmp_path):
    """Every file a test stores lands below its tmp_path. A `real_worker` test shares its files
    with the worker process, whose settings come from the environment (.ci/run points both at
    a directory of its own)."""
    if request.node.get_closest_marker("real_worker"):
        return
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")


@pytest.fixture(autouse=True)
def _interface_language():
    """Every test starts in the interface's language: a request made by an earlier test (with
    the English switch) leaves its language active in the thread (LocaleMiddleware)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: its database rows are rolled back, a cache is not."""
    from django.core.cache import cache

    cache.clear()


class FastHistoryHasher(PBKDF2PasswordHasher):
    """The password history's hasher (django-password-validators), at one round for tests."""

    iterations = 1


@pytest.fixture(autouse=True)
def _high_rate_limits(settings, monkeypatch):
    """No test meets a rate limit by accident (a permission walk makes hundreds of requests as
    one user); tests/povertyapp/test_rate_limits.py sets low ones to test the limits.

    The limits' clock stands still during a test: django-ratelimit counts in fixed windows,
    and a test whose requests straddled a window's end (a slow machine, a minute's window)
    saw its count start again and its over-the-limit request allowed."""
    import types

    import django_ratelimit.core

    settings.RATE_LIMIT_SEARCH = "100000/m"
    settings.RATE_LIMIT_EXPORT = "100000/m"
    settings.RATE_LIMIT_API = "100000/m"
    now = int(django_ratelimit.core.time.time())
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DPV_DEFAULT_HISTORY_HASHER = "tests.conftest.FastHistoryHasher"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class County:
    province: Region
    city: Region
    county: Region
    township1: Region
    township2: Region
    village_a: Region
    village_a2: Region
    village_b: Region
    group_a1: Region
    group_a2: Region


@dataclass
class Cast:
    cadre: User
    cadre2: User
    township: User
    county: User
    auditor: User
    helper: User
    sysadmin: User
    secadmin: User
    auditadmin: User


@pytest.fixture
def county(db) -> County:
    province = factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
    city = factories.region("522600000000", "黔东南苗族侗族自治州", Region.Level.CITY, province)
    county_region = factories.region("522622000000", "黄平县", Region.Level.COUNTY, city)
    t1 = factories.region("522622100000", "新州镇", Region.Level.TOWNSHIP, county_region)
    t2 = factories.region("522622101000", "旧州镇", Region.Level.TOWNSHIP, county_region)
    village_a = factories.region("522622100200", "凤场村", Region.Level.VILLAGE, t1)
    village_a2 = factories.region("522622100201", "龙坪村", Region.Level.VILLAGE, t1)
    village_b = factories.region("522622101200", "西垭村", Region.Level.VILLAGE, t2)
    group_a1 = factories.region("522622100200001", "第一村民小组", Region.Level.GROUP, village_a)
    group_a2 = factories.region("522622100200002", "第二村民小组", Region.Level.GROUP, village_a)
    return County(
        province, city, county_region, t1, t2, village_a, village_a2, village_b, group_a1, group_a2
    )


@pytest.fixture
def cast(county: County) -> Cast:
    role = User.Role
    return Cast(
        cadre=factories.user("cadre", role.VILLAGE_CADRE, county.village_a),
        cadre2=factories.user("cadre2", role.VILLAGE_CADRE, county.village_b),
        township=factories.user("township", role.TOWNSHIP_REVIEWER, county.township1),
        county=factories.user("county", role.COUNTY_OFFICER, county.county),
        auditor=factories.user("auditor", role.AUDITOR, county.county),
        helper=factories.user("helper", role.HELPER, county.village_a),
        sysadmin=factories.user("sysadmin", role.SYSTEM_ADMIN, None),
        secadmin=factories.user("secadmin", role.SECURITY_ADMIN, None),
        auditadmin=factories.user("auditadmin", role.AUDIT_ADMIN, None),
    )


@pytest.fixture
def household_a(cast: Cast, county: County) -> Household:
    """A poor household of village A, paired with `helper`."""
    from assistance.models import Pairing

    household = factories.household(
        actor=cast.county, village=county.village_a, group=county.group_a1
    )
    Pairing.objects.create(
        household=household, helper=cast.helper, name="helper", start_date=datetime.date(2019, 1, 1)
    )
    return household


@pytest.fixture
def household_b(cast: Cast, county: County) -> Household:
    """A poor household of village B (cadre2's)."""
    return factories.household(actor=cast.county, village=county.village_b)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
    return client


@pytest.fixture
def client_for():
    return login
