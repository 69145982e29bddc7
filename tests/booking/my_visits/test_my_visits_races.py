"""
One sign-in link opened by many browsers at the same moment signs in
exactly one: using it is a conditional UPDATE, which real concurrent
transactions (PostgreSQL, threads) cannot both pass.
"""

import pytest
from django.test import Client

from booking.models import SignInLink
from tests.support.booking import all_at_once
from tests.support.my_visits import link_path

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BROWSERS = 8


def test_one_link_opened_by_eight_browsers_at_once_signs_in_one():
    _, token = SignInLink.issue("ada.quinterra@example.com")
    browsers = [Client() for _ in range(BROWSERS)]
    results = all_at_once(lambda n: browsers[n].post(link_path(token)), BROWSERS)
    statuses = sorted(getattr(result, "status_code", repr(result)) for result in results)
    assert statuses == [302] + [410] * (BROWSERS - 1)
    assert sum("my_visits" in browser.session for browser in browsers) == 1
