"""A database constraint that refuses a write is a 409 with a readable body (API) or a
page that says nothing was saved (pages), never a 500.

Three ways to hit a constraint: a double-booked placement (the child's periods may not
overlap: the services check, and on PostgreSQL an exclusion constraint refuses), a
duplicate of a unique record sent twice, and two writers racing for the same unique
value, where both pass the services' checks and only the database can refuse the second
(PostgreSQL only: SQLite serialises writers, so it cannot race).
"""

import datetime
import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from core.api import INTEGRITY_CONFLICT, exception_handler
from core.conflicts import IntegrityErrorMiddleware
from core.models import Team
from core.roles import Role
from placements.models import BudgetLine, Placement, ReferralStatus
from placements.services import sourcing
from providers.models import FrameworkRate, Provider, Service
from providers.services import sourcing as market_services
from tests.factories import (
    ChildFactory,
    FinancialYearFactory,
    PlacementFactory,
    UserFactory,
)
from tests.sourcing import (  # noqa: F401 (fixtures)
    build_market,
    market_fixture,
    officer_fixture,
    ready_referral,
    social_worker_fixture,
)

DAY = datetime.timedelta(days=1)
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="SQLite serialises writers: no race, no EXCLUDE"
)


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def chosen_offer(*, market, officer, social_worker, child):
    """A referral for `child` whose social worker has chosen the framework home's offer:
    the offer (its referral is `quote.chosen_for`)."""
    referral = ready_referral(team=child.team, child=child)
    request = sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(by=officer, referral=referral, service_ids=[market.good.pk],
                           off_framework_reasons={})
    quote = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price="900",
        available_from=referral.wanted_start_date,
    )
    sourcing.options_share(by=officer, referral=referral)
    sourcing.offer_choose(by=social_worker, referral=referral, quote=quote, reason="Near school")
    quote.chosen_for = referral
    return quote


def readable_409(response) -> None:
    assert response.status_code == 409, getattr(response, "data", response.content)
    body = response.json()
    assert body["detail"] and "IntegrityError" not in body["detail"]
    assert "Traceback" not in response.content.decode()


# --- A double-booked placement ----------------------------------------------------------


def test_placing_a_child_already_booked_for_those_days_is_409_and_changes_nothing(
    market, officer, social_worker, north
):
    child = ChildFactory(team=north, home_postcode="LS6 3QR",
                         date_of_birth=market.today - datetime.timedelta(days=12 * 366))
    quote = chosen_offer(market=market, officer=officer, social_worker=social_worker, child=child)
    # Booked from before the offer's start, to run on: the new placement would overlap it.
    booked = PlacementFactory(child=child, start_date=quote.available_from - 3 * DAY,
                              end_date=quote.available_from + 30 * DAY,
                              reason_for_change="CARPL")
    response = api_client(officer).post(f"/api/v1/quotes/{quote.pk}/accept/", {}, format="json")

    readable_409(response)
    assert list(Placement.objects.filter(child=child)) == [booked]
    quote.chosen_for.refresh_from_db()
    assert quote.chosen_for.status == ReferralStatus.PROVIDER_CHOSEN


@postgresql_only
def test_the_exclusion_constraint_refusal_is_a_409_for_the_api_and_for_pages(north, caplog):
    """The services check for overlaps first; this is what a client sees when only the
    database's EXCLUDE constraint catches one (two writers racing, or a service that
    forgot): the real error PostgreSQL raises, through the API's exception handler and
    the pages' middleware."""
    child = ChildFactory(team=north, last_name="Overlapping-Surname")
    first = PlacementFactory(child=child, start_date=datetime.date(2026, 1, 5),
                             end_date=datetime.date(2026, 3, 1), reason_for_change="CARPL")
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        PlacementFactory(child=child, start_date=datetime.date(2026, 2, 1),
                         end_date=datetime.date(2026, 2, 20), reason_for_change="CARPL")
    assert "placement_no_overlap_per_child" in str(refusal.value)

    caplog.set_level(logging.WARNING)
    response = exception_handler(refusal.value, {"view": None})
    assert (response.status_code, response.data) == (409, {"detail": INTEGRITY_CONFLICT})

    request = RequestFactory().post("/placements/1/move/")
    page = IntegrityErrorMiddleware(lambda request: None).process_exception(
        request, refusal.value
    )
    assert page.status_code == 409
    assert b"govuk-error-summary" in page.content
    assert INTEGRITY_CONFLICT.encode() in page.content
    # Both name the constraint in the log, and neither repeats the database's message.
    assert caplog.text.count("placement_no_overlap_per_child") == 2
    assert "Overlapping-Surname" not in caplog.text + page.content.decode()
    assert list(Placement.objects.filter(child=child)) == [first]


# --- A duplicate of a unique record ---------------------------------------------------------


def _budget_line(world):
    return "/api/v1/budget-lines/", {"financial_year": world["year"].start_year,
                                     "name": "Independent fostering", "amount": "1000.00"}


def _framework_rate(world):
    return "/api/v1/framework-rates/", {
        "framework": world["market"].framework.pk, "lot": world["market"].lot.pk,
        "placement_type": "U5", "financial_year": world["market"].year,
        "ceiling_weekly_price": "800.00",
    }


def _provider(world):
    return "/api/v1/providers/", {"name": "Twice Fostering", "kind": "ifa",
                                  "place_provider": "PR4"}


def _service(world):
    return "/api/v1/services/", {"provider": world["market"].spot_provider.pk,
                                 "name": "Twice Carers", "postcode": "LS1 2AB",
                                 "placement_types": ["U4"]}


# record → (request, who sends it, model, the refusal). A budget line's name is the one
# a finance manager typed, so its clash is a 400 on that field; the others are 409.
DUPLICATES = {
    "budget_line": (_budget_line, Role.FINANCE_MANAGER, BudgetLine, 400),
    "framework_rate": (_framework_rate, Role.COMMISSIONING_OFFICER, FrameworkRate, 409),
    "provider": (_provider, Role.COMMISSIONING_OFFICER, Provider, 409),
    "service": (_service, Role.COMMISSIONING_OFFICER, Service, 409),
}


@pytest.mark.parametrize("record", DUPLICATES)
def test_sending_a_unique_record_twice_is_refused_readably_the_second_time(
    record, market, personas
):
    build, role, model, refusal = DUPLICATES[record]
    world = {"market": market, "year": FinancialYearFactory(start_year=market.year)}
    url, body = build(world)
    client = api_client(personas[role])

    first = client.post(url, body, format="json")
    assert first.status_code == 201, first.data
    count = model.objects.count()
    second = client.post(url, body, format="json")
    if refusal == 409:
        readable_409(second)
    else:
        assert second.status_code == 400
        assert "already" in " ".join(sum(second.json().values(), []))
    assert model.objects.count() == count


# --- Two writers racing for the same unique value (PostgreSQL) ------------------------------


def _waiting_on(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
            [table],
        )
        return cursor.fetchone()[0]


def race_at_insert(table: str, send, names) -> dict:
    """Run send(name) in a thread per name, all at once, while `table` is held so that
    reads go on but no insert can: each writer passes the service's "is it taken?" check
    and then waits at its INSERT. Once every writer waits there (or after 20 seconds),
    they are let go together. name → the response, or the exception raised."""
    outcomes = {}

    def run(name):
        try:
            outcomes[name] = send(name)
        except Exception as error:  # the caller's assertions show it
            outcomes[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on(table) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        all_waiting = _waiting_on(table) == len(threads)
    for thread in threads:
        thread.join(timeout=60)
    assert all_waiting, f"not every writer reached the INSERT: {describe(outcomes)}"
    return outcomes


def race_together(send, names) -> dict:
    """Run send(name) in a thread per name, released at the same moment."""
    outcomes, start = {}, threading.Barrier(len(names), timeout=20)

    def run(name):
        try:
            start.wait()
            outcomes[name] = send(name)
        except Exception as error:  # the caller's assertions show it
            outcomes[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def describe(outcomes: dict) -> dict:
    return {name: (outcome.status_code, outcome.content[-500:])
            if hasattr(outcome, "status_code") else repr(outcome)
            for name, outcome in outcomes.items()}


def statuses(outcomes: dict) -> list:
    return sorted(getattr(outcome, "status_code", 0) for outcome in outcomes.values())


@pytest.fixture
def racing_officers(transactional_db, role_groups):
    Team.objects.get_or_create(code="north", defaults={"name": "North"})
    market = build_market()
    officers = [UserFactory(username=f"officer_{n}", roles=[Role.COMMISSIONING_OFFICER])
                for n in (1, 2)]
    return market, officers


@postgresql_only
def test_two_api_clients_adding_the_same_service_at_once_get_201_and_409(racing_officers):
    market, officers = racing_officers
    clients = {user.username: api_client(user) for user in officers}
    body = {"provider": market.spot_provider.pk, "name": "Raced Carers",
            "postcode": "LS1 2AB", "placement_types": ["U4"]}

    outcomes = race_at_insert(
        "providers_service",
        lambda name: clients[name].post("/api/v1/services/", body, format="json"), clients,
    )

    assert statuses(outcomes) == [201, 409], describe(outcomes)
    loser = next(outcome for outcome in outcomes.values() if outcome.status_code == 409)
    readable_409(loser)
    assert Service.objects.filter(name="Raced Carers").count() == 1


@postgresql_only
def test_two_officers_adding_the_same_service_on_the_page_get_one_service_and_no_500(
    racing_officers,
):
    market, officers = racing_officers
    clients = {}
    for user in officers:
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    form = {"name": "Raced Carers", "ofsted_urn": "", "ofsted_rating": "good",
            "ofsted_inspection_date": "2025-11-04", "postcode": "LS1 2AB",
            "local_authority_area": "Leeds", "min_age": "0", "max_age": "17", "places": "3",
            "vacancies": "1", "is_active": "on", "placement_types": ["U4"]}
    url = f"/providers/{market.spot_provider.pk}/services/new/"

    outcomes = race_at_insert(
        "providers_service", lambda name: clients[name].post(url, form), clients
    )

    assert statuses(outcomes) == [302, 409], describe(outcomes)
    page = next(outcome for outcome in outcomes.values() if outcome.status_code == 409)
    assert b"govuk-error-summary" in page.content
    assert INTEGRITY_CONFLICT.encode() in page.content
    assert Service.objects.filter(name="Raced Carers").count() == 1


@postgresql_only
def test_two_officers_placing_one_child_at_once_make_one_placement(racing_officers):
    """Two referrals for one child, each with a chosen offer, accepted at the same moment
    by two officers: one placement is made; the other officer is refused, never a 500."""
    market, officers = racing_officers
    north = Team.objects.get(code="north")
    worker = UserFactory(username="worker", roles=[Role.SOCIAL_WORKER], team=north)
    child = ChildFactory(team=north, home_postcode="LS6 3QR",
                         date_of_birth=market.today - datetime.timedelta(days=12 * 366))
    quotes = [chosen_offer(market=market, officer=officers[0], social_worker=worker, child=child)
              for _ in range(2)]
    clients = {user.username: (api_client(user), quote) for user, quote in zip(officers, quotes)}

    def accept(name):
        client, quote = clients[name]
        return client.post(f"/api/v1/quotes/{quote.pk}/accept/", {}, format="json")

    outcomes = race_together(accept, clients)

    # The services lock the child's rows first, so the second officer waits, then finds
    # the child placed: refused, with why (400 or 409 as the check that notices says).
    winner, loser = sorted(outcomes.values(), key=lambda response: response.status_code)
    assert (winner.status_code, loser.status_code in (400, 409)) == (201, True), describe(
        outcomes)
    assert "Traceback" not in loser.content.decode() and loser.json()
    assert Placement.objects.filter(child=child).count() == 1
    assert Decimal(Placement.objects.get(child=child).costs.get().weekly_amount) == Decimal("900")
