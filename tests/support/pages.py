"""
The site's pages as a visitor meets them: the public pages with the copy
that describes each, and every page a visitor can see (errors, a booking of
their own, wrong links), for the checks that read all of them.
"""

from django.urls import reverse

from booking.models import ConsultationBooking
from tests.support.booking import VISITOR, request_form_page
from tests.support.html import form_data, parse_html

# Every page a visitor can reach from the site's navigation, with the copy
# that describes it: a SitePage key, or the slug of a treatment.
PUBLIC_PAGES = {
    "/": ("page", "home"),
    "/treatments/": ("page", "treatments"),
    "/treatments/professional-facial/": ("treatment", "professional-facial"),
    "/treatments/medical-grade-facial/": ("treatment", "medical-grade-facial"),
    "/compare/": ("page", "comparison"),
    "/faqs/": ("page", "faqs"),
    "/guide/": ("page", "guide"),
    "/book/": ("page", "booking"),
    "/privacy/": ("page", "privacy"),
    "/team/": ("page", "team"),
}

# The guide's result page: public, and reached from the site's own links.
GUIDE_RESULT = "/guide/?concerns=acne-scars&concerns=uneven-tone&sensitivity=not-sensitive&goal=long-term-change"

# Every address a visitor can reach without a booking of their own.
PUBLIC_PATHS = [*PUBLIC_PAGES, GUIDE_RESULT]

# A practitioner who does not hold the consultation chosen: the form explains
# instead of showing times.
MISMATCH = {"type": "medical-grade-facial-consultation", "practitioner": "maya-chen"}


def booked_pages(client):
    """The pages a visitor sees around a booking of their own, as (name, response) pairs."""
    form = request_form_page(client).find("form", class_="booking-form")
    data = form_data(form)
    data |= VISITOR
    data["consent"] = "on"
    received = client.post("/book/", data, follow=True)
    assert received.redirect_chain, "the booking was not accepted"
    booking = ConsultationBooking.objects.get(email=VISITOR["email"])
    manage_url = booking.get_manage_url()
    move_refused = client.post(manage_url, {"action": "move"})
    assert move_refused.status_code == 200
    return [
        ("booking-received", received),
        ("manage-booking", client.get(manage_url)),
        ("manage-booking-with-anyone", client.get(manage_url, {"with": "any"})),
        ("manage-booking-move-refused", move_refused),
    ]


def booking_step_pages(client):
    """The booking page's states beyond its first: later days, a day chosen, the request form."""
    steps = parse_html(client.get("/book/", {"type": MISMATCH["type"]}).content)
    later = steps.find("nav", class_="day-strip-weeks").find("a").attrs["href"].split("#")[0]
    day = steps.find_all("a", class_="day-strip-day")[-1].attrs["href"].split("#")[0]
    time = steps.find("a", class_="time-list-time").attrs["href"].split("#")[0]
    return [
        ("booking-later-days", client.get(later)),
        ("booking-day-chosen", client.get(day)),
        ("booking-request-form", client.get(time)),
        ("booking-time-taken", client.get("/book/", {"time": "2030-01-07T15:00Z"})),
    ]


def visitor_pages(client):
    """
    Every page a visitor can see, as (name, response) pairs: the public
    pages, the forms in their error states, the booking confirmation and
    the manage page, and the pages for a wrong address or link.
    """
    return [
        *[(path, client.get(path)) for path in PUBLIC_PATHS],
        ("booking-form-errors", client.post("/book/", {})),
        ("booking-form-mismatch", client.get("/book/", MISMATCH)),
        ("booking-form-show-times", client.post("/book/", {**MISMATCH, "show_times": "1"})),
        *booking_step_pages(client),
        ("guide-errors", client.get("/guide/", {"sensitivity": "not-on-the-list"})),
        ("not-found", client.get("/no-such-page/")),
        ("manage-link-invalid", client.get(reverse("booking:manage", args=["not-a-link"]))),
        *booked_pages(client),
    ]
