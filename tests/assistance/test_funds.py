"""Projects and funds: reconciliation enforced by the services, 报账率 arithmetic, idle funds,
the two ledgers, and bad input refused with nothing written."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assistance import costs, selectors, services
from assistance.models import AssistanceEvent, FundMovement, Project
from households.models import Household
from povertyapp.models import VillageYear
from tests import factories

CENTRAL = "中央财政专项扶贫资金"
SOCIAL = "社会帮扶"
D = Decimal


def published(project, actor, year=2020):
    """Approve and publish a project with its 公示 over before the year's movements."""
    approved_on = datetime.date(year - 1, 12, 1)
    services.project_approve(actor=actor, project=project, approved_on=approved_on)
    return services.project_publish(
        actor=actor, project=project, start=approved_on + datetime.timedelta(days=1)
    )


@pytest.fixture
def project(cast, county, household_a):
    return published(_declared(cast, county, household_a), cast.county)


def _declared(cast, county, household_a):
    return services.project_create(
        actor=cast.county,
        data={
            "name": "凤场村蔬菜大棚",
            "category": "产业",
            "region": county.village_a,
            "year": 2020,
            "responsible_unit": "县农业农村局",
            "planned_start": datetime.date(2020, 3, 1),
            "planned_end": datetime.date(2020, 10, 31),
        },
        fundings={CENTRAL: "100000.00", SOCIAL: "20000.50"},
        beneficiaries=[household_a],
    )


def move(actor, project, kind, amount, day, source=CENTRAL, **extra):
    defaults = {"document_number": "黄扶发〔2020〕12号"} if kind == "allocated" else {}
    if kind == "reimbursed":
        defaults = {"voucher": f"PZ-{day:%m%d}"}
    return services.fund_movement_record(
        actor=actor,
        project=project,
        kind=kind,
        source=source,
        amount=amount,
        date=day,
        **(defaults | extra),
    )


def test_project_budget_is_the_sum_of_its_sources(project):
    assert project.budget_total == D("120000.50")
    assert selectors.project_reconciliation(project)["ok"] is True


def test_movements_keep_totals_equal_to_their_sums(project, cast, household_a):
    move(cast.county, project, "allocated", "60000.00", datetime.date(2020, 3, 5))
    move(cast.county, project, "allocated", "40000.00", datetime.date(2020, 4, 5))
    move(cast.county, project, "arrived", "70000.00", datetime.date(2020, 4, 10))
    move(cast.county, project, "spent", "30000.10", datetime.date(2020, 5, 1))
    move(cast.county, project, "spent", "1200.00", datetime.date(2020, 5, 2), household=household_a)
    move(cast.county, project, "reimbursed", "25000.05", datetime.date(2020, 6, 1))
    project.refresh_from_db()
    assert (
        project.allocated_total,
        project.arrived_total,
        project.spent_total,
        project.reimbursed_total,
    ) == (D("100000.00"), D("70000.00"), D("31200.10"), D("25000.05"))
    reconciliation = selectors.project_reconciliation(project)
    assert reconciliation["ok"] is True
    assert reconciliation["rows"]["spent_total"] == (D("31200.10"), D("31200.10"))
    assert AssistanceEvent.objects.filter(project=project, kind="fund_movement").count() == 6


def test_reimbursement_rate_is_exact(project, cast, county):
    move(cast.county, project, "allocated", "30000.00", datetime.date(2020, 3, 5))
    move(cast.county, project, "arrived", "30000.00", datetime.date(2020, 3, 6))
    move(cast.county, project, "spent", "10000.00", datetime.date(2020, 3, 7))
    move(cast.county, project, "reimbursed", "10000.00", datetime.date(2020, 3, 8))
    move(cast.county, project, "allocated", "20000.50", datetime.date(2020, 3, 5), SOCIAL)
    # 10000 ÷ 50000.50 = 19.99980…% → 20.00 % (two decimals, half up)
    rates = selectors.reimbursement_rates(user=cast.county)
    assert rates["village"] == [
        {
            "name": county.village_a,
            "allocated": D("50000.50"),
            "reimbursed": D("10000.00"),
            "rate": D("20.00"),
        }
    ]
    assert [(r["name"].name, r["rate"]) for r in rates["township"]] == [("新州镇", D("20.00"))]
    assert [(r["name"], r["rate"]) for r in rates["source"]] == [
        (CENTRAL, D("33.33")),
        (SOCIAL, D("0.00")),
    ]
    assert selectors.rate(D("1"), D("3")) == D("33.33")
    assert selectors.rate(D("2"), D("3")) == D("66.67")
    assert selectors.rate(D("1"), D("0")) is None


def _refused(call, code):
    with pytest.raises(ValidationError) as error:
        call()
    value = error.value
    lists = value.error_dict.values() if hasattr(value, "error_dict") else [value.error_list]
    codes = {e.code for errors in lists for e in errors}
    assert code in codes, codes


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5", "negative_amount"),
        ("10.005", "too_many_decimals"),
        ("abc", "invalid_amount"),
        ("0", "zero_amount"),
        ("200000", "exceeds_budget"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_written(project, cast, amount, code):
    _refused(
        lambda: move(cast.county, project, "allocated", amount, datetime.date(2020, 3, 5)), code
    )
    project.refresh_from_db()
    assert project.allocated_total == D("0")
    assert FundMovement.objects.count() == 0


def test_spending_more_than_arrived_is_refused(project, cast):
    move(cast.county, project, "allocated", "5000", datetime.date(2020, 3, 5))
    move(cast.county, project, "arrived", "3000", datetime.date(2020, 3, 6))
    _refused(
        lambda: move(cast.county, project, "spent", "3000.01", datetime.date(2020, 3, 7)),
        "exceeds_arrived",
    )
    _refused(
        lambda: move(cast.county, project, "arrived", "2000.01", datetime.date(2020, 3, 7)),
        "exceeds_allocated",
    )
    _refused(
        lambda: move(cast.county, project, "reimbursed", "1", datetime.date(2020, 3, 7)),
        "exceeds_spent",
    )
    project.refresh_from_db()
    assert (project.arrived_total, project.spent_total) == (D("3000.00"), D("0"))
    assert FundMovement.objects.count() == 2


def test_dates_out_of_order_are_refused(project, cast):
    move(cast.county, project, "allocated", "5000", datetime.date(2020, 3, 5))
    _refused(
        lambda: move(cast.county, project, "arrived", "100", datetime.date(2020, 3, 4)),
        "dates_out_of_order",
    )
    _refused(
        lambda: move(
            cast.county,
            project,
            "arrived",
            "100",
            datetime.date.today() + datetime.timedelta(days=3),
        ),
        "future_date",
    )
    assert FundMovement.objects.count() == 1


def test_movement_on_a_closed_project_is_refused(project, cast):
    move(cast.county, project, "allocated", "5000", datetime.date(2020, 3, 5))
    move(cast.county, project, "arrived", "5000", datetime.date(2020, 3, 6))
    move(cast.county, project, "spent", "4000", datetime.date(2020, 3, 7))
    _refused(
        lambda: services.project_accept(
            actor=cast.county,
            project=project,
            accepted_on=datetime.date(2020, 11, 1),
            settled_amount="4000.01",
        ),
        "settlement_mismatch",
    )
    services.project_accept(
        actor=cast.county,
        project=project,
        accepted_on=datetime.date(2020, 11, 1),
        settled_amount="4000",
    )
    with pytest.raises(ValidationError):
        services.project_close(actor=cast.county, project=project)  # 4000 unreimbursed
    move(cast.county, project, "reimbursed", "4000", datetime.date(2020, 11, 2))
    services.project_close(actor=cast.county, project=project)
    _refused(
        lambda: move(cast.county, project, "reimbursed", "1", datetime.date(2020, 11, 3)),
        "project_closed",
    )
    project.refresh_from_db()
    assert project.status == Project.Status.CLOSED
    assert project.reimbursed_total == D("4000.00")


def test_household_money_goes_only_to_beneficiaries(project, cast, household_b):
    move(cast.county, project, "allocated", "5000", datetime.date(2020, 3, 5))
    move(cast.county, project, "arrived", "5000", datetime.date(2020, 3, 6))
    _refused(
        lambda: move(
            cast.county, project, "spent", "100", datetime.date(2020, 3, 7), household=household_b
        ),
        "not_beneficiary",
    )
    assert FundMovement.objects.count() == 2


def test_only_the_county_office_manages_funds(project, cast):
    for actor in (cast.cadre, cast.township, cast.auditor, cast.helper):
        _refused(
            lambda actor=actor: move(actor, project, "allocated", "10", datetime.date(2020, 3, 5)),
            "read_only",
        )
    assert FundMovement.objects.count() == 0


def test_idle_allocations_are_flagged_after_90_days(project, cast):
    move(cast.county, project, "allocated", "5000", datetime.date(2020, 1, 10))
    move(cast.county, project, "arrived", "5000", datetime.date(2020, 1, 20))
    move(cast.county, project, "spent", "1500.25", datetime.date(2020, 2, 1))
    idle = selectors.idle_funds(Project.objects.all(), on=datetime.date(2020, 4, 9), days=90)
    assert idle == []  # 2020-01-10 is 90 days before, not over 90
    idle = selectors.idle_funds(Project.objects.all(), on=datetime.date(2020, 4, 10), days=90)
    assert [(i.source, i.amount) for i in idle] == [(CENTRAL, D("3499.75"))]


def test_ledgers_and_exit_cost(cast, county):
    exited = [
        factories.household(
            actor=cast.county, village=county.village_a, status=Household.Status.EXITED
        )
        for _ in range(3)
    ]
    project = services.project_create(
        actor=cast.county,
        data={
            "name": "到户产业奖补",
            "category": "产业",
            "region": county.village_a,
            "year": 2018,
            "responsible_unit": "县农业农村局",
        },
        fundings={CENTRAL: "10000"},
        beneficiaries=exited,
    )
    published(project, cast.county, 2018)
    move(cast.county, project, "allocated", "10000", datetime.date(2018, 3, 1))
    move(cast.county, project, "arrived", "10000", datetime.date(2018, 3, 2))
    for household, amount in zip(exited, ("1000.00", "2500.50", "3000.01"), strict=True):
        move(cast.county, project, "spent", amount, datetime.date(2018, 4, 1), household=household)
    move(cast.county, project, "spent", "500", datetime.date(2018, 4, 2))
    VillageYear.objects.create(
        village=county.village_a,
        year=2019,
        registered_rural_population=900,
        total_households=250,
        is_poor_village=True,
        exit_year=2019,
    )
    ledgers = costs.two_ledgers(user=cast.county)
    assert [(row["region"].name, row["account"].total) for row in ledgers["village_rows"]] == [
        ("凤场村", D("7000.51"))
    ]
    stats = ledgers["exit"]["county"]
    assert (stats.count, stats.minimum, stats.maximum, stats.mean) == (
        3,
        D("1000.00"),
        D("3000.01"),
        D("2166.84"),
    )
    assert (ledgers["exit_village"].count, ledgers["exit_village"].mean) == (1, D("7000.51"))
