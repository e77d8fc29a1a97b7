"""The measure → project link (issue 16): the form offers the projects of the household's
village and of the township and county above it; the API takes `project` and refuses one out
of scope; the pages show the link both ways; and the reconciliation of a project's 受益户 and
到户 money with its linked measures (page section and `check_project_measures`)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from assistance import reconcile, services
from assistance.forms import MeasureForm
from assistance.models import Measure
from tests.conftest import login

CENTRAL = "中央财政专项扶贫资金"
MEASURE = {
    "year": 2020,
    "category": "产业帮扶",
    "content": "养殖黄牛2头",
    "amount": "3000",
    "fund_source": CENTRAL,
}


def _project(cast, region, name, code, **extra):
    return services.project_create(
        actor=cast.county,
        data={
            "code": code,
            "name": name,
            "category": "产业",
            "region": region,
            "year": 2020,
            "responsible_unit": "县农业农村局",
        },
        fundings={CENTRAL: "100000"},
        **extra,
    )


@pytest.fixture
def projects(cast, county, household_a):
    return {
        "village": _project(
            cast, county.village_a, "凤场村肉牛养殖", "P-1", beneficiaries=[household_a]
        ),
        "county": _project(cast, county.county, "全县产业路", "P-2"),
        "other": _project(cast, county.village_b, "西垭村通组路", "P-3"),
        "neighbour": _project(cast, county.village_a2, "龙坪村茶园", "P-4"),
    }


def test_form_offers_the_village_and_county_projects_only(household_a, projects):
    offered = set(MeasureForm(household=household_a).fields["project"].queryset)
    assert offered == {projects["village"], projects["county"]}


def test_measure_form_links_a_project_and_refuses_one_out_of_scope(cast, household_a, projects):
    client = login(cast.cadre)
    url = f"/assistance/households/{household_a.pk}/measures/"
    refused = client.post(url, MEASURE | {"project": projects["other"].pk})
    assert refused.status_code == 400
    assert "project" in refused.context["form"].errors
    assert Measure.objects.count() == 0
    response = client.post(url, MEASURE | {"project": projects["county"].pk})
    assert response.status_code == 302
    assert Measure.objects.get().project == projects["county"]
    page = client.get(f"/assistance/households/{household_a.pk}/?tab=measures")
    assert "全县产业路" in page.content.decode()


def test_measure_edit_can_change_the_project(cast, household_a, projects):
    measure = services.measure_create(actor=cast.cadre, household=household_a, data=MEASURE)
    response = login(cast.cadre).post(
        f"/assistance/measures/{measure.pk}/edit/",
        MEASURE | {"project": projects["village"].pk, "version": measure.version},
    )
    assert response.status_code == 302
    measure.refresh_from_db()
    assert (measure.project, measure.version) == (projects["village"], 2)


@pytest.mark.parametrize("key", ["other", "neighbour"])
def test_api_refuses_a_project_outside_the_household_area(cast, household_a, projects, key):
    response = login(cast.cadre).post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        MEASURE | {"project": projects[key].pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "project" in str(response.json())
    assert Measure.objects.count() == 0


def test_api_refuses_a_closed_or_unknown_project(cast, household_a, projects):
    response = login(cast.cadre).post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        MEASURE | {"project": 999999},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert Measure.objects.count() == 0


def test_api_links_a_project_and_shows_it(cast, household_a, projects):
    client = login(cast.cadre)
    response = client.post(
        f"/api/v1/assistance/households/{household_a.pk}/measures/",
        MEASURE | {"project": projects["village"].pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["project"], body["project_name"]) == (projects["village"].pk, "凤场村肉牛养殖")


def test_project_page_lists_its_measures_and_their_households(cast, household_a, projects):
    services.measure_create(
        actor=cast.cadre, household=household_a, data=MEASURE | {"project": projects["village"]}
    )
    page = login(cast.county).get(f"/assistance/projects/{projects['village'].pk}/")
    html = page.content.decode()
    assert "关联的帮扶措施" in html
    assert household_a.number in html
    assert "养殖黄牛2头" in html


# --- reconciliation ---------------------------------------------------------------------------


def _spend_to(cast, project, household, amount):
    """Publish the project (money moves only after its 公示), then pay `household` 到户."""
    if project.approval != project.Approval.PUBLISHED:
        approved_on = datetime.date(2019, 12, 1)
        services.project_approve(actor=cast.county, project=project, approved_on=approved_on)
        project = services.project_publish(
            actor=cast.county, project=project, start=approved_on + datetime.timedelta(days=1)
        )
    day = datetime.date(2020, 5, 1)
    for kind, extra in (
        ("allocated", {"document_number": "黄扶发〔2020〕1号"}),
        ("arrived", {}),
        ("spent", {"household": household}),
    ):
        services.fund_movement_record(
            actor=cast.county,
            project=project,
            kind=kind,
            source=CENTRAL,
            amount=amount,
            date=day,
            **extra,
        )


def test_reconciliation_of_household_money_against_linked_measures(cast, county, household_a):
    project = _project(cast, county.township1, "新州镇产业", "P-9", beneficiaries=[household_a])
    _spend_to(cast, project, household_a, "3000")
    result = reconcile.project_measure_differences(project)
    assert [(line.household, line.problems) for line in result.lines] == [
        (household_a, [reconcile.NO_MEASURE])
    ]
    measure = services.measure_create(
        actor=cast.county,
        household=household_a,
        data=MEASURE | {"amount": "2000", "project": project},
    )
    result = reconcile.project_measure_differences(project)
    assert [line.problems for line in result.lines] == [[reconcile.AMOUNT]]
    services.measure_update(
        actor=cast.county,
        measure=measure,
        data={"amount": "3000"},
        expected_version=measure.version,
    )
    result = reconcile.project_measure_differences(project)
    assert result.ok
    assert (result.measure_amount, result.moved_amount) == (Decimal("3000"), Decimal("3000"))


def test_reconciliation_of_a_beneficiary_without_measure_and_a_measure_off_the_list(
    cast, county, household_a
):
    from tests import factories

    neighbour = factories.household(actor=cast.county, village=county.village_a)
    project = _project(cast, county.village_a, "凤场村产业", "P-8", beneficiaries=[household_a])
    services.measure_create(
        actor=cast.county,
        household=neighbour,
        data=MEASURE | {"amount": "0", "fund_source": "", "project": project},
    )
    result = reconcile.project_measure_differences(project)
    problems = {line.household.pk: line.problems for line in result.lines}
    assert problems == {
        household_a.pk: [reconcile.BENEFICIARY_WITHOUT_MEASURE],
        neighbour.pk: [reconcile.NOT_BENEFICIARY],
    }
    page = login(cast.county).get(f"/assistance/projects/{project.pk}/").content.decode()
    assert "项目与到户措施核对" in page
    assert "受益户无关联措施" in page and "非受益户" in page


def test_check_command_lists_the_projects_that_differ(cast, county, household_a, capsys):
    project = _project(cast, county.village_a, "凤场村产业", "P-7", beneficiaries=[household_a])
    with pytest.raises(CommandError):
        call_command("check_project_measures")
    out = capsys.readouterr().out
    assert "P-7 凤场村产业" in out
    assert household_a.number in out
    services.measure_create(
        actor=cast.county,
        household=household_a,
        data=MEASURE | {"amount": "0", "fund_source": "", "project": project},
    )
    call_command("check_project_measures")
    assert "核对1个项目，0个不一致" in capsys.readouterr().out
