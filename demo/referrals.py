"""Create the planned referrals with their status history and risks."""

import datetime
import random

from demo.market import FOSTERING_EXCLUSIONS, HOME_EXCLUSIONS
from demo.people import Cast
from demo.scenarios import PANEL_CHAIRS
from demo.stories import ReferralPlan
from placements.models import Referral, ReferralRisk, ReferralStatus, ReferralStatusChange
from placements.reference import Suitability
from providers.reference import Risk

NEEDS = {
    "fostering": (
        (
            "Needs a warm, consistent family with carers experienced in trauma-informed "
            "care; attends a mainstream school and has weekly contact with birth family."
        ),
        (
            "Settled at school and needs carers who can manage contact and support routines "
            "around sleep and eating."
        ),
    ),
    "K2": (
        (
            "Family placements have broken down; needs a small children's home with high "
            "staff ratios and education support while a school place is found."
        ),
        (
            "Needs a therapeutic residential setting with waking night staff and a consistent "
            "key worker."
        ),
    ),
    "K3": (
        (
            "Preparing for independence; needs supported accommodation with daily key-work "
            "sessions and help with budgeting and college attendance."
        ),
    ),
}
RISK_DETAILS = {
    Risk.GOING_MISSING: "Missing overnight several times in the last three months.",
    Risk.CRIMINAL_EXPLOITATION: "Known to police as linked to a county-lines network.",
    Risk.SEXUAL_EXPLOITATION: "Subject of a multi-agency child exploitation plan.",
    Risk.SELF_HARM: "Self-harm when distressed; CAMHS safety plan in place.",
    Risk.DRUGS_ALCOHOL: "Regular cannabis use; engaging with the young people's drug service.",
    Risk.PHYSICAL_HARM: "Has assaulted staff when dysregulated; de-escalation plan in place.",
    Risk.FIRE_SETTING: "One incident of setting fire to bedding last year.",
}
TEENAGE_RISKS = tuple(RISK_DETAILS)
# Fire-setting rules out most of the market. Referrals waiting for sourcing keep to risks
# that the services take, so that the sourcing shortlist has options to show.
PLACEABLE_RISKS = tuple(
    r for r in TEENAGE_RISKS if r not in {*FOSTERING_EXCLUSIONS, *HOME_EXCLUSIONS}
)


def seed_referrals(*, plans: list[ReferralPlan], cast: Cast) -> None:
    rng = random.Random("demoshire:referrals")  # nosec B311 # seeded: the demo county must be the same every run; not security
    referrals = Referral.objects.bulk_create(
        [new_referral(plan=plan, rng=rng) for plan in plans]
    )
    for plan, referral in zip(plans, referrals, strict=True):
        plan.referral = referral
        # Creation and last-change times belong to the story, not to the seeding run.
        referral.created_at = plan.changes[0].at
        referral.updated_at = plan.changes[-1].at
    Referral.objects.bulk_update(referrals, ["created_at", "updated_at"])
    ReferralStatusChange.objects.bulk_create(
        [change for plan in plans for change in status_changes(plan=plan, cast=cast)]
    )
    ReferralRisk.objects.bulk_create(
        [risk for plan in plans for risk in risks(plan=plan, rng=rng)]
    )


def new_referral(*, plan: ReferralPlan, rng: random.Random) -> Referral:
    sought = plan.placement_type_sought
    kind = sought if sought in NEEDS else "fostering"
    emergency = plan.scenario.emergency
    return Referral(
        child=plan.child,
        status=plan.status,
        created_by=plan.child.social_worker,
        is_emergency=emergency,
        urgency=plan.urgency,
        placement_type_sought=sought,
        wanted_start_date=plan.wanted_start_date,
        must_be_within_20_miles=plan.must_be_within_20_miles,
        preferred_location=f"Near school, {plan.child.home_postcode.split()[0]} area",
        suitability_foster=suitability(kind == "fostering"),
        suitability_residential=suitability(kind == "K2"),
        suitability_supported=suitability(kind == "K3"),
        needs_summary=rng.choice(NEEDS[kind]),
        communication_and_language_needs="" if rng.random() < 0.7 else (
            "Speaks English and Polish; prefers written plans in simple language."),
        cultural_needs="" if rng.random() < 0.6 else (
            "Would like to keep attending their mosque on Fridays."),
        can_live_alongside="Younger children only with careful matching." if kind == "K2" else "",
        pets="Has a cat at the current placement." if rng.random() < 0.15 else "",
        additional_support="Weekly CAMHS sessions to continue." if rng.random() < 0.4 else "",
        # Emergencies are placed first and reviewed by panel within a week.
        retrospective_review_due=(
            plan.drafted_on + datetime.timedelta(days=7) if emergency else None
        ),
    )


def suitability(preferred: bool) -> str:
    return Suitability.PREFERRED if preferred else Suitability.NOT_SPECIFIED


def actor(*, role: str, plan: ReferralPlan, cast: Cast):
    if role == "sw":
        return plan.child.social_worker
    if role == "tm":
        return cast.team_manager(plan.child.team.code)
    if role == "chair":
        return cast.users[PANEL_CHAIRS[plan.scenario.panel]]
    return cast.users[role]


def status_changes(*, plan: ReferralPlan, cast: Cast) -> list[ReferralStatusChange]:
    return [
        ReferralStatusChange(
            referral=plan.referral,
            from_status=change.from_status,
            to_status=change.to_status,
            by=actor(role=change.actor, plan=plan, cast=cast),
            at=change.at,
            reason=change.reason,
        )
        for change in plan.changes
    ]


def risks(*, plan: ReferralPlan, rng: random.Random) -> list[ReferralRisk]:
    if plan.child.age_on(plan.drafted_on) < 11:
        return []
    pool = PLACEABLE_RISKS if plan.status == ReferralStatus.READY_FOR_SOURCING else TEENAGE_RISKS
    chosen = rng.sample(pool, k=rng.choice((0, 1, 1, 2, 3)))
    return [ReferralRisk(referral=plan.referral, risk=r, details=RISK_DETAILS[r]) for r in chosen]
