"""Settings: everything that differs between machines comes from the environment.

DATABASE_URL   default sqlite:///var/linjialin.sqlite3 (WAL, IMMEDIATE transactions)
SECRET_KEY     default: generated once into var/secret_key
DEBUG          "1" for development; `linjialin up` runs with DEBUG off
ALLOWED_HOSTS  comma-separated, default 127.0.0.1,localhost
"""

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINJIALIN_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# The audit chain's HMAC key and its signed checkpoints live outside the database (core/audit_key.py,
# core/audit_checkpoints.py): LINJIALIN_AUDIT_KEY, else a key generated on first use into var/audit_key.
AUDIT_KEY_FILE = VAR_DIR / "audit_key"
AUDIT_CHECKPOINT_FILE = Path(os.environ.get("LINJIALIN_AUDIT_CHECKPOINTS", VAR_DIR / "audit-checkpoints.log"))
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]
# Number of reverse proxies (nginx …) in front of the app that append to X-Forwarded-For; the audit
# trail takes the client address from there. 0 = use REMOTE_ADDR.
TRUSTED_PROXY_COUNT = int(os.environ.get("LINJIALIN_TRUSTED_PROXIES", 0))
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "ninja",
    "linjialin.core",
    "linjialin.accounts",
    "linjialin.places",
    "linjialin.service_requests",
    "linjialin.notifications",
    "linjialin.routing",
    "linjialin.hotspots",
    "linjialin.mediation",
    "linjialin.mutual_aid",
]
# Staff two-factor sign-in (accounts/two_factor.py): TOTP apps and one-time recovery codes.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "linjialin.core.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linjialin.core.middleware.RequestContextMiddleware",
    "linjialin.accounts.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "linjialin.accounts.middleware.SignInStepsMiddleware",  # two-factor, then a forced password change
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "linjialin.urls"
WSGI_APPLICATION = "linjialin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linjialin" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linjialin.accounts.context_processors.roles",
                "linjialin.notifications.context_processors.unread",
                "linjialin.mutual_aid.context_processors.emergency_banner",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'linjialin.sqlite3'}")
# Persistent connections (one per gunicorn thread, reused across requests, checked before reuse):
# opening a PostgreSQL connection starts a server process, which cost more CPU than a whole simple
# request (bench/results/requests.md). DB_CONN_MAX_AGE=0 closes after every request. DB_POOL=1 uses
# Django's psycopg pool instead (PostgreSQL only; a pool excludes persistent connections).
DB_POOL = env_bool("DB_POOL", False)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # tests: closed after each use, as threads in concurrency tests must not leave connections open
        conn_max_age=0
        if DB_POOL
        else int(os.environ.get("DB_CONN_MAX_AGE", 0 if env_bool("LINJIALIN_TESTING") else 300)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # Tests use a file too (not Django's shared-cache in-memory DB, whose table locks ignore the busy
    # timeout): concurrent-writer tests then see the same WAL locking as production.
    # One file per test process, so parallel runs (xdist, two checkouts) never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"linjialin-test-{os.getpid()}.sqlite3")
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool opened in gunicorn's master before the fork hung the workers (its threads do not survive
    # the fork); `linjialin web` now closes it before forking. Persistent connections are the default.
    DATABASES["default"]["OPTIONS"] = {"pool": DB_POOL}
    # Parameters bound on the server, and each statement prepared on its connection from its
    # DB_PREPARE-th run on (psycopg's prepare_threshold; Django leaves it off by default): PostgreSQL then
    # parses and plans a statement once per connection, not on every run — a third of its CPU per
    # submission (bench/results/requests.md). DB_PREPARE=0 turns both off, e.g. behind PgBouncer in
    # transaction mode before 1.21, which cannot keep a connection's prepared statements.
    DB_PREPARE = int(os.environ.get("DB_PREPARE", "5"))
    if DB_PREPARE > 0:
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=DB_PREPARE)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["linjialin.accounts.backends.ScopedBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "linjialin.accounts.validators.MixedClassesValidator"},
    {"NAME": "linjialin.accounts.validators.NotTheMobileValidator"},
]
# Demo mode (env LINJIALIN_DEMO=1; `make run` sets it): the published demo logins keep working, so
# two-factor is offered but not forced and the demo password need not be changed. Off in production.
DEMO_MODE = env_bool("LINJIALIN_DEMO")
OTP_TOTP_ISSUER = "邻家邻"
# 等保 level-3 practice (DOMAIN.md §7); the numbers are settings so a deployment can tighten them.
# (failed sign-ins are slowed by accounts/throttle.py with the SignInRules row; nothing locks an account)
SESSION_IDLE_TIMEOUT_MINUTES = int(os.environ.get("SESSION_IDLE_TIMEOUT_MINUTES", 30))
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Several web nodes: share cache and sessions through Redis (`uv sync --extra redis`, then REDIS_URL).
if REDIS_URL := os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "linjialin" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static -------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "linjialin" / "static"]
# Tests (LINJIALIN_TESTING=1, set by the pytest plugin) run without collectstatic: plain storage, no manifest.
TESTING = env_bool("LINJIALIN_TESTING")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- tasks --------------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- security -----------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "linjialin.core.error_views.csrf_failure"  # localised, in the site's frame
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a TLS proxy in production (`check --deploy`): set LINJIALIN_HTTPS=1.
if env_bool("LINJIALIN_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
