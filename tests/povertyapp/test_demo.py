"""The demo county at a frozen today: every procedure step and every list is there."""

from __future__ import annotations

import ast
import datetime
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count
from simple_history.models import registered_models

from assistance.demo import DELIBERATE_LABEL, NEEDS_LABOUR, stage_aid
from assistance.models import CoverageRun, Measure
from households import workflows
from households.demo_cases import ACTIONS, SCENARIOS
from households.models import (
    CaseBatch,
    CaseWorkflow,
    DataProblem,
    Household,
    HouseholdEvent,
    HouseholdIncome,
    NoticeObjection,
    PovertyLine,
    PublicNotice,
    WorkflowStep,
)
from inspections.models import Campaign
from povertyapp import demo
from povertyapp.management.commands import seed_demo
from povertyapp.models import Job, VillageYear
from rounds.models import AdjustmentRound, RateSnapshot
from tests import celery_eager

# The registry's own procedures: the checks below are of the registry's demo cases
# (households.demo_cases). Monitoring's cases are its demo's, checked in tests/monitoring.
REGISTRY_KINDS = (CaseWorkflow.Kind.IDENTIFICATION, CaseWorkflow.Kind.EXIT)
TODAY = datetime.date(2026, 11, 18)
HOUSEHOLDS = 600


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo county, seeded once for the module inside a transaction that is never committed
    (so that, as in a test's own transaction, no on_commit fires) and rolled back after the
    module's last test. Each test's `db` runs in a savepoint of it, as Django's TestCase runs a
    test inside the class's `setUpTestData` transaction: what a test changes is rolled back
    before the next. Seeding 600 households took 11.7 s; once instead of 15 times, the module
    takes 52 s instead of 185 s on SQLite."""
    from django.db import transaction
    from django.test import override_settings

    outer = transaction.atomic()
    outer._from_testcase = True  # as Django's TestCase marks its own: durable blocks may nest
    with django_db_blocker.unblock():
        outer.__enter__()
    try:
        media = str(tmp_path_factory.mktemp("demo-media"))
        with django_db_blocker.unblock(), celery_eager.eager(), override_settings(MEDIA_ROOT=media):
            seeded = demo.seed(households=HOUSEHOLDS, seed=2020, today=TODAY)
        yield seeded
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def county(_seeded, db):
    return _seeded


@pytest.fixture(autouse=True)
def _no_transactional_test_in_this_module(request):
    """A transactional test here would run inside the module's open transaction and flush it:
    such a test belongs in a module of its own (test_demo_committed.py)."""
    marker = request.node.get_closest_marker("django_db")
    if (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames):
        pytest.fail("a transactional test cannot share test_demo.py's seeded transaction")


def _snapshot() -> dict[str, Any]:
    models = [*registered_models.values(), CaseWorkflow, WorkflowStep, PublicNotice, Job]
    counts: dict[str, Any] = {model._meta.label: model._default_manager.count() for model in models}
    counts |= {
        f"{model._meta.label}.history": model.history.count()
        for model in registered_models.values()
    }
    # The figures are not recomputed either: a rerun that rewrote them would change nothing
    # countable but every snapshot's time.
    counts["rounds.RateSnapshot"] = sorted(
        RateSnapshot.objects.values_list("pk", "computed_at").order_by("pk")
    )
    return counts


def test_lines_incomes_rounds_and_campaign_are_dated_from_today(county):
    lines = dict(
        PovertyLine.objects.filter(year__gte=2019, region=None).values_list(
            "year", "monitoring_amount"
        )
    )
    assert sorted(lines) == list(range(2019, 2027))
    assert all(lines[year] is not None for year in range(2021, 2027))
    assert sorted(set(HouseholdIncome.objects.values_list("year", flat=True))) == [
        2023,
        2024,
        2025,
    ]
    demo_county = county["county"].county  # the province's other counties have their own
    rounds = list(
        AdjustmentRound.objects.filter(county=demo_county)
        .order_by("year")
        .values_list("year", "status", "name")
    )
    assert rounds == [
        (2025, "closed", "2025年动态调整"),
        (2026, "open", "2026年动态调整"),
    ]
    campaign = Campaign.objects.get(kind=Campaign.Kind.THIRD_PARTY)
    opened = AdjustmentRound.objects.get(county=demo_county, year=2026).opened_at.date()
    assert campaign.year == 2026
    assert opened < campaign.visit_date <= campaign.end_date <= TODAY
    under_way = Campaign.objects.get(kind=Campaign.Kind.SELF_CHECK)
    assert under_way.year == 2026 and under_way.status == Campaign.Status.DRAWN
    assert opened < under_way.visit_date < TODAY < under_way.end_date
    assert VillageYear.objects.filter(
        year=2026, village__path__startswith=demo_county.path
    ).count() == len(county["county"].villages)


def test_every_step_of_both_procedures_has_a_case(county):
    open_steps = set(CaseWorkflow.objects.filter(state="open").values_list("kind", "step"))
    # The registry's procedures; monitoring's cases are its demo's (tests/monitoring).
    registry = {kind: p for kind, p in workflows.PROCEDURES.items() if p.to_status}
    for kind, procedure in registry.items():
        waiting = {step.key for step in procedure.steps}
        if kind == CaseWorkflow.Kind.IDENTIFICATION:
            waiting.discard("application")  # recorded when the case opens
        assert {step for k, step in open_steps if k == kind} == waiting
        assert CaseWorkflow.objects.filter(kind=kind, state="done").count() == 1
    assert CaseWorkflow.objects.filter(batch__isnull=True, kind__in=registry).count() == len(
        SCENARIOS
    )
    assert sorted(ACTIONS) == sorted(registry)


def test_notices_running_run_out_and_objected_are_printable(county, client):
    running = PublicNotice.objects.filter(is_open=True)
    assert {notice.start_date <= TODAY for notice in running} == {True}
    assert any(notice.end_date >= TODAY for notice in running)  # still running
    assert any(notice.end_date < TODAY for notice in running)  # run out, waiting
    objected = {
        (objection.notice.workflow.kind, objection.notice.step, objection.notice.workflow.step)
        for objection in NoticeObjection.objects.select_related("notice__workflow")
    }
    assert objected == {
        ("identification", "first_notice", "appraisal"),
        ("identification", "second_notice", "township_review"),
        ("exit", "notice", "appraisal"),
    }
    client.force_login(county["users"]["county"])
    for notice in PublicNotice.objects.all():
        response = client.get(f"/households/notices/{notice.pk}/print/")
        assert response.status_code == 200


def test_steps_are_in_legal_order_and_never_in_the_future(county):
    registry = CaseWorkflow.objects.filter(kind__in=REGISTRY_KINDS)
    for workflow in registry.prefetch_related("steps", "notices"):
        days = [
            workflow.started_at.date(),
            *[step.acted_on for step in workflow.steps.order_by("created_at", "id")],
        ]
        assert days == sorted(days)
        assert days[-1] <= TODAY
        notices = {notice.step: notice for notice in workflow.notices.all()}
        for step in workflow.steps.filter(decision="done"):
            notice = notices.get(step.step)
            if notice is not None:  # a 公示 completes after its full term
                assert step.acted_on > notice.end_date
        for notice in notices.values():
            assert notice.start_date <= TODAY and notice.days == 7


def test_overdue_identifications_stand_out(county):
    overdue = [
        workflow.step
        for workflow in CaseWorkflow.objects.filter(state="open", kind__in=REGISTRY_KINDS)
        if workflows.is_overdue(workflow, today=TODAY)
    ]
    assert sorted(overdue) == ["county_approval", "township_review"]


def test_finished_cases_change_the_registry_in_the_open_round(county):
    done = CaseWorkflow.objects.filter(state="done", kind__in=REGISTRY_KINDS)
    demo_county = county["county"].county  # the province's other counties have their own
    for workflow in done.select_related("household"):
        event = workflow.household.events.order_by("-id").first()
        assert event.round == AdjustmentRound.objects.get(status="open", county=demo_county)
        assert workflow.household.status == (
            "poor" if workflow.kind == "identification" else "exited"
        )


def test_quality_check_and_coverage_table_already_ran(county):
    region = county["county"].county
    succeeded = set(
        Job.objects.filter(region=region, status="succeeded").values_list("kind", flat=True)
    )
    assert {"data_quality", "assistance.coverage"} <= succeeded
    assert DataProblem.objects.exists()
    run = CoverageRun.objects.get(region=region)
    assert run.households > 0 and run.missing + run.wrongful > 0


def test_every_seeded_record_has_a_first_history_row(county):
    for model in registered_models.values():
        history = model.history.model
        recorded = set(history.objects.values_list("id", flat=True).distinct())
        missing = model._default_manager.exclude(pk__in=recorded).count()
        assert (model._meta.label, missing) == (model._meta.label, 0)
    assert Household.history.filter(history_type="+").count() == Household.objects.count()


def test_measures_fit_age_and_situation_except_the_labelled_few(county):
    measures = Measure.objects.select_related("member", "household").prefetch_related(
        "household__members"
    )
    labelled = Counter()
    for measure in measures:
        if DELIBERATE_LABEL in measure.content:
            labelled[measure.category] += 1
            continue
        if measure.category == "教育帮扶" and measure.member is not None:
            assert measure.content == stage_aid(measure.member.school_status), measure.content
        if measure.category in NEEDS_LABOUR:
            workers = [
                member
                for member in measure.household.members.all()
                if member.labour_skill in ("普通劳动力", "技能劳动力")
                and 16 <= member.age_on(TODAY) <= 60
            ]
            assert workers, (measure.household.number, measure.category)
    assert sum(labelled.values()) > 0
    assert not Measure.objects.filter(
        content__contains="高中", member__birth_date__gt=TODAY.replace(year=2012)
    ).exists()


def test_a_share_of_measures_belongs_to_the_village_projects(county):
    """Issue 16: measures of a project's 受益户 of the project's kind link the project; under a
    project paying 到户 they carry the household's 到户 money, and the drift the demo leaves
    (受益户 without such a measure) shows on the project page."""
    from assistance.demo import LINKED_CATEGORIES
    from assistance.models import Project
    from assistance.reconcile import project_measure_differences

    linked = Measure.objects.filter(project__isnull=False).select_related("project", "household")
    assert linked.count() >= Measure.objects.count() // 50
    for measure in linked:
        assert measure.household.village_id == measure.project.region_id
        assert measure.project.beneficiaries.filter(pk=measure.household_id).exists()
        assert measure.category in LINKED_CATEGORIES[measure.project.category]
    results = [project_measure_differences(project) for project in Project.objects.all()]
    # Under a project paying 到户, a linked measure carries the household's 到户 支出.
    paying = [result for result in results if result.moved_amount and result.measures]
    assert paying
    for result in paying:
        assert not [line for line in result.lines if "amount" in line.problems]
    assert any(not result.ok for result in results)  # the drift the page shows
    assert Project.objects.exclude(code="").count() == Project.objects.count()


def test_villages_are_large_enough_for_the_sampling_protocol(county):
    sizes = dict(
        Household.objects.filter(village__path__startswith=county["county"].county.path)
        .values("village")
        .annotate(n=Count("id"))
        .values_list("village", "n")
    )
    assert len(sizes) == len(county["county"].villages) == 9
    assert min(sizes.values()) >= 60
    sampled = Campaign.objects.values_list("villages__village_id", flat=True)
    assert min(sizes[village] for village in sampled) >= 60


def test_seeding_again_changes_nothing(county):
    before = _snapshot()
    demo.seed(households=HOUSEHOLDS, seed=2020, today=TODAY)
    assert _snapshot() == before


def test_withdrawn_and_returned_cases_are_in_the_case_and_the_history(county):
    # The scenarios' cases (the batches' are counted in the batch test below).
    singles = HouseholdEvent.objects.exclude(household__workflows__batch__isnull=False).filter(
        data__procedure__in=REGISTRY_KINDS
    )
    withdrawn = CaseWorkflow.objects.filter(
        state=CaseWorkflow.State.WITHDRAWN, batch__isnull=True, kind__in=REGISTRY_KINDS
    )
    assert sorted(withdrawn.values_list("kind", flat=True)) == sorted(
        [CaseWorkflow.Kind.IDENTIFICATION, CaseWorkflow.Kind.EXIT]
    )
    assert singles.filter(kind=HouseholdEvent.Kind.CASE_WITHDRAWN).count() == 2
    # Sent back: by a reviewer to a named step, or by an objection during a 公示.
    sent_back = [s for s in SCENARIOS if s.return_to or s.objection_after is not None]
    returned = singles.filter(kind=HouseholdEvent.Kind.CASE_RETURNED)
    assert returned.count() == len(sent_back) == 5
    # The reviewers' returns stand again at the steps they named.
    returned_to = WorkflowStep.objects.filter(
        decision=WorkflowStep.Decision.RETURNED, workflow__kind__in=REGISTRY_KINDS
    )
    named = {s.return_to for s in SCENARIOS if s.return_to}
    assert named == {"verification", "appraisal"}
    for step in named:
        assert CaseWorkflow.objects.filter(
            state=CaseWorkflow.State.OPEN,
            step=step,
            pk__in=returned_to.values("workflow"),
        ).exists(), step


def test_a_batch_of_each_kind_waits_for_its_reviewers(county, client):
    """批量办理: a 识别 batch at the township's review (one household not passed by the meeting,
    one sent back by an objection to its 公示) and a 退出 batch at the county's 公告, each with
    its meeting minutes, its printable list notice and every household's own record."""
    batches = {batch.kind: batch for batch in CaseBatch.objects.all()}
    assert sorted(batches) == [CaseWorkflow.Kind.EXIT, CaseWorkflow.Kind.IDENTIFICATION]
    identification = batches[CaseWorkflow.Kind.IDENTIFICATION]
    exit_batch = batches[CaseWorkflow.Kind.EXIT]
    assert sorted((case.state, case.step) for case in identification.cases.all()) == [
        ("open", "appraisal"),
        ("open", "township_review"),
        ("open", "township_review"),
        ("withdrawn", "appraisal"),
    ]
    assert (
        sorted((case.state, case.step) for case in exit_batch.cases.all())
        == [("open", "announcement")] * 3
    )
    for batch in (identification, exit_batch):
        assert batch.minutes.name != ""
        assert batch.meeting_date is not None and batch.meeting_date < TODAY
        # Every member's 评议 record carries the batch's meeting and minutes.
        appraisals = WorkflowStep.objects.filter(
            workflow__batch=batch, step="appraisal", decision="done"
        )
        assert {(step.acted_on, step.evidence.name) for step in appraisals} == {
            (batch.meeting_date, batch.minutes.name)
        }
    assert NoticeObjection.objects.filter(notice__workflow__batch=identification).count() == 1
    users = county["users"]
    for user, batch in ((users["township"], identification), (users["county"], exit_batch)):
        client.force_login(user)
        todo = client.get("/households/todo/").content.decode()
        assert f'href="/households/batches/{batch.pk}/"' in todo
        assert client.get(f"/households/batches/{batch.pk}/").status_code == 200
        printed = client.get(f"/households/batches/{batch.pk}/notice/print/")
        assert printed.status_code == 200


CALLS: list[tuple[str, dict, int]] = []


def _first_step(*, result: dict, seed: int) -> None:
    CALLS.append(("first", dict(result), seed))
    result["county"] = "built"


def _second_step(*, result: dict, seed: int) -> None:
    CALLS.append(("second", dict(result), seed))


def test_seed_runs_the_steps_of_the_setting_in_order_on_one_result(settings):
    settings.DEMO_STEPS = [f"{__name__}._first_step", f"{__name__}._second_step"]
    CALLS.clear()
    result = demo.seed(households=12, seed=7, today=TODAY)
    assert CALLS == [
        ("first", {"households": 12, "today": TODAY}, 7),
        ("second", {"households": 12, "today": TODAY, "county": "built"}, 7),
    ]
    assert result == {"households": 12, "today": TODAY, "county": "built"}


def test_the_platform_part_of_the_demo_imports_no_domain_app():
    """The platform composes the demo from dotted paths (`settings.DEMO_STEPS`)."""
    domain_apps = {"households", "assistance", "inspections", "rounds"}
    for path in (Path(demo.__file__), Path(seed_demo.__file__)):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert (path.name, imported & domain_apps) == (path.name, set())


def test_the_demo_province_rolls_up_its_counties(county):
    """issue 16: the demo province holds the demo county and its small neighbours under two
    cities; the province's and each city's figures are the sums of their counties' for both
    years, and the city and province offices sign in to them."""
    from povertyapp.models import Region
    from rounds.models import RollupSnapshot
    from rounds.rollup import SUMMED

    province = Region.objects.get(code=demo.PROVINCE[0])
    counties = Region.objects.filter(path__startswith=province.path, level="county")
    assert counties.count() == 4
    assert Region.objects.filter(parent=province, level="city").count() == 2
    for year in (2025, 2026):
        rows = list(
            RateSnapshot.objects.filter(region__in=counties, round__year=year, level="county")
        )
        assert len(rows) == 4
        top = RollupSnapshot.objects.get(region=province, year=year)
        assert top.counties == top.counties_expected == 4
        for name in SUMMED:
            assert getattr(top, name) == sum(getattr(row, name) for row in rows), name
        assert RollupSnapshot.objects.filter(region__parent=province, year=year).count() == 2
    users = county["users"]
    assert users["city"].region.code == demo.CITY[0]
    assert users["province"].region == province
    printed = "\n".join(demo.describe_users(users))
    assert "市级乡村振兴部门" in printed and "省级乡村振兴部门" in printed
