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
from povertyapp import jobs, rates
from povertyapp.models import Job, RateSnapshot
from tests.povertyapp.test_figures import built  # noqa: F401  (the hand-built county)

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
    assert entry["task"] == "povertyapp.tasks.compute_open_rounds_task"
    round, _h = built
    created = rates.open_rounds_enqueue()
    assert [job.parameters for job in created] == [{"round": round.pk}]
