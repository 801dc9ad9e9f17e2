"""A rebuild's progress, kept in the cache by year so that a page can show it while a
worker (or the command) runs the rebuild.

The cache is Redis in production, and Redis may be down: progress is then not recorded
(the rebuild goes on: its figures are in the database) and reads as "unknown", or as
"queued" while the database's outbox still holds the rebuild, never an error."""

import logging

from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

from placements.models import PendingRollup

PROGRESS_TTL_SECONDS = 24 * 60 * 60
STATES = ("idle", "queued", "running", "done", "failed", "unknown")
# What a cache that cannot be reached raises (Django's Redis cache: redis-py's errors).
CACHE_ERRORS = (RedisError, OSError)

logger = logging.getLogger(__name__)


def _key(year: int) -> str:
    return f"rollups:rebuild-progress:{year}"


def _progress(year: int, *, state: str, done: int = 0, total: int = 0, error: str = "",
              updated_at: str | None = None) -> dict:
    return {
        "year": year,
        "state": state,
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else (100 if state == "done" else 0),
        "error": error,
        "updated_at": updated_at,
    }


def record_progress(year: int, *, state: str, done: int = 0, total: int = 0, error: str = ""):
    if state not in STATES:
        raise ValueError(f"Unknown rebuild state {state!r}.")
    progress = _progress(year, state=state, done=done, total=total, error=error,
                         updated_at=timezone.now().isoformat())
    try:
        cache.set(_key(year), progress, PROGRESS_TTL_SECONDS)
    except CACHE_ERRORS as failure:
        logger.warning("Rebuild progress not recorded: the cache failed (%s).",
                       type(failure).__name__)


def rebuild_progress(year: int) -> dict:
    """{"year", "state" (idle, queued, running, done, failed; unknown when the cache is
    down), "done", "total", "percent", "error" (an exception's class name, never its
    message), "updated_at" (ISO or None)}."""
    try:
        return cache.get(_key(year)) or _progress(year, state="idle")
    except CACHE_ERRORS as failure:
        logger.warning("Rebuild progress unknown: the cache failed (%s).", type(failure).__name__)
    queued = PendingRollup.objects.filter(
        kind=PendingRollup.Kind.REBUILD, financial_year=year
    ).exists()
    return _progress(year, state="queued" if queued else "unknown")
