"""A closed round's figures are final: the run its closing starts stores them, and nothing
(service, job, page, command, group) recomputes them into a different snapshot afterwards."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from povertyapp import jobs
from povertyapp.models import Job, VillageYear
from rounds import rates
from rounds import services as rounds
from rounds.models import AdjustmentRound, RateSnapshot
from tests import factories
from tests.conftest import login

FINAL = "该动态调整批次已关闭，指标已按关闭时的数据定稿，不能重新计算。"


@pytest.fixture
def round(cast, county, household_a, household_b):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    return rounds.round_open(actor=cast.county, county=county.county, year=2020)


@pytest.fixture
def closed(cast, round, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rounds.round_close(actor=cast.county, round=round)
    round.refresh_from_db()
    return round


def _stored(round: AdjustmentRound) -> list[tuple]:
    return list(
        RateSnapshot.objects.filter(round=round)
        .order_by("region_id")
        .values_list("region_id", "computed_at", "completeness_denominator", "omission_numerator")
    )


def test_closing_stores_the_final_figures(cast, county, round, closed):
    assert closed.status == AdjustmentRound.Status.CLOSED
    assert rates.round_figures_final(closed) is True
    county_row = RateSnapshot.objects.get(round=closed, region=county.county)
    assert county_row.computed_at >= closed.closed_at
    assert county_row.completeness_denominator > 0


def test_an_open_round_is_recomputed(cast, round, django_capture_on_commit_callbacks):
    assert rates.round_figures_final(round) is False
    with django_capture_on_commit_callbacks(execute=True):
        job = rates.rates_enqueue(user=cast.county, round=round)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_the_service_refuses_to_recompute_a_closed_round(cast, county, closed):
    before, jobs_before = _stored(closed), Job.objects.count()
    factories.household(actor=cast.county, village=county.village_a)  # the registry moved on
    with pytest.raises(ValidationError) as refused:
        rates.rates_enqueue(user=cast.county, round=closed)
    assert refused.value.messages == [FINAL]
    assert refused.value.error_list[0].code == "round_final"
    with pytest.raises(ValidationError):
        rates.rates_enqueue_group(user=None, rounds=[closed])
    assert (_stored(closed), Job.objects.count()) == (before, jobs_before)


def test_a_job_queued_before_the_closing_run_stored_them_fails_and_changes_nothing(
    cast, county, closed
):
    before = _stored(closed)
    factories.household(actor=cast.county, village=county.village_a)
    job = jobs.job_create(user=cast.county, kind=rates.KIND, parameters={"round": closed.pk})
    job = jobs.job_run(job.pk)
    assert (job.status, job.error) == (Job.Status.FAILED, FINAL)
    assert _stored(closed) == before


def test_the_page_refuses_with_a_message_and_hides_the_button(cast, closed):
    before, jobs_before = _stored(closed), Job.objects.count()
    client = login(cast.county)
    page = client.get(reverse("rounds:detail", args=[closed.pk]))
    assert reverse("rounds:compute", args=[closed.pk]) not in page.content.decode()
    response = client.post(reverse("rounds:compute", args=[closed.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("rounds:detail", args=[closed.pk])
    assert [str(message) for message in get_messages(response.wsgi_request)] == [FINAL]
    assert (_stored(closed), Job.objects.count()) == (before, jobs_before)


def test_the_page_offers_the_recompute_while_the_round_is_open(cast, round):
    page = login(cast.county).get(reverse("rounds:detail", args=[round.pk]))
    assert reverse("rounds:compute", args=[round.pk]) in page.content.decode()


def test_the_command_refuses(cast, county, closed):
    before, jobs_before = _stored(closed), Job.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("compute_rates", "--region", county.county.code, "--round", str(closed.pk))
    assert str(refused.value) == FINAL
    assert (_stored(closed), Job.objects.count()) == (before, jobs_before)


def test_a_closed_round_whose_closing_run_failed_may_still_be_computed(
    cast, round, django_capture_on_commit_callbacks
):
    """No final figures were stored (the closing's run failed): the next run stores them."""
    rounds.round_close(actor=cast.county, round=round)  # its run is never executed here
    round.refresh_from_db()
    assert rates.round_figures_final(round) is False
    with django_capture_on_commit_callbacks(execute=True):
        job = rates.rates_enqueue(user=cast.county, round=round)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    round.refresh_from_db()
    assert rates.round_figures_final(round) is True
