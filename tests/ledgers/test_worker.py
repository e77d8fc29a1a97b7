"""A large export through a real Celery worker (CI starts one; skipped otherwise)."""

from __future__ import annotations

import os
import time

import openpyxl
import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from povertyapp import jobs
from povertyapp.celery import app as celery_app
from povertyapp.ledgers.services import EXPORT_JOB
from povertyapp.models import Job
from tests import factories

REAL_WORKER = os.environ.get("REAL_CELERY_WORKER") == "1"
WORKER_TIMEOUT = float(os.environ.get("REAL_CELERY_WORKER_TIMEOUT", "90"))


@pytest.mark.real_worker
@pytest.mark.skipif(
    not (REAL_WORKER and settings.CELERY_BROKER_URL),
    reason="needs a running Celery worker on the test database: set CELERY_BROKER_URL and "
    "REAL_CELERY_WORKER=1 (.ci/run does)",
)
def test_large_export_job_completes_in_a_real_worker(cast, county, transactional_db):
    assert not celery_app.conf.task_always_eager
    assert celery_app.control.ping(timeout=5.0), "no Celery worker answers on the broker"
    for _index in range(3):
        factories.household(actor=cast.county, village=county.village_a)
    job = jobs.job_enqueue(
        user=cast.county,
        kind=EXPORT_JOB,
        region=county.county,
        parameters={"ledger": "members", "filters": {}, "reason": "年度动态调整核查"},
    )
    deadline = time.monotonic() + WORKER_TIMEOUT
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            break
        time.sleep(0.2)
    assert job.status == Job.Status.SUCCEEDED, (job.status, job.error)
    assert (job.progress, job.total, job.result["rows"]) == (6, 6, 6)
    with default_storage.open(job.result_file.name, "rb") as handle:
        sheet = openpyxl.load_workbook(handle)["人员台账"]
    assert sheet.cell(11, 1).value == "合计"
    default_storage.delete(job.result_file.name)
