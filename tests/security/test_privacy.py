"""No personal data in URLs beyond numeric ids, nor in the production access log."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

ROOT = Path(__file__).resolve().parents[2]
# Path parts that are not numeric ids: fixed vocabularies chosen by the application.
WORD_PARAMETERS = {"section", "action", "what", "file_format", "format"}


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # Django's admin: object ids only, staff-only
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.pattern


def test_urls_carry_numeric_ids_or_fixed_words_only():
    offenders = []
    for route, pattern in _patterns(get_resolver()):
        converters = getattr(pattern, "converters", {})
        for name, converter in converters.items():
            kind = type(converter).__name__
            if kind == "IntConverter":
                continue
            if kind in ("SlugConverter", "FormatSuffixConverter") and name in WORD_PARAMETERS:
                continue
            offenders.append(f"{route} ({name}: {kind})")
        if isinstance(pattern, RegexPattern):
            for name in re.findall(r"\(\?P<(\w+)>", pattern._regex):
                if name not in WORD_PARAMETERS and name not in {"pk", "id"}:
                    offenders.append(f"{route} ({name}: regex)")
    assert offenders == [], "Routes that could carry personal data: " + ", ".join(offenders)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_production_access_log_leaves_out_query_strings(tmp_path):
    """gunicorn with the image's own config file: the request reaches the log, the query
    string (a search term, a postcode) does not."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application",
         "-c", str(ROOT / "config" / "gunicorn.conf.py")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/sign-in/?next=/children/%3Flocal_child_id%3DSECRET123"
        # Starting takes a second or two, far longer on a loaded CI machine.
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not answer") from None
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    access = [line for line in output.splitlines() if '"GET /sign-in/' in line]
    assert access, output
    assert all("SECRET123" not in line and "next=" not in line for line in access), access
