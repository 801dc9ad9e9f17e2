"""Run the tasks waiting in the outbox now, as the beat sweep does every 5 minutes: for
e-mails refused while the mail server or the broker was down (ADR 0011)."""

from django.core.management.base import BaseCommand

from core import outbox
from core.models import PendingTask


class Command(BaseCommand):
    help = "Run the recorded tasks (such as e-mails) that no worker has done yet."

    def handle(self, *args, **options):
        done = outbox.sweep()
        self.stdout.write(f"Ran {done} pending task(s).")
        failed = PendingTask.objects.filter(failures__gte=outbox.MAX_FAILURES).count()
        waiting = PendingTask.objects.count() - failed
        if waiting:
            self.stdout.write(f"{waiting} still waiting (held by a worker, or failed and "
                              f"to be tried again).")
        if failed:
            self.stdout.write(self.style.WARNING(
                f"{failed} set aside after {outbox.MAX_FAILURES} failures: see Pending tasks "
                f"in the admin."))
