"""The file door in a real browser (Debian's chromium, headless, through Playwright): the county
officer downloads a ledger from its job page and a rectification evidence file, and the browser
saves them under their Chinese names with the exact bytes; a browser without a session that
opens the same links lands on the login page and gets nothing.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspections import services as inspection_services
from povertyapp import jobs
from povertyapp.models import AccessLog, Job
from tests import factories
from tests.povertyapp.test_files import pdf


def _context(browser):
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(120_000)
    return context


def test_downloads_arrive_whole_under_their_chinese_names(browser, live_server, cast, county):
    ledger = b"PK\x03\x04 the ledger's bytes"
    job = jobs.job_create(user=cast.county, kind="ledger_export", region=county.county)
    job.result_file.save("人员台账_黄平县_20261203.xlsx", ContentFile(ledger), save=True)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    item = inspection_services.rectification_create(
        actor=cast.county,
        region=county.village_a,
        source="supervision",
        data={
            "problem": "危房改造未完成",
            "category": "住房安全",
            "responsible_unit": "县住建局",
            "responsible_person": "张三",
            "deadline": datetime.date.today() + datetime.timedelta(days=10),
        },
    )
    evidence_bytes = pdf()
    inspection_services.rectification_evidence_add(
        actor=cast.county,
        item=item,
        file=SimpleUploadedFile("整改佐证-12.pdf", evidence_bytes, content_type="application/pdf"),
    )

    context = _context(browser)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "county")
    page.fill("#id_password", factories.PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/")

    links = []
    for url, text, name, content in (
        (f"/jobs/{job.pk}/", "下载结果", "人员台账_黄平县_20261203.xlsx", ledger),
        (
            f"/inspections/rectification/{item.pk}/",
            "整改佐证-12.pdf",
            "整改佐证-12.pdf",
            evidence_bytes,
        ),
    ):
        page.goto(live_server.url + url)
        anchor = page.get_by_role("link", name=text)
        href = anchor.get_attribute("href")
        assert href is not None and href.startswith("/files/")
        links.append(href)
        with page.expect_download() as started:
            anchor.click()
        download = started.value
        assert download.suggested_filename == name
        assert Path(download.path()).read_bytes() == content
    assert AccessLog.objects.filter(action="download", user=cast.county).count() == 2
    context.close()

    stranger = _context(browser)
    page = stranger.new_page()
    for href in links:
        page.goto(live_server.url + href)
        assert page.url.startswith(f"{live_server.url}/accounts/login/")
    stranger.close()
    assert AccessLog.objects.exclude(action="account").count() == 2
