"""The audit trail's tamper evidence and retention (issue 14, 安全审计): a hash chain that
`verify_audit` walks and that names the first edited, deleted or inserted row; rows the ORM
refuses to change; archiving of rows past the retention to a file, never of unarchived rows."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import itertools
import json
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from povertyapp import audit
from povertyapp.models import AccessLog, AuditArchive, AuditImmutableError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path):
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"
    settings.AUDIT_RETENTION_DAYS = 180


def write(count: int, **fields) -> list[AccessLog]:
    return [
        audit.record("export", username=f"user{n}", target="ledger", object_id=n, **fields)
        for n in range(count)
    ]


def tamper(sql: str, params: list) -> None:
    """Change rows behind the application's back: raw SQL on SQLite; on PostgreSQL past the
    append-only triggers, as only a superuser can (the test database's owner is one)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def verify_command() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", "--chunk-size", "2", stdout=out)
    return out.getvalue()


def test_rows_are_chained_in_order_and_verify_reports_ok_with_the_count():
    rows = write(5, detail={"filters": {"status": "poor"}, "when": datetime.date(2026, 1, 2)})
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(later.prev_hash == earlier.row_hash for earlier, later in itertools.pairwise(rows))
    # The stored row hashes to what was written (JSON, dates and time zones round-trip).
    stored = AccessLog.objects.get(seq=3)
    assert stored.detail == {"filters": {"status": "poor"}, "when": "2026-01-02"}
    assert audit.row_hash(audit._row_values(stored), stored.prev_hash) == stored.row_hash
    # verify_audit itself writes a row after checking: 5 rows checked.
    assert verify_command().strip() == "OK: 5 audit rows, chain intact"


# Values that JSON escapes or writes in more than one byte: quotes, backslashes, control
# characters, Chinese, an IPv6 address, nested and unordered details.
AWKWARD = {
    "username": 'a"b\\c',
    "reason": '理由\t\n\u0000 \\u0000 "seq":1',
    "detail": {"z": [1, {"b": "中", "a": None}], "a": "\u2028"},
    "fields": ["id_number", "bank_account"],
    "object_id": '"prev_hash":"',
}


def test_the_canonical_text_cut_for_the_database_joins_back_exactly():
    """PostgreSQL hashes `canonical_parts` joined with the previous hash and the number
    (`audit._record_in_one_statement`); verify hashes `canonical`: they must be the same
    bytes, whatever the values hold."""
    values = (
        dict.fromkeys(audit.HASHED_FIELDS)
        | AWKWARD
        | {
            "seq": 41,
            "created_at": timezone.now(),
            "user_id": 7,
            "ip_address": "2001:db8::1",
            "action": "view_sensitive",
        }
    )
    first, middle, last = audit.canonical_parts(values)
    prev = hashlib.sha256(b"x").hexdigest()
    assert (first + prev + middle + "41" + last).encode() == audit.canonical(values, prev)


def test_rows_with_awkward_values_verify():
    """Written the database's way on PostgreSQL, Python's on SQLite: verify recomputes each
    hash in Python."""
    for n in range(3):
        audit.record(
            "view_sensitive",
            username=AWKWARD["username"],
            target="household",
            object_id=AWKWARD["object_id"],
            reason=AWKWARD["reason"].replace("\u0000", ""),  # PostgreSQL text holds no NUL
            fields=AWKWARD["fields"],
            detail=AWKWARD["detail"] | {"n": n},
        )
    result = audit.verify()
    assert (result.ok, result.count) == (True, 3), result.message()


def test_an_edited_row_is_named_by_verify_audit():
    rows = write(4)
    tamper("UPDATE povertyapp_accesslog SET username = %s WHERE id = %s", ["someone", rows[2].pk])
    result = audit.verify()
    assert (result.ok, result.broken_id, result.count) == (False, rows[2].pk, 2)
    assert result.problem.startswith("hash mismatch")
    with pytest.raises(CommandError) as error:
        verify_command()
    assert error.value.returncode == 1
    assert f"id={rows[2].pk}" in str(error.value)


def test_a_deleted_row_is_a_gap_and_a_deleted_newest_row_a_head_mismatch():
    rows = write(4)
    tamper("DELETE FROM povertyapp_accesslog WHERE id = %s", [rows[1].pk])
    result = audit.verify()
    assert (result.ok, result.broken_id) == (False, rows[2].pk)
    assert result.problem.startswith("gap")
    # Renumbering does not help: the next link's prev_hash then names the missing row.
    tamper("DELETE FROM povertyapp_accesslog WHERE id > %s", [rows[0].pk])
    result = audit.verify()
    assert not result.ok
    assert result.problem.startswith("head mismatch")


def test_a_re_hashed_forgery_breaks_the_next_link():
    rows = write(3)
    forged = audit._row_values(rows[1]) | {"username": "someone"}
    new_hash = audit.row_hash(forged, rows[1].prev_hash)
    tamper(
        "UPDATE povertyapp_accesslog SET username = 'someone', row_hash = %s WHERE id = %s",
        [new_hash, rows[1].pk],
    )
    result = audit.verify()
    assert (result.ok, result.broken_id) == (False, rows[2].pk)
    assert result.problem.startswith("prev mismatch")


def test_the_orm_refuses_to_change_or_delete_audit_rows():
    (row,) = write(1)
    row.reason = "changed"
    with pytest.raises(AuditImmutableError):
        row.save()
    with pytest.raises(AuditImmutableError):
        row.delete()
    with pytest.raises(AuditImmutableError):
        AccessLog.objects.filter(pk=row.pk).update(reason="changed")
    with pytest.raises(AuditImmutableError):
        AccessLog.objects.all().delete()
    assert audit.verify().ok


def test_a_record_in_a_rolled_back_transaction_leaves_the_chain_whole():
    from django.db import transaction

    write(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        write(1)
        raise RuntimeError("the export failed")
    write(1)
    assert list(AccessLog.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert audit.verify().ok


def _write_at(moment: datetime.datetime, count: int) -> list[AccessLog]:
    with time_machine.travel(moment, tick=False):
        return write(count)


def test_archive_moves_rows_past_the_retention_to_a_file_and_verify_continues(settings):
    now = timezone.now()
    old = _write_at(now - datetime.timedelta(days=400), 3)
    young = _write_at(now - datetime.timedelta(days=10), 2)
    entry = audit.archive()
    assert entry is not None
    assert (entry.first_seq, entry.last_seq, entry.row_count) == (1, 3, 3)
    assert (entry.first_id, entry.last_id) == (old[0].pk, old[2].pk)
    assert entry.end_hash == old[2].row_hash
    path = Path(settings.AUDIT_ARCHIVE_DIR) / entry.file_name
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert [line["row_hash"] for line in lines] == [row.row_hash for row in old]
    # The archived rows are gone, the young ones and the archive's own audit row remain.
    remaining = list(AccessLog.objects.order_by("seq").values_list("seq", "action"))
    assert remaining == [(4, "export"), (5, "export"), (6, "audit")]
    assert {row.pk for row in young} <= set(AccessLog.objects.values_list("pk", flat=True))
    result = audit.verify()
    assert (result.ok, result.count) == (True, 3)
    # Nothing more is due: a second run archives nothing.
    assert audit.archive() is None
    assert AuditArchive.objects.count() == 1


def test_archive_never_deletes_rows_inside_the_retention_even_when_configured_shorter(settings):
    settings.AUDIT_RETENTION_DAYS = 30  # below the legal floor: 180 days are kept anyway
    now = timezone.now()
    _write_at(now - datetime.timedelta(days=100), 2)
    assert audit.retention_days() == 180
    assert audit.archive() is None
    assert AccessLog.objects.count() == 2


def test_archive_stops_at_the_first_row_inside_the_retention(settings):
    # An old row written after a young one (a clock set back) waits: an archive is always one
    # whole stretch of the chain.
    now = timezone.now()
    _write_at(now - datetime.timedelta(days=400), 2)
    _write_at(now - datetime.timedelta(days=5), 1)
    _write_at(now - datetime.timedelta(days=300), 1)
    entry = audit.archive()
    assert (entry.first_seq, entry.last_seq) == (1, 2)
    assert set(AccessLog.objects.values_list("seq", flat=True)) == {3, 4, 5}
    assert audit.verify().ok


def test_the_archive_command_reports_what_it_did(settings):
    from io import StringIO

    out = StringIO()
    call_command("archive_audit", stdout=out)
    assert "无需归档" in out.getvalue()
    _write_at(timezone.now() - datetime.timedelta(days=400), 2)
    call_command("archive_audit", stdout=out)
    assert "已归档2条审计日志" in out.getvalue()


def test_the_monthly_archive_task_is_scheduled(settings):
    from povertyapp import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["archive-audit-log"]
    assert entry["task"] == "povertyapp.tasks.archive_audit_task"
    _write_at(timezone.now() - datetime.timedelta(days=400), 2)
    assert tasks.archive_audit_task() == 2


def test_production_refuses_a_retention_below_180_days():
    from tests.production_env import production_env, settings_subprocess

    result = settings_subprocess(setup=True, **production_env(AUDIT_RETENTION_DAYS="90"))
    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS must be at least 180" in result.stderr
