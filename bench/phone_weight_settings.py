"""Settings for bench/phone_weight.py only: the bench's settings (DEBUG off, the production URLs
plus the bare view) with the static files as production serves them: whitenoise over the
collected copy with hashed names and gzip/brotli copies (collected into BENCH_STATIC_ROOT)."""

import os

from bench.pages_settings import *  # noqa: F403

STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "povertyapp.staticfiles.ProductionStaticFilesStorage"},
}
