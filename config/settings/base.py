"""Core Django settings, read from the environment (see README.md, "Configuration")."""

import secrets
from pathlib import Path

import dj_database_url

from config.settings.env import env_bool, env_int, env_list, env_str, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("TRADELINE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# "development" (default), "test" or "production". Production refuses to start without secrets.
TRADELINE_ENV = env_str("TRADELINE_ENV", "development")
IS_PRODUCTION = TRADELINE_ENV == "production"
IS_DEVELOPMENT = TRADELINE_ENV == "development"

# Development only: the configuration the running demo wrote (`tradeline run_demo` → var/.env), for the
# variables the environment does not set, so that `tradeline reconcile` in a second terminal talks to the
# same local Stripe server, supplier simulator and database as the demo. Tests run with TRADELINE_ENV=test.
ENV_FILE = VAR_DIR / ".env"
ENV_FILE_LOADED = load_env_file(ENV_FILE) if IS_DEVELOPMENT else []

DEBUG = env_bool("DEBUG", default=not IS_PRODUCTION)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key or IS_PRODUCTION:
        return key  # an empty key in production is reported by check_production()
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,testserver")
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_BASE_URL)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # its own Swagger UI copy: /api/docs works offline
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "corsheaders",
    "csp",
    "tradeline.core",
    "tradeline.audit",
    "tradeline.brokers",
    "tradeline.catalog",
    "tradeline.orders",
    "tradeline.agreements",
    "tradeline.evidence",
    "tradeline.payments",
    "tradeline.fulfillment",
    "tradeline.payouts",
    "tradeline.chargebacks",
    "tradeline.analytics",
    "tradeline.hooks",
    "tradeline.ledger",
    "tradeline.dashboard",
    "tradeline.portal",
    "tradeline.widget",
    "tradeline.orderstatus",
    "tradeline.devtools",
]

# CORS (django-cors-headers) for the API only; the per-broker origin decision is core/cors.py's.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
CORS_ALLOW_HEADERS = ("x-api-key", "content-type")
CORS_EXPOSE_HEADERS = ("Retry-After", "X-Request-ID")
CORS_PREFLIGHT_MAX_AGE = 600

# Content-Security-Policy (django-csp) of the admin dashboard and the broker portal; the hashes of
# our own inline scripts are added per response by core/security.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}

MIDDLEWARE = [
    "tradeline.core.middleware.RequestLogMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "tradeline.core.middleware.ApiJsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tradeline.core.security.SecurityHeadersMiddleware",
    "tradeline.core.security.PageCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tradeline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite file under var/ unless DATABASE_URL is set (PostgreSQL in production).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tradeline.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process and the task worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: it costs 150-200 ms of CPU on every aggregate over a large table (list
    # summaries, reports) and these queries are short; see docs/deployment.md.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set, local memory otherwise.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "tlm"),
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tradeline",
            "TIMEOUT": 300,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Request bodies above this are refused (the API answers 413 with a JSON error).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 256 * 1024)

# Email: SMTP when EMAIL_HOST is set; otherwise EMAIL_BACKEND, by default files under var/outbox/ in
# development (read them in the admin's Outbox page) and the console elsewhere.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend" if IS_DEVELOPMENT
                 else "django.core.mail.backends.console.EmailBackend")
)
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "outbox")))
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "orders@tradeline.local")
ADMIN_EMAILS = env_list("ADMIN_EMAILS", "")

# Logging: one line per event; JSON lines when LOG_FORMAT=json.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "tradeline.core.logging.RedactFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "tradeline.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
    },
}

# Security headers (production hardens these further in production.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
