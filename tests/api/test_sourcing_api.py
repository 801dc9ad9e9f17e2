"""/api/v1/sourcing-requests/ and /api/v1/quotes/: the sourcing journey through HTTP, the
refusals a client must tell apart (400, 403, 404, 409), who may write, what each list
costs in queries, and two officers accepting at once."""

import datetime
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from core.roles import Role
from placements.models import Placement, ReferralStatus, UnmetDemand
from placements.services import sourcing
from providers import matching
from providers.models import (
    FrameworkRate,
    NegotiationStep,
    ProviderDiscount,
    Quote,
    SourcingInvitation,
    SourcingRequest,
)
from providers.services import sourcing as market_services
from tests.factories import PlacementFactory, ReferralFactory, UserFactory
from tests.sourcing import (  # noqa: F401 (fixtures)
    build_market,
    market_fixture,
    officer_fixture,
    ready_referral,
    social_worker_fixture,
)

S = ReferralStatus
R = SourcingRequest.Status
Q = Quote.Status
REQUESTS = "/api/v1/sourcing-requests/"
QUOTES = "/api/v1/quotes/"
SPOT_REASON = "Only one framework home matched."


def request_url(sourcing_request, action: str = "") -> str:
    return f"{REQUESTS}{sourcing_request.pk}/" + (f"{action}/" if action else "")


def quote_url(quote, action: str = "") -> str:
    return f"{QUOTES}{quote.pk}/" + (f"{action}/" if action else "")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


# The journey's stages, built with the services (the pages' and the API's own functions).
STAGES = ["ready", "draft", "sent", "offers", "options_ready", "chosen"]


def journey(stage: str, *, market, officer, social_worker, team, **referral_kwargs):
    """A referral walked through sourcing up to `stage`: its request was sent to the good
    (framework) home, the spot (off-framework) home and the far home; the good and spot
    homes offered; the social worker chose the good home's offer."""
    reached = STAGES.index(stage)
    state = SimpleNamespace(referral=ready_referral(team=team, **referral_kwargs),
                            request=None, good=None, spot=None)
    if reached >= 1:
        state.request = sourcing.sourcing_start(
            by=officer, referral=state.referral, needs=["autism"]
        )
    if reached >= 2:
        sourcing.sourcing_send(
            by=officer, referral=state.referral,
            service_ids=[market.good.pk, market.spot.pk, market.far.pk],
            off_framework_reasons={market.spot.pk: SPOT_REASON},
        )
    if reached >= 3:
        state.good = market_services.quote_record(
            by=officer, request=state.request, service=market.good, quoted_weekly_price="900",
            inclusions="Respite", available_from=state.referral.wanted_start_date,
        )
        state.spot = market_services.quote_record(
            by=officer, request=state.request, service=market.spot, quoted_weekly_price="1100"
        )
    if reached >= 4:
        sourcing.options_share(by=officer, referral=state.referral)
    if reached >= 5:
        sourcing.offer_choose(
            by=social_worker, referral=state.referral, quote=state.good, reason="Near school"
        )
    for name in ("referral", "request", "good", "spot"):
        if getattr(state, name) is not None:
            getattr(state, name).refresh_from_db()
    return state


@pytest.fixture
def at(market, officer, social_worker, north):
    """at("offers") → the journey built up to that stage for a child in North."""

    def build(stage: str, **referral_kwargs):
        return journey(stage, market=market, officer=officer, social_worker=social_worker,
                       team=north, **referral_kwargs)

    return build


def snapshot(state) -> tuple:
    """Everything a refused write must leave as it was."""
    state.referral.refresh_from_db()
    return (
        state.referral.status,
        list(SourcingRequest.objects.order_by("pk").values_list("pk", "status")),
        list(SourcingInvitation.objects.order_by("pk").values_list("pk", "status")),
        list(Quote.objects.order_by("pk").values_list("pk", "status", "agreed_weekly_price")),
        NegotiationStep.objects.count(),
        Placement.objects.count(),
    )


# --- Sourcing requests: starting -----------------------------------------------------


def test_an_officer_starts_a_draft_for_a_ready_referral(as_user, officer, at):
    state = at("ready")
    response = as_user(officer).post(REQUESTS, {
        "referral": state.referral.pk, "needs": ["autism", "mental_health"],
        "needs_summary": "Loves football.",
    }, format="json")

    assert response.status_code == 201, response.data
    created = SourcingRequest.objects.get(pk=response.data["id"])
    assert created.status == R.DRAFT and created.needs == ["autism", "mental_health"]
    assert response.data["referral"] == state.referral.pk
    assert response.data["referral_status"] == S.READY_FOR_SOURCING
    assert response.data["reference"] == created.reference
    assert (response.data["area"], response.data["age_years"]) == ("LS6", 12)
    assert response.data["max_distance_miles"] == 20  # the referral asks for local
    assert response.data["risks"] == ["going_missing"]
    assert response.data["invitations"] == []


def test_a_distance_given_replaces_the_referrals_and_null_means_no_limit(as_user, officer, at):
    client = as_user(officer)
    first, second = at("ready"), at("ready")
    wider = client.post(REQUESTS, {"referral": first.referral.pk, "max_distance_miles": 40,
                                   "placement_type": "U6"}, format="json")
    unlimited = client.post(REQUESTS, {"referral": second.referral.pk,
                                       "max_distance_miles": None}, format="json")
    assert (wider.status_code, unlimited.status_code) == (201, 201)
    assert (wider.data["max_distance_miles"], wider.data["placement_type"]) == (40, "U6")
    assert unlimited.data["max_distance_miles"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"referral"}),
        ({"referral": "abc"}, {"referral"}),
        ({"referral": 1.5}, {"referral"}),
        ({"referral": 10**30}, {"referral"}),
        ({"needs": ["flying"]}, {"needs"}),
        ({"needs": "autism"}, {"needs"}),
        ({"placement_type": "XX"}, {"placement_type"}),
        ({"max_distance_miles": "far"}, {"max_distance_miles"}),
        ({"max_distance_miles": -3}, {"max_distance_miles"}),
        ({"max_distance_miles": 10**12}, {"max_distance_miles"}),
        ({"planned_end_date": "next year"}, {"planned_end_date"}),
        ({"planned_end_date": "01/02/2030"}, {"planned_end_date"}),
        # Refused by the service, on its field: it ends before the wanted start.
        ({"planned_end_date": "2000-01-01"}, {"planned_end_date"}),
    ],
)
def test_bad_start_data_is_400_with_field_errors(as_user, officer, at, body, fields):
    state = at("ready")
    if body and "referral" not in body:
        body = {"referral": state.referral.pk, **body}
    response = as_user(officer).post(REQUESTS, body, format="json")
    assert response.status_code == 400, response.data
    assert set(response.data) == fields
    assert not SourcingRequest.objects.exists()


def test_a_referral_the_user_cannot_see_is_refused_as_unknown(as_user, officer, north):
    draft = ReferralFactory(child=ready_referral(team=north).child, status=S.DRAFT)
    response = as_user(officer).post(REQUESTS, {"referral": draft.pk}, format="json")
    assert response.status_code == 400
    assert "referral" in response.data


def test_a_second_open_request_is_409(as_user, officer, at):
    state = at("draft")
    response = as_user(officer).post(REQUESTS, {"referral": state.referral.pk}, format="json")
    assert response.status_code == 409
    assert SourcingRequest.objects.count() == 1


def test_a_referral_not_ready_for_sourcing_is_409_with_its_state(as_user, officer, north):
    referral = ReferralFactory(child=ready_referral(team=north).child, status=S.ENDORSED)
    response = as_user(officer).post(REQUESTS, {"referral": referral.pk}, format="json")
    assert response.status_code == 409
    assert response.data["current_status"] == S.ENDORSED
    assert "allowed_transitions" in response.data


def test_malformed_json_is_400(as_user, officer, at):
    state = at("draft")
    client = as_user(officer)
    for url in (REQUESTS, request_url(state.request, "send"), QUOTES):
        response = client.post(url, '{"referral": ', content_type="application/json")
        assert response.status_code == 400, url
    assert state.request.invitations.count() == 0


# --- Sourcing requests: reading ------------------------------------------------------


def test_detail_shows_invitations_the_referral_and_the_choice(as_user, social_worker, at):
    state = at("chosen")
    response = as_user(social_worker).get(request_url(state.request))

    assert response.status_code == 200, response.data
    data = response.data
    assert (data["status"], data["referral"], data["referral_status"]) == (
        R.SENT, state.referral.pk, S.PROVIDER_CHOSEN
    )
    assert (data["chosen_quote"], data["chosen_by"], data["choice_reason"]) == (
        state.good.pk, social_worker.pk, "Near school"
    )
    invitations = {row["service_name"]: row for row in data["invitations"]}
    assert set(invitations) == {"Good Carers", "Spot Carers", "Far Away"}
    spot = invitations["Spot Carers"]
    assert (spot["on_framework"], spot["off_framework_reason"], spot["status"]) == (
        False, SPOT_REASON, "responded"
    )
    assert invitations["Far Away"]["status"] == "sent"
    assert invitations["Far Away"]["sent_at"] and invitations["Far Away"]["chased_at"] is None
    assert invitations["Good Carers"]["on_framework"] is True
    assert any("over 20" in reason for reason in invitations["Far Away"]["match_reasons"])


def test_who_sees_which_requests(as_user, personas, at, south_social_worker):
    state = at("sent")
    for role in Role:
        client = as_user(personas[role])
        listed = ids(client.get(REQUESTS))
        detail = client.get(request_url(state.request)).status_code
        if role == Role.FINANCE_MANAGER:
            assert (listed, detail) == (set(), 404)
        else:
            assert (listed, detail) == ({state.request.pk}, 200), role
    other_team = as_user(south_social_worker)
    assert ids(other_team.get(REQUESTS)) == set()
    assert other_team.get(request_url(state.request)).status_code == 404
    assert other_team.get(request_url(state.request, "comparison")).status_code == 404
    assert other_team.get(request_url(state.request, "shortlist")).status_code == 404


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999", "abc"])
def test_an_unknown_request_is_404(as_user, officer, market, pk):
    client = as_user(officer)
    assert client.get(f"{REQUESTS}{pk}/").status_code == 404
    assert client.post(f"{REQUESTS}{pk}/close/", {"reason": "x"}, format="json").status_code == 404


def test_filters_on_status_type_urgency_and_referral(as_user, officer, at):
    draft, sent = at("draft"), at("sent")
    urgent = at("draft", urgency="today")
    client = as_user(officer)

    assert ids(client.get(REQUESTS, {"status": "sent"})) == {sent.request.pk}
    assert ids(client.get(REQUESTS, {"status": ["sent", "draft"]})) == {
        draft.request.pk, sent.request.pk, urgent.request.pk,
    }
    assert ids(client.get(REQUESTS, {"urgency": "today"})) == {urgent.request.pk}
    assert ids(client.get(REQUESTS, {"placement_type": "U4"})) == {
        draft.request.pk, sent.request.pk, urgent.request.pk,
    }
    assert ids(client.get(REQUESTS, {"placement_type": "K2"})) == set()
    assert ids(client.get(REQUESTS, {"referral": sent.referral.pk})) == {sent.request.pk}


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "lost"), ("placement_type", "XX"), ("urgency", "soon"), ("referral", "abc"),
     ("referral", "1e30"), ("referral", "99999999999999999999999"), ("referral", "-1")],
)
def test_a_bad_request_filter_is_400(as_user, officer, market, name, value):
    response = as_user(officer).get(REQUESTS, {name: value})
    assert response.status_code == 400
    assert name in response.data


def test_shortlist_names_candidates_and_why_others_are_left_out(as_user, social_worker, at,
                                                                market):
    state = at("draft")
    response = as_user(social_worker).get(request_url(state.request, "shortlist"))

    assert response.status_code == 200, response.data
    candidates = [row["service_name"] for row in response.data["candidates"]]
    assert candidates == ["Good Carers", "Spot Carers"]  # framework first
    good = response.data["candidates"][0]
    assert (good["on_framework"], good["ceiling"], good["failures"]) == (True, "850.00", [])
    assert good["distance_miles"] is not None and good["reasons"]
    excluded = {row["service_name"]: row["failures"] for row in response.data["excluded"]}
    assert excluded["Little Ones"] == ["Takes ages 0–10, not 12"]
    assert excluded["Full House"] == ["No vacancy"]
    assert "Residential Home" not in excluded  # does not offer U4 at all


def test_comparison_shows_price_flags_score_and_explanation(as_user, social_worker, at):
    state = at("options_ready")
    response = as_user(social_worker).get(request_url(state.request, "comparison"))

    assert response.status_code == 200, response.data
    options = {row["service_name"]: row for row in response.data}
    assert set(options) == {"Good Carers", "Spot Carers"}
    good, spot = options["Good Carers"], options["Spot Carers"]
    assert (good["quote"], good["price"], good["quality_points"]) == (state.good.pk, "900.00", 75)
    assert [flag["code"] for flag in good["flags"]] == ["above_ceiling"]
    assert [flag["code"] for flag in spot["flags"]] == ["off_framework"]
    assert good["cost_points"] == "100.0" and spot["quality_points"] == 100
    assert good["explanation"].endswith(f"= {good['score']}")


def test_finance_cannot_read_the_comparison(as_user, personas, at):
    state = at("options_ready")
    client = as_user(personas[Role.FINANCE_MANAGER])
    assert client.get(request_url(state.request, "comparison")).status_code == 404


# --- Sourcing requests: sending, inviting, sharing, closing --------------------------


def test_send_invites_the_services_and_moves_the_referral_on(as_user, officer, at, market,
                                                             mailoutbox):
    state = at("draft")
    response = as_user(officer).post(request_url(state.request, "send"), {
        "services": [market.good.pk, market.spot.pk],
        "off_framework_reasons": {str(market.spot.pk): SPOT_REASON},
    }, format="json")

    assert response.status_code == 200, response.data
    assert response.data["status"] == R.SENT and response.data["sent_at"]
    assert response.data["referral_status"] == S.SOURCING
    assert {row["service"] for row in response.data["invitations"]} == {
        market.good.pk, market.spot.pk
    }
    state.referral.refresh_from_db()
    assert state.referral.status == S.SOURCING
    assert state.request.invitations.get(service=market.spot).off_framework_reason == SPOT_REASON


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda m: {}, "services"),
        (lambda m: {"services": []}, "services"),
        (lambda m: {"services": "all"}, "services"),
        (lambda m: {"services": ["x"]}, "services"),
        (lambda m: {"services": [1.5]}, "services"),
        (lambda m: {"services": [10**30]}, "services"),
        (lambda m: {"services": [999999]}, "services"),  # refused by the service
        (lambda m: {"services": [m.spot.pk]}, "off_framework_reasons"),  # needs a reason
        (lambda m: {"services": [m.spot.pk], "off_framework_reasons": {str(m.spot.pk): ""}},
         "off_framework_reasons"),
        (lambda m: {"services": [m.good.pk], "off_framework_reasons": {"spot": "x"}},
         "off_framework_reasons"),
        (lambda m: {"services": [m.good.pk],
                    "off_framework_reasons": {str(m.spot.pk): SPOT_REASON}},
         "off_framework_reasons"),  # a reason for a service not chosen
        (lambda m: {"services": [m.good.pk], "off_framework_reasons": ["x"]},
         "off_framework_reasons"),
    ],
)
def test_bad_send_data_is_400_and_sends_nothing(as_user, officer, at, market, body, field):
    state = at("draft")
    before = snapshot(state)
    response = as_user(officer).post(request_url(state.request, "send"), body(market),
                                     format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert snapshot(state) == before


def test_sending_twice_is_409_with_the_referrals_state(as_user, officer, at, market):
    state = at("sent")
    response = as_user(officer).post(request_url(state.request, "send"),
                                     {"services": [market.good.pk]}, format="json")
    assert response.status_code == 409
    assert response.data["current_status"] == S.SOURCING


def test_an_old_request_is_not_mistaken_for_the_referrals_open_one(as_user, officer, at,
                                                                    market):
    """After a request closes and another starts, actions on the old one are refused:
    the placements services act on the referral's open request, which is the new one."""
    state = at("draft")
    client = as_user(officer)
    assert client.post(request_url(state.request, "close"), {"reason": "Rethink"},
                       format="json").status_code == 200
    newer = client.post(REQUESTS, {"referral": state.referral.pk}, format="json")
    assert newer.status_code == 201

    response = client.post(request_url(state.request, "send"),
                           {"services": [market.good.pk]}, format="json")

    assert response.status_code == 409
    assert (response.data["current_status"], response.data["allowed_transitions"]) == (
        R.CANCELLED, []
    )
    assert SourcingRequest.objects.get(pk=newer.data["id"]).status == R.DRAFT


def test_invite_adds_a_service_to_a_sent_request(as_user, officer, at, market):
    state = at("sent")
    response = as_user(officer).post(request_url(state.request, "invite"),
                                     {"service": market.too_old.pk}, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["service"], response.data["on_framework"]) == (market.too_old.pk, True)
    assert "Does not meet: Takes ages 0–10, not 12" in response.data["match_reasons"]
    assert state.request.invitations.count() == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda m: {}, "service"),
        (lambda m: {"service": "x"}, "service"),
        (lambda m: {"service": 999999}, "service"),
        (lambda m: {"service": m.good.pk}, "service"),  # already invited
        (lambda m: {"service": m.too_old.pk, "off_framework_reason": "x" * 301},
         "off_framework_reason"),
    ],
)
def test_bad_invitations_are_400(as_user, officer, at, market, body, field):
    state = at("sent")
    response = as_user(officer).post(request_url(state.request, "invite"), body(market),
                                     format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert state.request.invitations.count() == 3


def test_an_off_framework_invitation_needs_a_reason(as_user, officer, at, market):
    state = at("draft")
    sourcing.sourcing_send(by=officer, referral=state.referral, service_ids=[market.good.pk])
    client = as_user(officer)
    url = request_url(state.request, "invite")
    refused = client.post(url, {"service": market.spot.pk}, format="json")
    assert refused.status_code == 400 and "off_framework_reason" in refused.data
    invited = client.post(url, {"service": market.spot.pk, "off_framework_reason": SPOT_REASON},
                          format="json")
    assert invited.status_code == 201, invited.data
    assert invited.data["off_framework_reason"] == SPOT_REASON


def test_inviting_to_a_draft_is_409(as_user, officer, at, market):
    state = at("draft")
    response = as_user(officer).post(request_url(state.request, "invite"),
                                     {"service": market.good.pk}, format="json")
    assert response.status_code == 409
    assert response.data["current_status"] == R.DRAFT


def test_options_are_shared_once_there_is_an_offer(as_user, officer, at):
    state = at("sent")
    client = as_user(officer)
    url = request_url(state.request, "share-options")

    nothing_yet = client.post(url)
    assert nothing_yet.status_code == 400
    assert "non_field_errors" in nothing_yet.data

    market_services.quote_record(
        by=officer, request=state.request, service=state.request.invitations.first().service,
        quoted_weekly_price="800",
    )
    shared = client.post(url)
    assert shared.status_code == 200, shared.data
    assert shared.data["referral_status"] == S.OPTIONS_READY

    again = client.post(url)
    assert again.status_code == 409
    assert again.data["current_status"] == S.OPTIONS_READY


def test_close_without_a_placement_records_unmet_demand(as_user, officer, at):
    state = at("sent")
    client = as_user(officer)
    url = request_url(state.request, "close")

    assert client.post(url, {"reason": "  "}, format="json").status_code == 400
    closed = client.post(url, {"reason": "Nobody could take her."}, format="json")

    assert closed.status_code == 200, closed.data
    assert (closed.data["status"], closed.data["referral_status"]) == (
        R.CLOSED, S.READY_FOR_SOURCING
    )
    assert closed.data["outcome_note"] == "Nobody could take her."
    assert UnmetDemand.objects.filter(referral=state.referral).exists()

    again = client.post(url, {"reason": "Again"}, format="json")
    assert again.status_code == 409
    assert again.data["current_status"] == S.READY_FOR_SOURCING


# --- Quotes: recording answers -------------------------------------------------------


def test_an_officer_records_an_offer_with_its_flags(as_user, officer, at, market):
    state = at("sent")
    response = as_user(officer).post(QUOTES, {
        "sourcing_request": state.request.pk, "service": market.good.pk,
        "quoted_weekly_price": "900.00", "inclusions": "Therapy",
        "available_from": state.request.wanted_start_date.isoformat(),
    }, format="json")

    assert response.status_code == 201, response.data
    quote = Quote.objects.get(pk=response.data["id"])
    assert (quote.status, quote.quoted_weekly_price, quote.recorded_by) == (
        Q.OFFERED, Decimal("900.00"), officer
    )
    data = response.data
    assert (data["referral"], data["placement_type"], data["ceiling"]) == (
        state.referral.pk, "U4", "850.00"
    )
    assert data["flags"] == [
        {"code": "above_ceiling", "text": "£50.00 above the framework ceiling of £850.00"}
    ]
    assert data["available_from"] == state.request.wanted_start_date.isoformat() and data["negotiation_steps"] == []
    assert data["chosen"] is False and data["distance_miles"] is not None
    assert SourcingInvitation.objects.get(service=market.good).status == "responded"


def test_a_provider_that_declines_is_recorded_with_its_reason(as_user, officer, at, market):
    state = at("sent")
    response = as_user(officer).post(QUOTES, {
        "sourcing_request": state.request.pk, "service": market.far.pk, "declined": True,
        "decline_reason": "No carers near the child.",
    }, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["status"], response.data["decline_reason"]) == (
        Q.PROVIDER_DECLINED, "No carers near the child."
    )
    assert response.data["quoted_weekly_price"] is None


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"quoted_weekly_price": "lots"}, "quoted_weekly_price"),
        ({"quoted_weekly_price": "-1"}, "quoted_weekly_price"),
        ({"quoted_weekly_price": -0.01}, "quoted_weekly_price"),
        ({"quoted_weekly_price": "1e30"}, "quoted_weekly_price"),
        ({"quoted_weekly_price": 10**20}, "quoted_weekly_price"),
        ({"quoted_weekly_price": "NaN"}, "quoted_weekly_price"),
        ({"quoted_weekly_price": "Infinity"}, "quoted_weekly_price"),
        ({"quoted_weekly_price": "875.999"}, "quoted_weekly_price"),
        ({"quoted_weekly_price": None}, "quoted_weekly_price"),
        ({"quoted_weekly_price": "900", "available_from": "6 January"}, "available_from"),
        ({"quoted_weekly_price": "900", "available_from": "2030-13-01"}, "available_from"),
        ({"quoted_weekly_price": "900", "decline_reason": "Why?"}, "decline_reason"),
        ({}, "quoted_weekly_price"),
        ({"declined": True}, "decline_reason"),  # refused by the service
        ({"declined": True, "decline_reason": "No", "quoted_weekly_price": "900"},
         "non_field_errors"),
        ({"declined": "perhaps", "decline_reason": "No"}, "declined"),
        ({"service": "x", "quoted_weekly_price": "900"}, "service"),
        ({"service": 10**30, "quoted_weekly_price": "900"}, "service"),
        ({"service": 999999, "quoted_weekly_price": "900"}, "service"),
        ({"sourcing_request": 999999, "quoted_weekly_price": "900"}, "sourcing_request"),
        ({"sourcing_request": "SR-1", "quoted_weekly_price": "900"}, "sourcing_request"),
    ],
)
def test_bad_answers_are_400_with_field_errors(as_user, officer, at, market, answer, field):
    state = at("sent")
    body = {"sourcing_request": state.request.pk, "service": market.good.pk, **answer}
    response = as_user(officer).post(QUOTES, body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Quote.objects.exists()


def test_an_answer_from_a_service_not_invited_or_already_answered_is_400(
    as_user, officer, at, market
):
    state = at("offers")
    client = as_user(officer)
    for service in (market.too_old, market.good):
        response = client.post(QUOTES, {
            "sourcing_request": state.request.pk, "service": service.pk,
            "quoted_weekly_price": "700",
        }, format="json")
        assert response.status_code == 400
        assert "service" in response.data
    assert Quote.objects.count() == 2


def test_an_answer_to_a_draft_request_is_409(as_user, officer, at, market):
    state = at("draft")
    response = as_user(officer).post(QUOTES, {
        "sourcing_request": state.request.pk, "service": market.good.pk,
        "quoted_weekly_price": "700",
    }, format="json")
    assert response.status_code == 409
    assert response.data["current_status"] == R.DRAFT


# --- Quotes: negotiating, declining, withdrawing ----------------------------------------


def test_negotiation_steps_and_the_agreed_saving(as_user, officer, at):
    state = at("offers")
    client = as_user(officer)
    url = quote_url(state.good, "negotiate")

    countered = client.post(url, {"kind": "counter_offer", "weekly_price": "800",
                                  "note": "Framework rate is 850"}, format="json")
    assert countered.status_code == 201, countered.data
    assert (countered.data["kind"], countered.data["weekly_price"]) == ("counter_offer", "800.00")
    agreed = client.post(url, {"kind": "agreed", "weekly_price": 840.5}, format="json")
    assert agreed.status_code == 201, agreed.data

    quote = client.get(quote_url(state.good)).data
    assert (quote["status"], quote["agreed_weekly_price"]) == (Q.NEGOTIATING, "840.50")
    assert quote["negotiated_saving"] == f"{Decimal('59.50') * 52:.2f}"
    assert [step["kind"] for step in quote["negotiation_steps"]] == ["counter_offer", "agreed"]
    assert quote["flags"] == []  # now under the ceiling


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "haggle", "weekly_price": "800"}, "kind"),
        ({"kind": "agreed", "weekly_price": "950"}, "weekly_price"),  # above quoted: service
        ({"kind": "agreed", "weekly_price": "-5"}, "weekly_price"),
        ({"kind": "agreed", "weekly_price": "eight hundred"}, "weekly_price"),
        ({"kind": "agreed", "weekly_price": "9" * 40}, "weekly_price"),
        ({"kind": "agreed"}, "weekly_price"),
    ],
)
def test_bad_negotiation_steps_are_400(as_user, officer, at, body, field):
    state = at("offers")
    response = as_user(officer).post(quote_url(state.good, "negotiate"), body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert not NegotiationStep.objects.exists()


def test_decline_and_withdraw_need_a_reason_and_happen_once(as_user, officer, at):
    state = at("offers")
    client = as_user(officer)

    assert client.post(quote_url(state.good, "decline"), {}, format="json").status_code == 400
    declined = client.post(quote_url(state.good, "decline"), {"reason": "Too dear"},
                           format="json")
    withdrawn = client.post(quote_url(state.spot, "withdraw"), {"reason": "Place taken"},
                            format="json")
    assert (declined.status_code, withdrawn.status_code) == (200, 200)
    assert (declined.data["status"], declined.data["decline_reason"]) == (Q.DECLINED, "Too dear")
    assert withdrawn.data["status"] == Q.WITHDRAWN

    again = client.post(quote_url(state.good, "withdraw"), {"reason": "x"}, format="json")
    assert again.status_code == 409
    assert again.data["current_status"] == Q.DECLINED
    assert set(again.data["allowed_transitions"]) == {Q.OFFERED, Q.NEGOTIATING}
    late = client.post(quote_url(state.good, "negotiate"),
                       {"kind": "agreed", "weekly_price": "800"}, format="json")
    assert late.status_code == 409


# --- Quotes: choosing and accepting ----------------------------------------------------


def test_the_social_worker_chooses_an_offer(as_user, social_worker, at):
    state = at("options_ready")
    response = as_user(social_worker).post(quote_url(state.spot, "choose"),
                                           {"reason": "Outstanding home"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["chosen"] is True
    state.referral.refresh_from_db()
    assert state.referral.status == S.PROVIDER_CHOSEN


def test_choosing_needs_a_reason_and_options_ready(as_user, social_worker, at):
    ready, early = at("options_ready"), at("offers")
    client = as_user(social_worker)
    assert client.post(quote_url(ready.good, "choose"), {"reason": ""},
                       format="json").status_code == 400
    response = client.post(quote_url(early.good, "choose"), {"reason": "Near"}, format="json")
    assert response.status_code == 409
    assert response.data["current_status"] == S.SOURCING


def test_accepting_the_chosen_offer_makes_the_placement(as_user, officer, social_worker, at,
                                                        market):
    state = at("offers")
    market_services.quote_negotiate(by=officer, quote=state.good, kind="agreed",
                                    weekly_price="800")
    ProviderDiscount.objects.create(
        provider=market.framework_provider, basis=ProviderDiscount.Basis.VOLUME,
        description="Third child", percentage=Decimal("5"), valid_from=market.today,
    )
    sourcing.options_share(by=officer, referral=state.referral)
    sourcing.offer_choose(by=social_worker, referral=state.referral, quote=state.good,
                          reason="Near school")

    response = as_user(officer).post(quote_url(state.good, "accept"), {}, format="json")

    assert response.status_code == 201, response.data
    placement = Placement.objects.get()
    assert response.data == {
        "placement": placement.pk, "referral": state.referral.pk, "quote": state.good.pk,
        "start_date": state.referral.wanted_start_date.isoformat(), "weekly_cost": "760.00",
    }
    state.referral.refresh_from_db()
    assert state.referral.status == S.PLACED
    quotes = {q.pk: q.status for q in Quote.objects.all()}
    assert quotes == {state.good.pk: Q.ACCEPTED, state.spot.pk: Q.DECLINED}
    accepted = as_user(officer).get(quote_url(state.good)).data
    assert accepted["weekly_price_after_discount"] == "760.00"


def test_accept_without_the_discount_and_on_a_given_date(as_user, officer, at, market):
    state = at("chosen")
    ProviderDiscount.objects.create(
        provider=market.framework_provider, basis=ProviderDiscount.Basis.VOLUME,
        description="Third child", percentage=Decimal("5"), valid_from=market.today,
    )
    start = state.referral.wanted_start_date + datetime.timedelta(days=3)
    response = as_user(officer).post(quote_url(state.good, "accept"), {
        "start_date": start.isoformat(), "apply_discount": False,
    }, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["start_date"], response.data["weekly_cost"]) == (
        start.isoformat(), "900.00"
    )


def test_accepting_an_offer_that_was_not_chosen_is_409(as_user, officer, at):
    state = at("chosen")
    response = as_user(officer).post(quote_url(state.spot, "accept"), {}, format="json")
    assert response.status_code == 409
    assert "chose another offer" in response.data["detail"]
    assert not Placement.objects.exists()


def test_accepting_twice_is_409(as_user, officer, at):
    state = at("chosen")
    client = as_user(officer)
    assert client.post(quote_url(state.good, "accept"), {}, format="json").status_code == 201
    again = client.post(quote_url(state.good, "accept"), {}, format="json")
    assert again.status_code == 409
    assert again.data["current_status"] == S.PLACED
    assert Placement.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_date": "tomorrow"}, "start_date"),
        ({"start_date": "2030-02-30"}, "start_date"),
        ({"apply_discount": "maybe"}, "apply_discount"),
        ({"end_reason": "BORED"}, "end_reason"),
    ],
)
def test_bad_accept_data_is_400(as_user, officer, at, body, field):
    state = at("chosen")
    response = as_user(officer).post(quote_url(state.good, "accept"), body, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Placement.objects.exists()


def test_a_child_with_a_current_placement_needs_an_end_reason(as_user, officer, at):
    state = at("chosen")
    PlacementFactory(child=state.referral.child,
                     start_date=state.referral.wanted_start_date - datetime.timedelta(days=90))
    client = as_user(officer)
    refused = client.post(quote_url(state.good, "accept"), {}, format="json")
    assert refused.status_code == 400
    assert "end_reason" in refused.data
    placed = client.post(quote_url(state.good, "accept"), {"end_reason": "CARPL"}, format="json")
    assert placed.status_code == 201, placed.data
    assert Placement.objects.count() == 2


# --- Quotes: reading and filtering -----------------------------------------------------


def test_quotes_are_visible_with_their_request(as_user, personas, at, south_social_worker):
    state = at("offers")
    expected = {state.good.pk, state.spot.pk}
    for role in Role:
        client = as_user(personas[role])
        seen = ids(client.get(QUOTES))
        assert seen == (set() if role == Role.FINANCE_MANAGER else expected), role
    other_team = as_user(south_social_worker)
    assert ids(other_team.get(QUOTES)) == set()
    assert other_team.get(quote_url(state.good)).status_code == 404
    refused = other_team.post(quote_url(state.good, "choose"), {"reason": "x"}, format="json")
    assert refused.status_code == 404


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999", "abc"])
def test_an_unknown_quote_is_404(as_user, officer, market, pk):
    client = as_user(officer)
    assert client.get(f"{QUOTES}{pk}/").status_code == 404
    assert client.post(f"{QUOTES}{pk}/accept/", {}, format="json").status_code == 404


def test_quote_filters(as_user, officer, at, market):
    first, second = at("offers"), at("offers")
    market_services.quote_decline(by=officer, quote=second.spot, reason="Too dear")
    client = as_user(officer)
    everything = {first.good.pk, first.spot.pk, second.good.pk, second.spot.pk}

    assert ids(client.get(QUOTES)) == everything
    assert ids(client.get(QUOTES, {"sourcing_request": first.request.pk})) == {
        first.good.pk, first.spot.pk
    }
    assert ids(client.get(QUOTES, {"referral": second.referral.pk})) == {
        second.good.pk, second.spot.pk
    }
    assert ids(client.get(QUOTES, {"status": "declined"})) == {second.spot.pk}
    assert ids(client.get(QUOTES, {"status": ["declined", "offered"]})) == everything
    assert ids(client.get(QUOTES, {"service": market.good.pk})) == {first.good.pk, second.good.pk}
    assert ids(client.get(QUOTES, {"provider": market.spot_provider.pk})) == {
        first.spot.pk, second.spot.pk
    }
    assert ids(client.get(QUOTES, {"placement_type": "U4"})) == everything
    assert ids(client.get(QUOTES, {"placement_type": "K2"})) == set()


@pytest.mark.parametrize("name", ["sourcing_request", "service", "provider", "referral"])
@pytest.mark.parametrize("value", ["abc", "1e30", "99999999999999999999999", "-1"])
def test_a_bad_quote_filter_is_400(as_user, officer, market, name, value):
    response = as_user(officer).get(QUOTES, {name: value})
    assert response.status_code == 400
    assert name in response.data


@pytest.mark.parametrize(("name", "value"), [("status", "maybe"), ("placement_type", "XX")])
def test_a_bad_quote_choice_filter_is_400(as_user, officer, market, name, value):
    assert as_user(officer).get(QUOTES, {name: value}).status_code == 400


def add_quotes(n, *, market, officer, social_worker, north, **_):
    """n quotes, each on its own request, with requests differing in wanted start (so the
    framework year and discounts are judged on different days), area and placement type."""
    homes = ["LS6 3QR", "LS1 4AP", "YO1 7AA", "ZZ9 9ZZ"]  # ZZ9 is no known district
    for _ in range(n):
        made = Quote.objects.count()
        state = journey(
            "draft", market=market, officer=officer, social_worker=social_worker, team=north,
            wanted_start_date=market.today + datetime.timedelta(days=7 + 30 * made),
        )
        child = state.referral.child
        child.home_postcode = homes[made % len(homes)]
        child.save(update_fields=["home_postcode"])
        SourcingRequest.objects.filter(pk=state.request.pk).update(
            area=homes[made % len(homes)].split()[0]
        )
        service = market.other_type if made % 2 else market.good
        if made % 2:
            SourcingRequest.objects.filter(pk=state.request.pk).update(placement_type="K2")
        market_services.sourcing_request_send(
            by=officer, request=state.request, service_ids=[service.pk],
            off_framework_reasons={service.pk: "No framework home"},
        )
        quote = market_services.quote_record(by=officer, request=state.request,
                                             service=service, quoted_weekly_price=900 + made)
        market_services.quote_negotiate(by=officer, quote=quote, kind="counter_offer",
                                        weekly_price="800")


def add_requests(n, *, market, officer, social_worker, north, **_):
    for _ in range(n):
        journey("sent", market=market, officer=officer, social_worker=social_worker,
                team=north)


def test_list_flags_match_the_comparisons_flags(as_user, officer, social_worker, market,
                                                north):
    """The list computes flags for quotes of many requests at once; they must be the
    ones matching.quote_flags gives each request's own quotes_with_context."""
    add_quotes(4, market=market, officer=officer, social_worker=social_worker, north=north)
    ProviderDiscount.objects.create(
        provider=market.framework_provider, basis=ProviderDiscount.Basis.DURATION,
        description="Long stay", percentage=Decimal("3"),
        valid_from=market.today + datetime.timedelta(days=60),
    )
    FrameworkRate.objects.create(
        framework=market.framework, provider=market.framework_provider, placement_type="K2",
        financial_year=market.year, ceiling_weekly_price=Decimal("900.50"),
    )
    listed = {row["id"]: row for row in as_user(officer).get(QUOTES).data["results"]}

    expected = {}
    for sourcing_request in SourcingRequest.objects.all():
        for quote in matching.quotes_with_context(request=sourcing_request):
            expected[quote.pk] = (
                [(flag.code, flag.text) for flag in matching.quote_flags(quote)],
                None if quote.ceiling is None else f"{quote.ceiling:.2f}",
            )
    assert {pk: ([(f["code"], f["text"]) for f in row["flags"]], row["ceiling"])
            for pk, row in listed.items()} == expected
    codes = {code for flags, _ in expected.values() for code, _ in flags}
    assert {"above_ceiling", "over_20_miles", "discount"} <= codes  # the cases are exercised


# (url, how to add n rows)
LISTS = [(REQUESTS, add_requests), (QUOTES, add_quotes)]


@pytest.mark.parametrize(("url", "add_rows"), LISTS, ids=[url for url, _ in LISTS])
def test_list_queries_do_not_grow_with_rows(as_user, officer, social_worker, market, north,
                                            url, add_rows):
    data = {"market": market, "officer": officer, "social_worker": social_worker,
            "north": north}
    client = as_user(officer)
    client.get(url)  # warm up: anything cached per process is not the list's cost

    add_rows(1, **data)
    with CaptureQueriesContext(connection) as one:
        shown_one = client.get(url)
    add_rows(4, **data)
    with CaptureQueriesContext(connection) as five:
        shown_five = client.get(url)

    assert (shown_one.status_code, shown_five.status_code) == (200, 200)
    assert (shown_one.data["count"], shown_five.data["count"]) == (1, 5)
    assert len(five) == len(one), [q["sql"][:120] for q in five.captured_queries]


# --- Who may write -----------------------------------------------------------------------

COMMISSIONER = {Role.COMMISSIONING_OFFICER}
CHILDS_TEAM = {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}

# name: (stage, (method, url, body) from the journey and market, success code, who may)
WRITES = {
    "start": ("ready", lambda j, m: (REQUESTS, {"referral": j.referral.pk}), 201, COMMISSIONER),
    "send": ("draft", lambda j, m: (request_url(j.request, "send"),
                                    {"services": [m.good.pk]}), 200, COMMISSIONER),
    "close": ("sent", lambda j, m: (request_url(j.request, "close"), {"reason": "Nothing"}),
              200, COMMISSIONER),
    "invite": ("sent", lambda j, m: (request_url(j.request, "invite"),
                                     {"service": m.too_old.pk}), 201, COMMISSIONER),
    "share-options": ("offers", lambda j, m: (request_url(j.request, "share-options"), {}),
                      200, COMMISSIONER),
    "record": ("sent", lambda j, m: (QUOTES, {"sourcing_request": j.request.pk,
                                              "service": m.good.pk,
                                              "quoted_weekly_price": "800"}), 201, COMMISSIONER),
    "record-declined": ("sent", lambda j, m: (QUOTES, {"sourcing_request": j.request.pk,
                                                       "service": m.far.pk, "declined": True,
                                                       "decline_reason": "Full"}),
                        201, COMMISSIONER),
    "negotiate": ("offers", lambda j, m: (quote_url(j.good, "negotiate"),
                                          {"kind": "counter_offer", "weekly_price": "850"}),
                  201, COMMISSIONER),
    "decline": ("offers", lambda j, m: (quote_url(j.good, "decline"), {"reason": "Too dear"}),
                200, COMMISSIONER),
    "withdraw": ("offers", lambda j, m: (quote_url(j.good, "withdraw"), {"reason": "Taken"}),
                 200, COMMISSIONER),
    "choose": ("options_ready", lambda j, m: (quote_url(j.good, "choose"), {"reason": "Near"}),
               200, CHILDS_TEAM),
    "accept": ("chosen", lambda j, m: (quote_url(j.good, "accept"), {}), 201, COMMISSIONER),
}
CREATES = {"start", "record", "record-declined"}


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
@pytest.mark.parametrize("write", list(WRITES))
def test_role_matrix_for_writes(as_user, personas, at, market, write, role):
    """Only the role the service names may write. Finance cannot see sourcing at all: an
    action on a request or quote answers 404, and a request or referral named in a body is
    unknown (400). Everyone else who can see it is refused with 403 and changes nothing."""
    stage, target, success, allowed = WRITES[write]
    state = at(stage)
    url, body = target(state, market)
    before = snapshot(state)

    response = as_user(personas[role]).post(url, body, format="json")

    if role in allowed:
        assert response.status_code == success, response.data
        assert snapshot(state) != before
        return
    if role == Role.FINANCE_MANAGER:
        assert response.status_code == (400 if write in CREATES else 404), response.data
    else:
        assert response.status_code == 403, response.data
        assert response.data["detail"]
    assert snapshot(state) == before


def test_reads_refuse_anonymous_callers(anonymous, at):
    state = at("offers")
    for url in (REQUESTS, request_url(state.request), QUOTES, quote_url(state.good)):
        assert anonymous.get(url).status_code == 401
    assert anonymous.post(quote_url(state.good, "decline"), {"reason": "x"}).status_code == 401


def test_put_patch_and_delete_are_not_offered(as_user, officer, at):
    state = at("offers")
    client = as_user(officer)
    for url in (request_url(state.request), quote_url(state.good)):
        assert client.put(url, {}, format="json").status_code == 405
        assert client.patch(url, {}, format="json").status_code == 405
        assert client.delete(url).status_code == 405
    assert Quote.objects.count() == 2


# --- The schema --------------------------------------------------------------------------

SCHEMA_ACTIONS = [
    ("/api/v1/sourcing-requests/{id}/send/", "post"),
    ("/api/v1/sourcing-requests/{id}/close/", "post"),
    ("/api/v1/sourcing-requests/{id}/invite/", "post"),
    ("/api/v1/sourcing-requests/{id}/share-options/", "post"),
    ("/api/v1/quotes/{id}/negotiate/", "post"),
    ("/api/v1/quotes/{id}/decline/", "post"),
    ("/api/v1/quotes/{id}/withdraw/", "post"),
    ("/api/v1/quotes/{id}/choose/", "post"),
    ("/api/v1/quotes/{id}/accept/", "post"),
]


def test_the_schema_documents_every_refusal_without_warnings(db):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache
    paths = schema["paths"]
    for path, method in SCHEMA_ACTIONS:
        assert {"400", "403", "404", "409"} <= set(paths[path][method]["responses"]), path
        conflict = paths[path][method]["responses"]["409"]["content"]["application/json"]
        assert conflict["schema"] == {"$ref": "#/components/schemas/ConflictError"}
    for path in ("/api/v1/sourcing-requests/", "/api/v1/quotes/"):
        assert {"201", "400", "403", "409"} <= set(paths[path]["post"]["responses"])
        assert {"200", "400", "403"} <= set(paths[path]["get"]["responses"])
    for path in ("/api/v1/sourcing-requests/{id}/shortlist/",
                 "/api/v1/sourcing-requests/{id}/comparison/"):
        assert {"200", "403", "404"} <= set(paths[path]["get"]["responses"])
        # One request's answer: neither the list's filters nor its pages.
        assert [p["name"] for p in paths[path]["get"]["parameters"]] == ["id"]
    comparison = paths["/api/v1/sourcing-requests/{id}/comparison/"]["get"]["responses"]["200"]
    assert comparison["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/ComparisonOption"}
    }
    assert "ChildSexEnum" not in schema["components"]["schemas"]  # existing names kept


# --- Two officers at once ----------------------------------------------------------------


def _signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_quote", ["same", "other"])
def test_two_officers_accepting_at_once_make_one_placement(role_groups, second_quote):
    """Two officers accept at the same moment: the same quote twice, or the chosen quote
    and another of the same request. Exactly one placement is made; the other officer is
    told 409, and no quote but the winner's is accepted."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    from core.models import Team

    north = Team.objects.get_or_create(code="north", defaults={"name": "North"})[0]
    market = build_market()
    first = UserFactory(username="officer_one", roles=[Role.COMMISSIONING_OFFICER])
    second = UserFactory(username="officer_two", roles=[Role.COMMISSIONING_OFFICER])
    worker = UserFactory(username="worker", roles=[Role.SOCIAL_WORKER], team=north)
    state = journey("chosen", market=market, officer=first, social_worker=worker, team=north)
    targets = {first.username: state.good,
               second.username: state.good if second_quote == "same" else state.spot}
    clients = {user.username: _signed_in(user) for user in (first, second)}
    both_ready = threading.Barrier(2, timeout=10)
    outcomes = {}

    def accept(username):
        try:
            both_ready.wait()  # both requests arrive together
            response = clients[username].post(quote_url(targets[username], "accept"), {},
                                              format="json")
            outcomes[username] = response.status_code
        except Exception as error:  # anything else fails the assertions below
            outcomes[username] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values(), key=str) == [201, 409], outcomes
    placement = Placement.objects.get()
    assert placement.quote_id == state.good.pk
    assert list(Quote.objects.filter(status=Q.ACCEPTED).values_list("pk", flat=True)) == [
        state.good.pk
    ]
    state.referral.refresh_from_db()
    assert state.referral.status == S.PLACED
    assert state.referral.status_changes.filter(to_status=S.PLACED).count() == 1
