"""From an approved referral to a placement: the referral's side of sourcing.

Each function checks the actor, locks the referral, calls the providers' sourcing service
for the market side (request, invitations, quotes) and moves the referral through
ALLOWED_TRANSITIONS, all in one transaction:

ready for sourcing --start--> (draft request) --send--> sourcing --share options-->
options ready --social worker chooses--> provider chosen --officer confirms--> placed.
Closing a request without a placement sends the referral back to ready for sourcing.

Audit: each action writes one event on the referral (the child's ID with it), named
"referral.<action>": referral.sourcing_start, .sourcing_send, .options_share,
.offer_choose, .choice_reopen, .sourcing_close and .place; the status change among its
changes when there is one (placements.services.referrals._move). Confirming also writes
"placement.confirm" for the new placement and "placement.end" for the one it replaces.
The market's side (the request, invitations, quotes) is audited by
providers.services.sourcing.
"""

import datetime
import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.errors import Conflict, InvalidInput, TransitionNotAllowed
from core.roles import Role, has_role
from placements.models import (
    Placement,
    PlacementCost,
    Referral,
    ReferralSourcingRequest,
    ReferralStatus,
    UnmetDemand,
)
from placements.services.placements import (
    OVERLAP,
    PLACEMENT_AUDIT_FIELDS,
    close_placement,
    distance_from_home,
    earliest_change_date,
    is_out_of_authority,
    lock_current_placement,
    queue_ledger_refresh,
    require_no_overlap,
)
from placements.services.referrals import (
    _lock,
    _move,
    _require_reason,
    _require_status,
    _require_team_role,
)
from providers import geo, matching
from providers.models import Quote, Service, SourcingRequest
from providers.reference import PlacementType
from providers.services import sourcing as market

S = ReferralStatus
OPEN_REQUEST = (SourcingRequest.Status.DRAFT, SourcingRequest.Status.SENT)


def open_request_link(referral: Referral) -> ReferralSourcingRequest | None:
    """The referral's current (draft or sent) sourcing request, if any."""
    return (
        ReferralSourcingRequest.objects.select_related("sourcing_request", "chosen_quote")
        .filter(referral=referral, sourcing_request__status__in=OPEN_REQUEST)
        .first()
    )


def _require_open_link(referral: Referral) -> ReferralSourcingRequest:
    link = open_request_link(referral)
    if link is None:
        raise TransitionNotAllowed(
            "This referral has no open sourcing request.",
            current=referral.status, allowed=sorted(referral.allowed_moves()),
        )
    return link


def _require_team(by, referral: Referral, *, action: str) -> None:
    _require_team_role(
        by=by, child=referral.child, roles=(Role.SOCIAL_WORKER, Role.TEAM_MANAGER), action=action
    )


def anonymised_fields(referral: Referral, *, on: datetime.date) -> dict:
    """What a provider may know: no name, date of birth or address; the home's postcode
    district only."""
    child = referral.child
    return {
        "placement_type": referral.placement_type_sought,
        "age_years": child.age_on(max(on, referral.wanted_start_date)),
        "sex": child.sex,
        "risks": sorted(referral.risks.values_list("risk", flat=True)),
        "area": geo.outward_code(child.home_postcode),
        "max_distance_miles": geo.LOCAL_DISTANCE_MILES if referral.must_be_within_20_miles else None,
        "urgency": referral.urgency,
        "wanted_start_date": max(referral.wanted_start_date, on),
    }


def _date_forms(day: datetime.date) -> list[str]:
    return [f"{day:%d/%m/%Y}", f"{day.day}/{day.month}/{day.year}", day.isoformat(),
            f"{day.day} {day:%B %Y}", f"{day.day} {day:%b %Y}"]


def _refuse_identifying_details(text: str, *, child) -> None:
    """Providers must not learn who the child is. Names are matched as written
    (capitalised), so a child called Will or Hope does not stop "he will need"; the full
    postcode, date of birth and local child ID are refused in any case."""
    found = [name for name in {child.first_name, child.last_name}
             if len(name) >= 2 and re.search(rf"\b{re.escape(name)}\b", text)]
    compact = re.sub(r"\s+", "", text).upper()
    postcode = re.sub(r"\s+", "", child.home_postcode).upper()
    if postcode and len(postcode) > 4 and postcode in compact:
        found.append("home postcode")
    if any(form.lower() in text.lower() for form in _date_forms(child.date_of_birth)):
        found.append("date of birth")
    if child.local_child_id and child.local_child_id.upper() in text.upper():
        found.append("local child ID")
    if found:
        raise InvalidInput(
            f"The summary for providers identifies the child ({', '.join(found)}): remove it.",
            field="needs_summary",
        )


@transaction.atomic
def sourcing_start(
    *,
    by,
    referral: Referral,
    needs: list[str] = (),
    needs_summary: str = "",
    placement_type: str | None = None,
    max_distance_miles: int | None = None,
    planned_end_date: datetime.date | None = None,
    use_referral_distance: bool = True,
) -> SourcingRequest:
    """Open a draft sourcing request for a referral that is ready for sourcing (approved,
    or an emergency). The officer checks the anonymised summary before it goes anywhere."""
    market.require_commissioner(by, action="start sourcing")
    referral = _lock(referral)
    _require_status(
        referral, frozenset({S.READY_FOR_SOURCING}),
        "Sourcing can start only for a referral that is ready for sourcing.",
    )
    if open_request_link(referral) is not None:
        raise Conflict("This referral already has an open sourcing request.")
    needs_summary = (needs_summary or "").strip()
    _refuse_identifying_details(needs_summary, child=referral.child)
    fields = anonymised_fields(referral, on=timezone.localdate())
    fields.update(needs=list(dict.fromkeys(needs)), needs_summary=needs_summary,
                  planned_end_date=planned_end_date)
    if placement_type:
        if placement_type not in PlacementType.values:
            raise InvalidInput("Choose a placement type.", field="placement_type")
        fields["placement_type"] = placement_type
    if not use_referral_distance:
        fields["max_distance_miles"] = max_distance_miles
    request = market.sourcing_request_create(by=by, fields=fields, child=referral.child_id)
    ReferralSourcingRequest.objects.create(referral=referral, sourcing_request=request)
    audit.record(by, "referral.sourcing_start", referral,
                 changes={"sourcing_request": [None, request.pk]})
    return request


@transaction.atomic
def sourcing_send(
    *, by, referral: Referral, service_ids, off_framework_reasons: dict | None = None
) -> SourcingRequest:
    """Send the draft request to the chosen services; the referral is now sourcing."""
    market.require_commissioner(by, action="send a sourcing request")
    referral = _lock(referral)
    _require_status(referral, frozenset({S.READY_FOR_SOURCING}),
                    "Only a referral that is ready for sourcing can be sent to providers.")
    link = _require_open_link(referral)
    request = market.sourcing_request_send(
        by=by, request=link.sourcing_request, service_ids=service_ids,
        off_framework_reasons=off_framework_reasons,
    )
    _move(referral, to=S.SOURCING, by=by, action="referral.sourcing_send",
          reason=f"Request {request.reference} sent to "
          f"{request.invitations.count()} service(s)", notify=False)
    return request


@transaction.atomic
def options_share(*, by, referral: Referral) -> Referral:
    """Tell the social worker the offers are ready to choose from."""
    market.require_commissioner(by, action="share options")
    referral = _lock(referral)
    _require_status(referral, frozenset({S.SOURCING}),
                    "Options can be shared only while sourcing.")
    link = _require_open_link(referral)
    viable = link.sourcing_request.quotes.filter(status__in=matching.VIABLE_QUOTE_STATUSES)
    if not viable.exists():
        raise InvalidInput("Record at least one offer before sharing options.")
    return _move(referral, to=S.OPTIONS_READY, by=by, action="referral.options_share",
                 reason=f"{viable.count()} offer(s) ready to compare")


def _viable_quote_of(link: ReferralSourcingRequest, quote: Quote) -> Quote:
    if quote.sourcing_request_id != link.sourcing_request_id:
        raise InvalidInput("Choose one of this referral's offers.", field="quote")
    quote = Quote.objects.select_related("service__provider").get(pk=quote.pk)
    if quote.status not in matching.VIABLE_QUOTE_STATUSES:
        raise InvalidInput(
            f"The offer from {quote.service} is '{quote.get_status_display()}' and cannot be "
            "chosen.", field="quote",
        )
    return quote


@transaction.atomic
def offer_choose(*, by, referral: Referral, quote: Quote, reason: str) -> Referral:
    """The social worker chooses an offer, with a reason; an officer confirms it."""
    referral = _lock(referral)
    _require_team(by, referral, action="choose an offer for")
    reason = _require_reason(reason, action="choose an offer for")
    _require_status(referral, frozenset({S.OPTIONS_READY}),
                    "An offer can be chosen only when options are ready.")
    link = _require_open_link(referral)
    quote = _viable_quote_of(link, quote)
    chosen_before = link.chosen_quote_id
    link.chosen_quote, link.chosen_by, link.chosen_at = quote, by, timezone.now()
    link.choice_reason = reason
    link.save(update_fields=["chosen_quote", "chosen_by", "chosen_at", "choice_reason"])
    return _move(referral, to=S.PROVIDER_CHOSEN, by=by, action="referral.offer_choose",
                 reason=f"Chose {quote.service}: {reason}",
                 changes={"chosen_quote": [chosen_before, quote.pk]})


@transaction.atomic
def choice_reopen(*, by, referral: Referral, reason: str) -> Referral:
    """Back to the options (the provider withdrew, or the choice cannot be confirmed)."""
    if not has_role(by, Role.COMMISSIONING_OFFICER):
        _require_team(by, referral, action="reopen the choice for")
    reason = _require_reason(reason, action="reopen the choice for")
    referral = _lock(referral)
    _require_status(referral, frozenset({S.PROVIDER_CHOSEN}), "No offer has been chosen.")
    link = _require_open_link(referral)
    chosen_before = link.chosen_quote_id
    link.chosen_quote, link.chosen_by, link.chosen_at, link.choice_reason = None, None, None, ""
    link.save(update_fields=["chosen_quote", "chosen_by", "chosen_at", "choice_reason"])
    return _move(referral, to=S.OPTIONS_READY, by=by, action="referral.choice_reopen",
                 reason=reason, changes={"chosen_quote": [chosen_before, None]})


@transaction.atomic
def sourcing_close_without_placement(*, by, referral: Referral, reason: str) -> Referral:
    """Close the open request with no placement (nothing suitable came back). No offer at
    all is recorded as unmet demand; the referral goes back to ready for sourcing."""
    market.require_commissioner(by, action="close a sourcing request")
    reason = _require_reason(reason, action="close the sourcing request for")
    referral = _lock(referral)
    _require_status(referral, frozenset({S.READY_FOR_SOURCING, S.SOURCING, S.OPTIONS_READY}),
                    "A request can be closed only before an offer is chosen.")
    link = _require_open_link(referral)
    request = link.sourcing_request
    offers = request.quotes.exclude(status=Quote.Status.PROVIDER_DECLINED)
    market.sourcing_request_close(by=by, request=request, reason=reason)
    changes = {"sourcing_request": [request.pk, None]}
    if request.status == SourcingRequest.Status.SENT and not offers.exists():
        _, created = UnmetDemand.objects.get_or_create(
            referral=referral, kind=UnmetDemand.Kind.NO_OFFER,
            defaults={"sought": request.placement_type, "obtained": ""},
        )
        if created:
            changes["unmet_demand"] = [None, [UnmetDemand.Kind.NO_OFFER]]
    if referral.status != S.READY_FOR_SOURCING:
        _move(referral, to=S.READY_FOR_SOURCING, by=by, action="referral.sourcing_close",
              reason=reason, notify=False, changes=changes)
    else:
        audit.record(by, "referral.sourcing_close", referral, changes=changes, reason=reason)
    return referral


# --- Confirmation: the chosen offer becomes a placement -----------------------------------


def _end_current_placement(
    referral: Referral, *, by, start: datetime.date, end_reason: str
) -> None:
    current = lock_current_placement(referral.child)
    if current is None:
        return
    if not end_reason:
        raise InvalidInput(
            "The child has a current placement: choose the reason it ends.", field="end_reason"
        )
    if current.start_date >= start:
        raise InvalidInput(
            f"The new placement must start after the current one began "
            f"({current.start_date:%d %B %Y}).", field="start_date",
        )
    close_placement(current, by=by, end_date=start, reason=end_reason)


def _require_start_within_bounds(start: datetime.date, *, request: SourcingRequest) -> None:
    """Settled weeks stay settled: a placement may be back-dated only as far as any other
    change (PLACEMENT_CHANGE_BACKDATE_DAYS), and must start by its planned end."""
    earliest = earliest_change_date()
    if start < earliest:
        raise InvalidInput(
            f"The start date cannot be before {earliest:%d %B %Y}: earlier weeks are settled.",
            field="start_date",
        )
    if request.planned_end_date is not None and start > request.planned_end_date:
        raise InvalidInput(
            f"The start date must be on or before the planned end "
            f"({request.planned_end_date:%d %B %Y}).", field="start_date",
        )


def _record_unmet_demand(referral: Referral, placement: Placement) -> list[str]:
    """The kinds of unmet demand this placement newly records."""
    recorded = []
    if placement.placement_type != referral.placement_type_sought:
        _, created = UnmetDemand.objects.get_or_create(
            referral=referral, kind=UnmetDemand.Kind.TYPE_DIFFERS,
            defaults={"sought": referral.placement_type_sought, "obtained": placement.placement_type},
        )
        recorded += [UnmetDemand.Kind.TYPE_DIFFERS] if created else []
    distance = placement.distance_from_home_miles
    if (referral.must_be_within_20_miles and distance is not None
            and distance > geo.LOCAL_DISTANCE_MILES):
        _, created = UnmetDemand.objects.get_or_create(
            referral=referral, kind=UnmetDemand.Kind.TOO_FAR,
            defaults={"sought": f"within {geo.LOCAL_DISTANCE_MILES} miles",
                      "obtained": f"{distance} miles"},
        )
        recorded += [UnmetDemand.Kind.TOO_FAR] if created else []
    return recorded


@transaction.atomic
def placement_confirm(
    *,
    by,
    referral: Referral,
    quote: Quote | None = None,
    start_date: datetime.date | None = None,
    apply_discount: bool = True,
    end_reason: str = "",
) -> Placement:
    """Confirm the social worker's choice, all or nothing: accept that quote (the others
    are declined and every provider hears the outcome), apply any discount, create the
    placement with its first weekly cost from the agreed price, end the child's current
    placement the day the new one starts, record unmet demand, and mark the referral
    placed. `quote`, when given, must be the chosen one. The referral row lock, the
    request row lock and the database's one accepted quote per request and one open
    placement per child make a double confirmation fail with a conflict, never a second
    placement."""
    market.require_commissioner(by, action="confirm a placement")
    referral = _lock(referral)
    _require_status(referral, frozenset({S.PROVIDER_CHOSEN}),
                    "Only a referral with a chosen offer can be placed.")
    link = _require_open_link(referral)
    request = link.sourcing_request
    if quote is not None and quote.pk != link.chosen_quote_id:
        raise Conflict(
            f"The social worker chose another offer ({link.chosen_quote.service}); reopen "
            "the choice to place with a different provider."
        )
    quote = _viable_quote_of(link, link.chosen_quote)
    start = start_date or quote.available_from or request.wanted_start_date
    _require_start_within_bounds(start, request=request)
    quote = market.quote_accept(by=by, quote=quote, apply_discount=apply_discount, start_date=start)
    _end_current_placement(referral, by=by, start=start, end_reason=end_reason)
    require_no_overlap(referral.child, start=start)
    service = quote.service
    try:
        with transaction.atomic():
            placement = Placement.objects.create(
                child=referral.child, referral=referral, service=service, quote=quote,
                placement_type=request.placement_type,
                place_provider=service.provider.place_provider, on_framework=quote.on_framework,
                start_date=start, planned_end_date=request.planned_end_date,
                distance_from_home_miles=distance_from_home(referral.child, service),
                out_of_authority=is_out_of_authority(service),
                created_by=by,
            )
    except IntegrityError:
        raise Conflict(OVERLAP) from None
    cost = PlacementCost.objects.create(
        placement=placement, effective_from=start, weekly_amount=market.weekly_price_after_discount(quote),
        reason=PlacementCost.Reason.INITIAL, note=_cost_note(quote), created_by=by,
    )
    audit.record(by, "placement.confirm", placement, changes={
        **audit.created(placement, PLACEMENT_AUDIT_FIELDS),
        "weekly_amount": [None, cost.weekly_amount],
    })
    unmet = _record_unmet_demand(referral, placement)
    # The home has one place fewer; matching looks at vacancies.
    Service.objects.filter(pk=service.pk, vacancies__gt=0).update(vacancies=F("vacancies") - 1)
    # The old placement's end and the new one's cost change the ledger from the start.
    queue_ledger_refresh(first_day=start, last_day=None)
    placed = {"placement": [None, placement.pk]}
    if unmet:
        placed["unmet_demand"] = [None, unmet]
    _move(referral, to=S.PLACED, by=by, action="referral.place", changes=placed,
          reason=f"Placed with {service} from {start:%d %B %Y} (quote {quote.pk})")
    return placement


def _cost_note(quote: Quote) -> str:
    note = f"Agreed £{quote.agreed_weekly_price:,.2f} a week (quoted £{quote.quoted_weekly_price:,.2f})"
    if quote.discount is not None:
        note += f", less {quote.discount.percentage.normalize():f}% {quote.discount.description}"
    return note + "."
