"""One source for what changed in a round (`rounds.round_list_events`): the figures, the round
page's 四类名单 summary and the 四类名单 ledger list the same households, whatever path made
the change (an approved list line, or a procedure completed while the round is open)."""

from __future__ import annotations

import openpyxl
import pytest
from django.utils import timezone

from households import services
from households.models import Household, HouseholdEvent
from povertyapp.ledgers.services import ledger_write
from povertyapp.models import VillageYear
from rounds import figures
from rounds import services as rounds
from tests import factories

Status = Household.Status
Kind = HouseholdEvent.Kind


@pytest.fixture
def changed_by_procedures(cast, county, household_a):
    """A round in which an identification and an exit were completed through their procedures
    (no list line): the procedures' last step records the change in the open round, which is
    `household_change_status(round=workflow.round)`."""
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    applicant = factories.household(
        actor=cast.county,
        village=county.village_b,
        status=Status.NON_REGISTERED,
        main_cause="因病",
        members=[
            factories.member_data(name="李四"),
            factories.member_data(name="李妻", relation="配偶", sex="女"),
        ],
    )
    round = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    for household, kind, to_status in (
        (applicant, Kind.IDENTIFIED, Status.POOR),
        (household_a, Kind.EXITED, Status.EXITED),
    ):
        services.household_change_status(
            actor=cast.county,
            household=household,
            kind=kind,
            to_status=to_status,
            round=round,
            reason="程序办结",
            proposed_by=cast.cadre,
            approved_by=cast.county,
        )
    return round, applicant


def test_summary_lists_changes_completed_through_a_procedure(cast, county, changed_by_procedures):
    round, _applicant = changed_by_procedures
    counts = rounds.list_counts(user=cast.county, round=round)
    done = {
        kind: (values["households"], values["persons"])
        for kind, values in counts["total"].items()
        if values["households"]
    }
    assert done == {"identified": (1, 2), "exited": (1, 2)}
    by_village = {row["name"]: row["lists"] for row in counts["villages"]}
    assert by_village["西垭村"]["identified"]["persons"] == 2
    assert by_village["凤场村"]["exited"]["persons"] == 2
    # The figures count the same households and persons.
    total = figures.round_counts(round=round, region=county.county)
    assert (total.included_households, total.included_persons) == (1, 2)
    assert (total.exit_marked_households, total.exit_marked_persons) == (1, 2)
    # The village cadre of A sees A's exit only.
    own = rounds.list_counts(user=cast.cadre, round=round)["total"]
    assert (own["exited"]["households"], own["identified"]["households"]) == (1, 0)


def test_ledger_lists_changes_completed_through_a_procedure(
    tmp_path, cast, county, changed_by_procedures
):
    round, applicant = changed_by_procedures
    path = str(tmp_path / "lists.xlsx")
    result = ledger_write(user=cast.county, key="round_lists", filters={}, path=path)
    assert result.rows == 2
    sheet = openpyxl.load_workbook(path).worksheets[0]
    headers = {
        c.value: c.column for r in sheet.iter_rows(min_row=3, max_row=4) for c in r if c.value
    }
    rows = [
        tuple(
            sheet.cell(row, headers[name]).value
            for name in ("名单", "行政村", "户编号", "人数", "办理状态")
        )
        for row in (5, 6)
    ]
    assert rows == [
        ("新识别纳入", "西垭村", applicant.number, 2, "县级已审定"),
        ("标注脱贫", "凤场村", Household.objects.get(status=Status.EXITED).number, 2, "县级已审定"),
    ]
    today = timezone.localdate()
    decided = sheet.cell(5, headers["县级审定日期"]).value
    assert decided.date() == today


def test_round_page_summary_shows_changes_completed_through_a_procedure(
    cast, client_for, changed_by_procedures
):
    round, _applicant = changed_by_procedures
    response = client_for(cast.county).get(f"/rounds/{round.pk}/")
    assert response.status_code == 200
    total = response.context["counts"]["total"]
    assert (total["identified"]["households"], total["identified"]["persons"]) == (1, 2)
    assert (total["exited"]["households"], total["exited"]["persons"]) == (1, 2)
