"""Staff sign-in is protected against password guessing (django-axes, database handler)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("desk", password="right-password", is_staff=True)


def sign_in(client, password, address="203.0.113.9"):
    return client.post(LOGIN, {"username": "desk", "password": password}, REMOTE_ADDR=address)


def test_a_right_password_signs_in(client, staff):
    response = sign_in(client, "right-password")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(
    client, staff, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "guess").status_code == 200
    locked = sign_in(client, "guess")
    after = sign_in(client, "right-password")

    assert locked.status_code == 429
    assert after.status_code == 429
    assert "Sign-in paused" in after.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_address_so_a_colleague_elsewhere_can_still_sign_in(staff, settings):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "guess", address="198.51.100.66")

    colleague = Client()
    assert sign_in(colleague, "right-password", address="203.0.113.9").status_code == 302


def test_the_lockout_is_held_in_the_database_shared_by_every_worker(client, staff, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "guess")

    attempt = AccessAttempt.objects.get(username="desk")
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    # A new client (another worker, another instance) is refused just the same.
    assert sign_in(Client(), "right-password").status_code == 429


def test_the_lockout_page_says_when_to_try_again(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "guess")

    response = sign_in(client, "right-password")

    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/admin/"])
def test_a_sign_in_with_an_unsafe_next_lands_on_the_admin_index(client, staff, unsafe):
    response = client.post(
        f"/admin/login/?next={unsafe}",
        {"username": "desk", "password": "right-password", "next": unsafe},
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
