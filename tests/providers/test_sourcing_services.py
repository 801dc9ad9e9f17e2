"""providers.services.sourcing: sending a request, recording answers, negotiating, accepting
and closing, with their e-mails. The referral's side is in
tests/placements/test_sourcing_services.py."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core.errors import ActionNotPermitted, InvalidInput, TransitionNotAllowed
from core.models import PendingTask
from core.roles import Role
from core.tasks import sweep_pending_tasks
from providers.models import (
    NegotiationStep,
    ProviderDiscount,
    Quote,
    SourcingInvitation,
    SourcingRequest,
)
from providers.services import sourcing as services
from providers.services.chasing import invitations_chase
from tests.sourcing import (  # noqa: F401 (fixtures)
    market_fixture,
    market_request,
    officer_fixture,
    sent_request,
)

R = SourcingRequest.Status
Q_ = Quote.Status
K = NegotiationStep.Kind
DAY = datetime.timedelta(days=1)
NOT_OFFICERS = [role for role in Role if role != Role.COMMISSIONING_OFFICER]


@pytest.fixture
def request_sent(market, officer):
    """Sent to the good framework home and the spot home (off framework, with a reason)."""
    return sent_request(market, by=officer, services=[market.good, market.spot])


def offer(officer, request, service, price="900", **kwargs):
    return services.quote_record(by=officer, request=request, service=service,
                                 quoted_weekly_price=price, **kwargs)


# --- Creating and sending -------------------------------------------------------------


def test_a_draft_request_gets_a_reference_from_its_id(market, officer):
    request = services.sourcing_request_create(by=officer, fields={
        "placement_type": "U4", "age_years": 12, "sex": "F", "area": "LS6",
        "urgency": "later", "wanted_start_date": market.today,
    })

    assert request.status == R.DRAFT
    assert request.reference == f"SR-{market.today.year}-{request.pk:05d}"
    assert request.created_by == officer


@pytest.mark.parametrize("role", NOT_OFFICERS)
def test_only_a_commissioning_officer_creates_a_request(market, personas, role):
    with pytest.raises(ActionNotPermitted):
        services.sourcing_request_create(by=personas[role], fields={
            "placement_type": "U4", "age_years": 12, "sex": "F", "area": "LS6",
            "urgency": "later", "wanted_start_date": market.today,
        })
    assert not SourcingRequest.objects.exists()


def test_a_planned_end_before_the_start_is_refused(market, officer):
    with pytest.raises(InvalidInput) as refused:
        services.sourcing_request_create(by=officer, fields={
            "placement_type": "U4", "age_years": 12, "sex": "F", "area": "LS6",
            "urgency": "later", "wanted_start_date": market.today,
            "planned_end_date": market.today - DAY,
        })
    assert refused.value.field == "planned_end_date"
    assert not SourcingRequest.objects.exists()


def test_unknown_request_fields_are_refused(market, officer):
    with pytest.raises(InvalidInput):
        services.sourcing_request_create(by=officer, fields={"child_name": "Alex"})
    assert not SourcingRequest.objects.exists()


@pytest.mark.parametrize(
    ("urgency", "hours"), [("today", 3), ("within_5_days", 30), ("later", 300)],
)
def test_the_response_deadline_follows_the_urgency(market, officer, settings, urgency, hours):
    settings.SOURCING_RESPONSE_HOURS = {"today": 3, "within_5_days": 30, "later": 300}

    request = sent_request(market, by=officer, services=[market.good], urgency=urgency)

    assert request.status == R.SENT and request.sent_at is not None
    assert request.response_deadline == request.sent_at + datetime.timedelta(hours=hours)
    request.refresh_from_db()
    assert request.response_deadline - request.sent_at == datetime.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("urgency", "hours"), [("today", 4), ("within_5_days", 48), ("later", 120)],
)
def test_the_default_deadlines(market, officer, urgency, hours):
    request = sent_request(market, by=officer, services=[market.good], urgency=urgency)

    assert request.response_deadline - request.sent_at == datetime.timedelta(hours=hours)


@pytest.mark.parametrize("reasons", [None, {}, {"spot": "   "}])
def test_an_off_framework_invitation_needs_a_reason(market, officer, reasons):
    request = market_request(by=officer)
    if reasons and "spot" in reasons:
        reasons = {market.spot.pk: reasons["spot"]}

    with pytest.raises(InvalidInput) as refused:
        services.sourcing_request_send(
            by=officer, request=request, service_ids=[market.good.pk, market.spot.pk],
            off_framework_reasons=reasons,
        )

    assert refused.value.field == "off_framework_reason"
    assert "Spot Carers" in refused.value.message
    request.refresh_from_db()
    assert request.status == R.DRAFT and request.sent_at is None
    assert not SourcingInvitation.objects.exists()


def test_a_reason_may_be_keyed_by_the_service_id_as_text(market, officer):
    request = services.sourcing_request_send(
        by=officer, request=market_request(by=officer), service_ids=[str(market.spot.pk)],
        off_framework_reasons={str(market.spot.pk): " No framework home took 12-year-olds "},
    )

    invitation = request.invitations.get()
    assert invitation.on_framework is False
    assert invitation.off_framework_reason == "No framework home took 12-year-olds"


def test_a_framework_invitation_keeps_no_reason(market, officer):
    request = services.sourcing_request_send(
        by=officer, request=market_request(by=officer), service_ids=[market.good.pk],
        off_framework_reasons={market.good.pk: "not needed"},
    )

    invitation = request.invitations.get()
    assert invitation.on_framework is True and invitation.off_framework_reason == ""


def test_invitations_record_why_each_service_was_chosen(market, officer):
    request = sent_request(market, by=officer, services=[market.good, market.full, market.spot])

    good = request.invitations.get(service=market.good)
    full = request.invitations.get(service=market.full)
    assert good.match_reasons[0] == "On framework, ceiling £850.00 a week"
    assert "Does not meet: No vacancy" in full.match_reasons
    assert all(i.status == SourcingInvitation.Status.SENT and i.sent_at == request.sent_at
               for i in request.invitations.all())


@pytest.mark.parametrize("service_ids", [[], ["missing"]], ids=["none", "unknown"])
def test_a_request_goes_to_at_least_one_existing_service(market, officer, service_ids):
    request = market_request(by=officer)
    ids = [999999 if pk == "missing" else pk for pk in service_ids]

    with pytest.raises(InvalidInput) as refused:
        services.sourcing_request_send(by=officer, request=request, service_ids=ids)

    assert refused.value.field == "services"
    request.refresh_from_db()
    assert request.status == R.DRAFT and not SourcingInvitation.objects.exists()


def test_an_inactive_service_cannot_be_invited(market, officer):
    market.good.is_active = False
    market.good.save(update_fields=["is_active"])

    with pytest.raises(InvalidInput):
        sent_request(market, by=officer, services=[market.good])
    assert not SourcingInvitation.objects.exists()


def test_a_request_is_sent_only_once(market, officer, request_sent):
    with pytest.raises(TransitionNotAllowed):
        services.sourcing_request_send(by=officer, request=request_sent,
                                       service_ids=[market.far.pk])
    assert request_sent.invitations.count() == 2


@pytest.mark.parametrize("role", NOT_OFFICERS)
def test_only_a_commissioning_officer_sends(market, officer, personas, role):
    request = market_request(by=officer)

    with pytest.raises(ActionNotPermitted):
        services.sourcing_request_send(by=personas[role], request=request,
                                       service_ids=[market.good.pk])
    request.refresh_from_db()
    assert request.status == R.DRAFT and not SourcingInvitation.objects.exists()


def test_providers_are_emailed_when_the_send_commits(
    market, officer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        request = sent_request(market, by=officer, services=[market.good, market.spot])
        assert mailoutbox == []  # nothing before commit

    for callback in callbacks:
        callback()

    assert sorted(m.to[0] for m in mailoutbox) == ["offers@framework.example",
                                                    "offers@spot.example"]
    assert all(m.subject.startswith(f"Placement request {request.reference}: please reply by")
               for m in mailoutbox)
    assert all("Home area: LS6; within 20 miles" in m.body for m in mailoutbox)


def test_a_rolled_back_send_emails_nobody(
    market, officer, mailoutbox, django_capture_on_commit_callbacks
):
    request = market_request(by=officer)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.sourcing_request_send(by=officer, request=request,
                                           service_ids=[market.good.pk])
            raise RuntimeError("the page failed after sending")

    assert callbacks == [] and mailoutbox == []
    request.refresh_from_db()
    assert request.status == R.DRAFT and not SourcingInvitation.objects.exists()


def test_a_provider_without_an_email_address_is_skipped(
    market, officer, mailoutbox, django_capture_on_commit_callbacks
):
    market.spot_provider.email = ""
    market.spot_provider.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True):
        sent_request(market, by=officer, services=[market.good, market.spot])

    assert [m.to for m in mailoutbox] == [["offers@framework.example"]]


# --- Adding a provider later ------------------------------------------------------------


def test_a_provider_can_be_added_to_a_sent_request_and_is_emailed(
    market, officer, request_sent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_add(by=officer, request=request_sent, service=market.far)

    assert invitation.on_framework and invitation.sourcing_request == request_sent
    assert [m.to for m in mailoutbox] == [["offers@framework.example"]]
    assert request_sent.invitations.count() == 3


def test_adding_a_provider_before_the_deadline_keeps_the_deadline(market, officer,
                                                                  request_sent):
    deadline = request_sent.response_deadline

    services.invitation_add(by=officer, request=request_sent, service=market.far)

    request_sent.refresh_from_db()
    assert request_sent.response_deadline == deadline


def test_a_provider_added_after_the_deadline_gets_time_to_answer(
    market, officer, request_sent, mailoutbox, django_capture_on_commit_callbacks
):
    """Otherwise its e-mail asks for a reply by a time already gone, and the next chase
    run marks it as not answering before it could."""
    SourcingRequest.objects.filter(pk=request_sent.pk).update(
        response_deadline=timezone.now() - datetime.timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_add(by=officer, request=request_sent,
                                             service=market.far)

    request_sent.refresh_from_db()
    assert request_sent.response_deadline == invitation.sent_at + datetime.timedelta(hours=120)
    assert invitations_chase().no_response == 0
    invitation.refresh_from_db()
    assert invitation.status == SourcingInvitation.Status.SENT
    deadline = timezone.localtime(request_sent.response_deadline)
    assert mailoutbox[0].subject.endswith(f"{deadline:%H:%M on %d %B %Y}")


def test_an_off_framework_provider_added_later_needs_a_reason(market, officer):
    request = sent_request(market, by=officer, services=[market.good])
    other = type(market.spot).objects.create(
        provider=market.spot_provider, name="Spot Two", postcode="LS1 1AA",
    )

    with pytest.raises(InvalidInput) as refused:
        services.invitation_add(by=officer, request=request, service=other)

    assert refused.value.field == "off_framework_reason"
    assert request.invitations.count() == 1


def test_a_provider_is_invited_once(market, officer, request_sent):
    with pytest.raises(InvalidInput) as refused:
        services.invitation_add(by=officer, request=request_sent, service=market.good)
    assert refused.value.field == "service"


def test_providers_are_added_only_to_a_sent_request(market, officer):
    with pytest.raises(TransitionNotAllowed):
        services.invitation_add(by=officer, request=market_request(by=officer),
                                service=market.good)


# --- Recording answers ------------------------------------------------------------------


def test_an_offer_is_recorded_with_its_price_and_the_invitation_answered(
    market, officer, request_sent
):
    quote = offer(officer, request_sent, market.good, price="875.555", inclusions=" Therapy ")

    assert quote.status == Q_.OFFERED and quote.quoted_weekly_price == Decimal("875.56")
    assert quote.inclusions == "Therapy" and quote.on_framework is True
    assert quote.expected_weeks == 52 and quote.recorded_by == officer
    assert request_sent.invitations.get(service=market.good).status == "responded"
    assert offer(officer, request_sent, market.spot).on_framework is False


def test_an_offer_is_recorded_only_for_an_invited_service(market, officer, request_sent):
    with pytest.raises(InvalidInput) as refused:
        offer(officer, request_sent, market.far)

    assert refused.value.field == "service"
    assert not Quote.objects.exists()


def test_an_answer_is_recorded_only_once(market, officer, request_sent):
    first = offer(officer, request_sent, market.good)

    with pytest.raises(InvalidInput):
        offer(officer, request_sent, market.good, price="800")
    with pytest.raises(InvalidInput):
        services.quote_record_declined(by=officer, request=request_sent, service=market.good,
                                       reason="Changed our mind")

    assert list(Quote.objects.all()) == [first]
    first.refresh_from_db()
    assert first.quoted_weekly_price == Decimal("900.00")


@pytest.mark.parametrize("price", ["", "abc", "-1", "NaN", "Infinity", "10000000000"])
def test_a_weekly_price_must_be_a_sensible_amount(market, officer, request_sent, price):
    with pytest.raises(InvalidInput) as refused:
        offer(officer, request_sent, market.good, price=price)
    assert refused.value.field == "quoted_weekly_price"
    assert not Quote.objects.exists()


def test_offers_are_recorded_only_on_a_sent_request(market, officer):
    draft = market_request(by=officer)
    with pytest.raises(TransitionNotAllowed):
        offer(officer, draft, market.good)


def test_a_provider_declining_needs_a_reason(market, officer, request_sent):
    with pytest.raises(InvalidInput) as refused:
        services.quote_record_declined(by=officer, request=request_sent, service=market.good,
                                       reason="  ")

    assert refused.value.field == "decline_reason"
    assert not Quote.objects.exists()
    assert request_sent.invitations.get(service=market.good).status == "sent"


def test_a_provider_declining_is_recorded_with_its_reason(market, officer, request_sent):
    quote = services.quote_record_declined(by=officer, request=request_sent,
                                           service=market.spot, reason=" No carers ")

    assert quote.status == Q_.PROVIDER_DECLINED and quote.quoted_weekly_price is None
    assert quote.decline_reason == "No carers" and quote.on_framework is False
    assert request_sent.invitations.get(service=market.spot).status == "responded"


@pytest.mark.parametrize("role", NOT_OFFICERS)
def test_only_a_commissioning_officer_records_answers(market, personas, request_sent, role):
    with pytest.raises(ActionNotPermitted):
        offer(personas[role], request_sent, market.good)
    with pytest.raises(ActionNotPermitted):
        services.quote_record_declined(by=personas[role], request=request_sent,
                                       service=market.good, reason="No")
    assert not Quote.objects.exists()


# --- Negotiation and savings ------------------------------------------------------------


def test_negotiation_above_the_quoted_price_is_refused(market, officer, request_sent):
    quote = offer(officer, request_sent, market.good, price="900")

    with pytest.raises(InvalidInput) as refused:
        services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="900.01")

    assert refused.value.field == "weekly_price"
    quote.refresh_from_db()
    assert quote.status == Q_.OFFERED and quote.agreed_weekly_price is None
    assert not NegotiationStep.objects.exists()


def test_an_unknown_negotiation_step_is_refused(market, officer, request_sent):
    quote = offer(officer, request_sent, market.good)
    with pytest.raises(InvalidInput) as refused:
        services.quote_negotiate(by=officer, quote=quote, kind="bribe", weekly_price="800")
    assert refused.value.field == "kind"


def test_a_counter_offer_is_logged_without_agreeing(market, officer, request_sent):
    quote = offer(officer, request_sent, market.good)

    step = services.quote_negotiate(by=officer, quote=quote, kind=K.COUNTER_OFFER,
                                    weekly_price="800", note=" First try ")

    quote.refresh_from_db()
    assert (step.kind, step.weekly_price, step.note) == (K.COUNTER_OFFER, Decimal("800.00"),
                                                         "First try")
    assert quote.status == Q_.NEGOTIATING
    assert quote.agreed_weekly_price is None and quote.negotiated_saving is None


def test_without_a_planned_end_the_saving_counts_52_weeks(market, officer, request_sent):
    quote = offer(officer, request_sent, market.good, price="900.00")

    services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="840.50")

    quote.refresh_from_db()
    assert quote.expected_weeks == 52
    assert quote.agreed_weekly_price == Decimal("840.50")
    assert quote.negotiated_saving == Decimal("3094.00")  # 59.50 × 52
    assert quote.agreed_by == officer and quote.agreed_at is not None


def test_with_a_planned_end_part_weeks_count_as_weeks(market, officer):
    # 10 weeks and 3 days → 11 weeks.
    request = sent_request(market, by=officer, services=[market.good],
                           planned_end_date=market.today + 73 * DAY,
                           wanted_start_date=market.today)
    quote = offer(officer, request, market.good, price="900.00")

    services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="840.50")

    quote.refresh_from_db()
    assert quote.expected_weeks == 11
    assert quote.negotiated_saving == Decimal("654.50")  # 59.50 × 11


def test_expected_weeks_run_from_when_the_provider_can_start(market, officer):
    start = market.today
    request = sent_request(market, by=officer, services=[market.good], wanted_start_date=start,
                           planned_end_date=start + 73 * DAY)

    # Available two weeks late: 59 days left → 9 weeks.
    quote = offer(officer, request, market.good, price="900.00", available_from=start + 14 * DAY)
    services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="899.99")

    quote.refresh_from_db()
    assert quote.expected_weeks == 9
    assert quote.negotiated_saving == Decimal("0.09")


def test_savings_are_rounded_to_pence_half_up(market, officer, request_sent):
    quote = offer(officer, request_sent, market.good, price="900.00")
    services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="840.505")

    quote.refresh_from_db()
    assert quote.agreed_weekly_price == Decimal("840.51")
    assert quote.negotiated_saving == Decimal("3093.48")  # 59.49 × 52


@pytest.mark.parametrize("action", ["decline", "withdraw"])
def test_declining_or_withdrawing_needs_a_reason_and_ends_negotiation(
    market, officer, request_sent, action
):
    quote = offer(officer, request_sent, market.good)
    act = services.quote_decline if action == "decline" else services.quote_withdraw

    with pytest.raises(InvalidInput) as refused:
        act(by=officer, quote=quote, reason="")
    assert refused.value.field == "reason"

    act(by=officer, quote=quote, reason="Too dear")
    quote.refresh_from_db()
    assert quote.status == (Q_.DECLINED if action == "decline" else Q_.WITHDRAWN)
    assert quote.decline_reason == "Too dear"
    with pytest.raises(TransitionNotAllowed):
        services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="800")


# --- Accepting and closing --------------------------------------------------------------


def test_accepting_without_negotiation_agrees_the_quoted_price(market, officer, request_sent):
    quote = offer(officer, request_sent, market.good, price="900")
    other = offer(officer, request_sent, market.spot, price="1000")

    accepted = services.quote_accept(by=officer, quote=quote)

    assert accepted.status == Q_.ACCEPTED
    assert accepted.agreed_weekly_price == Decimal("900.00")
    assert accepted.negotiated_saving == Decimal("0.00") and accepted.discount is None
    other.refresh_from_db()
    assert other.status == Q_.DECLINED and other.decline_reason == "Another offer was chosen."
    request_sent.refresh_from_db()
    assert request_sent.status == R.CLOSED and request_sent.outcome_note.startswith("Placed with")


def test_a_second_quote_cannot_be_accepted(market, officer, request_sent):
    first = offer(officer, request_sent, market.good)
    second = offer(officer, request_sent, market.spot)
    services.quote_accept(by=officer, quote=first)

    with pytest.raises(TransitionNotAllowed):
        services.quote_accept(by=officer, quote=second)
    assert Quote.objects.filter(status=Q_.ACCEPTED).count() == 1


def discount(provider, percentage, *, valid_from, valid_to=None):
    return ProviderDiscount.objects.create(
        provider=provider, basis=ProviderDiscount.Basis.VOLUME, description=f"{percentage}% off",
        percentage=Decimal(percentage), valid_from=valid_from, valid_to=valid_to,
    )


def test_accepting_applies_the_best_discount_valid_on_the_start_day(market, officer,
                                                                      request_sent):
    day = request_sent.wanted_start_date
    discount(market.framework_provider, "5", valid_from=day - 30 * DAY)
    best = discount(market.framework_provider, "7.5", valid_from=day, valid_to=day)
    discount(market.framework_provider, "20", valid_from=day - 30 * DAY, valid_to=day - DAY)
    discount(market.framework_provider, "25", valid_from=day + DAY)
    discount(market.spot_provider, "50", valid_from=day - 30 * DAY)
    quote = offer(officer, request_sent, market.good, price="845.50")
    services.quote_negotiate(by=officer, quote=quote, kind=K.AGREED, weekly_price="845.50")

    accepted = services.quote_accept(by=officer, quote=quote)

    assert accepted.discount == best
    # 845.50 × 92.5% = 782.0875 → 782.09
    assert services.weekly_price_after_discount(accepted) == Decimal("782.09")


def test_the_discounted_price_rounds_half_up(market, officer, request_sent):
    day = request_sent.wanted_start_date
    discount(market.framework_provider, "5", valid_from=day)
    quote = offer(officer, request_sent, market.good, price="845.50")

    accepted = services.quote_accept(by=officer, quote=quote)

    # 845.50 × 95% = 803.225 → 803.23 (half to even would give 803.22)
    assert services.weekly_price_after_discount(accepted) == Decimal("803.23")


def test_a_discount_can_be_left_off(market, officer, request_sent):
    discount(market.framework_provider, "5", valid_from=request_sent.wanted_start_date)
    quote = offer(officer, request_sent, market.good, price="900")

    accepted = services.quote_accept(by=officer, quote=quote, apply_discount=False)

    assert accepted.discount is None
    assert services.weekly_price_after_discount(accepted) == Decimal("900.00")


def test_closing_a_sent_request_declines_live_offers_and_marks_the_silent(
    market, officer, request_sent
):
    quote = offer(officer, request_sent, market.good)

    services.sourcing_request_close(by=officer, request=request_sent, reason="Need ended")

    request_sent.refresh_from_db()
    quote.refresh_from_db()
    assert request_sent.status == R.CLOSED and request_sent.outcome_note == "Need ended"
    assert quote.status == Q_.DECLINED
    assert quote.decline_reason == "The request closed without a placement."
    assert request_sent.invitations.get(service=market.spot).status == "no_response"
    with pytest.raises(TransitionNotAllowed):
        services.sourcing_request_close(by=officer, request=request_sent, reason="Again")


def test_closing_a_draft_cancels_it(market, officer):
    draft = market_request(by=officer)

    with pytest.raises(InvalidInput):
        services.sourcing_request_close(by=officer, request=draft, reason="")
    services.sourcing_request_close(by=officer, request=draft, reason="Found in-house")

    draft.refresh_from_db()
    assert draft.status == R.CANCELLED and draft.outcome_note == "Found in-house"


def test_every_invited_provider_hears_the_outcome_once(
    market, officer, request_sent, mailoutbox, django_capture_on_commit_callbacks
):
    quote = offer(officer, request_sent, market.good)

    with django_capture_on_commit_callbacks(execute=True):
        services.quote_accept(by=officer, quote=quote)
    services.send_provider_emails.delay(kind="outcome", request_id=request_sent.pk)

    outcomes = {m.to[0]: m.body for m in mailoutbox}
    assert len(mailoutbox) == 2
    assert "was accepted" in outcomes["offers@framework.example"]
    assert "will not be placed with Spot Carers" in outcomes["offers@spot.example"]


class UntilBackEmailBackend:
    """An SMTP server that refuses `failures_left` connections, then accepts."""

    failures_left = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if type(self).failures_left:
            type(self).failures_left -= 1
            raise ConnectionRefusedError(111, "Connection refused")
        mail.outbox.extend(messages)
        return len(messages)


def test_outcome_emails_survive_a_mail_server_that_is_down(
    market, officer, request_sent, mailoutbox, settings, django_capture_on_commit_callbacks
):
    """Refused sends leave each provider's outcome e-mail in the outbox, its invitation not
    marked as told; the sweep, once the server is back, tells every provider once."""
    quote = offer(officer, request_sent, market.good)
    PendingTask.objects.all().delete()  # the request's own e-mails, not the point here
    settings.EMAIL_BACKEND = f"{__name__}.UntilBackEmailBackend"
    UntilBackEmailBackend.failures_left = 100  # down, through every retry

    with django_capture_on_commit_callbacks(execute=True):
        services.quote_accept(by=officer, quote=quote)
    assert mailoutbox == []
    assert not request_sent.invitations.filter(outcome_notified_at__isnull=False).exists()
    assert PendingTask.objects.count() == 2  # one e-mail per invited service

    UntilBackEmailBackend.failures_left = 0
    assert sweep_pending_tasks.delay().get() == 2
    assert sweep_pending_tasks.delay().get() == 0

    assert sorted(m.to[0] for m in mailoutbox) == ["offers@framework.example",
                                                    "offers@spot.example"]
    assert all(i.outcome_notified_at for i in request_sent.invitations.all())
