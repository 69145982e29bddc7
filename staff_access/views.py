"""
The staff member's own two-factor pages, inside the admin's frame: enrolling
an authenticator app, the code step of signing in, and the overview with new
recovery codes. Wrapped by admin_view (staff only, never cached) in urls.py.
"""

import secrets
from base64 import b32encode
from binascii import unhexlify

import django_otp
import segno
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import lockout, services
from .forms import DIGITS, STEP_SECONDS, EnrolmentForm, SecondFactorForm
from .models import RecoveryCodes, second_factor_required

# The key of an enrolment in progress: kept in the session until the app's
# first code proves it was added, so an abandoned enrolment leaves no device.
PENDING_KEY = "staff_access_pending_key"


def _page(request, template, title, **context):
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), "title": title, **context}
    )


def _next_page(request):
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("admin:index")


def _grouped(key_base32):
    return " ".join(key_base32[i : i + 4] for i in range(0, len(key_base32), 4))


def enrol(request):
    """Add an authenticator app: scan or type the key, confirm with its code."""
    if services.authenticator_of(request.user):
        return redirect("staff_access:overview")
    key = request.session.get(PENDING_KEY)
    if key is None:
        key = request.session[PENDING_KEY] = secrets.token_hex(20)
    form = EnrolmentForm(request.POST or None, key=key)
    if request.method == "POST" and form.is_valid():
        enrolment = services.enrol_authenticator(
            user=request.user, key=key, verified_step=form.verified_step
        )
        del request.session[PENDING_KEY]
        django_otp.login(request, enrolment.authenticator)
        # The codes exist in the clear only in this response, so it is shown
        # here rather than after a redirect: reloading cannot show them again.
        return _page(
            request,
            "staff_access/recovery_codes.html",
            "Your recovery codes",
            recovery_codes=enrolment.recovery_codes,
            just_enrolled=True,
        )
    # The app is set up as an unsaved device would describe it.
    setup_url = TOTPDevice(user=request.user, key=key, step=STEP_SECONDS, digits=DIGITS).config_url
    return _page(
        request,
        "staff_access/enrol.html",
        "Set up two-factor sign-in",
        form=form,
        qr_code=segno.make(setup_url, error="m").svg_data_uri(scale=5, border=2),
        key=_grouped(b32encode(unhexlify(key)).decode()),
        required=second_factor_required(request.user),
    )


def second_factor(request):
    """The code step of signing in, after the password."""
    user = request.user
    if user.is_verified():
        return redirect(_next_page(request))
    if services.authenticator_of(user) is None:
        return redirect("staff_access:enrol")
    if lockout.is_locked_out(request, user):
        return lockout.lockout_response(request, user)
    form = SecondFactorForm(request.POST or None, user=user)
    if request.method == "POST":
        if form.is_valid():
            django_otp.login(request, form.device)
            lockout.clear_failures(request, user)
            if isinstance(form.device, RecoveryCodes):
                left = form.device.codes_left()
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Each works once: "
                    "make new ones from Two-factor sign-in if you are running short.",
                )
            return redirect(_next_page(request))
        if form.wrong_code:
            lockout.record_wrong_code(request, user)
    return _page(
        request,
        "staff_access/second_factor.html",
        "Two-factor sign-in",
        form=form,
        next=_next_page(request),
    )


def overview(request):
    """The account's two-factor sign-in: what is set up; new recovery codes."""
    authenticator = services.authenticator_of(request.user)
    if request.method == "POST" and authenticator is not None:
        codes = services.issue_recovery_codes(user=request.user)
        return _page(
            request,
            "staff_access/recovery_codes.html",
            "Your new recovery codes",
            recovery_codes=codes,
            just_enrolled=False,
        )
    recovery = services.recovery_codes_of(request.user)
    return _page(
        request,
        "staff_access/overview.html",
        "Two-factor sign-in",
        authenticator=authenticator,
        codes_left=recovery.codes_left() if recovery else 0,
        required=second_factor_required(request.user),
        for_all_staff=settings.TWO_FACTOR_FOR_ALL_STAFF,
    )
