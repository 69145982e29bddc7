"""
How the database refuses to give a practitioner two overlapping bookings,
as the booking service recognises it (booking/services/bookings.py), or two
overlapping windows of working hours, as the admin recognises it.
"""

from django.db import IntegrityError

from booking.sqlite import HOURS_REFUSAL, HOURS_TABLE, REFUSAL, TABLE

DEADLOCK = "40P01"  # PostgreSQL's "deadlock detected"


def refused_as_overlap(error):
    """
    Whether the database refused a booking's save for an overlap: the
    exclusion constraint (PostgreSQL) or the triggers (SQLite) named it; or,
    on PostgreSQL, two transactions each wrote a row overlapping the other's
    and each waited to check it against the other's (a deadlock the
    exclusion constraint's check can meet, which unique indexes avoid):
    PostgreSQL gives one up, for which the time is taken, and the other
    takes the time.
    """
    if isinstance(error, IntegrityError):
        return REFUSAL in str(error)
    return (
        getattr(error.__cause__, "sqlstate", None) == DEADLOCK
        and "exclusion constraint" in str(error)
        and TABLE in str(error)
    )


def refused_as_overlapping_hours(error):
    """
    Whether the database refused a save of working hours for a window
    overlapping another of the practitioner's that day: the exclusion
    constraint (PostgreSQL) or the triggers (SQLite) named it; or, on
    PostgreSQL, two transactions each wrote such a window and each waited to
    check it against the other's (the deadlock described above).
    """
    if isinstance(error, IntegrityError):
        return HOURS_REFUSAL in str(error)
    return (
        getattr(error.__cause__, "sqlstate", None) == DEADLOCK
        and "exclusion constraint" in str(error)
        and HOURS_TABLE in str(error)
    )
