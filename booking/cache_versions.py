"""
The availability version: the number every change to what the booking
page's free times depend on raises (a booking, a practitioner, their hours
or time off, a closure, a consultation type, the booking rules); the
schedule version, which the same changes raise but for bookings; and what
a process keeps between two changes of the schedule. A leaf: the models, the forms
and the services all use it, so it imports nothing of booking's.
See clinic_site/versions.py for where the number lives.
"""

from django.conf import settings

from clinic_site.versions import SharedVersion

AVAILABILITY = SharedVersion("availability-version", "booking.AvailabilityVersion")

# What a process keeps (the booking rules, the form's types and
# practitioners, everyone's working hours, the closures) changes a few times a
# year, but the availability version moves with every booking: keyed on it,
# every booking on a busy day read them all again. Only with the cache (see
# SharedVersion): without it, nothing is kept.
SCHEDULE = SharedVersion("schedule-version", None)


def availability_changed(**kwargs):
    """
    Raise the availability version for a change being saved (a signal
    receiver: see booking/signals.py). Without the cache (the tests, unless they
    turn it on) nothing reads the version, and nothing is raised.
    """
    if settings.AVAILABILITY_CACHE_SECONDS:
        AVAILABILITY.changed()


def schedule_changed(**kwargs):
    """
    Raise both versions for a change to the schedule itself (anything but a
    booking: a practitioner, hours, time off, a closure, a type, the rules, a
    questionnaire); a signal receiver, as availability_changed.
    """
    if settings.AVAILABILITY_CACHE_SECONDS:
        AVAILABILITY.changed()
        SCHEDULE.changed()


def kept_between_changes():
    """Whether processes keep what they read between changes (the rules, the form's choices)."""
    return bool(settings.AVAILABILITY_CACHE_SECONDS)
