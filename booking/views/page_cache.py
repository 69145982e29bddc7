"""
The booking page's GETs, rendered once for everyone between changes to what
it shows (the version and what processes keep between changes:
booking/cache_versions.py).

Working out two weeks of free times is most of what the booking page costs,
and steps 1 to 4 (the consultation, who with, the day, the time) are the
same for every visitor who makes the same choices: they hold no token and
nothing of the visitor's. So those pages, whole or as the steps htmx swaps
in, are stored as they are sent. A page that shows the request form (a time
is chosen: `?time=`) carries the visitor's CSRF and form tokens and is never
stored whole: what it shares with everyone making the same choices (steps 1
to 4, step 5's summary and the request form's empty fields, rendered:
shared_steps) is stored instead, under the same rules, and the page and the
form with the visitor's tokens are rendered around it for each visitor.
Nothing is spliced into stored bytes: a visitor's tokens are only ever in a
page rendered for them.

A stored page is served while all of these hold:

- the content version is the one it was rendered under (any content edit:
  treatments/caching.py);
- the availability version is (any save or delete of a booking, a
  practitioner, their hours or time off, a closure, a consultation type or
  the booking rules raises it: booking/signals.py, and change_status,
  which updates a booking's status without saving the instance);
- its first time is still outside the minimum notice: the page is stored
  until that time reaches the notice, when it would drop out of the strip;
- and for AVAILABILITY_CACHE_SECONDS at most, so a day coming into the
  booking horizon shows within that long.

The form's POSTs are never cached: the booking service checks the
chosen time inside its transaction, whatever page the visitor saw.
"""

import logging
from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe

from booking.cache_versions import AVAILABILITY
from booking.forms.fields import booking_choices
from booking.forms.steps import iso_date
from booking.models import BookingRules
from booking.services.schedule import parse_slot_value
from clinic_site import versions
from treatments import caching as page_caching

logger = logging.getLogger(__name__)


# What the booking page's GET reads of its query string (BookConsultationView),
# but `time`, whose page holds the request form and is never stored.
FORM_PARAMETERS = ["type", "treatment", "practitioner", "from", "day"]


def page_key(request):
    """
    The booking page's key for this request, or None to render it without
    the cache: only the choices the form offers are stored (a type,
    treatment or practitioner it lists, a week within the booking horizon),
    so made-up values, which the form ignores, cannot fill the cache with
    copies of one page.
    """
    if not settings.AVAILABILITY_CACHE_SECONDS or "time" in request.GET:
        return None
    if not offered_choices(request):
        return None
    key = page_caching.answers_key(request, FORM_PARAMETERS)
    # htmx's requests get the steps alone: a page of their own.
    return key and (f"{key}:steps" if getattr(request, "htmx", False) else key)


def shared_steps_key(request):
    """
    The key of what step 5 shares with everyone (shared_steps), or None: the
    same choices as page_key, and a well-formed time. A time the steps do
    not offer is never stored (shared_steps), so made-up times
    cannot fill the cache either.
    """
    if not settings.AVAILABILITY_CACHE_SECONDS or not offered_choices(request):
        return None
    try:
        parse_slot_value(request.GET.get("time", ""))
    except (TypeError, ValueError):
        return None
    key = page_caching.answers_key(request, [*FORM_PARAMETERS, "time"])
    return key and f"{key}:shared-steps"


def offered_choices(request):
    """Whether every choice in the address is one the form offers."""
    types, practitioners = booking_choices()
    offered = {
        "type": {consultation_type.slug for consultation_type in types},
        "treatment": {
            consultation_type.treatment.slug
            for consultation_type in types
            if consultation_type.treatment_id
        },
        "practitioner": {person.slug for person in practitioners},
    }
    for name, slugs in offered.items():
        value = request.GET.get(name)
        if value and value not in slugs:
            return False
    for name in ["from", "day"]:
        if name in request.GET:
            chosen = iso_date(request.GET[name])
            today = timezone.localdate()
            horizon = today + timedelta(days=BookingRules.current().horizon_days)
            if chosen is None or not today <= chosen <= horizon:
                return False
    return True


class CachedBookingPage(NamedTuple):
    """The booking page as the cache holds it: as it is sent."""

    versions: tuple
    fresh_until: float  # a POSIX timestamp
    body: bytes
    content_type: str

    def response(self):
        response = HttpResponse(self.body, content_type=self.content_type)
        # The steps alone for htmx, the whole page otherwise: one address, two pages.
        patch_vary_headers(response, ["HX-Request"])
        return response


class BookingPageCache:
    """The cache's side of one GET of the booking page (BookConsultationView.get)."""

    def __init__(self, request):
        self.request = request
        self.key = page_key(request)
        self.numbers = None

    def hit(self):
        """The stored page, for this visitor, or None."""
        if self.key is None:
            return None
        try:
            self.numbers, page = versions.read_with([page_caching.CONTENT, AVAILABILITY], self.key)
        except Exception:
            logger.warning("Booking page cache unavailable; rendering without it")
            self.key = None
            return None
        if (
            page is None
            or page.versions != self.numbers
            or timezone.now().timestamp() >= page.fresh_until
        ):
            return None
        return page.response()

    def store(self, response, first_start):
        """Store the page just rendered (`first_start`: its first free time); returns the response."""
        if self.key is None or response.status_code != 200:
            return response
        response.render()
        # Nothing of one visitor's may reach another: a page that set a
        # cookie (a CSRF token) or showed a message is theirs. (Reading the
        # session is not: the form asks whether the visitor is staff, which
        # changes the request form alone, never stored.)
        if response.cookies or getattr(getattr(self.request, "_messages", None), "used", False):
            return response
        page = CachedBookingPage(
            versions=self.numbers,
            fresh_until=self.fresh_until(first_start),
            body=response.content,
            content_type=response["Content-Type"],
        )
        page_caching.store(self.key, page, settings.AVAILABILITY_CACHE_SECONDS)
        return response

    @staticmethod
    def fresh_until(first_start):
        until = timezone.now().timestamp() + settings.AVAILABILITY_CACHE_SECONDS
        if first_start is not None:
            notice = BookingRules.current().minimum_notice_hours * 3600
            until = min(until, first_start.timestamp() - notice)
        return until


class StoredFragments(NamedTuple):
    """Parts of a page rendered once for everyone, as the cache holds them."""

    versions: tuple
    fresh_until: float  # a POSIX timestamp
    html: dict  # name: markup rendered by this site's own templates (escaped there)
    values: dict  # name: a plain value the page needs with them

    def for_template(self):
        return {name: mark_safe(markup) for name, markup in self.html.items()} | self.values


class FragmentCache:
    """
    Parts of a page that hold nothing of the visitor's, stored under `key`
    with the content and availability versions they were rendered under and
    served until either changes or `fresh_until` passes; the page around
    them, with the visitor's tokens, is rendered for each visitor. Nothing is
    spliced into stored markup: the page's template places the parts.
    """

    def __init__(self, key):
        self.key = key
        self.numbers = None

    def hit(self):
        """The stored parts ({name: markup or value}), or None."""
        if self.key is None:
            return None
        try:
            self.numbers, stored = versions.read_with(
                [page_caching.CONTENT, AVAILABILITY], self.key
            )
        except Exception:
            logger.warning("Booking page cache unavailable; rendering without it")
            self.key = None
            return None
        if (
            stored is None
            or stored.versions != self.numbers
            or timezone.now().timestamp() >= stored.fresh_until
        ):
            return None
        return stored.for_template()

    def store(self, template_name, context, partials, *, fresh_until, **values):
        """Render `template_name`'s `partials` with `context`, store them, and return them as hit() does."""
        if self.key is None:
            return None
        stored = StoredFragments(
            versions=self.numbers,
            fresh_until=fresh_until,
            html={
                name: str(render_to_string(f"{template_name}#{name}", context)) for name in partials
            },
            values=values,
        )
        page_caching.store(self.key, stored, settings.AVAILABILITY_CACHE_SECONDS)
        return stored.for_template()


def shared_steps(request, form):
    """
    What step 5 (a time chosen) shares with everyone making the same
    choices, rendered once between changes (book.html's `choices`: steps 1
    to 4; `summary`: the choice; `request_fields`: the request form's
    fields, empty as a GET shows them) with the chosen time's `slot_value`;
    or None to render the page whole: a time the steps do not offer shows
    step 4's "no longer available" and is never stored.
    """
    cache = FragmentCache(shared_steps_key(request))
    if (shared := cache.hit()) is not None:
        return shared
    steps = form.steps
    if steps.chosen_slot is None:
        return None
    return cache.store(
        "booking/bookings/book.html",
        {"form": form, "steps": steps},
        ["choices", "summary", "request_fields"],
        fresh_until=BookingPageCache.fresh_until(steps.first_start),
        slot_value=steps.chosen_slot.value,
    )


def waitlist_fields(request, form):
    """
    The waitlist's join form's fields (join.html's `fields`), empty as a GET
    shows them, rendered once for everyone asking for the same choices on
    the same day (the form starts on today and names the last bookable day)
    between changes; the form's tokens are rendered around them for each
    visitor. Only choices the form offers are stored, as on the booking page.
    """
    key = None
    offered = {
        "type": {consultation_type.slug for consultation_type in form.types},
        "practitioner": {person.slug for person in form.practitioners},
    }
    if settings.AVAILABILITY_CACHE_SECONDS and all(
        not request.GET.get(name) or request.GET[name] in slugs for name, slugs in offered.items()
    ):
        key = page_caching.answers_key(request, ["type", "practitioner"])
        key = key and f"{key}:{form.today.isoformat()}:waitlist-fields"
    cache = FragmentCache(key)
    if (shared := cache.hit()) is not None:
        return shared
    midnight = datetime.combine(
        form.today + timedelta(days=1), time(), tzinfo=timezone.get_current_timezone()
    )
    return cache.store(
        "booking/waitlist/join.html",
        {"form": form},
        ["fields"],
        fresh_until=min(
            timezone.now().timestamp() + settings.AVAILABILITY_CACHE_SECONDS,
            midnight.timestamp(),
        ),
    )
