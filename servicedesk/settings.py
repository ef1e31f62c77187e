"""Settings, read from the environment (12-factor).

Every variable below has a safe production default; the run command (`./desk run`) sets the
few that a local plain-HTTP demo needs (SECURE_SSL_REDIRECT=0, TWO_FACTOR_REQUIRED=0, the console
e-mail backend); DEBUG stays off there too.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-runs-" + "x" * 20
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "servicedesk",
    "crm.apps.CrmConfig",
    "monitoring.apps.MonitoringConfig",
    "tickets.apps.TicketsConfig",
    "guidelines.apps.GuidelinesConfig",
    "knowledge.apps.KnowledgeConfig",
    "privacy.apps.PrivacyConfig",
    "staffing.apps.StaffingConfig",
    "triage.apps.TriageConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "servicedesk.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "servicedesk.middleware.TwoFactorMiddleware",
    "servicedesk.middleware.UserPreferencesMiddleware",
    "servicedesk.middleware.ExpertConfinementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "staffing.middleware.PresenceActivityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Who saw which customer (issue 15): written after the answer has gone out.
    "privacy.middleware.AccessAuditMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

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
                "django.template.context_processors.tz",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk"),
        # Persistent connections: a new connection per request costs most of a simple view.
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "servicedesk",
        # Redis only speeds things up (rate limits, presence): give up fast when it is gone.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

# Lookups that do not change per request (servicedesk.lookups): a change is seen at once in
# the process that made it and within this many seconds in every other.
LOOKUP_CHECK_SECONDS = float(os.environ.get("LOOKUP_CHECK_SECONDS", "2"))
LOOKUP_CACHE_MAX_KEYS = 10_000

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out account or address (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: German first, English on request; UTC in the database.
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
DESK_TIME_ZONE = "Europe/Berlin"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Security: safe by default behind a TLS-terminating proxy; SECURE_SSL_REDIRECT=0 switches the
# HTTPS redirect, HSTS and Secure cookies off together for a plain-HTTP local run.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_https = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_SSL_REDIRECT = _https
SECURE_HSTS_SECONDS = 31536000 if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): everything from our own origin, no inline script, no
# inline style, no eval; scripts and styles live in static/ (desk.js, desk.css).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# 16 MiB bodies are allowed for mention batches (DESIGN §6); the API answers 413 beyond.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failed passwords for one account,
# or from one client address, sign-ins of that account / from that address are refused (HTTP 429,
# our page with the time to wait) until LOGIN_LOCKOUT_MINUTES have passed without another try.
# The failures are counted in PostgreSQL (axes' database handler), not in Redis: the lockout
# holds when Redis is down, so it need not and does not fail open. The admin login is the same
# authentication and is throttled alike.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: account, address
AXES_LOCKOUT_CALLABLE = "servicedesk.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "servicedesk.web.client_address"
# A success does not wipe the failures: an attacker with one valid account would otherwise
# reset the counters of his address between guesses at other accounts.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False  # our own log lines name ids, not user names
# Behind TRUSTED_PROXIES proxies the client address is the one the outermost of them saw
# (X-Forwarded-For); 0 (no proxy that sets it): the connection's address.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

# Two-factor sign-in (django-otp: TOTP apps, one-time recovery codes). With
# TWO_FACTOR_REQUIRED on, superusers and team leads must set up and use a second factor;
# everyone else may. `./desk run` switches it off for the demo logins.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", True)
OTP_TOTP_ISSUER = "Social Service Desk"
RECOVERY_CODE_COUNT = 10

# Secrets at rest (channel credentials, webhook secrets) are encrypted with this key.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
# Key of the keyed hash (HMAC-SHA256) that recognises erased posts; derived from SECRET_KEY if
# empty. Keep it stable: a new key forgets which posts were erased.
PRIVACY_HASH_KEY = os.environ.get("PRIVACY_HASH_KEY", "")

# E-mail
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "servicedesk@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Issue 14: who is e-mailed when an incident opens, besides the team leads (comma-separated).
INCIDENT_CRISIS_CONTACTS = os.environ.get("INCIDENT_CRISIS_CONTACTS", "")

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Our JSON parser enforces the 16 MiB body limit (413); our renderer never fails on input.
    "DEFAULT_PARSER_CLASSES": ["servicedesk.api_io.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["servicedesk.api_io.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "servicedesk.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "servicedesk.api_schema.AutoSchema",  # documents the error answers
    "EXCEPTION_HANDLER": "servicedesk.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["servicedesk.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("API_RATE_LIMIT", "6000/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Social Service Desk API",
    "DESCRIPTION": "Mentions in, tickets, replies and their review, service levels.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set (several models have a `kind`).
    "ENUM_NAME_OVERRIDES": {
        "TicketStateEnum": "tickets.choices.TicketState",
        "ReplyKindEnum": "tickets.choices.ReplyKind",
        "NotificationKindEnum": "tickets.choices.NotificationKind",
        "SlaKindEnum": "tickets.choices.SlaKind",
        "ArticleStatusEnum": "knowledge.choices.ArticleStatus",
        "PresenceStatusEnum": "staffing.choices.PresenceStatus",
        "IncidentStateEnum": "tickets.choices.IncidentState",
        "StatementKindEnum": "tickets.choices.StatementKind",
    },
}

# Celery: Redis as broker; the database is the source of truth, sweeps recover lost messages.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A publish while Redis is down fails fast; the sweeps catch up what was not enqueued.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = False
SLA_SWEEP_SECONDS = float(os.environ.get("SLA_SWEEP_SECONDS", "5"))
POLL_DISPATCH_SECONDS = float(os.environ.get("POLL_DISPATCH_SECONDS", "5"))
CELERY_BEAT_SCHEDULE = {
    "tickets.enforce-sla": {
        "task": "tickets.tasks.enforce_sla_task",
        "schedule": timedelta(seconds=SLA_SWEEP_SECONDS),
        "options": {"expires": max(SLA_SWEEP_SECONDS - 1, 1)},
    },
    "monitoring.poll-due-channels": {
        "task": "monitoring.tasks.poll_due_channels_task",
        "schedule": timedelta(seconds=POLL_DISPATCH_SECONDS),
        "options": {"expires": max(POLL_DISPATCH_SECONDS - 1, 1)},
    },
    "tickets.send-pending-replies": {
        "task": "tickets.tasks.send_pending_replies_task",
        "schedule": timedelta(seconds=15),
        "options": {"expires": 14},
    },
    "tickets.flag-expired-articles": {
        "task": "tickets.tasks.flag_expired_articles_task",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3500},
    },
    "tickets.sweep-unobserved-mentions": {
        "task": "tickets.tasks.sweep_unobserved_mentions_task",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 59},
    },
    "triage.sweep-missing-suggestions": {
        "task": "triage.tasks.sweep_missing_suggestions_task",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 59},
    },
    "triage.retrain-nightly": {
        "task": "triage.tasks.retrain_task",
        "schedule": crontab(hour=2, minute=30),
        "args": ("nightly",),
        "options": {"expires": 3 * 3600},
    },
    "privacy.apply-retention": {
        "task": "privacy.tasks.apply_retention_task",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3500},
    },
    "privacy.resume-erasures": {
        "task": "privacy.tasks.resume_erasures_task",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 290},
    },
    "tickets.compact-report-facts": {
        "task": "tickets.tasks.compact_report_facts_task",
        "schedule": timedelta(seconds=60),
        "options": {"expires": 59},
    },
}

# Triage learning (issue 13 §3): retrain after this many new labels (and nightly); the newest
# fraction of labelled mentions is held out to measure a candidate against the rules and the
# current model; a head needs this many training labels; promoted models are rechecked by
# each process at most this often.
TRIAGE_RETRAIN_EVERY_LABELS = env_int("TRIAGE_RETRAIN_EVERY_LABELS", 50)
TRIAGE_HOLDOUT_FRACTION = 0.2
TRIAGE_MIN_LABELS = env_int("TRIAGE_MIN_LABELS", 30)
TRIAGE_MIN_HELD_OUT = 5
TRIAGE_MODEL_CHECK_SECONDS = float(os.environ.get("TRIAGE_MODEL_CHECK_SECONDS", "30"))

# Business defaults that are configuration, not states.
REOPEN_WINDOW_DAYS = env_int("REOPEN_WINDOW_DAYS", 7)
CLOSE_NO_RESPONSE_DAYS = env_int("CLOSE_NO_RESPONSE_DAYS", 7)
RESUBMISSION_DUE_HOUR = 8

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"without_query_strings": {"()": "servicedesk.logs.WithoutQueryStrings"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # one line per failure and per lockout is enough
        # Outgoing requests: never the query string, where some platforms put tokens.
        "httpx": {"filters": ["without_query_strings"]},
        "httpcore": {"filters": ["without_query_strings"]},
    },
}
