"""Account lifecycle (povertyapp/security/accounts.py, account_audit.py): unused accounts are
disabled by the nightly task, and every role, region, active or staff change is logged with who
made it, whatever the path (admin, service, command, task)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from povertyapp import tasks
from povertyapp.models import AccessLog, User
from povertyapp.security.account_audit import acting_as
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def test_the_beat_schedule_runs_the_task_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["disable-inactive-accounts"]
    assert entry["task"] == "povertyapp.tasks.disable_inactive_accounts_task"
    assert settings.ACCOUNT_INACTIVE_DAYS == 90


def test_accounts_unused_for_the_configured_days_are_disabled_and_logged(cast, settings):
    settings.ACCOUNT_INACTIVE_DAYS = 90
    User.objects.filter(pk=cast.cadre.pk).update(last_login=_ago(91))
    User.objects.filter(pk=cast.township.pk).update(last_login=_ago(89))
    # Never signed in: counted from the day the account was made.
    User.objects.filter(pk=cast.helper.pk).update(last_login=None, date_joined=_ago(120))
    User.objects.filter(pk=cast.auditor.pk).update(last_login=None, date_joined=_ago(10))
    User.objects.exclude(pk__in=[cast.cadre.pk, cast.helper.pk, cast.township.pk]).update(
        last_login=_ago(1)
    )

    disabled = tasks.disable_inactive_accounts_task.delay().get()

    assert sorted(disabled) == sorted([cast.cadre.pk, cast.helper.pk])
    active = dict(User.objects.values_list("username", "is_active"))
    assert (active["cadre"], active["helper"], active["township"], active["auditor"]) == (
        False,
        False,
        True,
        True,
    )
    rows = AccessLog.objects.filter(action="account", detail__event="disabled_inactive")
    assert sorted(int(row.object_id) for row in rows) == sorted(disabled)
    assert {row.username for row in rows} == {"system"}
    assert {row.reason for row in rows} == {"90天未登录，账号自动停用"}
    # The change itself is a role/scope row too: is_active True → False, by the system.
    change = AccessLog.objects.get(action="role_change", object_id=str(cast.cadre.pk))
    assert change.detail["changes"] == {"is_active": [True, False]}
    assert change.username == "system"
    # A second run finds nothing more to do.
    assert tasks.disable_inactive_accounts_task.delay().get() == []


def test_a_disabled_account_cannot_sign_in(cast):
    User.objects.filter(pk=cast.cadre.pk).update(last_login=_ago(200))
    tasks.disable_inactive_accounts_task.delay().get()
    response = login(cast.cadre).get("/households/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_role_change_in_the_admin_is_logged_with_the_security_administrator(cast, county):
    client = login(cast.secadmin)
    page = client.get(f"/admin/povertyapp/user/{cast.cadre.pk}/change/")
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and key not in {"password", "last_login", "date_joined"}
    }
    data.update(role=User.Role.TOWNSHIP_REVIEWER, region=county.township1.pk, is_active="on")
    response = client.post(f"/admin/povertyapp/user/{cast.cadre.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = AccessLog.objects.get(action="role_change", object_id=str(cast.cadre.pk))
    assert (row.user, row.username, row.role) == (cast.secadmin, "secadmin", "security_admin")
    assert row.detail == {
        "account": "cadre",
        "changes": {
            "role": ["village_cadre", "township_reviewer"],
            "region": ["522622100200 凤场村", "522622100000 新州镇"],
        },
    }
    assert row.request_id  # joined to the request that made it


def test_a_change_by_a_service_or_command_names_its_actor_or_the_system(cast, county):
    with acting_as(name="ops:zhang", reason="岗位调整"):
        cast.helper.region = county.village_b
        cast.helper.save()
    row = AccessLog.objects.get(action="role_change", object_id=str(cast.helper.pk))
    assert (row.user, row.username, row.reason) == (None, "ops:zhang", "岗位调整")
    cast.county.is_staff = False
    cast.county.save()
    row = AccessLog.objects.get(action="role_change", object_id=str(cast.county.pk))
    assert row.username == "system"
    assert row.detail["changes"] == {"is_staff": [True, False]}


def test_a_new_account_is_logged_and_a_sign_in_is_not_a_role_change(cast, county):
    user = factories.user("newone", User.Role.HELPER, county.village_a)
    created = AccessLog.objects.get(action="account", object_id=str(user.pk))
    assert created.detail["event"] == "created"
    assert created.detail["values"]["role"] == "helper"
    before = AccessLog.objects.filter(action="role_change").count()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    user.full_name = "改名"
    user.save()
    assert AccessLog.objects.filter(action="role_change").count() == before
