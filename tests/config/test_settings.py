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


# Everything production needs, each given explicitly; tests below take one away or spoil it.
PRODUCTION_ENV = {
    "SECRET_KEY": REAL_SECRET,
    "DATABASE_URL": "postgres://app@db:5432/placements",
    "ALLOWED_HOSTS": "placements.example.gov.uk",
    "SITE_URL": "https://placements.example.gov.uk",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.gov.uk",
}


def production_check(**changes):
    """manage.py check under production settings; a change of None unsets the variable."""
    environ = {**PRODUCTION_ENV, **changes}
    return run_django(
        "config.settings.production",
        "check",
        **{name: value for name, value in environ.items() if value is not None},
    )


def test_production_refuses_to_start_without_a_real_secret():
    result = production_check(SECRET_KEY=None)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_sqlite():
    result = production_check(DATABASE_URL=None)
    assert result.returncode != 0
    assert "Production needs DATABASE_URL pointing at PostgreSQL" in result.stderr


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must be set in production"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS must be set in production"),
        ({"SITE_URL": None}, "SITE_URL must be the service's https:// address in production, "
                             "not unset"),
        ({"SITE_URL": "http://placements.example.gov.uk"},
         "SITE_URL must be the service's https:// address in production, "
         "not 'http://placements.example.gov.uk'"),
        ({"SITE_URL": "https://"}, "SITE_URL must be the service's https:// address"),
        ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL must be set in production: without a "
                                      "broker, tasks would run eagerly"),
        ({"EMAIL_BACKEND": None}, "EMAIL_BACKEND must deliver e-mail in production"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
         "EMAIL_BACKEND must deliver e-mail in production"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
         "EMAIL_BACKEND must deliver e-mail in production"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_USE_TLS": "sometimes"}, "EMAIL_USE_TLS must be true or false"),
    ],
    ids=["no-hosts", "blank-hosts", "no-site-url", "http-site-url", "hostless-site-url",
         "no-broker", "no-email-backend", "console-email", "locmem-email", "bad-port", "bad-tls"],
)
def test_production_refuses_to_start_with_a_missing_or_unsafe_value(changes, message):
    result = production_check(**changes)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]


def test_production_reads_smtp_settings_and_queues_tasks():
    result = run_django(
        "config.settings.production",
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.EMAIL_HOST, s.EMAIL_PORT,"
        " s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.SITE_URL,"
        " s.CELERY_TASK_ALWAYS_EAGER, s.ALLOWED_HOSTS)",
        **{**PRODUCTION_ENV, "EMAIL_PORT": "587", "EMAIL_HOST_USER": "placements",
           "EMAIL_HOST_PASSWORD": "s3cret", "EMAIL_USE_TLS": "true",
           "SITE_URL": "https://placements.example.gov.uk/"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "smtp.example.gov.uk", "587", "placements", "s3cret", "True",
        "https://placements.example.gov.uk", "False", "['placements.example.gov.uk']",
    ]


def test_production_settings_pass_the_deployment_checklist():
    result = run_django(
        "config.settings.production",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_api_answers_json_only_even_to_a_browser():
    """No browsable API in production: its HTML pages and filter forms are for development."""
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    result = run_django(
        "config.settings.production",
        "shell",
        "--no-imports",
        "-c",
        "from django.test import Client;"
        " c = Client(HTTP_HOST='placements.example.gov.uk');"
        f" r = c.get('/api/v1/referrals/', HTTP_ACCEPT='{browser_accept}', secure=True);"
        " print(r.status_code, r['Content-Type'], b'<html' in r.content)",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["401", "application/json", "False"]
