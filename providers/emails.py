"""E-mails to providers: the anonymised request, a chase before the deadline, and the
outcome when the request closes. They carry the request's reference and what a provider
needs to answer, never a child's name, date of birth or address."""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from providers.models import Quote, SourcingInvitation, SourcingRequest
from providers.reference import Need, PlacementType, Risk, Urgency


def _labels(codes, choices) -> str:
    known = dict(choices.choices)
    return ", ".join(str(known.get(code, code)) for code in codes) or "none given"


def request_summary(request: SourcingRequest) -> str:
    """What a provider needs to answer: no name, no date of birth, no address."""
    lines = [
        f"Reference: {request.reference}",
        f"Placement type: {PlacementType(request.placement_type).label}",
        f"Age: {request.age_years}; sex: {request.get_sex_display()}",
        f"Home area: {request.area}"
        + (f"; within {request.max_distance_miles} miles" if request.max_distance_miles else ""),
        f"Urgency: {Urgency(request.urgency).label}; wanted from {request.wanted_start_date:%d %B %Y}",
        f"Needs: {_labels(request.needs, Need)}",
        f"Risks: {_labels(request.risks, Risk)}",
    ]
    if request.needs_summary:
        lines.append(f"\n{request.needs_summary}")
    return "\n".join(lines)


def _deadline(request: SourcingRequest) -> str:
    local = timezone.localtime(request.response_deadline)
    return f"{local:%H:%M on %d %B %Y}"


def _request_emails(request, invitations) -> list[tuple]:
    subject = f"Placement request {request.reference}: please reply by {_deadline(request)}"
    body = (
        f"{settings.COUNCIL_NAME} is looking for a placement.\n\n{request_summary(request)}\n\n"
        f"Please reply with your offer (weekly price, what it includes, when it could start) "
        f"or tell us you cannot offer, by {_deadline(request)}, quoting {request.reference}.\n"
    )
    return [(subject, body, inv.service.provider.email) for inv in invitations]


def _chase_emails(request, invitations) -> list[tuple]:
    subject = f"Reminder: placement request {request.reference} closes at {_deadline(request)}"
    return [
        (
            subject,
            f"We have not yet had your answer to placement request {request.reference} "
            f"for {inv.service.name}.\n\n{request_summary(request)}\n\n"
            f"Please reply by {_deadline(request)}.\n",
            inv.service.provider.email,
        )
        for inv in invitations
    ]


def _outcome_emails(request, invitations) -> list[tuple]:
    accepted = set(request.quotes.filter(status=Quote.Status.ACCEPTED).values_list("service_id", flat=True))
    subject = f"Placement request {request.reference} has closed"
    emails = []
    for inv in invitations:
        if inv.service_id in accepted:
            text = f"Your offer from {inv.service.name} was accepted. We will contact you to agree the placement."
        else:
            text = (f"Thank you for considering request {request.reference}. "
                    f"This time the child will not be placed with {inv.service.name}.")
        emails.append((subject, f"{text}\n", inv.service.provider.email))
    return emails


def _claim_outcomes(request, invitation_ids=None) -> list[SourcingInvitation]:
    """Each provider hears the outcome once, even if the task runs twice. None: every
    invitation of the request."""
    now = timezone.now()
    claimed = []
    waiting = request.invitations.filter(outcome_notified_at__isnull=True)
    if invitation_ids is not None:
        waiting = waiting.filter(pk__in=invitation_ids)
    for invitation in waiting.select_related("service__provider"):
        if SourcingInvitation.objects.filter(
            pk=invitation.pk, outcome_notified_at__isnull=True
        ).update(outcome_notified_at=now):
            claimed.append(invitation)
    return claimed


def _send(emails) -> int:
    messages = [(s, b, settings.DEFAULT_FROM_EMAIL, [to]) for s, b, to in emails if to]
    return send_mass_mail(messages, fail_silently=False)


def provider_emails(*, kind: str, request_id: int, service_ids=None, invitation_ids=None) -> int:
    request = SourcingRequest.objects.get(pk=request_id)
    invitations = request.invitations.select_related("service__provider")
    if kind == "request":
        return _send(_request_emails(request, invitations.filter(service_id__in=service_ids or [])))
    if kind == "chase":
        return _send(_chase_emails(request, invitations.filter(pk__in=invitation_ids or [])))
    if kind == "outcome":
        # Claim and send in one transaction: a refused send rolls the claims back, so the
        # task's retry still tells every provider; a run at the same time waits on the
        # claimed rows and then finds them already told.
        with transaction.atomic():
            return _send(_outcome_emails(request, _claim_outcomes(request, invitation_ids)))
    raise ValueError(f"Unknown provider e-mail: {kind}")
