"""A rebuild's progress, kept in the cache by year so that a page can show it while a
worker (or the command) runs the rebuild."""

from django.core.cache import cache
from django.utils import timezone

PROGRESS_TTL_SECONDS = 24 * 60 * 60
STATES = ("idle", "queued", "running", "done", "failed")


def _key(year: int) -> str:
    return f"rollups:rebuild-progress:{year}"


def record_progress(year: int, *, state: str, done: int = 0, total: int = 0, error: str = ""):
    assert state in STATES, state
    progress = {
        "year": year,
        "state": state,
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else (100 if state == "done" else 0),
        "error": error,
        "updated_at": timezone.now().isoformat(),
    }
    cache.set(_key(year), progress, PROGRESS_TTL_SECONDS)


def rebuild_progress(year: int) -> dict:
    """{"year", "state" (idle, queued, running, done, failed), "done", "total", "percent",
    "error" (an exception's class name, never its message), "updated_at" (ISO or None)}."""
    return cache.get(_key(year)) or {
        "year": year, "state": "idle", "done": 0, "total": 0, "percent": 0, "error": "",
        "updated_at": None,
    }
