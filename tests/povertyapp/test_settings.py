"""Settings that protect the county's data: production mode, idle timeout, passwords, lockout.

Production mode is checked in a subprocess, since the settings module refuses to load without
its secrets (so it cannot be reloaded inside this test process).
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.production_env import settings_subprocess

ROOT = Path(__file__).resolve().parents[2]
# Production refuses to start without real encryption keys (issue 14): the passing cases give them.
KEYS = {
    "FIELD_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
    "BLIND_INDEX_KEY": secrets.token_urlsafe(48),
}


def _manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a clean environment: only what is given (plus PATH), no developer's .env."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _settings_value(name: str, **environment: str) -> str:
    result = settings_subprocess(name, **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def no_dotenv() -> None:
    if (ROOT / ".env").exists():
        pytest.skip(".env in the project root would supply settings to the subprocess")


def test_production_refuses_to_start_without_secret_key(no_dotenv):
    result = _manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="fupin.example.gov.cn")
    assert result.returncode != 0
    assert "Production needs SECRET_KEY" in result.stderr


def test_production_refuses_a_short_secret_key(no_dotenv):
    result = _manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY="short-key",
        ALLOWED_HOSTS="fupin.example.gov.cn",
    )
    assert result.returncode != 0
    assert "Production needs SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(no_dotenv):
    result = _manage("check", DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode != 0
    assert "Production needs ALLOWED_HOSTS" in result.stderr


def test_production_with_its_secrets_passes_check_deploy(no_dotenv):
    result = _manage(
        "check",
        "--deploy",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="fupin.example.gov.cn",
        CACHE_URL="redis://127.0.0.1:6379/1",
        **KEYS,
    )
    assert result.returncode == 0, result.stderr
    # Not even a warning from Django's own deploy checklist.
    assert "security." not in result.stdout + result.stderr


def test_production_turns_debug_off_and_cookies_secure(no_dotenv):
    environment = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "fupin.example.gov.cn",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        **KEYS,
    }
    values = [
        _settings_value(name, **environment)
        for name in ("DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "ALLOWED_HOSTS")
    ]
    assert values == ["False", "True", "True", "['fupin.example.gov.cn']"]


def test_development_default_is_sqlite_and_eager_celery(no_dotenv):
    assert _settings_value("DATABASES['default']['ENGINE']") == "django.db.backends.sqlite3"
    assert _settings_value("CELERY_TASK_ALWAYS_EAGER") == "True"


def test_database_and_broker_urls_select_the_real_services(no_dotenv):
    environment = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/some_name",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/3",
    }
    assert _settings_value("DATABASES['default']['ENGINE']", **environment) in (
        "django.db.backends.postgresql",
        "django.db.backends.postgresql_psycopg2",
    )
    assert _settings_value("DATABASES['default']['NAME']", **environment) == "some_name"
    assert _settings_value("CELERY_TASK_ALWAYS_EAGER", **environment) == "False"


# --- idle session timeout ----------------------------------------------------------------


def test_idle_timeout_defaults_to_30_minutes_and_is_configurable(no_dotenv):
    assert _settings_value("SESSION_COOKIE_AGE") == "1800"
    assert _settings_value("SESSION_COOKIE_AGE", SESSION_IDLE_TIMEOUT="600") == "600"
    assert settings.SESSION_ENGINE == "povertyapp.sessions"


def _session(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_each_request_pushes_the_idle_deadline_forward(cast):
    client = Client()
    assert _login(client, factories.PASSWORD).status_code == 302
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=60)
    )
    before = timezone.now()
    assert client.get(reverse("home")).status_code == 200
    remaining = _session(client).expire_date - before
    assert datetime.timedelta(seconds=1795) <= remaining <= datetime.timedelta(seconds=1805)


def test_requests_within_a_minute_of_a_save_do_not_write_the_session(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    assert _login(client, factories.PASSWORD).status_code == 302
    deadline = _session(client).expire_date
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    writes = [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]
    assert not [sql for sql in writes if "django_session" in sql]
    assert _session(client).expire_date == deadline
    # A minute later the next request saves it.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=deadline - datetime.timedelta(seconds=61)
    )
    assert client.get(reverse("home")).status_code == 200
    assert _session(client).expire_date > deadline


def test_an_idle_session_expires_and_asks_to_log_in_again(cast):
    client = Client()
    assert _login(client, factories.PASSWORD).status_code == 302
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- password rules ----------------------------------------------------------------------


@pytest.mark.parametrize("password", ["abcdefgh", "abcd1234", "Abc-12", "ABCDEFGH1"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_two_character_classes_are_refused_with_a_chinese_message():
    with pytest.raises(ValidationError) as refused:
        validate_password("abcd1234")
    assert "密码须至少包含大写字母、小写字母、数字、符号中的3类。" in refused.value.messages


def test_a_short_password_is_refused_even_with_three_classes():
    with pytest.raises(ValidationError) as refused:
        validate_password("Ab-12")
    assert [error.code for error in refused.value.error_list] == ["password_too_short"]


@pytest.mark.parametrize("password", ["Abcd-1234xyz", "abcd-1234xyz", "ABCD-1234xyz"])
def test_passwords_of_twelve_with_three_classes_are_accepted(password):
    assert validate_password(password) is None


# --- login lockout (django-axes) ---------------------------------------------------------


def _login(client: Client, password: str):
    return client.post(reverse("login"), {"username": "cadre", "password": password})


def test_five_failed_logins_lock_the_account_even_for_the_right_password(cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _attempt in range(4):
        response = _login(client, "wrong-Password-1")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    locked = _login(client, "wrong-Password-1")  # the fifth failure locks
    assert "账号已暂时锁定" in locked.content.decode()
    response = _login(client, factories.PASSWORD)
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another browser (another address even) is locked out too: the lock is on the username.
    other = Client(REMOTE_ADDR="10.20.30.40")
    response = _login(other, factories.PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in other.session


def test_four_failures_then_the_right_password_logs_in_and_resets(cast):
    from axes.models import AccessAttempt

    client = Client()
    for _attempt in range(4):
        _login(client, "wrong-Password-1")
    response = _login(client, factories.PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.cadre.pk)
    assert AccessAttempt.objects.filter(username="cadre").count() == 0


def test_production_refuses_a_cache_not_shared_by_the_workers(no_dotenv):
    """Rate limits counted per gunicorn worker would allow each worker its own budget."""
    result = _manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="fupin.example.gov.cn",
    )
    assert result.returncode == 1
    assert "Production needs CACHE_URL" in result.stderr


def test_a_malformed_rate_limit_is_refused_at_start(no_dotenv):
    result = _manage("check", RATE_LIMIT_SEARCH="sixty a minute")
    assert result.returncode == 1
    assert "RATE_LIMIT_SEARCH must look like 60/m" in result.stderr
