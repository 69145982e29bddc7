"""
Hypothesis fuzz of the waitlist's public pages, with the booking form's
strategies (tests/support/fuzz.py): whatever the join form is sent, the
answer is a page, never a 5xx, and an entry is stored only when every
answer is valid; forged leave and offer links change nothing.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from booking.form_tokens import new_form_token
from booking.models import ConsultationBooking, WaitlistEntry, WaitlistOffer
from booking.signed_links import WAITLIST_LEAVE_SALT, WAITLIST_OFFER_SALT
from tests.support.fuzz import (
    INJECTIONS,
    PLAUSIBLE,
    assert_no_markup_echoed,
    fuzz,
    nasty_text,
    rolled_back,
    sent_value,
)
from tests.support.waitlist import make_entry

pytestmark = pytest.mark.django_db

JOIN_URL = "/waitlist/"


def join_values():
    today = timezone.localdate()
    return {
        **{name: PLAUSIBLE[name] for name in ["full_name", "email", "phone", "consent", "website"]},
        "consultation_type": ("skin-assessment", "professional-facial-consultation", "nope", ""),
        "practitioner": ("", "maya-chen", "daniel-okafor", "nobody"),
        "weekdays": ("0", "4", "6", "7", "-1", "Monday"),
        "parts_of_day": ("morning", "afternoon", "evening", "night"),
        "earliest_day": (today.isoformat(), (today + timedelta(3)).isoformat(), "0001-01-01"),
        "latest_day": ((today + timedelta(10)).isoformat(), "9999-12-31", "2026-02-30"),
        "form_token": ("forged",),
    }


@pytest.fixture
def browser():
    client = Client()
    client.get(JOIN_URL)  # Sets the CSRF cookie the form token is bound to.
    return client


@fuzz(60)
@given(data=st.data())
def test_the_join_form_never_fails_and_stores_only_valid_entries(browser, data):
    values = join_values()
    fields = data.draw(st.sets(st.sampled_from(sorted(values)), min_size=1))
    sent = {name: data.draw(sent_value(values[name]), label=name) for name in sorted(fields)}
    if "form_token" not in fields:
        # A genuine token, as the page gives this browser (bound to its CSRF secret).
        sent["form_token"] = new_form_token(browser.cookies[settings.CSRF_COOKIE_NAME].value)
    with rolled_back():
        response = browser.post(JOIN_URL, sent)
        assert response.status_code in {200, 302, 429}, response.status_code
        assert_no_markup_echoed(response)
        for entry in WaitlistEntry.objects.all():
            entry.full_clean()
            assert entry.latest_day >= entry.earliest_day >= timezone.localdate() - timedelta(1)
            assert set(entry.weekdays) <= set("0123456")
            assert not any(ord(char) < 32 for char in entry.full_name)


@fuzz(40)
@given(
    value=st.one_of(
        st.integers(),
        st.text(max_size=40),
        st.sampled_from(INJECTIONS),
        st.lists(st.integers(), max_size=3),
    ),
    salt=st.sampled_from([WAITLIST_LEAVE_SALT, WAITLIST_OFFER_SALT, "booking.manage-link", "x"]),
    raw=nasty_text,
    action=st.sampled_from(["leave", "offer"]),
)
def test_forged_waitlist_links_change_nothing(browser, value, salt, raw, action):
    entry = make_entry()
    WaitlistOffer.objects.get_or_create(
        entry=entry,
        starts_at=timezone.now() + timedelta(days=3),
        defaults={"expires_at": timezone.now() + timedelta(hours=2)},
    )
    tokens = [signing.dumps(value, salt=salt, compress=False), raw.replace("/", "")]
    with rolled_back():
        for token in tokens:
            if not token or token.strip() != token:
                continue
            for method in (browser.get, browser.post):
                try:
                    response = method(f"/waitlist/{action}/{token}/")
                except ValueError:  # A control character the test client cannot put in a path.
                    continue
                assert response.status_code < 500, (token, response.status_code)
        real = (salt == WAITLIST_LEAVE_SALT and action == "leave") or (
            salt == WAITLIST_OFFER_SALT and action == "offer"
        )
        # A genuine signature over a number may name a real entry or offer;
        # anything else must leave them as they were.
        if not (real and isinstance(value, int)):
            entry.refresh_from_db()
            assert entry.status == WaitlistEntry.Status.WAITING
            assert not ConsultationBooking.objects.exists()
