"""The audit trail (安全审计, 等保 2.0 level 3): one row per security-relevant event.

Every sign-in and its failure, lockout, logout, sensitive read, export, import, approval, role or
scope change, configuration change and refused request is written here, with the time (zoned),
user, role, source address, action, object, outcome, reason and request id. Callers use
`record`; nothing else writes `AccessLog` rows.

Tamper evidence: the rows form a hash chain. `record` locks the one-row `AuditChainHead` in the
insert's own transaction, numbers the row (`seq`), and stores `row_hash` = SHA-256 over the
canonical JSON of the row's fields and the previous row's hash. An edited, deleted or inserted
row breaks the chain at that point (`verify`, `manage.py verify_audit`). A `record` inside a
transaction that rolls back vanishes together with its head update, so the chain stays whole.

Failure policy: `record` raises when the row cannot be written; the action it logs then fails
too (an unauditable export or approval must not pass). Only the refused-request middleware,
which logs a request already refused, catches the error and logs it.

Append-only: on PostgreSQL triggers (migration 0008) refuse UPDATE, DELETE and TRUNCATE of the
table, except DELETE of rows older than the legal minimum retention that an `AuditArchive`
row covers (`archive`). On SQLite the model and its queryset refuse the same (best effort).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.ipv6 import clean_ipv6_address

if TYPE_CHECKING:
    from povertyapp.models import AccessLog, AuditArchive, AuditChainHead, User

# Nothing from the models is imported at module level: the logging configuration and the
# middleware load this module before the apps are ready.

GENESIS_HASH = "0" * 64
# The legal floor of the retention (GB/T 22239-2019 with the 网络安全法: at least six months);
# the PostgreSQL trigger of migration 0008 enforces the same number.
MIN_RETENTION_DAYS = 180
# The fields the row hash covers, in this order (with `prev_hash`).
HASHED_FIELDS = (
    "seq",
    "created_at",
    "user_id",
    "username",
    "role",
    "action",
    "target",
    "object_id",
    "outcome",
    "reason",
    "fields",
    "detail",
    "ip_address",
    "request_id",
    "sha256",
)


# The request being answered, set by `audit_events.RefusedRequestAuditMiddleware`: rows written
# by services (approvals), which are not handed the request, still carry its source address
# and request id. Never used for the user: services name their actor.
current_request: ContextVar[Any] = ContextVar("audit_current_request", default=None)


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def request_id(request: Any) -> str:
    return getattr(request, "request_id", "") if request is not None else ""


def _json_value(value: Any) -> Any:
    """The value as the JSON column gives it back (lazy strings, dates, decimals made plain)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = values.get(name)
        if name == "created_at" and value is not None:
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif name == "ip_address" and value and ":" in value:
            value = clean_ipv6_address(value)
        elif name in ("seq", "user_id") and value is not None:
            value = int(value)
        elif name in ("fields", "detail"):
            value = _json_value(value)
        payload[name] = value
    return payload


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical(values: dict[str, Any], prev_hash: str) -> bytes:
    """The bytes a row's hash is computed over: the hashed fields and the previous hash as
    sorted, compact JSON (UTF-8). `values` holds field values as read from the database."""
    payload = _payload(values)
    payload["prev_hash"] = prev_hash
    return _dumps(payload).encode()


# The fields of the canonical JSON that PostgreSQL fills in under the chain head's lock
# (`_record_in_one_statement`): the previous hash and the row's number.
_FILLED_IN = ("prev_hash", "seq")


def canonical_parts(values: dict[str, Any]) -> list[str]:
    """`canonical` cut around the values of `_FILLED_IN`: three texts, between which go the
    previous hash (without its quotes) and the row's number. Joined with them, they are
    `canonical`'s text exactly (tested)."""
    payload = _payload(values)
    payload["prev_hash"] = None
    parts, text = [], "{"
    for index, name in enumerate(sorted(payload)):
        text += ("," if index else "") + _dumps(name) + ":"
        if name in _FILLED_IN:
            parts.append(text + ('"' if name != "seq" else ""))
            text = '"' if name != "seq" else ""
        else:
            text += _dumps(payload[name])
    parts.append(text + "}")
    return parts


def row_hash(values: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(values, prev_hash)).hexdigest()


def _row_values(row: AccessLog) -> dict[str, Any]:
    return {name: getattr(row, name) for name in HASHED_FIELDS}


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the end of the caller's transaction (created on first use,
    e.g. after a test flush, from the last row or the last archive)."""
    from povertyapp.models import AccessLog, AuditArchive, AuditChainHead

    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    start: dict[str, Any] = {"seq": 0, "row_hash": GENESIS_HASH}
    last = AccessLog.objects.order_by("-seq").values("seq", "row_hash").first()
    archived = AuditArchive.objects.order_by("-last_seq").values("last_seq", "end_hash").first()
    if last is not None:
        start = {"seq": last["seq"], "row_hash": last["row_hash"]}
    elif archived is not None:
        start = {"seq": archived["last_seq"], "row_hash": archived["end_hash"]}
    AuditChainHead.objects.get_or_create(pk=1, defaults=start)
    return AuditChainHead.objects.select_for_update().get(pk=1)


def record(
    action: str,
    *,
    request: Any = None,
    user: User | None = None,
    username: str = "",
    target: str = "",
    object_id: str | int = "",
    outcome: str = "ok",
    reason: str = "",
    fields: list[str] | None = None,
    detail: dict[str, Any] | None = None,
    sha256: str = "",
) -> AccessLog:
    """Write one audit row, chained to the previous one. `user` defaults to the request's user;
    `username` names the account when there is no user (a failed sign-in for an unknown name).
    Raises if the row cannot be written (see the module's failure policy)."""
    from django.db import connections, router, transaction
    from django.utils import timezone

    from povertyapp.models import AccessLog

    if user is None and request is not None:
        user = getattr(request, "user", None)
    known = user if user is not None and user.is_authenticated else None
    source = request if request is not None else current_request.get()
    row = AccessLog(
        user=known,
        username=(known.get_username() if known is not None else username)[:150],
        role=(known.role if known is not None else ""),
        action=action,
        target=target[:64],
        object_id=str(object_id)[:64],
        outcome=outcome,
        reason=str(reason)[:255],
        fields=_json_value(fields or []),
        detail=_json_value(detail or {}),
        ip_address=client_ip(source),
        request_id=request_id(source),
        sha256=sha256,
    )
    connection = connections[router.db_for_write(AccessLog)]
    if connection.vendor == "postgresql":
        # The time is taken before the lock: the chain's order is `seq`, and two rows asked
        # for at once may carry their times the other way round by the time one waited.
        row.created_at = timezone.now()
        if connection.in_atomic_block:
            # A savepoint, so that a row that cannot be written leaves the caller's
            # transaction usable (the refused-request middleware logs and goes on).
            with transaction.atomic(using=connection.alias):
                written = _record_in_one_statement(connection, row)
        else:
            written = _record_in_one_statement(connection, row)
        if written:
            return row
    with transaction.atomic(using=connection.alias):
        head = _locked_head()
        row.seq = head.seq + 1
        row.created_at = timezone.now()
        row.prev_hash = head.row_hash
        row.row_hash = row_hash(_row_values(row), row.prev_hash)
        row.save(force_insert=True)
        head.seq, head.row_hash = row.seq, row.row_hash
        head.save(update_fields=["seq", "row_hash"])
    return row


def _record_in_one_statement(connection: Any, row: AccessLog) -> bool:
    """Append `row` on PostgreSQL in one statement: lock the chain head, number the row, hash
    it (SHA-256 in the server over `canonical`'s text with the previous hash and the number
    spliced in: `canonical_parts`), insert it and move the head, in one round trip and,
    outside a transaction, one commit. The head's lock is held for that statement alone, not
    for four round trips and the Python between them: every writer of the province queues on
    it (bench/audit_write.py). False, writing nothing, when the head row does not exist yet
    (the first row after a flush): `record` then takes the ORM's way, which creates it."""
    values = _row_values(row)
    params = [
        json.dumps(values[name], ensure_ascii=False)
        if name in ("fields", "detail")
        else values[name]
        for name in HASHED_FIELDS
        if name not in _FILLED_IN
    ]
    with connection.cursor() as cursor:
        cursor.execute(_one_statement(connection.alias), [*canonical_parts(values), *params])
        written = cursor.fetchone()
    if written is None:
        return False
    row.pk, row.seq, row.prev_hash, row.row_hash = written
    row._state.adding, row._state.db = False, connection.alias
    return True


@functools.cache
def _one_statement(alias: str) -> str:
    """The statement of `_record_in_one_statement`, built once per database: the canonical
    text's three parts, then the row's values in `HASHED_FIELDS` order."""
    from django.db import connections

    from povertyapp.models import AccessLog, AuditChainHead

    quote = connections[alias].ops.quote_name
    column = {field.attname: str(field.column) for field in AccessLog._meta.concrete_fields}
    given = [name for name in HASHED_FIELDS if name not in _FILLED_IN]
    head = quote(AuditChainHead._meta.db_table)
    table = quote(AccessLog._meta.db_table)
    columns = ", ".join(quote(column[name]) for name in given)
    casts = ", ".join(
        "%s::jsonb"
        if name in ("fields", "detail")
        else "%s::inet"
        if name == "ip_address"
        else "%s"
        for name in given
    )
    return f"""
        WITH head AS (
            SELECT seq + 1 AS seq, row_hash AS prev_hash FROM {head} WHERE id = 1 FOR UPDATE
        ), hashed AS (
            SELECT seq, prev_hash, encode(sha256(convert_to(
                %s || prev_hash || %s || seq::text || %s, 'UTF8'
            )), 'hex') AS row_hash FROM head
        ), inserted AS (
            INSERT INTO {table} ({columns}, "seq", "prev_hash", "row_hash")
            SELECT {casts}, seq, prev_hash, row_hash FROM hashed
            RETURNING id, seq, prev_hash, row_hash
        )
        UPDATE {head} SET seq = inserted.seq, row_hash = inserted.row_hash FROM inserted
        WHERE {head}.id = 1
        RETURNING inserted.id, inserted.seq, inserted.prev_hash, inserted.row_hash
    """


# --- verification ----------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    count: int  # rows checked
    broken_id: int | None = None
    broken_seq: int | None = None
    problem: str = ""  # "hash mismatch", "prev mismatch", "gap", "head mismatch"

    def message(self) -> str:
        if self.ok:
            return f"OK: {self.count} audit rows, chain intact"
        return (
            f"BROKEN at audit row id={self.broken_id} seq={self.broken_seq}: {self.problem} "
            f"({self.count} rows checked before it)"
        )


def verify(chunk_size: int = 2000) -> Verification:
    """Walk the whole chain in `seq` order with constant memory, from the end of the last
    archive (or the genesis hash), and report the first broken link."""
    from povertyapp.models import AccessLog, AuditArchive, AuditChainHead

    archive = AuditArchive.objects.order_by("-last_seq").first()
    expected_seq = archive.last_seq + 1 if archive else 1
    prev = archive.end_hash if archive else GENESIS_HASH
    count = 0
    rows = AccessLog.objects.order_by("seq").only(*HASHED_FIELDS, "prev_hash", "row_hash")
    for row in rows.iterator(chunk_size=chunk_size):
        if row.seq != expected_seq:
            problem = f"gap: seq {expected_seq} expected, {row.seq} found (rows missing)"
            return Verification(False, count, row.pk, row.seq, problem)
        if row.prev_hash != prev:
            problem = "prev mismatch: prev_hash is not the previous row's hash"
            return Verification(False, count, row.pk, row.seq, problem)
        if row_hash(_row_values(row), row.prev_hash) != row.row_hash:
            problem = "hash mismatch: the row's content was changed after it was written"
            return Verification(False, count, row.pk, row.seq, problem)
        prev = row.row_hash
        expected_seq += 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and head.seq > last_seq:
        # The head names rows after the last one read: written since the walk began, or the
        # newest rows were deleted (then there is none).
        if not AccessLog.objects.filter(seq__gte=expected_seq).exists():
            problem = (
                f"head mismatch: the chain head names seq {head.seq}, "
                f"the last row is seq {last_seq} (newest rows missing)"
            )
            return Verification(False, count, None, expected_seq, problem)
    elif head is not None and (head.seq, head.row_hash) != (last_seq, prev):
        problem = f"head mismatch: the chain head does not match the last row (seq {last_seq})"
        return Verification(False, count, None, last_seq, problem)
    return Verification(True, count)


# --- retention and archive -------------------------------------------------------------------


def retention_days() -> int:
    from django.conf import settings

    return max(int(settings.AUDIT_RETENTION_DAYS), MIN_RETENTION_DAYS)


def archive_dir() -> Path:
    from django.conf import settings

    return Path(settings.AUDIT_ARCHIVE_DIR)


def _archive_line(row: AccessLog) -> str:
    values = {name: getattr(row, name) for name in HASHED_FIELDS}
    values.update(id=row.pk, prev_hash=row.prev_hash, row_hash=row.row_hash)
    return json.dumps(values, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True) + "\n"


def archive(*, now: datetime | None = None, chunk_size: int = 2000) -> AuditArchive | None:
    """Write the rows older than the retention to a gzip-compressed JSON-lines file under
    AUDIT_ARCHIVE_DIR, record it (`AuditArchive`), then delete exactly those rows. Rows are
    taken in chain order up to the first one inside the retention, so an archive is always a
    whole stretch of the chain; unarchived rows are never deleted. None when nothing is due."""
    from django.db import transaction
    from django.utils import timezone

    from povertyapp.models import AccessLog, AuditArchive

    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    first_young = (
        AccessLog.objects.filter(created_at__gte=cutoff).order_by("seq").values("seq").first()
    )
    due = AccessLog.objects.filter(created_at__lt=cutoff)
    if first_young is not None:
        due = due.filter(seq__lt=first_young["seq"])
    due = due.order_by("seq")
    bounds = due.values("seq").first()
    if bounds is None:
        return None
    directory = archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    path = directory / f"audit-{bounds['seq']:012d}-{stamp}.jsonl.gz"
    digest = hashlib.sha256()
    count = 0
    first: AccessLog | None = None
    last: AccessLog | None = None
    with path.open("xb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
        for row in _stream(due, chunk_size):
            out.write(_archive_line(row).encode())
            first = first or row
            last = row
            count += 1
    if first is None or last is None:
        path.unlink()
        return None
    with path.open("rb") as written:
        for block in iter(lambda: written.read(1 << 20), b""):
            digest.update(block)
    with transaction.atomic():
        entry = AuditArchive.objects.create(
            file_name=path.name,
            first_id=first.pk,
            last_id=last.pk,
            first_seq=first.seq,
            last_seq=last.seq,
            first_at=first.created_at,
            last_at=last.created_at,
            row_count=count,
            sha256=digest.hexdigest(),
            end_hash=last.row_hash,
        )
        AccessLog.objects.filter(seq__gte=first.seq, seq__lte=last.seq)._delete_archived()
    record(
        "audit",
        username="system",
        target="audit_archive",
        object_id=entry.pk,
        reason="归档超过保存期限的审计日志",
        detail={"file": path.name, "rows": count, "first_seq": first.seq, "last_seq": last.seq},
        sha256=entry.sha256,
    )
    return entry


def _stream(queryset: Any, chunk_size: int) -> Iterator[AccessLog]:
    yield from queryset.iterator(chunk_size=chunk_size)
