"""The rates job: snapshots for every region of the county, idempotent, watchable, scheduled.

Runs on SQLite by default and on PostgreSQL with DATABASE_URL set: the expected values are the
same constants, so both runs passing shows the results are identical on the two databases.
"""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from households import quality
from households.models import Household
from povertyapp import jobs
from povertyapp.models import Job
from rounds import rates
from rounds.models import RateSnapshot
from tests.rounds.test_figures import built  # noqa: F401  (the hand-built county)

EXPECTED = {
    # code: (错评, 漏评, 错退, 贫困发生率) as (numerator, denominator)
    "522622000000": ((6, 19), (8, 211), (4, 11), (15, 230)),
    "522622100000": ((6, 15), (5, 135), (2, 9), (8, 150)),
    "522622101000": ((0, 4), (3, 76), (2, 2), (7, 80)),
    "522622100200": ((3, 11), (5, 89), (2, 6), (7, 100)),
    "522622100201": ((3, 4), (0, 46), (0, 3), (1, 50)),
    "522622101200": ((0, 4), (3, 76), (2, 2), (7, 80)),
}


def _table() -> dict[str, tuple]:
    return {
        snapshot.region.code: (
            (snapshot.wrongful_inclusion_numerator, snapshot.wrongful_inclusion_denominator),
            (snapshot.omission_numerator, snapshot.omission_denominator),
            (snapshot.wrongful_exit_numerator, snapshot.wrongful_exit_denominator),
            (snapshot.incidence_numerator, snapshot.incidence_denominator),
        )
        for snapshot in RateSnapshot.objects.select_related("region")
    }


def _comparable() -> list[tuple]:
    return sorted(
        tuple(value for key, value in row.items() if key not in ("id", "computed_at", "source"))
        for row in RateSnapshot.objects.values()
    )


def test_compute_rates_stores_every_region_to_the_person(built):  # noqa: F811
    round, _h = built
    rates.compute_rates(round=round)
    assert _table() == EXPECTED
    county = RateSnapshot.objects.get(region__code="522622000000", round=round)
    assert county.wrongful_inclusion_rate == Decimal("0.31578947")
    assert county.incidence_rate == Decimal("0.06521739")
    assert county.baseline_incidence_numerator == 8
    assert county.list_counts == {
        "identified": {"households": 2, "persons": 8},
        "removed": {"households": 2, "persons": 6},
        "returned": {"households": 2, "persons": 4},
        "exited": {"households": 1, "persons": 2},
    }
    assert county.status_counts["poor"] == {"households": 4, "persons": 11}
    assert county.status_counts["returned"] == {"households": 2, "persons": 4}
    assert county.cause_counts == {"缺技术": {"households": 6, "persons": 15}}
    assert county.source["method"] == "baseline+round-events"
    assert county.source["baseline_households"] == 9


def test_completeness_counts_required_fields_of_households_and_members(built, county):  # noqa: F811
    round, h = built
    rates.compute_rates(round=round)
    village_b = RateSnapshot.objects.get(region=county.village_b, round=round)
    filled, required = village_b.completeness_numerator, village_b.completeness_denominator
    # 3 households × 9 fields (住房面积 and 有无卫生厕所 left empty by the factory) + 29 member
    # fields; the same terms as households.quality.completeness, household by household.
    assert (filled, required) == (50, 56)
    contexts = quality.contexts_for(Household.objects.filter(village=county.village_b))
    python_terms = [quality.completeness(context) for context in contexts]
    assert (sum(f for f, _r in python_terms), sum(r for _f, r in python_terms)) == (50, 56)
    Household.objects.filter(pk=h["b1"].pk).update(fuel_type="", road_type="")
    rates.compute_rates(round=round)
    village_b = RateSnapshot.objects.get(region=county.village_b, round=round)
    assert (village_b.completeness_numerator, village_b.completeness_denominator) == (
        filled - 2,
        required,
    )


def test_rerunning_is_idempotent(built):  # noqa: F811
    round, _h = built
    rates.compute_rates(round=round)
    first = _comparable()
    rates.compute_rates(round=round)
    assert RateSnapshot.objects.count() == 6
    assert _comparable() == first


def test_job_runs_with_progress_and_result_for_the_user(built, cast):  # noqa: F811
    round, _h = built
    job = rates.rates_enqueue(user=cast.county, round=round)
    job = jobs.job_run(job.pk)  # eager mode ran it on commit already; a second delivery is a no-op
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.created_by == cast.county
    assert job.progress == job.total == 6 + 3
    assert job.result["figures"]["omission"] == {
        "numerator": 8,
        "denominator": 211,
        "rate": "0.03791469",
    }


def test_job_for_an_unknown_round_fails_with_a_message(cast):
    job = jobs.job_create(user=cast.county, kind=rates.KIND, parameters={"round": 999})
    job = jobs.job_run(job.pk)
    assert job.status == Job.Status.FAILED
    assert job.error == "动态调整批次不存在。"


def test_township_run_only_replaces_its_subtree(built, county):  # noqa: F811
    round, _h = built
    rates.compute_rates(round=round)
    before = RateSnapshot.objects.get(region=county.county).computed_at
    rates.compute_rates(round=round, region=county.township2)
    assert RateSnapshot.objects.get(region=county.county).computed_at == before
    assert RateSnapshot.objects.count() == 6


def test_command_computes_and_prints_the_county_figures(built):  # noqa: F811
    round, _h = built
    out = StringIO()
    call_command("compute_rates", "--region", "522622000000", "--round", str(round.pk), stdout=out)
    text = out.getvalue()
    assert "已计算 6 个区域的指标快照" in text
    assert "错评率：6 / 19 = 0.31578947" in text
    assert _table() == EXPECTED


def test_command_rejects_an_unknown_region(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("compute_rates", "--region", "999999999999")


def test_nightly_beat_entry_enqueues_open_rounds(built):  # noqa: F811
    entry = settings.CELERY_BEAT_SCHEDULE["compute-rates-open-rounds"]
    assert entry["task"] == "rounds.tasks.compute_open_rounds_task"
    round, _h = built
    created = rates.open_rounds_enqueue()
    assert [job.parameters for job in created] == [{"round": round.pk}]


def _expected_breakdowns(round) -> dict[int, tuple[dict, dict]]:
    """Per village, households and persons by status after the round and, of the poor, by main
    cause, computed household by household in Python (no SQL aggregate), as DOMAIN §8 reads:
    the last status-bearing event of the round wins, its persons are the household's."""
    from households.models import HouseholdEvent
    from rounds.models import RoundBaseline

    events: dict[int, HouseholdEvent] = {}
    for event in HouseholdEvent.objects.filter(round=round).exclude(to_status="").order_by("id"):
        events[event.household_id] = event
    rows = {}
    for baseline in RoundBaseline.objects.filter(round=round):
        rows[baseline.household_id] = (
            baseline.village_id,
            baseline.status,
            baseline.persons,
            baseline.main_cause,
        )
    for household_id in events:
        if household_id not in rows:
            household = Household.objects.get(pk=household_id)
            rows[household_id] = (household.village_id, "", 0, household.main_cause)
    result: dict[int, tuple[dict, dict]] = {}
    for household_id, (village_id, status, persons, cause) in rows.items():
        event = events.get(household_id)
        if event is not None:
            status, persons = event.to_status, event.persons
        statuses, causes = result.setdefault(village_id, ({}, {}))
        slot = statuses.setdefault(status, {"households": 0, "persons": 0})
        slot["households"] += 1
        slot["persons"] += persons
        if status in ("poor", "returned"):
            slot = causes.setdefault(cause or "未填写", {"households": 0, "persons": 0})
            slot["households"] += 1
            slot["persons"] += persons
    return result


def test_breakdowns_match_a_household_by_household_count(built, county):  # noqa: F811
    round, _h = built
    rates.compute_rates(round=round)
    expected = _expected_breakdowns(round)
    villages = RateSnapshot.objects.filter(round=round, level="village")
    assert villages.count() == 3
    for snapshot in villages:
        statuses, causes = expected.get(snapshot.region_id, ({}, {}))
        assert snapshot.status_counts == statuses, snapshot.region.code
        assert snapshot.cause_counts == causes, snapshot.region.code
    # No status or cause is listed with zero households (a5 left 未脱贫 in village A for 已脱贫,
    # c2 left 已脱贫 in village A2 for 剔除).
    for snapshot in RateSnapshot.objects.all():
        for breakdown in (snapshot.status_counts, snapshot.cause_counts):
            assert all(entry["households"] > 0 for entry in breakdown.values())
    assert "exited" not in RateSnapshot.objects.get(region=county.village_a2).status_counts


def test_counts_for_explicit_villages_equal_the_path_prefix(built, county):  # noqa: F811
    from rounds import figures

    round, _h = built
    by_path = figures.round_counts_by_village(round_id=round.pk, path_prefix=county.township1.path)
    ids = figures.village_ids_under(county.township1.path)
    assert sorted(ids) == sorted([county.village_a.pk, county.village_a2.pk])
    assert (
        figures.round_counts_by_village(round_id=round.pk, path_prefix="", village_ids=ids)
        == by_path
    )


def test_a_second_delivery_rewrites_the_same_rows_in_place(built, county, cast):  # noqa: F811
    from households import services
    from households.models import HouseholdEvent

    round, h = built
    rates.compute_rates(round=round)
    ids = dict(RateSnapshot.objects.values_list("region_id", "id"))
    services.household_change_status(
        actor=cast.county,
        household=h["b1"],
        kind=HouseholdEvent.Kind.EXITED,
        to_status=Household.Status.EXITED,
        round=round,
        reason="动态调整",
    )
    rates.compute_rates(round=round)
    rates.compute_rates(round=round)  # delivered twice
    assert dict(RateSnapshot.objects.values_list("region_id", "id")) == ids
    village_b = RateSnapshot.objects.get(region=county.village_b)
    assert village_b.status_counts["exited"] == {"households": 1, "persons": 2}
    assert village_b.status_counts["poor"] == {"households": 1, "persons": 3}  # b3 only
    assert village_b.incidence_numerator == 2 + 3  # b2 返贫 (2) and b3 新识别 (3)


def test_completeness_equals_the_quality_module_in_every_region(built, county):  # noqa: F811
    round, _h = built
    rates.compute_rates(round=round)
    for snapshot in RateSnapshot.objects.select_related("region"):
        households = Household.objects.filter(village__path__startswith=snapshot.region.path)
        terms = [quality.completeness(context) for context in quality.contexts_for(households)]
        assert (snapshot.completeness_numerator, snapshot.completeness_denominator) == (
            sum(filled for filled, _required in terms),
            sum(required for _filled, required in terms),
        ), snapshot.region.code


def test_path_prefixes():
    from povertyapp.models import path_prefixes as ancestor_paths

    assert ancestor_paths("/52/5226/522622/") == ["/52/", "/52/5226/", "/52/5226/522622/"]
    assert ancestor_paths("/") == []


def test_a_household_with_two_changes_counts_in_both_lists_and_ends_in_the_last(
    built,  # noqa: F811
    county,
    cast,
):
    from households import services
    from households.models import HouseholdEvent

    round, h = built
    # a2 (已脱贫, 2 persons) was marked 返贫 in the round; now it is removed as well.
    services.household_change_status(
        actor=cast.county,
        household=h["a2"],
        kind=HouseholdEvent.Kind.REMOVED,
        to_status=Household.Status.REMOVED,
        round=round,
        reason="动态调整",
        ground="购买3万元以上车辆",
    )
    rates.compute_rates(round=round)
    snapshot = RateSnapshot.objects.get(region=county.county)
    assert snapshot.list_counts["returned"] == {"households": 2, "persons": 4}
    assert snapshot.list_counts["removed"] == {"households": 3, "persons": 8}
    assert (snapshot.wrongful_inclusion_numerator, snapshot.wrongful_exit_numerator) == (8, 4)
    assert snapshot.incidence_numerator == 15 - 2
    expected = _expected_breakdowns(round)
    village_a = RateSnapshot.objects.get(region=county.village_a)
    assert (village_a.status_counts, village_a.cause_counts) == expected[county.village_a.pk]


def test_a_group_of_counties_runs_each_job_without_parallel_workers(built, monkeypatch):  # noqa: F811
    """rates_enqueue_group with several counties marks each job ``serial``: its aggregates run
    with max_parallel_workers_per_gather = 0 (the group's worker processes are the
    parallelism); a single county keeps the server's setting."""
    from rounds import figures

    round, _h = built
    seen: list[int | None] = []
    original = figures.aggregate_settings

    def spy(cursor):
        seen.append(figures._parallel_workers.get())
        original(cursor)

    monkeypatch.setattr(figures, "aggregate_settings", spy)
    created = rates.rates_enqueue_group(user=None, rounds=[round, round])
    assert [job.parameters for job in created] == [{"round": round.pk, "serial": True}] * 2
    job = jobs.job_run(created[0].pk)
    assert job.status == Job.Status.SUCCEEDED
    assert seen and set(seen) == {0}
    assert _table() == EXPECTED
    seen.clear()
    (single,) = rates.rates_enqueue_group(user=None, rounds=[round])
    assert single.parameters == {"round": round.pk}
    jobs.job_run(single.pk)
    assert seen and set(seen) == {None}


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="a PostgreSQL setting",
)
def test_serial_statements_turn_off_parallel_workers_for_the_transaction(db):
    from rounds import figures

    query = "SELECT current_setting('max_parallel_workers_per_gather')"
    assert figures._rows(query, [])[0][0] != "0"  # the server's setting (2 here)
    with figures.serial_statements():
        # SET LOCAL: outside a test's enclosing transaction it ends with the statement's own.
        assert figures._rows(query, [])[0][0] == "0"


def _aggregate_threads(monkeypatch, used: list | None = None) -> list[str]:
    """Record the thread each of the job's aggregates runs in: the figures statement and the
    member statements of 信息录入率 (and in ``used`` the connection of the figures statement)."""
    import threading

    from django.db import connections

    from rounds import figures

    seen: list[str] = []
    used = [] if used is None else used
    counts, members = figures.round_counts_by_village, rates._member_terms_by_village

    def counts_spy(**kwargs):
        seen.append(f"figures:{threading.current_thread().name}")
        result = counts(**kwargs)
        used.append(connections["default"])  # this thread's connection
        return result

    def members_spy(*args):
        seen.append(f"members:{threading.current_thread().name}")
        return members(*args)

    monkeypatch.setattr(figures, "round_counts_by_village", counts_spy)
    monkeypatch.setattr(rates, "_member_terms_by_village", members_spy)
    return seen


def test_inside_a_transaction_or_serial_the_aggregates_run_one_after_the_other(
    built,  # noqa: F811
    monkeypatch,
):
    """Another connection would not see the enclosing transaction's rows (here the test's):
    the job then runs both aggregates on its own connection, as in a group (serial)."""
    from rounds import figures

    round, _h = built
    seen = _aggregate_threads(monkeypatch)
    rates.compute_rates(round=round)
    assert sorted(seen) == ["figures:MainThread", "members:MainThread"]
    assert _table() == EXPECTED
    seen.clear()
    with figures.serial_statements():
        assert not rates.concurrent_allowed()
        rates.compute_rates(round=round)
    assert sorted(seen) == ["figures:MainThread", "members:MainThread"]


_postgresql_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="two connections at once: PostgreSQL only",
)


@_postgresql_only
def test_concurrent_aggregates_store_exactly_the_sequential_snapshots(
    transactional_db,
    built,  # noqa: F811
    monkeypatch,
):
    """Committed data (transactional test): the figures statement runs on a second connection
    in a thread while this one computes 信息录入率; the snapshots equal those of the sequential
    run, to the last breakdown (信息录入率 included), and the thread's connection is closed.
    Once the members' sums are kept (households.completeness), no member is read at all."""
    from django.db import connection, connections

    round, _h = built
    assert not connection.in_atomic_block
    used: list = []
    seen = _aggregate_threads(monkeypatch, used)
    with monkeypatch.context() as sequential:
        sequential.setattr(rates, "concurrent_allowed", lambda: False)
        rates.compute_rates(round=round)
    assert sorted(seen) == ["figures:MainThread", "members:MainThread"]
    expected = _comparable()
    assert _table() == EXPECTED
    RateSnapshot.objects.all().delete()
    seen.clear()
    used.clear()
    rates.compute_rates(round=round)
    # No sums kept yet: every member of the county read on this connection.
    assert sorted(seen) == ["figures:rates-aggregate", "members:MainThread"]
    assert _comparable() == expected
    (other,) = used
    assert other is not connections["default"]  # another connection than this thread's
    assert other.connection is None  # the thread closed its connection
    from households import completeness

    completeness.refresh(round.county)
    RateSnapshot.objects.all().delete()
    seen.clear()
    rates.compute_rates(round=round)
    assert seen == ["figures:rates-aggregate"]
    assert _comparable() == expected


@_postgresql_only
def test_an_error_in_the_concurrent_aggregate_fails_the_job(
    transactional_db,
    built,  # noqa: F811
    monkeypatch,
):
    import threading

    from rounds import figures

    round, _h = built
    before = sorted(RateSnapshot.objects.values_list("region_id", "computed_at"))
    raised_in: list[str] = []

    def broken(**kwargs):
        raised_in.append(threading.current_thread().name)
        raise RuntimeError("figures failed")

    monkeypatch.setattr(figures, "round_counts_by_village", broken)
    with pytest.raises(RuntimeError, match="figures failed"):
        rates.compute_rates(round=round)
    assert raised_in == ["rates-aggregate"]
    # Nothing written: the snapshots are those of before (opening the round computed them).
    assert sorted(RateSnapshot.objects.values_list("region_id", "computed_at")) == before
