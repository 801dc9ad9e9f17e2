"""Object-level isolation: who may not see a child, a referral or a placement finds no
trace of it anywhere, whatever the way in.

- A social worker and a team manager of South get, for North's child, its referrals and
  its placement: 404 on every page about them (and every sub-page and action, GET and
  POST), 404 from the API's details and actions, nothing in the API's lists, nothing in
  the exports (CSV and XLSX), and nothing from a search by the child's local ID or name.
- Finance sees placements (for their cost) but not children's records or referrals, nor
  children's names anywhere (placements.access).
- The panel, the Director and commissioning officers see a child only once a referral for
  it has been submitted: a child with only a draft is as hidden from them as from South.

"Hidden" is checked as: the answer is what the same URL gives for an object that does not
exist (so the status is no oracle either), and it is a 403 or a 404. A few pages check the
role before looking at the object (confirming a placement is for commissioning officers);
they refuse everyone else with the same 403 whatever the ID, which hides as well.
"""

import csv
import io
import json
import re

import openpyxl
import pytest
from django.urls import reverse

from tests.security import routes
from tests.security.access_world import (  # noqa: F401 (fixtures)
    NORTH_CHILD_ID,
    NORTH_CHILD_SURNAME,
    SOUTH_CHILD_ID,
    UNREFERRED_CHILD_ID,
    ask,
    clients_fixture,
    world_fixture,
)
from tests.security.test_access_matrix import UNSAFE, page_routes

SOUTH = ["south_social_worker", "south_team_manager"]
REFERRED_ONLY = ["panel_chair", "panel_member", "director", "commissioning_officer"]
FINANCE = "finance_manager"
# An ID no object has.
MISSING = 987654321
CASE_PAGES = ("/children/<", "/referrals/<", "/placements/<")


# --- Pages -------------------------------------------------------------------------------


def _page_url(route: str, kwargs: dict) -> str:
    return reverse(page_routes()[route], kwargs=kwargs)


def _missing(kwargs: dict) -> dict:
    """The same kwargs with every ID replaced by one no object has."""
    return {name: MISSING if isinstance(value, int) else value for name, value in kwargs.items()}


def case_pages(world, *, child=None, referral=None) -> list[tuple[str, dict]]:
    """Every page about a child, a referral or a placement, with the table's kwargs (North's
    objects), or with `child` / `referral` put in their place."""
    found = []
    for route, page in routes.PAGES.items():
        if not route.startswith(CASE_PAGES):
            continue
        kwargs = page.kwargs(world)
        if route.startswith("/children/") and child is not None:
            kwargs = {name: child.pk for name in kwargs}
        elif route.startswith("/referrals/") and referral is not None:
            kwargs = {**kwargs, "pk": referral.pk}
        elif (child or referral) is not None and route.startswith("/placements/"):
            continue
        found.append((route, kwargs))
    return found


def _hidden_on_pages(world, client, pages) -> list[str]:
    problems = []
    for route, kwargs in pages:
        page = routes.PAGES[route]
        # A POST-only page answers GET with 405 before it looks at the object.
        methods = [] if page.get == routes.POST_ONLY else ["GET"]
        methods += ["POST"] if page.post is not None else []
        for method in methods:
            data = page.body(world) if method == "POST" else None
            url = _page_url(route, kwargs)
            answer = ask(client, method, url, data=data, world=world,
                         check_changes=method in UNSAFE)
            missing = ask(client, method, _page_url(route, _missing(kwargs)), data=data)
            if answer.status not in (403, 404) or answer.status != missing.status:
                problems.append(f"{method} {url}: {answer.status} (a missing object: "
                                f"{missing.status}) {answer.error}".strip())
            if answer.changed:
                problems.append(f"{method} {url} changed {answer.changed}")
    return problems


@pytest.mark.parametrize("persona", SOUTH)
def test_south_finds_no_page_about_norths_child_referrals_or_placement(world, clients,
                                                                        persona, db):
    pages = case_pages(world)
    assert len(pages) > 20  # every detail, sub-page and action
    problems = _hidden_on_pages(world, clients[persona], pages)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", SOUTH)
def test_south_reads_its_own_child_referral_and_placement(world, clients, persona, db):
    client = clients[persona]
    for url in (reverse("child-detail", args=[world.south_child.pk]),
                reverse("referral-detail", args=[world.south_referral.pk]),
                reverse("placement-detail", args=[world.south_placement.pk])):
        assert ask(client, "GET", url).status == 200, url


def test_finance_finds_no_page_about_a_child_or_a_referral(world, clients, db):
    pages = [(route, kwargs) for route, kwargs in case_pages(world)
             if not route.startswith("/placements/")]
    problems = _hidden_on_pages(world, clients[FINANCE], pages)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", REFERRED_ONLY)
def test_a_child_with_only_a_draft_is_hidden_beyond_its_team(world, clients, persona, db):
    pages = case_pages(world, child=world.unreferred_child, referral=world.unreferred_draft)
    problems = _hidden_on_pages(world, clients[persona], pages)
    assert not problems, "\n".join(problems)
    # …while the child with a submitted referral is theirs to read.
    child = ask(clients[persona], "GET", reverse("child-detail", args=[world.child.pk]))
    assert child.status == 200


# --- The API: details and actions ------------------------------------------------------


def _case_operations(world, *, objects) -> list[tuple[str, object]]:
    """The table's operations on one of `objects` (names of World attributes)."""
    wanted = {_key(getattr(world, name)) for name in objects}
    return [
        (operation, entry.object(world))
        for operation, entry in routes.API.items()
        if entry.object is not None and _key(entry.object(world)) in wanted
    ]


def _key(obj) -> tuple:
    return type(obj), obj.pk


NORTH_CASE = ["child", "draft", "submitted", "chosen", "north_request", "quote", "other_quote",
              "placement", "contribution"]


def _hidden_in_api(world, client, operations, *, replace=None) -> list[str]:
    problems = []
    for operation, target in operations:
        method, path = operation.split(" ", 1)
        pk = (replace or {}).get(_key(target), target).pk
        body = routes.API[operation].body(world) if method in UNSAFE else None
        answer = ask(client, method, path.replace("{id}", str(pk)), data=body, api=True,
                     world=world, check_changes=method in UNSAFE)
        missing = ask(client, method, path.replace("{id}", str(MISSING)), data=body, api=True)
        if answer.status not in (403, 404) or answer.status != missing.status:
            problems.append(f"{method} {path} #{pk}: {answer.status} (a missing object: "
                            f"{missing.status}) {answer.body[:120]!r}")
        if answer.changed:
            problems.append(f"{method} {path} #{pk} changed {answer.changed}")
    return problems


@pytest.mark.parametrize("persona", SOUTH)
def test_south_gets_404_from_the_api_for_norths_objects(world, clients, persona, db):
    operations = _case_operations(world, objects=NORTH_CASE)
    assert len(operations) > 20
    problems = _hidden_in_api(world, clients[persona], operations)
    assert not problems, "\n".join(problems)


def test_finance_gets_404_from_the_api_for_children_referrals_and_their_sourcing(world,
                                                                                 clients, db):
    operations = _case_operations(world, objects=["child", "draft", "submitted", "chosen",
                                                  "north_request", "quote", "other_quote"])
    problems = _hidden_in_api(world, clients[FINANCE], operations)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", REFERRED_ONLY)
def test_the_api_hides_a_child_with_only_a_draft_beyond_its_team(world, clients, persona, db):
    operations = _case_operations(world, objects=["child", "draft"])
    replace = {_key(world.child): world.unreferred_child,
               _key(world.draft): world.unreferred_draft}
    problems = _hidden_in_api(world, clients[persona], operations, replace=replace)
    assert not problems, "\n".join(problems)


# --- The API: lists and filters --------------------------------------------------------


def _ids(client, path, **query) -> set[int]:
    """Every ID the list gives, page after page."""
    url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    found = set()
    while url:
        answer = ask(client, "GET", url)
        assert answer.status in (200, 400), (url, answer.status)
        if answer.status == 400:  # a filter refusing the value shows nothing either
            return found
        body = json.loads(answer.body)
        found |= {row["id"] for row in body["results"]}
        url = body["next"]
    return found


def _north_and_south(world):
    """(list path, North's IDs in it, South's IDs in it)."""
    return [
        ("/api/v1/children/", {world.child.pk, world.unreferred_child.pk},
         {world.south_child.pk}),
        ("/api/v1/referrals/", {r.pk for r in world.child.referrals.all()}
         | {world.unreferred_draft.pk}, {world.south_referral.pk}),
        ("/api/v1/placements/", {world.placement.pk}, {world.south_placement.pk}),
        ("/api/v1/contributions/", set(world.placement.contributions.values_list("pk",
                                                                                 flat=True)),
         set(world.south_placement.contributions.values_list("pk", flat=True))),
        ("/api/v1/sourcing-requests/", {world.north_request.pk}, set()),
        ("/api/v1/quotes/", {world.quote.pk, world.other_quote.pk}, set()),
    ]


@pytest.mark.parametrize("persona", SOUTH)
def test_norths_objects_are_absent_from_souths_api_lists(world, clients, persona, db):
    for path, north, south in _north_and_south(world):
        listed = _ids(clients[persona], path)
        assert not listed & north, f"{path} lists North's {sorted(listed & north)}"
        assert south <= listed, f"{path} misses South's own {sorted(south - listed)}"


def test_finance_lists_no_child_referral_request_or_quote(world, clients, db):
    for path in ("/api/v1/children/", "/api/v1/referrals/", "/api/v1/sourcing-requests/",
                 "/api/v1/quotes/"):
        assert _ids(clients[FINANCE], path) == set(), path
    assert {world.placement.pk, world.south_placement.pk} <= _ids(clients[FINANCE],
                                                                  "/api/v1/placements/")


@pytest.mark.parametrize("persona", REFERRED_ONLY)
def test_a_child_with_only_a_draft_is_absent_from_the_api_lists(world, clients, persona, db):
    children = _ids(clients[persona], "/api/v1/children/")
    referrals = _ids(clients[persona], "/api/v1/referrals/")
    assert world.unreferred_child.pk not in children
    assert world.child.pk in children
    assert world.unreferred_draft.pk not in referrals
    assert world.draft.pk not in referrals  # drafts stay with the team
    assert world.submitted.pk in referrals


@pytest.mark.parametrize("persona", SOUTH)
def test_filtering_for_norths_objects_finds_nothing(world, clients, persona, db):
    client = clients[persona]
    for path, query in [
        ("/api/v1/children/", {"search": NORTH_CHILD_ID}),
        ("/api/v1/children/", {"search": NORTH_CHILD_SURNAME}),
        ("/api/v1/children/", {"team": world.north.pk}),
        ("/api/v1/referrals/", {"child": world.child.pk}),
        ("/api/v1/referrals/", {"team": world.north.pk}),
        ("/api/v1/placements/", {"team": world.north.pk}),
        ("/api/v1/contributions/", {"placement": world.placement.pk}),
        ("/api/v1/sourcing-requests/", {"referral": world.chosen.pk}),
        ("/api/v1/quotes/", {"referral": world.chosen.pk}),
        ("/api/v1/quotes/", {"sourcing_request": world.north_request.pk}),
    ]:
        assert _ids(client, path, **query) == set(), (path, query)


@pytest.mark.parametrize("persona", SOUTH)
def test_an_id_filter_answers_alike_for_a_hidden_record_and_a_missing_one(
    world, clients, persona, db
):
    """No telling whether an ID exists: North's record and no record both give an empty
    list, where a filter that looked the record up would refuse only the missing one."""
    client = clients[persona]
    for path, name, hidden in [
        ("/api/v1/referrals/", "child", world.child.pk),
        ("/api/v1/contributions/", "placement", world.placement.pk),
        ("/api/v1/sourcing-requests/", "referral", world.chosen.pk),
        ("/api/v1/quotes/", "referral", world.chosen.pk),
    ]:
        answers = [ask(client, "GET", f"{path}?{name}={pk}") for pk in (hidden, MISSING)]
        assert [(a.status, json.loads(a.body)["results"]) for a in answers] == [(200, [])] * 2, (
            path, name)
        refused = ask(client, "GET", f"{path}?{name}=4{MISSING}0000000000")
        assert refused.status == 400, (path, name)


def test_the_search_does_find_the_child_for_its_own_team(world, clients, db):
    """(So that finding nothing above means hidden, not broken.)"""
    found = _ids(clients["social_worker"], "/api/v1/children/", search=NORTH_CHILD_ID)
    assert found == {world.child.pk}


def _api_lists() -> list[str]:
    return sorted(operation.split(" ", 1)[1] for operation in routes.API
                  if operation.startswith("GET /api/v1/") and "{" not in operation)


def _browsable_api_problems(world, client, traces) -> list[str]:
    """The API's lists as a browser sees them (DRF's browsable API, with its filter form),
    and what OPTIONS says of them (the fields a POST takes, with their choices)."""
    problems = []
    for path in _api_lists():
        for method, headers in (("GET", {"HTTP_ACCEPT": "text/html"}), ("OPTIONS", {})):
            page = ask(client, method, path, **headers).body.decode()
            problems += [f"{method} {path} shows {trace}" for trace in traces if trace in page]
    return problems


@pytest.mark.parametrize("persona", SOUTH)
def test_the_browsable_api_shows_south_nothing_of_north(world, clients, persona, db):
    problems = _browsable_api_problems(world, clients[persona], _north_traces(world))
    assert not problems, "\n".join(problems)


def test_the_browsable_api_shows_finance_no_child_or_referral(world, clients, db):
    # Finance reads placements, with the local ID of the placed child: not a draft's child.
    traces = [NORTH_CHILD_SURNAME, *_unreferred_traces(world)]
    problems = _browsable_api_problems(world, clients[FINANCE], traces)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", REFERRED_ONLY)
def test_the_browsable_api_hides_a_child_with_only_a_draft(world, clients, persona, db):
    problems = _browsable_api_problems(world, clients[persona], _unreferred_traces(world))
    assert not problems, "\n".join(problems)


# --- Pages that list and search --------------------------------------------------------


def _page_text(client, url) -> str:
    """The page's HTML, less what was searched for: the page says it back ("No children
    matching …"). What would give a child away is then its name or a link to it."""
    answer = ask(client, "GET", url)
    assert answer.status == 200, (url, answer.status)
    page = answer.body.decode()
    for term in re.findall(r"local_child_id=([^&]+)", url):
        page = page.replace(term, "")
    return page


def _traces(world, *, child, referrals, placements=()) -> list[str]:
    """What would give a child away on a page: its local ID, its surname, links to it."""
    return [
        child.local_child_id, child.last_name, f'"/children/{child.pk}/',
        *(f'"/referrals/{referral.pk}/' for referral in referrals),
        *(f'"/placements/{placement.pk}/' for placement in placements),
    ]


def _north_traces(world) -> list[str]:
    # A placement's own name (str(placement)): the browsable API's filter forms use it.
    named = f"Placement {world.placement.pk} ("
    return _traces(world, child=world.child, referrals=world.child.referrals.all(),
                   placements=[world.placement]) + _unreferred_traces(world) + [named]


def _unreferred_traces(world) -> list[str]:
    return _traces(world, child=world.unreferred_child, referrals=[world.unreferred_draft])


LIST_PAGES = [
    "/", "/children/", f"/children/?local_child_id={NORTH_CHILD_ID}",
    f"/children/?local_child_id={NORTH_CHILD_SURNAME}", "/referrals/", "/placements/",
    "/sourcing/", "/panels/meetings/",
]


@pytest.mark.parametrize("persona", SOUTH)
def test_souths_list_and_search_pages_show_nothing_of_north(world, clients, persona, db):
    client = clients[persona]
    urls = [*LIST_PAGES, f"/referrals/?child={world.child.pk}",
            f"/referrals/?team={world.north.pk}", f"/placements/?team={world.north.pk}"]
    if persona == "south_team_manager":
        urls += ["/dashboard/", f"/dashboard/?team={world.north.pk}"]
    for url in urls:
        page = _page_text(client, url)
        for trace in _north_traces(world):
            assert trace not in page, f"{url} shows {trace}"
    assert SOUTH_CHILD_ID in _page_text(client, "/children/")


@pytest.mark.parametrize("persona", REFERRED_ONLY)
def test_list_and_search_pages_hide_a_child_with_only_a_draft(world, clients, persona, db):
    client = clients[persona]
    for url in [*LIST_PAGES, f"/children/?local_child_id={UNREFERRED_CHILD_ID}",
                f"/referrals/?child={world.unreferred_child.pk}"]:
        page = _page_text(client, url)
        for trace in _unreferred_traces(world):
            assert trace not in page, f"{url} shows {trace}"
    assert NORTH_CHILD_ID in _page_text(client, "/children/")


def test_the_page_search_does_find_the_child_for_its_own_team(world, clients, db):
    page = _page_text(clients["social_worker"], f"/children/?local_child_id={NORTH_CHILD_ID}")
    assert f'"/children/{world.child.pk}/' in page


def test_finance_pages_never_name_a_child(world, clients, db):
    client = clients[FINANCE]
    urls = [*LIST_PAGES, "/dashboard/",
            reverse("placement-detail", args=[world.placement.pk]),
            reverse("placement-agreement", args=[world.placement.pk]),
            reverse("placement-change-cost", args=[world.placement.pk]),
            reverse("budget-mapping", args=[world.year.start_year])]
    for url in urls:
        page = _page_text(client, url)
        for trace in (NORTH_CHILD_SURNAME, f'"/children/{world.child.pk}/'):
            assert trace not in page, f"{url} shows {trace}"
    search = _page_text(client, f"/children/?local_child_id={NORTH_CHILD_ID}")
    assert f'"/children/{world.child.pk}/' not in search


# --- Exports ---------------------------------------------------------------------------


def _export_rows(client, what, file_format, **query) -> list[list[str]]:
    url = reverse("dashboard-export", args=[what, file_format])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    answer = ask(client, "GET", url)
    assert answer.status == 200, (url, answer.status)
    if file_format == "csv":
        return list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(answer.body), read_only=True)
    return [[str(cell) for cell in row if cell is not None]
            for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def _all_text(rows) -> str:
    return "\n".join(" ".join(row) for row in rows)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("asking_for_north", [False, True], ids=["own team", "asking for North"])
def test_souths_placement_export_has_no_row_of_norths(world, clients, file_format,
                                                      asking_for_north, db):
    query = {"team": world.north.pk} if asking_for_north else {}
    rows = _export_rows(clients["south_team_manager"], "placements", file_format, **query)
    text = _all_text(rows)
    assert NORTH_CHILD_ID not in text
    assert NORTH_CHILD_SURNAME not in text
    assert SOUTH_CHILD_ID in text


@pytest.mark.parametrize("what", ["placements", "weekly-ledger", "budget-positions"])
def test_souths_social_worker_exports_nothing(world, clients, what, db):
    for file_format in ("csv", "xlsx"):
        url = reverse("dashboard-export", args=[what, file_format])
        assert ask(clients["south_social_worker"], "GET", url).status == 403


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_finance_exports_placements_without_childrens_names(world, clients, file_format, db):
    text = _all_text(_export_rows(clients[FINANCE], "placements", file_format))
    assert NORTH_CHILD_ID in text  # the placement is finance's to cost…
    assert NORTH_CHILD_SURNAME not in text  # …the child's record is not
