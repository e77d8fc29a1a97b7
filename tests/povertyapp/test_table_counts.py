"""The row counter of .ci/migrate_from_release.sh (.ci/table_counts.py): what it lets through.

The script itself runs in CI (a release's demo database migrated forward by this tree); these
tests show that its comparison fails on every kind of lost or added row and says which.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _table_counts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("table_counts", ROOT / ".ci" / "table_counts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BEFORE = {"households_household": 300, "django_content_type": 67, "django_migrations": 56}


def test_the_same_counts_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert _table_counts().compare(BEFORE, dict(BEFORE)) == []
    assert "households_household       300       300       +0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("after", "complaint"),
    [
        ({**BEFORE, "households_household": 299}, "households_household: lost 1 rows"),
        ({**BEFORE, "households_household": 301}, "households_household: gained 1 rows"),
        ({**BEFORE, "rounds_round": 2}, "rounds_round: gained 2 rows"),
        (
            {k: v for k, v in BEFORE.items() if k != "households_household"},
            "households_household: the table is gone (300 rows before)",
        ),
        ({**BEFORE, "django_content_type": 66}, "django_content_type: lost 1 rows"),
    ],
)
def test_a_lost_or_added_row_fails_naming_the_table(after: dict[str, int], complaint: str) -> None:
    assert _table_counts().compare(BEFORE, after) == [complaint]


def test_the_bookkeeping_may_grow_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    after = {**BEFORE, "django_content_type": 70, "django_migrations": 60, "rounds_round": 0}

    assert _table_counts().compare(BEFORE, after) == []
    out = capsys.readouterr().out
    assert "note: django_content_type gained 3 rows (Django's bookkeeping, allowed)" in out
    assert "note: django_migrations gained 4 rows (Django's bookkeeping, allowed)" in out
    assert "rounds_round" in out and "new table" in out


def test_every_table_of_a_sqlite_file_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE "a table" (id INTEGER)')
        connection.execute("CREATE TABLE other (id INTEGER)")
        connection.executemany('INSERT INTO "a table" VALUES (?)', [(1,), (2,)])
    connection.close()

    assert _table_counts().main(["count", f"sqlite:///{path}", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text()) == {"a table": 2, "other": 0}


def test_declared_drops_and_creations_pass_with_their_reason_and_nothing_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = {**BEFORE, "authtoken_token": 12, "povertyapp_auditchainhead": 0}
    after = {**BEFORE, "povertyapp_auditchainhead": 1}
    assert _table_counts().compare(before, after) == []
    out = capsys.readouterr().out
    assert "note: authtoken_token dropped (12 rows): issue 14" in out
    assert "note: povertyapp_auditchainhead gained 1 rows: issue 14" in out
    # More than the declared creation is a complaint like any other gain.
    too_many = {**after, "povertyapp_auditchainhead": 2}
    assert _table_counts().compare(before, too_many) == ["povertyapp_auditchainhead: gained 2 rows"]
