"""The job page names the job in the user's language, and shows only the user's own jobs."""

from __future__ import annotations

import pytest
from django.utils import timezone

from povertyapp import jobs
from rounds.models import AdjustmentRound
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_job_page_shows_the_kind_label_not_the_key(cast, county):
    job = jobs.job_create(user=cast.county, kind="region_counts", region=county.county)
    content = login(cast.county).get(f"/jobs/{job.pk}/").content.decode()
    assert jobs.kind_label("region_counts") in content
    assert "region_counts" not in content


def test_job_page_of_another_user_is_not_found(cast, county):
    job = jobs.job_create(user=cast.county, kind="region_counts", region=county.county)
    assert login(cast.cadre).get(f"/jobs/{job.pk}/").status_code == 404


def test_round_admin_lists_the_officers_county_rounds(cast, county):
    round_ = AdjustmentRound.objects.create(
        county=county.county, year=2020, name="2020年动态调整", opened_at=timezone.now()
    )
    content = login(cast.county).get("/admin/rounds/adjustmentround/").content.decode()
    assert round_.name in content
