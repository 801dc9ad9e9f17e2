"""Tell whoever acts next. The e-mail is recorded in the change's transaction and sent by
a Celery task once it commits (core.outbox), so a rolled-back change sends nothing and a
broker that is down delays the e-mail, never loses it. E-mails carry IDs and a link, never
a child's name."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from core import outbox
from core.roles import Role
from placements.models import Referral, ReferralStatus
from placements.tasks import send_notification

S = ReferralStatus

# What the next actor is asked to do, by the status the referral has just reached.
NEXT_STEP = {
    S.SUBMITTED: (Role.TEAM_MANAGER, "awaits your endorsement"),
    S.RETURNED: (None, "was returned to you"),
    S.ENDORSED: (Role.PANEL_CHAIR, "is endorsed and ready for the next panel"),
    S.AWAITING_DIRECTOR: (Role.DIRECTOR, "awaits your approval"),
    S.READY_FOR_SOURCING: (Role.COMMISSIONING_OFFICER, "is ready for sourcing"),
    S.OPTIONS_READY: (None, "has placement options ready for you to choose from"),
    S.PROVIDER_CHOSEN: (Role.COMMISSIONING_OFFICER, "has a chosen offer to confirm"),
    S.PLACED: (None, "has a placement"),
    S.DECLINED: (None, "was declined"),
    S.WITHDRAWN: (None, "was withdrawn"),
}


def recipients(*, referral: Referral, status: str) -> list[int]:
    role, _ = NEXT_STEP[status]
    users = get_user_model().objects.filter(is_active=True)
    if role is None:  # back to whoever wrote it
        return [referral.created_by_id]
    users = users.filter(groups__name=role.value)
    if role == Role.TEAM_MANAGER:
        users = users.filter(team_id=referral.child.team_id)
    return list(users.values_list("pk", flat=True))


def notify_next_actors(*, referral: Referral, status: str) -> None:
    if status not in NEXT_STEP:
        return
    user_ids = recipients(referral=referral, status=status)
    if not user_ids:
        return
    _, what = NEXT_STEP[status]
    subject = f"Referral {referral.pk} {what}"
    path = reverse("referral-detail", args=[referral.pk])
    for user_id in user_ids:  # one e-mail each: a refused address holds up nobody else
        outbox.enqueue(send_notification, user_ids=[user_id], subject=subject, path=path)
