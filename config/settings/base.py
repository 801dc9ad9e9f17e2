"""Settings shared by every environment. Environment variables are read in config.env."""

from pathlib import Path

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
    # Ours, lowest layer first: core ← providers ← placements ← panels ← demo.
    "core",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
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
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60)
X_FRAME_OPTIONS = "DENY"

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
