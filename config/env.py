"""Every setting that comes from the environment is read and validated here.

Bad values fail loudly at start-up with ImproperlyConfigured, naming the variable,
rather than surfacing later as odd behaviour.
"""

import os
import zoneinfo
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time_zone(name: str = "TIME_ZONE", default: str = "Europe/London") -> str:
    value = env_str(name, default) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} {value!r} is not a known time zone.") from None
    return value


def env_database(name: str, *, sqlite_path) -> dict:
    """DATABASE_URL if set (PostgreSQL or SQLite), else a SQLite file at sqlite_path."""
    url = env_str(name)
    if not url:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_path)}
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "sqlite"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:// URL, not a {scheme or 'schemeless'} URL."
        )
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
    return config


def env_broker_url(name: str = "CELERY_BROKER_URL") -> str:
    """An empty broker URL means 'run tasks eagerly in-process'."""
    url = env_str(name)
    if url and urlsplit(url).scheme not in {"redis", "rediss", "amqp", "amqps"}:
        raise ImproperlyConfigured(f"{name} must be a redis:// or amqp:// URL.")
    return url


def env_redis_url(name: str = "REDIS_URL") -> str:
    url = env_str(name)
    if url and urlsplit(url).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"{name} must be a redis:// URL.")
    return url


INSECURE_KEY_PREFIX = "django-insecure-"


def require_secret_key(name: str = "SECRET_KEY") -> str:
    """Production refuses to start without a real secret: long, and not a dev key."""
    key = env_str(name)
    if not key:
        raise ImproperlyConfigured(f"{name} must be set in production.")
    if key.startswith(INSECURE_KEY_PREFIX) or len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured(
            f"{name} is not a real secret: use at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    return key
