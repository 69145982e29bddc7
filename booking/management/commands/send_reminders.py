from django.core.management.base import BaseCommand

from booking.emails import deliver_due
from booking.services import send_due_reminders


class Command(BaseCommand):
    help = (
        "Queue and send the reminder for confirmed consultations starting within "
        "BOOKING_REMINDER_HOURS. Safe to run every few minutes: a reminder is never sent twice."
    )

    def handle(self, *args, **options):
        queued = send_due_reminders()
        sent, failed = deliver_due()
        self.stdout.write(
            f"{queued} reminder(s) queued; {sent} email(s) sent, {failed} still waiting."
        )
