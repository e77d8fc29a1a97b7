"""The demo county's monitoring (issue 15), a step of `settings.DEMO_STEPS` after the registry,
the rounds and assistance: each part seeds itself through its own services, in this order —
the clues of every channel (some overdue, some unmatched, some duplicates), the lines and
monitoring objects (with identifications and eliminations, one refused), the departments'
lists (a 医保 push, a scrutiny list and 民政's 身份共享 list), then a finished sweep of last
year and an open one of this year."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from monitoring import demo_clues, demo_identities, demo_lists, demo_objects, demo_sweeps


# Named apart from the other apps' `step`s: the job-start walk (tests/povertyapp/
# test_job_starts.py) follows calls by name, and a `step` calling `build` would make every
# procedure's `.step(...)` look like it reaches a round's rates job.
@transaction.atomic
def seed_monitoring(*, result: dict[str, Any], seed: int) -> None:
    county = result["county"].county
    users = result.get("users") or {}
    today = result.get("today") or timezone.localdate()
    rng = random.Random(seed * 11 + 15)
    # The clues first: their part seeds only a county that has none yet.
    demo_clues.build(county=county, users=users, rng=rng, today=today)
    demo_objects.build(county=county, users=users, rng=rng, today=today)
    demo_lists.build(county=county, users=users, rng=rng, today=today)
    # Its own draw: the sweeps after it keep the households they had before it was added.
    demo_identities.build(county=county, users=users, rng=random.Random(seed * 13 + 7), today=today)
    demo_sweeps.build(county=county, users=users, rng=rng, today=today)
