"""A registry job: recount the households and persons of a region subtree (重新统计户数和人数).

A small, real piece of long work (one query per village, progress per village) that the county
office can start to check the registry's totals, and that CI sends through a real Celery worker.
The figures are stored in the job's `result`:

    {"region": code, "villages": n, "households": n, "persons": n,
     "by_status": {status: households}, "persons_by_status": {status: persons}}

Persons are the active members (在户) of the households; every status is counted, 剔除 included,
so the totals add up to the whole registry of the region.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household
from povertyapp import jobs, roles
from povertyapp.models import Job, Region

KIND = "region_counts"


@jobs.register(KIND, gettext_lazy("重新统计户数和人数"), may_start=roles.can_run_checks)
def region_counts(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    region = job.region
    if region is None:
        raise jobs.JobFailed(_("请选择要统计的区划。"))
    if region.level == Region.Level.GROUP:
        raise jobs.JobFailed(_("村民小组不能单独统计，请选择行政村或以上区划。"))
    villages = list(
        Region.objects.filter(path__startswith=region.path, level=Region.Level.VILLAGE)
        .order_by("code")
        .values_list("pk", flat=True)
    )
    progress.set_total(len(villages))
    by_status = {status.value: 0 for status in Household.Status}
    persons_by_status = {status.value: 0 for status in Household.Status}
    for village_id in villages:
        rows = (
            Household.objects.filter(village_id=village_id)
            .values("status")
            .annotate(
                households=Count("pk", distinct=True),
                persons=Count("members", filter=Q(members__is_active=True)),
            )
        )
        for row in rows:
            by_status[row["status"]] += row["households"]
            persons_by_status[row["status"]] += row["persons"]
        progress.advance()
    return {
        "region": region.code,
        "villages": len(villages),
        "households": sum(by_status.values()),
        "persons": sum(persons_by_status.values()),
        "by_status": by_status,
        "persons_by_status": persons_by_status,
    }
