"""Settings for bench/pages.py only: the project's settings with the bench's URLconf, which adds
a bare Django view (the baseline) that production URLs never have."""

from povertyapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pages_urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
