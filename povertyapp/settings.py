"""Settings, read from the environment.

With nothing set, the project runs on its embedded default: SQLite and Celery in eager mode, so a
newcomer needs no server. `DATABASE_URL` and `CELERY_BROKER_URL` select PostgreSQL and Redis.
`DJANGO_ENV=production` turns on the deploy settings and refuses to start without a secret key and
allowed hosts.
"""

import re
import sys
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
# `collectstatic` is a build step (an image or a release is built before it meets its
# services): it reads no personal data and counts no rate limit, so production's demands on the
# running services (a shared cache, the encryption keys) do not stop it. Everything else is
# checked as for the running site.
BUILD_STEP = sys.argv[1:2] == ["collectstatic"]
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Production needs SECRET_KEY (at least 50 characters).")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Production needs ALLOWED_HOSTS.")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="development-only-key-never-used-in-production-0123456789abcdef"
    )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    # django.contrib.admin, with a site that requires the second factor (issue 14).
    "povertyapp.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # issue 14: expiring, revocable API tokens stored as hashes (povertyapp/tokens).
    "knox",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "povertyapp.apps.AxesConfig",
    "csp",
    # issue 14 (身份鉴别): TOTP two-factor sign-in and backup codes; the last passwords' hashes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_password_validators",
    "django_password_validators.password_history",
    "povertyapp",
    "households",
    "rounds",
    "assistance",
    "inspections",
    "monitoring",
    "years",
]

MIDDLEWARE = [
    "povertyapp.middleware.RequestIdMiddleware",
    # Next, so that it sees every refused answer (CSRF, axes, views, DRF) with its request id.
    "povertyapp.audit_events.RefusedRequestAuditMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise, so static files keep their own headers (issue 12: production mode).
    "csp.middleware.CSPMiddleware",
    "povertyapp.headers.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "povertyapp.middleware.ChineseUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor in this session (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Read-your-writes with a read replica (issue 19): after a write (POST…, also by API
    # token), the user's reads stay on the primary for REPLICA_STICKY_SECONDS.
    "povertyapp.middleware.ReplicaStickyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The steps after the password (second factor, an expired password) and the 12-hour limit.
    "povertyapp.security.middleware.SignInStepsMiddleware",
    # After sessions, users, messages and CSRF: a GET with an ID number in its query string is
    # not run (its terms move into a session token, the API answers 400); posted search terms
    # are kept behind a token (povertyapp/search_terms.py). Issue 14.
    "povertyapp.search_terms.SearchTermsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Issue 14: every request of the break-glass account is logged; it is signed out when its
    # window is over (povertyapp.security.break_glass).
    "povertyapp.security.break_glass.BreakGlassMiddleware",
    # Last, so that a locked-out login answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "povertyapp.urls"
WSGI_APPLICATION = "povertyapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "povertyapp.menu.menu_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while a job writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # No JIT: the pages' statements take milliseconds, and on a county's 100k households their
    # cost estimates cross jit_above_cost, so PostgreSQL spent 60–90 ms compiling a search's
    # count before running it for 50 (measured, docs/performance.md). Options given in
    # DATABASE_URL (?options=...) come after, so they win.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = " ".join(filter(None, ["-c jit=off", _pg_options.get("options")]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Read replicas (issue 19; povertyapp/db_router.py, docs/operations.md "Read replicas"): with
# DATABASE_REPLICA_URL (a PostgreSQL streaming standby of DATABASE_URL), the dashboards, the
# ledger exports and the rates job's aggregates read from it; writes and everything inside a
# transaction stay on the primary. A user is kept on the primary for REPLICA_STICKY_SECONDS
# after a write (read-your-writes); a job waits up to REPLICA_CATCH_UP_SECONDS for the replica
# to replay what the primary had when it began, else reads from the primary. Under pytest the
# alias is always there, as a TEST MIRROR of default (no second server), with REPLICA_READS off
# unless DATABASE_REPLICA_URL is set (.ci/replica.sh) or a test turns it on.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_READS = bool(DATABASE_REPLICA_URL)
REPLICA_STICKY_SECONDS = env.int("REPLICA_STICKY_SECONDS", default=15)
REPLICA_CATCH_UP_SECONDS = env.float("REPLICA_CATCH_UP_SECONDS", default=5.0)
if DATABASE_REPLICA_URL:
    if "postgresql" not in DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL.")
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    _replica["ATOMIC_REQUESTS"] = False
    _replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    _replica_options = _replica.setdefault("OPTIONS", {})
    _replica_options["options"] = " ".join(
        filter(None, ["-c jit=off", _replica_options.get("options")])
    )
elif "pytest" in sys.modules:
    _replica = {
        **DATABASES["default"],
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
    }
else:
    _replica = {}
if _replica:
    _replica["CONN_HEALTH_CHECKS"] = True
    # Tests (and .ci/replica.sh, whose replica is a real standby) read the test database.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["povertyapp.db_router.ReplicaRouter"]
if not 0 <= REPLICA_STICKY_SECONDS <= 3600:
    raise ImproperlyConfigured("REPLICA_STICKY_SECONDS must be between 0 and 3600.")

AUTH_USER_MODEL = "povertyapp.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "povertyapp.backends.ModelBackendWithRegion",
]
# Passwords (等保 2.0 身份鉴别): 12 to 128 characters, three of four character classes, nothing
# derived from the username, no ID number or the user's phone, not a common password, not one of
# the last PASSWORD_HISTORY_COUNT; expired after PASSWORD_MAX_AGE_DAYS (povertyapp/security/).
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=12)
PASSWORD_HISTORY_COUNT = env.int("PASSWORD_HISTORY_COUNT", default=5)
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "povertyapp.security.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "povertyapp.security.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {
        "NAME": "povertyapp.validators.CharacterClassValidator",
        "OPTIONS": {"min_classes": 3},
    },
    {"NAME": "povertyapp.security.passwords.UsernameDerivedValidator"},
    {"NAME": "povertyapp.security.passwords.PersonalNumberValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "povertyapp.security.passwords.RecentPasswordsValidator",
        "OPTIONS": {"last_passwords": PASSWORD_HISTORY_COUNT},
    },
]
if PRODUCTION and (
    PASSWORD_MIN_LENGTH < 12 or PASSWORD_HISTORY_COUNT < 5 or not 1 <= PASSWORD_MAX_AGE_DAYS <= 90
):
    raise ImproperlyConfigured(
        "Production (等保 2.0 level 3) needs PASSWORD_MIN_LENGTH >= 12, "
        "PASSWORD_HISTORY_COUNT >= 5 and PASSWORD_MAX_AGE_DAYS between 1 and 90."
    )
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session expires after this many seconds without a request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
# The idle deadline moves forward with use, saved at most once a minute (povertyapp/sessions.py).
SESSION_ENGINE = "povertyapp.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute limit: a session ends this many seconds after its sign-in, however active (12 h).
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)

# Two-factor sign-in (django-otp, povertyapp/security/second_factor.py): TOTP required for the
# county office, township reviewers, auditors, the three administrators and superusers, open to
# everyone. The demo (embedded default) and the tests let the printed logins in without it;
# production refuses to start with that on (below).
SECOND_FACTOR_DEMO_EXEMPT = env.bool("DEMO_WITHOUT_SECOND_FACTOR", default=not PRODUCTION)
if PRODUCTION and SECOND_FACTOR_DEMO_EXEMPT:
    raise ImproperlyConfigured(
        "Production refuses DEMO_WITHOUT_SECOND_FACTOR: every required role needs its "
        "second factor."
    )
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="精准扶贫管理系统")
# Wrong codes: django-otp doubles the wait after each one; after SECOND_FACTOR_FAILURE_LIMIT in a
# row the device is locked for AXES_COOLOFF_TIME hours, as a password is.
SECOND_FACTOR_FAILURE_LIMIT = env.int("SECOND_FACTOR_FAILURE_LIMIT", default=5)
# django-password-validators keeps salted PBKDF2 hashes of the last passwords (200,000 rounds).
DPV_DEFAULT_HISTORY_HASHER = "django_password_validators.password_history.hashers.HistoryHasher"

# django-axes: lock the username (from any address) after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# Locked by username, not by address: a village office reaches the county server through one
# NAT address, so locking the address would lock out every cadre in the office (hence W006).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The covering indexes of 信息录入率 (households migration 0008) are a PostgreSQL speed-up; on
    # SQLite, the embedded default, they are plain indexes, which is all it needs.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# A filter's empty choice reads 全部 ("All"), never django-filter's `---------` (the forms' own
# empty choices: povertyapp/forms.py).
FILTERS_EMPTY_CHOICE_LABEL = _("全部")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # MEDIA_ROOT, with no URL: stored files are served only by the file door (issue 12 below).
    "default": {"BACKEND": "povertyapp.files.storage.PrivateFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "povertyapp.staticfiles.ProductionStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a missing, bad, expired or revoked token answers 401 with
        # `WWW-Authenticate: Token` (the first class names the challenge), not 403.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "povertyapp.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "povertyapp.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "povertyapp.api.exception_handlers.exception_handler",
    # Per-user budget of every API request (RATE_LIMIT_API below; povertyapp/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": ["povertyapp.api.throttles.ApiThrottle"],
}
# API tokens (django-rest-knox, povertyapp/tokens): each expires API_TOKEN_TTL_HOURS after it
# was issued (never renewed by use), is stored only as a hash, and is revoked on logout, on a
# password change and when the account is disabled. A user holds at most
# API_TOKEN_LIMIT_PER_USER unexpired tokens.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=8)
API_TOKEN_LIMIT_PER_USER = env.int("API_TOKEN_LIMIT_PER_USER", default=10)
if not 0 < API_TOKEN_TTL_HOURS <= 24 * 30:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be between 1 and 720.")
if PRODUCTION and API_TOKEN_TTL_HOURS > 24:
    raise ImproperlyConfigured("Production refuses API_TOKEN_TTL_HOURS above 24 (等保: 会话时限).")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",  # the header clients already send: "Authorization: Token …"
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": API_TOKEN_LIMIT_PER_USER,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "精准扶贫 case management API",
    "DESCRIPTION": "Regions, households and members of the county registry.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
}

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TIMEZONE = TIME_ZONE
# Queues (docs/operations.md, "Queues"): a long ledger export or import, or a province's rates
# fan-out, must not hold up a cadre's small job. `celery` (the default: small jobs and the beat
# tasks), `heavy` (ledger exports, imports, the national reconciliation) and `rates` (the jobs
# of a rates fan-out: a province's counties and its roll-up). A worker started without `-Q`
# consumes every queue declared here (one county server: one worker does everything); a larger
# deployment starts workers per queue (`-Q heavy`, `-Q celery,rates`).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {name: {"routing_key": name} for name in ("celery", "heavy", "rates")}
# Every task has its route (tests/povertyapp/test_celery_routes.py checks it). The job runners'
# route is per job, by its kind (`JOB_QUEUES`; a job of a fan-out goes to `rates`): the router
# `povertyapp.celery_routes.route_job` reads the job row when the dispatch does not name the
# queue itself (`povertyapp.jobs` names it for a chord's jobs, read in one statement).
CELERY_TASK_ROUTES = [
    "povertyapp.celery_routes.route_job",
    {
        "assistance.tasks.enqueue_coverage_jobs_task": {"queue": "celery"},
        "households.tasks.cleanup_import_files_task": {"queue": "celery"},
        "households.tasks.enqueue_quality_jobs_task": {"queue": "celery"},
        "households.tasks.enqueue_member_completeness_jobs_task": {"queue": "celery"},
        "inspections.tasks.mark_overdue_rectification_task": {"queue": "celery"},
        "monitoring.figures.refresh_figures_task": {"queue": "celery"},
        "povertyapp.tasks.archive_audit_task": {"queue": "heavy"},
        "povertyapp.tasks.cleanup_job_files_task": {"queue": "celery"},
        "povertyapp.tasks.clear_expired_sessions_task": {"queue": "celery"},
        "povertyapp.tasks.disable_inactive_accounts_task": {"queue": "celery"},
        "povertyapp.tasks.expire_break_glass_task": {"queue": "celery"},
        "povertyapp.tasks.sweep_jobs_task": {"queue": "celery"},
        "rounds.tasks.compute_open_rounds_task": {"queue": "rates"},
        "rounds.tasks.prune_figure_history_task": {"queue": "celery"},
    },
]
# The queue of each job kind that is not a small one (`povertyapp.celery_routes.job_queue`);
# every other kind runs on `celery`, and any job of a fan-out (`parameters["serial"]`) on
# `rates`.
JOB_QUEUES = {
    "ledger_export": "heavy",
    "households_import": "heavy",
    "households.onboarding_import": "heavy",
    "assistance.measures_import": "heavy",
    "assistance.pairings_import": "heavy",
    "assistance.projects_import": "heavy",
    "monitoring.list_import": "heavy",
    "rounds.changes_import": "heavy",
    "national_reconcile": "heavy",
    "rollup_rates": "rates",
}
# Periodic work, each with its schedule in words. Apps add their entries here.
CELERY_BEAT_SCHEDULE: dict = {
    "assistance-coverage-nightly": {
        # Every night at 01:40: the policy-coverage table (防漏表) of every county, one job each,
        # at most one a night (issue 16).
        "task": "assistance.tasks.enqueue_coverage_jobs_task",
        "schedule": crontab(hour=1, minute=40),
    },
    "member-completeness-nightly": {
        # Every night at 00:20: the members' 信息录入率 sums of every county's households brought
        # up to the new day (birthdays that crossed an age bound, members written during the
        # day), one job each, before the rates at 02:30 read them (issue 19).
        "task": "households.tasks.enqueue_member_completeness_jobs_task",
        "schedule": crontab(hour=0, minute=20),
    },
    "data-quality-nightly": {
        # Every night at 01:10: the data-quality check (问题数据检查) of every county, one job
        # each, at most one a night (issue 16; before, it ran only on the page's button).
        "task": "households.tasks.enqueue_quality_jobs_task",
        "schedule": crontab(hour=1, minute=10),
    },
    "cleanup-job-files": {
        # Every night at 03:10: generated ledgers and reports older than 7 days are removed.
        "task": "povertyapp.tasks.cleanup_job_files_task",
        "schedule": crontab(hour=3, minute=10),
    },
    "cleanup-import-files": {
        # Every night at 03:20: uploaded import workbooks older than LEDGER_IMPORT_RETENTION_HOURS
        # (previews never confirmed, files of crashed jobs) are removed: they hold personal data.
        "task": "households.tasks.cleanup_import_files_task",
        "schedule": crontab(hour=3, minute=20),
    },
    "compute-rates-open-rounds": {
        # Every night at 02:30: the figures of every open dynamic-adjustment round, per county.
        "task": "rounds.tasks.compute_open_rounds_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "clear-expired-sessions": {
        # Every night at 03:40: sessions past their idle or 12-hour limit are deleted (issue 14).
        "task": "povertyapp.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=40),
    },
    "prune-figure-history": {
        # Every night at 03:50: the dated figure history (rounds.FigureHistory, the work desk's
        # "changed since last week") older than FIGURE_HISTORY_WEEKS weeks is deleted.
        "task": "rounds.tasks.prune_figure_history_task",
        "schedule": crontab(hour=3, minute=50),
    },
    "mark-overdue-rectification": {
        # Every morning at 06:00: open 督查整改 items past their deadline get an 整改逾期 event.
        "task": "inspections.tasks.mark_overdue_rectification_task",
        "schedule": crontab(hour=6, minute=0),
    },
}

# Weeks of dated figure history kept (rounds.history): the work desk compares with a week ago;
# eight weeks leave room for a look back at a recomputation's effect over two months.
FIGURE_HISTORY_WEEKS = env.int("FIGURE_HISTORY_WEEKS", default=8)
if FIGURE_HISTORY_WEEKS < 2:
    raise ImproperlyConfigured("FIGURE_HISTORY_WEEKS must be at least 2 (the desk reads a week).")

CACHES = {
    "default": (
        env.cache("CACHE_URL")
        if env.str("CACHE_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Rate limits per user (issue 14; povertyapp/ratelimits.py), `N/s|m|h|d`, counted in the default
# cache. Defaults far above what a person does, so only a script or a harvest meets them:
# - RATE_LIMIT_SEARCH 60/m: a free-text search (page or API) or one page of its results; a
#   cadre types a search and pages through it every few seconds at most.
# - RATE_LIMIT_EXPORT 60/h: ledger exports; a county officer preparing a report exports a few
#   ledgers per township, not one a minute for an hour.
# - RATE_LIMIT_API 600/m: every API request (10 a second sustained for a minute); a client
#   paging through a county's 100k households at 500 a page needs 200.
RATE_LIMIT_SEARCH = env.str("RATE_LIMIT_SEARCH", default="60/m")
RATE_LIMIT_EXPORT = env.str("RATE_LIMIT_EXPORT", default="60/h")
RATE_LIMIT_API = env.str("RATE_LIMIT_API", default="600/m")
# - RATE_LIMIT_DECLARATION 10/h: public self-declarations (农户自主申报, issue 15) per declarant
#   address; a family declares once, a village office's shared connection a handful a day.
RATE_LIMIT_DECLARATION = env.str("RATE_LIMIT_DECLARATION", default="10/h")
for _name in ("RATE_LIMIT_SEARCH", "RATE_LIMIT_EXPORT", "RATE_LIMIT_API", "RATE_LIMIT_DECLARATION"):
    if not re.fullmatch(r"[1-9]\d*/[smhd]", globals()[_name]):
        raise ImproperlyConfigured(f"{_name} must look like 60/m (a count per s, m, h or d).")
if (
    PRODUCTION
    and not BUILD_STEP
    and CACHES["default"]["BACKEND"]
    in (
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    )
):
    # Each gunicorn worker would count its own rate limits (and keep its own cached figures).
    raise ImproperlyConfigured(
        "Production needs CACHE_URL (Redis, e.g. redis://127.0.0.1:6379/1): the rate limits "
        "must be counted in a cache shared by every gunicorn worker."
    )

# Privacy: full ID numbers, bank accounts and health details only for roles that hold the right.
SENSITIVE_MASK_CHAR = "*"

# Every handler masks ID and account numbers (povertyapp.privacy.MaskSensitiveFilter), including
# Django's own: `django.server` (runserver's request lines, query string included) and `django`
# (`django.request` logs the path of every 4xx/5xx) get their handlers from here instead of from
# Django's DEFAULT_LOGGING, whose handlers have no filter. gunicorn's access log masks in
# povertyapp/gunicorn_logging.py, Celery's worker log in povertyapp/celery.py.
# tests/povertyapp/test_log_masking.py checks that every configured handler carries the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_sensitive": {"()": "povertyapp.privacy.MaskSensitiveFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_sensitive"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_sensitive"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default handlers replaced: the root's masked console instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The audit trail (issue 14, 安全审计): rows are kept in the database this many days (at least
# 180: GB/T 22239-2019 and the 网络安全法), then the monthly archive task writes them to a
# compressed JSON-lines file under AUDIT_ARCHIVE_DIR and deletes them (never before).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
AUDIT_ARCHIVE_DIR = Path(env.str("AUDIT_ARCHIVE_DIR", default=str(MEDIA_ROOT / "audit-archive")))
if PRODUCTION and AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 180 (等保 2.0 安全审计).")
CELERY_BEAT_SCHEDULE["archive-audit-log"] = {
    # On the 1st of every month at 04:10: audit rows older than AUDIT_RETENTION_DAYS are
    # archived to a file, then removed from the table (povertyapp.audit.archive).
    "task": "povertyapp.tasks.archive_audit_task",
    "schedule": crontab(day_of_month=1, hour=4, minute=10),
}
# Encryption at rest (issue 14, 数据保密性; povertyapp/crypto.py): ID numbers, bank accounts
# and health details are stored encrypted. FIELD_ENCRYPTION_KEYS: comma-separated
# "key-id:base64-of-32-bytes", the first one encrypts (`manage.py generate_encryption_key`), or
# FIELD_ENCRYPTION_KEY_FILE: a file of such lines (first = current). BLIND_INDEX_KEY: a separate
# secret (at least 32 characters) for the keyed index that finds an exact ID number. Without
# them, fixed development keys are used; production refuses to start (below).
FIELD_ENCRYPTION_ALGORITHM = env.str("FIELD_ENCRYPTION_ALGORITHM", default="aes-256-gcm")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_ENCRYPTION_KEY_FILE = env.str("FIELD_ENCRYPTION_KEY_FILE", default="")
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")
# The benchmark's baseline only (bench/encryption.py): new values are written in plain text.
FIELD_ENCRYPTION_PLAINTEXT = env.bool("FIELD_ENCRYPTION_PLAINTEXT", default=False)
if FIELD_ENCRYPTION_ALGORITHM not in ("aes-256-gcm", "sm4-gcm"):
    raise ImproperlyConfigured("FIELD_ENCRYPTION_ALGORITHM must be aes-256-gcm or sm4-gcm.")
if PRODUCTION and not BUILD_STEP:
    if not (FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE):
        raise ImproperlyConfigured(
            "Production needs FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE "
            "(manage.py generate_encryption_key prints a key)."
        )
    if len(BLIND_INDEX_KEY) < 32:
        raise ImproperlyConfigured("Production needs BLIND_INDEX_KEY (at least 32 characters).")
    if FIELD_ENCRYPTION_PLAINTEXT:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_PLAINTEXT is for the benchmark only.")

# Jobs: generated files are kept this many days, then removed by the nightly clean-up.
JOB_FILE_RETENTION_DAYS = env.int("JOB_FILE_RETENTION_DAYS", default=7)
# Ledgers of more rows than this are written by a background job, not in the request.
LEDGER_JOB_THRESHOLD = env.int("LEDGER_JOB_THRESHOLD", default=5000)
# Rows of one worksheet (Excel's limit, 1,048,576): a longer ledger goes on in continuation
# sheets "name（2）", "name（3）"… (povertyapp/ledgers/layout.py; issue 15). Lowered by tests.
LEDGER_SHEET_MAX_ROWS = env.int("LEDGER_SHEET_MAX_ROWS", default=1_048_576)
# How long the monitoring dashboard's figures stay cached per region and day (seconds); model
# saves invalidate them at once, this bounds bulk writes that send no signal (issue 15).
MONITORING_DASHBOARD_CACHE_SECONDS = env.int("MONITORING_DASHBOARD_CACHE_SECONDS", default=600)
# An unmasked export (full ID, bank and health columns) of a whole county (or wider) or of more
# rows than this asks for a reason, which goes into the audit row (issue 14, 数据保密性).
UNMASKED_EXPORT_REASON_ROWS = env.int("UNMASKED_EXPORT_REASON_ROWS", default=500)

# The demo county (`manage.py seed_demo`, composed by `povertyapp.demo.seed`): each app's part,
# run in this order as `step(result=..., seed=...)`; every step is idempotent. The registry's
# step comes first: it builds the region tree, the users and the households the others read.
DEMO_STEPS = [
    "households.demo.step",
    "rounds.demo.build",
    "assistance.demo.step",
    "inspections.demo.step",
    "households.demo_cases.build",
    "monitoring.demo.seed_monitoring",
    "households.demo.national_step",
    "rounds.demo.figures_step",
    "rounds.demo.province_step",
    "years.demo.step",
    "povertyapp.demo.checks_step",
    "povertyapp.demo.history_step",
]

# Files (issue 12): every stored file goes through one door, `files:download`
# (povertyapp/files/), which checks the user's scope, logs the access and hands the file to
# django-sendfile2. MEDIA_ROOT is never routed: not by Django, not by the web server.
FILE_SERVING = env.str("FILE_SERVING", default="django")
FILE_SERVING_INTERNAL_URL = env.str("FILE_SERVING_INTERNAL_URL", default="/protected-media/")
# Download links are signed for one user and expire after this many seconds (default a day).
FILE_LINK_MAX_AGE = env.int("FILE_LINK_MAX_AGE", default=24 * 60 * 60)
if FILE_LINK_MAX_AGE < 60:
    raise ImproperlyConfigured("FILE_LINK_MAX_AGE must be at least 60 seconds.")
if FILE_SERVING not in ("django", "nginx"):
    raise ImproperlyConfigured("FILE_SERVING must be 'django' or 'nginx'.")
if not (
    FILE_SERVING_INTERNAL_URL.startswith("/")
    and FILE_SERVING_INTERNAL_URL.endswith("/")
    and len(FILE_SERVING_INTERNAL_URL) > 2
):
    raise ImproperlyConfigured("FILE_SERVING_INTERNAL_URL must look like /protected-media/.")
SENDFILE_BACKEND = (
    "django_sendfile.backends.nginx"
    if FILE_SERVING == "nginx"
    else "povertyapp.files.streaming"  # streams in blocks; sendfile2's "simple" reads it whole
)
SENDFILE_ROOT = str(MEDIA_ROOT)
SENDFILE_URL = FILE_SERVING_INTERNAL_URL.rstrip("/")


def _overlaps(first: Path, second: Path) -> bool:
    first, second = first.resolve(), second.resolve()
    return first == second or first in second.parents or second in first.parents


for _public in [Path(STATIC_ROOT), *(Path(directory) for directory in STATICFILES_DIRS)]:
    if _overlaps(MEDIA_ROOT, _public):
        raise ImproperlyConfigured(
            f"MEDIA_ROOT ({MEDIA_ROOT}) must lie outside the static files ({_public}): "
            "whatever is under STATIC_ROOT or STATICFILES_DIRS is public."
        )
# Security headers (issue 12: production mode), in every mode so that tests and the demo see
# what production sends. Content-Security-Policy (django-csp): scripts, styles, fonts, images and
# requests from this origin only, no inline script or style (templates use static/js/ files and
# data- attributes; tests/povertyapp/test_content_security_policy.py walks every template), no
# plugins, never framed, forms post only here. `data:` images: swagger-ui's and browsers' icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Error pages in the site's layout (povertyapp/errors.py); a CSRF failure is one of its 403s.
CSRF_FAILURE_VIEW = "povertyapp.errors.csrf_failure"
# `check --deploy` runs drf-spectacular's schema check too: one name per choice set shared by
# several fields (its warnings would fail `--fail-level WARNING`, the production gate).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "HouseholdStatusEnum": "households.models.Household.Status",
    "MeasureStatusEnum": "assistance.models.Measure.Status",
    "FundMovementKindEnum": "assistance.models.FundMovement.Kind",
    "FundSourceEnum": "assistance.models.FundSource",
    "ProjectApprovalEnum": "assistance.models.Project.Approval",
    # issue 15: the monitoring API's states, each its own name.
    "ClueStateEnum": "monitoring.models.Clue.State",
    "MonitoringObjectStateEnum": "monitoring.models.MonitoringObject.State",
    "CaseWorkflowStateEnum": "households.models.CaseWorkflow.State",
    # The sweeps API: its two states, and the priority groups and risks as lists.
    "SweepStateEnum": "monitoring.models.Sweep.State",
    "SweepHouseholdStateEnum": "monitoring.models.SweepHousehold.State",
    "PriorityGroupEnum": "monitoring.models.PriorityGroup",
    "RiskTypeEnum": "monitoring.models.RiskType",
    # issue 16: the procedures, problem data and rounds in the API.
    "CaseWorkflowKindEnum": "households.models.CaseWorkflow.Kind",
    "StepLevelEnum": "households.api.procedures.LEVEL_CHOICES",
    "StepTypeEnum": "households.api.procedures.STEP_TYPE_CHOICES",
    "AdjustmentRoundStatusEnum": "rounds.models.AdjustmentRound.Status",
    "RoundChangeKindEnum": "rounds.models.RoundChange.Kind",
    "RoundChangeStateEnum": "rounds.models.RoundChange.State",
}

# --- Faults and recovery (issue 12, part 4; docs/operations.md "Faults and recovery") -----------
# A restarted database costs at most the requests in flight: a persistent connection is checked
# before each request reuses it (CONN_MAX_AGE > 0 in production), not found dead by the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Publishing a job's task fails fast when Redis is away (povertyapp.jobs.job_dispatch publishes
# with retry=False; the job stays queued and the sweep sends it later), so a page is not held.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task (acks_late) is given to another worker after this many seconds.
    # It must exceed the longest task time limit, or a long job would be delivered twice while
    # it still runs (Redis's default, 3,600 s, equalled the job task's limit).
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 30 * 60
    ),
    "socket_connect_timeout": 3,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"timeout": 3.0}}
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT (a running job would be "
        "delivered to a second worker)."
    )
# The job sweep (povertyapp.tasks.sweep_jobs_task, every minute): jobs the broker never got are
# sent after JOB_DISPATCH_GRACE_SECONDS; jobs still queued JOB_REDISPATCH_SECONDS after being
# sent are sent again (the broker lost them); a running job whose heartbeat (written every
# JOB_HEARTBEAT_SECONDS by its worker) is older than JOB_HEARTBEAT_TIMEOUT_SECONDS lost its
# worker and is retried, up to JOB_MAX_ATTEMPTS attempts in all, then failed; a job running
# longer than CELERY_TASK_TIME_LIMIT + JOB_TIME_LIMIT_MARGIN_SECONDS is failed.
JOB_DISPATCH_GRACE_SECONDS = env.int("JOB_DISPATCH_GRACE_SECONDS", default=120)
JOB_REDISPATCH_SECONDS = env.int("JOB_REDISPATCH_SECONDS", default=30 * 60)
JOB_HEARTBEAT_SECONDS = env.int("JOB_HEARTBEAT_SECONDS", default=30)
JOB_HEARTBEAT_TIMEOUT_SECONDS = env.int("JOB_HEARTBEAT_TIMEOUT_SECONDS", default=5 * 60)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_TIME_LIMIT_MARGIN_SECONDS = env.int("JOB_TIME_LIMIT_MARGIN_SECONDS", default=5 * 60)
if JOB_HEARTBEAT_TIMEOUT_SECONDS < 3 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOB_HEARTBEAT_TIMEOUT_SECONDS must be at least 3 heartbeats.")
CELERY_BEAT_SCHEDULE["sweep-jobs"] = {
    # Every minute: resume or end jobs the broker or a worker lost (povertyapp.jobs.job_sweep).
    "task": "povertyapp.tasks.sweep_jobs_task",
    "schedule": crontab(),
}

# Issue 14, 访问控制 (povertyapp.security): accounts nobody signed in to for this many days
# (since the last sign-in, or since creation) are disabled by the nightly task; the break-glass
# account (the only superuser, `manage.py break_glass`) is enabled for at most
# BREAK_GLASS_MAX_HOURS, 2 hours unless the operator says otherwise.
ACCOUNT_INACTIVE_DAYS = env.int("ACCOUNT_INACTIVE_DAYS", default=90)
BREAK_GLASS_USERNAME = env.str("BREAK_GLASS_USERNAME", default="breakglass")
BREAK_GLASS_DEFAULT_HOURS = env.float("BREAK_GLASS_DEFAULT_HOURS", default=2)
BREAK_GLASS_MAX_HOURS = env.float("BREAK_GLASS_MAX_HOURS", default=8)
if ACCOUNT_INACTIVE_DAYS < 1:
    raise ImproperlyConfigured("ACCOUNT_INACTIVE_DAYS must be at least 1.")
if not 0 < BREAK_GLASS_DEFAULT_HOURS <= BREAK_GLASS_MAX_HOURS <= 24:
    raise ImproperlyConfigured(
        "BREAK_GLASS_DEFAULT_HOURS must be positive and at most BREAK_GLASS_MAX_HOURS (≤ 24)."
    )
CELERY_BEAT_SCHEDULE["disable-inactive-accounts"] = {
    # Every night at 00:30: accounts unused for ACCOUNT_INACTIVE_DAYS are disabled, each logged.
    "task": "povertyapp.tasks.disable_inactive_accounts_task",
    "schedule": crontab(hour=0, minute=30),
}
CELERY_BEAT_SCHEDULE["expire-break-glass"] = {
    # Every five minutes: the break-glass account is disabled once its window is over.
    "task": "povertyapp.tasks.expire_break_glass_task",
    "schedule": crontab(minute="*/5"),
}

# Upload limits (povertyapp/uploads.py, the one door for every uploaded file). Spreadsheets read
# by a job (the household import) use LEDGER_IMPORT_MAX_BYTES / _MAX_UNCOMPRESSED / _MAX_ROWS;
# those validated inside a web request (四类名单, assessment findings) the tighter UPLOAD_INLINE_*
# limits, so that no upload holds a web worker; evidence (procedure, 公示 and 整改 evidence) is
# limited to UPLOAD_EVIDENCE_MAX_BYTES. A page lists at most UPLOAD_ERRORS_SHOWN row errors.
LEDGER_IMPORT_MAX_BYTES = env.int("LEDGER_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
LEDGER_IMPORT_MAX_UNCOMPRESSED = env.int(
    "LEDGER_IMPORT_MAX_UNCOMPRESSED", default=1024 * 1024 * 1024
)
LEDGER_IMPORT_MAX_ROWS = env.int("LEDGER_IMPORT_MAX_ROWS", default=500_000)
# The import reads a households sheet of at least this many bytes of XML (about 12,000
# households) in a second process while it reads the members sheet (households.imports.beside);
# 0 reads both sheets in the job's own process.
LEDGER_IMPORT_BESIDE_BYTES = env.int("LEDGER_IMPORT_BESIDE_BYTES", default=16 * 1024 * 1024)
UPLOAD_INLINE_MAX_BYTES = env.int("UPLOAD_INLINE_MAX_BYTES", default=10 * 1024 * 1024)
UPLOAD_INLINE_MAX_UNCOMPRESSED = env.int(
    "UPLOAD_INLINE_MAX_UNCOMPRESSED", default=100 * 1024 * 1024
)
UPLOAD_INLINE_MAX_ROWS = env.int("UPLOAD_INLINE_MAX_ROWS", default=500)
UPLOAD_EVIDENCE_MAX_BYTES = env.int("UPLOAD_EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
UPLOAD_ERRORS_SHOWN = env.int("UPLOAD_ERRORS_SHOWN", default=50)
# Field photos (povertyapp/photos.py): the largest upload accepted (the phone sends ~300 KB after
# resizing; a browser without the script sends the camera's original), the most pixels decoded
# (Pillow's MAX_IMAGE_PIXELS: a decompression bomb is refused before decoding), the longest
# side stored, and how many photos one visit or 入户核实 may carry.
PHOTO_UPLOAD_MAX_BYTES = env.int("PHOTO_UPLOAD_MAX_BYTES", default=15 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=50_000_000)
PHOTO_MAX_SIDE = env.int("PHOTO_MAX_SIDE", default=1600)
PHOTO_MAX_PER_OWNER = env.int("PHOTO_MAX_PER_OWNER", default=9)
# A list counts at most this many matches: the household list for a filter its kept
# per-village and per-county counts cannot answer (a name searched across a province), and
# every paginated API list (povertyapp.api.pagination). Past it the list says "more than N,
# narrow the search" and pages through the first N.
LIST_COUNT_CAP = env.int("LIST_COUNT_CAP", default=10_000)
if LIST_COUNT_CAP < 1:
    raise ImproperlyConfigured("LIST_COUNT_CAP must be at least 1.")
# A name search counts at most this many households (page and API): it is counted from the
# matching members (households.selectors._name_matches), at a cost that grows with the matches
# read, and one surname matches 18,720 persons of a 80万-person county. A person searched by
# name is among the first few matches; past the cap the page says "more than N, narrow the
# search" (a full name, a village) and pages through the first N: 10 pages of 20, more than
# anyone reads through to find one person. At 1,000 the count of a surname was two thirds of
# the search's time in the database (docs/performance.md, "A name search counted to 200").
SEARCH_COUNT_CAP = env.int("SEARCH_COUNT_CAP", default=200)
if not 1 <= SEARCH_COUNT_CAP <= LIST_COUNT_CAP:
    raise ImproperlyConfigured("SEARCH_COUNT_CAP must be between 1 and LIST_COUNT_CAP.")
