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

from enum import Enum
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from .models import second_factor_required
from .sessions import carries_a_session


class StillToDo(Enum):
    """What an account must do before any other page; the value is that page's URL name."""

    NOTHING = None
    ENROL = "staff_access:enrol"
    CODE = "staff_access:second_factor"


def still_to_do(user):
    if not (user.is_authenticated and user.is_staff) or user.is_verified():
        return StillToDo.NOTHING
    if user_has_device(user):
        return StillToDo.CODE
    return StillToDo.ENROL if second_factor_required(user) else StillToDo.NOTHING


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not carries_a_session(request) or request.resolver_match.view_name == "admin:logout":
            return None
        page = still_to_do(request.user).value
        if page is None or request.resolver_match.view_name == page:
            return None
        target = reverse(page)
        # Back to the page asked for once the code is in; a form sent
        # half-signed-in is not replayed, so it leads to the admin's index.
        after = request.get_full_path() if request.method in ("GET", "HEAD") else None
        if after and after != reverse("admin:index"):
            target += "?" + urlencode({"next": after})
        return redirect(target)
