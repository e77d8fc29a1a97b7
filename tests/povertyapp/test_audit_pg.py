"""The audit table is append-only in the database itself (issue 14, 安全审计): on PostgreSQL the
triggers of migration 0009 refuse UPDATE, DELETE and TRUNCATE whatever the application sends,
raw SQL included, except the archive's DELETE of archived rows past 180 days; concurrent
writers keep one unbroken chain. PostgreSQL only: SQLite has no triggers of this kind (there
the model refuses, see test_audit_chain)."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from povertyapp import audit
from povertyapp.models import AccessLog, AuditArchive

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the append-only triggers are PostgreSQL's",
)

APP_ROLE = "pov_audit_test_app"


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path):
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"


def refused(sql: str, params: list | None = None) -> str:
    """Run `sql` in a savepoint; return the database's error (the test fails if it passed)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params or [])
    except DatabaseError as error:
        return str(error)
    raise AssertionError(f"not refused: {sql}")


@pytest.mark.django_db
def test_the_application_role_cannot_update_delete_or_truncate_audit_rows():
    with connection.cursor() as cursor:
        # The test's own transaction holds no deferred checks, or TRUNCATE would stop on them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    row = audit.record("export", username="cadre", target="ledger", object_id=1)
    AuditArchive.objects.create(
        file_name="audit-test.jsonl.gz",
        first_id=0,
        last_id=0,
        first_seq=0,
        last_seq=0,
        first_at=timezone.now(),
        last_at=timezone.now(),
        row_count=0,
        sha256="0" * 64,
        end_hash="0" * 64,
    )
    with connection.cursor() as cursor:
        # A role like the application's in production: owns no table, is no superuser, and
        # holds every table privilege (so only the triggers stand in the way).
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOSUPERUSER NOLOGIN")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
    table = AccessLog._meta.db_table
    update = refused(f"UPDATE {table} SET reason = 'changed' WHERE id = %s", [row.pk])
    delete = refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    truncate = refused(f"TRUNCATE {table}")
    archive_update = refused(f"UPDATE {AuditArchive._meta.db_table} SET row_count = 0")
    for message in (update, delete, truncate, archive_update):
        assert "append-only" in message and "审计日志" in message
    # Inserting stays allowed: the application appends.
    audit.record("export", username="cadre", target="ledger", object_id=2)
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    row.refresh_from_db()
    assert row.reason == ""
    assert audit.verify().ok


@pytest.mark.django_db
def test_the_connection_as_configured_cannot_change_a_row_either():
    row = audit.record("export", username="cadre", target="ledger", object_id=1)
    table = AccessLog._meta.db_table
    assert "append-only" in refused(f"UPDATE {table} SET reason = 'x' WHERE id = %s", [row.pk])
    assert "append-only" in refused(f"DELETE FROM {table}")


@pytest.mark.django_db
def test_an_edited_row_is_named_by_verify_on_postgresql():
    rows = [audit.record("export", username=f"u{n}", target="ledger") for n in range(3)]
    with connection.cursor() as cursor:
        # Only a superuser can get past the trigger (the test database's owner is one).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"UPDATE {AccessLog._meta.db_table} SET ip_address = '10.0.0.9' WHERE id = %s",
            [rows[1].pk],
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    result = audit.verify()
    assert (result.ok, result.broken_id) == (False, rows[1].pk)
    assert result.problem.startswith("hash mismatch")


@pytest.mark.django_db
def test_the_trigger_lets_the_archive_delete_only_archived_rows_past_180_days(settings):
    settings.AUDIT_RETENTION_DAYS = 180
    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=400), tick=False):
        old = [audit.record("export", username=f"u{n}", target="ledger") for n in range(3)]
    with time_machine.travel(now - datetime.timedelta(days=200), tick=False):
        unarchived_old = audit.record("export", username="late", target="ledger")
    young = audit.record("export", username="young", target="ledger")
    table = AccessLog._meta.db_table
    # Before any archive, even an old row cannot be deleted.
    assert "append-only" in refused(f"DELETE FROM {table} WHERE id = %s", [old[0].pk])
    entry = audit.archive()
    assert entry.last_seq == unarchived_old.seq  # rows past the retention, in chain order
    assert not AccessLog.objects.filter(pk__in=[row.pk for row in old]).exists()
    # A row the archive does not cover, or a young one, stays undeletable.
    assert "append-only" in refused(f"DELETE FROM {table} WHERE id = %s", [young.pk])
    assert audit.verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    threads, per_thread = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(number: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit.record(
                    "view_sensitive", username=f"t{number}", target="household", object_id=n
                )
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    seqs = list(AccessLog.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * per_thread + 1))
    result = audit.verify()
    assert (result.ok, result.count) == (True, threads * per_thread)


@pytest.mark.django_db(transaction=True)
def test_a_row_outside_a_transaction_is_one_statement():
    """The chain head is locked for one statement and its commit, not for four round trips
    and the Python between them (bench/audit_write.py measures what it gives)."""
    from django.test.utils import CaptureQueriesContext

    audit.record("login", username="first", target="session")  # creates the chain head
    with CaptureQueriesContext(connection) as captured:
        row = audit.record(
            "view_sensitive",
            username="county",
            target="household",
            object_id=1,
            fields=["bank_account"],
            detail={"via": "page"},
        )
    assert len(captured) == 1, [query["sql"] for query in captured]
    stored = AccessLog.objects.get(pk=row.pk)
    assert (stored.seq, stored.prev_hash, stored.row_hash) == (2, row.prev_hash, row.row_hash)
    assert stored.created_at == row.created_at and stored.fields == ["bank_account"]
    assert audit.verify().ok
