"""Django settings for Memorial.

Every value comes from the environment (see `.env.example`). Defaults are the
embedded, single-machine run: SQLite and a private Redis in the data folder.
Secure by default: DEBUG is off and cookies are secure when MEMORIAL_HTTPS is on.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from memorial import config

env = environ.Env()
BASE_DIR = config.BASE_DIR
DATA_DIR: Path = config.data_dir()

SECRET_KEY = config.secret_key(DATA_DIR)
DEBUG = env.bool("MEMORIAL_DEBUG", default=False)
ALLOWED_HOSTS = env.list("MEMORIAL_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("MEMORIAL_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("MEMORIAL_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

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
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "storages",
    "memorial.core",
    "memorial.accounts",
    "memorial.memorials",
    "memorial.consent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
        "CONFIG": {"hosts": [REDIS_URL]},
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

# --- E-mail: printed to the console unless EMAIL_URL names an SMTP server.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("MEMORIAL_FROM_EMAIL", default="Memorial <memorial@localhost>")

# --- Storage: a local folder, or any S3-compatible store when MEMORIAL_S3_BUCKET is set.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = None  # never served directly: see memorial.memorials.media
S3_BUCKET = env.str("MEMORIAL_S3_BUCKET", default="")
if S3_BUCKET:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("MEMORIAL_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("MEMORIAL_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("MEMORIAL_S3_SECRET_KEY", default="") or None,
            "region_name": env.str("MEMORIAL_S3_REGION", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("MEMORIAL_S3_URL_SECONDS", default=300),
            "file_overwrite": False,
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }
else:
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Behind nginx, hand private files to it after the permission check (internal location).
MEDIA_X_ACCEL_PREFIX = env.str("MEMORIAL_X_ACCEL_PREFIX", default="")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

# --- Uploads
UPLOAD_MAX_BYTES = env.int("MEMORIAL_UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("MEMORIAL_UPLOAD_MAX_PIXELS", default=50_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
PHOTOS_PER_PAGE = env.int("MEMORIAL_PHOTOS_PER_PAGE", default=48)

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "memorial.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Memorial API",
    "DESCRIPTION": "Memorials, members, photos and consent records of a Memorial instance.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
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
