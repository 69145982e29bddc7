"""
A client's "My visits" sign-in, kept apart from staff sign-in: the session
holds only the normalised address under its own key, with its own end
(MY_VISITS_SESSION_DAYS), and never a Django user, so it grants nothing
in the admin and staff sign-in (and its idle limit) never reads it.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone

SESSION_KEY = "my_visits"


def signed_in_email(request):
    """The address this browser is signed in to "My visits" for, or None."""
    held = request.session.get(SESSION_KEY)
    if not isinstance(held, dict) or not isinstance(held.get("email"), str):
        return None
    if held.get("until", 0) <= timezone.now().timestamp():
        return None
    return held["email"]


def sign_in(request, email):
    """Sign this browser in for `email`, in a new session key (no fixation)."""
    request.session.cycle_key()
    period = timedelta(days=settings.MY_VISITS_SESSION_DAYS)
    request.session[SESSION_KEY] = {
        "email": email,
        "until": (timezone.now() + period).timestamp(),
    }
    # The cookie lasts as long as the sign-in, unless staff share the browser's
    # session: their sign-in keeps its own expiry.
    if not request.user.is_authenticated:
        request.session.set_expiry(period)


def sign_out(request):
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


class ClientSignInRequired:
    """A view of "My visits" for a signed-in browser; others go to the sign-in form."""

    def dispatch(self, request, *args, **kwargs):
        self.client_email = signed_in_email(request)
        if self.client_email is None:
            if request.method == "POST":
                messages.info(request, "Your sign-in has ended. Please ask for a new link.")
            return redirect("booking:my_visits")
        return super().dispatch(request, *args, **kwargs)
