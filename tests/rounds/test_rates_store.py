"""The rates job's fixed costs (issue 19): the snapshot rows and their history stored in one
statement on PostgreSQL, the roll-up of the villages bottom-up, the aggregates' settings in one
statement. Each is held to what the code it replaced gave: the same rows, the same sums.

Runs on SQLite by default and on PostgreSQL with DATABASE_URL set; the PostgreSQL-only path is
compared there with the portable one (the two upserts SQLite runs).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from povertyapp.models import path_prefixes
from rounds import figures, history, rates
from rounds.models import FigureHistory, RateSnapshot
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)
from tests.rounds.test_figures_job import EXPECTED, _table

_postgresql_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the PostgreSQL store",
)


def _stored() -> tuple[list[tuple], list[tuple]]:
    """Every snapshot row and history row, all columns but the id."""
    snapshots = sorted(
        tuple(sorted((key, repr(value)) for key, value in row.items() if key != "id"))
        for row in RateSnapshot.objects.values()
    )
    history_rows = sorted(
        tuple(sorted((key, repr(value)) for key, value in row.items() if key != "id"))
        for row in FigureHistory.objects.values()
    )
    return snapshots, history_rows


def _capture_store(monkeypatch) -> list[dict[str, Any]]:
    """Record the arguments of every `rates.snapshots_store` call (the call still runs)."""
    calls: list[dict[str, Any]] = []
    original = rates.snapshots_store

    def spy(rows, *, common, year):
        calls.append({"rows": rows, "common": common, "year": year})
        original(rows, common=common, year=year)

    monkeypatch.setattr(rates, "snapshots_store", spy)
    return calls


def test_the_job_stores_every_region_and_its_history_once(built, monkeypatch):  # noqa: F811
    round, _h = built
    calls = _capture_store(monkeypatch)
    rates.compute_rates(round=round)
    rates.compute_rates(round=round)  # the rerun updates the same rows in place
    assert _table() == EXPECTED
    (first, second) = calls
    regions = {row["region_id"] for row in second["rows"]}
    assert RateSnapshot.objects.count() == len(regions) == len(EXPECTED)
    # one history row per region and day, the day's last computation
    assert FigureHistory.objects.count() == len(regions)
    for row in FigureHistory.objects.all():
        snapshot = RateSnapshot.objects.get(region_id=row.region_id, round=round)
        assert row.year == round.year
        assert row.computed_at == snapshot.computed_at == second["common"]["computed_at"]
        for rate in history.RATES:
            assert getattr(row, rate) == getattr(snapshot, rate)


@_postgresql_only
def test_the_postgresql_store_writes_what_the_two_upserts_write(built, monkeypatch):  # noqa: F811
    """The one statement (JSON document, json_populate_recordset, a data-modifying CTE) stores
    exactly what `snapshots_upsert` and `history.history_record` store from the same rows:
    every column of every row, the rates to the last place, the JSON breakdowns and source,
    on insert and on the conflict's update."""
    round, _h = built
    calls = _capture_store(monkeypatch)
    rates.compute_rates(round=round)
    (call,) = calls
    fast = _stored()
    RateSnapshot.objects.all().delete()
    FigureHistory.objects.all().delete()
    with transaction.atomic():
        rates.snapshots_upsert(call["rows"], common=call["common"])
        history.history_record(
            call["rows"], year=call["year"], computed_at=call["common"]["computed_at"]
        )
    assert _stored() == fast
    with transaction.atomic():  # over the portable path's rows: the update branch
        rates._store_postgresql(call["rows"], common=call["common"], year=call["year"])
    assert _stored() == fast


@_postgresql_only
def test_on_postgresql_the_snapshots_and_history_are_one_statement(built):  # noqa: F811
    round, _h = built
    assert _table() == {}
    with figures.serial_statements(), CaptureQueriesContext(connection) as captured:
        rates.compute_rates(round=round)
    writing = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "WITH"))
        and "INSERT" in query["sql"].upper()
    ]
    assert len(writing) == 1
    (statement,) = writing
    assert RateSnapshot._meta.db_table in statement and FigureHistory._meta.db_table in statement
    settings_statements = [
        query["sql"] for query in captured.captured_queries if "set_config" in query["sql"]
    ]
    # one after the other (serial), the aggregates share one transaction and one settings
    # statement (`figures.aggregate_transaction`), never one per setting or per aggregate
    assert not any("SET LOCAL" in query["sql"] for query in captured.captured_queries)
    assert len(settings_statements) == 1
    # the frozen population is read by the figures statement, not by one of its own
    assert sum("households_roundvillage" in q["sql"] for q in captured.captured_queries) == 1
    assert _table() == EXPECTED


def test_a_snapshot_row_lacking_a_column_is_refused_before_anything_is_written(db):
    with pytest.raises(ValueError, match="wrongful_inclusion_numerator"):
        rates._store_postgresql(
            [{"region_id": 1, "level": "village"}],
            common={"round_id": 1, "computed_at": None, "source": {}},
            year=2020,
        )
    assert not RateSnapshot.objects.exists()


# --- the roll-up, bottom-up --------------------------------------------------------------------


def _counts(seed: int) -> figures.RoundCounts:
    counts = figures.RoundCounts(
        rural_population=100 + seed,
        registered_persons=10 + seed,
        removed_persons=seed % 3,
        poor_households=seed % 4,
        poor_persons=2 * (seed % 4),
    )
    counts.status_counts = {"poor": {"households": seed % 4, "persons": 2 * (seed % 4)}}
    if seed % 2:
        counts.cause_counts = {"缺技术": {"households": 1, "persons": seed}}
    return counts


def _every_ancestor(village_counts, village_paths, region_paths):
    """The roll-up as it was: each village added into every listed region on its path."""
    totals = {region_id: figures.RoundCounts() for region_id in region_paths}
    by_path = {path: region_id for region_id, path in region_paths.items()}
    for village_id, village in village_counts.items():
        for ancestor in path_prefixes(village_paths[village_id]):
            if ancestor in by_path:
                totals[by_path[ancestor]] += village
    return totals


def test_the_bottom_up_rollup_equals_the_sum_into_every_ancestor():
    # county 1 > townships 2, 3 > villages 4–9; town 3 not listed (its villages go to the
    # county), village 9 outside the county (counted nowhere), village 10 listed but without
    # counts (zero), a listed region 11 with no village under it.
    region_paths = {
        1: "/1/",
        2: "/1/2/",
        4: "/1/2/4/",
        5: "/1/2/5/",
        6: "/1/3/6/",
        7: "/1/3/7/",
        8: "/1/2/8/",
        10: "/1/2/10/",
        11: "/1/12/",
    }
    village_paths = {4: "/1/2/4/", 5: "/1/2/5/", 6: "/1/3/6/", 7: "/1/3/7/", 8: "/1/2/8/"}
    village_paths[9] = "/99/9/"
    village_counts = {village_id: _counts(village_id) for village_id in village_paths}
    expected = _every_ancestor(village_counts, village_paths, region_paths)
    got = figures.rollup(village_counts, village_paths, region_paths)
    assert got == expected
    assert got[1].rural_population == sum(100 + seed for seed in (4, 5, 6, 7, 8))
    assert got[2].cause_counts == {"缺技术": {"households": 1, "persons": 5}}
    assert got[10] == figures.RoundCounts() and got[11] == figures.RoundCounts()
    # the villages' own counts are not changed by the roll-up
    assert village_counts[4] == _counts(4)


def test_the_completeness_rollup_sums_villages_into_every_listed_ancestor():
    paths = {1: "/1/", 2: "/1/2/", 4: "/1/2/4/", 5: "/1/2/5/", 6: "/1/3/6/"}
    completeness = {4: (3, 5), 5: (7, 11), 6: (13, 17)}
    assert rates._completeness_rollup(completeness, paths) == {
        1: [23, 33],
        2: [10, 16],
        4: [3, 5],
        5: [7, 11],
        6: [13, 17],
    }


def test_nearest_region():
    by_path = {"/1/": 1, "/1/2/": 2, "/1/2/3/": 3}
    assert figures.nearest_region("/1/2/3/", by_path, itself=True) == 3
    assert figures.nearest_region("/1/2/3/", by_path, itself=False) == 2
    assert figures.nearest_region("/1/5/6/", by_path, itself=False) == 1
    assert figures.nearest_region("/1/", by_path, itself=False) is None
    assert figures.nearest_region("/9/", by_path, itself=True) is None
