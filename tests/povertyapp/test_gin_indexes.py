"""Every GIN index of the schema keeps its pending list small (households migration 0024).

A GIN index's pending list (`fastupdate`) is read whole by every search through the index and
merged only at a VACUUM or past `gin_pending_list_limit`, 4 MB unless the index sets its own:
after a seed or an import of a county's members the name search read 475 pending pages on
every statement (10.5 ms against 3.3). The class is closed on the schema: a GIN index added
by any app without a bounded list fails here, whatever its table.
"""

from __future__ import annotations

import pytest
from django.db import connection

# The most a search may read of an index's pending list, in kB (migration 0024 sets 256).
MOST_KB = 256

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="GIN indexes are PostgreSQL's"
)


def _gin_indexes() -> dict[str, list[str]]:
    """Every GIN index of the migrated schema, with its storage options."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT index.relname, coalesce(index.reloptions, '{}') FROM pg_class index "
            "JOIN pg_am method ON method.oid = index.relam "
            "JOIN pg_namespace namespace ON namespace.oid = index.relnamespace "
            "WHERE method.amname = 'gin' AND namespace.nspname = current_schema()"
        )
        return dict(cursor.fetchall())


def _bounded(options: list[str]) -> bool:
    settings = dict(option.split("=", 1) for option in options)
    if settings.get("fastupdate", "on").lower() in ("off", "false", "0"):
        return True
    return int(settings.get("gin_pending_list_limit", "4096")) <= MOST_KB


@pytest.mark.django_db
def test_every_gin_index_bounds_its_pending_list():
    indexes = _gin_indexes()
    # The name search's two indexes are there: the test reads the schema it means to.
    assert {"member_name_chars_idx", "member_county_name_keys_idx"} <= set(indexes)
    unbounded = {name: options for name, options in indexes.items() if not _bounded(options)}
    assert not unbounded, (
        f"GIN indexes with the server's 4 MB pending list: {unbounded}; set "
        f"gin_pending_list_limit ≤ {MOST_KB} (kB) in their migration, as households 0024 does"
    )


@pytest.mark.django_db
def test_the_check_tells_a_bounded_list_from_the_default():
    assert _bounded(["gin_pending_list_limit=256"])
    assert _bounded(["fastupdate=off"])
    assert not _bounded([])
    assert not _bounded(["gin_pending_list_limit=4096"])
    assert not _bounded(["fastupdate=on"])
