"""
The booking page's GETs, rendered once for everyone between changes to what
it shows (the version and what processes keep between changes:
booking/cache_versions.py).

Working out two weeks of free times is most of what the booking page costs,
and steps 1 to 4 (the consultation, who with, the day, the time) are the
same for every visitor who makes the same choices: they hold no token and
nothing of the visitor's. So those pages, whole or as the steps htmx swaps
in, are stored as they are sent. A page with a form (step 5, a time chosen:
`?time=`, and the waitlist's join page) carries the visitor's CSRF and form
tokens and is never stored whole: it is rendered once for everyone making the
same choices with a marker where the tokens go, stored as the parts before
and after it (PageFrame), and each visitor is sent the parts with their own
tokens, rendered for them, between them. Nothing is spliced into stored
bytes: no stored part ever held a token.

A stored page or frame is served while all of these hold:

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

import gzip
import logging
import secrets
from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.middleware.gzip import re_accepts_gzip
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe

from booking.cache_versions import AVAILABILITY
from booking.form_tokens import new_form_token, visitor_secret
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
    # Each kind of entry has a name of its own (here, request_form_key,
    # waitlist_key), and takes a new one when what it holds changes shape:
    # an entry stored by the code before a deploy is then never read.
    return key and f"{key}:page-gz{steps_alone(request)}"


def steps_alone(request):
    """
    The key's suffix for htmx's requests, which get the steps alone: a page
    of their own. A history restore (back to a page htmx did not keep) gets
    the whole page, as any other request (BookConsultationView.get_template_names).
    """
    htmx = getattr(request, "htmx", None)
    return ":steps" if htmx and not htmx.history_restore_request else ""


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
    """
    The booking page as the cache holds it: as it is sent, and gzipped once
    (at the highest level: compressed once, sent many times). Without
    GZipMiddleware's random padding, a defence against BREACH, which needs a
    secret in the page: a stored page holds none (no token, nothing of the
    visitor's).
    """

    versions: tuple
    fresh_until: float  # a POSIX timestamp
    body: bytes
    gzipped: bytes
    content_type: str

    def response(self, request):
        if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            response = HttpResponse(self.gzipped, content_type=self.content_type)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(self.body, content_type=self.content_type)
        # The steps alone for htmx, the whole page otherwise: one address, two pages.
        patch_vary_headers(response, ["HX-Request", "Accept-Encoding"])
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
        return page.response(self.request)

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
            gzipped=gzip.compress(response.content, compresslevel=9, mtime=0),
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


# Stands where a visitor's tokens go in a page rendered to be stored (it is
# never sent): random for each process, so no text of the clinic's or of a
# visitor's can hold it.
TOKENS_MARKER = f"<!-- the visitor's tokens {secrets.token_hex(16)} -->"


class PageFrame(NamedTuple):
    """
    A page that is the same for everyone asking for the same choices but for
    the form's tokens, as the cache holds it: the markup before and after
    them, rendered once for everyone with TOKENS_MARKER in their place.
    """

    versions: tuple
    fresh_until: float  # a POSIX timestamp
    before: str
    after: str
    content_type: str

    def response(self, request, *, form_token):
        """The page for this visitor: their CSRF and form tokens, rendered for them, between the parts."""
        tokens = render_to_string(
            "includes/form_tokens.html",
            {"csrf_token": get_token(request), "form_token": form_token},
        )
        response = HttpResponse(
            f"{self.before}{tokens}{self.after}", content_type=self.content_type
        )
        patch_vary_headers(response, ["HX-Request"])
        return response


class PageFrameCache:
    """The cache's side of one GET of a page served from its PageFrame (FramedFormPageMixin)."""

    def __init__(self, key):
        self.key = key
        self.numbers = None

    def hit(self):
        """The stored frame, or None."""
        if self.key is None:
            return None
        try:
            self.numbers, frame = versions.read_with([page_caching.CONTENT, AVAILABILITY], self.key)
        except Exception:
            logger.warning("Booking page cache unavailable; rendering without it")
            self.key = None
            return None
        if (
            frame is None
            or frame.versions != self.numbers
            or timezone.now().timestamp() >= frame.fresh_until
        ):
            return None
        return frame

    def store(self, response, *, fresh_until):
        """
        The frame of `response`, rendered with TOKENS_MARKER where the tokens
        go, stored; or None when the page has no one place for them.
        """
        response.render()
        before, marker, after = response.content.decode(response.charset).partition(TOKENS_MARKER)
        if not marker or TOKENS_MARKER in after:
            logger.error(
                "Page not framed: it holds the tokens' place %s times", 0 if not marker else 2
            )
            return None
        frame = PageFrame(
            versions=self.numbers,
            fresh_until=fresh_until,
            before=before,
            after=after,
            content_type=response["Content-Type"],
        )
        page_caching.store(self.key, frame, settings.AVAILABILITY_CACHE_SECONDS)
        return frame


class FramedFormPageMixin:
    """
    A FormView whose GET page, empty as a GET shows it, is the same for
    everyone asking for the same choices but for the form's CSRF and form
    tokens: rendered once between changes (the same rules as
    BookingPageCache's), and served to each visitor with their own tokens
    rendered between the stored parts. Nothing is spliced into stored
    markup: the stored parts never held a token.
    """

    def get_framed(self, request, *, key, fresh_until):
        """
        This GET's page, from its frame stored under `key` (None: rendered
        for this visitor alone); `fresh_until(form)`: until when the page the
        form shows may be served (a POSIX timestamp), or None: never stored.
        """
        frame_cache = PageFrameCache(key)
        if (frame := frame_cache.hit()) is not None:
            # As the form's token_for_page gives an empty GET's form, without building the form.
            return frame.response(request, form_token=new_form_token(visitor_secret(request)))
        form = self.get_form()
        until = frame_cache.key and fresh_until(form)
        if until:
            response = self.render_to_response(
                self.get_context_data(form=form, tokens_marker=mark_safe(TOKENS_MARKER))
            )
            if (frame := frame_cache.store(response, fresh_until=until)) is not None:
                return frame.response(request, form_token=form.token_for_page)
        return self.render_to_response(self.get_context_data(form=form))


def request_form_key(request):
    """
    The key of step 5's page (a time chosen: the request form) for this
    request, or None: the same choices as page_key, and a well-formed time.
    A time the steps do not offer is never stored (the view's
    frame_fresh_until), so made-up times cannot fill the cache either.
    """
    if not settings.AVAILABILITY_CACHE_SECONDS or not offered_choices(request):
        return None
    try:
        parse_slot_value(request.GET.get("time", ""))
    except (TypeError, ValueError):
        return None
    key = page_caching.answers_key(request, [*FORM_PARAMETERS, "time"])
    return key and f"{key}:request-form{steps_alone(request)}"


def waitlist_key(request, *, offered_choices, today):
    """
    The key of the waitlist's join page for this request, or None: only
    choices the form offers (`offered_choices()`: its types and
    practitioners) are stored, as on the booking page, each day's apart
    (the page names the day's dates).
    """
    if not settings.AVAILABILITY_CACHE_SECONDS:
        return None
    types, practitioners = offered_choices()
    offered = {
        "type": {consultation_type.slug for consultation_type in types},
        "practitioner": {person.slug for person in practitioners},
    }
    if not all(
        not request.GET.get(name) or request.GET[name] in slugs for name, slugs in offered.items()
    ):
        return None
    key = page_caching.answers_key(request, ["type", "practitioner"])
    return key and f"{key}:{today.isoformat()}:waitlist"


def end_of_day(today):
    """When the clinic's day `today` ends, as a POSIX timestamp."""
    midnight = datetime.combine(
        today + timedelta(days=1), time(), tzinfo=timezone.get_current_timezone()
    )
    return midnight.timestamp()
