"""
booking's admin, by domain. Importing the modules registers their
ModelAdmins: Django's autodiscovery imports this package only.
"""

from . import bookings, my_visits, outbox, schedule, screening, waitlist

__all__ = ["bookings", "my_visits", "outbox", "schedule", "screening", "waitlist"]
