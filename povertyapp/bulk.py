"""Bulk loading of generated rows: PostgreSQL COPY, or batched INSERTs on SQLite.

Used by the demo seeder, the benchmarks and the workbook import (`households.services.bulk`).
It writes rows straight to the tables (no model instances, no history rows), so callers are
responsible for rows being valid: the demo generator builds them from the same rules the
services enforce, and its tests check them; the import validates the whole file first. A row
becomes its line of COPY text through one function compiled per table (`_row_renderer`).
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, cast

from django.db import connection, models

from povertyapp import crypto, yearlock

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def table_columns(model: type[models.Model]) -> tuple[list[str], list[str], dict[str, Any]]:
    """(attribute names, column names, defaults) of a model's concrete fields (not the
    generated ones: the database computes those)."""
    attnames: list[str] = []
    columns: list[str] = []
    defaults: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.generated:
            continue
        attnames.append(field.attname)
        columns.append(cast(str, field.column))  # only non-concrete fields lack a column
        # get_default() is "" for text fields without a default, None for the rest; auto_now
        # fields are filled per load with the load's timestamp.
        defaults[field.attname] = field.get_default()
    return attnames, columns, defaults


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)
    return str(value)


class _LineReader:
    """A file-like object over generated COPY lines, read lazily by psycopg2's copy_expert:
    each read() renders the next ~`size` bytes, so Python generates while PostgreSQL parses
    what it has already received."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def read(self, size: int = -1) -> bytes:
        target = size if size and size > 0 else 1 << 18
        chunk: list[str] = []
        length = 0
        for line in self._lines:
            chunk.append(line)
            length += len(line)
            if length >= target // 2:  # characters: most are multi-byte in UTF-8
                break
        return "".join(chunk).encode()

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - copy_expert uses read()
        return next(self._lines, "").encode()


def _source(field: models.Field) -> str:
    """The row key a column is loaded from: a blind index is computed from its source field."""
    return field.source if isinstance(field, crypto.BlindIndexField) else field.attname


def _protect(field: models.Field) -> Callable[[Any], Any] | None:
    """Encryption at rest (povertyapp.crypto): an encrypted column's values are encrypted, a
    blind index is the keyed hash of its source's value; None for any other column."""
    if isinstance(field, crypto.EncryptedCharField):
        return lambda value: None if value is None else crypto.encrypt(str(value))
    if isinstance(field, crypto.BlindIndexField):
        return lambda value: crypto.blind_index(value) if value else ""
    return None


# The COPY text of one column's value `v`, as a Python expression, per kind of column: a row is
# rendered by one function compiled per table (`_row_renderer`), with no Python call per value
# (the import renders 2.2 million rows of up to 30 columns: a call per value was 10 % of its CPU).
# A text needs the escapes of COPY's text format only if it holds a backslash or a control
# character: `isprintable()` and one `in`, both in C, instead of `translate` on every value.
_TEXT = "(v if ((v := str(v)).isprintable() and '\\\\' not in v) else v.translate(_escapes))"
_KINDS = {
    "BooleanField": "('t' if v else 'f')",
    "DateField": "v.isoformat()",
    "DateTimeField": "v.isoformat()",
    "TimeField": "v.isoformat()",
    **dict.fromkeys(
        (
            "CharField",
            "TextField",
            "SlugField",
            "EmailField",
            "URLField",
            "FileField",
            "ImageField",
            "GenericIPAddressField",
        ),
        _TEXT,
    ),
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "ForeignKey",
            "OneToOneField",
            "DecimalField",
            "FloatField",
        ),
        "str(v)",
    ),
}


def _column_expression(field: models.Field, index: int, namespace: dict[str, Any]) -> str:
    """The expression of column `index`'s COPY text in the compiled row function: the row's
    value (or the column's default, `d<index>` in `namespace`), encrypted or blind-indexed
    first where the column is protected (`p<index>`), NULL as ``\\N``."""
    value = f"get({_source(field)!r}, d{index})"
    protect = _protect(field)
    if protect is not None:
        namespace[f"p{index}"] = protect
        return f"('\\\\N' if (v := p{index}({value})) is None else {_TEXT})"
    kind = _KINDS.get(field.get_internal_type())
    if kind is None:  # JSON and any other kind: worked out per value
        return f"_copy_text({value})"
    return f"('\\\\N' if (v := {value}) is None else {kind})"


def _load_fields(model: type[models.Model], with_pk: bool) -> list[models.Field]:
    """The columns to load: all concrete fields but the generated ones (the database computes
    them), the primary key only when the rows carry it (otherwise the database's sequence
    numbers them)."""
    pk = model._meta.pk
    return [f for f in model._meta.concrete_fields if (with_pk or f is not pk) and not f.generated]


def copy_lines(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    *,
    now: datetime.datetime,
    with_pk: bool = True,
) -> Iterator[str]:
    render = _row_renderer(model, now=now, with_pk=with_pk)
    for row in rows:
        yield render(row)


def load_rows(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    *,
    now: datetime.datetime,
    batch_size: int = 5000,
) -> int:
    """Write rows (dicts of attribute name → value; missing ones take the field default).

    Rows of a year-bound model are checked against the year lock first (`yearlock.check_values`,
    per `batch_size` rows: a few queries per batch, not per row), before the COPY starts, since
    no other query may run on the connection during it: a locked row refuses the whole load."""
    table = model._meta.db_table
    if yearlock.related(model) is not None:
        rows = list(rows)
        for start in range(0, len(rows), batch_size):
            yearlock.check_values(model, rows[start : start + batch_size])
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    with_pk = model._meta.pk.attname in first
    counter = _Counter(itertools.chain([first], iterator))
    if connection.vendor == "postgresql":
        quoted = ", ".join(f'"{f.column}"' for f in _load_fields(model, with_pk))
        with connection.cursor() as cursor:
            reader = _LineReader(copy_lines(model, counter, now=now, with_pk=with_pk))
            cursor.cursor.copy_expert(f'COPY "{table}" ({quoted}) FROM STDIN', reader, size=1 << 18)
        return counter.count
    fields = _load_fields(model, with_pk)
    attnames = [_source(f) for f in fields]
    columns = [f.column for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    auto_fields = {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    base = dict(defaults)
    for name in auto_fields:
        base[name] = now
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        table, ", ".join(f'"{c}"' for c in columns), ", ".join(["%s"] * len(columns))
    )
    converters = [_protect(f) or _sqlite_value for f in fields]
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in counter:
            values = base | row
            batch.append(
                [convert(values[name]) for convert, name in zip(converters, attnames, strict=True)]
            )
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    return counter.count


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value


class _Counter:
    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            self.count += 1
            yield row


def next_id(model: type[models.Model]) -> int:
    last = model._default_manager.aggregate(last=models.Max("pk"))["last"]
    return (last or 0) + 1


def reset_sequences(*models_: type[models.Model]) -> None:
    """After loading explicit primary keys, move PostgreSQL's sequences past them."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            column = model._meta.pk.column
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'
            )


# --- streaming: generate in Python while PostgreSQL ingests on the other core -------------


def _row_renderer(
    model: type[models.Model], *, now: datetime.datetime, with_pk: bool
) -> Callable[[dict[str, Any]], str]:
    """The function rendering one row (a dict of attribute names; a missing one takes the
    column's default, `now` for auto_now fields) to its line of COPY text: compiled once per
    load from the columns' expressions (`_column_expression`), as the standard library's
    dataclasses compile their methods; the source holds only the columns' names, every value
    comes from the row or the namespace."""
    namespace: dict[str, Any] = {"_escapes": _COPY_ESCAPES, "_copy_text": _copy_text}
    columns = []
    for index, field in enumerate(_load_fields(model, with_pk)):
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        namespace[f"d{index}"] = now if auto else field.get_default()
        columns.append(_column_expression(field, index, namespace))
    body = ",\n        ".join(columns)
    source = (
        "def render(row):\n"
        "    get = row.get\n"
        f"    return '\\t'.join((\n        {body},\n    )) + '\\n'\n"
    )
    exec(compile(source, f"<COPY row of {model._meta.label}>", "exec"), namespace)
    return cast(Callable[[dict[str, Any]], str], namespace["render"])


class _LockCheck:
    """The year lock's check of rows written by COPY (`RenderedRows`, `CopyStream`): the locks
    are read once, when the sink is made (before any COPY holds the connection); with none
    active, or a model the year does not lock, nothing is kept or checked (the demo's and the
    benchmarks' fast path). Otherwise the rows' dicts are kept and checked as a set
    (`yearlock.check_values`, a few queries per `BATCH` rows) when the connection is free."""

    BATCH = 5000

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.active = yearlock.related(model) is not None and bool(yearlock.LockIndex())
        self.rows: list[dict[str, Any]] = []

    def keep(self, row: dict[str, Any]) -> None:
        if self.active:
            self.rows.append(row)

    def check(self) -> None:
        rows, self.rows = self.rows, []
        for start in range(0, len(rows), self.BATCH):
            yearlock.check_values(self.model, rows[start : start + self.BATCH])


class RenderedRows:
    """A list-like sink: rows appended are rendered to COPY text at once and kept as bytes
    (a fraction of the memory of the dicts); `copy()` loads them afterwards. Rows of a
    year-bound model are checked against the year lock in `copy()`, before the COPY (their
    relations, loaded earlier in the same transaction, are visible then): a locked row refuses
    the whole load (`YearLockedError`), nothing is written."""

    def __init__(self, model: type[models.Model], *, now: datetime.datetime) -> None:
        self.model = model
        self.now = now
        self._lock = _LockCheck(model)
        self.count = 0
        self.with_pk: bool | None = None
        self._render: Callable[[dict[str, Any]], str] | None = None
        self._lines: list[str] = []
        self._chunks: list[bytes] = []

    def append(self, row: dict[str, Any]) -> None:
        if self._render is None:
            self.with_pk = self.model._meta.pk.attname in row
            self._render = _row_renderer(self.model, now=self.now, with_pk=self.with_pk)
        self._lines.append(self._render(row))
        self._lock.keep(row)
        self.count += 1
        if len(self._lines) >= 2000:
            self._chunks.append("".join(self._lines).encode())
            self._lines = []

    def __len__(self) -> int:
        return self.count

    def copy(self) -> int:
        """COPY the rendered rows (PostgreSQL) on the current connection."""
        if not self.count:
            return 0
        self._lock.check()
        if self._lines:
            self._chunks.append("".join(self._lines).encode())
            self._lines = []
        columns = ", ".join(f'"{f.column}"' for f in _load_fields(self.model, bool(self.with_pk)))
        chunks = iter(self._chunks)
        reader = _ChunkReader(chunks)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f'COPY "{self.model._meta.db_table}" ({columns}) FROM STDIN',
                reader,
                size=1 << 18,
            )
        self._chunks = []
        return self.count


class _ChunkReader:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        return next(self._chunks, b"")


_ABORT = b"\x00abort"


class CopyStream:
    """A list-like sink whose rows go to PostgreSQL while the caller keeps appending.

    `append()` renders each row to COPY text; every ~256 kB of text is handed to a thread that
    feeds `COPY ... FROM STDIN` on the current connection (psycopg2 releases the GIL while it
    sends, and the server parses on its own core). The caller must not use the connection
    until `close()`, which sends the rest and waits. The rows must carry their primary key.

    Rows of a year-bound model, while a year is locked, are checked against the lock in
    `close()`, once the COPY has ended and the connection is free again (during it no other
    statement may run, and the rows' relations may arrive after them): a locked row raises
    `YearLockedError` and the caller's transaction, required then, rolls the load back.
    """

    def __init__(self, model: type[models.Model], *, now: datetime.datetime) -> None:
        import queue
        import threading

        self.model = model
        self.count = 0
        self._lock = _LockCheck(model)
        if self._lock.active and not connection.in_atomic_block:
            raise RuntimeError(
                f"A COPY of {model._meta.label} while a year is locked must run in a "
                "transaction: its rows are checked after the COPY, and a refusal rolls it back."
            )
        self._render = _row_renderer(model, now=now, with_pk=True)
        self._lines: list[str] = []
        self._length = 0
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=16)
        self._error: BaseException | None = None
        columns = ", ".join(f'"{f.column}"' for f in _load_fields(model, True))
        sql = f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN'
        # Taken here, in the caller's thread (Django's wrapper is bound to it); the raw
        # psycopg2 cursor is used by the sending thread only.
        raw_cursor = connection.cursor().cursor
        self._thread = threading.Thread(target=self._send, args=(raw_cursor, sql), daemon=True)
        self._thread.start()

    def _send(self, raw_cursor: Any, sql: str) -> None:
        try:
            raw_cursor.copy_expert(sql, self, size=1 << 18)
        except BaseException as error:  # reported by append()/close() in the caller
            self._error = error

    def read(self, size: int = -1) -> bytes:  # called by psycopg2 in the sending thread
        data = self._queue.get()
        if data is _ABORT:
            raise RuntimeError("row generation failed: COPY aborted")
        return data

    def abort(self) -> None:
        """The caller failed: end the COPY with an error (the transaction rolls back)."""
        if self._thread.is_alive():
            self._lines = []
            # If the sending thread already failed, there is nothing left to abort.
            with contextlib.suppress(BaseException):
                self._put(_ABORT)
            self._thread.join()

    def _put(self, data: bytes) -> None:
        import queue

        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(data, timeout=0.5)
                return
            except queue.Full:
                continue

    def append(self, row: dict[str, Any]) -> None:
        line = self._render(row)
        self._lock.keep(row)
        self._lines.append(line)
        self._length += len(line)
        self.count += 1
        if self._length >= 1 << 17:
            self._put("".join(self._lines).encode())
            self._lines = []
            self._length = 0

    def __len__(self) -> int:
        return self.count

    def close(self) -> int:
        if self._lines:
            self._put("".join(self._lines).encode())
            self._lines = []
        self._put(b"")  # end of data
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._lock.check()
        return self.count


# --- history rows for loaded rows ------------------------------------------------------------


def _history_copy(
    model: type[models.Model], *, when: datetime.datetime, reason: str, user_id: int | None
) -> tuple[str, str, str, list[Any]]:
    """The pieces of an `INSERT INTO <history> (<columns>) SELECT <selected> FROM <model> AS
    source` that copies rows into their first ("+") history rows: the history table, the
    column list, the select list and its parameters."""
    history_model = model.history.model  # type: ignore[attr-defined]  # `history` is added by simple_history at run time
    source_columns = {field.column for field in model._meta.concrete_fields if not field.generated}
    extra = {
        "history_date": connection.ops.adapt_datetimefield_value(when),
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    columns: list[str] = []
    selected: list[str] = []
    params: list[Any] = []
    for field in history_model._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        columns.append(f'"{field.column}"')
        if field.attname in extra:
            selected.append("%s")
            params.append(extra[field.attname])
        elif field.column in source_columns:
            selected.append(f'source."{field.column}"')
        else:  # pragma: no cover - a history field this loader does not know
            raise ValueError(f"{history_model.__name__}.{field.attname} has no source column")
    return history_model._meta.db_table, ", ".join(columns), ", ".join(selected), params


def initial_history(
    model: type[models.Model],
    *,
    when: datetime.datetime,
    reason: str,
    user_id: int | None = None,
) -> int:
    """Give every row of `model` that has no history row its first one (django-simple-history's
    "+" row: the row as it is now, dated `when`), in one INSERT … SELECT on the database.

    Rows written by `load_rows` (and by `bulk_create`) have no history; rows that came through
    the services already have theirs and are left alone, so calling this again adds nothing.
    Returns the number of history rows added."""
    history_table, columns, selected, params = _history_copy(
        model, when=when, reason=reason, user_id=user_id
    )
    pk_column = cast(str, model._meta.pk.column)
    sql = (
        f'INSERT INTO "{history_table}" ({columns}) '
        f'SELECT {selected} FROM "{model._meta.db_table}" AS source '
        f'WHERE NOT EXISTS (SELECT 1 FROM "{history_table}" AS history '
        f'WHERE history."{pk_column}" = source."{pk_column}")'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def history_of(
    model: type[models.Model],
    ids: Sequence[int],
    *,
    when: datetime.datetime,
    reason: str,
    user_id: int | None = None,
) -> int:
    """The first history row ("+", dated `when`) of each of these just-written rows, copied
    from the rows themselves by one INSERT … SELECT on the database: the same values a history
    row built in Python would carry (a column the row left to its default has that default in
    both), encrypted columns copied as they are, nothing rendered or encrypted again in Python.
    Returns the number of history rows written."""
    if not ids:
        return 0
    history_table, columns, selected, params = _history_copy(
        model, when=when, reason=reason, user_id=user_id
    )
    pk_column = cast(str, model._meta.pk.column)
    if connection.vendor == "postgresql":
        condition = f'source."{pk_column}" = ANY(%s)'
        params.append(list(ids))
    else:
        condition = f'source."{pk_column}" IN ({", ".join(["%s"] * len(ids))})'
        params.extend(ids)
    sql = (
        f'INSERT INTO "{history_table}" ({columns}) '
        f'SELECT {selected} FROM "{model._meta.db_table}" AS source '
        f'WHERE {condition} ORDER BY source."{pk_column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
