"""The whole journey in a real browser, as the people who make it: a social worker refers
a child, the team manager endorses, the Resource Panel approves an external placement,
the Director agrees, a commissioning officer sources and negotiates, the social worker
chooses, the officer confirms, and the finance manager sees the cost on the dashboard.

Every page on the way is screenshotted (artifacts/e2e/) and checked with axe-core, and
the browser must report no console error, CSP violation or uncaught exception."""

import dataclasses
import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from core.roles import Role
from placements.models import Placement, ReferralStatus
from tests.e2e.browser import Journey, open_journey
from tests.factories import ChildFactory, PanelFactory, PanelMeetingFactory
from tests.sourcing import build_market

pytestmark = pytest.mark.e2e

PLACEMENT_TYPE = "U4 – Foster, other carer: long-term"
QUOTED, COUNTER_OFFER, AGREED = "900.00", "800.00", "840.50"


@dataclasses.dataclass(frozen=True)
class World:
    """Plain values only: the browser part of the test may not touch the database."""

    base_url: str
    today: datetime.date
    child_name: str
    local_child_id: str
    users: dict[Role, str]


@pytest.fixture
def world(live_server, role_groups, personas, north) -> World:
    """One person per role, the sourcing tests' market (framework and spot services near
    LS6), a Resource Panel meeting today, and a 12-year-old from LS6 on North's caseload."""
    market = build_market()
    chair = personas[Role.PANEL_CHAIR]
    PanelMeetingFactory(panel=PanelFactory(name="Resource Panel", default_chair=chair),
                        date=market.today)
    child = ChildFactory(
        team=north, first_name="Robin", last_name="Example", home_postcode="LS6 3QR",
        date_of_birth=market.today - datetime.timedelta(days=int(12.5 * 365.25)),
        social_worker=personas[Role.SOCIAL_WORKER],
    )
    return World(
        base_url=live_server.url, today=market.today, child_name=child.full_name,
        local_child_id=child.local_child_id,
        users={role: user.username for role, user in personas.items()},
    )


def test_a_child_is_referred_approved_sourced_placed_and_costed(world, e2e_summary):
    with open_journey(world.base_url) as journey:
        referral = social_worker_refers(journey, world)
        team_manager_endorses(journey, world)
        panel_approves_external(journey, world, referral)
        director_approves(journey, world, referral)
        officer_sources_and_negotiates(journey, world)
        social_worker_chooses(journey, world)
        placement = officer_confirms(journey, world, referral)
        finance_manager_sees_the_cost(journey, world, placement)
        e2e_summary.extend(journey.summary())

    # Back outside the browser: the database agrees with what the pages showed.
    placed = Placement.objects.get(referral_id=referral)
    assert placed.referral.status == ReferralStatus.PLACED
    assert placed.costs.get().weekly_amount == Decimal(AGREED)


# --- The steps, one person each ---------------------------------------------------------


def social_worker_refers(journey: Journey, world: World) -> int:
    page = journey.page
    journey.sign_in(world.users[Role.SOCIAL_WORKER])
    journey.check("social-worker-home")
    journey.nav("Children")
    journey.heading("Children")
    journey.check("children")
    page.get_by_role("link", name=world.child_name).click()
    journey.heading(world.child_name)
    journey.check("child-record")
    page.get_by_role("button", name="Refer for a placement").click()

    journey.heading("What is sought")
    page.get_by_label("Placement type sought").select_option(label=PLACEMENT_TYPE)
    page.get_by_label("When should the placement start?").fill(world.today.isoformat())
    page.get_by_role("group", name="Foster care").get_by_label("Preferred").check()
    journey.check("referral-what-is-sought")
    page.get_by_role("button", name="Save and continue").click()

    journey.heading("The child's needs")
    page.get_by_label("Summary of the child's needs").fill(
        "Needs a settled long-term foster home close to school, with carers experienced "
        "in supporting a child who has had several moves."
    )
    journey.check("referral-needs")
    page.get_by_role("button", name="Save and continue").click()

    journey.heading("Risks")
    page.get_by_label("Child sexual exploitation").check()
    page.get_by_label("What providers need to know about these risks").fill(
        "Known to have been targeted online; carers must supervise phone use."
    )
    journey.check("referral-risks")
    page.get_by_role("button", name="Save and continue").click()

    journey.heading("Check your answers before submitting")
    journey.check("referral-check-answers")
    page.get_by_role("button", name="Submit referral").click()
    journey.success("Referral submitted")
    referral = _number(page, r"Referral (\d+)")
    journey.check("referral-submitted")
    journey.sign_out()
    return referral


def team_manager_endorses(journey: Journey, world: World) -> None:
    page = journey.page
    journey.sign_in(world.users[Role.TEAM_MANAGER])
    journey.check("team-manager-home")
    page.get_by_role("link", name=f"{world.child_name} ({world.local_child_id})").click()
    journey.heading(re.compile(r"Referral \d+"))
    page.get_by_role("button", name="Endorse").click()
    journey.heading("Endorse this referral")
    page.get_by_label("Note for the panel (optional)").fill("Agreed: no in-house carer fits.")
    journey.check("endorse")
    page.get_by_role("button", name="Endorse").click()
    journey.success("Referral endorsed")
    journey.check("referral-endorsed")
    journey.sign_out()


def panel_approves_external(journey: Journey, world: World, referral: int) -> None:
    page = journey.page
    journey.sign_in(world.users[Role.PANEL_CHAIR])
    journey.nav("Panel meetings")
    journey.heading("Panel meetings")
    journey.check("panel-meetings")
    page.get_by_role("link", name=f"{world.today:%A} {world.today.day} {world.today:%b %Y}").click()
    journey.heading(re.compile(r"^Resource Panel"))
    page.get_by_label("Add an endorsed referral").select_option(
        label=f"Referral {referral} – child {world.local_child_id}"
    )
    page.get_by_role("button", name="Add to agenda").click()
    journey.success(f"Referral {referral} added to the agenda")
    journey.check("agenda")
    page.get_by_role("link", name="Decide item 1").click()

    journey.heading("Record the panel's decision")
    page.get_by_label("Approve external placement").check()
    page.get_by_label("Rationale").fill(
        "Kinship and in-house options considered; none can meet the child's needs."
    )
    page.get_by_label("Expected weekly cost (£)").fill(QUOTED)
    journey.check("panel-decision")
    page.get_by_role("button", name="Record decision").click()
    journey.success("Decision recorded")
    expect(page.get_by_role("table")).to_contain_text("Approve external placement")
    journey.check("panel-decided")
    journey.sign_out()


def director_approves(journey: Journey, world: World, referral: int) -> None:
    page = journey.page
    journey.sign_in(world.users[Role.DIRECTOR])
    journey.nav("Approvals")
    journey.heading("Approvals waiting for the Director")
    journey.check("director-approvals")
    page.get_by_role("link", name=f"Referral {referral}").click()
    journey.heading("Approve or refuse")
    page.get_by_label("Approve", exact=True).check()
    journey.check("director-decision")
    page.get_by_role("button", name="Record my decision").click()
    journey.success("Your decision is recorded")
    journey.check("director-approved")
    journey.sign_out()


def officer_sources_and_negotiates(journey: Journey, world: World) -> None:
    page = journey.page
    journey.sign_in(world.users[Role.COMMISSIONING_OFFICER])
    journey.check("officer-home")
    page.get_by_role("link", name=world.local_child_id, exact=True).click()
    journey.heading("Sourcing")
    page.get_by_role("button", name="Start sourcing").click()
    journey.heading("Start sourcing")
    journey.check("sourcing-start")
    page.get_by_role("button", name="Continue to the shortlist").click()

    journey.heading(re.compile(r"^Sourcing request "))
    # The framework services meeting every rule are ticked; the spot one needs a reason.
    expect(_service_box(page, "Good Carers")).to_be_checked()
    expect(_service_box(page, "Careful Carers")).to_be_checked()
    _service_box(page, "Spot Carers").check()
    page.get_by_role(
        "textbox", name="Why invite Spot Carers (Spot Fostering), which is off-framework?"
    ).fill("Only two framework homes match.")
    journey.check("shortlist")
    page.get_by_role("button", name="Send request").click()
    journey.success("sent to 3 service(s)")
    journey.check("request-sent")

    record_offer(journey, "Good Carers", QUOTED, step="answer-good-carers")
    record_offer(journey, "Spot Carers", "1,100.00", step="answer-spot-carers")
    record_declined(journey, "Careful Carers", step="answer-careful-carers")
    negotiate(journey, "Good Carers", "Our counter-offer", COUNTER_OFFER, step="counter-offer")
    negotiate(journey, "Good Carers", "Price agreed", AGREED, step="price-agreed")
    expect(page.get_by_role("table", name=re.compile(r"^Answers"))).to_contain_text(
        f"£{AGREED}"
    )
    journey.check("answers-negotiated")
    page.get_by_role("button", name="Share options with the social worker").click()
    journey.success("Options shared")
    journey.check("options-shared")
    journey.sign_out()


def record_offer(journey: Journey, service: str, price: str, *, step: str) -> None:
    page = journey.page
    page.get_by_role("link", name=f"Record answer from {service}").click()
    journey.heading(f"Record the answer from {service}")
    page.get_by_label("Offered", exact=True).check()
    page.get_by_label("Weekly price quoted (£)").fill(price)
    page.get_by_label("What the price includes").fill("Education support and respite.")
    journey.check(step)
    page.get_by_role("button", name="Record answer").click()
    journey.success(f"Answer from {service}")


def record_declined(journey: Journey, service: str, *, step: str) -> None:
    page = journey.page
    page.get_by_role("link", name=f"Record answer from {service}").click()
    journey.heading(f"Record the answer from {service}")
    page.get_by_label("Declined to offer").check()
    page.get_by_label("The provider's reason").fill("No carer free this month.")
    journey.check(step)
    page.get_by_role("button", name="Record answer").click()
    journey.success(f"Answer from {service}")


def negotiate(journey: Journey, service: str, kind: str, price: str, *, step: str) -> None:
    page = journey.page
    page.get_by_role("link", name=f"Negotiate with {service}").click()
    journey.heading(f"Negotiate with {service}")
    page.get_by_label(kind).check()
    page.get_by_label("Weekly price (£)").fill(price)
    journey.check(step)
    page.get_by_role("button", name="Record step").click()
    journey.success(f"£{price} a week recorded for {service}")


def social_worker_chooses(journey: Journey, world: World) -> None:
    page = journey.page
    journey.sign_in(world.users[Role.SOCIAL_WORKER])
    page.get_by_role("link", name=f"{world.child_name} ({world.local_child_id})").click()
    journey.heading(re.compile(r"Referral \d+"))
    page.get_by_role("link", name="Compare the offers and choose one").click()
    journey.heading("Compare the offers")
    good_carers = re.compile(rf"^Good Carers \(Framework Fostering\): £{AGREED} a week")
    page.get_by_label(good_carers).check()
    page.get_by_label("Why this offer?").fill("Within the framework ceiling and close to school.")
    journey.check("compare-and-choose")
    page.get_by_role("button", name="Choose this offer").click()
    journey.success("You chose Good Carers")
    journey.check("offer-chosen")
    journey.sign_out()


def officer_confirms(journey: Journey, world: World, referral: int) -> int:
    page = journey.page
    journey.sign_in(world.users[Role.COMMISSIONING_OFFICER])
    journey.nav("Sourcing")
    journey.heading("Sourcing queue")
    journey.check("sourcing-queue")
    page.get_by_role("link", name=f"Referral {referral}").click()
    page.get_by_role("link", name=f"Back to referral {referral}").click()
    page.get_by_role("link", name="Compare the offers").click()
    journey.heading("Compare the offers")
    page.get_by_role("button", name="Confirm placement").click()
    journey.heading("Confirm the placement")
    expect(page.get_by_label("When does the placement start?")).to_have_value(
        world.today.isoformat()
    )
    journey.check("confirm-placement")
    page.get_by_role("button", name="Confirm placement").click()
    journey.success("Placement confirmed with Good Carers")
    journey.heading("Individual placement agreement")
    journey.check("placement-agreement")

    journey.nav("Placements")
    journey.heading("Placements")
    journey.check("placements")
    link = page.get_by_role("link", name=re.compile(r"^Placement \d+$"))
    placement = int(link.inner_text().split()[-1])
    link.click()
    journey.heading("Good Carers")
    expect(page.get_by_role("row", name=re.compile("^Gross weekly cost"))).to_contain_text(
        f"£{AGREED}"
    )
    journey.check("placement")
    journey.sign_out()
    return placement


def finance_manager_sees_the_cost(journey: Journey, world: World, placement: int) -> None:
    page = journey.page
    journey.sign_in(world.users[Role.FINANCE_MANAGER])
    journey.nav("Dashboard")
    journey.heading(re.compile(r"^Dashboard "))
    costliest = page.get_by_role("table", name=re.compile(r"^Running placements by net weekly"))
    row = costliest.get_by_role("row").filter(has_text=f"Placement {placement}")
    expect(row).to_contain_text(f"£{AGREED}")
    framework = page.get_by_role("row", name=re.compile(r"^Bought on a framework"))
    expect(framework.get_by_role("cell").nth(1)).to_have_text(f"£{AGREED}")
    journey.check("dashboard")
    journey.sign_out()


# --- Reading the page --------------------------------------------------------------------


def _number(page: Page, pattern: str) -> int:
    heading = page.get_by_role("heading", level=1).inner_text()
    return int(re.search(pattern, heading).group(1))


def _service_box(page: Page, service: str):
    return page.get_by_role("checkbox", name=re.compile(rf"^{service} \("))


def test_the_journey_would_see_a_content_security_policy_violation(live_server):
    """The browser check the journey relies on can fail: an inline script that the policy
    refuses is reported by Chromium, and caught."""
    with open_journey(live_server.url) as journey:
        page = journey.page
        page.goto(f"{live_server.url}/sign-in/")
        journey.heading("Sign in")
        with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
            page.evaluate("""() => {
                const script = document.createElement('script');
                script.textContent = 'window.injected = true';
                document.body.append(script);
            }""")
        assert page.evaluate("() => window.injected") is None
        assert any("Content Security Policy" in m for m in journey.trouble.messages)
