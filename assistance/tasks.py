"""The policy-coverage job (优惠政策落实防漏表), one per region, and its nightly schedule.

`coverage_compute` is the plain function (tests call it directly); it is registered as the job
kind `assistance.coverage`, so a user starts it from the coverage page and watches it, and
the nightly task enqueues one job per county.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistance import matching
from assistance.models import CoverageGap, CoverageRun, CoverageTally
from households.models import Household
from povertyapp import jobs, roles
from povertyapp.models import Job, Region

COVERAGE_JOB = "assistance.coverage"
KEEP_RUNS = 3


def coverage_compute(*, region: Region, job: Job | None = None) -> CoverageRun:
    """Evaluate every active rule over every covered household and member of the region's
    subtree, store the gaps with the time they were computed, and drop runs older than the
    last KEEP_RUNS of the region."""
    on = timezone.localdate()
    rules = matching.rules_for(on.year)
    households = Household.objects.filter(village__path__startswith=region.path)
    with transaction.atomic():
        run = CoverageRun.objects.create(
            region=region,
            job=job,
            computed_at=timezone.now(),
            reference_date=on,
            rules=[{"id": r.pk, "code": r.code, "label": r.label} for r in rules],
        )
        matching.coverage_insert(run_id=run.pk, households=households, rules=rules, on=on)
        covered = matching.covered_households(households)
        tallies = [
            CoverageTally(
                run=run,
                village_id=row["village"],
                households=row["households"],
                members=row["living"],
            )
            for row in covered.order_by()
            .values("village")
            .annotate(households=Count("pk", distinct=True), living=_count_members())
        ]
        CoverageTally.objects.bulk_create(tallies, batch_size=2000)
        run.households = sum(tally.households for tally in tallies)
        run.members = sum(tally.members for tally in tallies)
        run.missing = CoverageGap.objects.filter(run=run, kind=CoverageGap.Kind.MISSING).count()
        run.wrongful = CoverageGap.objects.filter(run=run, kind=CoverageGap.Kind.WRONGFUL).count()
        run.computed_at = timezone.now()
        run.save(update_fields=["households", "members", "missing", "wrongful", "computed_at"])
    old = CoverageRun.objects.filter(region=region).order_by("-computed_at")[KEEP_RUNS:]
    for stale in list(old):
        stale.gaps.all()._raw_delete(stale.gaps.db)
        stale.delete()
    return run


def _count_members() -> Any:
    return Count(
        "members", filter=Q(members__is_active=True, members__living_status=matching.LIVING)
    )


@jobs.register(COVERAGE_JOB, _("优惠政策落实防漏核查"), may_start=roles.can_run_checks)
def coverage_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    if job.region is None:
        raise jobs.JobFailed(_("未指定核查区域。"))
    progress.set_total(1)
    run = coverage_compute(region=job.region, job=job)
    progress.advance(1, message=str(_("核查完成")))
    return {
        "run": run.pk,
        "households": run.households,
        "members": run.members,
        "missing": run.missing,
        "wrongful": run.wrongful,
        "computed_at": run.computed_at.isoformat(),
    }


@shared_task(acks_late=True, soft_time_limit=270, time_limit=300)
def enqueue_coverage_jobs_task() -> int:
    """Nightly: one coverage job per county (each a Job row the county office can watch), at
    most one a night per county (`jobs.job_enqueue_nightly`)."""
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    return len(jobs.job_enqueue_nightly(kind=COVERAGE_JOB, regions=counties))
