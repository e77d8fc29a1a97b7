"""Demo step: last year signed off at every level and locked; this year open.

Runs after the figures step (`settings.DEMO_STEPS`), when last year's round is closed and its
figures final. It writes the sign-offs directly (the seeder may): every village submitted by
its cadre on 10 January, every township signed on 15 January, the county on 20 January, each
with its event row; the county's figures frozen from last year's round; the year locked.
Idempotent: nothing to do when the county's sign-off of last year exists.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from households import services as household_services
from households.models import HouseholdEvent
from povertyapp import yearlock
from povertyapp.models import Region, User
from rounds.models import AdjustmentRound
from years import signoff
from years.models import SignOff, SignOffEvent

EXPLANATION = "问题数据已逐条核实，余下为户籍信息待派出所确认，不影响年度数据。"


def _at(year: int, month: int, day: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 10, 0))


def step(*, result: dict[str, Any], seed: int) -> None:
    county: Region = result["county"].county
    users: dict[str, User] = result["users"]
    today = result.get("today") or timezone.localdate()
    year = today.year - 1
    if SignOff.objects.filter(region=county, year=year).exists():
        return
    round = signoff.year_round(county=county, year=year)
    regions = list(Region.objects.filter(path__startswith=county.path).order_by("code"))
    townships = [r for r in regions if r.level == Region.Level.TOWNSHIP]
    villages = [r for r in regions if r.level == Region.Level.VILLAGE]
    # The demo has one cadre and one reviewer login; the others act as if they were theirs.
    steps = [
        (
            villages,
            SignOff.Level.VILLAGE,
            SignOff.State.SUBMITTED,
            users["cadre"],
            _at(year + 1, 1, 10),
        ),
        (
            townships,
            SignOff.Level.TOWNSHIP,
            SignOff.State.SIGNED,
            users["township"],
            _at(year + 1, 1, 15),
        ),
        (
            [county],
            SignOff.Level.COUNTY,
            SignOff.State.SIGNED,
            users["county"],
            _at(year + 1, 1, 20),
        ),
    ]
    with transaction.atomic():
        for level_regions, level, state, actor, at in steps:
            rows = SignOff.objects.bulk_create(
                SignOff(
                    region=region,
                    year=year,
                    level=level,
                    state=state,
                    acted_by=actor,
                    acted_at=at,
                    explanation=EXPLANATION if level == SignOff.Level.COUNTY else "",
                    figures=signoff.frozen_figures(round)
                    if level == SignOff.Level.COUNTY and round is not None
                    else [],
                )
                for region in level_regions
            )
            SignOffEvent.objects.bulk_create(
                SignOffEvent(
                    sign_off=row,
                    action=SignOffEvent.Action.SUBMIT
                    if level == SignOff.Level.VILLAGE
                    else SignOffEvent.Action.SIGN,
                    from_state=SignOff.State.PENDING,
                    to_state=state,
                    actor=actor,
                    at=at,
                    reason=row.explanation,
                )
                for row in rows
            )
        lock = yearlock.lock(county=county, year=year, actor=users["county"])
        lock.locked_at = _at(year + 1, 1, 20)
        lock.save(update_fields=["locked_at"])
    _edit_after_approval(users["cadre"], round)


def _edit_after_approval(cadre: User, round: AdjustmentRound | None) -> None:
    """The cadre corrects the phone number of a household whose status last year's round
    decided: the edit the township finds on its review list (审定后修改)."""
    if round is None or cadre.region is None:
        return
    event = (
        HouseholdEvent.objects.filter(round=round, household__village=cadre.region)
        .exclude(to_status="")
        .select_related("household")
        .order_by("pk")
        .first()
    )
    if event is None:
        return
    household = event.household
    # Refused while the village's data awaits this year's county decision: no edit then.
    with contextlib.suppress(ValidationError):
        household_services.household_update(
            actor=cadre,
            household=household,
            data={"phone": "13800001234"},
            expected_version=household.version,
        )
