"""Benchmark: draw an assessment sample and compute the campaign figures on a county of N
households (default 100,000), against reading the sampled rows alone, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sampling \
        .venv/bin/python bench/sampling.py --households 100000

The first run migrates the database and builds the county with `households.demo` (a few
minutes); later runs reuse it. Each repetition:

  1. draw     `inspections.services.campaign_draw` (frame: townships, village classes, the
              households of the drawn villages only, and the persons-by-status aggregate over
              the whole county that 综合贫困发生率 needs), stored;
  2. (setup)  every sampled household gets a confirmed 正常 finding (bulk insert, not timed);
  3. figures  `inspections.figures.campaign_figures` + `exit_board` (rates, 95 % intervals,
              the four vetoes, for the county and every drawn township and village);
  4. baseline reading the sampled households' rows with their person counts and findings,
              nothing else (one query): the floor any computation over the sample pays;
              also timed: one hand-written SQL of persons by status over the whole county,
              which the draw must read for 综合贫困发生率 (it dominates the draw);

then deletes the campaign. The best of `--repeat` runs of each is reported with the ratio
(draw + figures) / baseline.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from households import demo  # noqa: E402
from households.models import Household  # noqa: E402
from inspections import figures, services  # noqa: E402
from inspections.models import Campaign, Finding, SampleHousehold  # noqa: E402


def _findings(campaign: Campaign, auditor) -> None:
    Finding.objects.bulk_create(
        Finding(
            sample=sample,
            result="正常",
            approval="认可",
            status=Finding.Status.CONFIRMED,
            food_secure=True,
            clothing_secure=True,
            education_secure=True,
            medical_secure=True,
            housing_secure=True,
            water_secure=True,
            recorded_by=auditor,
            confirmed_by=auditor,
        )
        for sample in SampleHousehold.objects.filter(campaign=campaign)
    )


def _baseline(campaign: Campaign) -> int:
    ids = list(
        SampleHousehold.objects.filter(campaign=campaign).values_list("household_id", flat=True)
    )
    rows = list(
        Household.objects.filter(pk__in=ids)
        .order_by()
        .annotate(persons=Count("members", filter=Q(members__is_active=True)))
        .values_list(
            "id",
            "village_id",
            "status",
            "planned_exit_year",
            "persons",
            "samples__finding__result",
            "samples__finding__approval",
        )
    )
    return len(rows)


FRAME_SQL = """
SELECT h.village_id, h.status, COUNT(*)
FROM households_member m JOIN households_household h ON h.id = m.household_id
JOIN povertyapp_region v ON v.id = h.village_id
WHERE m.is_active AND v.path LIKE %s
GROUP BY h.village_id, h.status
"""


def _frame_sql(county_path: str) -> int:
    """The county-wide persons-by-status aggregate the frame needs, hand-written."""
    with connection.cursor() as cursor:
        cursor.execute(FRAME_SQL, [county_path + "%"])
        return len(cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    result = demo.build_registry(households=args.households, seed=args.seed)
    county = result["county"].county
    officer, auditor = result["users"]["county"], result["users"]["auditor"]
    households = Household.objects.filter(village__path__startswith=county.path).count()
    print(f"county ready: {households} households ({time.perf_counter() - started:.1f} s)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    draws, computes, baselines, frames = [], [], [], []
    sampled = 0
    for repetition in range(args.repeat):
        campaign = services.campaign_create(
            actor=officer,
            county=county,
            name=f"bench {repetition}",
            kind="third_party",
            year=2019,
            visit_date=datetime.date(2020, 7, 1),
            end_date=datetime.date(2020, 7, 5),
            assessors=[auditor],
        )
        t0 = time.perf_counter()
        campaign = services.campaign_draw(
            actor=officer, campaign=campaign, seed=args.seed + repetition
        )
        draws.append(time.perf_counter() - t0)
        _findings(campaign, auditor)
        t0 = time.perf_counter()
        result_figures = figures.campaign_figures(campaign)
        board = figures.exit_board(campaign, result_figures["county"])
        computes.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sampled = _baseline(campaign)
        baselines.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _frame_sql(county.path)
        frames.append(time.perf_counter() - t0)
        assert result_figures["rows"] == sampled, (result_figures["rows"], sampled)
        assert len(board["vetoes"]) == 4
        with transaction.atomic():
            campaign.events.all().delete()
            campaign.delete()
    draw, compute, baseline, frame = min(draws), min(computes), min(baselines), min(frames)
    print(f"sample: {sampled} households in 9 villages")
    print(f"draw (stored):            {draw:.3f} s")
    print(f"figures + exit board:     {compute:.3f} s")
    print(f"draw + figures:           {draw + compute:.3f} s")
    print(f"baseline (read sample):   {baseline:.4f} s")
    print(f"ratio (draw+figures)/baseline: {(draw + compute) / baseline:.1f}x")
    print(f"ratio figures/baseline:        {compute / baseline:.1f}x")
    print(f"hand-written county persons-by-status SQL (what the draw's frame needs): {frame:.3f} s")
    print(f"ratio draw/(baseline + that SQL): {draw / (baseline + frame):.1f}x")


if __name__ == "__main__":
    main()
