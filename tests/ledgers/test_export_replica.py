"""Ledger exports and the read replica (issue 19): the rows are read from the replica, and row 2
of every sheet says which time the data stands at (数据时点).

Under pytest the replica is a TEST MIRROR of the primary (tests/povertyapp/test_db_router.py);
`tests/povertyapp/test_replica_streaming.py` checks the replay time against a real standby.
"""

from __future__ import annotations

import datetime

import openpyxl
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from povertyapp.ledgers.services import ledger_write
from povertyapp.models import AccessLog

BOTH = ["default", "replica"]


def data_time(path: str) -> datetime.datetime:
    """The 数据时点 of the workbook's first sheet (row 2), as an aware local time."""
    sheet = openpyxl.load_workbook(path).worksheets[0]
    (text,) = [cell.value for cell in sheet[2] if str(cell.value or "").startswith("数据时点：")]
    naive = datetime.datetime.strptime(text.removeprefix("数据时点："), "%Y-%m-%d %H:%M:%S")
    return timezone.make_aware(naive)


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_an_export_reads_its_rows_from_the_replica(tmp_path, settings, cast, household_a):
    settings.REPLICA_READS = True
    path = str(tmp_path / "households.xlsx")
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        result = ledger_write(user=cast.county, key="households", filters={}, path=path)
    assert result.rows == 1
    read = " ".join(query["sql"] for query in replica.captured_queries)
    assert "households_household" in read
    assert "INSERT" not in read.upper()
    # The access log row is written on the primary.
    assert any("INSERT" in query["sql"].upper() for query in primary.captured_queries)
    assert AccessLog.objects.filter(target="ledger:households").count() == 1


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_row_two_says_when_the_data_stands(tmp_path, settings, cast, household_a):
    """Without a replica: the primary's time when the rows were read."""
    settings.REPLICA_READS = False
    before = timezone.now().replace(microsecond=0)
    path = str(tmp_path / "households.xlsx")
    ledger_write(user=cast.county, key="households", filters={}, path=path)
    assert before <= data_time(path) <= timezone.now()
    sheet = openpyxl.load_workbook(path).worksheets[0]
    row2 = [cell.value for cell in sheet[2] if cell.value]
    assert row2[0] == "填报单位：黄平县"
    assert row2[1] == "填报人：county"
    assert row2[3].startswith("数据时点：")
