"""Settings for bench/province.py only: the project's settings with the bench's URLconf (the
production URLs plus the plain Django views the pages are measured against, and the bare view)
and the bench's templates; production URLs never have these views."""

from povertyapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.province_urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]  # noqa: F405
RATE_LIMIT_SEARCH = "100000/m"  # the check still runs per request; 16 users × 400 requests
