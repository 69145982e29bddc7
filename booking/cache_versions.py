"""
The availability version: the number every change to what the booking
page's free times depend on raises (a booking, a practitioner, their hours
or time off, a closure, a consultation type, the booking rules), and what
a process keeps between two such changes. A leaf: the models, the forms
and the services all use it, so it imports nothing of booking's.
See clinic_site/versions.py for where the number lives.
"""

from django.conf import settings

from clinic_site.versions import SharedVersion

AVAILABILITY = SharedVersion("availability-version", "booking.AvailabilityVersion")


def availability_changed(**kwargs):
    """
    Raise the availability version for a change being saved (a signal
    receiver: see booking/signals.py). Without the cache (the tests, unless they
    turn it on) nothing reads the version, and nothing is raised.
    """
    if settings.AVAILABILITY_CACHE_SECONDS:
        AVAILABILITY.changed()


def kept_between_changes():
    """Whether processes keep what they read between changes (the rules, the form's choices)."""
    return bool(settings.AVAILABILITY_CACHE_SECONDS)
