"""Django settings for Memorial.

Every value comes from the environment (see `.env.example`). Defaults are the
embedded, single-machine run: SQLite and a private Redis in the data folder.
Secure by default: DEBUG is off and cookies are secure when MEMORIAL_HTTPS is on.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

from memorial import config

env = environ.Env()
BASE_DIR = config.BASE_DIR
DATA_DIR: Path = config.data_dir()

SECRET_KEY = config.secret_key(DATA_DIR)
DEBUG = env.bool("MEMORIAL_DEBUG", default=False)
# Links in e-mails and invitations: MEMORIAL_SITE_URL, else the address Memorial listens on
# (MEMORIAL_BIND, MEMORIAL_PORT); the launcher prints which one it uses.
SITE_URL = config.site_url()[0]
ALLOWED_HOSTS = env.list("MEMORIAL_ALLOWED_HOSTS", default=config.default_allowed_hosts(SITE_URL))
CSRF_TRUSTED_ORIGINS = env.list("MEMORIAL_CSRF_TRUSTED_ORIGINS", default=[])

# Behind a TLS-terminating proxy: trust its header, and never send cookies in clear.
HTTPS = env.bool("MEMORIAL_HTTPS", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("MEMORIAL_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("MEMORIAL_HSTS_SECONDS", default=60 * 60 * 24 * 30)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "storages",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "memorial.core",
    "memorial.accounts",
    "memorial.memorials",
    "memorial.consent",
    "memorial.jobs",
    "memorial.audit",
    "memorial.moderation",
    "memorial.provenance",
    "memorial.videos",
    "memorial.restoration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside every middleware that may answer or replace a page (django-axes' lockout page
    # last of all), so the policy header is written after the page used its nonce.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in answers (pages, API, media) are "Cache-Control: private, no-store".
    "memorial.core.caching.PrivateCacheMiddleware",
    # Two-factor sign-in (TOTP): who has verified a code since signing in, then the gate that asks.
    "django_otp.middleware.OTPMiddleware",
    "memorial.accounts.two_factor.TwoFactorMiddleware",
    "memorial.audit.context.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "memorial.urls"
ASGI_APPLICATION = "memorial.asgi.application"
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
            ],
        },
    },
]

# --- Database: SQLite in the data folder unless DATABASE_URL names PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'memorial.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Waiting for a lock beats failing an upload when the worker writes at the same time.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and results, and the Channels layer.
REDIS_URL = env.str("REDIS_URL", default=config.default_redis_url(DATA_DIR))
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times out socket reads after 5 s by default, the same 5 s for which
        # channels_redis blocks waiting for a message (BZPOPMIN): an idle websocket then dies
        # with "Timeout reading". Allow longer reads; a dead Redis is still noticed.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
    }
}
CELERY_BROKER_URL = config.celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = config.celery_url(REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_QUEUES_NAMES = ("cpu", "gpu")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Long jobs (training runs for hours on one GPU); see memorial/jobs/tasks.py for each task's limits.
# Acknowledge a message only when its task has finished, so a worker that dies mid-job
# (SIGKILL, lost node) does not lose it: the broker delivers it again to another worker.
CELERY_TASK_ACKS_LATE = True
# ... and when the pool process running it is killed, put it back rather than fail it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker holds one message at a time: a second prefetched job would wait behind a
# many-hour training run while another worker sits idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A fresh process per task: GPU memory (and the CPU allocator's) is returned to the system
# after every job, and one job's CUDA state can never leak into the next.
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1
# The longest a job may run (the soft limit stops it cleanly with a checkpoint; the hard limit
# follows a few minutes later).
JOB_MAX_SECONDS = env.int("MEMORIAL_JOB_MAX_SECONDS", default=24 * 3600)
# A page that queues a job never hangs on an absent broker: connecting gives up after this many
# seconds, and the job stays queued in the ledger for the sweep to send later.
BROKER_TIMEOUT_SECONDS = env.float("MEMORIAL_BROKER_TIMEOUT_SECONDS", default=2.0)
# Redis redelivers an unacknowledged message after this long; it must be longer than the
# longest job, or a running job would be delivered again (the lease would stop it running
# twice, but it would wait for nothing). Tests lower it to prove redelivery after SIGKILL.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("MEMORIAL_VISIBILITY_TIMEOUT", default=JOB_MAX_SECONDS + 3600),
    "unacked_restore_interval": env.int("MEMORIAL_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("MEMORIAL_UNACKED_RESTORE_THROTTLE", default=10),
    # A reply that never comes is given up after 10 s (longer than an idle worker's 1 s BRPOP).
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": 10.0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
# Publishing gives up after two quick retries (under half a second in all).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# A queued job whose message is in no queue (the broker was away when it was sent) is sent again
# by the periodic sweep after this many seconds unchanged (memorial/jobs/sweep.py).
JOB_RESEND_AFTER_SECONDS = env.float("MEMORIAL_JOB_RESEND_AFTER_SECONDS", default=120.0)
CELERY_TASK_ROUTES = {
    "memorial.jobs.prepare": {"queue": "cpu"},
    "memorial.jobs.train": {"queue": "gpu"},
    "memorial.jobs.generate": {"queue": "gpu"},
    "memorial.jobs.evaluate": {"queue": "cpu"},
    "memorial.videos.speak": {"queue": "gpu"},
    "memorial.videos.film": {"queue": "gpu"},
}
# At most one worker runs a job: a Redis lease renewed by a heartbeat, lost after this long.
JOB_LEASE_SECONDS = env.float("MEMORIAL_JOB_LEASE_SECONDS", default=60.0)
# Fairness: running GPU jobs per family at most (and always one per memorial); a job that must
# wait stays queued and is delivered again after its blocker's ETA, at most this many seconds.
JOBS_PER_FAMILY = env.int("MEMORIAL_JOBS_PER_FAMILY", default=2)
JOB_FAIRNESS_RECHECK_SECONDS = env.float("MEMORIAL_JOB_FAIRNESS_RECHECK_SECONDS", default=30.0)
# Workers write a heartbeat this often (seconds); three missed beats and a worker shows as lost.
WORKER_HEARTBEAT_SECONDS = env.float("MEMORIAL_WORKER_HEARTBEAT_SECONDS", default=10.0)
# Training steps a worker times when it starts (tasks.probe_speed), so that the "Train a model"
# form's estimate uses this machine's speed before any training has finished; 0 = no probe.
WORKER_SPEED_PROBE_STEPS = env.int("MEMORIAL_WORKER_SPEED_PROBE_STEPS", default=5)
# Prometheus may read /metrics with "Authorization: Bearer <this>" (staff may always read it).
METRICS_TOKEN = env.str("MEMORIAL_METRICS_TOKEN", default="")
# Progress messages per job and second, at most (state changes are always sent).
JOB_PROGRESS_INTERVAL = env.float("MEMORIAL_JOB_PROGRESS_INTERVAL", default=0.5)
# Engine settings forced onto every training job (e.g. {"device": "cpu", "threads": 2} on a
# machine without a GPU, or the tiny configurations of the tests).
JOB_ENGINE_OVERRIDES = env.json("MEMORIAL_JOB_ENGINE_OVERRIDES", default={})
# The longest voice recording a talking portrait accepts (seconds); longer ones are refused
# with the limit stated rather than cut silently.
VIDEO_MAX_SECONDS = env.float("MEMORIAL_VIDEO_MAX_SECONDS", default=60.0)
# CPU-seconds a restoration spends teaching the face enlarger the person's own face from the
# family's photos (under approved consent for training) before enlarging; 0 = the general model.
# Off by default: 120 s measured no better than the general model (BENCHMARKS.md, "Photo
# restoration", the personalised enlarger).
RESTORE_PERSONAL_SECONDS = env.float("MEMORIAL_RESTORE_PERSONAL_SECONDS", default=0.0)
# CPU-seconds a colourisation spends teaching the colouriser the person's colours from the
# family's colour photos (under approved consent for training); 0 = the general colouriser.
RESTORE_PERSONAL_COLOUR_SECONDS = env.float(
    "MEMORIAL_RESTORE_PERSONAL_COLOUR_SECONDS", default=60.0
)
# General face priors (`python -m gan_engine pretrain --out <here>/<name>`) offered by the "Train a
# model" form; each worker reads the same folder (install priors on every GPU worker).
# Generated samples the evaluation after each training compares with the held-out photos (more:
# steadier figures, a longer evaluation job on the cpu queue).
JOB_EVALUATION_SAMPLES = env.int("MEMORIAL_JOB_EVALUATION_SAMPLES", default=64)
PRIORS_DIR = Path(env.str("MEMORIAL_PRIORS_DIR", default=str(DATA_DIR / "priors")))

# --- Accounts
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "memorials:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
INVITATION_DAYS = env.int("MEMORIAL_INVITATION_DAYS", default=14)
# Login throttling (django-axes): lock an e-mail and address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("MEMORIAL_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("MEMORIAL_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Password-reset e-mails (django-ratelimit syntax): per client address and per e-mail address.
# Past either limit the page answers as usual but sends nothing.
MEMORIAL_PASSWORD_RESET_RATE = env.str("MEMORIAL_PASSWORD_RESET_RATE", default="10/h")
MEMORIAL_PASSWORD_RESET_EMAIL_RATE = env.str("MEMORIAL_PASSWORD_RESET_EMAIL_RATE", default="3/h")
# Two-factor sign-in (django-otp, TOTP): optional for staff; with this on, staff pages first ask
# staff to set up an authenticator app.
MEMORIAL_STAFF_REQUIRE_2FA = env.bool("MEMORIAL_STAFF_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = "Memorial"

# --- Retiring a memorial: a requested deletion can be undone for this many days.
MEMORIAL_DELETION_COOLING_OFF_DAYS = env.int("MEMORIAL_DELETION_COOLING_OFF_DAYS", default=14)

# --- E-mail: printed to the console unless EMAIL_URL names an SMTP server.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("MEMORIAL_FROM_EMAIL", default="Memorial <memorial@localhost>")

# --- Storage: a local folder, or a private S3-compatible bucket when MEMORIAL_S3_BUCKET is set
# (see config.default_storage for every MEMORIAL_S3_* variable).
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = None  # never served directly: see memorial.memorials.media
DEFAULT_STORAGE = config.default_storage(MEDIA_ROOT)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Behind nginx, hand private files to it after the permission check (internal location).
MEDIA_X_ACCEL_PREFIX = env.str("MEMORIAL_X_ACCEL_PREFIX", default="")
# Stored files are for this user only, unless nginx (another user) reads them for X-Accel-Redirect.
FILE_UPLOAD_PERMISSIONS = 0o644 if MEDIA_X_ACCEL_PREFIX else 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755 if MEDIA_X_ACCEL_PREFIX else 0o700

# Content-Security-Policy (django-csp): only this site's own files; the one inline script in
# base.html carries the per-request nonce. Media from S3 comes from the bucket's endpoint.
_s3 = DEFAULT_STORAGE.get("OPTIONS", {})
_s3_endpoint = _s3.get("public_endpoint_url") or _s3.get("endpoint_url") or ""
_s3_origins = (
    ["/".join(_s3_endpoint.split("/")[:3])]
    if _s3_endpoint
    else (["https://*.amazonaws.com"] if "bucket_name" in _s3 else [])
)
_csp_media = ["'self'", "data:", "blob:", *_s3_origins]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": _csp_media,
        "media-src": _csp_media,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env.bool("MEMORIAL_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at every start when it is missing
# With DEBUG off Django serves no static files: WhiteNoise does, from daphne itself, in the
# embedded run and in docker alike. Finders let it serve them straight from the source folders,
# so a fresh checkout and the test servers need no collectstatic step.
WHITENOISE_USE_FINDERS = True

# --- Takedown requests (memorial.moderation): answer likeness and intimate-image claims first.
MEMORIAL_TAKEDOWN_URGENT_HOURS = env.int("MEMORIAL_TAKEDOWN_URGENT_HOURS", default=48)
MEMORIAL_TAKEDOWN_STANDARD_HOURS = env.int("MEMORIAL_TAKEDOWN_STANDARD_HOURS", default=7 * 24)
MEMORIAL_TAKEDOWN_APPEAL_DAYS = env.int("MEMORIAL_TAKEDOWN_APPEAL_DAYS", default=183)
MEMORIAL_TAKEDOWN_RATE = env.str("MEMORIAL_TAKEDOWN_RATE", default="5/h")
# Rate limits (django-ratelimit) count in Redis, shared by every daphne process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "memorial-rl",
        # Redis away: a form fails open quickly instead of waiting (see moderation.views).
        "OPTIONS": {"socket_connect_timeout": BROKER_TIMEOUT_SECONDS, "socket_timeout": 5.0},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
# Behind a proxy, name the request header that carries the client's address, e.g.
# HTTP_X_REAL_IP when the proxy sets X-Real-IP; unset, the direct peer address counts.
RATELIMIT_IP_META_KEY = env.str("MEMORIAL_RATELIMIT_IP_META_KEY", default="") or None

# --- Uploads
UPLOAD_MAX_BYTES = env.int("MEMORIAL_UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("MEMORIAL_UPLOAD_MAX_PIXELS", default=50_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
PHOTOS_PER_PAGE = env.int("MEMORIAL_PHOTOS_PER_PAGE", default=48)
# The public "Verify a file" page: the largest file and picture anyone may have checked (signed-in
# members: the upload limits above), and how many checks run at once (more are answered 503).
PROVENANCE_VERIFY_MAX_BYTES = env.int("MEMORIAL_VERIFY_MAX_BYTES", default=8 * 1024 * 1024)
PROVENANCE_VERIFY_MAX_PIXELS = env.int("MEMORIAL_VERIFY_MAX_PIXELS", default=12_000_000)
PROVENANCE_VERIFY_CONCURRENCY = env.int("MEMORIAL_VERIFY_CONCURRENCY", default=2)

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "memorial.accounts.tokens.HashedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "memorial.core.api.exception_handler",
}
# Sign-in attempts for API tokens, per client address (DRF throttle rate syntax).
MEMORIAL_API_TOKEN_RATE = env.str("MEMORIAL_API_TOKEN_RATE", default="30/minute")
# API tokens expire: this many days unless the person chooses fewer or more, up to the maximum.
MEMORIAL_API_TOKEN_DAYS = env.int("MEMORIAL_API_TOKEN_DAYS", default=30)
MEMORIAL_API_TOKEN_MAX_DAYS = env.int("MEMORIAL_API_TOKEN_MAX_DAYS", default=365)
SPECTACULAR_SETTINGS = {
    "TITLE": "Memorial API",
    "DESCRIPTION": "Memorials, members, photos and consent records of a Memorial instance.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Internationalisation: English and Simplified Chinese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("MEMORIAL_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("MEMORIAL_LOG_LEVEL", default="INFO")},
}
