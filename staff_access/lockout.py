"""
django-axes' lockout, extended to the second factor.

Axes counts failed sign-ins per account and address and answers a locked
one with the 429 page (AXES_LOCKOUT_CALLABLE). A wrong code is counted as
one more failed sign-in of the same account, so guessing codes locks the
account just as guessing passwords does.

Axes' own reset on success is off (AXES_RESET_ON_SUCCESS): with it, every
right password would wipe the count of wrong codes that followed the last
one, and someone holding the password could guess codes forever, four at a
time. The count is cleared here instead, once sign-in is complete: after the
password for an account without a second factor, after the code otherwise.
"""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_lockout_response
from django.contrib.auth.signals import user_login_failed
from django_otp import user_has_device


def _credentials(user):
    return {"username": user.get_username()}


def is_locked_out(request, user):
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def lockout_response(request, user):
    return get_lockout_response(request, None, _credentials(user))


def record_wrong_code(request, user):
    """Count a wrong code as a failed sign-in; axes' middleware answers 429 once locked."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


def clear_failures(request, user):
    AxesProxyHandler.reset_attempts(
        ip_address=get_client_ip_address(request), username=user.get_username()
    )


def clear_failures_when_signed_in(sender, request, user, **kwargs):
    """The password was the whole sign-in: an account with no second factor."""
    if request is not None and not user_has_device(user):
        clear_failures(request, user)
