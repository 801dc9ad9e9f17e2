"""The suite runs against the real services the environment names: PostgreSQL when
DATABASE_URL says so, Redis for the cache and the Celery broker when configured."""

import os
import uuid

import pytest
from django.core.cache import cache
from django.db import connection

from config.celery import app as celery_app


def test_the_database_is_the_one_the_environment_names(db):
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_cache_round_trip():
    key, value = f"test-{uuid.uuid4()}", {"answer": 42}
    cache.set(key, value, timeout=30)
    assert cache.get(key) == value
    cache.delete(key)
    assert cache.get(key) is None


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_cache_is_redis_when_configured(settings):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="no broker configured")
def test_celery_broker_is_reachable():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
        assert conn.connected


def test_celery_app_serialises_json_only():
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.task_time_limit > celery_app.conf.task_soft_time_limit
