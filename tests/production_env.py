"""The documented production environment (README "Production"), for the tests that start the
settings with `DJANGO_ENV=production` in a subprocess: every variable production refuses to start
without, and nothing from a developer's shell or `.env`. A test of one refusal overrides or
blanks its own variable."""

from __future__ import annotations

import base64
import os
import secrets


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
