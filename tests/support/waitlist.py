"""People waiting on the waitlist, written straight to the database."""

from datetime import timedelta

from django.utils import timezone

from booking.models import PartOfDay, WaitlistEntry
from tests.support.booking import consultation_type

ALL_PARTS = ",".join(part.value for part in PartOfDay)


def make_entry(n=1, **fields):
    """Someone waiting for a skin assessment, any practitioner, any day and time within 30 days."""
    today = timezone.localdate()
    defaults = {
        "consultation_type": consultation_type(),
        "weekdays": "0123456",
        "parts_of_day": ALL_PARTS,
        "earliest_day": today,
        "latest_day": today + timedelta(days=30),
        "full_name": f"Waiting Person{n}",
        "email": f"waiting{n}@example.com",
        "phone": "+12125550100",
        "consent_given_at": timezone.now(),
        "privacy_policy_version": "test",
    }
    return WaitlistEntry.objects.create(**defaults | fields)
