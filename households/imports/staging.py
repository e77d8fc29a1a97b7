"""Memory does not grow with the file: the parsed rows of both sheets go to a temporary SQLite file
(`_Staging`, beside the uploads), households are validated in batches with their members fetched
from it, and the validated households wait there for the write."""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, cast

from households.imports.files import STAGING_PREFIX, import_directory


class _RowCodec:
    """A sheet's parsed rows, pickled as the tuple of their values: every row `data_rows`
    yields has the same keys in the same order (its columns), so the keys are kept once here
    instead of in every pickle (the staged rows take a third of the bytes, and a third less
    time to pickle). A row with other keys (a cell that could not be read has none) is
    pickled as its dict."""

    def __init__(self) -> None:
        self.keys: tuple[str, ...] | None = None

    def dumps(self, values: dict[str, Any]) -> bytes:
        keys = tuple(values)
        if self.keys is None:
            self.keys = keys
        packed: Any = tuple(values.values()) if keys == self.keys else values
        return pickle.dumps(packed, pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> dict[str, Any]:
        packed = pickle.loads(data)
        if isinstance(packed, tuple):
            return dict(zip(self.keys or (), packed, strict=True))
        return cast(dict[str, Any], packed)


class _Staging:
    """Parsed rows and validated households on disk (a temporary SQLite file, deleted on
    close), so that the import's memory does not grow with the file."""

    def __init__(self, path: str | None = None) -> None:
        # Beside the uploads (it holds the same personal data): a file left by a crash is
        # removed by the nightly clean-up with them. A `path` given is the caller's (the
        # households sheet's reader process writes into a file its parent made, and keeps).
        self.owned = path is None
        if path is None:
            handle, path = tempfile.mkstemp(
                suffix=".sqlite3", prefix=STAGING_PREFIX, dir=import_directory()
            )
            os.close(handle)
        self.path = path
        self.db = sqlite3.connect(self.path)
        self.household_rows = _RowCodec()
        self.member_rows = _RowCodec()
        self._plans: list[tuple[int, bytes]] = []  # validated, not yet inserted
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(
            """
            CREATE TABLE households (seq INTEGER PRIMARY KEY, row INTEGER, number TEXT, data BLOB);
            CREATE TABLE members (
                seq INTEGER PRIMARY KEY, row INTEGER, number TEXT, id_key TEXT, data BLOB
            );
            CREATE TABLE plans (seq INTEGER PRIMARY KEY, new INTEGER, data BLOB);
            """
        )

    def close(self) -> None:
        self.db.close()
        if self.owned:
            os.unlink(self.path)

    def save(self) -> None:
        """Commit and close, keeping the file (the reader process's, for its parent)."""
        self.db.commit()
        self.db.close()

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _insert(self, table: str, rows: Iterator[tuple[Any, ...]], width: int) -> int:
        sql = f"INSERT INTO {table} VALUES (NULL{', ?' * width})"
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 5000:
                self.db.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            self.db.executemany(sql, batch)
            count += len(batch)
        return count

    def add_households(
        self, rows: Iterator[tuple[int, dict[str, Any]]], *, indexed: bool = True
    ) -> int:
        count = self._insert(
            "households",
            (
                (row, values.get("number") or "", self.household_rows.dumps(values))
                for row, values in rows
            ),
            3,
        )
        if indexed:
            self.db.execute("CREATE INDEX households_number ON households (number)")
        return count

    def take_households(self, path: str, keys: tuple[str, ...] | None) -> None:
        """The household rows another staging file holds (the reader process's, written by
        `add_households` with the codec keys `keys`), copied into this one in file order."""
        self.db.commit()  # ATTACH is refused inside a transaction
        self.db.execute("ATTACH DATABASE ? AS beside", (path,))
        try:
            self.db.execute(
                "INSERT INTO households (row, number, data) "
                "SELECT row, number, data FROM beside.households ORDER BY seq"
            )
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE beside")
        self.household_rows.keys = keys
        self.db.execute("CREATE INDEX households_number ON households (number)")

    def add_members(self, rows: Iterator[tuple[int, str, str | None, dict[str, Any]]]) -> int:
        """Stage the member rows: (row, 户编号, the normalised ID number or None, values)."""
        count = self._insert(
            "members",
            (
                (row, number, id_key, self.member_rows.dumps(values))
                for row, number, id_key, values in rows
            ),
            4,
        )
        self.db.execute("CREATE INDEX members_number ON members (number)")
        self.db.execute("CREATE INDEX members_id ON members (id_key)")
        return count

    def repeated_members(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """(row, the first row with its ID number, values) of each member row whose ID number
        an earlier row holds, in file order; those rows are then taken out of the staged
        members (they are errors, not members). One pass over the ID index, where a dict of
        every ID number would hold the whole sheet's in memory (370,000 at 100k households)."""
        repeated = """
            SELECT m.seq, m.row, m.data, first.row
            FROM (
                SELECT id_key, MIN(seq) AS seq FROM members
                WHERE id_key IS NOT NULL GROUP BY id_key HAVING COUNT(*) > 1
            ) AS d
            JOIN members AS first ON first.seq = d.seq
            JOIN members AS m ON m.id_key = d.id_key AND m.seq > d.seq
        """
        try:
            rows = self.db.execute(f"{repeated} ORDER BY m.seq")
            for _seq, row, data, first_row in rows:
                yield row, first_row, self.member_rows.loads(data)
        finally:
            self.db.execute(f"DELETE FROM members WHERE seq IN (SELECT seq FROM ({repeated}))")

    def household_batches(
        self, size: int
    ) -> Iterator[list[tuple[int, dict[str, Any], int | None]]]:
        """The household rows in file order, `size` at a time: (row, values, the first row
        with the same 户编号 when an earlier row holds it, else None)."""
        last = 0
        while True:
            found = self.db.execute(
                """SELECT h.seq, h.row, h.data,
                          CASE WHEN h.number <> '' THEN (
                              SELECT o.row FROM households AS o
                              WHERE o.number = h.number AND o.seq < h.seq
                              ORDER BY o.seq LIMIT 1
                          ) END
                   FROM households AS h WHERE h.seq > ? ORDER BY h.seq LIMIT ?""",
                (last, size),
            ).fetchall()
            if not found:
                return
            last = found[-1][0]
            loads = self.household_rows.loads
            yield [(row, loads(data), first) for _seq, row, data, first in found]

    def members_of(self, numbers: list[str]) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """The member rows of these 户编号, in file order."""
        found: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            for number, row, data in self.db.execute(
                "SELECT number, row, data FROM members WHERE number IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY seq",
                chunk,
            ):
                found[number].append((row, self.member_rows.loads(data)))
        return found

    def orphan_members(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """Member rows whose 户编号 is on no row of the households sheet."""
        for row, number, data in self.db.execute(
            "SELECT row, number, data FROM members WHERE number NOT IN "
            "(SELECT number FROM households) ORDER BY seq"
        ):
            yield row, number, self.member_rows.loads(data)

    def add_plan(self, plan: Any, *, new: bool) -> None:
        self._plans.append((1 if new else 0, pickle.dumps(plan, pickle.HIGHEST_PROTOCOL)))
        if len(self._plans) >= 2000:
            self._flush_plans()

    def _flush_plans(self) -> None:
        """Insert the plans kept so far: 2,000 plans a statement, not one each."""
        if self._plans:
            self.db.executemany("INSERT INTO plans VALUES (NULL, ?, ?)", self._plans)
            self._plans = []

    def plans(self, *, new: bool) -> Iterator[Any]:
        self._flush_plans()
        last = 0
        while True:
            found = self.db.execute(
                "SELECT seq, data FROM plans WHERE new = ? AND seq > ? ORDER BY seq LIMIT 2000",
                (1 if new else 0, last),
            ).fetchall()
            if not found:
                return
            last = found[-1][0]
            for _seq, data in found:
                yield pickle.loads(data)
