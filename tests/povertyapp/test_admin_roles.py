"""三权分立 in the admin site (povertyapp/security/admin_access.py): each role's admin index
shows exactly its models, nobody but the audit administrator reads the audit log, no
administrator sees case data, and accounts are the security administrator's alone."""

from __future__ import annotations

import pytest
from django.contrib import admin

from povertyapp import audit
from povertyapp.models import AccessLog, Job, User
from povertyapp.security import admin_access
from povertyapp.security.admin_access import AREA_ROLES, Area
from tests.conftest import login

CASE_MODELS = {
    "households.Household",
    "households.HouseholdEvent",
    "rounds.AdjustmentRound",
    "assistance.Pairing",
    "assistance.Measure",
    "assistance.Visit",
    "assistance.Project",
    "assistance.FundMovement",
    "assistance.CoverageRun",
    "inspections.Campaign",
    "inspections.RectificationItem",
    "inspections.InspectionEvent",
    # issue 15: the monitoring case records (read-only; their risks are an inline).
    "monitoring.Clue",
    "monitoring.MonitoringObject",
    "monitoring.IncomeAssessment",
    "monitoring.DepartmentList",
    "monitoring.ScrutinyTask",
    "monitoring.CadreRelation",
    "monitoring.Sweep",
    "monitoring.SweepTeam",
    "monitoring.SweepHousehold",
}
CASE_CONFIG = {
    "households.PovertyLine",
    "assistance.MatchingRule",
    "assistance.AssistanceStandard",
    "assistance.VillageSponsor",
    "povertyapp.VillageYear",
    # issue 15: the monitoring configuration.
    "monitoring.MonitoringLine",
    "monitoring.DibaoStandard",
    "monitoring.LocalRules",
    "monitoring.RiskMeasureRule",
}
# What each role finds on the admin index; a role missing here finds no admin at all.
EXPECTED_INDEX = {
    "county": CASE_MODELS | CASE_CONFIG | {"povertyapp.Region", "povertyapp.Job"},
    "sysadmin": {
        "households.ValueListItem",
        "povertyapp.CalendarDay",
        "povertyapp.Job",
        "povertyapp.Region",
    },
    "secadmin": {
        "povertyapp.User",
        "povertyapp.Region",
        "axes.AccessAttempt",
        "axes.AccessLog",
        "axes.AccessFailureLog",
        "povertyapp.SecondFactorDevice",
        "povertyapp.BackupCodeDevice",
    },
    "auditadmin": {"povertyapp.AccessLog"},
}
ROLES = ("cadre", "township", "auditor", "helper", "county", "sysadmin", "secadmin", "auditadmin")


def _index_models(client) -> set[str]:
    response = client.get("/admin/")
    if response.status_code != 200:
        return set()
    return {
        f"{app['app_label']}.{model['object_name']}"
        for app in response.context["app_list"]
        for model in app["models"]
    }


@pytest.mark.parametrize("name", ROLES)
def test_each_role_finds_exactly_its_models_on_the_admin_index(cast, name):
    assert _index_models(login(getattr(cast, name))) == EXPECTED_INDEX.get(name, set())


def test_no_administrator_role_sees_case_data_and_only_the_audit_administrator_the_log(cast):
    for name in ("sysadmin", "secadmin", "auditadmin"):
        assert not EXPECTED_INDEX[name] & (CASE_MODELS | CASE_CONFIG), name
    readers = [name for name, models in EXPECTED_INDEX.items() if "povertyapp.AccessLog" in models]
    assert readers == ["auditadmin"]
    for name in ROLES:
        response = login(getattr(cast, name)).get("/admin/povertyapp/accesslog/")
        assert (response.status_code == 200) == (name == "auditadmin"), name


def test_the_audit_administrator_changes_nothing(cast):
    log = audit.record(AccessLog.Action.LOGIN, username="x", target="session")
    client = login(cast.auditadmin)
    assert client.get(f"/admin/povertyapp/accesslog/{log.pk}/change/").status_code == 200
    assert client.post(f"/admin/povertyapp/accesslog/{log.pk}/delete/").status_code == 403
    assert client.get("/admin/povertyapp/accesslog/add/").status_code == 403
    assert AccessLog.objects.filter(pk=log.pk).exists()


def test_every_admin_of_the_site_takes_its_rights_from_the_role_table():
    assert admin_access.unguarded_admins() == []
    for model_admin in admin.site._registry.values():
        assert getattr(model_admin, "area", None) in Area


def test_the_separation_cannot_be_widened_by_a_model_admin():
    # A model admin that asks for more than its area allows gets what the area allows.
    grants = admin_access.grants_of(
        Area.CASE,
        {
            User.Role.SYSTEM_ADMIN: admin_access.MANAGE,
            User.Role.COUNTY_OFFICER: admin_access.MANAGE,
        },
    )
    assert grants == {User.Role.COUNTY_OFFICER: admin_access.VIEW}
    assert set(AREA_ROLES[Area.AUDIT]) == {User.Role.AUDIT_ADMIN}
    assert AREA_ROLES[Area.AUDIT][User.Role.AUDIT_ADMIN] == admin_access.VIEW
    assert (
        set(AREA_ROLES[Area.ACCOUNTS])
        == set(AREA_ROLES[Area.SECURITY])
        == {User.Role.SECURITY_ADMIN}
    )
    for area in (Area.CASE, Area.CASE_CONFIG):
        assert not set(AREA_ROLES[area]) & {
            User.Role.SYSTEM_ADMIN,
            User.Role.SECURITY_ADMIN,
            User.Role.AUDIT_ADMIN,
        }


def test_the_security_administrator_creates_an_account_and_staff_follows_the_role(cast, county):
    client = login(cast.secadmin)
    response = client.post(
        "/admin/povertyapp/user/add/",
        {
            "username": "newcadre",
            "password1": "Qx7#mVb2!kLp9Zr",
            "password2": "Qx7#mVb2!kLp9Zr",
            "usable_password": "true",
            "role": User.Role.VILLAGE_CADRE,
            "region": county.village_a.pk,
            "full_name": "新录入员",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="newcadre")
    assert (user.role, user.region, user.is_staff, user.is_superuser) == (
        User.Role.VILLAGE_CADRE,
        county.village_a,
        False,
        False,
    )
    # The same page refuses the system administrator and the county office.
    for name in ("sysadmin", "county", "auditadmin"):
        assert login(getattr(cast, name)).get("/admin/povertyapp/user/add/").status_code == 403


def test_nobody_changes_their_own_account_or_a_superuser_in_the_admin(cast):
    client = login(cast.secadmin)
    assert client.get(f"/admin/povertyapp/user/{cast.cadre.pk}/change/").status_code == 200
    own = client.post(
        f"/admin/povertyapp/user/{cast.secadmin.pk}/change/",
        {"username": "secadmin", "role": User.Role.SYSTEM_ADMIN},
    )
    assert own.status_code == 403
    root = User.objects.create(username="root", is_superuser=True, is_staff=True)
    assert client.post(f"/admin/povertyapp/user/{root.pk}/change/", {}).status_code == 403
    cast.secadmin.refresh_from_db()
    assert cast.secadmin.role == User.Role.SECURITY_ADMIN


def test_superuser_status_and_permission_tables_are_not_offered(cast):
    page = login(cast.secadmin).get(f"/admin/povertyapp/user/{cast.cadre.pk}/change/")
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "groups" not in form.fields and "user_permissions" not in form.fields


def test_the_system_administrator_sees_jobs_without_their_parameters(cast):
    job = Job.objects.create(
        kind="ledger_export", created_by=cast.county, parameters={"q": "522622198001011234"}
    )
    page = login(cast.sysadmin).get(f"/admin/povertyapp/job/{job.pk}/change/")
    assert page.status_code == 200
    assert "522622198001011234" not in page.content.decode()
    assert "ledger_export" in page.content.decode()


def test_the_security_administrator_lifts_a_lockout(cast):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="cadre", ip_address="10.0.0.1", failures_since_start=5, user_agent="x"
    )
    client = login(cast.secadmin)
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert login(cast.sysadmin).get("/admin/axes/accessattempt/").status_code == 403
