from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from booking.services import anonymise_old_bookings


class Command(BaseCommand):
    help = (
        "Remove names, emails, phone numbers and messages from bookings whose consultation "
        "was longer ago than the retention period; keeps times, treatments and statuses."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=settings.BOOKING_RETENTION_MONTHS,
            help="Retention period in months (default: BOOKING_RETENTION_MONTHS, %(default)s).",
        )

    def handle(self, *args, months, **options):
        if months < 1:
            raise CommandError("--months must be at least 1.")
        # A month is taken as 30.44 days: retention is a policy, not a calendar.
        cutoff = timezone.now() - timedelta(days=round(months * 30.44))
        count = anonymise_old_bookings(cutoff=cutoff)
        self.stdout.write(
            f"{count} booking(s) anonymised (consultations before {cutoff:%Y-%m-%d})."
        )
