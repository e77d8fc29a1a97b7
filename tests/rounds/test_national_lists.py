"""The 四类名单 in the national system's layout (issue 16): the round's approved lines, coded."""

from __future__ import annotations

import openpyxl
import pytest
from django.urls import reverse

from povertyapp.ledgers.services import ledger_write
from povertyapp.models import VillageYear
from rounds import services as rounds
from rounds.models import RoundChange
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _round_with_lines(cast, county, household_a, household_b):
    """A round with an approved 剔除 of household B and a proposed 剔除 of household A."""
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    adjustment = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    ground = rounds.removal_grounds(adjustment)[0]
    removed = rounds.change_propose(
        actor=cast.cadre2,
        round=adjustment,
        household=household_b,
        kind=RoundChange.Kind.REMOVED,
        persons=2,
        head_name="张三",
        reason="核实不符合",
        ground=ground,
    )
    rounds.change_review(actor=cast.county, change=removed, approve=True)
    rounds.change_decide(actor=cast.county, change=removed, approve=True)
    rounds.change_propose(
        actor=cast.cadre,
        round=adjustment,
        household=household_a,
        kind=RoundChange.Kind.REMOVED,
        persons=2,
        head_name="张三",
        reason="核实不符合",
        ground=ground,
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
