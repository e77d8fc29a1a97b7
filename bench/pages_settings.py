"""Settings for bench/pages.py only: the project's settings with the bench's URLconf, which adds
a bare Django view (the baseline) that production URLs never have."""

from povertyapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pages_urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The search scenario's 16 users send 400 searches within seconds: past the production limit
# (`RATE_LIMIT_SEARCH`) most were refused and timed as errors. The check still runs per request.
RATE_LIMIT_SEARCH = "100000/m"
