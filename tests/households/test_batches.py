"""Batches (issue 13): one 民主评议 meeting, one 公示 list and one township/county review for many
households, with per-household exceptions; all-or-nothing refusals that name each household;
every household keeps its own case and events; the round's township review in one post."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households import services
from households.models import (
    CaseBatch,
    CaseBatchEvent,
    CaseWorkflow,
    Household,
    HouseholdEvent,
    PublicNotice,
    WorkflowStep,
)
from povertyapp.models import VillageYear
from rounds import services as rounds
from rounds.models import AdjustmentRound, RoundChange
from tests import factories
from tests.households.test_workflow import exit_ready

D = datetime.date
FROZEN = D(2026, 12, 5)
PHONE = "0855-1234567"
OPENED = D(2026, 11, 10)
MEETING = D(2026, 11, 11)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(services.common, "today", lambda: FROZEN)
    return FROZEN


def minutes() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "评议会议记录.jpg", b"\xff\xd8\xff\xe0minutes", content_type="image/jpeg"
    )


def applicants(cast, county, count: int) -> list[Household]:
    return [
        factories.household(
            actor=cast.county,
            village=county.village_a,
            status=Household.Status.NON_REGISTERED,
            main_cause="因病",
        )
        for _ in range(count)
    ]


def case_of(household: Household) -> CaseWorkflow:
    return CaseWorkflow.objects.filter(household=household).order_by("-id").first()  # type: ignore[return-value]  # every household here has a case


def steps_of(households: list[Household]) -> list[str]:
    result = []
    for household in households:
        case = case_of(household)
        result.append(case.step if case.state == CaseWorkflow.State.OPEN else case.state)
    return result


def identification_batch(cast, county, households, opened=OPENED) -> CaseBatch:
    return services.case_batch_create(
        actor=cast.cadre,
        village=county.village_a,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        households=households,
        opened_on=opened,
        opinion="农户申请",
    )


def meeting(cast, batch, on=MEETING, exceptions=None) -> CaseBatch:
    return services.case_batch_record_meeting(
        actor=cast.cadre,
        batch=batch,
        meeting_date=on,
        attendance=32,
        minutes=minutes(),
        opinion="村民代表会议评议通过",
        exceptions=exceptions,
    )


def test_the_identification_batch_runs_with_one_household_excepted_at_each_review(
    frozen, cast, county
):
    a, b, c, d = applicants(cast, county, 4)
    batch = identification_batch(cast, county, [a, b, c, d])
    assert steps_of([a, b, c, d]) == ["appraisal"] * 4
    meeting(cast, batch)
    records = WorkflowStep.objects.filter(step="appraisal", decision="done").order_by("id")
    batch.refresh_from_db()
    # One stored file: every household's 评议 record points at the batch's minutes.
    assert [(r.attendance, r.acted_on, r.evidence.name) for r in records] == [
        (32, D(2026, 11, 11), batch.minutes.name)
    ] * 4
    services.case_batch_complete_step(
        actor=cast.cadre,
        batch=batch,
        step="verification",
        opinion="核实属实",
        acted_on=D(2026, 11, 12),
    )
    services.case_batch_start_notice(
        actor=cast.cadre, batch=batch, step="first_notice", start_date=D(2026, 11, 13), phone=PHONE
    )
    assert PublicNotice.objects.filter(workflow__batch=batch, step="first_notice").count() == 4
    # An objection during the 公示 sends back only that household.
    services.notice_objection_record(
        actor=cast.cadre,
        notice=PublicNotice.objects.get(workflow=case_of(c)),
        content="家中有经营性货车",
        received_on=D(2026, 11, 15),
    )
    services.case_batch_complete_step(actor=cast.cadre, batch=batch, step="first_notice")
    assert steps_of([a, b, c, d]) == [
        "township_review",
        "township_review",
        "appraisal",
        "township_review",
    ]
    # The township reviews in one action; B goes back to the verification, alone.
    services.case_batch_complete_step(
        actor=cast.township,
        batch=batch,
        step="township_review",
        opinion="审核同意",
        acted_on=D(2026, 11, 21),
        exceptions={case_of(b).pk: "收入核实有误"},
        return_to={case_of(b).pk: "verification"},
    )
    assert steps_of([a, b, c, d]) == ["second_notice", "verification", "appraisal", "second_notice"]
    services.case_batch_start_notice(
        actor=cast.township,
        batch=batch,
        step="second_notice",
        start_date=D(2026, 11, 22),
        phone=PHONE,
    )
    services.case_batch_complete_step(actor=cast.township, batch=batch, step="second_notice")
    # The county approves in one action; D goes back to the township's review.
    services.case_batch_complete_step(
        actor=cast.county,
        batch=batch,
        step="county_approval",
        opinion="审定同意",
        acted_on=D(2026, 11, 30),
        exceptions={case_of(d).pk: "住房情况需重新审核"},
        return_to={case_of(d).pk: "township_review"},
    )
    services.case_batch_complete_step(
        actor=cast.county,
        batch=batch,
        step="announcement",
        opinion="予以公告",
        acted_on=D(2026, 12, 1),
    )
    assert steps_of([a, b, c, d]) == ["done", "verification", "appraisal", "township_review"]
    for household in (a, b, c, d):
        household.refresh_from_db()
    assert [h.status for h in (a, b, c, d)] == [
        "poor",
        "non_registered",
        "non_registered",
        "non_registered",
    ]
    # Every household keeps its own history: the returns and the identification.
    events = {
        household.number: list(household.events.order_by("id").values_list("kind", flat=True))
        for household in (a, b, c, d)
    }
    assert events == {
        a.number: [HouseholdEvent.Kind.REGISTERED, HouseholdEvent.Kind.IDENTIFIED],
        b.number: [HouseholdEvent.Kind.REGISTERED, HouseholdEvent.Kind.CASE_RETURNED],
        c.number: [HouseholdEvent.Kind.REGISTERED, HouseholdEvent.Kind.CASE_RETURNED],
        d.number: [HouseholdEvent.Kind.REGISTERED, HouseholdEvent.Kind.CASE_RETURNED],
    }
    assert list(batch.events.order_by("id").values_list("action", "summary")) == [
        ("created", "创建批次"),
        ("added", "加入4户"),
        ("meeting", "2026-11-11召开民主评议会议，4户通过，0户未通过"),
        ("step", "村委会和驻村工作队核实：4户通过，0户退回"),
        ("notice", "2026-11-13起第一次公示7天，4户"),
        ("step", "第一次公示：3户通过，0户退回"),
        ("step", "乡镇审核：2户通过，1户退回"),
        ("notice", "2026-11-22起第二次公示7天，2户"),
        ("step", "第二次公示：2户通过，0户退回"),
        ("step", "县扶贫办审定：1户通过，1户退回"),
        ("step", "公告：1户通过，0户退回"),
    ]
    batch.refresh_from_db()
    assert batch.state == CaseBatch.State.OPEN


def test_the_exit_batch_runs_with_one_household_excepted_at_the_meeting_and_the_county(
    frozen, cast, county
):
    e, f, g = (exit_ready(cast, county) for _ in range(3))
    batch = services.case_batch_create(
        actor=cast.cadre,
        village=county.village_a,
        kind=CaseWorkflow.Kind.EXIT,
        households=[e, f, g],
        opened_on=D(2026, 11, 10),
    )
    meeting(cast, batch, exceptions={case_of(g).pk: "家庭成员新患大病"})
    assert steps_of([e, f, g]) == ["verification", "verification", "withdrawn"]
    services.case_batch_complete_step(
        actor=cast.cadre,
        batch=batch,
        step="verification",
        opinion="收入达标",
        acted_on=D(2026, 11, 12),
    )
    # The household's own signed confirmation is uploaded per household.
    for household in (e, f):
        services.workflow_step_complete(
            actor=cast.cadre,
            workflow=case_of(household),
            expected_step="household_confirmation",
            opinion="农户签字确认",
            evidence=minutes(),
            acted_on=D(2026, 11, 13),
        )
    services.case_batch_start_notice(
        actor=cast.cadre, batch=batch, step="notice", start_date=D(2026, 11, 14), phone=PHONE
    )
    services.case_batch_complete_step(actor=cast.cadre, batch=batch, step="notice")
    services.case_batch_complete_step(
        actor=cast.county,
        batch=batch,
        step="announcement",
        opinion="公告退出",
        acted_on=D(2026, 11, 25),
        exceptions={case_of(f).pk: "务工收入无佐证"},
    )
    assert steps_of([e, f, g]) == ["done", "verification", "withdrawn"]
    e.refresh_from_db()
    f.refresh_from_db()
    assert (e.status, f.status) == (Household.Status.EXITED, Household.Status.POOR)
    assert list(g.events.order_by("id").values_list("kind", flat=True))[-1] == (
        HouseholdEvent.Kind.CASE_WITHDRAWN
    )


def test_one_refused_household_writes_nothing_and_is_named(frozen, cast, county):
    x, y = applicants(cast, county, 2)
    for household, appraisal in ((x, D(2026, 11, 11)), (y, D(2026, 11, 14))):
        case = services.workflow_start(
            actor=cast.cadre,
            household=household,
            kind=CaseWorkflow.Kind.IDENTIFICATION,
            effective_date=D(2026, 11, 10),
        )
        services.workflow_step_complete(
            actor=cast.cadre,
            workflow=case,
            expected_step="appraisal",
            opinion="评议通过",
            attendance=20,
            evidence=minutes(),
            acted_on=appraisal,
        )
    batch = services.case_batch_create(
        actor=cast.cadre,
        village=county.village_a,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        workflows=[case_of(x), case_of(y)],
    )
    before = (WorkflowStep.objects.count(), HouseholdEvent.objects.count(), batch.events.count())
    with pytest.raises(ValidationError) as raised:
        services.case_batch_complete_step(
            actor=cast.cadre,
            batch=batch,
            step="verification",
            opinion="核实属实",
            acted_on=D(2026, 11, 12),
        )
    assert raised.value.messages == [
        "以下农户未通过，本次批量办理未保存任何记录：",
        f"户编号{y.number}：“村委会和驻村工作队核实”的办理日期（2026-11-12）不能早于上一环节"
        "“民主评议”的日期（2026-11-14）。",
    ]
    assert steps_of([x, y]) == ["verification", "verification"]
    assert (
        WorkflowStep.objects.count(),
        HouseholdEvent.objects.count(),
        batch.events.count(),
    ) == before


def test_a_batch_takes_cases_at_one_step_of_its_own_village_only(frozen, cast, county, household_b):
    (x,) = applicants(cast, county, 1)
    with pytest.raises(ValidationError) as raised:
        services.case_batch_create(
            actor=cast.cadre2,
            village=county.village_a,
            kind=CaseWorkflow.Kind.IDENTIFICATION,
            households=[x],
        )
    assert raised.value.messages == ["只有本村的村级录入员可以办理该批次。"]
    assert CaseBatch.objects.count() == 0
    assert CaseWorkflow.objects.count() == 0


def test_a_meeting_needs_its_minutes_and_writes_nothing_without(frozen, cast, county):
    households = applicants(cast, county, 2)
    batch = identification_batch(cast, county, households)
    with pytest.raises(ValidationError) as raised:
        services.case_batch_record_meeting(
            actor=cast.cadre,
            batch=batch,
            meeting_date=D(2026, 11, 11),
            attendance=30,
            minutes=None,
            opinion="通过",
        )
    assert raised.value.message_dict == {"minutes": ["请上传会议记录（扫描件或照片）。"]}
    assert steps_of(households) == ["appraisal", "appraisal"]


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def page_batch(frozen, cast, county) -> CaseBatch:
    households = applicants(cast, county, 3)
    batch = identification_batch(cast, county, households)
    meeting(cast, batch)
    return batch


def test_each_role_sees_or_is_refused_the_batch_pages(page_batch, cast, client_for):
    expected = {
        "cadre": (200, 200),
        "cadre2": (200, 404),
        "township": (200, 200),
        "county": (200, 200),
        "auditor": (200, 200),
        "helper": (200, 404),
        "sysadmin": (403, 403),
    }
    seen = {}
    for name in expected:
        client = client_for(getattr(cast, name))
        seen[name] = (
            client.get("/households/batches/").status_code,
            client.get(f"/households/batches/{page_batch.pk}/").status_code,
        )
    assert seen == expected
    listed = client_for(cast.cadre2).get("/households/batches/").content.decode()
    assert page_batch.name not in listed


def test_read_only_and_other_villages_change_nothing_through_the_page(page_batch, cast, client_for):
    post = {"step": "verification", "opinion": "核实", "acted_on": "2026-11-12"}
    url = f"/households/batches/{page_batch.pk}/step/"
    statuses = {
        name: client_for(getattr(cast, name)).post(url, post).status_code
        for name in ("auditor", "cadre2", "helper", "sysadmin")
    }
    assert statuses == {"auditor": 403, "cadre2": 404, "helper": 404, "sysadmin": 403}
    assert list(page_batch.cases.values_list("step", flat=True)) == ["verification"] * 3


def test_only_a_village_cadre_opens_the_create_page(cast, client_for):
    statuses = {
        name: client_for(getattr(cast, name)).get("/households/batches/new/").status_code
        for name in ("cadre", "township", "county", "auditor", "helper", "sysadmin")
    }
    assert statuses == {
        "cadre": 200,
        "township": 403,
        "county": 403,
        "auditor": 403,
        "helper": 403,
        "sysadmin": 403,
    }


def test_the_cadre_creates_a_batch_and_records_the_meeting_through_the_pages(
    frozen, cast, county, client_for
):
    households = applicants(cast, county, 2)
    client = client_for(cast.cadre)
    page = client.get("/households/batches/new/?kind=identification").content.decode()
    assert households[0].number in page
    response = client.post(
        "/households/batches/new/",
        {
            "kind": "identification",
            "households": [str(h.pk) for h in households],
            "opened_on": "2026-11-10",
            "opinion": "农户申请",
        },
    )
    batch = CaseBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/households/batches/{batch.pk}/"
    response = client.post(
        f"/households/batches/{batch.pk}/meeting/",
        {
            "step": "appraisal",
            "meeting_date": "2026-11-11",
            "attendance": "25",
            "opinion": "评议通过",
            "minutes": minutes(),
            f"reason_{case_of(households[1]).pk}": "家庭收入超过标准",
        },
    )
    assert response.status_code == 302
    assert steps_of(households) == ["verification", "withdrawn"]
    page = client.get(f"/households/batches/{batch.pk}/").content.decode()
    assert f"/files/batch_minutes/{batch.pk}/?t=" in page


def test_the_township_reviews_the_batch_in_one_post_with_one_exception(
    frozen, cast, county, client_for
):
    households = applicants(cast, county, 3)
    batch = identification_batch(cast, county, households)
    meeting(cast, batch)
    services.case_batch_complete_step(
        actor=cast.cadre, batch=batch, step="verification", opinion="核实", acted_on=D(2026, 11, 12)
    )
    services.case_batch_start_notice(
        actor=cast.cadre, batch=batch, step="first_notice", start_date=D(2026, 11, 13), phone=PHONE
    )
    services.case_batch_complete_step(actor=cast.cadre, batch=batch, step="first_notice")
    client = client_for(cast.township)
    page = client.get(f"/households/batches/{batch.pk}/").content.decode()
    returned = case_of(households[2]).pk
    assert f'name="return_to_{returned}"' in page
    response = client.post(
        f"/households/batches/{batch.pk}/step/",
        {
            "step": "township_review",
            "opinion": "审核同意",
            "acted_on": "2026-11-21",
            f"return_to_{returned}": "verification",
            f"reason_{returned}": "住房面积与核实不符",
        },
    )
    assert response.status_code == 302
    assert steps_of(households) == ["second_notice", "second_notice", "verification"]


def test_a_refused_batch_page_names_the_household_and_keeps_the_input(
    frozen, cast, county, client_for
):
    households = applicants(cast, county, 2)
    batch = identification_batch(cast, county, households)
    meeting(cast, batch)
    response = client_for(cast.cadre).post(
        f"/households/batches/{batch.pk}/step/",
        {"step": "verification", "opinion": "核实意见", "acted_on": "2026-11-09"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert f"户编号{households[0].number}：" in page
    assert "核实意见" in page
    assert steps_of(households) == ["verification", "verification"]


def test_the_batch_notice_prints_every_household_masked(frozen, cast, county, client_for):
    households = applicants(cast, county, 3)
    batch = identification_batch(cast, county, households)
    meeting(cast, batch)
    services.case_batch_complete_step(
        actor=cast.cadre, batch=batch, step="verification", opinion="核实", acted_on=D(2026, 11, 12)
    )
    services.case_batch_start_notice(
        actor=cast.cadre,
        batch=batch,
        step="first_notice",
        start_date=D(2026, 11, 13),
        phone=PHONE,
        place="村委会公示栏",
    )
    page = client_for(cast.cadre).get(f"/households/batches/{batch.pk}/notice/print/")
    text = page.content.decode()
    assert page.status_code == 200
    assert [number for number in (h.number for h in households) if number in text] == [
        h.number for h in households
    ]
    for household in households:
        head = household.members.get(relation="户主")
        assert head.id_number not in text
    assert "村委会公示栏" in text and PHONE in text
    assert "凤场村村民委员会" in text


def _page_queries(client, batch: CaseBatch) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/households/batches/{batch.pk}/").status_code == 200
    return len(queries)


def test_the_batch_page_costs_the_same_queries_for_3_and_12_households(
    frozen, cast, county, client_for
):
    small = identification_batch(cast, county, applicants(cast, county, 3))
    large = identification_batch(cast, county, applicants(cast, county, 12))
    for batch in (small, large):
        meeting(cast, batch)
    client = client_for(cast.cadre)
    _page_queries(client, small)  # warm the session and caches
    assert _page_queries(client, large) == _page_queries(client, small)


def test_todo_links_the_batches_waiting_for_my_level(page_batch, cast, client_for):
    page = client_for(cast.cadre).get("/households/todo/").content.decode()
    assert f'href="/households/batches/{page_batch.pk}/"' in page
    township_page = client_for(cast.township).get("/households/todo/").content.decode()
    assert f'href="/households/batches/{page_batch.pk}/"' not in township_page


# --- the round's township review in bulk --------------------------------------------------------


@pytest.fixture
def proposed_round(cast, county):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    households = [
        factories.household(actor=cast.county, village=county.village_a) for _ in range(5)
    ]
    other = factories.household(actor=cast.county, village=county.village_a2)
    round_ = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    for household in [*households, other]:
        rounds.change_propose(
            actor=factories.user(f"c{household.pk}", "village_cadre", household.village)
            if household.village != county.village_a
            else cast.cadre,
            round=round_,
            household=household,
            kind=RoundChange.Kind.REMOVED,
            persons=2,
            head_name="张三",
            reason="购买3万元以上车辆：2019年购车",
        )
    return round_, households, other


def test_the_township_reviews_a_village_of_five_lines_in_one_post(
    proposed_round, cast, county, client_for
):
    round_, households, other = proposed_round
    client = client_for(cast.township)
    page = client.get(f"/rounds/{round_.pk}/").content.decode()
    assert 'id="bulk-review"' in page
    returned = RoundChange.objects.get(household=households[1])
    # One POST for the village's five lines (it was five review posts).
    response = client.post(
        f"/rounds/{round_.pk}/review/",
        {
            "region": county.village_a.code,
            "opinion": "同意",
            f"return_{returned.pk}": "车辆已于2019年出售",
        },
    )
    assert response.status_code == 302
    states = {
        change.household_id: (change.state, change.review_opinion)
        for change in RoundChange.objects.filter(round=round_)
    }
    assert states == {
        **{h.pk: (RoundChange.State.REVIEWED, "同意") for h in households if h != households[1]},
        households[1].pk: (RoundChange.State.REJECTED, "车辆已于2019年出售"),
        other.pk: (RoundChange.State.PROPOSED, ""),
    }


def test_the_bulk_review_refuses_a_return_without_reason_and_writes_nothing(
    proposed_round, cast, county
):
    round_, households, _other = proposed_round
    returned = RoundChange.objects.get(household=households[0])
    with pytest.raises(ValidationError) as raised:
        rounds.changes_review_many(
            actor=cast.township,
            round=round_,
            region=county.township1,
            opinion="同意",
            exceptions={returned.pk: " "},
        )
    assert raised.value.messages == [
        "以下名单未能审核，本次批量审核未保存任何记录：",
        f"{households[0].number}：退回须填写审核意见。",
    ]
    assert set(RoundChange.objects.values_list("state", flat=True)) == {"proposed"}


def test_the_bulk_review_of_a_township_covers_its_villages(proposed_round, cast, county):
    round_, households, other = proposed_round
    result = rounds.changes_review_many(
        actor=cast.township, round=round_, region=county.township1, opinion="同意"
    )
    assert result == {"passed": 6, "returned": 0}
    assert set(RoundChange.objects.values_list("state", flat=True)) == {"reviewed"}
    assert AdjustmentRound.objects.get().status == "open"


def test_a_cadre_cannot_bulk_review(proposed_round, cast, county, client_for):
    round_, _households, _other = proposed_round
    response = client_for(cast.cadre).post(
        f"/rounds/{round_.pk}/review/", {"region": county.village_a.code, "opinion": "同意"}
    )
    assert response.status_code == 403
    assert set(RoundChange.objects.values_list("state", flat=True)) == {"proposed"}


def test_batch_events_name_the_households(page_batch):
    event = CaseBatchEvent.objects.filter(batch=page_batch, action="added").get()
    assert sorted(event.data["households"]) == sorted(
        page_batch.cases.values_list("household__number", flat=True)
    )


def test_a_refused_meeting_keeps_no_minutes_file(frozen, cast, county, settings):
    from pathlib import Path

    households = applicants(cast, county, 2)
    batch = identification_batch(cast, county, households)
    with pytest.raises(ValidationError) as raised:
        meeting(cast, batch, on=D(2026, 11, 9))
    assert raised.value.messages[0] == "以下农户未通过，本次批量办理未保存任何记录："
    assert len(raised.value.messages) == 3
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == []
    batch.refresh_from_db()
    assert (batch.meeting_date, batch.minutes.name) == (None, "")


def _batch_routes() -> list[tuple[str, str]]:
    """Every batch page of the URL conf addressed by a batch id: (name, url template)."""
    from households import urls

    return [
        (pattern.name, str(pattern.pattern))
        for pattern in urls.urlpatterns
        if pattern.name
        and pattern.name.startswith("batch")
        and "<int:batch_id>" in str(pattern.pattern)
    ]


def test_every_batch_route_is_scoped_and_read_only_roles_change_nothing(
    page_batch, cast, client_for
):
    """Walks every batch URL: outside the area (another village's cadre, a helper) 404, a role
    without case data 403, the auditor reads but every POST is 403; nothing changes."""
    routes = _batch_routes()
    assert sorted(name for name, _url in routes) == [
        "batch",
        "batch-meeting",
        "batch-notice",
        "batch-notice-print",
        "batch-step",
    ]
    before = (
        list(page_batch.cases.order_by("id").values_list("step", "state")),
        WorkflowStep.objects.count(),
        CaseBatchEvent.objects.count(),
    )
    seen = {}
    for name, template in routes:
        url = "/households/" + template.replace("<int:batch_id>", str(page_batch.pk))
        data = {"step": "verification", "opinion": "核实", "acted_on": "2026-11-12"}
        for user in ("cadre2", "helper", "sysadmin", "auditor"):
            client = client_for(getattr(cast, user))
            seen[(name, user, "post")] = client.post(url, data).status_code
    expected_post = {"cadre2": 404, "helper": 404, "sysadmin": 403, "auditor": 403}
    for (name, user, _method), status in seen.items():
        if name in ("batch", "batch-notice-print") and user == "auditor":
            # GET-only pages: the auditor reads them (a POST is the same read, nothing to do).
            assert status in (200, 302), (name, status)
        else:
            assert status == expected_post[user], (name, user, status)
    after = (
        list(page_batch.cases.order_by("id").values_list("step", "state")),
        WorkflowStep.objects.count(),
        CaseBatchEvent.objects.count(),
    )
    assert after == before


def test_each_case_page_links_its_batch(page_batch, cast, client_for):
    case = page_batch.cases.order_by("id").first()
    link = f'href="/households/batches/{page_batch.pk}/"'
    assert link in client_for(cast.cadre).get(f"/households/cases/{case.pk}/").content.decode()
    assert link in client_for(cast.township).get(f"/households/cases/{case.pk}/").content.decode()
