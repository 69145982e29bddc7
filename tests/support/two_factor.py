"""
Two-factor sign-in in tests: real codes computed with pyotp (an
implementation of its own, not django-otp's), and a staff member signed in
with their second factor already passed, for tests about other pages.
"""

import time
from base64 import b32encode

import pyotp
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

STEP = 30


def authenticator_for(user):
    """The staff member's authenticator app, set up if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code(device_or_key, *, steps=0, at=None):
    """
    The code an authenticator app shows for a device (or a base32 key, as
    the enrolment page prints it), `steps` of 30 seconds away from now.
    """
    key = (
        device_or_key.replace(" ", "")
        if isinstance(device_or_key, str)
        else b32encode(device_or_key.bin_key).decode()
    )
    return pyotp.TOTP(key, interval=STEP).at((time.time() if at is None else at) + steps * STEP)


def let_next_code_through(device):
    """Clear django-otp's pause after a wrong code (1 second and more), as waiting would."""
    device.refresh_from_db()
    device.throttle_reset()


def sign_in_verified(client, user):
    """Sign `user` in as if they had typed their password and a code from their app."""
    device = authenticator_for(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def wait_for_a_fresh_step(margin=3):
    """
    Wait, when the current 30-second step ends within `margin` seconds, for
    the next one: a test that counts steps from now then finishes its request
    inside the same step.
    """
    left = STEP - time.time() % STEP
    if left < margin:
        time.sleep(left + 0.05)


def password_sign_in(client, username, password, address="203.0.113.9"):
    """The admin's sign-in form (django-axes counts it), followed to wherever it leads."""
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        follow=True,
    )


def wait_for_the_step_after(seconds_since_epoch):
    """Wait until the app shows a new code: the 30-second step after the one at that time."""
    next_step_starts = (seconds_since_epoch // STEP + 1) * STEP
    time.sleep(max(0, next_step_starts - time.time()) + 0.05)
