"""Against a real streaming replica (issue 19): `.ci/replica.sh` starts a primary and a standby
made by `pg_basebackup -R`, sets DATABASE_URL / DATABASE_REPLICA_URL and REPLICA_TESTS=1, and
runs these (`-m replica`). Elsewhere they are skipped: the suite's replica is a TEST MIRROR of
the primary (tests/povertyapp/test_db_router.py).
"""

from __future__ import annotations

import datetime
import os
import time

import pytest
from django.db import InternalError, connections
from django.test.utils import CaptureQueriesContext

from povertyapp import db_router, jobs
from povertyapp.ledgers.services import ledger_write
from povertyapp.models import Job, Region
from rounds import figures, rates
from tests import factories
from tests.ledgers.test_export_replica import data_time
from tests.povertyapp.test_db_router_gaps import export_registry
from tests.rounds.test_dashboards import computed  # noqa: F401  (the computed round)
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)
from tests.rounds.test_figures_job import EXPECTED, _table

pytestmark = [
    pytest.mark.replica,
    pytest.mark.skipif(
        os.environ.get("REPLICA_TESTS") != "1",
        reason="needs a streaming replica: .ci/replica.sh starts one (REPLICA_TESTS=1)",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def _fetch(alias: str, sql: str, parameters: tuple = ()) -> tuple:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchone()


def _replay_time() -> datetime.datetime:
    (value,) = _fetch("replica", "SELECT pg_last_xact_replay_timestamp()")
    return value


def test_the_replica_is_a_streaming_standby_of_the_primary(settings):
    assert settings.REPLICA_READS is True
    assert _fetch("replica", "SELECT pg_is_in_recovery()") == (True,)
    assert _fetch("default", "SELECT pg_is_in_recovery()") == (False,)
    (streaming,) = _fetch(
        "default", "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
    )
    assert streaming == 1
    assert (
        connections["replica"].settings_dict["PORT"] != connections["default"].settings_dict["PORT"]
    )


def test_a_row_written_on_the_primary_is_on_the_standby_after_replay():
    region = factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
    (written,) = _fetch("default", "SELECT pg_current_wal_insert_lsn()::text")
    # catch_up waits until the standby has replayed the primary's position.
    with db_router.read_from_replica(catch_up=True):
        assert db_router.read_alias() == "replica"
        with CaptureQueriesContext(connections["replica"]) as replica:
            names = list(Region.objects.filter(pk=region.pk).values_list("name", flat=True))
    assert names == ["贵州省"]
    assert len(replica.captured_queries) == 1
    assert _fetch("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (written,)) == (True,)


def test_the_standby_refuses_writes_and_the_router_never_sends_them():
    with pytest.raises(InternalError, match="read-only"), connections["replica"].cursor() as cursor:
        cursor.execute("UPDATE povertyapp_region SET name = name")
    with db_router.read_from_replica():
        region = factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
        Region.objects.filter(pk=region.pk).update(name="贵州")
    assert Region.objects.get(pk=region.pk).name == "贵州"


def test_an_export_header_shows_the_standbys_replay_time(tmp_path, cast, household_a):
    assert db_router._caught_up() is True
    before = _replay_time()
    path = str(tmp_path / "households.xlsx")
    with CaptureQueriesContext(connections["replica"]) as replica:
        result = ledger_write(user=cast.county, key="households", filters={}, path=path)
    after = _replay_time()
    assert result.rows == 1
    assert any("households_household" in query["sql"] for query in replica.captured_queries)
    # The replay time when the rows were read: at or after the one before, at or before the
    # one after (the export's own access-log row is replayed meanwhile). Written to seconds.
    assert before.replace(microsecond=0) <= data_time(path) <= after


def test_the_rates_job_aggregates_on_the_standby(built, cast, monkeypatch):  # noqa: F811
    """On PostgreSQL the job's aggregates run on two connections (`rates._both`): this thread's
    statements are captured; the other thread's alias is recorded by a spy."""
    round, _h = built
    aliases: list[str] = []
    counts = figures.round_counts_by_village

    def spy(**kwargs):
        aliases.append(db_router.read_alias())
        return counts(**kwargs)

    monkeypatch.setattr(figures, "round_counts_by_village", spy)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        job = rates.rates_enqueue(user=cast.county, round=round)
    job = jobs.job_run(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert _table() == EXPECTED
    assert aliases == ["replica"]
    assert any("completeness_filled" in query["sql"] for query in replica.captured_queries)
    assert not any("completeness_filled" in query["sql"] for query in primary.captured_queries)
    assert any("povertyapp_ratesnapshot" in query["sql"] for query in primary.captured_queries)


def _wait_for_replay(seconds: float = 10.0) -> None:
    """The web lists do not wait for the standby (only exports do): give it the moment it needs
    to replay what the fixtures wrote, as a user's next page would."""
    deadline = time.monotonic() + seconds
    while not db_router._caught_up():
        assert time.monotonic() < deadline, "the standby did not replay the primary in time"
        time.sleep(0.05)


def _household_reads(captured: CaptureQueriesContext) -> int:
    return sum('"households_household"' in query["sql"] for query in captured.captured_queries)


def test_the_households_behind_a_figure_are_read_on_the_standby(
    cast,
    client_for,
    computed,  # noqa: F811
):
    """The gaps closed in issue 19, on a real standby: the dashboard's drill-down list reads
    its count and its page there, and shows the households the primary wrote."""
    round, households = computed
    client = client_for(cast.county)  # signed in without a request: not pinned to the primary
    _wait_for_replay()
    url = f"/dashboards/522622100000/households/?round={round.pk}&list=removed"
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert households["a1"].number in text and households["c2"].number in text
    assert _household_reads(replica) >= 2 and _household_reads(primary) == 0


def test_the_export_command_reads_the_standby_once_it_has_caught_up(
    cast,
    computed,  # noqa: F811
    tmp_path,
):
    """`manage.py export_ledger` has no request to pin it: it waits until the standby has
    replayed the primary's position, then reads the rows there; the header carries the
    standby's replay time."""
    output = tmp_path / "registry.xlsx"
    before = _replay_time()
    with CaptureQueriesContext(connections["replica"]) as replica:
        export_registry(cast.county, output)
    assert output.exists()
    assert _household_reads(replica) >= 1
    assert before.replace(microsecond=0) <= data_time(str(output)) <= _replay_time()
