"""The role × route table: what every page and every API operation answers each persona.

Each row is one (route, method); its nine columns are the personas, in this order:

    anonymous  social_worker  team_manager  panel_chair  panel_member  director
    commissioning_officer  finance_manager  administrator

Cells:
- a status code: exactly that (200, 302, 400, 401, 403, 404, 405, …);
- ``L``: a redirect to the sign-in page (302, Location /sign-in/?next=…);
- ``ok``: the role may do this: the answer is any success (200, 201, 204, a 302 that is not
  to sign-in) or a refusal of the data or of the moment (400, 409), never 401/403/404/5xx.
  Only unsafe methods use it: an allowed role's write is not the point of this table.

Every unsafe request whose cell is not ``ok`` must also change nothing
(tests/security/access_world.changed_tables). Some pages refuse a role on the page
itself rather than with 403 (core.errors: "pages show them as messages"): the referral
actions and the panel's forms answer 200 (the form with the refusal) or 302 (back, with a
message). Their rows say so with those codes, and the no-change check is what proves the
refusal.

The kwargs and bodies name objects of tests/security/access_world.World. Bodies are valid
for the role that may act, so that a refusal is about the role and not about the data.
"""

import dataclasses
from collections.abc import Callable

from django.utils import timezone

from tests.security.access_world import World

LOGIN = "L"
OK = "ok"


@dataclasses.dataclass(frozen=True)
class Page:
    """A page route: its URL kwargs, the GET row, and the POST row (None: a read-only page,
    whose view never reads a request body, so a POST is answered as the GET is)."""

    get: str
    post: str | None = None
    kwargs: Callable[[World], dict] = lambda world: {}
    body: Callable[[World], dict] = lambda world: {}
    # For a route that cannot be reversed (a regular expression): an address it answers.
    url: str | None = None


@dataclasses.dataclass(frozen=True)
class Operation:
    """An API operation: the row, the object its {id} names, and the body it is sent."""

    row: str
    object: Callable[[World], object] | None = None
    body: Callable[[World], dict] = lambda world: {}


def _pk(name: str) -> Callable[[World], dict]:
    return lambda world: {"pk": getattr(world, name).pk}


def _today() -> str:
    return timezone.localdate().isoformat()


def _reason(world) -> dict:
    return {"reason": "Recorded by the access matrix test"}


def _year(world) -> dict:
    return {"year": world.year.start_year}


# --- Rows used by many routes ------------------------------------------------------------
#                anon  sw   tm   chair member dir  officer finance admin
EVERYONE = "      L    200  200  200   200   200  200     200     200"
CASE_READERS = "  L    200  200  200   200   200  200     404     200"  # not finance
OFFICER_PAGE = "  L    403  403  403   403   403  200     404     403"  # referral 404 for finance
OFFICER_POST = "  L    403  403  403   403   403  ok      404     403"
POST_ONLY = "     L    405  405  405   405   405  405     405     405"
CHANGERS_PAGE = " L    403  403  403   403   403  200     200     403"  # placement changes
CHANGERS_POST = " L    403  403  403   403   403  ok      ok      403"
BUDGET_READERS = "L    403  403  403   403   403  403     200     200"
BUDGET_EDITOR = " L    403  403  403   403   403  403     200     403"
BUDGET_WRITE = "  L    403  403  403   403   403  403     ok      403"
ROLLUP_READERS = "L    403  403  403   403   200  200     200     200"
MEETING_PAGE = "  L    404  404  200   200   200  404     404     200"
EDITOR_PAGE = "   L    403  403  403   403   403  200     403     200"
EDITOR_POST = "   L    403  403  403   403   403  ok      403     ok"

PAGES: dict[str, Page] = {
    # Signing in and out
    "/": Page(EVERYONE),
    "/sign-in/": Page(
        "200 302 302 302 302 302 302 302 302",  # signed in: straight on to the home page
        post="200 302 302 302 302 302 302 302 302",
        body=lambda world: {"username": "", "password": ""},
    ),
    "/sign-in/confirm/": Page(
        EVERYONE, post="L 200 200 200 200 200 200 200 200",
        # An empty password: a wrong one would count towards the sign-in lockout.
        body=lambda world: {"password": ""},
    ),
    "/account/password/": Page(
        # An empty form: a wrong current password would count towards the lockout.
        EVERYONE, post="L 200 200 200 200 200 200 200 200",
    ),
    "/sign-out/": Page("405 405 405 405 405 405 405 405 405",
                       post="L L L L L L L L L"),
    # The dashboard
    "/dashboard/": Page("L 403 200 403 403 200 200 200 200"),
    "/dashboard/export/<slug:what>.<slug:file_format>": Page(
        "L 403 200 403 403 200 403 200 200",
        kwargs=lambda world: {"what": "placements", "file_format": "csv"},
    ),
    "/dashboard/rebuild/": Page(POST_ONLY, post="L 403 403 403 403 403 403 ok ok", body=_year),
    "/dashboard/rebuild/<int:year>/": Page(BUDGET_READERS, kwargs=_year),
    # Children and referrals
    "/children/": Page(EVERYONE),
    "/children/<int:pk>/": Page(CASE_READERS, kwargs=_pk("child")),
    "/children/<int:child_pk>/refer/": Page(
        "L 200 200 404 404 404 404 404 404", post="L ok ok 404 404 404 404 404 404",
        kwargs=lambda world: {"child_pk": world.child.pk},
    ),
    "/referrals/": Page(EVERYONE),
    "/referrals/<int:pk>/": Page(CASE_READERS, kwargs=_pk("submitted")),
    "/referrals/<int:pk>/edit/<slug:section>/": Page(
        # Drafts stay with the team; the administrator reads them but cannot edit.
        "L 200 200 404 404 404 404 404 302", post="L ok ok 404 404 404 404 404 302",
        kwargs=lambda world: {"pk": world.draft.pk, "section": "placement"},
    ),
    "/referrals/<int:pk>/check/": Page(
        "L 200 200 404 404 404 404 404 200", post="L ok ok 404 404 404 404 404 200",
        kwargs=_pk("draft"),
    ),
    "/referrals/<int:pk>/<slug:action>/": Page(
        # Endorsing: only the child's team manager; the others get the form back with
        # the refusal.
        CASE_READERS, post="L 200 ok 200 200 200 200 404 200",
        kwargs=lambda world: {"pk": world.submitted.pk, "action": "endorse"},
        body=_reason,
    ),
    # Sourcing (the commissioning officer's workbench)
    "/sourcing/": Page(EVERYONE),
    "/referrals/<int:pk>/sourcing/": Page(CASE_READERS, post=OFFICER_POST,
                                          kwargs=_pk("chosen")),
    "/referrals/<int:pk>/sourcing/start/": Page(OFFICER_PAGE, post=OFFICER_POST,
                                                kwargs=_pk("ready")),
    "/referrals/<int:pk>/sourcing/answer/<int:invitation_pk>/": Page(
        OFFICER_PAGE, post=OFFICER_POST,
        kwargs=lambda world: {"pk": world.chosen.pk, "invitation_pk": world.invitation.pk},
        body=lambda world: {"answer": "declined", "decline_reason": "No vacancy after all"},
    ),
    "/referrals/<int:pk>/sourcing/invite/": Page(
        OFFICER_PAGE, post=OFFICER_POST, kwargs=_pk("chosen"),
        body=lambda world: {"service": world.market.too_old.pk,
                            "off_framework_reason": "Widening the search"},
    ),
    "/referrals/<int:pk>/sourcing/share/": Page(POST_ONLY, post=OFFICER_POST,
                                                kwargs=_pk("chosen")),
    "/referrals/<int:pk>/sourcing/close/": Page(OFFICER_PAGE, post=OFFICER_POST,
                                                kwargs=_pk("chosen"), body=_reason),
    "/referrals/<int:pk>/sourcing/quotes/<int:quote_pk>/negotiate/": Page(
        OFFICER_PAGE, post=OFFICER_POST,
        kwargs=lambda world: {"pk": world.chosen.pk, "quote_pk": world.quote.pk},
        body=lambda world: {"kind": "counter_offer", "weekly_price": "850.00"},
    ),
    "/referrals/<int:pk>/sourcing/quotes/<int:quote_pk>/decline/": Page(
        OFFICER_PAGE, post=OFFICER_POST,
        kwargs=lambda world: {"pk": world.chosen.pk, "quote_pk": world.other_quote.pk},
        body=_reason,
    ),
    "/referrals/<int:pk>/sourcing/quotes/<int:quote_pk>/withdraw/": Page(
        OFFICER_PAGE, post=OFFICER_POST,
        kwargs=lambda world: {"pk": world.chosen.pk, "quote_pk": world.other_quote.pk},
        body=_reason,
    ),
    # Choosing an offer and confirming the placement
    "/referrals/<int:pk>/sourcing/options/": Page(
        CASE_READERS, post="L ok ok 403 403 403 403 404 403", kwargs=_pk("chosen"),
        body=lambda world: {"quote": world.quote.pk, "reason": "Near her school"},
    ),
    "/referrals/<int:pk>/sourcing/reopen/": Page(
        "L 200 200 403 403 403 200 404 403", post="L ok ok 403 403 403 ok 404 403",
        kwargs=_pk("chosen"), body=_reason,
    ),
    "/referrals/<int:pk>/sourcing/confirm/": Page(
        # The officer's check comes before the referral is looked up: finance gets 403.
        "L 403 403 403 403 403 200 403 403", post="L 403 403 403 403 403 ok 403 403",
        kwargs=_pk("chosen"),
        body=lambda world: {"quote": world.quote.pk, "start_date": _today(),
                            "end_reason": "CARPL"},
    ),
    "/sourcing/savings/": Page("L 403 403 403 403 200 200 200 200"),
    # Placements
    "/placements/": Page(EVERYONE),
    "/placements/<int:pk>/": Page(EVERYONE, kwargs=_pk("placement")),
    "/placements/<int:pk>/agreement/": Page(EVERYONE, kwargs=_pk("placement")),
    "/placements/<int:pk>/change-cost/": Page(
        CHANGERS_PAGE, post=CHANGERS_POST, kwargs=_pk("placement"),
        body=lambda world: {"effective_from": _today(), "weekly_amount": "900.00",
                            "reason": "uplift"},
    ),
    "/placements/<int:pk>/retainer/": Page(
        CHANGERS_PAGE, post=CHANGERS_POST, kwargs=_pk("placement"),
        body=lambda world: {"effective_from": _today(), "weekly_amount": "50.00",
                            "court_order_reference": "CO-1"},
    ),
    "/placements/<int:pk>/contributions/add/": Page(
        CHANGERS_PAGE, post=CHANGERS_POST, kwargs=_pk("placement"),
        body=lambda world: {"funder": "education", "weekly_amount": "20.00",
                            "start_date": _today()},
    ),
    "/placements/<int:pk>/contributions/<int:contribution_pk>/end/": Page(
        CHANGERS_PAGE, post=CHANGERS_POST,
        kwargs=lambda world: {"pk": world.placement.pk,
                              "contribution_pk": world.contribution.pk},
        body=lambda world: {"end_date": _today()},
    ),
    "/placements/<int:pk>/end/": Page(
        CHANGERS_PAGE, post=CHANGERS_POST, kwargs=_pk("placement"),
        body=lambda world: {"end_date": _today(), "reason": "CARPL"},
    ),
    "/placements/<int:pk>/move/": Page(
        CHANGERS_PAGE, post=CHANGERS_POST, kwargs=_pk("placement"),
        body=lambda world: {"end_date": _today(), "reason": "CARPL",
                            "service": world.market.spot.pk, "placement_type": "U4",
                            "weekly_amount": "950.00"},
    ),
    # Budgets
    "/budgets/": Page(BUDGET_READERS),
    "/budgets/years/new/": Page(
        BUDGET_EDITOR, post=BUDGET_WRITE,
        body=lambda world: {"start_year": world.year.start_year + 1},
    ),
    "/budgets/<int:year>/mapping/": Page(BUDGET_READERS, kwargs=_year),
    "/budgets/<int:year>/copy/": Page(
        BUDGET_EDITOR, post=BUDGET_WRITE, kwargs=_year,
        body=lambda world: {"to_year": world.year.start_year + 1, "uplift_percentage": "0"},
    ),
    "/budgets/<int:year>/lines/new/": Page(
        BUDGET_EDITOR, post=BUDGET_WRITE, kwargs=_year,
        body=lambda world: {"name": "Respite", "amount": "1000.00"},
    ),
    "/budgets/lines/<int:pk>/": Page(BUDGET_READERS, kwargs=_pk("budget_line")),
    "/budgets/lines/<int:pk>/rules/": Page(BUDGET_EDITOR, post=BUDGET_WRITE,
                                           kwargs=_pk("budget_line")),
    "/budgets/lines/<int:pk>/adjust/": Page(
        BUDGET_EDITOR, post=BUDGET_WRITE, kwargs=_pk("budget_line"),
        body=lambda world: {"new_amount": "2000.00", "reason": "Virement",
                            "expected_amount": str(world.budget_line.amount)},
    ),
    # Panels and the Director
    "/panels/meetings/": Page(EVERYONE),
    "/panels/meetings/<int:pk>/": Page(MEETING_PAGE, kwargs=_pk("meeting")),
    "/panels/meetings/<int:pk>/minutes/": Page(MEETING_PAGE, kwargs=_pk("meeting")),
    "/panels/meetings/<int:pk>/add/": Page(
        POST_ONLY, post="L 404 404 ok 302 302 404 404 302", kwargs=_pk("meeting"),
        body=lambda world: {"referral": world.endorsed.pk},
    ),
    "/panels/meetings/<int:pk>/move/": Page(
        POST_ONLY, post="L 404 404 ok 302 302 404 404 302", kwargs=_pk("meeting"),
        body=lambda world: {"item": world.item.pk, "direction": "down"},
    ),
    "/panels/meetings/<int:pk>/close/": Page(
        MEETING_PAGE, post="L 404 404 ok 302 302 404 404 302", kwargs=_pk("meeting"),
    ),
    "/panels/items/<int:pk>/decide/": Page(
        MEETING_PAGE, post="L 404 404 ok 200 200 404 404 200", kwargs=_pk("item"),
        body=lambda world: {"outcome": "defer", "rationale": "Wait for the assessment"},
    ),
    "/panels/items/<int:pk>/remove/": Page(
        MEETING_PAGE, post="L 404 404 ok 302 302 404 404 302", kwargs=_pk("item"),
    ),
    "/panels/decisions/<int:pk>/correct/": Page(
        MEETING_PAGE, post="L 404 404 ok 200 200 404 404 200", kwargs=_pk("decision"),
        body=lambda world: {"outcome": "decline", "rationale": "Minuted wrongly"},
    ),
    "/director/approvals/": Page("L 403 403 403 403 200 403 403 200"),
    "/director/approvals/<int:pk>/": Page(
        # Administrators read the queue but only the Director decides.
        "L 403 403 403 403 200 403 403 403", post="L 403 403 403 403 ok 403 403 403",
        kwargs=_pk("approval"),
        body=lambda world: {"decision": "approve", "reason": "Agreed"},
    ),
    # The provider directory: everyone reads, commissioning officers and administrators
    # change it.
    "/providers/": Page(EVERYONE),
    "/providers/new/": Page(
        EDITOR_PAGE, post=EDITOR_POST,
        body=lambda world: {"name": "New Fostering", "kind": "ifa", "place_provider": "PR4"},
    ),
    "/providers/import/": Page(EDITOR_PAGE, post=EDITOR_POST),
    "/providers/import/template.csv": Page(EVERYONE),
    "/providers/<int:pk>/": Page(EVERYONE, kwargs=_pk("provider")),
    "/providers/<int:pk>/edit/": Page(
        EDITOR_PAGE, post=EDITOR_POST, kwargs=_pk("provider"),
        body=lambda world: {"name": "Renamed Fostering", "kind": "ifa", "place_provider": "PR4"},
    ),
    "/providers/<int:provider_pk>/services/new/": Page(
        EDITOR_PAGE, post=EDITOR_POST,
        kwargs=lambda world: {"provider_pk": world.provider.pk},
    ),
    "/providers/<int:provider_pk>/discounts/new/": Page(
        EDITOR_PAGE, post=EDITOR_POST,
        kwargs=lambda world: {"provider_pk": world.provider.pk},
        body=lambda world: {"basis": "volume", "description": "Four or more",
                            "percentage": "2.00", "valid_from": _today()},
    ),
    "/providers/services/<int:pk>/": Page(EVERYONE, kwargs=_pk("service")),
    "/providers/services/<int:pk>/edit/": Page(EDITOR_PAGE, post=EDITOR_POST,
                                               kwargs=_pk("service")),
    "/providers/discounts/<int:pk>/end/": Page(
        EDITOR_PAGE, post=EDITOR_POST, kwargs=_pk("discount"),
        body=lambda world: {"valid_to": _today()},
    ),
    "/frameworks/": Page(EVERYONE),
    "/frameworks/<int:pk>/": Page(EVERYONE, kwargs=_pk("framework")),
    "/frameworks/<int:pk>/rates/new/": Page(EDITOR_PAGE, post=EDITOR_POST,
                                            kwargs=_pk("framework")),
    "/frameworks/<int:pk>/uplift/": Page(EDITOR_PAGE, post=EDITOR_POST,
                                         kwargs=_pk("framework")),
    "/frameworks/<int:pk>/import-rates/": Page(EDITOR_PAGE, post=EDITOR_POST,
                                               kwargs=_pk("framework")),
    "/frameworks/<int:pk>/import-rates/template.csv": Page(EVERYONE, kwargs=_pk("framework")),
    # The API's root (DRF's router): not an operation of the OpenAPI schema.
    "/api/v1/": Page("401 200 200 200 200 200 200 200 200"),
    # Any other address under /api/v1/: a JSON 404 once signed in (core.api.UnknownEndpoint).
    r"/api/v1/^[\s\S]*/$": Page(
        "401 404 404 404 404 404 404 404 404", post="401 404 404 404 404 404 404 404 404",
        url="/api/v1/no-such-address/",
    ),
}


# --- The API ------------------------------------------------------------------------------
#                     anon sw   tm   chair member dir  officer finance admin
API_EVERYONE = "       401 200  200  200   200   200  200     200     200"
API_CASE_READERS = "   401 200  200  200   200   200  200     404     200"
API_MEETING = "        401 404  404  200   200   200  404     404     200"
API_MEETING_WRITE = "  401 404  404  ok    403   403  404     404     403"
API_OFFICER_WRITE = "  401 403  403  403   403   403  ok      404     403"
API_CHANGERS_WRITE = " 401 403  403  403   403   403  ok      ok      403"
API_BUDGET_READERS = " 401 403  403  403   403   403  403     200     200"
API_BUDGET_WRITE = "   401 403  403  403   403   403  403     ok      403"
API_ROLLUP_READERS = " 401 403  403  403   403   200  200     200     200"
API_APPROVALS = "      401 403  403  403   403   200  403     403     200"
API_DIRECTOR_WRITE = " 401 403  403  403   403   ok   403     403     403"
API_EDITOR_WRITE = "   401 403  403  403   403   403  ok      403     ok"
# A body naming an object the role may not see is refused as if the object did not exist
# (400, placements.api.VisibleChildField): finance names a child it cannot see, say.
API_PANEL_CREATE = "   401 400  400  ok    403   403  400     400     403"


def _object(name: str) -> Callable[[World], object]:
    return lambda world: getattr(world, name)


NORTH_REQUEST = _object("north_request")

API: dict[str, Operation] = {
    "GET /api/schema/": Operation(API_EVERYONE),
    # Children and referrals
    "GET /api/v1/children/": Operation(API_EVERYONE),
    "GET /api/v1/children/{id}/": Operation(API_CASE_READERS, _object("child")),
    "GET /api/v1/referrals/": Operation(API_EVERYONE),
    "POST /api/v1/referrals/": Operation(
        "401 ok ok 403 403 403 403 400 403",
        body=lambda world: {"child": world.child.pk, "placement_type_sought": "U4",
                            "wanted_start_date": _today()},
    ),
    "GET /api/v1/referrals/{id}/": Operation(API_CASE_READERS, _object("submitted")),
    "PATCH /api/v1/referrals/{id}/": Operation(
        "401 ok ok 404 404 404 404 404 403", _object("draft"),
        body=lambda world: {"pets": "A cat"},
    ),
    "POST /api/v1/referrals/{id}/submit/": Operation(
        "401 ok ok 404 404 404 404 404 403", _object("draft"),
    ),
    "POST /api/v1/referrals/{id}/endorse/": Operation(
        "401 403 ok 403 403 403 403 404 403", _object("submitted"),
    ),
    "POST /api/v1/referrals/{id}/return/": Operation(
        "401 403 ok 403 403 403 403 404 403", _object("submitted"), body=_reason,
    ),
    "POST /api/v1/referrals/{id}/withdraw/": Operation(
        "401 ok ok 403 403 403 403 404 ok", _object("submitted"), body=_reason,
    ),
    # Panels and the Director
    "GET /api/v1/panels/": Operation(API_EVERYONE),
    "GET /api/v1/panels/{id}/": Operation(API_EVERYONE, _object("panel")),
    "GET /api/v1/meetings/": Operation(API_EVERYONE),
    "GET /api/v1/meetings/{id}/": Operation(API_MEETING, _object("meeting")),
    "POST /api/v1/meetings/{id}/close/": Operation(API_MEETING_WRITE, _object("meeting")),
    "POST /api/v1/meetings/{id}/reorder/": Operation(
        API_MEETING_WRITE, _object("meeting"),
        body=lambda world: {"item_ids": [world.second_item.pk, world.item.pk]},
    ),
    "GET /api/v1/agenda-items/": Operation(API_EVERYONE),
    "POST /api/v1/agenda-items/": Operation(
        API_PANEL_CREATE,
        body=lambda world: {"meeting": world.meeting.pk, "referral": world.endorsed.pk},
    ),
    "GET /api/v1/agenda-items/{id}/": Operation(API_MEETING, _object("item")),
    "DELETE /api/v1/agenda-items/{id}/": Operation(API_MEETING_WRITE, _object("item")),
    "GET /api/v1/decisions/": Operation(API_EVERYONE),
    "POST /api/v1/decisions/": Operation(
        API_PANEL_CREATE,
        body=lambda world: {"agenda_item": world.item.pk, "outcome": "defer",
                            "rationale": "Wait for the assessment"},
    ),
    "GET /api/v1/decisions/{id}/": Operation(API_MEETING, _object("decision")),
    "GET /api/v1/director-approvals/": Operation(API_APPROVALS),
    "GET /api/v1/director-approvals/{id}/": Operation(API_APPROVALS, _object("approval")),
    "POST /api/v1/director-approvals/{id}/approve/": Operation(
        API_DIRECTOR_WRITE, _object("approval"),
    ),
    "POST /api/v1/director-approvals/{id}/refuse/": Operation(
        API_DIRECTOR_WRITE, _object("approval"), body=_reason,
    ),
    # The provider directory
    "GET /api/v1/providers/": Operation(API_EVERYONE),
    "POST /api/v1/providers/": Operation(
        API_EDITOR_WRITE,
        body=lambda world: {"name": "New Fostering", "kind": "ifa", "place_provider": "PR4"},
    ),
    "GET /api/v1/providers/{id}/": Operation(API_EVERYONE, _object("provider")),
    "PATCH /api/v1/providers/{id}/": Operation(
        API_EDITOR_WRITE, _object("provider"), body=lambda world: {"phone": "0113 000 0000"},
    ),
    "GET /api/v1/services/": Operation(API_EVERYONE),
    "POST /api/v1/services/": Operation(
        API_EDITOR_WRITE,
        body=lambda world: {"provider": world.provider.pk, "name": "New Home",
                            "postcode": "LS1 1AA"},
    ),
    "GET /api/v1/services/{id}/": Operation(API_EVERYONE, _object("service")),
    "PATCH /api/v1/services/{id}/": Operation(
        API_EDITOR_WRITE, _object("service"), body=lambda world: {"vacancies": 2},
    ),
    "GET /api/v1/frameworks/": Operation(API_EVERYONE),
    "GET /api/v1/frameworks/{id}/": Operation(API_EVERYONE, _object("framework")),
    "POST /api/v1/frameworks/{id}/uplift/": Operation(
        API_EDITOR_WRITE, _object("framework"),
        body=lambda world: {"from_year": world.market.year, "percentage": "2.00"},
    ),
    "GET /api/v1/framework-rates/": Operation(API_EVERYONE),
    "POST /api/v1/framework-rates/": Operation(
        API_EDITOR_WRITE,
        body=lambda world: {"framework": world.framework.pk, "lot": world.market.lot.pk,
                            "placement_type": "U5", "financial_year": world.market.year,
                            "ceiling_weekly_price": "900.00"},
    ),
    "GET /api/v1/framework-rates/{id}/": Operation(API_EVERYONE, _object("rate")),
    "PATCH /api/v1/framework-rates/{id}/": Operation(
        API_EDITOR_WRITE, _object("rate"),
        body=lambda world: {"ceiling_weekly_price": "860.00"},
    ),
    "GET /api/v1/provider-discounts/": Operation(API_EVERYONE),
    "POST /api/v1/provider-discounts/": Operation(
        API_EDITOR_WRITE,
        body=lambda world: {"provider": world.provider.pk, "basis": "volume",
                            "description": "Four or more", "percentage": "2.00",
                            "valid_from": _today()},
    ),
    # Sourcing requests and quotes
    "GET /api/v1/sourcing-requests/": Operation(API_EVERYONE),
    "POST /api/v1/sourcing-requests/": Operation(
        "401 403 403 403 403 403 ok 400 403",
        body=lambda world: {"referral": world.ready.pk},
    ),
    "GET /api/v1/sourcing-requests/{id}/": Operation(API_CASE_READERS, NORTH_REQUEST),
    "GET /api/v1/sourcing-requests/{id}/shortlist/": Operation(API_CASE_READERS, NORTH_REQUEST),
    "GET /api/v1/sourcing-requests/{id}/comparison/": Operation(API_CASE_READERS, NORTH_REQUEST),
    "POST /api/v1/sourcing-requests/{id}/send/": Operation(
        API_OFFICER_WRITE, NORTH_REQUEST,
        body=lambda world: {"services": [world.market.good.pk]},
    ),
    "POST /api/v1/sourcing-requests/{id}/invite/": Operation(
        API_OFFICER_WRITE, NORTH_REQUEST,
        body=lambda world: {"service": world.market.too_old.pk,
                            "off_framework_reason": "Widening the search"},
    ),
    "POST /api/v1/sourcing-requests/{id}/share-options/": Operation(API_OFFICER_WRITE,
                                                                    NORTH_REQUEST),
    "POST /api/v1/sourcing-requests/{id}/close/": Operation(API_OFFICER_WRITE, NORTH_REQUEST,
                                                            body=_reason),
    "GET /api/v1/quotes/": Operation(API_EVERYONE),
    "POST /api/v1/quotes/": Operation(
        # Everyone who can see the request is refused by the service; finance cannot see it.
        "401 403 403 403 403 403 ok 400 403",
        body=lambda world: {"sourcing_request": world.north_request.pk,
                            "service": world.market.good.pk, "quoted_weekly_price": "900.00"},
    ),
    "GET /api/v1/quotes/{id}/": Operation(API_CASE_READERS, _object("quote")),
    "POST /api/v1/quotes/{id}/negotiate/": Operation(
        API_OFFICER_WRITE, _object("quote"),
        body=lambda world: {"kind": "counter_offer", "weekly_price": "850.00"},
    ),
    "POST /api/v1/quotes/{id}/decline/": Operation(API_OFFICER_WRITE, _object("other_quote"),
                                                   body=_reason),
    "POST /api/v1/quotes/{id}/withdraw/": Operation(API_OFFICER_WRITE, _object("other_quote"),
                                                    body=_reason),
    "POST /api/v1/quotes/{id}/choose/": Operation(
        "401 ok ok 403 403 403 403 404 403", _object("quote"), body=_reason,
    ),
    "POST /api/v1/quotes/{id}/accept/": Operation(
        API_OFFICER_WRITE, _object("quote"), body=lambda world: {"end_reason": "CARPL"},
    ),
    # Placements and their money
    "GET /api/v1/placements/": Operation(API_EVERYONE),
    "GET /api/v1/placements/{id}/": Operation(API_EVERYONE, _object("placement")),
    "POST /api/v1/placements/{id}/change-cost/": Operation(
        API_CHANGERS_WRITE, _object("placement"),
        body=lambda world: {"effective_from": _today(), "weekly_amount": "900.00",
                            "reason": "uplift"},
    ),
    "POST /api/v1/placements/{id}/retainer/": Operation(
        API_CHANGERS_WRITE, _object("placement"),
        body=lambda world: {"effective_from": _today(), "weekly_amount": "50.00",
                            "court_order_reference": "CO-1"},
    ),
    "POST /api/v1/placements/{id}/end/": Operation(
        API_CHANGERS_WRITE, _object("placement"),
        body=lambda world: {"end_date": _today(), "reason": "CARPL"},
    ),
    "POST /api/v1/placements/{id}/move/": Operation(
        API_CHANGERS_WRITE, _object("placement"),
        body=lambda world: {"end_date": _today(), "reason": "CARPL",
                            "service": world.market.spot.pk, "placement_type": "U4",
                            "weekly_amount": "950.00"},
    ),
    "GET /api/v1/contributions/": Operation(API_EVERYONE),
    "POST /api/v1/contributions/": Operation(
        API_CHANGERS_WRITE,
        body=lambda world: {"placement": world.placement.pk, "funder": "education",
                            "weekly_amount": "20.00", "start_date": _today()},
    ),
    "GET /api/v1/contributions/{id}/": Operation(API_EVERYONE, _object("contribution")),
    "POST /api/v1/contributions/{id}/end/": Operation(
        API_CHANGERS_WRITE, _object("contribution"), body=lambda world: {"end_date": _today()},
    ),
    "GET /api/v1/budget-lines/": Operation(API_BUDGET_READERS),
    "POST /api/v1/budget-lines/": Operation(
        API_BUDGET_WRITE,
        body=lambda world: {"financial_year": world.year.start_year, "name": "Respite",
                            "amount": "1000.00"},
    ),
    "GET /api/v1/budget-lines/{id}/": Operation(API_BUDGET_READERS, _object("budget_line")),
    "POST /api/v1/budget-lines/{id}/adjust/": Operation(
        API_BUDGET_WRITE, _object("budget_line"),
        body=lambda world: {"new_amount": "2000.00", "reason": "Virement"},
    ),
    "POST /api/v1/budget-lines/{id}/rules/": Operation(
        API_BUDGET_WRITE, _object("budget_line"), body=lambda world: {"rules": []},
    ),
    "GET /api/v1/weekly-costs/": Operation(API_ROLLUP_READERS),
    "GET /api/v1/weekly-costs/{id}/": Operation(API_ROLLUP_READERS, _object("ledger_row")),
    "GET /api/v1/budget-positions/": Operation(API_ROLLUP_READERS),
    "GET /api/v1/budget-positions/{id}/": Operation(API_ROLLUP_READERS, _object("position")),
}
