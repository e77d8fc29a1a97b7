"""The 四类名单 in the national system's layout (issue 16): the round's approved lines, coded."""

from __future__ import annotations

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from povertyapp.ledgers.services import ledger_write
from rounds.models import AdjustmentRound, RoundChange
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _round_with_lines(cast, county, household_a, household_b):
    adjustment = AdjustmentRound.objects.create(
        county=county.county, year=2020, name="2020年动态调整", opened_at=timezone.now()
    )
    for household, kind, state in (
        (household_b, RoundChange.Kind.REMOVED, RoundChange.State.APPROVED),
        (household_a, RoundChange.Kind.EXITED, RoundChange.State.PROPOSED),
    ):
        RoundChange.objects.create(
            round=adjustment,
            household=household,
            village=household.village,
            kind=kind,
            persons=2,
            head_name="张三",
            reason="核实",
            state=state,
            proposed_by=cast.cadre,
            proposed_at=timezone.now(),
            decided_at=timezone.now() if state == RoundChange.State.APPROVED else None,
        )
    return adjustment


def test_national_round_list_holds_the_approved_lines_coded(
    tmp_path, cast, county, household_a, household_b
):
    _round_with_lines(cast, county, household_a, household_b)
    path = str(tmp_path / "lists.xlsx")
    ledger_write(user=cast.county, key="national_round_lists", filters={}, path=path)
    workbook = openpyxl.load_workbook(path)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = next(index for index, row in enumerate(rows) if "名单类型" in row)
    data = rows[header + 1 :]
    assert len(data) == 1  # the proposed line is not the national system's yet
    line = dict(zip(rows[header], data[0], strict=True))
    assert line["名单类型"] == "2"  # 剔除
    assert line["户编号"] == household_b.number
    assert line["行政区划代码"] == county.village_b.code
    assert line["人数"] == 2
    assert len(list(workbook.worksheets[1].iter_rows())) == 3  # no value without a code


def test_national_round_list_is_the_county_offices(cast, county, household_a, household_b):
    _round_with_lines(cast, county, household_a, household_b)
    for user in (cast.cadre, cast.township, cast.auditor):
        response = login(user).post(
            reverse("ledgers:export"), {"ledger": "national_round_lists", "reason": "核对名单"}
        )
        assert response.status_code == 403
    response = login(cast.county).post(
        reverse("ledgers:export"), {"ledger": "national_round_lists", "reason": "录入国家系统"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
