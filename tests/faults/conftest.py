"""Faults: Redis (the broker and the cache) unreachable, a task's database lock timing out,
a worker killed mid-rebuild. The real task functions, the real database, real sockets:
Redis is "down" because it is pointed at a closed port."""

import datetime
import socket
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from config.celery import app
from core.roles import Role
from placements import rollups
from providers.reference import financial_year_start
from tests.factories import UserFactory
from tests.placements.rollup_builders import year_with_lines

# Nothing listens on port 1, so every connection is refused at once.
CLOSED_REDIS = "redis://127.0.0.1:1/0"
IFA_RULES = [("U4", "PR4")]


def point_redis_at(settings, monkeypatch, url: str):
    """The broker and the cache both at `url`, and tasks sent to the broker (not run
    in-process), as in production. Restores the Celery app after."""
    settings.CELERY_BROKER_URL = url
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it first, over any setting
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},  # as in base settings
    }}
    # Celery reads the Django settings once, by their CELERY_ names, which win over its own.
    changes = {"CELERY_BROKER_URL": url, "CELERY_TASK_ALWAYS_EAGER": False}
    saved = {name: app.conf.get(name) for name in changes}
    forget_broker_connections()
    app.conf.update(changes)
    yield
    forget_broker_connections()
    app.conf.update(saved)


def forget_broker_connections() -> None:
    """Celery pools broker connections and producers per process, made with the broker
    address of the time; drop them, as Celery itself does in a forked child."""
    app._after_fork()


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Redis refuses connections: nothing listens on its port."""
    yield from point_redis_at(settings, monkeypatch, CLOSED_REDIS)


@pytest.fixture
def redis_hung(settings, monkeypatch):
    """Redis accepts connections and never answers: a socket listening on a free port that
    nobody reads (the kernel completes the handshake)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield from point_redis_at(settings, monkeypatch, f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
    finally:
        listener.close()


@pytest.fixture
def clear_cache():
    """Rebuild progress lives in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def years(today) -> list[int]:
    """Last financial year and this one, each with an IFA line, so that changes dated a few
    days back may fall in either."""
    year = financial_year_start(today)
    for start_year in (year - 1, year):
        year_with_lines(start_year, {"IFA": (Decimal("500000.00"), IFA_RULES)})
    return [year - 1, year]


def rebuild(years: list[int], *, today: datetime.date) -> None:
    for year in years:
        assert rollups.rebuild_financial_year(year=year, today=today)


@pytest.fixture
def finance(role_groups):
    return UserFactory(username="finance", roles=[Role.FINANCE_MANAGER])
