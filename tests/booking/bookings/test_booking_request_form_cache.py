"""
Step 5 (a time chosen: the request form) is the same page for everyone
making the same choices but for the visitor's tokens: rendered once between
changes to the free times or the content, and sent to each visitor with
their own tokens (booking/views/page_cache.py's FramedFormPageMixin).

Each test runs with the version in the database (`make run`) and in the
cache (Redis in production, a memory cache the site treats as shared).
"""

from datetime import UTC, timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone

from booking.models import BookingRules, Closure, ConsultationBooking
from booking.services.schedule import ClinicCalendar, parse_slot_value
from tests.support.booking import (
    BOOK_URL,
    VISITOR,
    booking_form,
    clinic_clock,
    make_booking,
    page,
    practitioner,
    time_links,
)
from tests.support.html import form_data
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

SHARED = "tests.support.caches.SharedMemoryCache"
PER_PROCESS = "django.core.cache.backends.locmem.LocMemCache"
MAYA = f"{BOOK_URL}?practitioner=maya-chen"


@pytest.fixture(params=[PER_PROCESS, SHARED], ids=["version-in-database", "version-in-cache"])
def cached(request, settings):
    settings.CACHES = {"default": {"BACKEND": request.param}}
    settings.AVAILABILITY_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def worked_out():
    """How many times a fortnight's free times were worked out."""
    with mock.patch.object(
        ClinicCalendar, "fortnight", autospec=True, side_effect=ClinicCalendar.fortnight
    ) as fortnight:
        yield fortnight


def first_time(path=MAYA):
    """The address of step 5 for the first time step 4 offers (worked out once, without the cache)."""
    response = Client().get(path)
    assert response.status_code == 200
    return time_links(page(response))[0].split("#")[0]


def step_five(client, address):
    response = client.get(address)
    assert response.status_code == 200
    return page(response)


def shared_part(document):
    """Steps 1 to 4 and the summary: the page without the request form."""
    steps = document.find(id="booking-steps")
    sections = [
        str(section) for section in steps.find_all("section") if section.find("form") is None
    ]
    return [*sections, str(steps.find("dl", class_="booking-choice"))]


def stored_keys():
    from django.core.cache import cache

    return [key for key in cache._cache if ":request-form" in key]


def test_two_visitors_share_the_steps_and_each_gets_their_own_tokens(cached, worked_out):
    address = first_time()
    worked_out.reset_mock()
    ada, bo = Client(), Client()
    ada_page, bo_page = step_five(ada, address), step_five(bo, address)

    assert worked_out.call_count == 1
    assert len(stored_keys()) == 1
    ada_form, bo_form = form_data(booking_form(ada_page)), form_data(booking_form(bo_page))
    assert ada_form["form_token"] != bo_form["form_token"]
    assert ada_form["csrfmiddlewaretoken"] != bo_form["csrfmiddlewaretoken"]
    assert ada.cookies["csrftoken"].value != bo.cookies["csrftoken"].value
    # The shared part is the same, with the chosen time and its summary.
    assert bo_form["slot"] == ada_form["slot"] == parse_qs_time(address)
    assert bo_page.find(id="step-time") is not None
    assert bo_page.find("dl", class_="booking-choice") is not None
    assert "Choose a time above" not in bo_page.find("dl", class_="booking-choice").text

    # Bo's form, built around the stored steps, books.
    response = bo.post(BOOK_URL, bo_form | {**VISITOR, "consent": "on"})
    assert response.status_code == 302
    assert ConsultationBooking.objects.get().starts_at == parse_slot_value(bo_form["slot"])


def parse_qs_time(address):
    return parse_qs(urlsplit(address).query)["time"][0]


def test_htmx_gets_the_steps_alone_each_stored_once(cached, worked_out):
    address = first_time()
    worked_out.reset_mock()
    whole, whole_again = (Client().get(address) for _ in range(2))
    swapped, swapped_again = (
        Client().get(address, headers={"HX-Request": "true"}) for _ in range(2)
    )

    # One page for each: the whole page, and the steps htmx swaps in.
    assert worked_out.call_count == 2
    assert b"<html" not in swapped.content
    assert swapped.content.lstrip().startswith(b'<div id="booking-steps"')
    assert "HX-Request" in swapped["Vary"] and "HX-Request" in whole["Vary"]
    assert shared_part(page(swapped)) == shared_part(page(whole)) == shared_part(page(whole_again))
    assert (
        form_data(booking_form(page(swapped)))["form_token"]
        != (form_data(booking_form(page(swapped_again)))["form_token"])
    )


def test_a_history_restore_gets_the_whole_page(cached):
    """htmx asks for the whole page when going back to one it did not keep."""
    address = first_time()
    Client().get(address, headers={"HX-Request": "true"})
    restored = Client().get(
        address, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert b"<html" in restored.content
    assert booking_form(page(restored)) is not None


@pytest.mark.parametrize("change", ["booking", "closure", "content"])
def test_a_change_makes_the_next_step_five_fresh(cached, committed, worked_out, change):
    address = first_time()
    step_five(Client(), address)
    worked_out.reset_mock()

    chosen = parse_slot_value(parse_qs_time(address))
    with committed():
        if change == "booking":
            make_booking(starts_at=chosen, practitioner=practitioner("maya-chen"))
        elif change == "closure":
            day = timezone.localdate(chosen)
            Closure.objects.create(starts_on=day, ends_on=day, reason="Works")
        else:
            Treatment.objects.first().save()
    after = step_five(Client(), address)

    assert worked_out.call_count == 1
    if change == "content":
        assert booking_form(after) is not None
    else:
        # The time is gone: step 4 says so, and no form is offered for it.
        assert after.find(id="time-unavailable") is not None
        assert after.find("input", name="form_token") is None


def test_a_chosen_time_reaching_the_minimum_notice_is_never_served(cached, worked_out, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 14 * 24 * 3600  # Only the notice retires it.
    with clinic_clock(timezone.now()) as clock:
        address = first_time()
        chosen = parse_slot_value(parse_qs_time(address))
        notice = timedelta(hours=BookingRules.current().minimum_notice_hours)
        step_five(Client(), address)
        worked_out.reset_mock()

        clock.return_value = chosen - notice - timedelta(seconds=1)
        assert booking_form(step_five(Client(), address)) is not None
        assert worked_out.call_count == 0

        clock.return_value = chosen - notice + timedelta(seconds=1)
        late = step_five(Client(), address)
    assert worked_out.call_count == 1
    assert late.find(id="time-unavailable") is not None


def test_made_up_choices_and_times_are_never_stored(cached, worked_out):
    address = first_time()
    time_value = parse_qs_time(address)
    taken = parse_slot_value(time_value) + timedelta(minutes=1)  # off the grid
    addresses = [
        f"{BOOK_URL}?time=not-a-time",
        f"{BOOK_URL}?practitioner=nobody&time={time_value}",
        f"{BOOK_URL}?type=no-such-type&time={time_value}",
        f"{BOOK_URL}?day=2999-01-01&time={time_value}",
        f"{BOOK_URL}?practitioner=maya-chen&time={taken.astimezone(UTC):%Y-%m-%dT%H:%MZ}",
        f"{BOOK_URL}?practitioner=maya-chen&time=2000-01-01T09:00Z",
    ]
    worked_out.reset_mock()
    for made_up in addresses * 2:
        assert Client().get(made_up).status_code == 200

    assert stored_keys() == []
    assert worked_out.call_count > 0


def without_tokens(content):
    """The page with its token values blanked: the rest must be the same for everyone."""
    document = BeautifulSoup(content, "html.parser")
    for name in ["csrfmiddlewaretoken", "form_token"]:
        document.find("input", attrs={"name": name})["value"] = ""
    return str(document)


def test_a_stored_page_is_the_page_rendered_for_the_visitor_but_for_the_tokens(cached, settings):
    address = first_time()
    first, stored = (Client().get(address).content for _ in range(2))
    settings.AVAILABILITY_CACHE_SECONDS = 0
    rendered = Client().get(address).content

    assert without_tokens(stored) == without_tokens(first) == without_tokens(rendered)
    # Where the tokens went when the page was stored never reaches a visitor.
    assert b"the visitor's tokens" not in first + stored
