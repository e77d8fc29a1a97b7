"""Benchmark: the policy-coverage job over a county of N households (default 100,000) on
PostgreSQL, against one hand-written SQL query that counts the same gaps, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_coverage \
        .venv/bin/python bench/coverage.py --households 100000

The first run builds the county with `households.demo` (households, members, pairings...) and
`assistance.demo` (measures matched by the rules, some deliberately missing) — a few minutes;
later runs reuse it. Both sides are timed `--repeat` times; the best of each is compared. The
job's per-rule counts must equal the hand-written query's, or the benchmark fails.
The hand-written query encodes the default rules of migration 0004 (DOMAIN §6).
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

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from assistance import demo as assistance_demo  # noqa: E402
from assistance.models import CoverageGap, CoverageRun, Measure  # noqa: E402
from assistance.tasks import coverage_compute  # noqa: E402
from households import demo  # noqa: E402
from households.models import Household  # noqa: E402
from households.standards import years_before  # noqa: E402

STUDENT = (
    "学前教育",
    "小学",
    "七年级",
    "八年级",
    "九年级",
    "高中一年级",
    "高中二年级",
    "高中三年级",
    "中职一年级",
    "中职二年级",
    "中职三年级",
    "高职一年级",
    "高职二年级",
    "高职三年级",
    "大专及以上",
)

# One pass over households and one over members, each rule a FILTER over pre-aggregated
# measure categories (arrays) and member facts. Written by hand for PostgreSQL.
BASELINE_SQL = """
WITH hh AS (
  SELECT h.id, h.main_cause, h.other_cause_1, h.other_cause_2, h.house_grade,
         h.house_renovated, h.relocated, h.water_safe, h.water_difficult, h.poverty_attribute
  FROM households_household h JOIN povertyapp_region v ON v.id = h.village_id
  WHERE v.path LIKE %(path)s AND h.status IN ('poor', 'returned', 'exited')
    AND h.exit_policy <> '不再享受政策'
), mem AS (
  SELECT m.id, m.household_id, m.health, m.school_status, m.birth_date, m.labour_skill,
         m.has_medical_insurance, m.has_critical_illness_insurance, m.has_pension_insurance,
         m.disability_certificate, m.receives_dibao, m.is_tekun
  FROM households_member m JOIN hh ON hh.id = m.household_id
  WHERE m.is_active AND m.living_status = '正常'
), hcat AS (
  SELECT household_id, array_agg(DISTINCT category) AS cats FROM assistance_measure
  WHERE status <> 'cancelled' GROUP BY household_id
), mcat AS (
  SELECT member_id, array_agg(DISTINCT category) AS cats FROM assistance_measure
  WHERE status <> 'cancelled' AND member_id IS NOT NULL GROUP BY member_id
), facts AS (
  SELECT household_id,
         bool_or(labour_skill IN ('普通劳动力', '技能劳动力')) AS any_worker,
         bool_or(labour_skill IN ('普通劳动力', '技能劳动力')
                 AND birth_date <= %(age16)s AND birth_date > %(age61)s) AS working_age_worker,
         bool_or(receives_dibao) AS any_dibao, bool_or(is_tekun) AS any_tekun
  FROM mem GROUP BY household_id
), h AS (
  SELECT hh.*, COALESCE(hcat.cats, '{}') AS cats, COALESCE(f.any_worker, false) AS any_worker,
         COALESCE(f.working_age_worker, false) AS working_age_worker,
         COALESCE(f.any_dibao, false) AS any_dibao, COALESCE(f.any_tekun, false) AS any_tekun,
         ARRAY[hh.main_cause, hh.other_cause_1, hh.other_cause_2] AS causes
  FROM hh LEFT JOIN hcat ON hcat.household_id = hh.id LEFT JOIN facts f ON f.household_id = hh.id
), m AS (
  SELECT mem.*, COALESCE(mcat.cats, '{}') AS cats FROM mem
  LEFT JOIN mcat ON mcat.member_id = mem.id
), household_counts AS (
  SELECT
    count(*) FILTER (WHERE '因病' = ANY(causes) AND NOT cats && '{健康帮扶}') AS "cause-illness",
    count(*) FILTER (WHERE '因学' = ANY(causes) AND NOT cats && '{教育帮扶}') AS "cause-school",
    count(*) FILTER (WHERE '因残' = ANY(causes) AND NOT cats && '{残疾人帮扶}')
      AS "cause-disability",
    count(*) FILTER (WHERE causes && '{缺技术,缺劳力}' AND working_age_worker
                     AND NOT cats && '{就业帮扶,技能培训,公益岗位}') AS "cause-labour",
    count(*) FILTER (WHERE '缺资金' = ANY(causes) AND NOT cats && '{金融帮扶}') AS "cause-capital",
    count(*) FILTER (WHERE house_grade IN ('C', 'D') AND NOT (cats && '{危房改造,易地扶贫搬迁}'
                     OR house_renovated OR relocated)) AS "house-unsafe",
    count(*) FILTER (WHERE house_grade NOT IN ('C', 'D') AND cats && '{危房改造,易地扶贫搬迁}')
      AS "house-unsafe/wrongful",
    count(*) FILTER (WHERE (water_safe = false OR water_difficult = true)
                     AND NOT cats && '{饮水安全}') AS "water-unsafe",
    count(*) FILTER (WHERE NOT any_worker AND NOT (cats && '{兜底保障,资产收益}' OR any_dibao
                     OR any_tekun)) AS "no-labour",
    count(*) FILTER (WHERE '因灾' = ANY(causes) AND NOT cats && '{产业帮扶,危房改造,社会帮扶}')
      AS "cause-disaster",
    count(*) FILTER (WHERE '缺土地' = ANY(causes) AND NOT cats && '{产业帮扶,就业帮扶,资产收益}')
      AS "cause-land",
    count(*) FILTER (WHERE '缺水' = ANY(causes) AND NOT cats && '{饮水安全}') AS "cause-water",
    count(*) FILTER (WHERE '交通条件落后' = ANY(causes) AND NOT cats && '{基础设施}')
      AS "cause-transport",
    count(*) FILTER (WHERE '自身发展动力不足' = ANY(causes)
                     AND NOT cats && '{产业帮扶,就业帮扶,技能培训,公益岗位}') AS "cause-motivation",
    count(*) FILTER (WHERE poverty_attribute = '低保贫困户' AND NOT any_dibao)
      AS "attribute-dibao",
    count(*) FILTER (WHERE poverty_attribute <> '低保贫困户' AND any_dibao)
      AS "attribute-dibao/wrongful",
    count(*) FILTER (WHERE poverty_attribute = '特困供养贫困户' AND NOT any_tekun)
      AS "attribute-tekun",
    count(*) FILTER (WHERE poverty_attribute <> '特困供养贫困户' AND any_tekun)
      AS "attribute-tekun/wrongful"
  FROM h
), member_counts AS (
  SELECT
    count(*) FILTER (WHERE (health LIKE '%%长期慢性病%%' OR health LIKE '%%患有大病%%')
                     AND NOT cats && '{健康帮扶}') AS "member-illness",
    count(*) FILTER (WHERE school_status IN %(student)s AND NOT cats && '{教育帮扶}')
      AS "member-student",
    count(*) FILTER (WHERE school_status NOT IN %(student)s AND cats && '{教育帮扶}')
      AS "member-student/wrongful",
    count(*) FILTER (WHERE health LIKE '%%残疾%%' AND NOT cats && '{残疾人帮扶}')
      AS "member-disability-subsidy",
    count(*) FILTER (WHERE health NOT LIKE '%%残疾%%' AND cats && '{残疾人帮扶}')
      AS "member-disability-subsidy/wrongful",
    count(*) FILTER (WHERE health LIKE '%%残疾%%' AND disability_certificate = '')
      AS "member-disability-certificate",
    count(*) FILTER (WHERE NOT has_medical_insurance) AS "member-medical",
    count(*) FILTER (WHERE NOT has_critical_illness_insurance) AS "member-critical",
    count(*) FILTER (WHERE birth_date <= %(age16)s AND school_status IN ('', '非在校生')
                     AND NOT has_pension_insurance) AS "member-pension"
  FROM m
)
SELECT * FROM household_counts, member_counts
"""


def baseline(path: str, on: datetime.date) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            BASELINE_SQL,
            {
                "path": path + "%",
                "age16": years_before(on, 16),
                "age61": years_before(on, 61),
                "student": STUDENT,
            },
        )
        names = [column.name for column in cursor.description]
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def job_counts(run: CoverageRun) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code, kind, n in (
        CoverageGap.objects.filter(run=run)
        .values_list("rule__code", "kind")
        .annotate(n=Count("pk"))
    ):
        counts[code if kind == "missing" else f"{code}/wrongful"] = n
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit(
            "Run on PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_coverage"
        )
    started = time.perf_counter()
    result = demo.build_registry(households=args.households, seed=args.seed)
    county = result["county"].county
    households = Household.objects.filter(village__path__startswith=county.path).count()
    if not Measure.objects.exists():
        created = assistance_demo.populate(county=county, seed=args.seed)
        print(f"assistance demo data: {created}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"county ready: {households} households ({time.perf_counter() - started:.1f} s)")
    on = timezone.localdate()
    job_times, sql_times = [], []
    expected: dict[str, int] = {}
    run = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run = coverage_compute(region=county)
        job_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        expected = baseline(county.path, on)
        sql_times.append(time.perf_counter() - t0)
    assert run is not None
    got = job_counts(run)
    expected = {key: value for key, value in expected.items() if value}
    if got != expected:
        for key in sorted(set(got) | set(expected)):
            if got.get(key) != expected.get(key):
                print(f"  MISMATCH {key}: job {got.get(key)} vs SQL {expected.get(key)}")
        sys.exit("the job and the hand-written query disagree")
    job, sql = min(job_times), min(sql_times)
    print(
        f"households covered: {run.households}, members: {run.members}, "
        f"missing: {run.missing}, wrongful: {run.wrongful} (counts identical on both sides)"
    )
    print(
        f"coverage job (evaluate rules + store {run.missing + run.wrongful} gap rows): "
        f"best {job:.2f} s of {[round(t, 2) for t in job_times]}"
    )
    print(f"hand-written SQL count:  best {sql:.2f} s of {[round(t, 2) for t in sql_times]}")
    print(f"ratio job / SQL: {job / sql:.2f}x (goal <= 2x)")


if __name__ == "__main__":
    main()
