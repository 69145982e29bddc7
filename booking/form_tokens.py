"""
Form tokens, a leaf that imports nothing of booking's: each form page
carries a signed token holding a submission key (so a re-post books once),
the time the form was shown (a form sent back too fast is a bot's) and a
keyed hash of the visitor's CSRF secret (so a token works only in the
browser it was given to).
"""

import time
import uuid

from django.conf import settings
from django.core import signing
from django.middleware.csrf import get_token
from django.utils.crypto import constant_time_compare, salted_hmac

FORM_TOKEN_SALT = "booking.form-token"


def read_form_token(token, visitor=""):
    """
    (submission key, time the form was shown), or None if the token does not
    check out or was given to another browser than `visitor`.
    """
    try:
        payload = signing.loads(
            token or "", salt=FORM_TOKEN_SALT, max_age=settings.BOOKING_FORM_MAX_AGE_SECONDS
        )
        if not constant_time_compare(str(payload["v"]), _visitor_tag(visitor)):
            return None
        return str(payload["k"]), float(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def new_form_token(visitor="", *, shown_at=None):
    """A token for a new submission; `shown_at`, if given, is when its form was first opened."""
    return signing.dumps(
        {
            "k": uuid.uuid4().hex,
            "t": time.time() if shown_at is None else shown_at,
            "v": _visitor_tag(visitor),
        },
        salt=FORM_TOKEN_SALT,
    )


def continued_form_token(token, visitor=""):
    """
    A new token for a form shown again on the way (another practitioner's
    times, the health answers checked), keeping when `token`'s form was
    first opened: a person who spent time on the form and then pressed
    "Show times" is no quicker than a bot for sending it at once. A token
    that does not check out starts the clock again.
    """
    checked = read_form_token(token, visitor)
    return new_form_token(visitor, shown_at=checked[1] if checked else None)


def visitor_secret(request):
    """
    What binds a form token to the browser it was shown to: the secret in
    its CSRF cookie, which the booking page sets for every visitor and the
    CSRF check ties to each post. A session would do too, but would cost a
    session row for every view of the form.
    """
    get_token(request)  # Sets a secret for a browser that has none yet.
    return request.META["CSRF_COOKIE"]


def _visitor_tag(secret):
    # A keyed hash: the token's payload is readable, the secret must not be.
    return salted_hmac(FORM_TOKEN_SALT, secret, algorithm="sha256").hexdigest()[:20]
