"""资产收益: the asset register, its yearly income and the distribution to households — who may
keep it, over-distribution and households outside the asset refused, shown on the household
page and in the 资产收益分配台账."""

from __future__ import annotations

import datetime
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from assistance import services
from assistance.models import AssetDistribution, AssetIncome, AssistanceEvent, Project
from assistance.selectors import household_asset_links
from households.models import Household
from povertyapp.ledgers.services import ledger_write
from tests import factories

CENTRAL = "中央财政专项扶贫资金"
D = Decimal


@pytest.fixture
def project(cast, county):
    return services.project_create(
        actor=cast.county,
        data={
            "name": "凤场村光伏电站",
            "category": "产业",
            "region": county.village_a,
            "year": 2019,
            "responsible_unit": "县发改局",
        },
        fundings={CENTRAL: "300000"},
    )


def _asset_data(project, village, **extra):
    return {
        "project": project,
        "kind": "collective",
        "name": "村级光伏电站",
        "village": village,
        "value": "300000.00",
        "ownership": "村集体",
        "manager": "凤场村股份经济合作社",
        "formed_on": datetime.date(2019, 12, 1),
        "note": "",
        **extra,
    }


@pytest.fixture
def asset(cast, county, project):
    return services.asset_create(actor=cast.county, data=_asset_data(project, county.village_a))


def _code(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return next(iter(error.error_dict.values()))[0].code
    return error.code


def test_income_is_distributed_up_to_the_years_income(cast, asset, household_a):
    other = factories.household(actor=cast.county, village=household_a.village)
    services.asset_income_set(actor=cast.county, asset=asset, year=2020, amount="1000.00")
    services.asset_distribution_set(
        actor=cast.county, asset=asset, year=2020, household=household_a, amount="600.00"
    )
    with pytest.raises(ValidationError) as over:
        services.asset_distribution_set(
            actor=cast.county, asset=asset, year=2020, household=other, amount="400.01"
        )
    assert _code(over.value) == "over_distributed"
    assert "尚可分配400.00元" in over.value.messages[0]
    services.asset_distribution_set(
        actor=cast.county, asset=asset, year=2020, household=other, amount="400.00"
    )
    assert dict(AssetDistribution.objects.values_list("household", "amount")) == {
        household_a.pk: D("600.00"),
        other.pk: D("400.00"),
    }
    assert sum(AssetDistribution.objects.values_list("amount", flat=True)) == D("1000.00")
    # The income cannot be cut below what is distributed.
    with pytest.raises(ValidationError) as below:
        services.asset_income_set(actor=cast.county, asset=asset, year=2020, amount="999.99")
    assert _code(below.value) == "below_distributed"
    assert AssetIncome.objects.get().amount == D("1000.00")
    kinds = list(
        AssistanceEvent.objects.filter(kind__startswith="asset_")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "asset_registered",
        "asset_income",
        "asset_distribution",
        "asset_distribution",
    ]


def test_a_year_without_income_or_a_household_elsewhere_is_refused(cast, asset, household_b):
    with pytest.raises(ValidationError) as no_income:
        services.asset_distribution_set(
            actor=cast.county, asset=asset, year=2021, household=household_b, amount="10"
        )
    codes = {error.code for errors in no_income.value.error_dict.values() for error in errors}
    # Village B's household is outside the village asset, and 2021 has no income.
    assert codes == {"household_out_of_asset", "no_income"}
    assert AssetDistribution.objects.count() == 0


def test_a_household_asset_distributes_only_to_its_households(cast, county, project, household_a):
    neighbour = factories.household(actor=cast.county, village=county.village_a)
    asset = services.asset_create(
        actor=cast.county,
        data=_asset_data(project, county.village_a, kind="household", name="到户养殖棚圈"),
        households=[household_a],
    )
    services.asset_income_set(actor=cast.county, asset=asset, year=2020, amount="500")
    with pytest.raises(ValidationError) as refused:
        services.asset_distribution_set(
            actor=cast.county, asset=asset, year=2020, household=neighbour, amount="100"
        )
    assert _code(refused.value) == "household_out_of_asset"
    with pytest.raises(ValidationError) as empty:
        services.asset_create(
            actor=cast.county,
            data=_asset_data(project, county.village_a, kind="household"),
            households=[],
        )
    assert _code(empty.value) == "households_required"


def test_who_keeps_the_register(cast, county, project):
    services.asset_create(
        actor=cast.township, data=_asset_data(project, county.village_a, name="乡镇登记")
    )
    for actor, code in ((cast.cadre, "read_only"), (cast.auditor, "read_only")):
        with pytest.raises(ValidationError) as refused:
            services.asset_create(actor=actor, data=_asset_data(project, county.village_a))
        assert _code(refused.value) == code
    village_b_project = Project.objects.create(
        name="西垭村茶园", category="产业", region=county.village_b, year=2019, responsible_unit="x"
    )
    with pytest.raises(ValidationError) as outside:
        services.asset_create(
            actor=cast.township, data=_asset_data(village_b_project, county.village_b)
        )
    assert _code(outside.value) == "out_of_scope"


def test_pages_register_distribute_and_show_on_the_household_page(
    cast, county, project, household_a, client_for
):
    client = client_for(cast.township)
    response = client.post(
        "/assistance/assets/new/",
        {
            "project": project.pk,
            "kind": "collective",
            "name": "村级光伏电站",
            "village": county.village_a.pk,
            "value": "300000",
            "ownership": "村集体",
            "manager": "凤场村股份经济合作社",
            "formed_on": "2019-12-01",
        },
    )
    assert response.status_code == 302
    asset_url = response["Location"]
    client.post(asset_url + "income/", {"year": "2020", "amount": "1000"})
    client.post(
        asset_url + "distribution/",
        {"year": "2020", "household_number": household_a.number, "amount": "650.50"},
    )
    over = client.post(
        asset_url + "distribution/",
        {"year": "2020", "household_number": household_a.number, "amount": "1000.01"},
        follow=True,
    )
    assert "超过该年收益" in over.content.decode()
    assert AssetDistribution.objects.get().amount == D("650.50")
    page = (
        client_for(cast.cadre)
        .get(f"/assistance/households/{household_a.pk}/?tab=assets")
        .content.decode()
    )
    assert "村级光伏电站" in page and "650.50" in page
    registry_page = client_for(cast.cadre).get(f"/households/{household_a.pk}/").content.decode()
    assert "资产收益分配（累计650.50元）" in registry_page
    # Read with the household on its page (`detail_tabs.page_reads`) as by the link's own query.
    assert [
        label
        for label, _url in household_asset_links(
            Household.objects.get(pk=household_a.pk), user=cast.cadre
        )
    ] == ["资产收益分配（累计650.50元）"]
    # Read-only and out-of-scope users.
    assert client_for(cast.cadre).post(asset_url + "income/", {"year": "2020"}).status_code == 403
    assert client_for(cast.cadre2).get(asset_url).status_code == 404
    assert client_for(cast.helper).get(asset_url).status_code == 404


def test_asset_distribution_ledger(tmp_path, cast, asset, household_a):
    services.asset_income_set(actor=cast.county, asset=asset, year=2020, amount="1000")
    services.asset_distribution_set(
        actor=cast.county, asset=asset, year=2020, household=household_a, amount="650.50"
    )
    path = str(tmp_path / "assets.xlsx")
    result = ledger_write(user=cast.county, key="asset_distributions", filters={}, path=path)
    assert result.rows == 1
    sheet = openpyxl.load_workbook(path).worksheets[0]
    data = [
        [cell.value for cell in row]
        for row in sheet.iter_rows(min_row=3)
        if any(cell.value == "村级光伏电站" for cell in row)
    ]
    assert len(data) == 1
    assert household_a.number in data[0] and 650.5 in data[0] and 2020 in data[0]
    assert (
        ledger_write(user=cast.cadre2, key="asset_distributions", filters={}, path=path).rows == 0
    )
