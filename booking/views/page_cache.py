"""
The booking page's GETs, rendered once for everyone between changes to what
it shows (the version and what processes keep between changes:
booking/cache_versions.py).

Working out a week of free times and rendering its radios is most of what
the booking page costs, yet the page is the same for every visitor who asks
for the same type, practitioner and week, but for two tokens: the CSRF
token and the form token, both bound to the visitor's CSRF secret. So the
page is stored in three parts around those two, and each visitor gets the
parts joined by tokens of their own; nothing of one visitor's reaches
another.

A stored page is served while all of these hold:

- the content version is the one it was rendered under (any content edit:
  treatments/caching.py);
- the availability version is (any save or delete of a booking, a
  practitioner, their hours or time off, a closure, a consultation type or
  the booking rules raises it: booking/signals.py, and change_status,
  which updates a booking's status without saving the instance);
- its first time is still outside the minimum notice: the page is stored
  until that time reaches the notice, when it would drop out of the week;
- and for AVAILABILITY_CACHE_SECONDS at most, so a day coming into the
  booking horizon shows within that long.

The waitlist's join page is stored the same way (JoinWaitlistView), under
the same versions, and never past the clinic's midnight (it shows today's
date). The forms' POSTs are never cached: the booking service checks the
chosen time inside its transaction, whatever page the visitor saw.
"""

import logging
import re
from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from booking.cache_versions import AVAILABILITY
from booking.form_tokens import new_form_token, visitor_secret
from booking.forms.fields import booking_choices, week_start_from
from booking.models import BookingRules
from clinic_site import versions
from treatments import caching as page_caching

logger = logging.getLogger(__name__)


# What the booking page's GET reads of its query string (BookConsultationView).
FORM_PARAMETERS = ["type", "treatment", "practitioner", "from"]

# The two per-visitor values in the rendered page, in the order they appear.
CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]*)"')
FORM_TOKEN_VALUE = re.compile(rb'name="form_token" value="([^"]*)"')


def page_key(request, parameters=FORM_PARAMETERS):
    """
    The booking page's key for this request, or None to render it without
    the cache: only the choices the form offers are stored (a type,
    treatment or practitioner it lists, a week within the booking horizon),
    so made-up values, which the form ignores, cannot fill the cache with
    copies of one page.
    """
    if not settings.AVAILABILITY_CACHE_SECONDS:
        return None
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
            return None
    if "from" in request.GET:
        week = week_start_from(request)
        today = timezone.localdate()
        horizon = today + timedelta(days=BookingRules.current().horizon_days)
        if week is None or not today <= week <= horizon:
            return None
    return page_caching.answers_key(request, parameters)


class CachedBookingPage(NamedTuple):
    """The booking page as the cache holds it, but for its two per-visitor tokens."""

    versions: tuple
    fresh_until: float  # a POSIX timestamp
    parts: tuple  # the bytes before the CSRF token, between the tokens, after the form token
    content_type: str

    @classmethod
    def of(cls, response, numbers, fresh_until):
        """The page to store, or None if its tokens are not where they should be."""
        body = response.content
        csrf = list(CSRF_VALUE.finditer(body))
        form_token = list(FORM_TOKEN_VALUE.finditer(body))
        if len(csrf) != 1 or len(form_token) != 1 or csrf[0].end() > form_token[0].start():
            return None
        csrf, form_token = csrf[0].span(1), form_token[0].span(1)
        return cls(
            versions=numbers,
            fresh_until=fresh_until,
            parts=(body[: csrf[0]], body[csrf[1] : form_token[0]], body[form_token[1] :]),
            content_type=response["Content-Type"],
        )

    def response(self, request):
        before, between, after = self.parts
        csrf = get_token(request).encode()
        form_token = new_form_token(visitor_secret(request)).encode()
        return HttpResponse(
            b"".join((before, csrf, between, form_token, after)), content_type=self.content_type
        )


class BookingPageCache:
    """The cache's side of one GET of the booking page (BookConsultationView.get)."""

    def __init__(self, request, parameters=FORM_PARAMETERS):
        # `parameters`: what the page reads of its query string (the waitlist's
        # join page is cached the same way, with its own).
        self.request = request
        self.key = page_key(request, parameters)
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

    def store(self, response, week=None, *, until_midnight=False):
        """
        Store the page just rendered (`week`: its slot picker's week, if it
        has one); returns the response. `until_midnight`: the page shows
        today's date (the waitlist's first day), so it is not served after
        the clinic's midnight.
        """
        if self.key is None or response.status_code != 200:
            return response
        response.render()
        if getattr(getattr(self.request, "_messages", None), "used", False):
            return response  # It showed the visitor a message (the page shows none today).
        fresh_until = self.fresh_until(week)
        if until_midnight:
            tomorrow = timezone.localdate() + timedelta(days=1)
            midnight = datetime.combine(tomorrow, time(0), tzinfo=timezone.get_current_timezone())
            fresh_until = min(fresh_until, midnight.timestamp())
        page = CachedBookingPage.of(response, self.numbers, fresh_until)
        if page is not None:
            page_caching.store(self.key, page, settings.AVAILABILITY_CACHE_SECONDS)
        return response

    @staticmethod
    def fresh_until(week):
        until = timezone.now().timestamp() + settings.AVAILABILITY_CACHE_SECONDS
        first = next((slots[0] for _, slots in week.days if slots), None) if week else None
        if first is not None:
            notice = BookingRules.current().minimum_notice_hours * 3600
            until = min(until, first.starts_at.timestamp() - notice)
        return until
