from django.core.management.base import BaseCommand

from booking.services.emails import deliver_due
from booking.services.waitlist import sweep_waitlist


class Command(BaseCommand):
    help = (
        "Make the waitlist offers of any freed time whose task was lost, expire entries past "
        "their dates and offers past their expiry, forget entries finished a month ago, and send "
        "what is due. Safe to run every few "
        "minutes and concurrently: a freed time is offered once."
    )

    def handle(self, *args, **options):
        made, entries, offers, forgotten = sweep_waitlist()
        sent, failed = deliver_due()
        self.stdout.write(
            f"{made} offer(s) made, {entries} entr(y/ies) and {offers} offer(s) expired, "
            f"{forgotten} finished entr(y/ies) forgotten; "
            f"{sent} email(s) sent, {failed} still waiting."
        )
