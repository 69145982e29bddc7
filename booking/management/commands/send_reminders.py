from django.core.management.base import BaseCommand

from booking.services import send_due_before_care, send_due_reminders
from booking.services.emails import deliver_due


class Command(BaseCommand):
    help = (
        "Queue and send the reminder for confirmed consultations starting within "
        "BOOKING_REMINDER_HOURS, and the before-care of those whose type's "
        "before-care days have come. Safe to run every few minutes, on several "
        "machines at once: neither is ever sent twice."
    )

    def handle(self, *args, **options):
        queued = send_due_reminders()
        before_care = send_due_before_care()
        sent, failed = deliver_due()
        self.stdout.write(
            f"{queued} reminder(s) queued; {before_care} before-care message(s) queued; "
            f"{sent} email(s) sent, {failed} still waiting."
        )
