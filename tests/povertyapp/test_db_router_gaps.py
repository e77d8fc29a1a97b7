"""Read-replica gaps closed (issue 19): the dashboards' lists (the households behind a figure,
the round list) read from the replica as the figures do, a user who just wrote stays on the
primary, and `manage.py export_ledger` waits for the replica to catch up as a web export's job
does. The `replica` alias is a TEST MIRROR of `default` (tests/povertyapp/test_db_router.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from households.models import Household
from povertyapp import db_router
from povertyapp.middleware import ReplicaStickyMiddleware
from tests.rounds.test_dashboards import computed  # noqa: F401  (the computed round)
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)

BOTH = ["default", "replica"]
TABLE = Household._meta.db_table


@pytest.fixture
def replica_on(settings):
    settings.REPLICA_READS = True
    settings.REPLICA_STICKY_SECONDS = 15
    cache.clear()
    return settings


def _on(captured: CaptureQueriesContext, table: str) -> int:
    return sum(f'"{table}"' in query["sql"] for query in captured.captured_queries)


def _list(client, round_id: int) -> tuple[str, int, int]:
    url = f"/dashboards/522622100000/households/?round={round_id}&list=removed"
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        text = client.get(url).content.decode()
    return text, _on(primary, TABLE), _on(replica, TABLE)


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_households_behind_a_figure_are_read_from_the_replica(
    replica_on,
    cast,
    client_for,
    computed,  # noqa: F811
):
    round, households = computed
    client = client_for(cast.county)  # signed in without a request: not pinned
    assert ReplicaStickyMiddleware.COOKIE not in client.cookies
    text, primary, replica = _list(client, round.pk)
    assert households["a1"].number in text and households["c2"].number in text
    assert replica >= 2 and primary == 0  # the count and the page


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_after_a_write_the_households_behind_a_figure_are_read_from_the_primary(
    replica_on,
    cast,
    client_for,
    computed,  # noqa: F811
):
    round, households = computed
    client = client_for(cast.county)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})  # a write: pinned
    assert ReplicaStickyMiddleware.COOKIE in client.cookies
    text, primary, replica = _list(client, round.pk)
    assert households["a1"].number in text
    assert primary >= 2 and replica == 0


def export_registry(user, output) -> None:
    """`manage.py export_ledger registry` of the fixtures' township, as its county office."""
    call_command(
        "export_ledger",
        "registry",
        "--region",
        "522622100000",
        "--output",
        str(output),
        "--user",
        user.username,
        "--reason",
        "核对上级下发名单",
    )


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_export_command_waits_for_the_replica_as_the_web_exports_job(
    replica_on,
    cast,
    computed,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """The command has no request to pin it: it waits for the replica to replay the primary
    (`read_from_replica(catch_up=True)`); a replica that lags is not read."""
    asked: list[bool] = []

    def lagging() -> bool:
        asked.append(True)
        return False

    monkeypatch.setattr(db_router, "_caught_up", lagging)
    output = tmp_path / "registry.xlsx"
    with CaptureQueriesContext(connections["replica"]) as replica:
        export_registry(cast.county, output)
    assert asked == [True]
    assert output.exists()
    assert _on(replica, TABLE) == 0  # lagging: every row from the primary
