"""Read replicas (issue 19): which database a read goes to.

With `DATABASE_REPLICA_URL` set, the settings add the alias `replica` (a PostgreSQL streaming
standby of the primary) and this router. Reads go to the replica only where the code asks for it
with `read_from_replica()` — the dashboards (`rounds.dashboards`), the ledger exports
(`povertyapp.ledgers.services`) and the rates job's aggregates (`rounds.rates`, through
`rounds.figures._rows`) — and even there they stay on the primary:

- inside a transaction on the primary (`transaction.atomic`): a write transaction reads its own
  uncommitted rows, which no other server has;
- when the request is pinned to the primary (`pinned_to_primary`, set by
  `povertyapp.middleware.ReplicaStickyMiddleware` for REPLICA_STICKY_SECONDS after a user's
  write), so that a user never reads data older than their own last write;
- in a job, when the replica has not replayed what the primary had committed when the job began
  (`read_from_replica(catch_up=True)` waits up to REPLICA_CATCH_UP_SECONDS, then reads from the
  primary).

Every write goes to the primary. Under pytest the alias is a TEST MIRROR of `default` (the same
test database; `.ci/replica.sh` points it at a real standby), and replica reads are on only when
`REPLICA_READS` is (a test turns it on with the `settings` fixture).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"

# Inside `read_from_replica()` (the code asked for replica reads).
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)
# Inside `pinned_to_primary()` (the user wrote recently; a job whose replica lags).
_pinned: ContextVar[bool] = ContextVar("replica_pinned", default=False)


def replica_configured() -> bool:
    """A replica is configured (`DATABASE_REPLICA_URL`) and replica reads are on."""
    return bool(getattr(settings, "REPLICA_READS", False)) and REPLICA in settings.DATABASES


def replica_in_use() -> bool:
    """Whether a read here and now goes to the replica (see the module's docstring)."""
    return (
        _replica_reads.get()
        and not _pinned.get()
        and replica_configured()
        and not connections[PRIMARY].in_atomic_block
    )


def read_alias() -> str:
    """The alias a raw SQL read should use here and now (the ORM asks the router itself)."""
    return REPLICA if replica_in_use() else PRIMARY


def is_pinned() -> bool:
    return _pinned.get()


@contextmanager
def pinned_to_primary(pinned: bool = True) -> Iterator[None]:
    """Every read of the enclosed code goes to the primary (when `pinned`)."""
    token = _pinned.set(pinned or _pinned.get())
    try:
        yield
    finally:
        _pinned.reset(token)


@contextmanager
def read_from_replica(*, catch_up: bool = False) -> Iterator[None]:
    """The enclosed code's reads may go to the replica; also a decorator
    (`@read_from_replica()`). With `catch_up`, for jobs, which run after the write that
    started them with no request to pin: first wait until the replica has replayed the
    primary's WAL position of now; if it does not within REPLICA_CATCH_UP_SECONDS, read from
    the primary."""
    lagging = catch_up and replica_configured() and not _caught_up()
    token = _replica_reads.set(True)
    try:
        with pinned_to_primary(lagging):
            yield
    finally:
        _replica_reads.reset(token)


def _caught_up() -> bool:
    """Whether the replica replays, within REPLICA_CATCH_UP_SECONDS, everything the primary has
    written until now (PostgreSQL; other engines have no streaming replica: True)."""
    primary = connections[PRIMARY]
    if primary.vendor != "postgresql" or primary.in_atomic_block:
        return True
    with primary.cursor() as cursor:
        # The insert position, not pg_current_wal_lsn() (the write position): with
        # synchronous_commit off a committed transaction may still sit in the WAL buffers,
        # before the write position (measured: .ci/replica.sh's rates job then read a standby
        # without the last writes).
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + float(getattr(settings, "REPLICA_CATCH_UP_SECONDS", 5))
    with connections[REPLICA].cursor() as cursor:
        while True:
            # NULL on a server that is not a standby (a test mirror): it is the primary itself.
            cursor.execute(
                "SELECT COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, TRUE)", [target]
            )
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def data_as_of() -> datetime.datetime | None:
    """The time the data read here and now stands at: on the replica its replay time
    (`pg_last_xact_replay_timestamp()`, the commit time of the last transaction it replayed),
    else the primary's clock. None when the replica has replayed nothing since it started and is
    not caught up with what it received (the time is unknown)."""
    alias = read_alias()
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        if alias == REPLICA:
            cursor.execute(
                """SELECT CASE WHEN pg_is_in_recovery() THEN COALESCE(
                              pg_last_xact_replay_timestamp(),
                              CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                                   THEN now() END)
                          ELSE now() END"""
            )
        else:
            cursor.execute("SELECT now()")
        value = cursor.fetchone()[0]
    return value


class ReplicaRouter:
    """Reads to the replica inside `read_from_replica()` (with the exceptions above), everything
    else to the primary; migrations only on the primary (a standby is read-only and receives
    the schema through replication)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        return True  # one database, two servers

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
