"""
Two-factor sign-in, enforced on every page: after django-otp's OTPMiddleware
(which tells whether this session passed a second factor).

A staff account that must use a second factor (models.second_factor_required)
and has none yet reaches only the enrolment page; one with an authenticator
app whose session has not passed it reaches only the code page. Every other
page, the admin's and the public site's alike, redirects there, so a
half-finished sign-in carries no staff privilege anywhere (the booking form
treats staff differently). Signing out always works.
"""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from .models import second_factor_required
from .sessions import carries_a_session

PAGE_FOR = {"enrol": "staff_access:enrol", "code": "staff_access:second_factor"}


def second_factor_missing(user):
    """Where an account must go before anything else: 'enrol', 'code', or None."""
    if not (user.is_authenticated and user.is_staff) or user.is_verified():
        return None
    if user_has_device(user):
        return "code"
    return "enrol" if second_factor_required(user) else None


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not carries_a_session(request) or request.resolver_match.view_name == "admin:logout":
            return None
        missing = second_factor_missing(request.user)
        if missing is None or request.resolver_match.view_name == PAGE_FOR[missing]:
            return None
        target = reverse(PAGE_FOR[missing])
        # Back to the page asked for once the code is in; a form sent
        # half-signed-in is not replayed, so it leads to the admin's index.
        after = request.get_full_path() if request.method in ("GET", "HEAD") else None
        if after and after != reverse("admin:index"):
            target += "?" + urlencode({"next": after})
        return redirect(target)
