"""What the fault drills do inside the app, as a script run with the drill's environment:

python -m tests.povertyapp.drill_manage setup       # the county, its villages, `county`
python -m tests.povertyapp.drill_manage enqueue     # a drill_slow job; prints its id
python -m tests.povertyapp.drill_manage sweep       # jobs.job_sweep(); prints the report
"""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
django.setup()

from django.db import transaction  # noqa: E402  (after django.setup())

from povertyapp import jobs  # noqa: E402
from povertyapp.models import Region, User  # noqa: E402
from tests import factories  # noqa: E402
from tests.povertyapp import drill_jobs  # noqa: E402  (registers the drill's job kind)


def setup() -> None:
    province = factories.region("520000000000", "贵州省", Region.Level.PROVINCE)
    city = factories.region("522600000000", "黔东南苗族侗族自治州", Region.Level.CITY, province)
    county = factories.region("522622000000", "黄平县", Region.Level.COUNTY, city)
    township = factories.region("522622100000", "新州镇", Region.Level.TOWNSHIP, county)
    factories.region("522622100200", "凤场村", Region.Level.VILLAGE, township)
    if not User.objects.filter(username="county").exists():
        factories.user("county", User.Role.COUNTY_OFFICER, county)
    print(county.code)


def enqueue() -> None:
    with transaction.atomic():
        job = jobs.job_enqueue(user=None, kind=drill_jobs.SLOW_KIND)
    print(job.pk)


def sweep() -> None:
    report = jobs.job_sweep()
    print(
        json.dumps(
            {"dispatched": report.dispatched, "retried": report.retried, "failed": report.failed}
        )
    )


if __name__ == "__main__":
    {"setup": setup, "enqueue": enqueue, "sweep": sweep}[sys.argv[1]]()
