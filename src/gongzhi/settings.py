"""Django settings for Gongzhi: SQLite under a data folder by default, PostgreSQL from DATABASE_URL."""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GONGZHI_DATA_DIR", Path.cwd() / "data")).resolve()


def _local_secrets() -> dict:
    """Keys for a local install, made once and kept in the data folder.

    Production sets GONGZHI_SECRET_KEY / GONGZHI_PII_KEY / GONGZHI_PII_HASH_KEY
    in the environment instead (see docs/deploy.md).
    """
    path = DATA_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "secret_key": secrets.token_urlsafe(50),
        "pii_key": secrets.token_urlsafe(32),
        "pii_hash_key": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def _vendor_static() -> list:
    """Front-end libraries from PyPI packages that ship them (never a CDN): ECharts, Leaflet."""
    import instaui_echarts
    import xstatic.pkg.leaflet

    return [
        ("vendor/echarts", Path(instaui_echarts.__file__).parent / "static"),
        ("vendor/leaflet", Path(xstatic.pkg.leaflet.BASE_DIR)),
    ]


def _secret(env_name: str, local_name: str) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    return _local_secrets()[local_name]


SECRET_KEY = _secret("GONGZHI_SECRET_KEY", "secret_key")
PII_KEY = _secret("GONGZHI_PII_KEY", "pii_key")
PII_HASH_KEY = _secret("GONGZHI_PII_HASH_KEY", "pii_hash_key")

DEBUG = os.environ.get("GONGZHI_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("GONGZHI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("GONGZHI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "treebeard",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "gongzhi.core",
    "gongzhi.accounts",
    "gongzhi.orgs",
    "gongzhi.appeals",
    "gongzhi.participation",
    "gongzhi.notify",
    "gongzhi.dashboards",
    # Above every app: the demo, the benchmarks, site-wide commands.
    "gongzhi.demo",
    "gongzhi.bench",
    "gongzhi.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gongzhi.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gongzhi.accounts.middleware.ForcePasswordChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTHENTICATION_BACKENDS = ["gongzhi.accounts.backends.ThrottledBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (docs/deploy.md, "Login throttling"), with django-axes. Failed logins count per address:
# one account is locked only for the address(es) it failed from, and an address failing too often (whatever
# user names it tries) is refused. Each attempt is counted before its password is checked.
LOGIN_MAX_FAILURES = int(os.environ.get("GONGZHI_LOGIN_MAX_FAILURES", "5"))  # one account from one address
LOGIN_ADDRESS_MAX_FAILURES = int(os.environ.get("GONGZHI_LOGIN_ADDRESS_MAX_FAILURES", "20"))  # one address, any names
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("GONGZHI_LOGIN_LOCKOUT_MINUTES", "15"))
# Behind a reverse proxy: the header holding the client's address (X-Forwarded-For or X-Real-IP), and how many
# proxies of yours append to X-Forwarded-For. Empty (default): the connection's address (REMOTE_ADDR).
CLIENT_IP_HEADER = os.environ.get("GONGZHI_CLIENT_IP_HEADER", "").strip()
CLIENT_IP_PROXY_COUNT = int(os.environ.get("GONGZHI_CLIENT_IP_PROXY_COUNT", "1"))
AXES_HANDLER = "gongzhi.accounts.throttle.ThrottleHandler"
AXES_FAILURE_LIMIT = "gongzhi.accounts.throttle.failure_limit"  # reads LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = "gongzhi.accounts.throttle.cool_off"  # reads LOGIN_LOCKOUT_MINUTES
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "gongzhi.accounts.throttle.client_ip"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts do not push the end of a lock further
AXES_DISABLE_ACCESS_LOG = True  # no table of every successful login
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# The login page and the token endpoint answer a lockout themselves (in Chinese, with the time), so axes'
# middleware, which would replace their answer with its own, is left out.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

# API tokens (docs/deploy.md): a token lives API_TOKEN_DEFAULT_DAYS unless its maker picks another of the
# choices; tokens that never expire only when GONGZHI_API_TOKEN_ALLOW_UNLIMITED=1.
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("GONGZHI_API_TOKEN_DAYS", "90"))
API_TOKEN_DAY_CHOICES = sorted(
    {int(d) for d in os.environ.get("GONGZHI_API_TOKEN_DAY_CHOICES", "7,30,90,180,365").split(",") if d.strip()}
    | {API_TOKEN_DEFAULT_DAYS}
)
API_TOKEN_ALLOW_UNLIMITED = os.environ.get("GONGZHI_API_TOKEN_ALLOW_UNLIMITED", "0") == "1"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'gongzhi.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _default_sqlite, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Web server and worker write at the same time: writers queue instead of failing.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
        ),
    }
    # Tests use a file too, not shared-cache memory: concurrent writers then wait their turn as they
    # do in production instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-gongzhi.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("GONGZHI_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("GONGZHI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static", *_vendor_static()]
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# One cache shared by every process of the machine (files under the data folder): sessions and each
# session's user with their roles are read from it, so a page pays no database round trip before its own
# work. Several machines share a Redis instead (GONGZHI_CACHE_URL=redis://..., docs/deploy.md).
_CACHE_URL = os.environ.get("GONGZHI_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL.startswith(("redis://", "rediss://"))
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 4},
        }
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content Security Policy on every response (core/csp.py; docs/deploy.md, "Content Security Policy"):
# scripts, styles, images and requests from this site only; no inline script, event handler, style element
# or style attribute anywhere (JS sets styles through the CSSOM, which the policy does not restrict).
# Django 6.0's setting name and shape, so the upgrade swaps the middleware and keeps this.
_SELF, _NONE = "'self'", "'none'"
SECURE_CSP = {
    "default-src": [_SELF],
    "script-src": [_SELF],
    "style-src": [_SELF],
    "img-src": [_SELF],
    "font-src": [_SELF],
    "connect-src": [_SELF],
    "object-src": [_NONE],
    "base-uri": [_SELF],
    "form-action": [_SELF],
    "frame-ancestors": [_NONE],
}
SECURE_CSP_REPORT_ONLY: dict = {}

# Excel imports (docs/deploy.md, "Excel imports") run on the task worker. An upload is checked against these
# limits before anything parses it: file size, size unpacked (all zip parts) and compression ratio, rows
# and columns of a sheet. An upload is removed when its job ends; a job unfinished after
# IMPORT_STALE_HOURS (its worker stopped) is failed and its upload removed by the hourly clean-up.
IMPORT_MAX_BYTES = int(float(os.environ.get("GONGZHI_IMPORT_MAX_MB", "20")) * 2**20)
IMPORT_MAX_UNCOMPRESSED_BYTES = int(float(os.environ.get("GONGZHI_IMPORT_MAX_UNCOMPRESSED_MB", "300")) * 2**20)
IMPORT_MAX_RATIO = float(os.environ.get("GONGZHI_IMPORT_MAX_RATIO", "100"))
IMPORT_MAX_ROWS = int(os.environ.get("GONGZHI_IMPORT_MAX_ROWS", "100000"))
IMPORT_MAX_COLUMNS = int(os.environ.get("GONGZHI_IMPORT_MAX_COLUMNS", "60"))
IMPORT_STALE_HOURS = float(os.environ.get("GONGZHI_IMPORT_STALE_HOURS", "24"))

# Appeals: a verified appeal is closed (结案) after the resident's rating or a callback (回访), or once this many
# days have passed since the resident was asked to rate it (when it was resolved) without an answer.
GONGZHI_RATING_WAIT_DAYS = float(os.environ.get("GONGZHI_RATING_WAIT_DAYS", "7"))

# Notifications (docs/deploy.md, "Notifications"): links in messages, the sweep's period, e-mail
# (sent only when GONGZHI_EMAIL_HOST is set).
GONGZHI_BASE_URL = os.environ.get("GONGZHI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
GONGZHI_SWEEP_MINUTES = float(os.environ.get("GONGZHI_SWEEP_MINUTES", "5"))
EMAIL_HOST = os.environ.get("GONGZHI_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("GONGZHI_EMAIL_PORT", "465"))
EMAIL_HOST_USER = os.environ.get("GONGZHI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GONGZHI_EMAIL_PASSWORD", "")
EMAIL_USE_SSL = os.environ.get("GONGZHI_EMAIL_SECURITY", "ssl") == "ssl"
EMAIL_USE_TLS = os.environ.get("GONGZHI_EMAIL_SECURITY", "ssl") == "starttls"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("GONGZHI_EMAIL_FROM", EMAIL_HOST_USER or "gongzhi@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "WARNING")},
}

# Residents joining by real name (docs/deploy.md, "Residents joining"): how long a household's join code may
# work, how many tries an address and a code get per window, and phone verification by SMS (off by default;
# the default SMS backend only writes the message to the log, and the page says so).
JOIN_CODE_DAY_CHOICES = sorted(
    {int(d) for d in os.environ.get("GONGZHI_JOIN_CODE_DAY_CHOICES", "7,30").split(",") if d.strip()}
)
JOIN_CODE_DEFAULT_DAYS = int(os.environ.get("GONGZHI_JOIN_CODE_DAYS", "30"))
JOIN_MAX_ATTEMPTS_PER_ADDRESS = int(os.environ.get("GONGZHI_JOIN_MAX_ATTEMPTS_PER_ADDRESS", "10"))
JOIN_MAX_ATTEMPTS_PER_CODE = int(os.environ.get("GONGZHI_JOIN_MAX_ATTEMPTS_PER_CODE", "10"))
JOIN_ATTEMPT_WINDOW_MINUTES = int(os.environ.get("GONGZHI_JOIN_ATTEMPT_WINDOW_MINUTES", "60"))
JOIN_MAX_PENDING_PER_CODE = int(os.environ.get("GONGZHI_JOIN_MAX_PENDING_PER_CODE", "5"))
JOIN_VERIFY_PHONE = os.environ.get("GONGZHI_JOIN_VERIFY_PHONE", "0") == "1"
GONGZHI_SMS_BACKEND = os.environ.get("GONGZHI_SMS_BACKEND", "gongzhi.accounts.sms.LogBackend")
# A later login through WeCom, DingTalk or WeChat: its backend (from a maintained library) is appended here.
AUTHENTICATION_BACKENDS += [
    b.strip() for b in os.environ.get("GONGZHI_EXTRA_AUTH_BACKENDS", "").split(",") if b.strip()
]
