from django.core.management.base import BaseCommand

from booking.services.emails import deliver_due


class Command(BaseCommand):
    help = (
        "Send booking emails that are waiting (new, or failed earlier). Safe to run every minute."
    )

    def handle(self, *args, **options):
        sent, failed = deliver_due()
        self.stdout.write(f"{sent} email(s) sent, {failed} still waiting.")
