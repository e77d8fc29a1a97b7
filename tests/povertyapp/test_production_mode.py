"""Production mode with the documented environment (README "Production") passes Django's and
drf-spectacular's deploy checks without a single warning, and turns on the security headers."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _production(*args: str) -> subprocess.CompletedProcess[str]:
    # Only the documented variables (README "Production"), none of a developer's .env.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1:8130",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "DJANGO_SETTINGS_MODULE": "povertyapp.settings",
        # Encryption at rest (issue 14): production refuses to start without real keys.
        "FIELD_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(48),
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_check_deploy_passes_at_fail_level_warning():
    result = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_select_the_hardened_storage_and_headers():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND']); print(s.SECURE_HSTS_SECONDS); "
        "print(s.SECURE_SSL_REDIRECT); print(s.DEBUG); "
        "print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src']); "
        "print('povertyapp.headers.NoStoreMiddleware' in s.MIDDLEWARE)"
    )
    result = _production("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "povertyapp.staticfiles.ProductionStaticFilesStorage",
        "31536000",
        "True",
        "False",
        "[\"'self'\"]",
        "True",
    ]
