"""Unmasked bulk exports (issue 14, 数据保密性): a county-wide or large export with full ID
numbers, bank accounts and health details asks for a reason, which goes into the audit row, and
its workbook carries a visible watermark (who, when) in every sheet's page header and footer."""

from __future__ import annotations

import io
import os

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from povertyapp.ledgers.layout import header_footer_text
from povertyapp.ledgers.services import ledger_export_start
from povertyapp.models import AccessLog, Job
from tests import factories

REASON = "2026年动态调整县级核查"
REQUIRED = (
    "本次导出含未脱敏的身份证号码、银行账号和健康信息（全县范围或超过500行），"
    "请在“导出事由”中写明用途（至少4个字），事由将记入审计日志。"
)


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.UNMASKED_EXPORT_REASON_ROWS = 500


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _export(client, **data):
    return client.post(reverse("ledgers:export"), {"ledger": "registry", **data})


def test_a_county_wide_unmasked_export_without_a_reason_is_refused(client_for, cast, household_a):
    response = _export(client_for(cast.county), status="poor", income_year="2019")
    assert response.status_code == 400
    text = response.content.decode()
    assert REQUIRED in text
    # Nothing the user chose is lost: the form comes back with its values.
    assert 'value="poor" selected' in text
    assert 'name="income_year" id="id_income_year" min="2010" max="2100" value="2019"' in text
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count() == 0


@pytest.mark.parametrize("reason", ["", "   ", "核查"])
def test_a_blank_or_too_short_reason_is_refused(cast, household_a, reason):
    with pytest.raises(ValidationError) as raised:
        ledger_export_start(user=cast.county, key="registry", filters={}, reason=reason)
    assert raised.value.message_dict == {"reason": [REQUIRED]}
    assert not AccessLog.objects.filter(action="export").exists()


def test_a_too_long_reason_is_refused_for_anyone(cast, household_a):
    with pytest.raises(ValidationError) as raised:
        ledger_export_start(user=cast.auditor, key="registry", filters={}, reason="查" * 201)
    assert raised.value.message_dict == {"reason": ["导出事由最多200个字，请精简后再导出。"]}


def test_the_reason_is_written_to_the_audit_row(client_for, cast, household_a):
    response = _export(client_for(cast.county), reason=f"  {REASON} ")
    assert response.status_code == 200
    _body(response)
    row = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (row.user, row.reason, row.detail["masked"]) == (cast.county, REASON, False)


def test_a_masked_county_wide_export_needs_no_reason(client_for, cast, household_a):
    response = _export(client_for(cast.auditor))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(_body(response)))
    for sheet in workbook.worksheets:
        assert sheet.oddHeader.center.text is None
        assert sheet.oddFooter.left.text is None
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    row = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (row.reason, row.detail["masked"]) == ("", True)


def test_a_small_unmasked_export_of_a_village_needs_no_reason(client_for, cast, household_a):
    response = _export(client_for(cast.cadre))
    assert response.status_code == 200
    _body(response)
    assert AccessLog.objects.get(action=AccessLog.Action.EXPORT).reason == ""


def test_a_township_export_needs_a_reason_only_above_the_row_threshold(
    client_for, settings, cast, county, household_a
):
    client = client_for(cast.township)
    assert _export(client).status_code == 200  # 1 household + 2 members, a township
    settings.UNMASKED_EXPORT_REASON_ROWS = 2
    refused = _export(client)
    assert refused.status_code == 400
    assert "超过2行" in refused.content.decode()
    assert _export(client, reason=REASON).status_code == 200
    assert list(
        AccessLog.objects.filter(action=AccessLog.Action.EXPORT)
        .order_by("pk")
        .values_list("reason", flat=True)
    ) == ["", REASON]


def test_a_county_officer_exporting_one_village_needs_no_reason(client_for, cast, household_a):
    response = _export(client_for(cast.county), region="522622100200")
    assert response.status_code == 200


def test_every_sheet_of_an_unmasked_workbook_carries_the_watermark(client_for, cast, household_a):
    before = timezone.localtime().replace(second=0, microsecond=0)
    response = _export(client_for(cast.county), reason=REASON)
    workbook = openpyxl.load_workbook(io.BytesIO(_body(response)))
    assert workbook.sheetnames == ["户台账", "人员台账"]
    after = timezone.localtime()
    stamps = {f"{moment:%Y-%m-%d %H:%M}" for moment in (before, after)}
    for sheet in workbook.worksheets:
        header = sheet.oddHeader.center.text
        footer = sheet.oddFooter.left.text
        assert header in {f"内部资料 导出人：county(county) {stamp} 请勿外传" for stamp in stamps}
        assert footer == header
        # The print set-up stays: page numbers, the repeated header rows.
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert sheet.print_title_rows is not None


def test_the_watermark_escapes_ampersands_and_stays_short():
    assert header_footer_text("A&B\nC") == "A&&B C"
    assert len(header_footer_text("名" * 300)) == 100


def test_a_large_export_job_keeps_the_reason(
    tmp_path, settings, cast, county, household_a, django_capture_on_commit_callbacks
):
    settings.LEDGER_JOB_THRESHOLD = 1
    with django_capture_on_commit_callbacks(execute=True):
        start = ledger_export_start(user=cast.county, key="members", filters={}, reason=REASON)
    job = Job.objects.get(pk=start.job.pk)
    try:
        assert job.status == Job.Status.SUCCEEDED
        assert AccessLog.objects.get(action=AccessLog.Action.EXPORT).reason == REASON
        workbook = openpyxl.load_workbook(job.result_file.path)
        assert workbook["人员台账"].oddHeader.center.text.startswith("内部资料 导出人：county(")
    finally:
        job.result_file.delete(save=False)


def test_the_command_needs_the_reason_option(tmp_path, cast, household_a):
    output = str(tmp_path / "registry.xlsx")
    arguments = ["export_ledger", "registry", "--region", "522622000000", "--output", output]
    with pytest.raises(CommandError) as raised:
        call_command(*arguments)
    assert str(raised.value) == REQUIRED
    assert not os.path.exists(output)
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count() == 0
    call_command(*arguments, "--reason", REASON)
    assert AccessLog.objects.get(action=AccessLog.Action.EXPORT).reason == REASON
    sheet = openpyxl.load_workbook(output)["户台账"]
    assert sheet.oddHeader.center.text.startswith("内部资料 导出人：county(county) ")


def test_the_page_offers_the_reason_field_only_to_unmasked_roles(client_for, cast):
    field = 'name="reason"'
    assert field in client_for(cast.county).get(reverse("ledgers:index")).content.decode()
    assert field not in client_for(cast.auditor).get(reverse("ledgers:index")).content.decode()


def test_the_ampersand_of_a_name_is_escaped_for_excel(tmp_path, cast, county, household_a):
    """Excel prints "&&" of a header as one "&"; a single one would start a code."""
    officer = factories.user(
        "officer2", cast.county.Role.COUNTY_OFFICER, county.county, full_name="张&李"
    )
    start = ledger_export_start(user=officer, key="households", filters={}, reason=REASON)
    try:
        header = openpyxl.load_workbook(start.path)["户台账"].oddHeader.center.text
        assert header.startswith("内部资料 导出人：张&&李(officer2) ")
    finally:
        os.unlink(start.path)
