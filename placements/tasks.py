"""Thin Celery wrappers: each takes IDs and calls a plain function."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail


def send_notification_emails(*, user_ids: list[int], subject: str, path: str) -> int:
    addresses = (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    body = f"{subject}.\n\nOpen it in Find a placement: {settings.SITE_URL}{path}\n"
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
    return send_mass_mail(messages, fail_silently=False)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=True, max_retries=5, soft_time_limit=60, time_limit=90
)
def send_notification(*, user_ids: list[int], subject: str, path: str) -> int:
    return send_notification_emails(user_ids=user_ids, subject=subject, path=path)
