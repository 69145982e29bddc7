"""
Every write with side effects, one module per domain, each write in one
transaction with its history and outbox rows (HackSoft's services, pretix's
base/services/):

- bookings.py: booking, moving and changing a booking's status;
- retention.py: anonymising bookings past the retention period;
- schedule.py: the free times (read only: the availability of each type
  and practitioner that the forms, the services and the waitlist share);
- emails.py: the outbox and its delivery task; reminders.py: the
  reminders and before-care the clock sends;
- screening.py: publishing questionnaires and assessing health answers;
- offers.py: freed times and the offers made from them, and the schedule
  changes that free time; waitlist.py: joining, leaving and claiming;
- tasks.py: the task worker's rows left running by a worker that died;
- my_visits.py: a returning client's sign-in links, marketing choice and
  erasure requests; client_data.py: "Download my data" (read only).

Within the package the imports go one way (the contracts in pyproject.toml):
my_visits, client_data -> waitlist -> bookings -> offers -> schedule,
emails, screening.

What the views, the admin and the commands call is re-exported here
(`services.change_status`, `services.SlotUnavailable`); anything else is
imported from its own module.
"""

from .bookings import (
    AFTER_THE_CONSULTATION,
    PastClientCutoff,
    SlotUnavailable,
    StaleBooking,
    TransitionNotAllowed,
    book_consultation,
    change_status,
    confirm_attendance,
    delete_bookings,
    move_booking,
)
from .reminders import send_due_before_care, send_due_reminders
from .retention import anonymise_old_bookings

__all__ = [
    "AFTER_THE_CONSULTATION",
    "PastClientCutoff",
    "SlotUnavailable",
    "StaleBooking",
    "TransitionNotAllowed",
    "anonymise_old_bookings",
    "book_consultation",
    "change_status",
    "confirm_attendance",
    "delete_bookings",
    "move_booking",
    "send_due_before_care",
    "send_due_reminders",
]
