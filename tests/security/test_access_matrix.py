"""Access control, proven: every page and every API operation × every persona (one user per
role, and nobody signed in) answers what tests/security/routes.py says it should.

The routes come from the application, not from the table: pages from the URL resolver
(config.urls and every include), API operations from the OpenAPI schema (path + method).
A route without a row, or a row for a route that has gone, fails
test_the_table_has_a_row_for_every_page / …_api_operation, naming it.

Skipped, with why:
- /admin/…: Django's admin site, behind its own is_staff check (and no one but
  administrators are staff), not the roles this table is about;
- the routes of the API router's viewsets, and any route whose path the schema names as
  it is: those are API operations, taken from the OpenAPI schema instead
  (tests/api/test_schema.py holds the schema to every viewset); the ".json"-style
  format-suffix routes reach the same views as the plain ones. Any other API route (the
  router's root page, say) is not an operation of the schema, so it has a page row;
- static files: none are routed (WhiteNoise or the web server serves them).
The schema itself (/api/schema/) is one of its own operations and has a row.

Each request runs in a savepoint that is rolled back (tests/security/access_world), so the
whole module shares one world, built once.
"""

import functools

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from config.api import router as api_router
from tests.security import routes
from tests.security.access_world import (  # noqa: F401 (fixtures)
    PERSONAS,
    Answer,
    ask,
    clients_fixture,
    world_fixture,
)

SKIPPED_PREFIXES = ("/admin/",)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# What an allowed role's write may answer (see routes.OK).
ALLOWED_WRITE = {200, 201, 204, 302, 400, 409}


# --- The routes, from the application --------------------------------------------------


def _walk(patterns, prefix="/", namespace=""):
    """(route, pattern, the name to reverse it by) for every pattern, through includes."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            yield prefix + str(pattern.pattern), pattern, f"{namespace}{pattern.name}"


def _is_api_operation(route: str, pattern: URLPattern) -> bool:
    """A route the OpenAPI schema lists instead: a viewset of the API's router, or a
    path the schema names as it is (the schema's own, /api/schema/)."""
    view = getattr(pattern.callback, "cls", None)
    registered = {viewset for _prefix, viewset, _basename in api_router.registry}
    return view in registered or route in _schema_paths()


@functools.cache
def page_routes() -> dict[str, str]:
    """Every page route, by its pattern ("/children/<int:pk>/"), with its URL name."""
    found = {}
    for route, pattern, name in _walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or _is_api_operation(route, pattern):
            continue
        if "<drf_format_suffix:" in route:  # the API root again, as .json or .api
            continue
        found[route] = name
    return found


@functools.cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _schema_paths() -> set[str]:
    return set(_schema()["paths"])


@functools.cache
def api_operations() -> frozenset[str]:
    """Every operation of the OpenAPI schema, as "METHOD /path/{id}/"."""
    return frozenset(
        f"{method.upper()} {path}"
        for path, operations in _schema()["paths"].items()
        for method in operations
        if method.upper() in {"GET", "HEAD", "OPTIONS"} | UNSAFE
    )


# --- Reading a row ----------------------------------------------------------------------


def cells(row: str) -> dict[str, str]:
    values = row.split()
    assert len(values) == len(PERSONAS), f"a row needs {len(PERSONAS)} cells: {row!r}"
    return dict(zip(PERSONAS, values, strict=True))


def mismatch(cell: str, answer: Answer, *, unsafe: bool) -> str | None:
    """Why the answer does not fit the cell, or None when it does."""
    login = reverse("login")
    to_sign_in = answer.status == 302 and answer.location.startswith(login)
    if answer.status >= 500:
        return f"{answer.status} {answer.error}".strip()
    if cell == routes.LOGIN:
        fits = to_sign_in
    elif cell == routes.OK:
        fits = answer.status in ALLOWED_WRITE and not to_sign_in
    else:
        # A signed-in persona sent to sign in has lost its session: never what a row means.
        fits = answer.status == int(cell) and not to_sign_in
    if not fits:
        shown = f"{answer.status}" + (f" → {answer.location}" if answer.location else "")
        if answer.status in (400, 403, 409) and answer.body.startswith(b"{"):
            shown += f" {answer.body[:200].decode(errors='replace')}"
        return f"expected {cell}, got {shown}"
    if unsafe and cell != routes.OK and answer.changed:
        return f"refused ({answer.status}) but changed {', '.join(answer.changed)}"
    return None


def check_row(*, label, row, client_for, method, url, data, world, api) -> list[str]:
    unsafe = method in UNSAFE
    problems = []
    for persona, cell in cells(row).items():
        answer = ask(client_for[persona], method, url, data=data, world=world, api=api,
                     check_changes=unsafe and cell != routes.OK)
        problem = mismatch(cell, answer, unsafe=unsafe)
        if problem:
            problems.append(f"{label} as {persona}: {problem}")
    return problems


# --- The table covers the application ---------------------------------------------------


def test_the_table_has_a_row_for_every_page():
    routed, tabled = set(page_routes()), set(routes.PAGES)
    assert not routed - tabled, (
        f"pages with no row in tests/security/routes.py PAGES: {sorted(routed - tabled)}"
    )
    assert not tabled - routed, f"rows for pages that no longer exist: {sorted(tabled - routed)}"


def test_the_table_has_a_row_for_every_api_operation():
    schema, tabled = api_operations(), set(routes.API)
    assert not schema - tabled, (
        f"API operations with no row in tests/security/routes.py API: {sorted(schema - tabled)}"
    )
    assert not tabled - schema, (
        f"rows for API operations that no longer exist: {sorted(tabled - schema)}"
    )


def test_every_row_has_a_cell_per_persona():
    rows = [page.get for page in routes.PAGES.values()]
    rows += [page.post for page in routes.PAGES.values() if page.post]
    rows += [operation.row for operation in routes.API.values()]
    for row in rows:
        assert set(cells(row).values()) <= {routes.LOGIN, routes.OK} | {
            str(code) for code in range(200, 600)}, row


# --- Every persona on every route -------------------------------------------------------


@pytest.mark.parametrize("route", sorted(routes.PAGES))
def test_page(route, world, clients, db):
    if route not in page_routes():
        pytest.fail(f"{route} is no longer routed: remove its row")
    page = routes.PAGES[route]
    url = page.url or reverse(page_routes()[route], kwargs=page.kwargs(world))
    problems = check_row(label=f"GET {url}", row=page.get, client_for=clients, method="GET",
                         url=url, data=None, world=world, api=False)
    if page.post is not None:
        problems += check_row(label=f"POST {url}", row=page.post, client_for=clients,
                              method="POST", url=url, data=page.body(world), world=world,
                              api=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("operation", sorted(routes.API))
def test_api_operation(operation, world, clients, db):
    if operation not in api_operations():
        pytest.fail(f"{operation} is no longer in the OpenAPI schema: remove its row")
    method, path = operation.split(" ", 1)
    entry = routes.API[operation]
    url = path
    if "{id}" in path:
        assert entry.object is not None, f"{operation}: name the object its {{id}} is"
        url = path.replace("{id}", str(entry.object(world).pk))
    assert "{" not in url, f"{operation}: a path parameter the table does not fill"
    data = entry.body(world) if method in UNSAFE else None
    problems = check_row(label=f"{method} {url}", row=entry.row, client_for=clients,
                         method=method, url=url, data=data, world=world, api=True)
    assert not problems, "\n".join(problems)
