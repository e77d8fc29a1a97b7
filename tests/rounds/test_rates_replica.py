"""The rates job reads its aggregates from the read replica (issue 19) and writes the snapshots
on the primary. Under pytest the replica is a TEST MIRROR of the primary
(tests/povertyapp/test_db_router.py); the same job against a real standby:
tests/povertyapp/test_replica_streaming.py."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from povertyapp import jobs
from povertyapp.models import Job
from rounds import rates
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)
from tests.rounds.test_figures_job import EXPECTED, _table


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_rates_job_aggregates_on_the_replica(built, cast, settings, monkeypatch):  # noqa: F811
    settings.REPLICA_READS = True
    # On PostgreSQL the job's two aggregates may run on two threads, each with its own
    # connection, which the capture below (this thread's) would not see: one thread here, as
    # the routing, not the concurrency, is what this test reads.
    monkeypatch.setattr(rates, "concurrent_allowed", lambda: False)
    round, _h = built
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        job = rates.rates_enqueue(user=cast.county, round=round)
    job = jobs.job_run(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert _table() == EXPECTED
    on_replica = " ".join(query["sql"] for query in replica.captured_queries)
    assert "households_roundvillage" in on_replica  # the figures statement
    assert "completeness_filled" in on_replica  # 信息录入率's household terms
    assert "INSERT" not in on_replica.upper() and "UPDATE" not in on_replica.upper()
    on_primary = " ".join(query["sql"] for query in primary.captured_queries)
    assert 'INSERT INTO "povertyapp_ratesnapshot"' in on_primary
    assert "SELECT" in on_primary.upper()  # the round, locked for the write, on the primary
    assert "households_roundvillage" not in on_primary


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_dashboards_read_their_snapshots_from_the_replica(built, settings):  # noqa: F811
    from rounds import dashboards

    settings.REPLICA_READS = True
    round, _h = built
    rates.compute_rates(round=round)
    county = round.county
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        trend = dashboards.trend(region=county)
        children = dashboards.child_snapshots(region=county, round=round)
        rollups = dashboards.rollup_trend(county)
    assert [snapshot.round_id for snapshot in trend] == [round.pk]
    assert [row["region__code"] for row in children] == ["522622100000", "522622101000"]
    assert rollups == []
    assert primary.captured_queries == []
    read = " ".join(query["sql"] for query in replica.captured_queries)
    assert "povertyapp_ratesnapshot" in read and "rounds_rollupsnapshot" in read
