"""One small world for the access tests, built once per test module: North's child with a
referral in every state a page needs, a placement, a panel with an open and a closed
meeting, a Director's approval, a market with a sent sourcing request and quotes, budgets
and rollup rows; the same casework in South; one signed-in client per persona.

Every request the tests make runs in a savepoint that is rolled back afterwards, so an
allowed role's POST never changes the world the next request sees. A refused request must
also change nothing: `changed_tables` compares every table of our apps (the audit log
aside: reading a child's record is logged on purpose) with the world as built.
"""

import copy
import dataclasses
import datetime
import hashlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent, Team, User
from core.roles import Role
from panels import services as panel_services
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from placements.models import (
    BudgetLine,
    BudgetPositionSnapshot,
    Child,
    Contribution,
    FinancialYear,
    Placement,
    Referral,
    ReferralStatus,
    WeeklyCostLedgerRow,
)
from placements.services import sourcing
from providers.models import (
    Framework,
    FrameworkRate,
    Provider,
    ProviderDiscount,
    Quote,
    Service,
    SourcingInvitation,
)
from providers.reference import financial_year_start
from providers.services import sourcing as market_services
from tests import budgets
from tests.factories import (
    AgendaItemFactory,
    ChildFactory,
    ContributionFactory,
    DecisionFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    PlacementCostFactory,
    PlacementFactory,
    TeamFactory,
    UserFactory,
    referral_in,
)
from tests.sourcing import Market, build_market, ready_referral

S = ReferralStatus
ANONYMOUS = "anonymous"
# Every persona: one user per role (team roles in North, as tests/conftest.py's `personas`
# fixture makes them), and nobody signed in.
PERSONAS = [ANONYMOUS, *(role.value for role in Role)]
TEAM_ROLES = {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}
CHOSEN_REASON = "Near her school, and the carers know autism."
# Names and local IDs the search tests look for: nobody else in the world has them.
NORTH_CHILD_ID = "N-ACCESS-1"
NORTH_CHILD_SURNAME = "Northwood"
UNREFERRED_CHILD_ID = "N-DRAFT-ONLY-1"
UNREFERRED_CHILD_SURNAME = "Draftley"
SOUTH_CHILD_ID = "S-ACCESS-1"


@dataclasses.dataclass
class World:
    north: Team
    south: Team
    personas: dict[Role, User]
    south_social_worker: User
    south_team_manager: User
    market: Market
    # North's casework: the child has a referral in each state the pages need.
    child: Child
    draft: Referral
    submitted: Referral
    endorsed: Referral  # ready to be listed on a meeting
    listed: Referral
    second_listed: Referral
    awaiting_director: Referral
    decided: Referral
    ready: Referral  # ready for sourcing, no request yet
    chosen: Referral  # provider chosen: its request is still open
    unreferred_child: Child  # only a draft: nobody beyond North's team may see it
    unreferred_draft: Referral
    placement: Placement
    contribution: Contribution
    # Panels
    panel: Panel
    meeting: PanelMeeting  # open, with two listed referrals on its agenda
    item: AgendaItem
    second_item: AgendaItem
    closed_meeting: PanelMeeting
    decision: Decision  # on the closed meeting: only a correction can change it
    approval: DirectorApproval
    # The market
    invitation: SourcingInvitation
    quote: Quote  # the chosen one
    other_quote: Quote
    provider: Provider
    service: Service
    framework: Framework
    rate: FrameworkRate
    discount: ProviderDiscount
    # Money
    year: FinancialYear
    budget_line: BudgetLine
    ledger_row: WeeklyCostLedgerRow
    position: BudgetPositionSnapshot
    # South's casework
    south_child: Child
    south_referral: Referral
    south_placement: Placement
    # Every data table as built (and signed in): see changed_tables.
    baseline: dict = dataclasses.field(default_factory=dict)

    @property
    def north_request(self):
        """The chosen referral's sourcing request (sent, with both quotes)."""
        return self.quote.sourcing_request

    def user(self, persona: str) -> User | None:
        return None if persona == ANONYMOUS else self.personas[Role(persona)]


def _personas(north: Team) -> dict[Role, User]:
    return {
        role: UserFactory(username=role.value, roles=[role],
                          team=north if role in TEAM_ROLES else None)
        for role in Role
    }


def _twelve_year_old(team, **fields) -> Child:
    today = timezone.localdate()
    return ChildFactory(team=team, home_postcode="LS6 3QR",
                        date_of_birth=today - datetime.timedelta(days=int(12.5 * 365.25)),
                        **fields)


def _provider_chosen(market: Market, personas, child) -> tuple[Referral, Quote, Quote]:
    """A referral sent to two services, both of which offered; the social worker chose the
    framework one (as tests/placements/test_choice_pages.py walks it, through services)."""
    officer = personas[Role.COMMISSIONING_OFFICER]
    referral = ready_referral(team=child.team, child=child)
    sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(
        by=officer, referral=referral, service_ids=[market.good.pk, market.spot.pk],
        off_framework_reasons={market.spot.pk: "Only one framework home matched."},
    )
    request = sourcing.open_request_link(referral).sourcing_request
    quote = market_services.quote_record(by=officer, request=request, service=market.good,
                                         quoted_weekly_price=Decimal("900.00"))
    other = market_services.quote_record(by=officer, request=request, service=market.spot,
                                         quoted_weekly_price=Decimal("1100.00"))
    sourcing.options_share(by=officer, referral=referral)
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=referral, quote=quote,
                          reason=CHOSEN_REASON)
    referral.refresh_from_db()
    return referral, quote, other


def _placement(child, service, today) -> tuple[Placement, Contribution]:
    placement = PlacementFactory(child=child, service=service,
                                 start_date=today - datetime.timedelta(days=60))
    PlacementCostFactory(placement=placement)
    return placement, ContributionFactory(placement=placement)


def _panels(personas, listed: list[Referral], decided: Referral, today):
    chair = personas[Role.PANEL_CHAIR]
    panel = PanelFactory(name="Resource Panel", default_chair=chair)
    panel.members.add(personas[Role.PANEL_MEMBER])
    meeting = PanelMeetingFactory(panel=panel, date=today + datetime.timedelta(days=2))
    items = [AgendaItemFactory(meeting=meeting, referral=referral) for referral in listed]
    closed = PanelMeetingFactory(panel=panel, date=today - datetime.timedelta(days=5))
    decision = DecisionFactory(agenda_item=AgendaItemFactory(meeting=closed, referral=decided),
                               outcome=Decision.Outcome.DECLINE)
    panel_services.meeting_close(meeting=closed, by=chair)
    closed.refresh_from_db()
    return panel, meeting, items, closed, decision


def _money(today):
    year = budgets.year_of(financial_year_start(today))
    line = budgets.line_with_rules(year, "Independent fostering agencies", budgets.IFA_RULES)
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    return year, line, budgets.ledger_row(line, monday), budgets.position(line, monday)


def build_world() -> World:
    today = timezone.localdate()
    north = TeamFactory(name="North", code="north")
    south = TeamFactory(name="South", code="south")
    personas = _personas(north)
    market = build_market()
    child = _twelve_year_old(north, local_child_id=NORTH_CHILD_ID,
                             last_name=NORTH_CHILD_SURNAME,
                             social_worker=personas[Role.SOCIAL_WORKER])
    by = personas[Role.SOCIAL_WORKER]
    listed = [referral_in(S.LISTED, child=child, created_by=by) for _ in range(2)]
    decided = referral_in(S.DECLINED, child=child, created_by=by)
    chosen, quote, other_quote = _provider_chosen(market, personas, child)
    panel, meeting, items, closed, decision = _panels(personas, listed, decided, today)
    unreferred = ChildFactory(team=north, local_child_id=UNREFERRED_CHILD_ID,
                              last_name=UNREFERRED_CHILD_SURNAME)
    placement, contribution = _placement(child, market.good, today)
    year, line, ledger_row, position = _money(today)
    south_child = _twelve_year_old(south, local_child_id=SOUTH_CHILD_ID)
    south_placement, _ = _placement(south_child, market.spot, today)
    world = World(
        north=north, south=south, personas=personas,
        south_social_worker=UserFactory(username="south_sw", roles=[Role.SOCIAL_WORKER],
                                        team=south),
        south_team_manager=UserFactory(username="south_tm", roles=[Role.TEAM_MANAGER],
                                       team=south),
        market=market, child=child,
        draft=referral_in(S.DRAFT, child=child, created_by=by),
        submitted=referral_in(S.SUBMITTED, child=child, created_by=by),
        endorsed=referral_in(S.ENDORSED, child=child, created_by=by),
        listed=listed[0], second_listed=listed[1],
        awaiting_director=(awaiting := referral_in(S.AWAITING_DIRECTOR, child=child,
                                                   created_by=by)),
        decided=decided, ready=ready_referral(team=north, child=child), chosen=chosen,
        unreferred_child=unreferred,
        unreferred_draft=referral_in(S.DRAFT, child=unreferred, created_by=by),
        placement=placement, contribution=contribution,
        panel=panel, meeting=meeting, item=items[0], second_item=items[1],
        closed_meeting=closed, decision=decision,
        approval=DirectorApprovalFactory(referral=awaiting),
        invitation=SourcingInvitation.objects.get(sourcing_request=quote.sourcing_request,
                                                  service=market.good),
        quote=quote, other_quote=other_quote,
        provider=market.framework_provider, service=market.good, framework=market.framework,
        rate=FrameworkRate.objects.get(framework=market.framework),
        discount=ProviderDiscount.objects.create(
            provider=market.framework_provider, basis=ProviderDiscount.Basis.VOLUME,
            description="Three or more placements", percentage=Decimal("5.00"),
            valid_from=today - datetime.timedelta(days=30),
        ),
        year=year, budget_line=line, ledger_row=ledger_row, position=position,
        south_child=south_child,
        south_referral=referral_in(S.SUBMITTED, child=south_child),
        south_placement=south_placement,
    )
    return world


# A test module imports world_fixture and clients_fixture; its tests then ask for `world`
# and `clients`, built once for the module.


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker):
    """The world, inside a transaction rolled back when the module's tests are done."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="module", name="clients")
def clients_fixture(world, django_db_blocker):
    with django_db_blocker.unblock():
        return clients_for(world)


# --- Clients and requests -----------------------------------------------------------


SOUTH_PERSONAS = ["south_social_worker", "south_team_manager"]


def clients_for(world: World) -> dict[str, APIClient]:
    """One client per persona (and South's social worker and team manager), signed in
    with a session as a browser is. Signing in writes last_login, so the world's baseline
    is taken afterwards."""
    users = {persona: world.user(persona) for persona in PERSONAS}
    users.update({persona: getattr(world, persona) for persona in SOUTH_PERSONAS})
    clients = {}
    for persona, user in users.items():
        client = APIClient()
        if user is not None:
            client.force_login(user)
        clients[persona] = client
    world.baseline = table_contents()
    return clients


@dataclasses.dataclass
class Answer:
    status: int
    location: str = ""
    changed: list[str] = dataclasses.field(default_factory=list)
    error: str = ""
    body: bytes = b""


def ask(client, method: str, url: str, *, data=None, check_changes=False, world=None,
        api=False, **headers) -> Answer:
    """One request in a savepoint that is rolled back. A view's exception is a 500 here
    (with its message) rather than the end of the test run. The client's cookies are put
    back too: signing out (or in) replaces the session cookie, and the rollback brings
    back only the session row."""
    cookies = copy.deepcopy(client.cookies)
    try:
        return _ask(client, method, url, data=data, check_changes=check_changes, world=world,
                    api=api, headers=headers)
    finally:
        client.cookies = cookies


def _ask(client, method, url, *, data, check_changes, world, api, headers) -> Answer:
    with transaction.atomic():
        try:
            kwargs = {"format": "json"} if api and method not in ("GET", "HEAD") else {}
            response = getattr(client, method.lower())(url, data, **kwargs, **headers)
        except Exception as error:  # noqa: BLE001 (any view error is a finding)
            transaction.set_rollback(True)
            return Answer(500, error=f"{type(error).__name__}: {error}")
        # A streamed export reads the database as it goes: read it before the rollback.
        body = (b"".join(response.streaming_content) if getattr(response, "streaming", False)
                else response.content)
        answer = Answer(response.status_code, response.get("Location", ""), body=body)
        if check_changes:
            answer.changed = changed_tables(world.baseline)
        transaction.set_rollback(True)
    return answer


# --- "Nothing changed" ---------------------------------------------------------------

# The apps whose tables hold the service's data. The audit log is left out: a view of a
# child's record is logged on purpose, and its rows change no record.
DATA_APPS = ("core", "placements", "panels", "providers")


def _data_tables() -> list[str]:
    skip = {AuditEvent._meta.db_table}
    tables = []
    for label in DATA_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.managed and model._meta.db_table not in skip:
                tables.append(model._meta.db_table)
    return sorted(set(tables))


def table_contents() -> dict[str, str]:
    """A digest of every data table's rows (raw SQL: this runs after every refused
    request, so it has to be quick)."""
    digests = {}
    with connection.cursor() as cursor:
        for table in _data_tables():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")  # noqa: S608
            digests[table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return digests


def changed_tables(baseline: dict[str, str]) -> list[str]:
    now = table_contents()
    return sorted(table for table, digest in now.items() if baseline.get(table) != digest)
