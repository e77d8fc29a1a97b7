"""Monitoring's case records in the admin (issue 15): the county office reads them within its
region and changes nothing; no administrator sees them; ID numbers, phones and department data
are masked; the filters and searches work; a change list takes the same number of queries
however many rows it shows."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Household
from monitoring.models import (
    CadreRelation,
    Clue,
    DepartmentList,
    IncomeAssessment,
    MonitoringObject,
    ObjectRisk,
    ScrutinyTask,
    Sweep,
    SweepHousehold,
    SweepTeam,
)
from povertyapp.models import Region, User
from povertyapp.privacy import mask
from tests import factories
from tests.conftest import login
from tests.monitoring.sweep_fixtures import open_sweep

TODAY = datetime.date(2026, 6, 20)
MODELS = (
    Clue,
    MonitoringObject,
    IncomeAssessment,
    DepartmentList,
    ScrutinyTask,
    CadreRelation,
    Sweep,
    SweepTeam,
    SweepHousehold,
)
PHONE = "13912345678"


def _url(model: Any, suffix: str = "") -> str:
    return f"/admin/monitoring/{model._meta.model_name}/{suffix}"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("households.services.common.today", lambda: TODAY)


def _records(cast: Any, county: Any, household: Household, sweep: Sweep, tag: str) -> None:
    """One more row of each record (the sweep's row and team included) for `household`."""
    member = household.members.order_by("pk").first()
    IncomeAssessment.objects.create(
        household=household,
        period_start=datetime.date(2025, 6, 1),
        period_end=datetime.date(2026, 5, 31),
        persons=2,
        net_income=Decimal("12000"),
        per_capita=Decimal("6000"),
        line=Decimal("7000"),
        recorded_by=cast.cadre,
    )
    pushed = DepartmentList.objects.create(
        county=county.county,
        department="public_security",
        purpose=DepartmentList.Purpose.SCRUTINY,
        layout="vehicles",
        period="2026年5月",
        file_name=f"车辆{tag}.xlsx",
        state=DepartmentList.State.DONE,
        rows_total=1,
        rows_matched=1,
        uploaded_by=cast.county,
    )
    ScrutinyTask.objects.create(
        source_list=pushed,
        source_row=2,
        household=household,
        member=member,
        village=household.village,
        evidence={"id_number": member.id_number, "plate": "贵H12345", "value": "80000"},
    )
    CadreRelation.objects.create(
        member=member,
        cadre_name=f"干部{tag}",
        cadre_post=CadreRelation.Post.VILLAGE_CADRE,
        relation="兄弟",
        recorded_by=cast.cadre,
    )
    item = MonitoringObject.objects.create(
        household=household,
        object_type="marginal",
        state=MonitoringObject.State.MONITORED,
        clue_date=datetime.date(2026, 5, 1),
        created_by=cast.county,
    )
    ObjectRisk.objects.create(monitoring_object=item, risk_type="illness")
    Clue.objects.create(
        channel=Clue.Channel.DEPARTMENT,
        department="medical_insurance",
        source_list=pushed,
        source_row=3,
        region=household.village,
        household=household,
        member=member,
        name=member.name,
        id_number=member.id_number,
        phone=PHONE,
        risk_type="illness",
        details={"身份证号": member.id_number, "自付金额": "31000"},
        received_on=datetime.date(2026, 6, 1),
        accepted_on=datetime.date(2026, 6, 1),
        verify_due=datetime.date(2026, 6, 3),
        decide_due=datetime.date(2026, 6, 16),
    )
    team = SweepTeam.objects.create(
        sweep=sweep, name=f"小组{tag}", first_member="张明", second_member="李华"
    )
    team.villages.set([household.village])
    SweepHousehold.objects.update_or_create(
        sweep=sweep,
        household=household,
        defaults={"village": household.village, "team": team},
    )


@pytest.fixture
def world(cast, county, household_a, household_b) -> dict[str, Any]:
    """The county's sweep (over household_a and household_b), one of each record for
    household_b (village B), and a county officer of another county."""
    sweep = open_sweep(cast, county)
    _records(cast, county, household_b, sweep, "乙")
    other_county = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    return {
        "sweep": sweep,
        "household": household_b,
        "other_officer": factories.user("county2", User.Role.COUNTY_OFFICER, other_county),
    }


def _count(client: Any, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.context["cl"].result_count


def test_the_county_office_reads_each_record_and_changes_nothing(world, cast):
    client = login(cast.county)
    for model in MODELS:
        item = model.objects.order_by("pk").first()
        before = model.objects.count()
        assert _count(client, _url(model)) == before, model.__name__
        change = _url(model, f"{item.pk}/change/")
        assert client.get(change).status_code == 200, model.__name__
        assert client.post(change, {}).status_code == 403, model.__name__
        assert client.get(_url(model, "add/")).status_code == 403, model.__name__
        assert client.post(_url(model, f"{item.pk}/delete/"), {"post": "yes"}).status_code == 403
        assert client.get(_url(model, f"{item.pk}/history/")).status_code == 200, model.__name__
        assert model.objects.count() == before, model.__name__
    # Nothing to do to the rows: no action is offered, not even "delete selected".
    response = client.get(_url(Clue))
    assert response.context["action_form"] is None


def test_an_officer_of_another_county_finds_none_of_them(world):
    client = login(world["other_officer"])
    for model in MODELS:
        assert _count(client, _url(model)) == 0, model.__name__
        item = model.objects.order_by("pk").first()
        # The admin answers an object outside the queryset with a redirect to its index.
        response = client.get(_url(model, f"{item.pk}/change/"))
        assert (response.status_code, response["Location"]) == (302, "/admin/"), model.__name__


def test_no_administrator_and_no_case_page_role_opens_them(world, cast):
    for name in ("sysadmin", "secadmin", "auditadmin", "cadre", "township", "auditor", "helper"):
        client = login(getattr(cast, name))
        for model in MODELS:
            response = client.get(_url(model))
            assert response.status_code in (302, 403), (name, model.__name__)
            if response.status_code == 302:
                assert response["Location"].startswith("/admin/login/"), (name, model.__name__)


def test_id_numbers_phones_and_department_data_are_masked(world, cast):
    member = world["household"].members.order_by("pk").first()
    clue = Clue.objects.get(household=world["household"])
    client = login(cast.county)
    pages = [
        _url(Clue),
        _url(Clue, f"{clue.pk}/change/"),
        _url(ScrutinyTask, f"{ScrutinyTask.objects.get().pk}/change/"),
    ]
    for url in pages:
        content = client.get(url).content.decode()
        assert member.id_number not in content, url
        assert PHONE not in content, url
    listed = client.get(_url(Clue)).content.decode()
    assert mask(member.id_number) in listed
    page = client.get(_url(Clue, f"{clue.pk}/change/")).content.decode()
    assert mask(member.id_number) in page and mask(PHONE) in page
    assert "31000" in page  # the department's other columns are shown, the IDs in them masked
    assert clue.id_number_index not in page


def test_the_township_filter_and_the_searches(world, cast, county, household_a):
    client = login(cast.county)
    clue_a = Clue.objects.create(
        channel=Clue.Channel.SELF_DECLARATION,
        region=county.village_a,
        household=household_a,
        name="张三",
        id_number=household_a.members.order_by("pk").first().id_number,
        risk_type="education",
        received_on=datetime.date(2026, 6, 2),
        accepted_on=datetime.date(2026, 6, 2),
        verify_due=datetime.date(2026, 6, 4),
        decide_due=datetime.date(2026, 6, 17),
    )

    def clue_ids(query: str) -> set[int]:
        response = client.get(f"{_url(Clue)}?{query}", follow=True)
        assert response.status_code == 200
        return {item.pk for item in response.context["cl"].result_list}

    clue_b = Clue.objects.get(household=world["household"])
    assert clue_ids(f"region={county.township1.code}") == {clue_a.pk}
    assert clue_ids(f"region={county.township2.code}") == {clue_b.pk}
    assert clue_ids(f"q={household_a.number}") == {clue_a.pk}
    assert clue_ids("state=pending&channel=department") == {clue_b.pk}
    # A full ID number is found through the blind index (the search-terms middleware moves it
    # out of the URL into a token first).
    assert clue_ids(f"q={clue_b.id_number}") == {clue_b.pk}
    rows = SweepHousehold.objects.filter(sweep=world["sweep"])
    response = client.get(f"{_url(SweepHousehold)}?region={county.township1.code}")
    assert {item.pk for item in response.context["cl"].result_list} == {
        rows.get(household=household_a).pk
    }
    response = client.get(
        f"{_url(SweepHousehold)}?state=pending&sweep__id__exact={world['sweep'].pk}"
    )
    assert response.context["cl"].result_count == 2
    response = client.get(f"{_url(MonitoringObject)}?risks__risk_type=illness")
    assert response.context["cl"].result_count == 1
    response = client.get(f"{_url(CadreRelation)}?q=干部乙")
    assert response.context["cl"].result_count == 1


def test_the_priority_group_filter(world, cast, county):
    ordinary = factories.household(
        actor=cast.county,
        village=county.village_a2,
        status=Household.Status.NON_REGISTERED,
        members=[factories.member_data(name="王五", health="残疾")],
    )
    row = SweepHousehold.objects.create(
        sweep=world["sweep"], household=ordinary, village=county.village_a2, groups=["disabled"]
    )
    response = login(cast.county).get(f"{_url(SweepHousehold)}?group=disabled")
    assert [item.pk for item in response.context["cl"].result_list] == [row.pk]


def test_a_change_list_takes_the_same_queries_for_more_rows(world, cast, county):
    client = login(cast.county)

    def queries() -> dict[str, int]:
        counts = {}
        for model in MODELS:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(_url(model)).status_code == 200
            counts[model.__name__] = len(captured)
        return counts

    before = queries()
    for index in range(3):
        household = factories.household(actor=cast.county, village=county.village_a)
        _records(cast, county, household, world["sweep"], str(index))
    assert Clue.objects.count() == 4
    assert queries() == before


def test_every_filter_choice_and_the_search_of_every_list_answer(world, cast):
    client = login(cast.county)
    for model in MODELS:
        response = client.get(_url(model))
        changelist = response.context["cl"]
        queries = [
            choice["query_string"]
            for spec in changelist.filter_specs
            for choice in spec.choices(changelist)
        ]
        for query in [*queries, "?q=5226"]:
            answer = client.get(_url(model) + query, follow=True)
            assert answer.status_code == 200, (model.__name__, query)
            assert "cl" in answer.context, (model.__name__, query)
