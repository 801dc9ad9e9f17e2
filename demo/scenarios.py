"""How demo referrals got where they are: each scenario is a legal walk through
ALLOWED_TRANSITIONS, with who moved it, how many days after the previous step, and why.

One step may be marked `at_meeting`: it is a panel's decision, dated on a past meeting of
the scenario's panel, and the steps before and after it are laid out around that date.
Pure data: no database access here.
"""

import dataclasses

from placements.models import ReferralStatus

S = ReferralStatus
EXTERNAL = "external"
IN_HOUSE = "in_house"

# Panel kinds (panels.models.Panel.Kind values) and who chairs each one.
RESOURCE = "resource"
DECISION_MEETING = "decision_meeting"
PERMANENCE = "permanence"
HIGH_COST_REVIEW = "high_cost_review"
PANEL_CHAIRS = {
    RESOURCE: "chair",
    DECISION_MEETING: "chair.permanence",
    PERMANENCE: "chair.permanence",
    HIGH_COST_REVIEW: "director",
}
PANEL_WEEKDAYS = {RESOURCE: 2, DECISION_MEETING: 1, PERMANENCE: 3, HIGH_COST_REVIEW: 4}
PANEL_NAMES = {
    RESOURCE: "Resource Panel",
    DECISION_MEETING: "Children's Decision Meeting",
    PERMANENCE: "Permanence Panel",
    HIGH_COST_REVIEW: "High-cost placement review",
}


@dataclasses.dataclass(frozen=True)
class Step:
    to: str
    actor: str  # sw, tm, admin, chair (the panel's), director or commissioner
    days: int = 1  # days after the previous step
    reason: str = ""
    at_meeting: bool = False


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    route: str = EXTERNAL
    panel: str = RESOURCE
    outcome: str = ""  # panels.models.Decision.Outcome value for the meeting step
    director: str = ""  # pending, approved or refused
    emergency: bool = False
    lag: tuple[int, int] = (1, 12)  # days ago of the last step, when no meeting anchors it

    @property
    def status(self) -> str:
        return self.steps[-1].to

    @property
    def meeting_index(self) -> int | None:
        return next((n for n, step in enumerate(self.steps) if step.at_meeting), None)


WRITTEN = (Step(S.DRAFT, "sw", 0), Step(S.SUBMITTED, "sw", 2))
TO_PANEL = WRITTEN + (Step(S.ENDORSED, "tm", 2), Step(S.LISTED, "admin", 2))
EMERGENCY_START = (
    Step(S.DRAFT, "sw", 0),
    Step(S.SUBMITTED, "sw", 0, "Placement ended this afternoon; the carers cannot keep the "
                               "child overnight."),
)
# As placements.services.referrals.referral_submit does it: an emergency passes through
# "submitted" straight to sourcing, and comes to panel afterwards.
EMERGENCY_APPROVED = EMERGENCY_START + (
    Step(S.READY_FOR_SOURCING, "sw", 0, "Emergency: straight to sourcing; retrospective "
                                        "panel review to follow."),
)
NEEDS_DIRECTOR = Step(
    S.AWAITING_DIRECTOR, "chair", 5,
    "Approved: no in-house option can meet the child's needs. External placement needs the "
    "Director's approval.", at_meeting=True,
)
DIRECTOR_APPROVED = Step(S.READY_FOR_SOURCING, "director", 2, "Approved by the Director.")
APPROVED_IN_HOUSE = Step(
    S.READY_FOR_SOURCING, "chair", 5, "Approved: in-house foster carers to be identified.",
    at_meeting=True,
)
APPROVED_IFA = Step(
    S.READY_FOR_SOURCING, "chair", 5,
    "Approved: independent fostering within 20 miles, on framework, under the threshold.",
    at_meeting=True,
)
SEARCH = (
    Step(S.SOURCING, "commissioner", 1),
    Step(S.OPTIONS_READY, "commissioner", 5, "Offers received and challenged; shortlist sent "
                                             "to the social worker."),
)
CHOSEN = Step(S.PROVIDER_CHOSEN, "sw", 2, "Best match for the child's needs and school.")
PLACED = Step(S.PLACED, "commissioner", 5)
IN_HOUSE_SEARCH = (
    Step(S.SOURCING, "commissioner", 1, "Family-finding with the council's own carers."),
    Step(S.OPTIONS_READY, "commissioner", 6, "Two in-house households available."),
)
EMERGENCY_SEARCH = (
    Step(S.SOURCING, "commissioner", 0),
    Step(S.OPTIONS_READY, "commissioner", 0, "One emergency bed offered."),
    Step(S.PROVIDER_CHOSEN, "sw", 0),
)

# Final status → (count in a 300-child county, minimum count, scenarios used in turn).
STORY = {
    S.DRAFT: (5, 1, [Scenario("draft", (Step(S.DRAFT, "sw", 0),), lag=(1, 10))]),
    S.SUBMITTED: (5, 1, [
        Scenario("submitted", WRITTEN, lag=(1, 6)),
    ]),
    S.RETURNED: (4, 1, [
        Scenario("returned_by_manager", WRITTEN + (
            Step(S.RETURNED, "tm", 2, "Please add the latest risk assessment and the child's "
                                      "own views before I endorse this."),)),
        Scenario("returned_by_panel", TO_PANEL + (
            Step(S.RETURNED, "chair", 5, "Return for more work: explore kinship options with "
                                         "the maternal grandmother first.", at_meeting=True),),
            panel=DECISION_MEETING, outcome="return"),
    ]),
    S.ENDORSED: (4, 1, [
        Scenario("endorsed", WRITTEN + (Step(S.ENDORSED, "tm", 2),), lag=(1, 5)),
        Scenario("deferred", TO_PANEL + (
            Step(S.ENDORSED, "chair", 5, "Deferred: the CAMHS assessment is due next week.",
                 at_meeting=True),), outcome="defer"),
    ]),
    S.LISTED: (8, 2, [
        Scenario("listed", TO_PANEL, lag=(1, 4)),
        Scenario("listed_for_permanence", TO_PANEL, route=IN_HOUSE, panel=PERMANENCE,
                 lag=(1, 4)),
        Scenario("listed_after_return", WRITTEN + (
            Step(S.RETURNED, "tm", 1, "Needs the education plan attached."),
            Step(S.SUBMITTED, "sw", 3), Step(S.ENDORSED, "tm", 1),
            Step(S.LISTED, "admin", 2)), lag=(1, 4)),
        Scenario("listed_after_deferral", TO_PANEL + (
            Step(S.ENDORSED, "chair", 5, "Deferred: the panel needs the health assessment.",
                 at_meeting=True),
            Step(S.LISTED, "admin", 3)), outcome="defer"),
        Scenario("listed_for_decision_meeting", TO_PANEL, panel=DECISION_MEETING, lag=(1, 4)),
    ]),
    S.AWAITING_DIRECTOR: (4, 1, [
        Scenario("awaiting_director", TO_PANEL + (NEEDS_DIRECTOR,),
                 outcome="approve_external", director="pending"),
    ]),
    S.DECLINED: (4, 1, [
        Scenario("declined_at_panel", TO_PANEL + (
            Step(S.DECLINED, "chair", 5, "Declined: with the extra support package the "
                                         "current carers can continue.", at_meeting=True),),
            outcome="decline"),
        Scenario("refused_by_director", TO_PANEL + (NEEDS_DIRECTOR, Step(
            S.DECLINED, "director", 2, "Refused: a step-down to in-house fostering has not "
                                       "been tried.")),
            outcome="approve_external", director="refused"),
    ]),
    # At least three, so the sourcing workbench has an emergency, a panel approval and a
    # Director's approval waiting in every county.
    S.READY_FOR_SOURCING: (5, 3, [
        Scenario("approved_in_house", TO_PANEL + (APPROVED_IN_HOUSE,), route=IN_HOUSE,
                 panel=PERMANENCE, outcome="approve_in_house"),
        Scenario("approved_by_director", TO_PANEL + (NEEDS_DIRECTOR, DIRECTOR_APPROVED),
                 outcome="approve_external", director="approved"),
        Scenario("emergency_approved", EMERGENCY_APPROVED, emergency=True, lag=(1, 1)),
    ]),
    S.SOURCING: (4, 1, [
        Scenario("sourcing", TO_PANEL + (NEEDS_DIRECTOR, DIRECTOR_APPROVED, SEARCH[0]),
                 outcome="approve_external", director="approved"),
        Scenario("sourcing_in_house", TO_PANEL + (APPROVED_IN_HOUSE, IN_HOUSE_SEARCH[0]),
                 route=IN_HOUSE, outcome="approve_in_house"),
        Scenario("emergency_sourcing", EMERGENCY_APPROVED + (EMERGENCY_SEARCH[0],),
                 emergency=True, lag=(1, 1)),
    ]),
    S.OPTIONS_READY: (4, 1, [
        Scenario("options_ready", TO_PANEL + (APPROVED_IFA, *SEARCH), outcome="approve_external"),
        Scenario("options_after_widening", TO_PANEL + (
            NEEDS_DIRECTOR, DIRECTOR_APPROVED, SEARCH[0],
            Step(S.READY_FOR_SOURCING, "commissioner", 4, "No offers within 20 miles; "
                                                          "widening the search."),
            *SEARCH), outcome="approve_external", director="approved"),
    ]),
    S.PROVIDER_CHOSEN: (3, 1, [
        Scenario("provider_chosen", TO_PANEL + (NEEDS_DIRECTOR, DIRECTOR_APPROVED, *SEARCH,
                                                CHOSEN),
                 outcome="approve_external", director="approved"),
    ]),
    S.PLACED: (10, 2, [
        Scenario("placed", TO_PANEL + (NEEDS_DIRECTOR, DIRECTOR_APPROVED, *SEARCH, CHOSEN,
                                       PLACED),
                 outcome="approve_external", director="approved"),
        Scenario("placed_in_house", TO_PANEL + (APPROVED_IN_HOUSE, *IN_HOUSE_SEARCH, CHOSEN,
                                                PLACED),
                 route=IN_HOUSE, outcome="approve_in_house"),
        Scenario("placed_in_emergency", EMERGENCY_APPROVED + (
            *EMERGENCY_SEARCH, Step(S.PLACED, "commissioner", 0)),
            emergency=True, lag=(3, 9)),
        Scenario("placed_with_ifa", TO_PANEL + (APPROVED_IFA, *SEARCH, CHOSEN, PLACED),
                 outcome="approve_external"),
        Scenario("placed_in_emergency_reviewed", EMERGENCY_APPROVED + (
            *EMERGENCY_SEARCH, Step(S.PLACED, "commissioner", 0)),
            route=IN_HOUSE, emergency=True, lag=(24, 40)),
    ]),
    S.WITHDRAWN: (4, 1, [
        Scenario("withdrawn_draft", (Step(S.DRAFT, "sw", 0), Step(
            S.WITHDRAWN, "sw", 3, "The child returned home to their mother under the care "
                                  "plan."))),
        Scenario("withdrawn_in_sourcing", TO_PANEL + (APPROVED_IN_HOUSE, IN_HOUSE_SEARCH[0],
            Step(S.WITHDRAWN, "sw", 6, "The current carers have agreed to continue with "
                                       "extra respite.")),
            route=IN_HOUSE, outcome="approve_in_house"),
        Scenario("withdrawn_endorsed", WRITTEN + (Step(S.ENDORSED, "tm", 2), Step(
            S.WITHDRAWN, "sw", 4, "A kinship carer has come forward; assessment under way.")))
    ]),
}

# sw.north's own referrals, in addition to the county's: something in every tray they see.
SW_NORTH_SCENARIOS = ("draft", "returned_by_manager", "submitted", "submitted", "listed",
                      "placed_in_house")


def scenario_named(name: str) -> Scenario:
    for _count, _minimum, scenarios in STORY.values():
        for scenario in scenarios:
            if scenario.name == name:
                return scenario
    raise KeyError(name)
