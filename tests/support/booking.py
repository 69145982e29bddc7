"""
Helpers for the booking tests: the clinic's clock and zone, bookings written
straight to the database (for rules that do not depend on how a booking was
made), bookings made through the service, and the public form filled in as a
browser would fill it.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from itertools import count
from unittest import mock
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import (
    BookingRules,
    ConsultationBooking,
    ConsultationType,
    Practitioner,
    WorkingHours,
)
from booking.services.schedule import bookable_slots
from tests.support.html import form_data, parse_html
from treatments.models import SitePage

CLINIC_ZONE = ZoneInfo("America/New_York")
Status = ConsultationBooking.Status

BOOK_URL = "/book/"

# What a visitor types into the form, and how the phone number is stored.
VISITOR = {
    "full_name": "Ada Quinterra",
    "email": "ada.quinterra@example.com",
    "phone": "(212) 555-0147",
}
VISITOR_PHONE_E164 = "+12125550147"

_sequence = count(1)


def clinic_time(year, month, day, hour=0, minute=0, *, fold=0):
    """A wall-clock time at the clinic, as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=CLINIC_ZONE, fold=fold)


def utc(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@contextmanager
def clinic_clock(at):
    """
    Freeze `django.utils.timezone.now`, which the app (and Django's own
    auto_now fields) call for the current time. Set `.return_value` on the
    yielded mock to move the clock.
    """
    with mock.patch("django.utils.timezone.now", return_value=at) as now:
        yield now


def set_rules(**fields):
    BookingRules.objects.update_or_create(pk=1, defaults=fields)


# The seeded examples (booking/migrations/0006_practitioners_from_capacity.py).
ESTHETICIAN = "maya-chen"
NURSE_PRACTITIONER = "daniel-okafor"
ASSESSMENT = "skin-assessment"
PROFESSIONAL_CONSULTATION = "professional-facial-consultation"
MEDICAL_CONSULTATION = "medical-grade-facial-consultation"


def practitioner(slug=ESTHETICIAN):
    return Practitioner.objects.get(slug=slug)


def consultation_type(slug=ASSESSMENT):
    return ConsultationType.objects.select_related("treatment").get(slug=slug)


def make_practitioner(*, hours=None, **fields):
    """A practitioner, working `hours` (as set_hours takes them) or weekdays 9–17."""
    n = next(_sequence)
    defaults = {
        "name": f"Practitioner Number{n}",
        "slug": f"practitioner-{n}",
        "role": "Licensed esthetician",
        "display_order": 10 + n,
    }
    person = Practitioner.objects.create(**defaults | fields)
    set_hours(hours or {day: [("09:00", "17:00")] for day in range(5)}, practitioners=[person])
    return person


def make_consultation_type(**fields):
    n = next(_sequence)
    defaults = {
        "name": f"Consultation number {n}",
        "slug": f"consultation-{n}",
        "duration_minutes": 30,
        "turnover_minutes": 10,
        "grid_minutes": 15,
        "display_order": 10 + n,
    }
    return ConsultationType.objects.create(**defaults | fields)


def only_practitioners(*people):
    """Leave just these practitioners active (the seeded examples are set aside)."""
    Practitioner.objects.exclude(pk__in=[person.pk for person in people]).update(is_active=False)


def set_type(slug=ASSESSMENT, **fields):
    ConsultationType.objects.filter(slug=slug).update(**fields)
    return consultation_type(slug)


def set_hours(hours, *, practitioners=None):
    """
    Replace the weekly hours of `practitioners` (every practitioner by
    default): {weekday: [("09:00", "12:00"), ...]}, Monday being 0.
    """
    people = list(practitioners if practitioners is not None else Practitioner.objects.all())
    WorkingHours.objects.filter(practitioner__in=people).delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=person,
            weekday=weekday,
            starts_at=time.fromisoformat(start),
            ends_at=time.fromisoformat(end),
        )
        for person in people
        for weekday, windows in hours.items()
        for start, end in windows
    )


def ensure_bookable():
    """
    For transactional tests, which empty the database after themselves: the
    seeded skin assessment and esthetician (weekdays 9–17) and the booking
    page, made again when an earlier such test left the tables empty.
    """
    ConsultationType.objects.get_or_create(
        slug=ASSESSMENT,
        defaults={"name": "Skin assessment", "duration_minutes": 30, "display_order": 1},
    )
    person, _ = Practitioner.objects.get_or_create(
        slug=ESTHETICIAN,
        defaults={"name": "Maya Chen", "role": "Licensed esthetician", "display_order": 1},
    )
    if not person.working_hours.exists():
        set_hours({day: [("09:00", "17:00")] for day in range(5)}, practitioners=[person])
    SitePage.objects.get_or_create(
        key=SitePage.Key.BOOKING,
        defaults={
            "title": "Book a consultation",
            "meta_description": "Book a consultation.",
            "heading": "Book a consultation",
        },
    )
    return person


def make_booking(
    *, starts_at, status=Status.REQUESTED, practitioner=None, consultation_type=None, **fields
):
    """A booking written straight to the database, without the service's rules."""
    n = next(_sequence)
    kind = consultation_type or ConsultationType.objects.get(slug=ASSESSMENT)
    ends_at = fields.pop("ends_at", starts_at + kind.length)
    defaults = {
        "full_name": f"Client Number{n}",
        "email": f"client{n}@example.com",
        "phone": f"+1212555{n % 10000:04d}",
        "consent_given_at": timezone.now(),
        "privacy_policy_version": "test",
        "ends_at": ends_at,
        "blocks_until": ends_at + kind.turnover,
        "treatment": kind.treatment,
    }
    return ConsultationBooking.objects.create(
        starts_at=starts_at,
        status=status,
        consultation_type=kind,
        practitioner=practitioner or Practitioner.objects.get(slug=ESTHETICIAN),
        **defaults | fields,
    )


def book(
    starts_at=None,
    *,
    consultation_type=None,
    practitioner=None,
    concerns=(),
    submission_key=None,
    **details,
):
    """
    A booking made through the service, as the public form makes it: a skin
    assessment with any practitioner by default, or the type about
    `treatment`, at the first free time the client may still change online
    (after the booking rules' cut-off).
    """
    treatment = details.pop("treatment", None)
    if consultation_type is not None:
        kind = consultation_type
    elif treatment is not None:
        kind = ConsultationType.objects.filter(treatment=treatment).first()
    else:
        kind = ConsultationType.objects.get(slug=ASSESSMENT)
    if starts_at is None:
        changeable_from = timezone.now() + timedelta(
            hours=BookingRules.current().client_change_cutoff_hours
        )
        starts_at = next(
            slot.starts_at
            for slot in bookable_slots(kind, practitioner=practitioner)
            if slot.starts_at > changeable_from
        )
    n = next(_sequence)
    details = {
        "full_name": f"Client Number{n}",
        "email": f"client{n}@example.com",
        "phone": f"+1212555{n % 10000:04d}",
        "preferred_contact": ConsultationBooking.ContactMethod.EMAIL,
        "message": "",
        "marketing_opt_in": False,
    } | details
    booking, created = services.book_consultation(
        consultation_type=kind,
        practitioner=practitioner,
        starts_at=starts_at,
        concerns=list(concerns),
        submission_key=submission_key or f"test-key-{n}",
        **details,
    )
    assert created
    return booking


def move_into_the_past(booking, *, days=30):
    """
    Move a booking's consultation `days` back, keeping its length, as if its
    time had come and gone: only then can it be completed or marked a
    no-show. Moving each booking of a test back by the same amount keeps
    their times apart, as the no-overlap constraint needs.
    """
    ConsultationBooking.objects.filter(pk=booking.pk).update(
        starts_at=booking.starts_at - timedelta(days=days),
        ends_at=booking.ends_at - timedelta(days=days),
        blocks_until=booking.blocks_until - timedelta(days=days),
    )
    booking.refresh_from_db()
    assert booking.ends_at < timezone.now(), "still in the future: move it further back"
    return booking


# A practitioner's page in the admin, with their working hours.


def practitioner_url(person):
    return reverse("admin:booking_practitioner_change", args=[person.pk])


def practitioner_form(client, person):
    """The practitioner's admin page as a browser would post it back unchanged."""
    form = page(client.get(practitioner_url(person))).find("form", id="practitioner_form")
    return form_data(form)


def with_new_window(data, weekday, start, end):
    """The practitioner's form with one more row of working hours filled in."""
    n = int(data["working_hours-TOTAL_FORMS"])
    return data | {
        "working_hours-TOTAL_FORMS": str(n + 1),
        f"working_hours-{n}-weekday": str(weekday),
        f"working_hours-{n}-starts_at": start,
        f"working_hours-{n}-ends_at": end,
    }


def hours_of(person):
    return list(person.working_hours.values_list("weekday", "starts_at", "ends_at"))


# The public pages, read as a browser reads them.


def page(response):
    return parse_html(response.content)


def booking_form(document):
    """The form that carries the signed form token."""
    token = document.find("input", name="form_token")
    assert token is not None, "no booking form on the page"
    return next(element for element in token.ancestors() if element.tag == "form")


def offered_slots(document):
    """
    The times step 4 offers (the chosen day's), as the form sends them, in
    page order: its links' `?time=`, or once details are typed its buttons.
    """
    return [
        parse_qs(urlsplit(link.attrs["href"]).query)["time"][0]
        if link.tag == "a"
        else link.attrs["value"]
        for link in document.find_all(class_="time-list-time")
    ]


def _chosen_in_step(document, step, parameter):
    heading = document.find(id=f"step-{step}")
    if heading is None:
        return None
    section = next(element for element in heading.ancestors() if element.tag == "section")
    chosen = [link for link in section.find_all("a") if "aria-current" in link.attrs]
    if not chosen:
        return None
    query = parse_qs(urlsplit(chosen[0].attrs["href"]).query)
    return query.get(parameter, [""])[0]


def chosen_type(document):
    """The consultation type step 1 shows chosen, by slug (None: no card chosen)."""
    return _chosen_in_step(document, "consultation", "type")


def chosen_practitioner(document):
    """The practitioner step 2 shows chosen, by slug ("" for anyone; None: no step 2)."""
    return _chosen_in_step(document, "practitioner", "practitioner")


def time_links(document):
    """Step 4's links to the request form, one per time offered, in page order."""
    return [link.attrs["href"] for link in document.find_all("a", class_="time-list-time")]


def request_form_page(client, path=BOOK_URL, n=0):
    """The booking page at step 5: `path`, then the `n`th time it offers."""
    response = client.get(path)
    assert response.status_code == 200
    links = time_links(page(response))
    assert links, "no time offered"
    response = client.get(links[n].split("#")[0])
    assert response.status_code == 200
    return page(response)


def error_summary(document):
    summary = document.find(class_="error-summary")
    return [] if summary is None else [item.text for item in summary.find_all("li")]


def received_booking(response):
    """The booking a 302 from the booking form points at: its "request received" page."""
    assert response.status_code == 302, error_summary(page(response))
    reference = response.url.rstrip("/").rsplit("/", 1)[-1]
    assert response.url == f"/book/received/{reference}/"
    return ConsultationBooking.objects.get(reference=reference)


def main_text(document):
    return document.find("main").text


def filled_booking_form(client, path=BOOK_URL, **answers):
    """
    GET the booking page and fill it in as a visitor would: the first time
    offered, their details and consent. An answer of None leaves the field out.
    Returns (the page as shown, the data to post).

    The page is step 5, reached by the first time step 4 offers for the
    consultation and practitioner it has chosen (`?type=…&practitioner=…` in `path` chooses them): answers
    that choose others keep that time, which those need not be free at.
    """
    document = request_form_page(client, path)
    data = form_data(booking_form(document))
    data |= {**VISITOR, "consent": "on"}
    data |= answers
    return document, {name: value for name, value in data.items() if value is not None}


def resubmitted_values(document):
    """What the form shown again would send: how a test tells the input was kept."""
    return form_data(booking_form(document))


def all_at_once(work, count):
    """
    Run `work(n)` for n in range(count), each in its own thread, all released
    together; return each result or exception. Each thread has its own
    database connection (real concurrent transactions: PostgreSQL tests).
    """
    start = threading.Barrier(count, timeout=30)

    def run(n):
        try:
            start.wait()
            return work(n)
        except Exception as error:  # Returned for the test to assert on.
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
