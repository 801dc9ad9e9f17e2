"""Production: differs from local only through environment variables, and refuses weak ones."""

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_int,
    require_broker_url,
    require_delivering_email_backend,
    require_https_url,
    require_list,
    require_secret_key,
)
from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, MIDDLEWARE, REST_FRAMEWORK

SECRET_KEY = require_secret_key("SECRET_KEY")
DEBUG = False
DEMO_DATA_ALLOWED = False

# Each of these has a default that suits a laptop; production must be told.
ALLOWED_HOSTS = require_list(
    "ALLOWED_HOSTS", why="name the host(s) the service answers on, comma-separated"
)
SITE_URL = require_https_url("SITE_URL")  # links in e-mails
CELERY_BROKER_URL = require_broker_url("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = require_delivering_email_backend("EMAIL_BACKEND")

# The API answers in JSON only. DRF's browsable HTML pages, with their filter forms, are
# for development; the OpenAPI schema and its documentation page stay.
REST_FRAMEWORK = {
    **REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production needs DATABASE_URL pointing at PostgreSQL.")

# WhiteNoise serves the collected static files (GOV.UK Frontend included) from gunicorn.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
# The __Host- prefix makes browsers refuse these cookies unless they are Secure, for this
# host only (no Domain) and for every path: a sibling subdomain cannot plant or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
