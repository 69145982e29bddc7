"""
What the admin pages of several domains share.
"""

from django.utils import timezone


def clinic_time(value):
    # strftime's %Z reads the zone from the instant, so it is right in the
    # repeated hour too (Django's date filter leaves it empty there).
    return f"{timezone.localtime(value):%a %d %b %Y, %H:%M %Z}"
