"""
Staff session limits: signed out after STAFF_SESSION_IDLE_MINUTES without a
request, and after STAFF_SESSION_MAX_HOURS in all, however busy.

Only staff accounts: SESSION_COOKIE_AGE stays as long as the clients' own
sign-in needs, and the limits are kept here, in the session itself, as the
time of signing in and of the last request seen.

A password change needs nothing here: Django keeps a hash of the password
in each session and refuses a session whose hash no longer matches, so
changing a password (on the admin's page, or a superuser setting it) signs
the account out everywhere else; the page that changed it keeps its own
session (update_session_auth_hash).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

SIGNED_IN_AT = "staff_signed_in_at"
LAST_SEEN_AT = "staff_last_seen_at"
# The last-seen time is written at most this often, so a busy page does not
# save the session on every request; the idle limit is kept to the minute.
LAST_SEEN_PRECISION_SECONDS = 60


def _now():
    # The machine's clock, not timezone.now(): these are seconds elapsed,
    # and the tests that set the clinic's clock to another day (mocking
    # timezone.now) must not age a session by it.
    return time.time()


def start_staff_session(sender, request, user, **kwargs):
    """On signing in (the password step): the session's clocks start."""
    if request is not None and hasattr(request, "session") and user.is_staff:
        now = _now()
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN_AT] = now


def session_expiry(session, now):
    """Why the staff session has run out, or None while it has not."""
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen_at = session.get(LAST_SEEN_AT)
    if signed_in_at is None or last_seen_at is None:
        # A session from before these limits: it has no clocks to trust.
        return "Your session has ended. Please sign in again."
    if now - signed_in_at > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return (
            f"You were signed out after {settings.STAFF_SESSION_MAX_HOURS} hours. "
            "Please sign in again."
        )
    if now - last_seen_at > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return (
            f"You were signed out after {settings.STAFF_SESSION_IDLE_MINUTES} minutes without "
            "activity. Please sign in again."
        )
    return None


def carries_a_session(request):
    """
    Whether the request came with a session cookie: without one nobody is
    signed in, and the session is left unread, so the page cache may still
    store the page (treatments/caching.py stores none that read it).
    """
    return settings.SESSION_COOKIE_NAME in request.COOKIES


class StaffSessionLimitsMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware: ends a staff session past its limits."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if carries_a_session(request) and user.is_authenticated and user.is_staff:
            now = _now()
            expired = session_expiry(request.session, now)
            if expired:
                # The request goes on signed out: the admin sends it to the
                # sign-in page, which shows why.
                logout(request)
                messages.info(request, expired)
            elif now - request.session[LAST_SEEN_AT] >= LAST_SEEN_PRECISION_SECONDS:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)
