"""Re-authentication before the decisions that commit the council's money: a Director's
approval, and any action that fixes a weekly cost above the Director threshold. With a
password older than REAUTH_MAX_AGE, the page sends the user to "Confirm your password"
and back, its POST is refused the same way, and a session-authenticated API call answers
403 saying what to do; a token-authenticated call is allowed (core.auth says why)."""

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.auth import PASSWORD_GIVEN_AT, SIGNED_IN_AT
from core.roles import Role
from panels.models import DirectorApproval
from placements.models import Placement, PlacementCost
from placements.services import sourcing
from providers.models import Quote
from providers.services import sourcing as market_services
from tests.factories import (
    ChildFactory,
    DirectorApprovalFactory,
    PlacementCostFactory,
    PlacementFactory,
    ServiceFactory,
)
from tests.pages import error_links, field_error, plain
from tests.sourcing import market_fixture, ready_referral  # noqa: F401 (fixture)

PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
ABOVE = "4500.00"  # the default DIRECTOR_APPROVAL_WEEKLY_THRESHOLD is £4,000
BELOW = "3900.00"
TODAY = timezone.localdate
REFUSAL = "Confirm your password first"


def age_password(client, *, seconds: int) -> None:
    """Make the session's last password `seconds` older, as if time had passed."""
    session = client.session
    session[PASSWORD_GIVEN_AT] -= seconds
    session.save()


def go_stale(client) -> None:
    age_password(client, seconds=settings.REAUTH_MAX_AGE + 60)


def confirm_url(next_url: str) -> str:
    return f"{reverse('confirm-password')}?{urlencode({'next': next_url})}"


# --- The guarded actions -------------------------------------------------------------------


def chosen_offer(market, personas, *, price: str):
    """A referral whose social worker chose one offer at `price` a week (not negotiated)."""
    officer = personas[Role.COMMISSIONING_OFFICER]
    referral = ready_referral(team=personas[Role.SOCIAL_WORKER].team)
    sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(by=officer, referral=referral, service_ids=[market.good.pk],
                           off_framework_reasons={})
    request = sourcing.open_request_link(referral).sourcing_request
    quote = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price=price,
        inclusions="Education support",
    )
    sourcing.options_share(by=officer, referral=referral)
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=referral, quote=quote,
                          reason="Near her school.")
    referral.refresh_from_db()
    return referral, quote


def running_placement(team) -> Placement:
    placement = PlacementFactory(child=ChildFactory(team=team),
                                 start_date=TODAY() - datetime.timedelta(days=100))
    PlacementCostFactory(placement=placement, weekly_amount=Decimal("820.00"))
    return placement


@dataclasses.dataclass
class Action:
    """One guarded action, ready to run: who, where, what they send, and how to tell that
    it happened."""

    user: object
    url: str
    data: dict
    done: Callable[[], bool]
    page: str = ""  # the page a browser starts from (pages only)


def director_decision(personas, **_) -> Action:
    approval = DirectorApprovalFactory()
    return Action(
        user=personas[Role.DIRECTOR], url=reverse("director-decide", args=[approval.pk]),
        data={"decision": "approve", "reason": ""},
        done=lambda: DirectorApproval.objects.get(pk=approval.pk).status != "pending",
    )


def director_decision_api(personas, *, refuse=False, **_) -> Action:
    approval = DirectorApprovalFactory()
    verb = "refuse" if refuse else "approve"
    return Action(
        user=personas[Role.DIRECTOR], url=f"/api/v1/director-approvals/{approval.pk}/{verb}/",
        data={"reason": "Not this provider"},
        done=lambda: DirectorApproval.objects.get(pk=approval.pk).status != "pending",
    )


def placement_confirmation(personas, market, price=ABOVE, **_) -> Action:
    referral, quote = chosen_offer(market, personas, price=price)
    return Action(
        user=personas[Role.COMMISSIONING_OFFICER],
        url=reverse("placement-confirm", args=[referral.pk]),
        data={"quote": quote.pk, "start_date": referral.wanted_start_date.isoformat()},
        done=lambda: Placement.objects.filter(child=referral.child).exists(),
    )


def quote_acceptance_api(personas, market, price=ABOVE, **_) -> Action:
    referral, quote = chosen_offer(market, personas, price=price)
    return Action(
        user=personas[Role.COMMISSIONING_OFFICER], url=f"/api/v1/quotes/{quote.pk}/accept/",
        data={}, done=lambda: Quote.objects.get(pk=quote.pk).status == Quote.Status.ACCEPTED,
    )


def _new_cost_rows(placement):
    return lambda: PlacementCost.objects.filter(placement=placement).count() > 1


def cost_change(personas, price=ABOVE, **_) -> Action:
    placement = running_placement(personas[Role.SOCIAL_WORKER].team)
    return Action(
        user=personas[Role.FINANCE_MANAGER],
        url=reverse("placement-change-cost", args=[placement.pk]),
        data={"effective_from": TODAY().isoformat(), "weekly_amount": price, "reason": "uplift"},
        done=_new_cost_rows(placement),
    )


def cost_change_api(personas, price=ABOVE, **_) -> Action:
    placement = running_placement(personas[Role.SOCIAL_WORKER].team)
    return Action(
        user=personas[Role.FINANCE_MANAGER],
        url=f"/api/v1/placements/{placement.pk}/change-cost/",
        data={"effective_from": TODAY().isoformat(), "weekly_amount": price, "reason": "uplift"},
        done=_new_cost_rows(placement),
    )


def _retainer(placement, price) -> dict:
    return {"effective_from": TODAY().isoformat(), "weekly_amount": price,
            "court_order_reference": "LS24C00123"}


def retainer(personas, price=ABOVE, **_) -> Action:
    placement = running_placement(personas[Role.SOCIAL_WORKER].team)
    return Action(
        user=personas[Role.FINANCE_MANAGER],
        url=reverse("placement-retainer", args=[placement.pk]),
        data=_retainer(placement, price), done=_new_cost_rows(placement),
    )


def retainer_api(personas, price=ABOVE, **_) -> Action:
    placement = running_placement(personas[Role.SOCIAL_WORKER].team)
    return Action(
        user=personas[Role.FINANCE_MANAGER], url=f"/api/v1/placements/{placement.pk}/retainer/",
        data=_retainer(placement, price), done=_new_cost_rows(placement),
    )


def _move(price) -> dict:
    return {"end_date": TODAY().isoformat(), "reason": "CARPL", "service": ServiceFactory().pk,
            "placement_type": "K2", "weekly_amount": price}


def child_move(personas, price=ABOVE, **_) -> Action:
    placement = running_placement(personas[Role.SOCIAL_WORKER].team)
    return Action(
        user=personas[Role.COMMISSIONING_OFFICER],
        url=reverse("placement-move", args=[placement.pk]),
        data=_move(price), done=lambda: Placement.objects.filter(child=placement.child).count() == 2,
    )


def child_move_api(personas, price=ABOVE, **_) -> Action:
    placement = running_placement(personas[Role.SOCIAL_WORKER].team)
    return Action(
        user=personas[Role.COMMISSIONING_OFFICER], url=f"/api/v1/placements/{placement.pk}/move/",
        data=_move(price), done=lambda: Placement.objects.filter(child=placement.child).count() == 2,
    )


PAGES = [director_decision, placement_confirmation, cost_change, retainer, child_move]
API = [director_decision_api, quote_acceptance_api, cost_change_api, retainer_api, child_move_api]
# The ones whose need depends on the weekly cost.
PAGES_BY_COST = [placement_confirmation, cost_change, retainer, child_move]
API_BY_COST = [quote_acceptance_api, cost_change_api, retainer_api, child_move_api]


def names(builders):
    return [builder.__name__ for builder in builders]


@pytest.fixture
def build(personas, market):
    def make(builder, **options) -> Action:
        return builder(personas, market=market, **options)

    return make


def browser(client, user):
    client.force_login(user)
    return client


def api_browser(user) -> APIClient:
    """A browser calling the API with its session cookie."""
    api = APIClient()
    api.force_login(user)
    return api


# --- Pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("builder", PAGES, ids=names(PAGES))
def test_an_old_password_sends_the_page_to_confirm_it_and_refuses_the_post(client, build, builder):
    action = build(builder)
    browser(client, action.user)
    go_stale(client)

    if builder in (director_decision, placement_confirmation):  # the form itself is guarded
        response = client.get(action.url)
        assert response.status_code == 302
        assert response["Location"] == confirm_url(action.url)

    response = client.post(action.url, action.data)
    assert response.status_code == 302
    assert response["Location"] == confirm_url(action.url)
    assert not action.done(), "a stale form slipped through"


@pytest.mark.parametrize("builder", PAGES, ids=names(PAGES))
def test_a_recent_password_lets_the_page_act(client, build, builder):
    action = build(builder)
    browser(client, action.user)
    age_password(client, seconds=settings.REAUTH_MAX_AGE - 60)

    response = client.post(action.url, action.data)

    assert response.status_code == 302
    assert not response["Location"].startswith(reverse("confirm-password"))
    assert action.done()


@pytest.mark.parametrize("builder", PAGES_BY_COST, ids=names(PAGES_BY_COST))
def test_a_cost_at_or_below_the_threshold_needs_no_new_password(client, build, builder):
    action = build(builder, price=BELOW)
    browser(client, action.user)
    go_stale(client)

    response = client.post(action.url, action.data)

    assert not response.get("Location", "").startswith(reverse("confirm-password"))
    assert action.done()


def test_confirming_the_password_goes_back_and_the_decision_goes_through(client, build):
    action = build(director_decision)
    browser(client, action.user)
    go_stale(client)
    signed_in_at = client.session[SIGNED_IN_AT]

    response = client.get(action.url, follow=True)
    assert response.redirect_chain == [(confirm_url(action.url), 302)]
    page = plain(response)
    assert "Confirm your password" in page and "£4,000" in page and "15 minutes" in page

    response = client.post(confirm_url(action.url), {"password": PASSWORD, "next": action.url})
    assert response.status_code == 302 and response["Location"] == action.url
    assert client.get(action.url).status_code == 200
    client.post(action.url, action.data)
    assert action.done()
    # Confirming refreshes the password's age, not the session's absolute limit.
    assert client.session[SIGNED_IN_AT] == signed_in_at


def test_a_wrong_password_shows_the_error_summary_and_counts_towards_the_lockout(client, personas):
    director = personas[Role.DIRECTOR]
    browser(client, director)

    response = client.post(reverse("confirm-password"), {"password": "not-my-password"})

    assert response.status_code == 200
    assert error_links(response) == ["id_password"]
    assert field_error(response, "password").startswith("The password is not right")
    assert plain(response).startswith("Error: Confirm your password")
    attempt = AccessAttempt.objects.get(username=director.username)
    assert attempt.failures_since_start == 1


def test_an_empty_password_is_asked_for(client, personas):
    browser(client, personas[Role.DIRECTOR])
    response = client.post(reverse("confirm-password"), {"password": ""})
    assert field_error(response, "password") == "Enter your password"


def test_too_many_wrong_passwords_lock_out_and_sign_out(client, personas):
    director = personas[Role.DIRECTOR]
    browser(client, director)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(reverse("confirm-password"), {"password": "guess"}).status_code == 200

    response = client.post(reverse("confirm-password"), {"password": "guess"})

    assert response.status_code == 429
    assert "Too many attempts to sign in" in plain(response)
    assert "_auth_user_id" not in client.session  # whoever was at the browser is signed out
    # The right password does not help while the lockout lasts.
    client.force_login(director)
    assert client.post(reverse("confirm-password"), {"password": PASSWORD}).status_code == 429


def test_a_right_password_clears_earlier_wrong_ones(client, personas):
    director = personas[Role.DIRECTOR]
    browser(client, director)
    client.post(reverse("confirm-password"), {"password": "guess"})
    client.post(reverse("confirm-password"), {"password": PASSWORD})
    assert not AccessAttempt.objects.filter(username=director.username).exists()


@pytest.mark.parametrize("next_url", [
    "https://evil.example/steal", "//evil.example/steal", "http://testserver.evil.example/",
    "javascript:alert(1)", "",
])
def test_the_way_back_never_leaves_the_site(client, personas, next_url):
    browser(client, personas[Role.DIRECTOR])
    response = client.post(reverse("confirm-password"), {"password": PASSWORD, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_way_back_may_be_any_page_of_the_site(client, personas):
    browser(client, personas[Role.DIRECTOR])
    target = reverse("director-queue") + "?page=2"
    response = client.post(reverse("confirm-password") + "?" + urlencode({"next": target}),
                           {"password": PASSWORD})
    assert response["Location"] == target


def test_the_confirm_page_needs_a_signed_in_user(client):
    response = client.get(reverse("confirm-password"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The API --------------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [*API, lambda personas, **kw: director_decision_api(
    personas, refuse=True)], ids=[*names(API), "director_refusal_api"])
def test_an_old_session_is_refused_by_the_api_with_a_readable_reason(build, builder):
    action = build(builder)
    api = api_browser(action.user)
    go_stale(api)

    response = api.post(action.url, action.data, format="json")

    assert response.status_code == 403, response.data
    assert response.data["detail"].startswith(REFUSAL)
    assert reverse("confirm-password") in response.data["detail"]
    assert not action.done()


@pytest.mark.parametrize("builder", API, ids=names(API))
def test_a_recent_session_acts_through_the_api(build, builder):
    action = build(builder)
    api = api_browser(action.user)

    response = api.post(action.url, action.data, format="json")

    assert response.status_code in (200, 201), response.data
    assert action.done()


@pytest.mark.parametrize("builder", API_BY_COST, ids=names(API_BY_COST))
def test_the_api_needs_no_new_password_at_or_below_the_threshold(build, builder):
    action = build(builder, price=BELOW)
    api = api_browser(action.user)
    go_stale(api)

    response = api.post(action.url, action.data, format="json")

    assert response.status_code in (200, 201), response.data
    assert action.done()


@pytest.mark.parametrize("builder", API, ids=names(API))
def test_a_token_is_its_own_credential(build, builder):
    """Integrations authenticate with a token on every call: no sign-in to age."""
    action = build(builder)
    script = APIClient(enforce_csrf_checks=True)
    script.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=action.user).key}")

    response = script.post(action.url, action.data, format="json")

    assert response.status_code in (200, 201), response.data
    assert action.done()
