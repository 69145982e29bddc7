"""
Signing in with a second factor: the password, then a code from the app (or
a recovery code). Real codes from pyotp: right, wrong, reused, replayed in
the same step, a clock a step off either way; recovery codes once each; and
django-axes' lockout counting wrong codes as failed sign-ins.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff_access import services
from tests.support.two_factor import (
    authenticator_for,
    code,
    let_next_code_through,
    password_sign_in,
    sign_in_verified,
    wait_for_a_fresh_step,
)

pytestmark = pytest.mark.django_db

CODE_PAGE = "/admin/two-factor/code/"
PASSWORD = "right-password"
ADDRESS = "203.0.113.9"


@pytest.fixture
def lead(django_user_model):
    user = django_user_model.objects.create_user(
        "lead", "lead@clinic.test", PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="Clinical leads"))
    return user


@pytest.fixture
def app(lead):
    """The lead's authenticator app, set up earlier."""
    return authenticator_for(lead)


def signed_in_with_password(client=None):
    client = client or Client()
    response = password_sign_in(client, "lead", PASSWORD, address=ADDRESS)
    assert response.redirect_chain[-1][0] == CODE_PAGE
    return client


def send_code(client, value, next_page=None):
    path = CODE_PAGE + (f"?next={next_page}" if next_page else "")
    return client.post(path, {"code": value}, REMOTE_ADDR=ADDRESS)


def wrong(value):
    return f"{(int(value) + 500_000) % 1_000_000:06d}"


def test_the_password_alone_reaches_only_the_code_page(app):
    client = signed_in_with_password()

    for path in ["/admin/", "/admin/booking/consultationbooking/", "/admin/two-factor/enrol/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(CODE_PAGE), path
    page = client.get(CODE_PAGE)
    assert page.status_code == 200
    assert "Code from your authenticator app" in page.content.decode()


def test_the_right_code_signs_in_and_goes_on_to_the_page_asked_for(app):
    client = signed_in_with_password()
    wait_for_a_fresh_step()

    response = send_code(client, code(app), next_page="/admin/booking/consultationbooking/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/booking/consultationbooking/"
    assert client.get("/admin/booking/consultationbooking/").status_code == 200


def test_a_next_page_on_another_site_is_ignored(app):
    client = signed_in_with_password()
    wait_for_a_fresh_step()

    response = send_code(client, code(app), next_page="https://evil.example/")

    assert response["Location"] == "/admin/"


def test_a_wrong_code_is_refused_with_a_message(app):
    client = signed_in_with_password()

    response = send_code(client, wrong(code(app)))

    assert response.status_code == 200
    assert "That code is not right, or it was already used" in response.content.decode()
    assert client.get("/admin/")["Location"].startswith(CODE_PAGE)


@pytest.mark.parametrize("typed", ["", "12345", "hello!", "1" * 41])
def test_a_code_of_the_wrong_shape_gets_a_clear_message_and_is_not_counted(app, typed):
    client = signed_in_with_password()

    response = send_code(client, typed)

    assert response.status_code == 200
    assert 'class="errornote error-summary"' in response.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.every_database
def test_a_code_already_used_cannot_sign_in_again(app):
    wait_for_a_fresh_step()
    used = code(app)
    first = signed_in_with_password()
    assert send_code(first, used).status_code == 302

    # Someone who watched it typed, in the same 30 seconds, with the password.
    second = signed_in_with_password()
    response = send_code(second, used)

    assert response.status_code == 200
    assert "already used" in response.content.decode()


def test_an_earlier_code_is_refused_once_a_later_one_was_used(app):
    wait_for_a_fresh_step()
    assert send_code(signed_in_with_password(), code(app, steps=1)).status_code == 302

    response = send_code(signed_in_with_password(), code(app))

    assert response.status_code == 200


@pytest.mark.parametrize(("steps", "accepted"), [(-1, True), (1, True), (-2, False), (2, False)])
def test_a_phone_clock_a_step_off_is_accepted_and_two_steps_off_is_not(app, steps, accepted):
    client = signed_in_with_password()
    wait_for_a_fresh_step()

    response = send_code(client, code(app, steps=steps))

    assert (response.status_code == 302) is accepted


@pytest.mark.every_database
def test_a_recovery_code_signs_in_once(lead, app):
    recovery = services.issue_recovery_codes(user=lead)
    client = signed_in_with_password()

    response = send_code(client, recovery[0].lower().replace("-", " "))
    assert response.status_code == 302
    message = client.get("/admin/").content.decode()
    assert "You signed in with a recovery code; 9 left" in message

    again = send_code(signed_in_with_password(), recovery[0])
    assert again.status_code == 200
    assert "That recovery code is not right, or it was already used" in again.content.decode()
    assert send_code(signed_in_with_password(), recovery[1]).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(lead, app, client):
    old = services.issue_recovery_codes(user=lead)
    sign_in_verified(client, lead)
    assert "10 unused recovery codes" in client.get("/admin/two-factor/").content.decode()

    new = client.post("/admin/two-factor/").content.decode()

    assert old[0] not in new
    assert send_code(signed_in_with_password(), old[0]).status_code == 200
    fresh = new.split('<ol id="recovery-codes">')[1].split("<code>")[1].split("</code>")[0]
    assert send_code(signed_in_with_password(), fresh).status_code == 302


def test_a_code_straight_after_a_wrong_one_is_told_to_wait_and_not_counted(app):
    client = signed_in_with_password()
    send_code(client, wrong(code(app)))

    response = send_code(client, code(app))

    assert "Too many wrong codes in a row: wait" in response.content.decode()
    assert AccessAttempt.objects.get(username="lead").failures_since_start == 1


@pytest.mark.every_database
def test_wrong_codes_lock_the_account_like_wrong_passwords(app, settings):
    client = signed_in_with_password()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert send_code(client, wrong(code(app))).status_code == 200
        let_next_code_through(app)

    locked = send_code(client, wrong(code(app)))
    let_next_code_through(app)
    wait_for_a_fresh_step()
    right_code = send_code(client, code(app))
    password_again = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "lead", "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
    )

    cool_off = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    for response in (locked, right_code, password_again):
        assert response.status_code == 429
        assert response["Retry-After"] == cool_off
        assert "Sign-in paused" in response.content.decode()
    assert client.get("/admin/booking/consultationbooking/")["Location"].startswith(CODE_PAGE)


def test_the_right_password_again_does_not_wipe_the_count_of_wrong_codes(app, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client = signed_in_with_password()
        send_code(client, wrong(code(app)))
        let_next_code_through(app)

    response = send_code(signed_in_with_password(), wrong(code(app)))

    assert response.status_code == 429


def test_the_right_code_clears_the_count_of_failures(app, settings):
    client = signed_in_with_password()
    send_code(client, wrong(code(app)))
    let_next_code_through(app)
    wait_for_a_fresh_step()

    assert send_code(client, code(app)).status_code == 302
    assert not AccessAttempt.objects.filter(username="lead").exists()


def test_a_superuser_resets_a_lost_phone_and_the_member_enrols_again(lead, app, client, admin_user):
    services.issue_recovery_codes(user=lead)
    member = sign_in_verified(Client(), lead)
    assert member.get("/admin/").status_code == 200
    sign_in_verified(client, admin_user)

    response = client.post(
        "/admin/staff_access/authenticatorapp/",
        {"action": "reset_two_factor_sign_in", "_selected_action": [app.pk]},
        follow=True,
    )

    assert "Two-factor sign-in reset for 1 staff member(s)" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=lead).exists()
    assert not services.recovery_codes_of(lead)
    entry = LogEntry.objects.get(object_id=str(lead.pk))
    assert entry.user == admin_user
    assert "Reset two-factor sign-in" in entry.get_change_message()
    assert member.get("/admin/")["Location"].startswith("/admin/two-factor/enrol/")


def test_only_superusers_see_the_authenticator_apps(lead, app, client):
    sign_in_verified(client, lead)

    assert client.get("/admin/staff_access/authenticatorapp/").status_code == 403
    assert client.get(f"/admin/staff_access/authenticatorapp/{app.pk}/change/").status_code == 403


def test_the_authenticator_list_shows_no_secret_key(app, admin_client):
    listing = admin_client.get("/admin/staff_access/authenticatorapp/")
    detail = admin_client.get(f"/admin/staff_access/authenticatorapp/{app.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    for response in (listing, detail):
        assert app.key not in response.content.decode()
        assert "otpauth://" not in response.content.decode()
    # django-otp's own device admin, which shows keys and QR codes, is gone.
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_for_an_account_without_a_second_factor_the_right_password_clears_the_failures(
    django_user_model, settings
):
    django_user_model.objects.create_user("editor", password=PASSWORD, is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        password_sign_in(Client(), "editor", "guess", address=ADDRESS)

    assert password_sign_in(Client(), "editor", PASSWORD, address=ADDRESS).status_code == 200
    assert not AccessAttempt.objects.filter(username="editor").exists()
    # So one more slip later is not a lockout.
    assert password_sign_in(Client(), "editor", "guess", address=ADDRESS).status_code == 200
