"""The documented production environment (README "Production"), for the tests that start the
settings with `DJANGO_ENV=production` in a subprocess: every variable production refuses to start
without, and nothing from a developer's shell or `.env`. A test of one refusal overrides or
blanks its own variable. `settings_subprocess` starts the settings with only the variables a
test gives (the embedded default otherwise)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "povertyapp.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,fupin.example.gov.cn",
        # Rate limits are counted in a cache every gunicorn worker shares.
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        # Encryption at rest: real keys, never the development ones.
        "FIELD_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(48),
        **extra,
    }


def settings_subprocess(
    *names: str, setup: bool = False, **environment: str
) -> subprocess.CompletedProcess[str]:
    """The named settings printed, one a line, by a fresh process whose environment is only
    `environment` (with the path and locale): what the settings make of those variables, a
    refusal (`ImproperlyConfigured` on stderr, exit 1) included. With `setup`, Django starts
    its apps first (`django.setup()`), so that a refusal made when they start shows too. Skips
    the test when the project root holds a `.env`, which would supply settings of its own."""
    if (ROOT / ".env").exists():
        pytest.skip(".env in the project root would supply settings to the subprocess")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "povertyapp.settings",
        **environment,
    }
    code = ("import django; django.setup(); " if setup else "") + (
        "from django.conf import settings; "
    )
    code += "; ".join(f"print(settings.{name})" for name in names)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
