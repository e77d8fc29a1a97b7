"""Bulk loading of generated rows: PostgreSQL COPY, or batched INSERTs on SQLite.

Used by the demo seeder and the benchmarks. It writes rows straight to the tables (no model
instances, no history rows), so callers are responsible for rows being valid: the demo
generator builds them from the same rules the services enforce, and its tests check them.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def table_columns(model: type[models.Model]) -> tuple[list[str], list[str], dict[str, Any]]:
    """(attribute names, column names, defaults) of a model's concrete fields."""
    attnames, columns, defaults = [], [], {}
    for field in model._meta.concrete_fields:
        attnames.append(field.attname)
        columns.append(field.column)
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


class _LineReader(io.RawIOBase):
    """A file-like object over generated COPY lines, read lazily by psycopg2's copy_expert."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        chunks = [self._buffer]
        total = len(self._buffer)
        target = size if size and size > 0 else 1 << 20
        for line in self._lines:
            encoded = line.encode()
            chunks.append(encoded)
            total += len(encoded)
            if total >= target:
                break
        data = b"".join(chunks)
        self._buffer = data[target:] if len(data) > target else b""
        return data[:target]


def copy_lines(
    model: type[models.Model], rows: Iterable[dict[str, Any]], *, now: datetime.datetime
) -> Iterator[str]:
    attnames, _columns, defaults = table_columns(model)
    auto_fields = {f.attname for f in model._meta.concrete_fields
                   if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    base = dict(defaults)
    for name in auto_fields:
        base[name] = now
    for row in rows:
        values = base | row
        yield "\t".join([_copy_text(values[name]) for name in attnames]) + "\n"


def load_rows(
    model: type[models.Model], rows: Iterable[dict[str, Any]], *, now: datetime.datetime,
    batch_size: int = 5000,
) -> int:
    """Write rows (dicts of attribute name → value; missing ones take the field default)."""
    _attnames, columns, _defaults = table_columns(model)
    table = model._meta.db_table
    counter = _Counter(rows)
    if connection.vendor == "postgresql":
        quoted = ", ".join(f'"{column}"' for column in columns)
        with connection.cursor() as cursor:
            reader = io.BufferedReader(_LineReader(copy_lines(model, counter, now=now)),
                                       buffer_size=1 << 20)
            cursor.cursor.copy_expert(f'COPY "{table}" ({quoted}) FROM STDIN', reader)
        return counter.count
    attnames, _columns, defaults = table_columns(model)
    auto_fields = {f.attname for f in model._meta.concrete_fields
                   if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    base = dict(defaults)
    for name in auto_fields:
        base[name] = now
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        table, ", ".join(f'"{c}"' for c in columns), ", ".join(["%s"] * len(columns))
    )
    converters = [_sqlite_value for _ in attnames]
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in counter:
            values = base | row
            batch.append([convert(values[name]) for convert, name in zip(converters, attnames,
                                                                          strict=True)])
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
    last = model.objects.aggregate(last=models.Max("pk"))["last"]
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
                f"COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
            )
