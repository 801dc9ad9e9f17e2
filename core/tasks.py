"""What every app's Celery tasks share: the errors worth retrying, the retry policy, and
a safe way to queue a task once a change has committed.

Queueing must never turn a committed change into an error page: the broker may be down
(the publish then fails within a couple of seconds, see config/celery.py) or, with no
broker, the task runs in-process and may fail itself. Either way the failure is logged
with the task's name and the error's class, never its arguments or message (they may
hold personal data), and work that must not be lost is also recorded in the database for
a periodic sweep: e-mails through core.outbox, the rollups through their own outbox
(placements.models.PendingRollup), which merges repeated requests for the same work.
"""

import logging
import smtplib

from celery import shared_task
from django.db import InterfaceError, transaction
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

class TryLater(Exception):
    """Raised by the outbox's runner in place of a transient error, whose message may name
    a person: its text gives the original error's class only (core.outbox)."""


# Errors that say "try again later", not "this is wrong": a dropped or refused database
# connection, a lock wait timed out, a deadlock or serialisation failure (all
# OperationalError), the broker or Redis unreachable, a socket error (SMTP, network).
TRANSIENT_ERRORS = (
    DatabaseOperationalError,
    InterfaceError,
    BrokerOperationalError,
    RedisError,
    OSError,
    TryLater,
)

# ... but not a mail server's refusal of one message: its recipient, its sender or its
# content. Those are socket errors too (smtplib's errors are OSErrors), yet they say
# nothing of the other messages waiting, and a task that retried one at once would be
# refused again. The outbox counts them as the message's failures and tries it again at
# each sweep, a few times (a 4xx "later" often clears in minutes; a 5xx never will).
REFUSED_MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
)


def is_transient(error: BaseException) -> bool:
    """Whether the error is an outage that trying again later may get past."""
    return isinstance(error, TRANSIENT_ERRORS) and not isinstance(error, REFUSED_MESSAGE_ERRORS)


# Task options: retry a transient failure with exponential backoff (2, 4, 8, … seconds,
# capped at 5 minutes, each drawn at random below its cap so that retries from many
# workers spread out), at most 5 times; then the task fails and is logged.
RETRY_ON_TRANSIENT_ERRORS = {
    "autoretry_for": TRANSIENT_ERRORS,
    # A refused message is left to the outbox (core.outbox), which tries it again later.
    "dont_autoretry_for": REFUSED_MESSAGE_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 5,
}


def publish(task, **kwargs) -> bool:
    """Queue `task` with keyword arguments; False (and a warning in the log) when it could
    not be queued, or, run in-process without a broker, when it failed."""
    try:
        task.delay(**kwargs)
    except Exception as error:
        # A broker error's message names the broker and what failed; any other error
        # (the task itself, run in-process) may quote data, so only its class is logged.
        detail = str(error) if isinstance(error, BrokerOperationalError) else ""
        logger.warning("Could not queue or run task %s (%s) %s",
                       task.name, type(error).__name__, detail)
        return False
    return True


def publish_on_commit(task, **kwargs) -> None:
    """Queue `task` once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: publish(task, **kwargs))


# The outbox's tasks (core.outbox): work that must not be lost is recorded in the database
# in the change's transaction, and run by these.


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=5 * 60, time_limit=6 * 60)
def run_pending_task(*, pk: int) -> bool:
    """Run one recorded task, once its change has committed."""
    from core import outbox

    return outbox.run(pk)


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=25 * 60, time_limit=30 * 60)
def sweep_pending_tasks() -> int:
    """Beat, every few minutes: run the recorded tasks that no worker has done (the broker
    was down, a message was lost, a worker was killed)."""
    from core import outbox

    return outbox.sweep()


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=5 * 60, time_limit=6 * 60)
def trim_sign_in_logs() -> int:
    """Nightly: forget sign-ins and failed sign-ins (usernames and addresses) older than
    SIGN_IN_LOG_DAYS; returns how many records went. Lockouts in force are kept: axes
    clears them itself once their cool-off has passed."""
    from axes.handlers.proxy import AxesProxyHandler
    from django.conf import settings

    days = settings.SIGN_IN_LOG_DAYS
    return (AxesProxyHandler.reset_logs(age_days=days)
            + AxesProxyHandler.reset_failure_logs(age_days=days))
