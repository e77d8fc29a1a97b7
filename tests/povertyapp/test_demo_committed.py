"""`make demo`'s own command, in committed transactions: every job the seed enqueues runs on
commit. Apart from test_demo.py, whose tests share one seeded transaction."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from households.models import Household
from povertyapp import demo
from povertyapp.models import Job
from rounds import rates
from rounds.models import AdjustmentRound


@pytest.mark.django_db(transaction=True)
def test_seed_demo_runs_as_make_demo_runs_it_with_every_job_committed():
    """`make demo` runs the command in its own committed transactions, so every job the seed
    enqueues runs on commit (eager Celery), in between the seed's steps. test_demo.py's tests
    run inside one transaction where no on_commit fires; this one does not, so a step that a
    committed job changes under the seed (the closed round's final figures) is caught here."""
    out = io.StringIO()
    call_command("seed_demo", households=200, seed=7, stdout=out)
    assert "演示县已建立" in out.getvalue()
    closed = AdjustmentRound.objects.get(
        status=AdjustmentRound.Status.CLOSED, county__code=demo.COUNTY[0]
    )
    assert rates.round_figures_final(closed)
    assert Job.objects.filter(status=Job.Status.FAILED).count() == 0
    households = Household.objects.count()
    again = io.StringIO()
    call_command("seed_demo", households=200, seed=7, stdout=again)
    assert "演示县已存在" in again.getvalue()
    assert Household.objects.count() == households
