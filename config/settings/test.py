"""The test suite: PostgreSQL when DATABASE_URL is set (CI), else SQLite; tasks run eagerly."""

from config.env import env_str
from config.settings.base import *  # noqa: F403

SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-test-only"
DEBUG = False
DEMO_DATA_ALLOWED = True
# Tests run the real task functions in-process, even when a broker is configured.
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
