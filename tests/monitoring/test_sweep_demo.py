"""The demo's sweeps on the demo seed: last year's finished (every household visited or
skipped with a reason, each finding a clue), this year's open and partly done."""

from __future__ import annotations

import random

from monitoring import demo_sweeps
from monitoring.models import Clue, Sweep, SweepHousehold
from povertyapp import demo


def test_the_demo_sweeps_build_on_the_demo_seed(db):
    result = demo.seed(households=20, seed=1)
    county = result["county"].county
    today = result["today"]
    demo_sweeps.build(county=county, users=result["users"], rng=random.Random(1), today=today)
    finished = Sweep.objects.get(county=county, year=today.year - 1)
    current = Sweep.objects.get(county=county, year=today.year)
    assert (finished.state, current.state) == ("closed", "open")
    done = SweepHousehold.objects.filter(sweep=finished)
    assert done.count() > 0
    assert done.filter(state="pending").count() == 0
    assert done.filter(state="skipped", skip_reason="").count() == 0
    findings = done.filter(risk_found=True)
    assert findings.count() >= 1
    assert findings.filter(clue__isnull=True).count() == 0
    # The sweep's findings became cadre-check clues (the clue part seeds others of its own).
    swept = Clue.objects.filter(channel="cadre_check", pk__in=findings.values("clue"))
    assert swept.count() == findings.count()
    cadre_checks = Clue.objects.filter(channel="cadre_check").count()
    assert finished.teams.count() >= 1
    states = set(SweepHousehold.objects.filter(sweep=current).values_list("state", flat=True))
    assert "pending" in states and len(states) >= 2
    # Idempotent: a second run adds nothing.
    demo_sweeps.build(county=county, users=result["users"], rng=random.Random(2), today=today)
    assert Sweep.objects.filter(county=county).count() == 2
    assert Clue.objects.filter(channel="cadre_check").count() == cadre_checks
