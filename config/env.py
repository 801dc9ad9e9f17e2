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


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}.")
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


# --- Production only: values that must be given, not defaulted -------------------------


def require_list(name: str, *, why: str) -> list[str]:
    """A comma-separated list that must be set in the environment: a default that works on a
    laptop would hide a missing value in production."""
    values = env_list(name)
    if not values:
        raise ImproperlyConfigured(f"{name} must be set in production: {why}.")
    return values


def require_https_url(name: str) -> str:
    url = env_str(name)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        shown = repr(url) if url else "unset"
        raise ImproperlyConfigured(
            f"{name} must be the service's https:// address in production, not {shown}."
        )
    return url.rstrip("/")


def require_broker_url(name: str = "CELERY_BROKER_URL") -> str:
    url = env_broker_url(name)
    if not url:
        raise ImproperlyConfigured(
            f"{name} must be set in production: without a broker, tasks would run eagerly "
            "inside web requests."
        )
    return url


# Backends that print, keep in memory or drop e-mail: nobody would ever receive it.
NON_DELIVERING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


def require_delivering_email_backend(name: str = "EMAIL_BACKEND") -> str:
    backend = env_str(name)
    if not backend or backend in NON_DELIVERING_EMAIL_BACKENDS:
        shown = repr(backend) if backend else "unset (the console backend)"
        raise ImproperlyConfigured(
            f"{name} must deliver e-mail in production "
            f"(e.g. django.core.mail.backends.smtp.EmailBackend), not {shown}."
        )
    return backend
