"""
booking's admin, by domain. Importing the modules registers their
ModelAdmins: Django's autodiscovery imports this package only.
"""

from . import bookings, outbox, schedule, screening, waitlist

__all__ = ["bookings", "outbox", "schedule", "screening", "waitlist"]
