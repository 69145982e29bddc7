"""
Hypothesis fuzz of the public forms: the booking form, the guide and the
manage link. Whatever a visitor or a bot sends (any unicode, very long
strings, control characters, SQL and HTML injection, impossible dates,
forged slots and tokens, repeated fields, any consultation type and
practitioner), the site answers with a page, never a 5xx, and never stores
a booking the form should have refused: only a time offered for that type
with the practitioner who got it, who holds the type.

Each test reads what it needs once (the form as first shown, the offered
slots) and freezes the clinic's clock; every example then runs in a
savepoint that is rolled back, so all examples start from the same
database and the same free slots. The suite's database decides where they
run: SQLite, or PostgreSQL, which refuses NUL characters in text and so
catches any that reach a query.

Strategies that depend on the database are built once per test, in
fixtures, and drawn from with `st.data()`: building them per example would
spend most of the time validating strategies.
"""

import json
import re
import time
import unicodedata
from base64 import urlsafe_b64encode
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from booking.form_tokens import FORM_TOKEN_SALT, new_form_token
from booking.models import (
    REFERENCE_ALPHABET,
    ConsultationBooking,
    ConsultationType,
    OutboundEmail,
    Practitioner,
)
from booking.services.schedule import Slot, bookable_slots
from booking.signed_links import SALT as MANAGE_LINK_SALT
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    book,
    clinic_clock,
    filled_booking_form,
    page,
)
from tests.support.fuzz import (
    PLAUSIBLE,
    any_text,
    assert_no_markup_echoed,
    fuzz,
    nasty_text,
    rolled_back,
    sent_value,
)
from treatments.models import SkinConcern, SkinGoal, SkinSensitivity, Treatment

pytestmark = pytest.mark.django_db


def slot_text(moment):
    """Any datetime in the form's slot format, years zero-padded like the real thing."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}Z"
    )


IMPOSSIBLE_SLOTS = [
    "0001-01-01T00:00Z",
    "9999-12-31T23:59Z",
    "2026-02-30T10:00Z",
    "2026-13-01T10:00Z",
    "2026-04-31T10:00Z",
    "2026-01-01T24:00Z",
    "2026-01-01T10:60Z",
    "-001-01-01T10:00Z",
    "",
    " ",
    "null",
    "1e309",
]
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
OTHER_FORMATS = (
    lambda moment: moment.isoformat(),
    lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    lambda moment: moment.strftime("%Y-%m-%dT%H:%Mz"),
    lambda moment: moment.strftime("%Y-%m-%d %H:%MZ"),
    lambda moment: slot_text(timezone.localtime(moment)),  # clinic time, labelled UTC
    lambda moment: f" {slot_text(moment)} ",
    lambda moment: slot_text(moment).translate(FULLWIDTH_DIGITS),
)


def slot_values(offered, *extra):
    """
    Slot values: the offered ones, near misses (a minute, a week, a year
    off), other spellings of an offered instant, any instant from year 1 to
    9999, impossible dates, `extra` values, and anything at all.
    """
    # By index: a strategy sampling the list itself would print it whole in reports.
    any_offered = st.integers(0, len(offered) - 1).map(offered.__getitem__)
    near_miss = st.builds(
        lambda starts_at, minutes: slot_text(starts_at + timedelta(minutes=minutes)),
        any_offered,
        st.one_of(
            st.sampled_from([-1, 1, 15, -15, 29, 60 * 24 * 7, -60 * 24 * 7, 60 * 24 * 365]),
            st.integers(-60 * 24 * 400, 60 * 24 * 400),
        ),
    )
    other_format = st.builds(
        lambda starts_at, render: render(starts_at),
        any_offered,
        st.sampled_from(OTHER_FORMATS),
    )
    one = st.one_of(
        any_offered.map(slot_text),
        near_miss,
        other_format,
        st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59)).map(slot_text),
        st.sampled_from([*IMPOSSIBLE_SLOTS, *extra]),
        nasty_text,
    )
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))


def last(value):
    """What Django reads from a field sent several times: the last value (none if none sent)."""
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def named(strategy):
    """
    The strategy as a fixture hands it over: Hypothesis prints a failing
    example's fixtures in full, and a strategy's own repr runs to pages.
    """
    return st.deferred(lambda: strategy)


# Tokens, genuine and forged.


class _BackdatedSigner(signing.TimestampSigner):
    """Signs as if it were `days` ago: a genuine token that has expired."""

    def __init__(self, *, days, **kwargs):
        super().__init__(**kwargs)
        self.days = days

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - self.days * 24 * 3600)


def backdated(obj, *, salt, days):
    return _BackdatedSigner(salt=salt, days=days).sign_object(obj)


def tampered(token, at, char):
    at %= len(token)
    return token[:at] + char + token[at + 1 :]


def lookalike(payload, timestamp, signature):
    """Shaped like a signed token (payload:timestamp:signature), signed by nobody."""
    encoded = urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{encoded}:{signing.b62_encode(timestamp)}:{signature}"


form_token_payloads = st.one_of(
    st.fixed_dictionaries({"k": any_text, "t": st.floats(allow_nan=False)}),
    st.recursive(
        st.none() | st.booleans() | st.integers() | any_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
        max_leaves=6,
    ),
)
signatures = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
    max_size=50,
)


def forged_tokens(genuine, *, salt, payloads):
    """Anything but a token this site signed: made up, signed with the wrong key or salt, altered."""
    return st.one_of(
        nasty_text,
        st.builds(lookalike, payloads, st.integers(0, 2**40), signatures),
        st.builds(lambda obj: signing.dumps(obj, salt=salt, key="not-the-secret-key"), payloads),
        st.builds(lambda obj: signing.dumps(obj, salt="some.other.salt"), payloads),
        st.builds(tampered, st.just(genuine), st.integers(0, 10_000), st.characters()).filter(
            lambda token: token != genuine
        ),
        st.builds(lambda cut: genuine[:cut], st.integers(0, len(genuine) - 1)),
        st.builds(lambda junk: genuine + junk, st.text(min_size=1, max_size=6)),
        st.builds(lambda junk: junk + genuine, st.text(min_size=1, max_size=6)),
    )


# Query strings.

RAW_QUERY_ALPHABET = st.sampled_from(list("%&=+;?#/.-_ 0123456789abcdefABCDEFxz\x00\n\t'\"<>é😀"))


def query_strings(plausible, keys):
    """Parameters (some repeated, some unknown) or raw text with broken %-escapes."""
    params = st.dictionaries(
        st.one_of(st.sampled_from(keys), any_text), sent_value(tuple(plausible)), max_size=4
    )
    return st.one_of(params, st.text(RAW_QUERY_ALPHABET, max_size=80))


DATES_AND_SLUGS = (
    "professional-facial",
    "medical-grade-facial",
    ASSESSMENT,
    MEDICAL_CONSULTATION,
    ESTHETICIAN,
    NURSE_PRACTITIONER,
    "2026-12-07",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "-2026-01-01",
    "20261207",
)


# --- What must hold ------------------------------------------------------------

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Unicode's control characters (C0, DEL, C1) and format characters (zero-width
# and text-direction marks): no one types them. A message may keep its line
# breaks and tabs; nothing else stored may hold any, but the joiners some
# scripts and emoji are spelt with.
LINE_BREAKS_AND_TABS = frozenset("\t\n\r")
JOINERS = frozenset("\u200c\u200d")


def control_characters(value, *, allowed=frozenset()):
    return sorted(
        {
            char
            for char in value
            if unicodedata.category(char) in {"Cc", "Cf"} and char not in allowed | JOINERS
        }
    )


def fresh_form_token(browser):
    """A new form token for this browser, as the booking page gives it (bound to its CSRF cookie)."""
    return new_form_token(browser.cookies[settings.CSRF_COOKIE_NAME].value)


def post_form(client, path, fields):
    """POST as a browser posts these forms: URL-encoded, repeated fields kept."""
    return client.post(
        path, urlencode(fields, doseq=True), content_type="application/x-www-form-urlencoded"
    )


def get_with(client, path, query):
    if isinstance(query, str):
        return client.get(f"{path}?{query}")
    return client.get(path, query)


def expected_page_status(response):
    """
    200, or the site's 400 page for a query string holding a NUL: the site
    refuses those before any view reads them (tests/site/test_nul_bytes.py).
    """
    query = response.request.get("QUERY_STRING", "")
    return 400 if "\x00" in query or "%00" in query else 200


def assert_valid_stored_booking(booking, offered, named_practitioner=None):
    """
    A booking the public form stored: what a correct form lets through,
    nothing more. `named_practitioner` is the slug the form sent, if any.
    """
    booking.full_clean()
    kind, person = booking.consultation_type, booking.practitioner
    assert offered.holds(kind, person, booking.starts_at), (
        f"{booking.starts_at} was never offered for {kind.slug} with {person.slug}"
    )
    assert kind.bookable_online and person.takes_online_bookings and person.is_active
    assert kind.is_held_by(person), f"{person.slug} does not hold {kind.slug}"
    if named_practitioner:
        assert person.slug == named_practitioner, f"asked for {named_practitioner}, got {person}"
    assert booking.ends_at == booking.starts_at + kind.length
    assert booking.blocks_until == booking.ends_at + kind.turnover
    assert booking.treatment == kind.treatment
    phone = str(booking.phone)
    assert E164.fullmatch(phone), f"phone {phone!r} is not E.164"
    assert booking.phone.is_valid()
    for field in ("full_name", "email", "phone", "preferred_contact"):
        value = str(getattr(booking, field))
        assert not control_characters(value), (
            f"{field} stored with control characters {control_characters(value)}: {value!r}"
        )
    found = control_characters(booking.message, allowed=LINE_BREAKS_AND_TABS)
    assert not found, f"message stored with control characters {found}: {booking.message!r}"
    assert booking.full_name.strip(), "a blank name was stored"
    assert booking.treatment is None or booking.treatment in Treatment.objects.published()
    assert set(booking.concerns.all()) <= set(SkinConcern.objects.for_guide())
    # Written in one transaction with its history and its two messages.
    assert list(booking.status_changes.values_list("from_status", "to_status")) == [
        ("", ConsultationBooking.Status.REQUESTED)
    ]
    assert sorted(booking.emails.values_list("kind", flat=True)) == sorted(
        [OutboundEmail.Kind.RECEIPT, OutboundEmail.Kind.CLINIC_ALERT]
    )


def booked_from(client, response):
    """The booking a 302 from the booking form points at; its page must render too."""
    reference = response.url.rstrip("/").rsplit("/", 1)[-1]
    assert response.url == f"/book/received/{reference}/"
    received = client.get(response.url)
    assert received.status_code == 200
    assert_no_markup_echoed(received)
    return ConsultationBooking.objects.get(reference=reference)


def assert_booking_outcome(client, response, *, bookings_before, offered, sent):
    """Never a 5xx; a booking only on a redirect, and then a valid one."""
    assert response.status_code in {200, 302, 429}, f"answered {response.status_code}"
    assert_no_markup_echoed(response)
    if response.status_code == 302:
        # An empty list sends no field at all.
        assert sent.get("show_times") in (None, []), "“Show times” booked"
        assert ConsultationBooking.objects.count() == bookings_before + 1
        booking = booked_from(client, response)
        assert_valid_stored_booking(booking, offered, last(sent.get("practitioner")))
        return booking
    assert ConsultationBooking.objects.count() == bookings_before, "a refused form booked"
    return None


def booking_state(booking):
    booking.refresh_from_db()
    return booking.status, booking.starts_at, booking.ends_at, booking.calendar_sequence


def manage_path(token):
    # Quoted whole: a token with a slash must reach the site, not split the path.
    return f"/book/manage/{quote(token, safe='')}/"


class Slots(list):
    """Start times; a short repr keeps Hypothesis's report of a failing example readable."""

    def __repr__(self):
        return f"<{len(self)} slots from {self[0]:%Y-%m-%d %H:%M} UTC>" if self else "<no slots>"


class Offered:
    """The times offered online for each consultation type with each practitioner."""

    def __init__(self):
        self.times = {
            (kind.pk, person.pk): frozenset(
                slot.starts_at for slot in bookable_slots(kind, practitioner=person)
            )
            for kind in ConsultationType.objects.all()
            for person in Practitioner.objects.all()
        }

    def holds(self, kind, person, starts_at):
        return starts_at in self.times[kind.pk, person.pk]

    def __repr__(self):
        return f"<times for {len(self.times)} types and practitioners>"


# --- Fixtures ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    # Every example comes from the same address; the limit has its own tests.
    # Here each valid submission must reach the database, to be checked there.
    settings.BOOKING_RATE_LIMIT = 10**9


@pytest.fixture
def frozen_clock():
    # The offered slots must not change while the examples run (a slot at
    # the horizon could come into reach halfway through).
    with clinic_clock(timezone.now()) as now:
        yield now


@pytest.fixture
def browser():
    return Client()


@pytest.fixture
def taken(frozen_clock):
    """
    A booking holding the first free time, whose other practitioner is
    booked then too: a forged post for that time must be refused.
    """
    booking = book()
    book(booking.starts_at)
    return booking


@pytest.fixture
def offered(taken):
    """The times offered for every type with every practitioner (the taken one is not among them)."""
    offered = Offered()
    assert not any(taken.starts_at in times for times in offered.times.values())
    return offered


@pytest.fixture
def offered_times(taken):
    """The times the untouched form offers: a skin assessment, any practitioner."""
    slots = Slots(
        slot.starts_at for slot in bookable_slots(ConsultationType.objects.get(slug=ASSESSMENT))
    )
    assert slots and taken.starts_at not in slots
    return slots


@pytest.fixture
def blank_form(browser, taken):
    """
    What a visitor posts for a valid booking (the first time still free, as
    the page shows it once `taken` is booked); examples post it with a fresh
    form token unless the token is what they test.
    """
    _, data = filled_booking_form(browser)
    assert data["slot"] != slot_text(taken.starts_at)
    assert (data["consultation_type"], data["practitioner"]) == (ASSESSMENT, "")
    return data


@pytest.fixture
def choices():
    """The slugs the booking form and the guide offer, from the seeded content."""
    return {
        "consultation_type": tuple(ConsultationType.objects.values_list("slug", flat=True)),
        "practitioner": ("", *Practitioner.objects.values_list("slug", flat=True)),
        "treatment": ("", *Treatment.objects.published().values_list("slug", flat=True)),
        "concerns": tuple(SkinConcern.objects.for_guide().values_list("slug", flat=True)),
        "sensitivity": tuple(SkinSensitivity.objects.for_guide().values_list("slug", flat=True)),
        "goal": tuple(SkinGoal.objects.for_guide().values_list("slug", flat=True)),
    }


@pytest.fixture
def moving(taken):
    """
    A third booking, to be moved through its manage link, and the times it
    may move to: with its practitioner, and with any.
    """
    booking = book()

    def times(**options):
        return Slots(
            slot.starts_at
            for slot in bookable_slots(booking.consultation_type, ignore_booking=booking, **options)
        )

    return booking, times(practitioner=booking.practitioner), times()


# --- The booking form ----------------------------------------------------------


@pytest.fixture
def booking_answers(choices):
    """One to three fields of the form changed, each to anything at all."""
    per_field = {
        **{field: sent_value(values) for field, values in PLAUSIBLE.items()},
        "consultation_type": sent_value(choices["consultation_type"]),
        "practitioner": sent_value(choices["practitioner"]),
        # The old form's treatment select, from a page cached before it went.
        "treatment": sent_value(choices["treatment"]),
        "concerns": sent_value(choices["concerns"]),
    }
    changed = st.lists(st.sampled_from(sorted(per_field)), min_size=1, max_size=3, unique=True)
    return named(
        changed.flatmap(
            lambda fields: st.fixed_dictionaries({field: per_field[field] for field in fields})
        )
    )


@fuzz(150)
@given(data=st.data())
def test_booking_form_never_fails_and_stores_only_valid_bookings_whatever_the_fields_hold(
    browser, blank_form, offered, booking_answers, data
):
    answers = data.draw(booking_answers, label="answers")
    sent = {**blank_form, "form_token": fresh_form_token(browser), **answers}
    with rolled_back():
        before = ConsultationBooking.objects.count()
        response = post_form(browser, BOOK_URL, sent)
        assert_booking_outcome(
            browser, response, bookings_before=before, offered=offered, sent=sent
        )


# Every consultation type with every practitioner (and with any), at the
# first time the form shows for them: booked when the practitioner holds the type.
TYPE_AND_PRACTITIONER = [
    (kind, person)
    for kind in (ASSESSMENT, "professional-facial-consultation", MEDICAL_CONSULTATION)
    for person in ("", ESTHETICIAN, NURSE_PRACTITIONER)
]


def first_time_shown_for(kind, person):
    """
    The first time the form shows for this type with this practitioner (or
    any): the untouched form's first time is the skin assessment's, which a
    longer consultation need not fit at, late in the clinic's day. With a
    practitioner who does not hold the type, the form shows none: then the
    type's first time with anyone, so that the practitioner is the only
    reason to refuse it.
    """
    kind = ConsultationType.objects.get(slug=kind)
    with_them = Practitioner.objects.filter(slug=person).first()
    slots = bookable_slots(kind, practitioner=with_them) or bookable_slots(kind)
    return slots[0].value


@pytest.mark.parametrize(("kind", "person"), TYPE_AND_PRACTITIONER)
def test_each_type_and_practitioner_books_only_who_holds_it(
    browser, blank_form, offered, kind, person
):
    sent = {
        **blank_form,
        "consultation_type": kind,
        "practitioner": person,
        "slot": first_time_shown_for(kind, person),
    }
    before = ConsultationBooking.objects.count()

    response = post_form(browser, BOOK_URL, sent)

    booking = assert_booking_outcome(
        browser, response, bookings_before=before, offered=offered, sent=sent
    )
    medical_with_the_esthetician = (kind, person) == (MEDICAL_CONSULTATION, ESTHETICIAN)
    assert (booking is None) == medical_with_the_esthetician


# Found by the fuzz; kept as plain examples so they run every time.
CONTROL_CHARACTER_ANSWERS = [
    ("full_name", "Ada\x07Quinterra"),
    ("full_name", "Ada \x1b[31mQuinterra"),
    ("full_name", "Ada\nQuinterra"),
    ("full_name", "Ada\x85Quinterra"),
    ("message", "Call me\x1b[2J"),
    ("message", "Mornings\x08\x08\x08\x08\x08\x08\x08\x08Evenings"),
]


CONTROL_CHARACTERS_REFUSED = (
    "This answer contains invisible control characters. Please type it again."
)


@pytest.mark.parametrize(("field", "value"), CONTROL_CHARACTER_ANSWERS)
def test_control_characters_in_an_answer_are_never_stored(
    browser, blank_form, offered, field, value
):
    before = ConsultationBooking.objects.count()
    sent = {**blank_form, field: value}

    response = post_form(browser, BOOK_URL, sent)

    assert_booking_outcome(browser, response, bookings_before=before, offered=offered, sent=sent)
    # Refused for the control characters, and for nothing else: the rest of the form is valid.
    assert response.status_code == 200
    summary = page(response).find(class_="error-summary")
    assert [(link.attrs["href"], link.text) for link in summary.find_all("a")] == [
        (f"#id_{field}", CONTROL_CHARACTERS_REFUSED)
    ]


# Unicode's format characters (category Cf), invisible too: they reorder or
# hide what staff read in the admin, the CSV and emails.
FORMAT_CHARACTER_ANSWERS = [
    ("full_name", "Ada\u202eQuinterra"),  # right-to-left override
    ("full_name", "Ada\u200bQuinterra"),  # zero-width space
    ("full_name", "\u2066Ada Quinterra\u2069"),  # left-to-right isolate
    ("full_name", "Ada\ufeffQuinterra"),  # zero-width no-break space (BOM)
    ("message", "Call me\u202e in the morning"),
]

FORMAT_CHARACTERS_REFUSED = (
    "This answer contains invisible formatting characters (such as a zero-width space "
    "or a text-direction mark), often copied along with text. Please type it again."
)


@pytest.mark.parametrize(("field", "value"), FORMAT_CHARACTER_ANSWERS)
def test_format_characters_in_an_answer_are_refused_with_a_message_that_says_so(
    browser, blank_form, offered, field, value
):
    before = ConsultationBooking.objects.count()
    sent = {**blank_form, field: value}

    response = post_form(browser, BOOK_URL, sent)

    assert ConsultationBooking.objects.count() == before
    assert response.status_code == 200
    summary = page(response).find(class_="error-summary")
    assert [(link.attrs["href"], link.text) for link in summary.find_all("a")] == [
        (f"#id_{field}", FORMAT_CHARACTERS_REFUSED)
    ]


# Names spelt with a zero-width non-joiner or joiner (Persian, Hindi) and an
# emoji sequence in a message: the joiners reorder and hide nothing.
JOINED_ANSWERS = [
    ("full_name", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Rostami"),  # ZWNJ
    ("full_name", "\u0915\u094d\u200d\u0937 Sharma"),  # ZWJ
    ("message", "See you then \U0001f469\u200d\u2695\ufe0f"),  # woman health worker
]


@pytest.mark.parametrize(("field", "value"), JOINED_ANSWERS)
def test_the_joiners_some_names_are_spelt_with_are_kept(browser, blank_form, offered, field, value):
    sent = {**blank_form, field: value}

    response = post_form(browser, BOOK_URL, sent)

    assert response.status_code == 302, page(response).find(class_="error-summary")
    assert getattr(ConsultationBooking.objects.latest("pk"), field) == value


@pytest.fixture
def booking_slots(offered_times, taken):
    return named(slot_values(offered_times, slot_text(taken.starts_at)))


@fuzz(150)
@given(data=st.data())
def test_booking_form_books_only_a_slot_it_offers_whatever_slot_is_sent(
    browser, blank_form, offered, booking_slots, data
):
    slot = data.draw(booking_slots, label="slot")
    sent = {**blank_form, "form_token": fresh_form_token(browser), "slot": slot}
    with rolled_back():
        before = ConsultationBooking.objects.count()
        response = post_form(browser, BOOK_URL, sent)
        booking = assert_booking_outcome(
            browser, response, bookings_before=before, offered=offered, sent=sent
        )
        if booking is not None:
            # The time sent, however it was spelled (any digits, any case), and no other.
            sent = re.sub(r"\d", lambda digit: str(int(digit[0])), last(slot).strip()).upper()
            assert slot_text(booking.starts_at) == sent


@pytest.mark.parametrize("slot", IMPOSSIBLE_SLOTS)
def test_impossible_slot_values_get_the_form_back(browser, blank_form, slot):
    before = ConsultationBooking.objects.count()

    response = post_form(browser, BOOK_URL, {**blank_form, "slot": slot})

    assert response.status_code == 200
    assert ConsultationBooking.objects.count() == before


@pytest.fixture
def form_tokens(blank_form):
    """(token or tokens sent, whether it is the genuine one the page gave)."""
    genuine = blank_form["form_token"]
    expired = backdated(
        {"k": "expired", "t": time.time() - 2 * 24 * 3600}, salt=FORM_TOKEN_SALT, days=2
    )
    forged = st.one_of(
        forged_tokens(genuine, salt=FORM_TOKEN_SALT, payloads=form_token_payloads),
        st.just(expired),
    )
    sent = st.one_of(
        st.none(),  # no token at all
        forged,
        st.lists(st.one_of(forged, st.just(genuine)), min_size=2, max_size=3),
    )
    return named(sent.map(lambda token: (token, token is not None and last(token) == genuine)))


@fuzz(80)
@given(data=st.data())
def test_booking_form_books_only_with_the_genuine_form_token(
    browser, blank_form, form_tokens, data
):
    token, genuine = data.draw(form_tokens, label="form_token")
    fields = {key: value for key, value in blank_form.items() if key != "form_token"}
    if token is not None:
        fields["form_token"] = token
    with rolled_back():
        before = ConsultationBooking.objects.count()
        response = post_form(browser, BOOK_URL, fields)
        if genuine:
            assert response.status_code == 302
            assert ConsultationBooking.objects.count() == before + 1
        else:
            assert response.status_code == 200, f"answered {response.status_code}"
            assert ConsultationBooking.objects.count() == before


# --- Pages read with GET -------------------------------------------------------


@fuzz(60)
@given(
    query=query_strings(
        DATES_AND_SLUGS, ["treatment", "type", "practitioner", "from", "day", "time", "slot"]
    )
)
def test_booking_page_renders_whatever_the_query_string(browser, frozen_clock, query):
    response = get_with(browser, BOOK_URL, query)

    assert response.status_code == expected_page_status(response)
    assert_no_markup_echoed(response)
    if response.status_code == 200:
        assert b'id="booking-steps"' in response.content


@pytest.fixture
def guide_queries(choices):
    answers = choices["concerns"] + choices["sensitivity"] + choices["goal"]
    return named(query_strings(answers, ["concerns", "sensitivity", "goal"]))


def guide_answers_valid(query, choices):
    """Whether the guide should suggest something: every answer on its list."""
    if not isinstance(query, dict):
        return None  # a raw query string: not worked out here
    concerns = query.get("concerns")
    concerns = concerns if isinstance(concerns, list) else [concerns]
    return (
        concerns != []
        and all(concern in choices["concerns"] for concern in concerns)
        and last(query.get("sensitivity")) in choices["sensitivity"]
        and last(query.get("goal")) in choices["goal"]
    )


@fuzz(250)
@given(data=st.data())
def test_guide_answers_any_query_string_with_a_page(browser, choices, guide_queries, data):
    query = data.draw(guide_queries, label="query")

    response = get_with(browser, "/guide/", query)

    assert response.status_code == expected_page_status(response)
    assert_no_markup_echoed(response)
    valid = guide_answers_valid(query, choices)
    if valid is not None and response.status_code == 200:
        assert (b'id="result-heading"' in response.content) == valid


# --- The manage link -----------------------------------------------------------

ACTIONS = ("move", "cancel", "MOVE", " cancel", "confirm", "delete", "")


@pytest.fixture
def manage_links(taken):
    """(a token that is not a working link to `taken`, the status it must get)."""
    genuine = taken.get_manage_url().split("/")[-2]
    other_references = st.text(st.sampled_from(REFERENCE_ALPHABET), min_size=1, max_size=12)
    return named(
        st.one_of(
            st.tuples(
                forged_tokens(genuine, salt=MANAGE_LINK_SALT, payloads=any_text), st.just(404)
            ),
            # Signed by the site, for a booking that does not exist.
            st.tuples(
                other_references.filter(lambda reference: reference != taken.reference).map(
                    lambda reference: signing.dumps(reference, salt=MANAGE_LINK_SALT)
                ),
                st.just(404),
            ),
            st.just((backdated(taken.reference, salt=MANAGE_LINK_SALT, days=400), 410)),
        )
    )


@fuzz(1000)
@given(data=st.data())
def test_forged_and_expired_manage_links_change_nothing(browser, taken, manage_links, data):
    token, expected = data.draw(manage_links, label="token")
    method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
    before = booking_state(taken)
    # Nothing is rolled back: a forged link that wrote anything fails here at once.
    if method == "GET":
        response = browser.get(manage_path(token))
    else:
        fields = {
            "action": data.draw(sent_value(ACTIONS), label="action"),
            "slot": data.draw(sent_value((slot_text(taken.starts_at),)), label="slot"),
        }
        response = post_form(browser, manage_path(token), fields)

    assert response.status_code == expected, f"answered {response.status_code}"
    assert booking_state(taken) == before


@pytest.fixture
def move_requests(moving, taken):
    """
    What a manage page's form could be made to post: any action, any slot,
    with the same practitioner or any, extra fields.
    """
    _, _, offered_with_anyone = moving
    fields = st.fixed_dictionaries(
        {
            "action": st.one_of(st.just("move"), sent_value(ACTIONS)),
            "with": sent_value(("same", "any")),
            "slot": slot_values(offered_with_anyone, slot_text(taken.starts_at)),
        }
    )
    extra = st.dictionaries(any_text, nasty_text, max_size=2)
    return named(st.builds(lambda extra, fields: {**extra, **fields}, extra, fields))


@fuzz(150)
@given(data=st.data())
def test_manage_link_moves_a_booking_only_to_a_time_on_offer(
    browser, moving, taken, move_requests, data
):
    booking, offered_with_them, offered_with_anyone = moving
    path = booking.get_manage_url()
    status_before, starts_before, _, sequence_before = booking_state(booking)
    practitioner_before = booking.practitioner
    fields = data.draw(move_requests, label="fields")
    with_anyone = last(fields["with"]) == "any"
    with rolled_back():
        response = post_form(browser, path, fields)

        assert response.status_code in {200, 302}, f"answered {response.status_code}"
        assert_no_markup_echoed(response)
        status, starts_at, ends_at, sequence = booking_state(booking)
        booking.full_clean()
        offered_for_move = offered_with_anyone if with_anyone else offered_with_them
        assert starts_at in offered_for_move, f"moved to {starts_at}, never offered"
        assert starts_at != taken.starts_at
        assert ends_at == starts_at + timedelta(minutes=30)
        assert booking.blocks_until == ends_at + timedelta(minutes=10)
        assert booking.consultation_type.is_held_by(booking.practitioner)
        if not with_anyone:
            assert booking.practitioner == practitioner_before
        if starts_at != starts_before:
            assert booking.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).exists()
            assert sequence == sequence_before + 1
        assert status in {status_before, ConsultationBooking.Status.CANCELLED}


@pytest.mark.parametrize("slot", IMPOSSIBLE_SLOTS)
def test_impossible_slot_values_leave_a_booking_where_it_is(browser, moving, slot):
    booking, _, _ = moving
    before = booking_state(booking)

    response = post_form(browser, booking.get_manage_url(), {"action": "move", "slot": slot})

    assert response.status_code == 200
    assert booking_state(booking) == before


@fuzz(60)
@given(query=query_strings(DATES_AND_SLUGS, ["from", "with"]))
def test_manage_page_renders_whatever_the_query_string(browser, moving, query):
    booking, _, _ = moving

    response = get_with(browser, booking.get_manage_url(), query)

    assert response.status_code == expected_page_status(response)
    assert_no_markup_echoed(response)


def test_the_fuzz_writes_slots_as_the_booking_form_does():
    starts_at = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)

    assert slot_text(starts_at) == Slot(starts_at, starts_at + timedelta(minutes=30), ()).value
