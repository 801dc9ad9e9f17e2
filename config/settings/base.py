"""Settings shared by every environment. Environment variables are read in config.env."""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF

from config.env import (
    env_bool,
    env_broker_url,
    env_database,
    env_int,
    env_list,
    env_redis_url,
    env_str,
    env_time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = BASE_DIR / "data"
NODE_MODULES = BASE_DIR / "node_modules"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    # Before django.contrib.auth, so that core's createsuperuser (which also checks a
    # password given by environment) replaces Django's.
    "core",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "axes",
    "csp",
    # Ours, lowest layer first: core (above) ← providers ← placements ← panels ← demo.
    "providers",
    "placements",
    "panels",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages, so that a session it ends can say why on the sign-in page.
    "core.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Outside everything that renders a page (the lockout page included), so that the
    # header names the nonce the page used.
    "csp.middleware.CSPMiddleware",
    "core.middleware.ReauthenticationMiddleware",
    # A database constraint that refused a page's write: a 409 page, never a 500.
    "core.conflicts.IntegrityErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.navigation",
            ],
        },
    },
]
# Form templates resolve through TEMPLATES, so templates/govuk/ can render every field.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": env_database("DATABASE_URL", sqlite_path=DATA_DIR / "placements.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
# django-axes first: it refuses a locked-out sign-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_time_zone("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# GOV.UK Frontend's compiled CSS asks for its fonts and images at /assets/, so our static
# URL is /assets/ and the package's assets folder is mounted at its root (ADR 0004).
STATIC_URL = "/assets/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    NODE_MODULES / "govuk-frontend" / "dist" / "govuk" / "assets",
    ("govuk-frontend", NODE_MODULES / "govuk-frontend" / "dist" / "govuk"),
    ("chart.js", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SERVICE_NAME = "Find a placement"
# Links in e-mails point here.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Workflow rules a council may tune.
EMERGENCY_REVIEW_DAYS = env_int("EMERGENCY_REVIEW_DAYS", 7, minimum=1)
DIRECTOR_APPROVAL_WEEKLY_THRESHOLD = env_int("DIRECTOR_APPROVAL_WEEKLY_THRESHOLD", 4000, minimum=0)
HIGH_COST_REVIEW_COUNT = env_int("HIGH_COST_REVIEW_COUNT", 27, minimum=1)
COUNCIL_NAME = env_str("COUNCIL_NAME", "Demoshire County Council")
# The council's own area, as services record theirs: a placement elsewhere is out of area.
LOCAL_AUTHORITY_AREA = env_str("LOCAL_AUTHORITY_AREA", "Demoshire")
# Hours providers have to answer a sourcing request, by the referral's urgency; they are
# chased once half the time has gone.
SOURCING_RESPONSE_HOURS = {
    "today": env_int("SOURCING_RESPONSE_HOURS_TODAY", 4, minimum=1),
    "within_5_days": env_int("SOURCING_RESPONSE_HOURS_WITHIN_5_DAYS", 48, minimum=1),
    "later": env_int("SOURCING_RESPONSE_HOURS_LATER", 120, minimum=1),
}
# How many framework matches the shortlist ticks for sending, nearest first.
SOURCING_SHORTLIST_SIZE = env_int("SOURCING_SHORTLIST_SIZE", 6, minimum=1)
# The comparison's score: quality weight in percent; cost gets the rest.
SOURCING_QUALITY_WEIGHT = env_int("SOURCING_QUALITY_WEIGHT", 60, minimum=0, maximum=100)
# How many days back a placement's cost change, contribution or end may be dated. Weeks
# before that are settled (invoiced, in the ledger): their cost never changes.
PLACEMENT_CHANGE_BACKDATE_DAYS = env_int("PLACEMENT_CHANGE_BACKDATE_DAYS", 28, minimum=0)
# Demo users with a printed password must never reach a real council's database.
DEMO_DATA_ALLOWED = False

# Caching: Redis when REDIS_URL is set, else process memory.
REDIS_URL = env_redis_url("REDIS_URL")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Redis down or hung must not hang pages: give up within a second or two
            # (placements.rollups.progress then shows progress as unknown).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: no broker configured means tasks run eagerly, in-process (ADR 0003).
CELERY_BROKER_URL = env_broker_url("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60, minimum=1)

REST_FRAMEWORK = {
    # Token first, so an unauthenticated call answers 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Placement commissioning API",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Tag operations by resource (referrals, meetings, …), not by the version prefix.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Every operation documents the refusals it can give (core.api.document_refusals).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.document_refusals",
    ],
}

SESSION_COOKIE_HTTPONLY = True
# Sessions live in the database (not the cache: Redis may be down). A session ends after
# SESSION_COOKIE_AGE seconds without a request and, in any case, SESSION_ABSOLUTE_AGE
# seconds after sign-in (core.middleware). Requests renew the session at most once every
# SESSION_RENEW_SECONDS rather than writing it on every request (SESSION_SAVE_EVERY_REQUEST
# would cost three queries on every page), so the idle limit holds to within that.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60, minimum=60)
SESSION_RENEW_SECONDS = 60
SESSION_ABSOLUTE_AGE = env_int("SESSION_ABSOLUTE_AGE", 10 * 60 * 60, minimum=60)
# Approving for the Director, or fixing a weekly cost above the Director threshold, needs a
# password given (at sign-in or on the confirm page) within this many seconds (core.auth).
REAUTH_MAX_AGE = env_int("REAUTH_MAX_AGE", 15 * 60, minimum=60)
X_FRAME_OPTIONS = "DENY"

# Failed sign-ins (django-axes): after AXES_FAILURE_LIMIT failures for one username from one
# address, that pair is refused for AXES_COOLOFF_MINUTES. Attempts live in the database (not
# the cache: Redis may be down); the same page answers whether or not the username exists.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A lockout lasts the cool-off from when it began: attempts during it do not extend it
# (the page promises a time).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "core.views_auth.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# Behind TRUSTED_PROXY_COUNT proxies the client's address comes from X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip_address"
# Usernames and addresses stay in axes' tables (for administrators): its log lines mask
# both, and leave out the browser's user agent.
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# ... and only for SIGN_IN_LOG_DAYS: beat trims older sign-in records every night
# (core.tasks.trim_sign_in_logs).
SIGN_IN_LOG_DAYS = env_int("SIGN_IN_LOG_DAYS", 90, minimum=1)

# Content Security Policy (django-csp): our own files only, no inline style, and inline
# script only with the per-request nonce (base.html's js-enabled line).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO") or "INFO"},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "placements@example.gov.uk")
# Used by the SMTP backend (production's).
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before giving up on the mail server, so a hung one cannot hold a task (or, with
# eager tasks, a request) for ever; the task retries.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
