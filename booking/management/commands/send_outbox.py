from django.core.management.base import BaseCommand

from booking.services.emails import deliver_due
from booking.services.tasks import fail_stale_tasks


class Command(BaseCommand):
    help = (
        "Send booking emails that are waiting (new, or failed earlier), and mark failed the task "
        "rows whose worker died mid-task. Safe to run every minute."
    )

    def handle(self, *args, **options):
        # Marked first: their emails are due again, and this run sends them.
        lost = fail_stale_tasks()
        sent, failed = deliver_due()
        self.stdout.write(
            f"{sent} email(s) sent, {failed} still waiting. "
            f"{lost} task(s) whose worker was lost marked failed."
        )
