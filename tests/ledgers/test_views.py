"""Ledger pages and commands: download, job redirect, upload → check → confirm, template."""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from households.models import Household, Member
from povertyapp import files
from povertyapp.models import AccessLog, Job
from tests import factories


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_index_offers_the_household_ledgers(client_for, cast, household_a):
    response = client_for(cast.auditor).get(reverse("ledgers:index"))
    assert response.status_code == 200
    text = response.content.decode()
    for title in ("户台账", "人员台账", "农户档案（户台账+人员台账）"):
        assert title in text
    assert "脱敏" in text


def test_helper_and_sysadmin_cannot_use_ledgers(client_for, cast):
    assert client_for(cast.helper).get(reverse("ledgers:index")).status_code == 403
    assert (
        client_for(cast.sysadmin).get(reverse("ledgers:export") + "?ledger=households").status_code
        == 403
    )
    assert not AccessLog.objects.filter(action="export").exists()
    # Both refusals are audit rows (issue 14).
    assert AccessLog.objects.filter(action="refused").count() == 2


def test_small_export_downloads_directly(client_for, cast, household_a):
    response = client_for(cast.cadre).get(
        reverse("ledgers:export"), {"ledger": "households", "status": "poor"}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response)))["户台账"]
    assert sheet["B6"].value == household_a.number
    assert AccessLog.objects.get(action="export").detail["filters"] == {"status": "poor"}


def test_export_outside_scope_is_not_found(client_for, cast, household_a):
    response = client_for(cast.cadre).get(
        reverse("ledgers:export"), {"ledger": "households", "region": "522622101200"}
    )
    assert response.status_code == 404
    assert not AccessLog.objects.filter(action="export").exists()
    assert AccessLog.objects.get(action="refused").reason == "无权访问或不存在"


def test_large_export_redirects_to_its_job(
    client_for, settings, cast, household_a, django_capture_on_commit_callbacks
):
    settings.LEDGER_JOB_THRESHOLD = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.county).get(
            reverse("ledgers:export"), {"ledger": "members", "reason": "年度动态调整核查"}
        )
    job = Job.objects.get(kind="ledger_export")
    assert response.status_code == 302
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    client = client_for(cast.county)
    page = client.get(response["Location"]).content.decode()
    assert "100%" in page and "2 / 2" in page
    # The result is downloaded through the file door, never from /media/.
    links = re.findall(rf'href="(/files/job_result/{job.pk}/\?t=[^"]+)"', page)
    assert len(links) == 1 and "/media/" not in page
    download = client.get(links[0])
    assert download.status_code == 200
    assert download["Cache-Control"] == "no-store"
    job.refresh_from_db()
    assert hashlib.sha256(_body(download)).hexdigest() == job.result["sha256"]


def _upload(client, path_or_bytes, dry_run: bool):
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
    else:
        with open(path_or_bytes, "rb") as handle:
            data = handle.read()
    upload = io.BytesIO(data)
    upload.name = "农户.xlsx"
    form = {"file": upload}
    if dry_run:
        form["dry_run"] = "on"
    return client.post(reverse("ledgers:import"), form)


def _workbook(tmp_path, id_number: str) -> str:
    path = str(tmp_path / "upload.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active.append(["户编号", "行政村", "户状态"])
    workbook.active.append(["NEW0001", "凤场村", "非建档立卡户"])
    members = workbook.create_sheet()
    members.append(["户编号", "姓名", "证件号码", "与户主关系"])
    members.append(["NEW0001", "孙三", id_number, "户主"])
    workbook.save(path)
    return path


def test_upload_dry_run_then_confirm(
    client_for, tmp_path, cast, county, django_capture_on_commit_callbacks
):
    client = client_for(cast.cadre)
    path = _workbook(tmp_path, factories.id_number(datetime.date(1975, 3, 3), "男"))
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, path, dry_run=True)
    check = Job.objects.get(kind="households_import")
    assert response["Location"] == reverse("ledgers:import-job", args=[check.pk])
    page = client.get(response["Location"]).content.decode()
    assert "预检通过" in page and "NEW0001" in page and "确认导入" in page
    # The job's message ends on what was found, not on the phase it was in.
    assert "预检完毕：将新建1户、更新0户，0户无变化（尚未写入）。" in page
    assert Household.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledgers:import-confirm", args=[check.pk]))
    done = Job.objects.exclude(pk=check.pk).get(kind="households_import")
    assert done.result["written"] is True
    household = Household.objects.get(number="NEW0001")
    assert (household.status, household.village, household.members.get().birth_date) == (
        "non_registered",
        county.village_a,
        datetime.date(1975, 3, 3),
    )
    page = client.get(reverse("ledgers:import-job", args=[done.pk])).content.decode()
    assert "导入完成" in page and "已写入：新建1户、更新0户，0户无变化。" in page
    # Someone else cannot see or confirm this user's import.
    other = client_for(cast.county)
    assert other.get(reverse("ledgers:import-job", args=[check.pk])).status_code == 404
    assert AccessLog.objects.filter(action="import").count() == 2


def test_upload_with_errors_shows_them_and_offers_the_highlighted_workbook(
    client_for, tmp_path, cast, county, django_capture_on_commit_callbacks
):
    client = client_for(cast.cadre)
    bad = factories.id_number(datetime.date(1975, 3, 3), "男")[:17] + "Y"
    path = _workbook(tmp_path, bad)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, path, dry_run=False)
    job = Job.objects.get(kind="households_import")
    page = client.get(reverse("ledgers:import-job", args=[job.pk])).content.decode()
    assert "全部未写入" in page and "身份证号码只能由数字组成" in page
    assert re.search(r"校验完毕：发现\d+处错误，未写入任何数据。", page)
    assert bad not in page  # masked
    workbook = openpyxl.load_workbook(job.result_file.path)
    assert workbook.sheetnames[0] == "错误清单"
    listing = workbook["错误清单"]
    assert [c.value for c in listing[2]][:3] == ["Sheet1", 2, "证件号码"]
    bad_rows = workbook[workbook.sheetnames[1]]
    cell = bad_rows.cell(2, 4)
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert cell.value != bad and "*" in cell.value
    assert Household.objects.count() == 0 and Member.objects.count() == 0
    # The workbook is downloaded through the file door, named after the upload.
    links = re.findall(rf'href="(/files/job_result/{job.pk}/\?t=[^"]+)"', page)
    download = client.get(links[0])
    name = f"导入错误清单_农户_{timezone.localdate():%Y%m%d}.xlsx"
    assert download["Content-Disposition"] == files.content_disposition(name)
    assert _body(download) == Path(job.result_file.path).read_bytes()


def test_a_workbook_without_the_members_sheet_fails_with_its_reason_and_no_progress(
    client_for, tmp_path, cast, county, django_capture_on_commit_callbacks
):
    """A 户台账 alone fails before any row is read: the page says why, without a progress bar
    at "0% · 0 / 0 户"."""
    client = client_for(cast.cadre)
    path = str(tmp_path / "户台账.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active.append(["户编号", "行政村", "户状态"])
    workbook.active.append(["NEW0001", "凤场村", "非建档立卡户"])
    workbook.save(path)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, path, dry_run=True)
    job = Job.objects.get(kind="households_import")
    assert job.status == Job.Status.FAILED
    page = client.get(reverse("ledgers:import-job", args=[job.pk])).content.decode()
    assert "未找到人员台账工作表" in page
    assert "<progress" not in page and "0 / 0" not in page


def test_hostile_upload_is_refused_on_the_page(client_for, cast, county):
    client = client_for(cast.cadre)
    response = _upload(client, b"MZ\x90\x00 not a workbook", dry_run=True)
    assert response.status_code == 302
    page = client.get(reverse("ledgers:import")).content.decode()
    assert "文件不是Excel工作簿" in page
    assert Job.objects.count() == 0


def test_template_has_both_sheets_instructions_and_drop_downs(client_for, cast, county):
    response = client_for(cast.cadre).get(reverse("ledgers:import-template"))
    workbook = openpyxl.load_workbook(io.BytesIO(_body(response)))
    assert workbook.sheetnames == ["户台账", "人员台账", "填写说明", "代码表"]
    assert workbook["代码表"].sheet_state == "hidden"
    validations = workbook["人员台账"].data_validations.dataValidation
    formulas = {v.formula1 for v in validations}
    assert any("代码表" in formula for formula in formulas)
    assert len(validations) >= 10
    assert "填写说明" in workbook["填写说明"]["A1"].value


def test_auditor_cannot_import(client_for, cast):
    assert client_for(cast.auditor).get(reverse("ledgers:import")).status_code == 403
    assert client_for(cast.auditor).get(reverse("ledgers:import-template")).status_code == 403


def test_commands_export_and_import_through_the_same_code(tmp_path, cast, county, household_a):
    output = str(tmp_path / "registry.xlsx")
    call_command(
        "export_ledger",
        "registry",
        "--region",
        "522622000000",
        "--output",
        output,
        "--reason",
        "年度动态调整核查",
    )
    assert openpyxl.load_workbook(output).sheetnames == ["户台账", "人员台账"]
    assert AccessLog.objects.get(action="export").user == cast.county
    out = io.StringIO()
    call_command("import_households", output, "--dry-run", stdout=out)
    assert "无变化1户" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "export_ledger",
            "registry",
            "--region",
            "522622101200",
            "--output",
            output,
            "--user",
            "cadre",
        )


def test_an_export_of_an_id_search_keeps_the_id_sealed_on_the_job_and_masked_in_the_audit(
    client_for, settings, cast, household_a, django_capture_on_commit_callbacks
):
    """Issue 14 (数据保密性): the search of an exported list may be a full ID number; the job
    row keeps it encrypted and the audit row masked, while the job still finds the household."""
    from povertyapp import crypto

    settings.LEDGER_JOB_THRESHOLD = 0
    id_number = household_a.members.get(relation="户主").id_number
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.county).post(
            reverse("ledgers:export"),
            {"ledger": "members", "q": id_number, "reason": "年度动态调整核查"},
        )
    assert response.status_code == 302
    job = Job.objects.get(kind="ledger_export")
    stored = job.parameters["filters"]["q"]
    assert crypto.is_encrypted(stored) and id_number not in str(job.parameters)
    job.refresh_from_db()
    # The job found the household by the decrypted search: its members, nobody else.
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["rows"] == household_a.members.count()
    row = AccessLog.objects.get(action="export")
    assert id_number not in str(row.detail)
    assert row.detail["filters"]["q"] == id_number[:3] + "*" * 11 + id_number[-4:]
