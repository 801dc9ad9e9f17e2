"""A newcomer's machine: SQLite, eager tasks and demo data unless the environment says otherwise."""

from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine here: local settings never serve real data (production refuses it).
SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-local-development-only"
DEMO_DATA_ALLOWED = True
