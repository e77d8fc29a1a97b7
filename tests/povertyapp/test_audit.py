"""安全审计 (issue 14): every event kind writes an audit row with user, role, source address,
request id and outcome; the audit log is the 审计管理员's alone, and reading or exporting it is
itself audited."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import CaseWorkflow, Household
from povertyapp import audit_targets
from povertyapp.models import AccessLog, CalendarDay, User
from tests import factories

pytestmark = pytest.mark.django_db

IP = "10.20.30.40"
Action = AccessLog.Action


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LEDGER_IMPORT_DIR = str(tmp_path / "imports")


@pytest.fixture
def auditadmin(cast) -> User:
    return cast.auditadmin


def client_at(user: User | None = None) -> Client:
    client = Client(REMOTE_ADDR=IP)
    if user is not None:
        client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
    return client


def only(action: str, **lookups) -> AccessLog:
    return AccessLog.objects.get(action=action, **lookups)


def assert_from_request(log: AccessLog, response, *, user: User | None, outcome: str) -> None:
    assert log.user == user
    assert log.role == (user.role if user else "")
    assert log.ip_address == IP
    assert log.request_id and log.request_id == response["X-Request-ID"]
    assert log.outcome == outcome
    assert log.created_at.tzinfo is not None


def test_sign_in_and_sign_out_are_audited(cast):
    client = client_at()
    response = client.post(reverse("login"), {"username": "cadre", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert_from_request(only(Action.LOGIN), response, user=cast.cadre, outcome="ok")
    response = client.post(reverse("logout"))
    assert_from_request(only(Action.LOGOUT), response, user=cast.cadre, outcome="ok")


def test_a_failed_sign_in_names_the_account_tried_and_masks_an_id_number(cast):
    client = client_at()
    response = client.post(reverse("login"), {"username": "cadre", "password": "wrong-password"})
    assert response.status_code == 200
    log = only(Action.LOGIN_FAILED, username="cadre")
    assert_from_request(log, response, user=cast.cadre, outcome="failed")
    assert log.reason == "用户名或密码错误"
    client.post(reverse("login"), {"username": "52262219800101123X", "password": "x"})
    tried = AccessLog.objects.filter(action=Action.LOGIN_FAILED, user=None).get()
    assert tried.username == "522***********123X"
    assert "52262219800101123X" not in str(AccessLog.objects.values_list())


def test_a_lockout_is_audited(cast, settings):
    client = client_at()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "cadre", "password": "wrong"})
    log = only(Action.LOCKOUT)
    assert_from_request(log, response, user=cast.cadre, outcome="refused")
    assert "锁定" in log.reason


def test_a_refused_page_is_audited_with_method_path_and_status(cast):
    client = client_at(cast.helper)
    response = client.get(reverse("ledgers:index"))
    assert response.status_code == 403
    log = only(Action.REFUSED)
    assert_from_request(log, response, user=cast.helper, outcome="refused")
    assert log.reason == "无权访问"
    assert log.detail == {"method": "GET", "path": reverse("ledgers:index"), "status": 403}


def test_a_household_outside_scope_is_refused_and_audited_on_the_page_and_the_api(
    cast, household_b
):
    client = client_at(cast.cadre)
    page = client.get(reverse("households:detail", args=[household_b.pk]))
    api = client.get(f"/api/v1/households/{household_b.pk}/")
    assert (page.status_code, api.status_code) == (404, 404)
    page_log, api_log = AccessLog.objects.filter(action=Action.REFUSED).order_by("seq")
    assert_from_request(page_log, page, user=cast.cadre, outcome="refused")
    assert_from_request(api_log, api, user=cast.cadre, outcome="refused")
    assert {page_log.reason, api_log.reason} == {"无权访问或不存在"}
    assert api_log.detail["path"] == f"/api/v1/households/{household_b.pk}/"


def test_an_anonymous_api_call_is_audited_but_anonymous_404s_and_static_noise_are_not(cast):
    client = client_at()
    response = client.get("/api/v1/households/")
    assert response.status_code in (401, 403)
    log = only(Action.REFUSED)
    assert_from_request(log, response, user=None, outcome="refused")
    client.get("/no-such-page/")
    client_at(cast.cadre).get("/favicon.ico")
    client_at(cast.cadre).get("/static/no-such-file.css")
    assert AccessLog.objects.filter(action=Action.REFUSED).count() == 1


def test_an_id_number_in_a_refused_path_is_masked(cast):
    client_at(cast.cadre).get("/households/52262219800101123X/")
    log = only(Action.REFUSED)
    assert "52262219800101123X" not in log.target + str(log.detail)
    assert "522***********123X" in log.detail["path"]


def test_the_api_lists_of_unmasked_households_and_members_are_audited(cast, household_a):
    client = client_at(cast.cadre)
    # A page of households without a bank account shows nothing sensitive: no row.
    assert client.get("/api/v1/households/").status_code == 200
    assert not AccessLog.objects.filter(action=Action.VIEW_SENSITIVE).exists()
    household_a.bank_account = "6228480402564890018"
    household_a.save(update_fields=["bank_account"])
    response = client.get("/api/v1/households/")
    assert response.status_code == 200
    log = only(Action.VIEW_SENSITIVE, target="household_list")
    assert_from_request(log, response, user=cast.cadre, outcome="ok")
    assert log.detail["ids"] == [household_a.pk]
    assert log.fields == ["bank_account"]
    client.get("/api/v1/members/")
    members = only(Action.VIEW_SENSITIVE, target="member_list")
    assert members.detail["count"] >= 1
    assert "id_number" in members.fields and "bank_account" not in members.fields
    # A role that sees them masked reads nothing sensitive.
    client_at(cast.auditor).get("/api/v1/households/")
    assert not AccessLog.objects.filter(action=Action.VIEW_SENSITIVE, user=cast.auditor).exists()


def test_an_export_is_audited(cast, household_a):
    response = client_at(cast.cadre).get(reverse("ledgers:export"), {"ledger": "households"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    log = only(Action.EXPORT)
    assert_from_request(log, response, user=cast.cadre, outcome="ok")
    assert len(log.sha256) == 64


def test_each_procedure_decision_is_audited_in_its_service(cast, county):
    applicant = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )
    opened = timezone.localdate() - datetime.timedelta(days=30)
    workflow = services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        opinion="本人申请",
        effective_date=opened,
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议通过",
        attendance=23,
        evidence=SimpleUploadedFile("m.jpg", b"\xff\xd8\xff\xe0minutes", content_type="image/jpeg"),
        acted_on=opened + datetime.timedelta(days=1),
    )
    client = client_at(cast.cadre)
    response = client.post(
        reverse("households:workflow-complete", args=[workflow.pk]),
        {
            "step": "verification",
            "opinion": "核实属实",
            "acted_on": (opened + datetime.timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 302
    *_opened, first, second = AccessLog.objects.filter(action=Action.APPROVAL).order_by("seq")
    assert (first.detail["step"], second.detail["step"]) == ("appraisal", "verification")
    assert (first.detail["decision"], second.detail["decision"]) == ("done", "done")
    assert first.ip_address is None  # called without a request (a service in a test)
    assert_from_request(second, response, user=cast.cadre, outcome="ok")
    assert second.target == "workflow:identification"
    assert second.object_id == str(workflow.pk)


def test_an_admin_change_is_a_configuration_row(cast):
    # The holiday calendar is a system parameter: the system administrator keeps it.
    client = client_at(cast.sysadmin)
    response = client.post(
        reverse("admin:povertyapp_calendarday_add"),
        {"date": "2035-03-06", "kind": "holiday", "name": "测试假日"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    day = CalendarDay.objects.get(date="2035-03-06")
    log = only(Action.CONFIGURATION)
    assert_from_request(log, response, user=cast.sysadmin, outcome="ok")
    assert (log.target, log.object_id, log.detail["operation"]) == (
        "povertyapp.calendarday",
        str(day.pk),
        "add",
    )


def test_every_admin_of_the_site_audits_its_changes():
    from django.contrib import admin

    from povertyapp.admin import AccessLogAdmin, AuditedAdmin

    unaudited = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, AuditedAdmin | AccessLogAdmin)
        and model_admin.model._meta.app_label
        in {"povertyapp", "households", "rounds", "assistance", "inspections"}
    ]
    assert unaudited == []


# --- the audit log in the admin ---------------------------------------------------------------


def test_only_the_audit_admin_sees_the_audit_log(cast, auditadmin):
    url = reverse("admin:povertyapp_accesslog_changelist")
    for user in (cast.sysadmin, cast.county, cast.auditor, cast.cadre):
        response = client_at(user).get(url)
        assert response.status_code in (302, 403), user.username
    response = client_at(auditadmin).get(url)
    assert response.status_code == 200
    assert "校验完整性" in response.content.decode()
    assert not response.context["cl"].model_admin.get_actions(response.wsgi_request)


def test_the_audit_log_is_read_only_for_the_audit_admin(cast, auditadmin):
    client = client_at(auditadmin)
    client.get(reverse("admin:povertyapp_accesslog_changelist"))
    log = AccessLog.objects.order_by("seq").first()
    assert client.get(reverse("admin:povertyapp_accesslog_add")).status_code == 403
    assert client.get(reverse("admin:povertyapp_accesslog_delete", args=[log.pk])).status_code in (
        302,
        403,
    )
    response = client.post(
        reverse("admin:povertyapp_accesslog_change", args=[log.pk]), {"reason": "changed"}
    )
    assert response.status_code == 403
    log.refresh_from_db()
    assert log.reason != "changed"


def test_searching_the_audit_log_is_itself_audited(cast, auditadmin):
    client_at(cast.cadre).get("/api/v1/households/999999/")
    client = client_at(auditadmin)
    response = client.get(
        reverse("admin:povertyapp_accesslog_changelist"), {"q": "cadre", "action__exact": "refused"}
    )
    assert response.status_code == 200
    shown = [(log.username, log.action) for log in response.context["cl"].result_list]
    assert shown == [("cadre", "refused")]
    log = AccessLog.objects.filter(action=Action.AUDIT, target="audit_log").get()
    assert_from_request(log, response, user=auditadmin, outcome="ok")
    assert log.detail["filters"] == {"q": "cadre", "action__exact": "refused"}
    text = response.content.decode()
    assert "+0800" in text  # times in Asia/Shanghai, with the zone


def test_the_audit_log_export_is_the_filtered_rows_and_is_audited(cast, auditadmin):
    client_at(cast.cadre).get("/api/v1/households/999999/")
    client_at(cast.township).get("/api/v1/households/999998/")
    client = client_at(auditadmin)
    response = client.get(
        reverse("admin:povertyapp_accesslog_export"), {"q": "township", "action__exact": "refused"}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[2], row[5]) for row in rows] == [("township", "拒绝访问")]
    # The target as stored (the hash chain's), then in words as the list shows it.
    header = [cell.value for cell in sheet[1]]
    assert header[6:8] == ["对象", "对象说明"]
    assert rows[0][6] == rows[0][7] == "/api/v1/households/999998/"  # a path is its own name
    log = AccessLog.objects.get(action=Action.AUDIT, target="audit_log_export")
    assert_from_request(log, response, user=auditadmin, outcome="ok")
    assert log.detail["rows"] == 1
    import hashlib

    assert log.sha256 == hashlib.sha256(body).hexdigest()
    # A named target in words: the first export's own row.
    whole = client.get(reverse("admin:povertyapp_accesslog_export"))
    every = openpyxl.load_workbook(io.BytesIO(b"".join(whole.streaming_content))).active
    named = {row[6]: row[7] for row in every.iter_rows(min_row=2, values_only=True)}
    assert named["audit_log_export"] == audit_targets.label("audit_log_export")
    assert named["audit_log_export"] != "audit_log_export"


def test_the_verify_button_checks_the_chain_for_the_audit_admin(cast, auditadmin):
    client = client_at(auditadmin)
    assert client.get(reverse("admin:povertyapp_accesslog_verify")).status_code == 405
    response = client.post(reverse("admin:povertyapp_accesslog_verify"), follow=True)
    assert "完整性校验通过" in response.content.decode()
    log = AccessLog.objects.get(action=Action.AUDIT, target="verify_audit")
    assert log.outcome == "ok"
    assert client_at(cast.sysadmin).post(
        reverse("admin:povertyapp_accesslog_verify")
    ).status_code in (
        302,
        403,
    )
