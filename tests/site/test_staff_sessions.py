"""
Staff sessions end after STAFF_SESSION_IDLE_MINUTES idle and
STAFF_SESSION_MAX_HOURS in all; clients' sessions are not touched; a
password change signs the account out of its other sessions. Time is moved
by putting the session's own clocks back.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from staff_access.sessions import LAST_SEEN_AT, SIGNED_IN_AT
from tests.support.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/booking/consultationbooking/"


@pytest.fixture
def desk(django_user_model):
    user = django_user_model.objects.create_user(
        "desk", "desk@clinic.test", "old-password-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Front desk"))
    return user


def turn_back(client, key, seconds):
    session = client.session
    session[key] -= seconds
    session.save()


def signed_in(client):
    return "_auth_user_id" in client.session


def test_the_default_limits_are_thirty_minutes_idle_and_twelve_hours_in_all(settings):
    assert settings.STAFF_SESSION_IDLE_MINUTES == 30
    assert settings.STAFF_SESSION_MAX_HOURS == 12


def test_a_staff_session_idle_past_the_limit_is_signed_out_with_a_reason(client, desk, settings):
    sign_in_verified(client, desk)
    turn_back(client, LAST_SEEN_AT, settings.STAFF_SESSION_IDLE_MINUTES * 60 + 1)

    response = client.get(BOOKINGS, follow=True)

    assert not signed_in(client)
    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert "signed out after 30 minutes without activity" in response.content.decode()


def test_a_staff_session_just_inside_the_idle_limit_goes_on_and_is_renewed(client, desk, settings):
    sign_in_verified(client, desk)
    turn_back(client, LAST_SEEN_AT, settings.STAFF_SESSION_IDLE_MINUTES * 60 - 5)

    assert client.get(BOOKINGS).status_code == 200
    # The request counted as activity: another 29 minutes later it still goes on.
    turn_back(client, LAST_SEEN_AT, (settings.STAFF_SESSION_IDLE_MINUTES - 1) * 60)
    assert client.get(BOOKINGS).status_code == 200


def test_a_busy_staff_session_still_ends_after_the_limit_in_all(client, desk, settings):
    sign_in_verified(client, desk)
    turn_back(client, SIGNED_IN_AT, settings.STAFF_SESSION_MAX_HOURS * 3600 + 1)

    response = client.get(BOOKINGS, follow=True)

    assert not signed_in(client)
    assert "signed out after 12 hours" in response.content.decode()


def test_the_limits_come_from_the_settings(client, desk, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    sign_in_verified(client, desk)
    turn_back(client, LAST_SEEN_AT, 5 * 60 + 1)

    client.get(BOOKINGS)

    assert not signed_in(client)


def test_a_clients_session_is_not_held_to_the_staff_limits(client, django_user_model):
    visitor = django_user_model.objects.create_user("visitor", "visitor@example.com", "pw")
    client.force_login(visitor)

    client.get("/privacy/")

    # Without the staff clocks a staff session is ended (see the next test);
    # a client's never gets them and goes on.
    assert signed_in(client)
    assert LAST_SEEN_AT not in client.session


def test_a_staff_session_without_its_clocks_is_ended(client, desk):
    sign_in_verified(client, desk)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()

    client.get(BOOKINGS)

    assert not signed_in(client)


def test_a_new_sign_in_starts_the_clocks_again(client, desk, settings):
    sign_in_verified(client, desk)
    turn_back(client, SIGNED_IN_AT, settings.STAFF_SESSION_MAX_HOURS * 3600 - 60)

    sign_in_verified(client, desk)
    turn_back(client, LAST_SEEN_AT, 120)

    assert client.get(BOOKINGS).status_code == 200


# The sessions are rows in the database (Django's default session engine).
@pytest.mark.every_database
def test_changing_ones_password_signs_the_account_out_of_its_other_sessions(desk):
    here, elsewhere = sign_in_verified(Client(), desk), sign_in_verified(Client(), desk)
    assert elsewhere.get(BOOKINGS).status_code == 200

    response = here.post(
        "/admin/password_change/",
        {
            "old_password": "old-password-1",
            "new_password1": "a-new-long-password-2",
            "new_password2": "a-new-long-password-2",
        },
    )

    assert response.status_code == 302
    assert here.get(BOOKINGS).status_code == 200
    assert elsewhere.get(BOOKINGS)["Location"].startswith("/admin/login/")
    assert not signed_in(elsewhere)


@pytest.mark.every_database
def test_a_superuser_setting_a_password_signs_that_account_out_everywhere(desk, admin_client):
    elsewhere = sign_in_verified(Client(), desk)

    response = admin_client.post(
        f"/admin/auth/user/{desk.pk}/password/",
        {
            "usable_password": "true",
            "password1": "a-new-long-password-3",
            "password2": "a-new-long-password-3",
        },
    )

    assert response.status_code == 302
    assert elsewhere.get(BOOKINGS)["Location"].startswith("/admin/login/")
    assert admin_client.get(BOOKINGS).status_code == 200
