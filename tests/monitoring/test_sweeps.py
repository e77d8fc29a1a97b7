"""The 集中排查: opening (one per county and year, every non-剔除 household listed with its
groups), teams, the 排查表's rules, closing refused while households are pending, findings
turned into clues once, and who may see and do what."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from households.models import Household, Member
from monitoring import sweeps
from monitoring.models import (
    Clue,
    MonitoringLine,
    Sweep,
    SweepHousehold,
    SweepTeam,
)
from povertyapp.conflicts import ConflictError
from povertyapp.models import AccessLog, User
from tests import factories
from tests.conftest import login
from tests.monitoring.sweep_fixtures import open_sweep, visit

TODAY = datetime.date(2026, 6, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("households.services.common.today", lambda: TODAY)


@pytest.fixture
def registry(cast, county, household_a, household_b) -> dict[str, Household]:
    """household_a (village A), household_b (village B), an ordinary rural household of A2
    with a disabled member, and a 剔除 household of A."""
    ordinary = factories.household(
        actor=cast.county,
        village=county.village_a2,
        status=Household.Status.NON_REGISTERED,
        members=[factories.member_data(name="王五", health="残疾")],
    )
    removed = factories.household(actor=cast.county, village=county.village_a)
    Household.objects.filter(pk=removed.pk).update(status=Household.Status.REMOVED)
    return {"a": household_a, "b": household_b, "ordinary": ordinary, "removed": removed}


def _row(sweep: Sweep, household: Household) -> SweepHousehold:
    return SweepHousehold.objects.get(sweep=sweep, household=household)


def _codes(error: ValidationError) -> dict[str, list[str]]:
    return {name: [item.code for item in items] for name, items in error.error_dict.items()}


# --- opening ------------------------------------------------------------------------------------


def test_opening_lists_every_household_of_the_county_but_removed_ones(cast, county, registry):
    sweep = open_sweep(cast, county)
    rows = {row.household_id: row for row in SweepHousehold.objects.filter(sweep=sweep)}
    assert set(rows) == {registry["a"].pk, registry["b"].pk, registry["ordinary"].pk}
    assert rows[registry["ordinary"].pk].village_id == county.village_a2.pk
    assert rows[registry["ordinary"].pk].groups == ["disabled"]
    assert rows[registry["a"].pk].groups == []
    assert rows[registry["a"].pk].state == SweepHousehold.State.PENDING
    assert AccessLog.objects.filter(action="approval", target="sweep:open").count() == 1


def test_opening_tags_only_the_chosen_groups(cast, county, registry):
    sweep = open_sweep(cast, county, groups=["exited_2020"])
    assert sweep.priority_groups == ["exited_2020"]
    assert _row(sweep, registry["ordinary"]).groups == []


def test_opening_builds_rows_in_batches(cast, county, registry, monkeypatch):
    monkeypatch.setattr(sweeps, "BATCH_SIZE", 2)
    sweep = open_sweep(cast, county)
    assert SweepHousehold.objects.filter(sweep=sweep).count() == 3


def test_one_sweep_per_county_and_year(cast, county, registry):
    open_sweep(cast, county)
    with pytest.raises(ValidationError) as caught:
        open_sweep(cast, county, name="again")
    assert _codes(caught.value) == {"year": ["duplicate"]}
    assert "每县每年只发起一次" in caught.value.error_dict["year"][0].messages[0]
    assert Sweep.objects.count() == 1
    next_year = open_sweep(
        cast,
        county,
        year=2027,
        start_date=datetime.date(2027, 6, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    assert next_year.year == 2027


def test_opening_refuses_bad_dates_and_groups(cast, county, registry):
    with pytest.raises(ValidationError) as caught:
        open_sweep(cast, county, end_date=datetime.date(2026, 5, 1), groups=["nonsense"])
    assert set(_codes(caught.value)) == {"end_date", "groups"}
    assert Sweep.objects.count() == 0


def test_only_the_county_office_opens(cast, county, registry):
    for user in (cast.cadre, cast.township, cast.auditor, cast.helper):
        with pytest.raises(PermissionDenied):
            open_sweep(cast, county, actor=user)
    assert Sweep.objects.count() == 0


def test_default_line_from_the_monitoring_line_rows(cast, county):
    assert sweeps.default_line(county=county.county, year=2026) is None
    MonitoringLine.objects.create(
        region=county.province, year=2026, kind="amount", amount=Decimal("7800")
    )
    assert sweeps.default_line(county=county.county, year=2026) == Decimal("7800")
    MonitoringLine.objects.create(
        region=county.county, year=2026, kind="amount", amount=Decimal("8100")
    )
    assert sweeps.default_line(county=county.county, year=2026) == Decimal("8100")


# --- teams --------------------------------------------------------------------------------------


def test_a_team_takes_villages_and_their_households(cast, county, registry):
    sweep = open_sweep(cast, county)
    team = sweeps.sweep_team_create(
        actor=cast.county,
        sweep=sweep,
        name="第一组",
        first_member="张明",
        second_member="李华",
        villages=[county.village_a, county.village_a2],
    )
    assert _row(sweep, registry["a"]).team_id == team.pk
    assert _row(sweep, registry["ordinary"]).team_id == team.pk
    assert _row(sweep, registry["b"]).team_id is None
    with pytest.raises(ValidationError) as caught:
        sweeps.sweep_team_create(
            actor=cast.county,
            sweep=sweep,
            name="第二组",
            first_member="王强",
            second_member="王强",
            villages=[county.village_a],
        )
    assert _codes(caught.value) == {"second_member": ["same_person"], "villages": ["taken"]}
    assert SweepTeam.objects.count() == 1


# --- the 排查表 ---------------------------------------------------------------------------------


def test_a_visit_is_recorded_with_both_names(cast, county, registry):
    sweep = open_sweep(cast, county)
    row = _row(sweep, registry["a"])
    saved = sweeps.sweep_visit_record(
        actor=cast.cadre,
        sweep_household=row,
        visit=visit(per_capita_income=Decimal("9000")),
        expected_version=row.version,
    )
    assert (saved.state, saved.first_surveyor, saved.second_surveyor, saved.version) == (
        "visited",
        "张明",
        "李华",
        2,
    )
    assert saved.answers["income_change"] == "same"
    assert saved.per_capita_income == Decimal("9000")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"second_surveyor": ""}, {"second_surveyor": ["required"]}),
        ({"first_surveyor": " "}, {"first_surveyor": ["required"]}),
        ({"second_surveyor": "张明"}, {"second_surveyor": ["same_person"]}),
        ({"visited_on": datetime.date(2026, 5, 31)}, {"visited_on": ["outside_sweep"]}),
        ({"visited_on": datetime.date(2026, 6, 21)}, {"visited_on": ["future"]}),
        ({"visited_on": None}, {"visited_on": ["required"]}),
        (
            {"answers": {"income_change": "up"}},
            {key: ["required"] for key, _label in sweeps.YES_NO_QUESTIONS},
        ),
        ({"risk_found": True}, {"risk_types": ["required"], "note": ["required"]}),
    ],
)
def test_a_visit_is_refused_when_the_sheet_is_incomplete(
    cast, county, registry, overrides, expected
):
    sweep = open_sweep(cast, county)
    row = _row(sweep, registry["a"])
    with pytest.raises(ValidationError) as caught:
        sweeps.sweep_visit_record(
            actor=cast.cadre,
            sweep_household=row,
            visit=visit(**overrides),
            expected_version=row.version,
        )
    assert _codes(caught.value) == expected
    assert _row(sweep, registry["a"]).state == "pending"


def test_not_visited_needs_a_reason(cast, county, registry):
    sweep = open_sweep(cast, county)
    row = _row(sweep, registry["a"])
    with pytest.raises(ValidationError) as caught:
        sweeps.sweep_visit_record(
            actor=cast.cadre,
            sweep_household=row,
            visit=sweeps.Visit(visited=False),
            expected_version=row.version,
        )
    assert _codes(caught.value) == {"skip_reason": ["required"]}
    saved = sweeps.sweep_visit_record(
        actor=cast.cadre,
        sweep_household=row,
        visit=sweeps.Visit(visited=False, skip_reason="全家外出务工，电话核实"),
        expected_version=row.version,
    )
    assert (saved.state, saved.skip_reason) == ("skipped", "全家外出务工，电话核实")


def test_a_stale_version_is_refused(cast, county, registry):
    sweep = open_sweep(cast, county)
    row = _row(sweep, registry["a"])
    sweeps.sweep_visit_record(
        actor=cast.cadre, sweep_household=row, visit=visit(), expected_version=1
    )
    with pytest.raises(ConflictError):
        sweeps.sweep_visit_record(
            actor=cast.county,
            sweep_household=row,
            visit=visit(first_surveyor="王强"),
            expected_version=1,
        )
    assert _row(sweep, registry["a"]).first_surveyor == "张明"


def test_read_only_roles_cannot_record(cast, county, registry):
    sweep = open_sweep(cast, county)
    row = _row(sweep, registry["a"])
    for user in (cast.township, cast.auditor, cast.cadre2):
        with pytest.raises(PermissionDenied):
            sweeps.sweep_visit_record(
                actor=user, sweep_household=row, visit=visit(), expected_version=None
            )
    assert _row(sweep, registry["a"]).state == "pending"


# --- closing ------------------------------------------------------------------------------------


def _record_all(cast: Any, sweep: Sweep, registry: dict[str, Household]) -> None:
    risk = visit(risk_found=True, risk_types=["illness", "disaster"], note="户主突发重病住院")
    sweeps.sweep_visit_record(
        actor=cast.county,
        sweep_household=_row(sweep, registry["a"]),
        visit=risk,
        expected_version=None,
    )
    sweeps.sweep_visit_record(
        actor=cast.county,
        sweep_household=_row(sweep, registry["b"]),
        visit=visit(),
        expected_version=None,
    )
    sweeps.sweep_visit_record(
        actor=cast.county,
        sweep_household=_row(sweep, registry["ordinary"]),
        visit=sweeps.Visit(visited=False, skip_reason="户已搬迁"),
        expected_version=None,
    )


def test_closing_is_refused_while_households_are_pending(cast, county, registry):
    sweep = open_sweep(cast, county)
    sweeps.sweep_visit_record(
        actor=cast.county,
        sweep_household=_row(sweep, registry["b"]),
        visit=visit(),
        expected_version=None,
    )
    with pytest.raises(ValidationError) as caught:
        sweeps.sweep_close(actor=cast.county, sweep=sweep)
    assert caught.value.code == "pending"
    assert caught.value.messages == [
        "还有2户未排查（凤场村1户、龙坪村1户），全部入户或说明原因后才能结束。"
    ]
    assert Sweep.objects.get(pk=sweep.pk).state == "open"
    assert Clue.objects.count() == 0


def test_closing_turns_each_finding_into_one_clue(cast, county, registry):
    sweep = open_sweep(cast, county)
    _record_all(cast, sweep, registry)
    closed = sweeps.sweep_close(actor=cast.county, sweep=sweep)
    assert closed.state == "closed"
    clue = Clue.objects.get()
    head = Member.objects.get(household=registry["a"], relation="户主")
    assert (clue.channel, clue.name, clue.id_number, clue.risk_type, clue.difficulty) == (
        "cadre_check",
        head.name,
        head.id_number,
        "illness",
        "户主突发重病住院",
    )
    assert (clue.household_id, clue.region_id, clue.received_on) == (
        registry["a"].pk,
        county.village_a.pk,
        TODAY,
    )
    assert clue.details["visited_on"] == "2026-06-10"
    assert _row(sweep, registry["a"]).clue_id == clue.pk
    # Closing again makes no second clue.
    sweeps.sweep_close(actor=cast.county, sweep=closed)
    assert Clue.objects.count() == 1
    assert AccessLog.objects.filter(target="sweep:close").count() == 1


def test_a_closed_sweep_refuses_new_sheets(cast, county, registry):
    sweep = open_sweep(cast, county)
    _record_all(cast, sweep, registry)
    sweeps.sweep_close(actor=cast.county, sweep=sweep)
    with pytest.raises(ValidationError) as caught:
        sweeps.sweep_visit_record(
            actor=cast.county,
            sweep_household=_row(sweep, registry["b"]),
            visit=visit(),
            expected_version=None,
        )
    assert caught.value.code == "closed"


# --- the pages and their scope ------------------------------------------------------------------


def test_progress_counts_per_village(cast, county, registry):
    sweep = open_sweep(cast, county)
    _record_all(cast, sweep, registry)
    rows = {row.village: row for row in sweeps.sweep_progress(user=cast.county, sweep=sweep)}
    assert [(r.households, r.visited, r.skipped, r.pending, r.risks) for r in rows.values()] == [
        (1, 1, 0, 0, 1),
        (1, 0, 1, 0, 0),
        (1, 1, 0, 0, 0),
    ]
    assert list(rows) == ["凤场村", "龙坪村", "西垭村"]
    # The cadre's progress shows their village only, the township its villages.
    assert [r.village for r in sweeps.sweep_progress(user=cast.cadre, sweep=sweep)] == ["凤场村"]
    assert [r.village for r in sweeps.sweep_progress(user=cast.township, sweep=sweep)] == [
        "凤场村",
        "龙坪村",
    ]


def test_pages_for_the_county_office(cast, county, registry):
    client = login(cast.county)
    response = client.get(reverse("monitoring:sweep-open"))
    assert response.status_code == 200
    response = client.post(
        reverse("monitoring:sweep-open"),
        {
            "name": "2026年集中排查",
            "year": "2026",
            "start_date": "2026-06-01",
            "end_date": "2026-06-30",
            "line": "7000",
            "groups": ["disabled", "dibao"],
        },
    )
    sweep = Sweep.objects.get()
    assert response.status_code == 302
    assert sweep.priority_groups == ["disabled", "dibao"]
    page = client.get(reverse("monitoring:sweep", args=[sweep.pk]))
    assert page.status_code == 200
    assert "龙坪村" in page.content.decode()
    listing = client.get(
        reverse("monitoring:sweep-households", args=[sweep.pk, county.village_a2.pk]),
        {"group": "disabled"},
    )
    body = listing.content.decode()
    head = Member.objects.get(household=registry["ordinary"])
    assert head.id_number not in body
    assert head.id_number[:3] + "*" * 11 + head.id_number[-4:] in body
    close = client.post(reverse("monitoring:sweep-close", args=[sweep.pk]))
    assert close.status_code == 302
    assert Sweep.objects.get().state == "open"


def test_a_year_already_swept_is_not_offered(cast, county, registry, monkeypatch):
    """One sweep a county a year: once this year's is open, the list shows the button disabled
    with the reason, and the opening page shows the reason instead of a form that would only be
    refused on 年度; another county's office is still offered its own."""
    monkeypatch.setattr("households.services.common.today", lambda: datetime.date(2026, 8, 1))
    client = login(cast.county)
    link = f'href="{reverse("monitoring:sweep-open")}"'
    assert link in client.get(reverse("monitoring:sweeps")).content.decode()
    open_sweep(cast, county)
    listing = client.get(reverse("monitoring:sweeps")).content.decode()
    reason = "2026年的集中排查已经发起，每县每年只发起一次。"
    assert link not in listing
    assert 'disabled aria-describedby="open-blocker"' in listing
    assert reason in listing
    page = client.get(reverse("monitoring:sweep-open"))
    body = page.content.decode()
    assert page.status_code == 200
    assert reason in body
    assert 'name="year"' not in body
    monkeypatch.setattr("households.services.common.today", lambda: datetime.date(2027, 3, 1))
    assert 'name="year"' in client.get(reverse("monitoring:sweep-open")).content.decode()


def test_the_visit_page_records_the_sheet_prefilled_from_the_team(cast, county, registry):
    sweep = open_sweep(cast, county)
    sweeps.sweep_team_create(
        actor=cast.county,
        sweep=sweep,
        name="第一组",
        first_member="张明",
        second_member="李华",
        villages=[county.village_a],
    )
    row = _row(sweep, registry["a"])
    client = login(cast.cadre)
    url = reverse("monitoring:sweep-visit", args=[row.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="张明"' in page.content.decode()
    data = {
        "version": "1",
        "visited": "yes",
        "visited_on": "2026-06-12",
        "first_surveyor": "张明",
        "second_surveyor": "",
        "income_change": "down",
        "per_capita_income": "6500",
        **{key: "yes" for key, _label in sweeps.YES_NO_QUESTIONS},
    }
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "请填写排查人员二。" in refused.content.decode()
    data["second_surveyor"] = "李华"
    assert client.post(url, data).status_code == 302
    saved = _row(sweep, registry["a"])
    assert (saved.state, saved.visited_on, saved.answers["income_change"]) == (
        "visited",
        datetime.date(2026, 6, 12),
        "down",
    )
    # The same page posted again with the old version is a conflict.
    stale = client.post(url, data)
    assert stale.status_code == 400
    assert "保存冲突" in stale.content.decode()


def test_scope_of_the_pages(cast, county, registry):
    sweep = open_sweep(cast, county)
    row_a = _row(sweep, registry["a"])
    row_b = _row(sweep, registry["b"])
    visit_a = reverse("monitoring:sweep-visit", args=[row_a.pk])
    visit_b = reverse("monitoring:sweep-visit", args=[row_b.pk])
    village_b = reverse("monitoring:sweep-households", args=[sweep.pk, county.village_b.pk])
    department = factories.user(
        "yibao", User.Role.DEPARTMENT, county.county, department="medical_insurance"
    )
    outcomes = {
        name: [
            login(user).get(url).status_code
            for url in (reverse("monitoring:sweeps"), visit_a, visit_b, village_b)
        ]
        for name, user in (
            ("cadre", cast.cadre),
            ("township", cast.township),
            ("county", cast.county),
            ("auditor", cast.auditor),
            ("helper", cast.helper),
            ("department", department),
        )
    }
    assert outcomes == {
        "cadre": [200, 200, 404, 404],
        "township": [200, 200, 404, 404],
        "county": [200, 200, 200, 200],
        "auditor": [200, 200, 200, 200],
        "helper": [403, 403, 403, 403],
        "department": [403, 403, 403, 403],
    }
    # A township reviewer reads the sheet but may not save it.
    assert login(cast.township).post(visit_a, {"visited": "yes"}).status_code == 403
    assert (
        login(cast.cadre).post(reverse("monitoring:sweep-close", args=[sweep.pk])).status_code
        == 403
    )
    assert _row(sweep, registry["a"]).version == 1
