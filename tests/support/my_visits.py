"""Helpers for the "My visits" tests: a browser signed in for an address, and the page's text."""

from booking.models import SignInLink

MY_VISITS = "/my-visits/"
SIGN_IN = "/my-visits/sign-in/"


def link_path(token):
    return f"/my-visits/link/{token}/"


def sign_in_as(client, email):
    """Sign `client` in for `email` through a fresh link, as the emailed link does."""
    _, token = SignInLink.issue(email)
    response = client.post(link_path(token))
    assert response.status_code == 302 and response.url == MY_VISITS, response.status_code
    return client
