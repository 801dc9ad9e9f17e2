"""The commissioning officer's sourcing pages through HTTP: the queue, starting and sending
a request, recording answers, negotiating, declining, sharing the options and closing;
who may see and do what; refusals shown on the right field with nothing changed; and
query counts that do not grow with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from placements.models import ReferralStatus, UnmetDemand
from placements.services import sourcing
from providers.models import (
    NegotiationStep,
    Quote,
    SourcingInvitation,
    SourcingRequest,
)
from providers.services import sourcing as market_services
from tests.factories import UserFactory
from tests.pages import check_page_structure, error_links, field_error, queries_for, text
from tests.sourcing import market_fixture, officer_fixture, ready_referral  # noqa: F401 (fixtures)

S = ReferralStatus
OFFICER = Role.COMMISSIONING_OFFICER
# Everyone who can see a referral in sourcing but may not run sourcing.
READ_ONLY_ROLES = [Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.PANEL_CHAIR, Role.PANEL_MEMBER,
                   Role.DIRECTOR, Role.ADMINISTRATOR]


# --- Test data ---------------------------------------------------------------------------


@pytest.fixture
def referral(north):
    return ready_referral(team=north)


def sent_request(market, referral, officer, services=None) -> SourcingRequest:
    """The referral's request, sent to Good Carers, Spot Carers (off-framework) and Far Away."""
    sourcing.sourcing_start(by=officer, referral=referral, needs=["autism"])
    services = services or [market.good, market.spot, market.far]
    return sourcing.sourcing_send(
        by=officer, referral=referral, service_ids=[s.pk for s in services],
        off_framework_reasons={market.spot.pk: "Only one framework home matched."},
    )


def url(name, referral, *args):
    return reverse(name, args=[referral.pk, *args])


def invitation_of(request, service) -> SourcingInvitation:
    return request.invitations.get(service=service)


# --- The officer's journey ---------------------------------------------------------------


def test_the_start_page_shows_what_providers_will_see_and_its_defaults(
    client, market, officer, referral
):
    client.force_login(officer)
    response = client.get(url("sourcing-start", referral))

    check_page_structure(response)
    page = text(response)
    assert "Providers will see this. Remove names, addresses and school names." in page
    for shown in ("LS6", "Going missing", "Female", "Later"):
        assert shown in page
    assert referral.child.first_name not in page and referral.child.last_name not in page
    form = response.context["form"]
    assert form["placement_type"].value() == "U4"
    assert form["max_distance_miles"].value() == 20
    assert form["needs_summary"].value() == referral.needs_summary


def test_the_distance_limit_starts_empty_when_the_referral_does_not_require_20_miles(
    client, market, officer, north
):
    referral = ready_referral(team=north, must_be_within_20_miles=False)
    client.force_login(officer)
    form = client.get(url("sourcing-start", referral)).context["form"]
    assert form["max_distance_miles"].value() is None


def test_the_officer_starts_a_draft_without_a_distance_limit(client, market, officer, referral):
    client.force_login(officer)
    response = client.post(url("sourcing-start", referral), {
        "needs": ["autism"], "needs_summary": "Needs a calm home.", "placement_type": "U4",
        "max_distance_miles": "", "planned_end_date": "",
    })

    assert response["Location"] == url("sourcing-request", referral)
    request = sourcing.open_request_link(referral).sourcing_request
    assert request.status == SourcingRequest.Status.DRAFT
    assert request.max_distance_miles is None
    assert request.needs == ["autism"] and request.needs_summary == "Needs a calm home."
    referral.refresh_from_db()
    assert referral.status == S.READY_FOR_SOURCING
    # No limit: the far service now meets every rule and is ticked.
    draft = client.get(response["Location"])
    ticked = draft.context["form"]["services"].value()
    assert str(market.far.pk) in ticked


def test_a_planned_end_before_the_start_is_shown_on_its_field_and_nothing_is_made(
    client, market, officer, referral
):
    client.force_login(officer)
    response = client.post(url("sourcing-start", referral), {
        "placement_type": "U4", "max_distance_miles": "20",
        "planned_end_date": (referral.wanted_start_date - datetime.timedelta(days=1)).isoformat(),
    })

    assert response.status_code == 200
    assert error_links(response) == ["id_planned_end_date"]
    assert "on or after the wanted start date" in field_error(response, "planned_end_date")
    assert not SourcingRequest.objects.exists()


def test_the_draft_proposes_the_nearest_framework_matches_up_to_the_shortlist_size(
    client, market, officer, referral, settings
):
    settings.SOURCING_SHORTLIST_SIZE = 1
    sourcing.sourcing_start(by=officer, referral=referral, use_referral_distance=False)
    client.force_login(officer)
    response = client.get(url("sourcing-request", referral))

    # Good Carers (LS1) is nearer than Far Away (YO1); both are framework matches.
    assert response.context["form"]["services"].value() == [str(market.good.pk)]


def test_the_draft_shows_the_shortlist_ticked_and_the_excluded_services_with_why(
    client, market, officer, referral
):
    sourcing.sourcing_start(by=officer, referral=referral, needs=["autism"])
    client.force_login(officer)
    response = client.get(url("sourcing-request", referral))

    check_page_structure(response)
    page = text(response)
    form = response.context["form"]
    # Framework matches are proposed; the off-framework match waits for a reason.
    assert set(form["services"].value()) == {str(market.good.pk)}
    assert "Services that do not meet every rule (4)" in page
    for reason in ("On framework, ceiling £850.00 a week", "Accepts 1 of 1 needs listed",
                   "Will not take going missing", "No vacancy", "Takes ages 0–10, not 12",
                   "22.3 miles away, over 20"):
        assert reason in page
    assert f'id="id_reason_{market.spot.pk}"' in page  # the off-framework service's reason
    assert f'id="id_reason_{market.good.pk}"' not in page
    assert market.other_type.name not in page  # does not offer the type


def test_sending_an_off_framework_service_without_a_reason_is_an_error_on_that_service(
    client, market, officer, referral
):
    sourcing.sourcing_start(by=officer, referral=referral)
    client.force_login(officer)
    response = client.post(url("sourcing-request", referral),
                           {"services": [market.good.pk, market.spot.pk]})

    assert response.status_code == 200
    assert error_links(response) == [f"id_reason_{market.spot.pk}"]
    assert "Give a reason for inviting Spot Carers" in field_error(
        response, f"reason_{market.spot.pk}")
    assert not SourcingInvitation.objects.exists()
    referral.refresh_from_db()
    assert referral.status == S.READY_FOR_SOURCING
    ticked = response.context["form"]["services"].value()
    assert ticked == [str(market.good.pk), str(market.spot.pk)]  # kept as sent


def test_sending_nothing_is_an_error_on_the_services(client, market, officer, referral):
    sourcing.sourcing_start(by=officer, referral=referral)
    client.force_login(officer)
    response = client.post(url("sourcing-request", referral), {})

    assert error_links(response) == ["id_services_0"]
    assert "Select at least one service" in field_error(response, "services")
    assert not SourcingInvitation.objects.exists()


def test_the_officer_sends_the_request_with_a_reason_for_the_off_framework_service(
    client, market, officer, referral, django_capture_on_commit_callbacks
):
    sourcing.sourcing_start(by=officer, referral=referral)
    client.force_login(officer)
    response = client.post(url("sourcing-request", referral), {
        "services": [market.good.pk, market.spot.pk, market.far.pk],
        f"reason_{market.spot.pk}": "Only one framework home matched.",
    })

    assert response["Location"] == url("sourcing-request", referral)
    referral.refresh_from_db()
    assert referral.status == S.SOURCING
    request = sourcing.open_request_link(referral).sourcing_request
    assert request.status == SourcingRequest.Status.SENT
    spot = invitation_of(request, market.spot)
    assert not spot.on_framework and spot.off_framework_reason == "Only one framework home matched."
    assert invitation_of(request, market.far).on_framework

    page = client.get(response["Location"])
    check_page_structure(page)
    shown = text(page)
    assert "sent to 3 service(s)" in shown
    assert "Answers due by" in shown and "Only one framework home matched." in shown
    for service in (market.good, market.spot, market.far):
        assert url("sourcing-answer", referral, invitation_of(request, service).pk) in shown


def test_the_officer_records_answers_negotiates_declines_shares_and_closes(
    client, market, officer, referral
):
    request = sent_request(market, referral, officer)
    client.force_login(officer)

    # Three answers: two offers and a refusal.
    answer_page = client.get(
        url("sourcing-answer", referral, invitation_of(request, market.good).pk))
    check_page_structure(answer_page)
    assert 'data-aria-controls="conditional-offered"' in answer_page.content.decode()
    for service, answer in (
        (market.good, {"answer": "offered", "quoted_weekly_price": "£1,234.56",
                       "inclusions": "Education", "available_from": ""}),
        (market.spot, {"answer": "offered", "quoted_weekly_price": "1100"}),
        (market.far, {"answer": "declined", "decline_reason": "No carers near the child."}),
    ):
        response = client.post(url("sourcing-answer", referral, invitation_of(request, service).pk),
                               answer)
        assert response["Location"] == url("sourcing-request", referral), text(response)
    good = Quote.objects.get(service=market.good)
    spot = Quote.objects.get(service=market.spot)
    assert good.quoted_weekly_price == Decimal("1234.56") and good.inclusions == "Education"
    assert Quote.objects.get(service=market.far).status == Quote.Status.PROVIDER_DECLINED
    assert set(request.invitations.values_list("status", flat=True)) == {"responded"}

    # Negotiate the framework offer down.
    negotiate = url("quote-negotiate", referral, good.pk)
    check_page_structure(client.get(negotiate))
    client.post(negotiate, {"kind": "counter_offer", "weekly_price": "800", "note": "Ceiling"})
    response = client.post(negotiate, {"kind": "agreed", "weekly_price": "845.50"})
    assert response["Location"] == url("sourcing-request", referral)
    good.refresh_from_db()
    assert good.agreed_weekly_price == Decimal("845.50")
    assert good.negotiated_saving == (Decimal("1234.56") - Decimal("845.50")) * 52
    log_page = text(client.get(negotiate))
    assert "Our counter-offer" in log_page and "£800.00" in log_page and "£1,234.56" in log_page

    # Decline the off-framework one.
    decline = url("quote-decline", referral, spot.pk)
    check_page_structure(client.get(decline))
    response = client.post(decline, {"reason": "Too dear for what it offers."})
    assert response.status_code == 302
    spot.refresh_from_db()
    assert spot.status == Quote.Status.DECLINED and spot.decline_reason.startswith("Too dear")

    page = client.get(url("sourcing-request", referral))
    check_page_structure(page)
    shown = text(page)
    assert "£1,234.56" in shown and "£845.50" in shown
    assert f"£{good.negotiated_saving:,.2f}" in shown
    assert "Our counter-offer: £800.00 a week" in shown and "Price agreed: £845.50 a week" in shown
    assert "Off-framework" in shown and "No carers near the child." in shown
    assert url("quote-negotiate", referral, good.pk) in shown
    assert url("quote-negotiate", referral, spot.pk) not in shown  # declined: no actions

    # Share the options with the social worker.
    response = client.post(url("sourcing-share", referral))
    assert response["Location"] == url("sourcing-request", referral)
    referral.refresh_from_db()
    assert referral.status == S.OPTIONS_READY

    # Close without a placement, after a confirmation page.
    close = url("sourcing-close", referral)
    confirm = client.get(close)
    check_page_structure(confirm)
    assert "This cannot be undone" in text(confirm)
    response = client.post(close, {"reason": ""})
    assert error_links(response) == ["id_reason"]
    request.refresh_from_db()
    assert request.status == SourcingRequest.Status.SENT
    response = client.post(close, {"reason": "The child's family found a kinship carer."})
    assert response["Location"] == url("sourcing-request", referral)
    request.refresh_from_db()
    referral.refresh_from_db()
    assert request.status == SourcingRequest.Status.CLOSED
    assert referral.status == S.READY_FOR_SOURCING
    good.refresh_from_db()
    assert good.status == Quote.Status.DECLINED
    assert not UnmetDemand.objects.exists()  # offers came back

    closed = client.get(url("sourcing-request", referral))
    check_page_structure(closed)
    shown = text(closed)
    assert "The child's family found a kinship carer." in shown
    assert url("quote-negotiate", referral, good.pk) not in shown  # read-only now
    assert url("sourcing-start", referral) in shown  # a new request can start


def test_an_answer_in_a_declined_state_is_refused_on_the_form(client, market, officer, referral):
    request = sent_request(market, referral, officer)
    client.force_login(officer)
    answer = url("sourcing-answer", referral, invitation_of(request, market.far).pk)

    response = client.post(answer, {"answer": "declined", "decline_reason": "  "})

    assert error_links(response) == ["id_decline_reason"]
    assert field_error(response, "decline_reason") == "Enter the provider's reason."
    assert not Quote.objects.exists()


def test_recording_a_second_answer_for_a_service_is_refused(client, market, officer, referral):
    request = sent_request(market, referral, officer)
    market_services.quote_record(by=officer, request=request, service=market.good,
                                 quoted_weekly_price="900")
    client.force_login(officer)

    response = client.post(url("sourcing-answer", referral, invitation_of(request, market.good).pk),
                           {"answer": "offered", "quoted_weekly_price": "700"})

    assert response.status_code == 200
    assert "already recorded" in text(response)
    assert Quote.objects.get().quoted_weekly_price == Decimal("900.00")
    page = text(client.get(url("sourcing-request", referral)))
    assert url("sourcing-answer", referral, invitation_of(request, market.good).pk) not in page


@pytest.mark.parametrize("price", ["abc", "12.3.4", "-5", "1e400", ""])
def test_bad_money_on_an_answer_re_renders_with_an_error_and_changes_nothing(
    client, market, officer, referral, price
):
    request = sent_request(market, referral, officer)
    client.force_login(officer)
    response = client.post(url("sourcing-answer", referral, invitation_of(request, market.good).pk),
                           {"answer": "offered", "quoted_weekly_price": price})

    assert response.status_code == 200
    assert error_links(response) == ["id_quoted_weekly_price"]
    assert "Enter a weekly price" in field_error(response, "quoted_weekly_price")
    assert not Quote.objects.exists()
    assert invitation_of(request, market.good).status == SourcingInvitation.Status.SENT


@pytest.mark.parametrize("price, message", [
    ("eight hundred", "Enter a weekly price in pounds"),
    ("950", "no higher than the £900.00 first quoted"),
])
def test_bad_money_in_a_negotiation_re_renders_with_an_error_and_changes_nothing(
    client, market, officer, referral, price, message
):
    request = sent_request(market, referral, officer)
    quote = market_services.quote_record(by=officer, request=request, service=market.good,
                                         quoted_weekly_price="900")
    client.force_login(officer)

    response = client.post(url("quote-negotiate", referral, quote.pk),
                           {"kind": "agreed", "weekly_price": price})

    assert response.status_code == 200
    assert error_links(response) == ["id_weekly_price"]
    assert message in field_error(response, "weekly_price")
    assert not NegotiationStep.objects.exists()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.OFFERED and quote.agreed_weekly_price is None


def test_the_officer_invites_another_service_off_framework_with_a_reason(
    client, market, officer, referral
):
    sent_request(market, referral, officer, services=[market.good])
    client.force_login(officer)
    invite = url("sourcing-invite", referral)
    page = client.get(invite)
    check_page_structure(page)
    assert market.good.name not in text(page).split("Choose a service")[1]  # already invited

    response = client.post(invite, {"service": market.spot.pk, "off_framework_reason": ""})
    assert error_links(response) == ["id_off_framework_reason"]
    assert SourcingInvitation.objects.count() == 1

    response = client.post(invite, {"service": market.spot.pk,
                                    "off_framework_reason": "Framework homes are full."})
    assert response["Location"] == url("sourcing-request", referral)
    assert SourcingInvitation.objects.get(service=market.spot).off_framework_reason == (
        "Framework homes are full.")


def test_options_cannot_be_shared_before_an_offer_and_nothing_changes(
    client, market, officer, referral
):
    sent_request(market, referral, officer)
    client.force_login(officer)
    page = text(client.get(url("sourcing-request", referral)))
    assert url("sourcing-share", referral) not in page

    response = client.post(url("sourcing-share", referral), follow=True)

    assert "Record at least one offer before sharing options." in text(response)
    referral.refresh_from_db()
    assert referral.status == S.SOURCING


def test_withdrawn_offers_are_recorded_with_a_reason(client, market, officer, referral):
    request = sent_request(market, referral, officer)
    quote = market_services.quote_record(by=officer, request=request, service=market.good,
                                         quoted_weekly_price="900")
    client.force_login(officer)

    response = client.post(url("quote-withdraw", referral, quote.pk),
                           {"reason": "The place went to another child."})

    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == Quote.Status.WITHDRAWN


def test_closing_with_no_offer_records_unmet_demand(client, market, officer, referral):
    sent_request(market, referral, officer)
    client.force_login(officer)

    client.post(url("sourcing-close", referral), {"reason": "Nobody answered."})

    assert UnmetDemand.objects.get(referral=referral).kind == UnmetDemand.Kind.NO_OFFER


def test_start_is_not_offered_for_a_referral_with_an_open_request(
    client, market, officer, referral
):
    sent_request(market, referral, officer)
    client.force_login(officer)

    response = client.get(url("sourcing-start", referral), follow=True)

    assert response.redirect_chain[-1][0] == url("sourcing-request", referral)
    assert SourcingRequest.objects.count() == 1


# --- Who may see and do what ---------------------------------------------------------------


def _write_urls(referral, request, quote):
    """Every page that changes something, with data it would accept from an officer."""
    invitation = request.invitations.exclude(service=quote.service).first()
    return {
        url("sourcing-start", referral): {"placement_type": "U4"},
        url("sourcing-request", referral): {"services": [quote.service.pk]},
        url("sourcing-answer", referral, invitation.pk): {"answer": "declined",
                                                          "decline_reason": "x"},
        url("quote-negotiate", referral, quote.pk): {"kind": "agreed", "weekly_price": "1"},
        url("quote-decline", referral, quote.pk): {"reason": "x"},
        url("quote-withdraw", referral, quote.pk): {"reason": "x"},
        url("sourcing-invite", referral): {"service": quote.service.pk},
        url("sourcing-share", referral): {},
        url("sourcing-close", referral): {"reason": "x"},
    }


def _state():
    return (
        list(Quote.objects.values_list("pk", "status", "agreed_weekly_price")),
        NegotiationStep.objects.count(),
        SourcingInvitation.objects.count(),
        list(SourcingRequest.objects.values_list("pk", "status")),
    )


@pytest.fixture
def quoted(market, officer, referral):
    request = sent_request(market, referral, officer)
    quote = market_services.quote_record(by=officer, request=request, service=market.good,
                                         quoted_weekly_price="900")
    return request, quote


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_other_roles_read_the_request_but_get_403_on_every_form(
    client, personas, referral, quoted, role
):
    request, quote = quoted
    client.force_login(personas[role])
    before = _state()

    page = client.get(url("sourcing-request", referral))
    check_page_structure(page)
    shown = text(page)
    assert "£900.00" in shown and "Good Carers" in shown
    for action in ("sourcing-answer", "quote-negotiate", "sourcing-invite", "sourcing-close",
                   "sourcing-share"):
        assert f"/{action.split('-')[-1]}/" not in shown.split("Timeline")[0], action
    readable = url("sourcing-request", referral)
    for target, data in _write_urls(referral, request, quote).items():
        assert client.post(target, data).status_code == 403, target
        if target != readable and not target.endswith("/share/"):
            assert client.get(target).status_code == 403, target
    assert _state() == before
    referral.refresh_from_db()
    assert referral.status == S.SOURCING


def test_a_draft_cannot_be_sent_by_anyone_but_an_officer(client, personas, market, referral):
    sourcing.sourcing_start(by=personas[OFFICER], referral=referral)
    client.force_login(personas[Role.ADMINISTRATOR])

    page = text(client.get(url("sourcing-request", referral)))
    response = client.post(url("sourcing-request", referral), {"services": [market.good.pk]})

    assert "Send request" not in page and "Draft" in page
    assert response.status_code == 403
    assert not SourcingInvitation.objects.exists()


@pytest.mark.parametrize("outsider", ["other_team_social_worker", "finance"])
def test_who_cannot_see_the_referral_gets_404_on_every_page(
    client, personas, south, referral, quoted, outsider
):
    request, quote = quoted
    user = (UserFactory(roles=[Role.SOCIAL_WORKER], team=south)
            if outsider == "other_team_social_worker" else personas[Role.FINANCE_MANAGER])
    client.force_login(user)
    before = _state()

    for target, data in _write_urls(referral, request, quote).items():
        if not target.endswith("/share/"):
            assert client.get(target).status_code == 404, target
        assert client.post(target, data).status_code == 404, target
    assert _state() == before
    assert f"Referral {referral.pk}" not in text(client.get(reverse("sourcing-queue")))


def test_an_invitation_or_quote_of_another_referral_is_404(client, market, officer, north, quoted):
    request, quote = quoted
    other = ready_referral(team=north)
    client.force_login(officer)

    assert client.get(url("quote-negotiate", other, quote.pk)).status_code == 404
    invitation = invitation_of(request, market.far)
    assert client.get(url("sourcing-answer", other, invitation.pk)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, referral):
    for target in (reverse("sourcing-queue"), url("sourcing-request", referral),
                   url("sourcing-start", referral)):
        response = client.get(target)
        assert response["Location"].startswith(reverse("login") + "?next="), target


def test_the_navigation_offers_sourcing_to_officers_and_administrators(client, personas, market):
    for role in Role:
        client.force_login(personas[role])
        items = {item["text"] for item in client.get(reverse("home")).context["navigation_items"]}
        assert ("Sourcing" in items) == (role in (OFFICER, Role.ADMINISTRATOR)), role


# --- The queue -------------------------------------------------------------------------------


def test_the_queue_lists_sourcing_referrals_by_urgency_with_their_request(
    client, market, officer, north
):
    today = timezone.localdate()
    later = ready_referral(team=north, wanted_start_date=today + datetime.timedelta(days=3))
    soon = ready_referral(team=north, urgency="within_5_days",
                          wanted_start_date=today + datetime.timedelta(days=9))
    emergency = ready_referral(team=north, urgency="today", is_emergency=True,
                               retrospective_review_due=today)
    sending = ready_referral(team=north, wanted_start_date=today + datetime.timedelta(days=1))
    request = sent_request(market, sending, officer)
    market_services.quote_record(by=officer, request=request, service=market.good,
                                 quoted_weekly_price="900")
    client.force_login(officer)

    response = client.get(reverse("sourcing-queue"))

    check_page_structure(response)
    rows = list(response.context["page"].object_list)
    assert rows == [emergency, soon, sending, later]
    shown = text(response)
    assert "Emergency" in shown and request.reference in shown and "1 of 3" in shown
    assert later.child.local_child_id in shown and later.child.last_name not in shown


def test_the_queue_filters_by_status_and_urgency_and_sorts_by_deadline(
    client, market, officer, north
):
    waiting = ready_referral(team=north)
    first = ready_referral(team=north, urgency="within_5_days")
    second = ready_referral(team=north, urgency="today")
    sent_request(market, first, officer)
    sent_request(market, second, officer)  # "today": the earlier deadline
    client.force_login(officer)

    def listed(**query):
        response = client.get(reverse("sourcing-queue"), query)
        assert response.status_code == 200
        return list(response.context["page"].object_list)

    assert listed(status=["sourcing"]) == [second, first]
    assert listed(status=["ready_for_sourcing"]) == [waiting]
    assert listed(urgency=["within_5_days"]) == [first]
    assert listed(sort="deadline") == [second, first, waiting]
    assert listed(sort="nonsense") and error_links(
        client.get(reverse("sourcing-queue"), {"sort": "nonsense"})) == ["id_sort"]


def test_the_queue_is_paginated_and_says_when_it_is_empty(client, market, officer, north,
                                                          monkeypatch):
    client.force_login(officer)
    assert "No referrals are waiting for sourcing." in text(client.get(reverse("sourcing-queue")))
    assert "No referrals in sourcing match" in text(
        client.get(reverse("sourcing-queue"), {"urgency": ["today"]}))

    monkeypatch.setattr("placements.views_sourcing.PAGE_SIZE", 2)
    for _ in range(3):
        ready_referral(team=north)
    first = client.get(reverse("sourcing-queue"), {"status": ["ready_for_sourcing"]})
    second = client.get(reverse("sourcing-queue"), {"status": ["ready_for_sourcing"], "page": 2})
    assert len(first.context["page"].object_list) == 2
    assert "page=2" in text(first) and "status=ready_for_sourcing" in text(first)
    assert len(second.context["page"].object_list) == 1


# --- Query counts ----------------------------------------------------------------------------


def test_the_queue_uses_the_same_number_of_queries_for_1_or_5_referrals(
    client, market, officer, north
):
    client.force_login(officer)

    def add_referral():
        referral = ready_referral(team=north)
        sent_request(market, referral, officer, services=[market.good])

    add_referral()
    few = queries_for(client, reverse("sourcing-queue"))
    for _ in range(4):
        add_referral()
    many = queries_for(client, reverse("sourcing-queue"))
    assert many == few, f"{few} queries for 1 referral, {many} for 5"


def test_the_request_page_uses_the_same_number_of_queries_for_1_or_5_quotes(
    client, market, officer, referral
):
    services = [market.good, market.spot, market.far, market.full, market.too_old]
    request = sent_request(market, referral, officer, services=services)
    client.force_login(officer)

    def quote(service):
        recorded = market_services.quote_record(by=officer, request=request, service=service,
                                                quoted_weekly_price="900")
        market_services.quote_negotiate(by=officer, quote=recorded, kind="counter_offer",
                                        weekly_price="850")

    quote(services[0])
    few = queries_for(client, url("sourcing-request", referral))
    for service in services[1:]:
        quote(service)
    many = queries_for(client, url("sourcing-request", referral))
    assert many == few, f"{few} queries for 1 quote, {many} for 5"
