"""The dated history of the figures (`FigureHistory`): written beside every snapshot the rates
job and the roll-up store, read by the work desk ("the figures that changed since last week"),
pruned nightly after `settings.FIGURE_HISTORY_WEEKS`.

A snapshot is one row per region and round (or region and year for a roll-up), replaced when
recomputed, so on its own it has no "before"; the history keeps one row per region, year and
day (the day's last computation wins), so today's figures can be compared with those of a
week ago whatever the number of recomputations in between."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from povertyapp.models import Region
from rounds.models import FigureHistory

RATES = ("wrongful_inclusion_rate", "omission_rate", "wrongful_exit_rate", "incidence_rate")
# "Since last week": today's figures against the newest ones dated this many days back or more.
CHANGED_SINCE_DAYS = 7


def history_record(
    rows: Iterable[dict[str, Any]], *, year: int, computed_at: datetime.datetime
) -> None:
    """Insert or replace the day's row of each region (``rows``: ``region_id`` and the rates),
    in one upsert per 500 rows. Called inside the transaction that stores the snapshots."""
    day = timezone.localdate(computed_at)
    FigureHistory.objects.bulk_create(
        [
            FigureHistory(
                region_id=row["region_id"],
                year=year,
                day=day,
                computed_at=computed_at,
                **{rate: row[rate] for rate in RATES},
            )
            for row in rows
        ],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["region", "year", "day"],
        update_fields=[*RATES, "computed_at"],
    )


def history_changes(
    region: Region, *, today: datetime.date | None = None
) -> tuple[FigureHistory | None, FigureHistory | None]:
    """(before, after): the region's newest figures (of its newest year) and the newest ones of
    the same year dated `CHANGED_SINCE_DAYS` or more before today; (None, None) when either is
    missing or they are the same row. Two indexed statements."""
    today = today or timezone.localdate()
    after = FigureHistory.objects.filter(region=region).order_by("-year", "-day").first()
    if after is None:
        return None, None
    before = (
        FigureHistory.objects.filter(
            region=region,
            year=after.year,
            day__lte=today - datetime.timedelta(days=CHANGED_SINCE_DAYS),
        )
        .order_by("-day")
        .first()
    )
    if before is None or before.pk == after.pk:
        return None, None
    return before, after


def rate_changes(
    before: FigureHistory, after: FigureHistory
) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """(figure key, before, after) of each rate that differs."""
    changes = []
    for rate in RATES:
        old, new = getattr(before, rate), getattr(after, rate)
        if old != new:
            changes.append((rate.removesuffix("_rate"), old, new))
    return changes


def history_prune(*, today: datetime.date | None = None) -> int:
    """Delete the rows dated more than `FIGURE_HISTORY_WEEKS` weeks before today; returns how
    many. The newest row of each region and year is older only when nothing was computed
    since, and then the desk has nothing to compare anyway."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(weeks=settings.FIGURE_HISTORY_WEEKS)
    deleted, _per_model = FigureHistory.objects.filter(day__lt=cutoff).delete()
    return deleted
