"""Every change to a sourcing request, its invitations and its quotes.

A sourcing request (states in SourcingRequest's docstring) is the anonymised referral-out.
Placements' sourcing services call these inside their own transactions and move the
referral on; these functions never know about referrals. Each checks the actor, locks the
request row, refuses a move its state does not allow, and writes an audit event for every
row it changes (request, invitation, quote) in the same transaction. The events name the
child through providers.services.audit_child, which the placements app fills in.
"""

import datetime
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import audit, outbox
from core.errors import ActionNotPermitted, InvalidInput, TransitionNotAllowed
from core.roles import Role, has_role
from providers import matching
from providers.models import (
    NegotiationStep,
    Quote,
    Service,
    SourcingInvitation,
    SourcingRequest,
)
from providers.services import audit_child
from providers.tasks import send_provider_emails

R = SourcingRequest.Status
Q_ = Quote.Status
PENCE = Decimal("0.01")
# What each request state allows.
OPEN_REQUEST_STATUSES = frozenset({R.DRAFT, R.SENT})
IN_HOUSE_REASON = "The council's own provision."
# What the audit log keeps of each record.
INVITATION_FIELDS = ("sourcing_request", "service", "status", "on_framework",
                     "off_framework_reason")
QUOTE_FIELDS = ("sourcing_request", "service", "status", "quoted_weekly_price", "inclusions",
                "available_from", "on_framework", "expected_weeks", "decline_reason")
AGREEMENT_FIELDS = ("status", "agreed_weekly_price", "negotiated_saving", "agreed_by",
                    "agreed_at", "discount", "decline_reason")
ENDING_FIELDS = ("status", "closed_at", "outcome_note")


def tell_providers(*, kind: str, request_id: int, service_ids=(), invitation_ids=()) -> None:
    """E-mail providers once the change is committed (core.outbox): a rolled-back change
    sends nothing, and a broker that is down delays the e-mails, never loses them. One
    e-mail per service invited, so one refused address holds up nobody else's."""
    for service_id in service_ids:
        outbox.enqueue(send_provider_emails, kind=kind, request_id=request_id,
                       service_ids=[service_id])
    for invitation_id in invitation_ids:
        outbox.enqueue(send_provider_emails, kind=kind, request_id=request_id,
                       invitation_ids=[invitation_id])


def require_commissioner(by, *, action: str) -> None:
    if not has_role(by, Role.COMMISSIONING_OFFICER):
        raise ActionNotPermitted(f"Only a commissioning officer can {action}.")


def _record(by, action: str, obj, *, request: SourcingRequest, changes=None, reason: str = ""):
    """One audit event about `obj`, a request or one of its rows, naming the child the
    request is for."""
    audit.record(by, action, obj, changes=changes, reason=reason,
                 child=audit_child.child_of_request(request.pk))


def _lock(request: SourcingRequest) -> SourcingRequest:
    return SourcingRequest.objects.select_for_update().get(pk=request.pk)


def _require_request_status(request: SourcingRequest, statuses, message: str) -> None:
    if request.status not in statuses:
        raise TransitionNotAllowed(
            message, current=request.status, allowed=sorted(OPEN_REQUEST_STATUSES - {request.status})
        )


# No placement costs a million pounds a week; the cap also keeps a year's saving within
# the database's money columns.
MAX_WEEKLY_PRICE = Decimal("1000000.00")
REASON_MAX_LENGTH = 300


def _money(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(value)
    except Exception:
        raise InvalidInput("Enter a weekly price in pounds, like 875.00.", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("Enter a weekly price of £0 or more.", field=field)
    # Compare before rounding too: a huge number cannot be rounded to pence at all.
    if amount > MAX_WEEKLY_PRICE or amount.quantize(PENCE, ROUND_HALF_UP) > MAX_WEEKLY_PRICE:
        raise InvalidInput(f"Enter a weekly price of at most £{MAX_WEEKLY_PRICE:,.2f}.", field=field)
    return amount.quantize(PENCE, rounding=ROUND_HALF_UP)


def _reason(reason: str, *, field: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(message, field=field)
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            f"Keep the reason to {REASON_MAX_LENGTH} characters or fewer.", field=field
        )
    return reason


# --- The request ------------------------------------------------------------------------

REQUEST_FIELDS = frozenset({
    "placement_type", "age_years", "sex", "needs", "risks", "needs_summary", "area",
    "max_distance_miles", "urgency", "wanted_start_date", "planned_end_date",
})


@transaction.atomic
def sourcing_request_create(*, by, fields: dict, child: int | None = None) -> SourcingRequest:
    """A draft request. Its reference (SR-<year>-<number>) comes from its id, so two
    officers starting requests at once never collide. `child` (an id) is for the audit
    event only: the caller knows whom the request is for, and nothing links it yet."""
    require_commissioner(by, action="start a sourcing request")
    unknown = set(fields) - REQUEST_FIELDS
    if unknown:
        raise InvalidInput(f"Unknown sourcing request fields: {', '.join(sorted(unknown))}.")
    planned_end = fields.get("planned_end_date")
    if planned_end and planned_end < fields["wanted_start_date"]:
        raise InvalidInput(
            "The planned end date must be on or after the wanted start date.",
            field="planned_end_date",
        )
    request = SourcingRequest.objects.create(
        reference=f"new-{uuid.uuid4().hex[:16]}", created_by=by, status=R.DRAFT, **fields
    )
    request.reference = f"SR-{timezone.localdate().year}-{request.pk:05d}"
    request.save(update_fields=["reference"])
    changes = audit.created(request, ("reference", "status", *sorted(fields)))
    audit.record(by, "sourcing_request.create", request, changes=changes, child=child)
    return request


def response_deadline(*, urgency: str, sent_at: datetime.datetime) -> datetime.datetime:
    return sent_at + datetime.timedelta(hours=settings.SOURCING_RESPONSE_HOURS[urgency])


@transaction.atomic
def sourcing_request_send(
    *, by, request: SourcingRequest, service_ids, off_framework_reasons: dict | None = None
) -> SourcingRequest:
    """Send a draft request to the chosen services: records what went to whom, sets the
    response deadline from the urgency and e-mails each provider on commit. A service
    that is not on the framework for this type and year needs a recorded reason."""
    require_commissioner(by, action="send a sourcing request")
    request = _lock(request)
    _require_request_status(request, {R.DRAFT}, "Only a draft sourcing request can be sent.")
    try:
        service_ids = list(dict.fromkeys(int(pk) for pk in service_ids))
    except (TypeError, ValueError):
        raise InvalidInput("Choose services from the list.", field="services") from None
    if not service_ids:
        raise InvalidInput("Select at least one service to send the request to.", field="services")
    now = timezone.now()
    invitations = _invitations(
        request=request, service_ids=service_ids, reasons=off_framework_reasons or {}, at=now
    )
    sending = ("status", "sent_at", "response_deadline")
    before = audit.snapshot(request, sending)
    request.status = R.SENT
    request.sent_at = now
    request.response_deadline = response_deadline(urgency=request.urgency, sent_at=now)
    request.save(update_fields=list(sending))
    _record(by, "sourcing_request.send", request, request=request,
            changes=audit.diff(before, audit.snapshot(request, sending)))
    for invitation in SourcingInvitation.objects.bulk_create(invitations):
        _record_invited(by, invitation, request=request)
    tell_providers(kind="request", request_id=request.pk, service_ids=service_ids)
    return request


def _record_invited(by, invitation: SourcingInvitation, *, request: SourcingRequest) -> None:
    _record(by, "invitation.add", invitation, request=request,
            reason=invitation.off_framework_reason,
            changes=audit.created(invitation, INVITATION_FIELDS))


def _invitations(*, request, service_ids, reasons: dict, at) -> list[SourcingInvitation]:
    evaluated = matching.evaluate_services(request=request, service_ids=service_ids)
    missing = set(service_ids) - set(evaluated)
    if missing:
        raise InvalidInput("A service chosen is not active or does not exist.", field="services")
    invitations = []
    for pk in service_ids:
        candidate = evaluated[pk]
        reason = (reasons.get(pk) or reasons.get(str(pk)) or "").strip()
        if len(reason) > REASON_MAX_LENGTH:
            raise InvalidInput(
                f"Keep the reason for inviting {candidate.service} to {REASON_MAX_LENGTH} "
                "characters or fewer.", field="off_framework_reason",
            )
        if candidate.in_house and not candidate.on_framework:
            reason = reason or IN_HOUSE_REASON
        if not candidate.on_framework and not reason:
            raise InvalidInput(
                f"Give a reason for inviting {candidate.service}, which is not on a framework "
                f"for {request.placement_type} (for example, no framework home matched).",
                field="off_framework_reason",
            )
        invitations.append(SourcingInvitation(
            sourcing_request=request, service=candidate.service, on_framework=candidate.on_framework,
            off_framework_reason="" if candidate.on_framework else reason,
            match_reasons=candidate.reasons + [f"Does not meet: {f}" for f in candidate.failures],
            sent_at=at,
        ))
    return invitations


@transaction.atomic
def invitation_add(
    *, by, request: SourcingRequest, service: Service, off_framework_reason: str = ""
) -> SourcingInvitation:
    """Invite one more service to a request already sent (e.g. after the first replies)."""
    require_commissioner(by, action="invite a provider")
    request = _lock(request)
    _require_request_status(request, {R.SENT}, "Providers can be added only to a sent request.")
    if request.invitations.filter(service=service).exists():
        raise InvalidInput(f"{service} has already been invited.", field="service")
    now = timezone.now()
    (invitation,) = _invitations(
        request=request, service_ids=[service.pk], reasons={service.pk: off_framework_reason},
        at=now,
    )
    invitation.save()
    _record_invited(by, invitation, request=request)
    if request.response_deadline is None or request.response_deadline <= now:
        # A provider asked after the deadline gets the usual time to answer, rather than an
        # e-mail asking for a reply by a time already gone and a 'no response' mark at the
        # next chase run.
        before = audit.snapshot(request, ("response_deadline",))
        request.response_deadline = response_deadline(urgency=request.urgency, sent_at=now)
        request.save(update_fields=["response_deadline"])
        _record(by, "sourcing_request.extend", request, request=request,
                reason="A provider was invited after the response deadline.",
                changes=audit.diff(before, audit.snapshot(request, before)))
    tell_providers(kind="request", request_id=request.pk, service_ids=[service.pk])
    return invitation


# --- Answers from providers -------------------------------------------------------------


def _invitation_for(request: SourcingRequest, service: Service) -> SourcingInvitation:
    invitation = request.invitations.filter(service=service).first()
    if invitation is None:
        raise InvalidInput(
            f"{service} was not sent this request; invite it before recording its answer.",
            field="service",
        )
    if request.quotes.filter(service=service).exists():
        raise InvalidInput(f"An answer from {service} is already recorded.", field="service")
    return invitation


@transaction.atomic
def quote_record(
    *,
    by,
    request: SourcingRequest,
    service: Service,
    quoted_weekly_price,
    inclusions: str = "",
    available_from: datetime.date | None = None,
) -> Quote:
    """A provider's offer: the price first quoted, what it includes, when it can start."""
    require_commissioner(by, action="record a quote")
    request = _lock(request)
    _require_request_status(request, {R.SENT}, "Offers can be recorded only on a sent request.")
    invitation = _invitation_for(request, service)
    start = available_from or request.wanted_start_date
    quote = Quote.objects.create(
        sourcing_request=request, service=service, status=Q_.OFFERED,
        quoted_weekly_price=_money(quoted_weekly_price, field="quoted_weekly_price"),
        inclusions=(inclusions or "").strip(), available_from=available_from,
        on_framework=invitation.on_framework,
        expected_weeks=matching.expected_weeks(start=start, planned_end=request.planned_end_date),
        recorded_by=by,
    )
    _record(by, "quote.record", quote, request=request,
            changes=audit.created(quote, QUOTE_FIELDS))
    _mark_responded(invitation, by=by, request=request)
    return quote


@transaction.atomic
def quote_record_declined(*, by, request: SourcingRequest, service: Service, reason: str) -> Quote:
    """A provider that will not offer, and why (evidence for sufficiency planning)."""
    require_commissioner(by, action="record a provider's answer")
    reason = _reason(reason, field="decline_reason", message="Enter the provider's reason.")
    request = _lock(request)
    _require_request_status(request, {R.SENT}, "Answers can be recorded only on a sent request.")
    invitation = _invitation_for(request, service)
    quote = Quote.objects.create(
        sourcing_request=request, service=service, status=Q_.PROVIDER_DECLINED,
        decline_reason=reason, on_framework=invitation.on_framework, recorded_by=by,
    )
    _record(by, "quote.record_declined", quote, request=request, reason=reason,
            changes=audit.created(quote, QUOTE_FIELDS))
    _mark_responded(invitation, by=by, request=request)
    return quote


def _mark_responded(invitation: SourcingInvitation, *, by, request: SourcingRequest) -> None:
    before = audit.snapshot(invitation, ("status",))
    invitation.status = SourcingInvitation.Status.RESPONDED
    invitation.save(update_fields=["status"])
    _record(by, "invitation.respond", invitation, request=request,
            changes=audit.diff(before, audit.snapshot(invitation, before)))


def _lock_quote(quote: Quote) -> tuple[SourcingRequest, Quote]:
    """Lock the request first (every writer does), then read the quote fresh."""
    request = _lock(quote.sourcing_request)
    return request, Quote.objects.select_related("service__provider").get(pk=quote.pk)


def _require_viable(quote: Quote, request: SourcingRequest, *, action: str) -> None:
    _require_request_status(request, {R.SENT}, f"A quote can be {action} only while its request is open.")
    if quote.status not in matching.VIABLE_QUOTE_STATUSES:
        raise TransitionNotAllowed(
            f"A quote that is '{quote.get_status_display()}' cannot be {action}.",
            current=quote.status, allowed=sorted(matching.VIABLE_QUOTE_STATUSES),
        )


@transaction.atomic
def quote_negotiate(*, by, quote: Quote, kind: str, weekly_price, note: str = "") -> NegotiationStep:
    """Log one step of the negotiation. An agreed price sets the quote's agreed weekly
    price and its saving: (quoted − agreed) × expected weeks."""
    require_commissioner(by, action="negotiate a quote")
    if kind not in NegotiationStep.Kind.values:
        raise InvalidInput("Choose what this step is.", field="kind")
    request, quote = _lock_quote(quote)
    _require_viable(quote, request, action="negotiated")
    price = _money(weekly_price, field="weekly_price")
    if price > quote.quoted_weekly_price:
        raise InvalidInput(
            f"Enter a price no higher than the £{quote.quoted_weekly_price:,.2f} first quoted; "
            "a dearer offer is a new quote.",
            field="weekly_price",
        )
    step = NegotiationStep.objects.create(
        quote=quote, kind=kind, weekly_price=price, note=(note or "").strip(), recorded_by=by
    )
    before = audit.snapshot(quote, AGREEMENT_FIELDS)
    quote.status = Q_.NEGOTIATING
    fields = ["status"]
    if kind == NegotiationStep.Kind.AGREED:
        _agree(quote, price=price, by=by)
        fields += ["agreed_weekly_price", "negotiated_saving", "agreed_by", "agreed_at"]
    quote.save(update_fields=fields)
    # The event is the quote's, so one search by quote shows its whole negotiation.
    changes = audit.diff(before, audit.snapshot(quote, before))
    changes.update(negotiation_step=[None, step.pk], step_kind=[None, step.kind],
                   step_weekly_price=[None, step.weekly_price])
    _record(by, "quote.negotiate", quote, request=request, changes=changes, reason=step.note)
    return step


def _agree(quote: Quote, *, price: Decimal, by) -> None:
    quote.agreed_weekly_price = price
    quote.negotiated_saving = matching.negotiated_saving(
        quoted=quote.quoted_weekly_price, agreed=price, weeks=quote.expected_weeks
    )
    quote.agreed_by = by
    quote.agreed_at = timezone.now()


@transaction.atomic
def quote_decline(*, by, quote: Quote, reason: str) -> Quote:
    """We will not take this offer (too dear, unsuitable); the provider hears at close."""
    require_commissioner(by, action="decline a quote")
    reason = _reason(reason, field="reason", message="Enter why the offer is not taken up.")
    return _set_aside(quote, by=by, status=Q_.DECLINED, reason=reason, action="declined")


@transaction.atomic
def quote_withdraw(*, by, quote: Quote, reason: str) -> Quote:
    """The provider took its offer back (the place went to another child)."""
    require_commissioner(by, action="record a withdrawn quote")
    reason = _reason(reason, field="reason", message="Enter why the provider withdrew.")
    return _set_aside(quote, by=by, status=Q_.WITHDRAWN, reason=reason, action="withdrawn")


SET_ASIDE_ACTIONS = {Q_.DECLINED: "quote.decline", Q_.WITHDRAWN: "quote.withdraw"}


def _set_aside(quote: Quote, *, by, status: str, reason: str, action: str) -> Quote:
    """A live offer that will not be taken, and why: declined by us or withdrawn."""
    request, quote = _lock_quote(quote)
    _require_viable(quote, request, action=action)
    before = audit.snapshot(quote, ("status", "decline_reason"))
    quote.status = status
    quote.decline_reason = reason
    quote.save(update_fields=["status", "decline_reason"])
    _record(by, SET_ASIDE_ACTIONS[status], quote, request=request, reason=reason,
            changes=audit.diff(before, audit.snapshot(quote, before)))
    return quote


# --- Closing ----------------------------------------------------------------------------


def _close(request: SourcingRequest, *, by, note: str, except_quote: Quote | None = None) -> None:
    """Decline every other live offer, mark silent providers as not answering, close the
    request and tell every invited provider the outcome. The rows are read before they
    are changed, to audit each; the request's row lock keeps them as read."""
    others = request.quotes.filter(status__in=matching.VIABLE_QUOTE_STATUSES)
    if except_quote is not None:
        others = others.exclude(pk=except_quote.pk)
    reason = ("Another offer was chosen." if except_quote
              else "The request closed without a placement.")
    _decline_all(list(others), by=by, request=request, reason=reason)
    silent = request.invitations.filter(status=SourcingInvitation.Status.SENT)
    _mark_no_response(list(silent), by=by, request=request)
    _end(request, by=by, status=R.CLOSED, note=note)
    tell_providers(kind="outcome", request_id=request.pk,
                   invitation_ids=list(request.invitations.values_list("pk", flat=True)))


def _decline_all(quotes: list[Quote], *, by, request: SourcingRequest, reason: str) -> None:
    Quote.objects.filter(pk__in=[q.pk for q in quotes]).update(
        status=Q_.DECLINED, decline_reason=reason
    )
    for quote in quotes:
        _record(by, "quote.decline", quote, request=request, reason=reason, changes={
            "status": [quote.status, Q_.DECLINED], "decline_reason": [quote.decline_reason, reason],
        })


def _mark_no_response(invitations: list[SourcingInvitation], *, by, request) -> None:
    no_response = SourcingInvitation.Status.NO_RESPONSE
    SourcingInvitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
        status=no_response
    )
    for invitation in invitations:
        _record(by, "invitation.no_response", invitation, request=request,
                reason="No answer before the request closed.",
                changes={"status": [invitation.status, no_response]})


END_ACTIONS = {R.CLOSED: "sourcing_request.close", R.CANCELLED: "sourcing_request.cancel"}


def _end(request: SourcingRequest, *, by, status: str, note: str) -> None:
    before = audit.snapshot(request, ENDING_FIELDS)
    request.status = status
    request.closed_at = timezone.now()
    request.outcome_note = note
    request.save(update_fields=list(ENDING_FIELDS))
    _record(by, END_ACTIONS[status], request, request=request, reason=note,
            changes=audit.diff(before, audit.snapshot(request, ENDING_FIELDS)))


@transaction.atomic
def quote_accept(*, by, quote: Quote, apply_discount: bool = True, start_date=None) -> Quote:
    """Accept one offer and close its request: the others are declined, any discount the
    provider offers on the start date is applied, and every provider hears the outcome.
    Called by the placements service that creates the placement, in its transaction.
    The request row lock plus the one-accepted-quote constraint mean two officers
    accepting at once cannot both win."""
    require_commissioner(by, action="accept a quote")
    request, quote = _lock_quote(quote)
    _require_viable(quote, request, action="accepted")
    before = audit.snapshot(quote, AGREEMENT_FIELDS)
    if quote.agreed_weekly_price is None:
        _agree(quote, price=quote.quoted_weekly_price, by=by)
    day = start_date or quote.available_from or request.wanted_start_date
    quote.discount = (
        matching.discount_for(provider=quote.service.provider, day=day) if apply_discount else None
    )
    quote.status = Q_.ACCEPTED
    quote.save(update_fields=[
        "status", "agreed_weekly_price", "negotiated_saving", "agreed_by", "agreed_at", "discount",
    ])
    _record(by, "quote.accept", quote, request=request,
            changes=audit.diff(before, audit.snapshot(quote, before)))
    _close(request, by=by, note=f"Placed with {quote.service}.", except_quote=quote)
    return quote


def weekly_price_after_discount(quote: Quote) -> Decimal:
    if quote.discount is None:
        return quote.agreed_weekly_price
    factor = (Decimal(100) - quote.discount.percentage) / Decimal(100)
    return (quote.agreed_weekly_price * factor).quantize(PENCE, rounding=ROUND_HALF_UP)


def sourcing_request_abandon(*, by, request: SourcingRequest, reason: str) -> None:
    """The need went away (the referral was withdrawn): cancel a draft, or close a sent
    request and tell the providers. Called only by the placements service that withdraws
    the referral, which has checked the actor (`by`, for the audit), inside its
    transaction."""
    request = _lock(request)
    if request.status == R.DRAFT:
        _end(request, by=by, status=R.CANCELLED, note=reason)
    elif request.status == R.SENT:
        _close(request, by=by, note=reason)


@transaction.atomic
def sourcing_request_close(*, by, request: SourcingRequest, reason: str) -> SourcingRequest:
    """Close a request without accepting an offer (nothing suitable, or the need ended).
    A draft that was never sent is cancelled instead."""
    require_commissioner(by, action="close a sourcing request")
    reason = _reason(reason, field="reason", message="Enter why the request is closing.")
    request = _lock(request)
    _require_request_status(request, OPEN_REQUEST_STATUSES, "This sourcing request is already closed.")
    if request.status == R.DRAFT:
        _end(request, by=by, status=R.CANCELLED, note=reason)
    else:
        _close(request, by=by, note=reason)
    return request
