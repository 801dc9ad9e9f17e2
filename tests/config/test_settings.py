"""Settings are read from the environment in one place and bad values fail at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parents[2]
REAL_SECRET = "k3y-" + "f8Jd2-LqP9zXv7Rw0Tn4Bm6Yc1Hs5Ge8Ua3Ki2Oe7Wr9Tq4Zp0Lx6Nv1Mb5Cg"


def run_django(settings_module, *args, **environ):
    """Run manage.py in a clean process with only the given environment variables."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean.update(environ, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("raw, expected", [("true", True), ("0", False), ("Yes", True), ("", False)])
def test_env_bool_accepts_clear_values(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env.env_bool("FLAG") is expected


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false"):
        env.env_bool("DEBUG")


def test_env_int_refuses_words_and_small_numbers(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_AGE", "eight hours")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.env_int("SESSION_COOKIE_AGE", 1)
    monkeypatch.setenv("SESSION_COOKIE_AGE", "5")
    with pytest.raises(ImproperlyConfigured, match="at least 60"):
        env.env_int("SESSION_COOKIE_AGE", 1, minimum=60)


def test_unknown_time_zone_is_refused(monkeypatch):
    monkeypatch.setenv("TIME_ZONE", "Europe/Atlantis")
    with pytest.raises(ImproperlyConfigured, match="not a known time zone"):
        env.env_time_zone()


def test_time_zone_defaults_to_london(monkeypatch):
    monkeypatch.delenv("TIME_ZONE", raising=False)
    assert env.env_time_zone() == "Europe/London"


def test_no_database_url_means_a_sqlite_file_under_data(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.env_database("DATABASE_URL", sqlite_path=tmp_path / "data" / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert (tmp_path / "data").is_dir()


def test_database_url_for_postgresql(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/placements")
    config = env.env_database("DATABASE_URL", sqlite_path=tmp_path / "x")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "placements"


def test_database_url_of_another_kind_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/test")
    with pytest.raises(ImproperlyConfigured, match="postgres:// or sqlite://"):
        env.env_database("DATABASE_URL", sqlite_path=tmp_path / "x")


def test_broker_url_must_be_redis_or_amqp(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "http://example.com")
    with pytest.raises(ImproperlyConfigured, match="redis:// or amqp://"):
        env.env_broker_url()
    monkeypatch.setenv("CELERY_BROKER_URL", "")
    assert env.env_broker_url() == ""


@pytest.mark.parametrize(
    "secret", ["", "short", "django-insecure-" + "x" * 60, "a" * 60], ids=["unset", "short",
                                                                         "insecure", "repetitive"]
)
def test_secret_key_check_refuses_weak_secrets(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env.require_secret_key()


def test_no_broker_means_eager_tasks_in_local_settings():
    result = run_django(
        "config.settings.local",
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER,"
        " settings.DATABASES['default']['ENGINE'], settings.TIME_ZONE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3", "Europe/London"]


def test_a_broker_means_queued_tasks():
    result = run_django(
        "config.settings.local",
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_refuses_to_start_without_a_real_secret():
    result = run_django(
        "config.settings.production",
        "check",
        DATABASE_URL="postgres://app@db:5432/placements",
        ALLOWED_HOSTS="placements.example.gov.uk",
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_sqlite():
    result = run_django(
        "config.settings.production", "check", SECRET_KEY=REAL_SECRET, ALLOWED_HOSTS="x.gov.uk"
    )
    assert result.returncode != 0
    assert "Production needs DATABASE_URL pointing at PostgreSQL" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = run_django(
        "config.settings.production",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=REAL_SECRET,
        DATABASE_URL="postgres://app@db:5432/placements",
        ALLOWED_HOSTS="placements.example.gov.uk",
    )
    assert result.returncode == 0, result.stdout + result.stderr
