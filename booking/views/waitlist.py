"""
The waitlist's public pages: join, leave (signed link), and claim an
offered time (signed link; GET shows, POST claims). Each is one visitor's
own: never_cache sends Cache-Control: private, no-store, and none is in the
content page cache. The join form's empty fields are rendered once for
everyone between changes, the form's tokens for each visitor
(page_cache.py's FramedFormPageMixin).
"""

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from booking.form_tokens import read_form_token, visitor_secret
from booking.forms.waitlist import WaitlistJoinForm
from booking.models import WaitlistEntry, WaitlistOffer
from booking.ratelimit import limit_exceeded
from booking.services import waitlist
from booking.signed_links import (
    LinkExpired,
    LinkInvalid,
    entry_pk_from_token,
    offer_pk_from_token,
)

from .bookings import booked_references, remember_receipts
from .page_cache import FramedFormPageMixin, end_of_day, waitlist_key


@method_decorator(never_cache, name="dispatch")
class JoinWaitlistView(FramedFormPageMixin, FormView):
    template_name = "booking/waitlist/join.html"
    form_class = WaitlistJoinForm

    def get_initial(self):
        # `?type=` and `?practitioner=` from the booking page's link.
        return {
            name: self.request.GET[parameter]
            for name, parameter in [("consultation_type", "type"), ("practitioner", "practitioner")]
            if self.request.GET.get(parameter)
        }

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "visitor": visitor_secret(self.request)}

    def get(self, request, *args, **kwargs):
        key = waitlist_key(
            request, offered_choices=self.form_class.offered_choices, today=timezone.localdate()
        )
        return self.get_framed(request, key=key, fresh_until=self.frame_fresh_until)

    def frame_fresh_until(self, form):
        # The page names the day's dates: never served after the day it was rendered on.
        return min(
            timezone.now().timestamp() + settings.AVAILABILITY_CACHE_SECONDS,
            end_of_day(form.today),
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("meta_title", "Join the waitlist")
        return super().get_context_data(**kwargs)

    def form_invalid(self, form):
        # A double click or a re-post: show that the first one joined.
        token = read_form_token(self.request.POST.get("form_token"), visitor_secret(self.request))
        if token and WaitlistEntry.objects.filter(submission_key=token[0]).exists():
            return redirect("booking:waitlist_joined")
        return super().form_invalid(form)

    def form_valid(self, form):
        if limit_exceeded(
            self.request,
            scope="waitlist",
            limit=settings.WAITLIST_RATE_LIMIT,
            period_seconds=settings.BOOKING_RATE_WINDOW_SECONDS,
        ):
            response = render(self.request, "429.html", status=429)
            response["Retry-After"] = str(settings.BOOKING_RATE_WINDOW_SECONDS)
            return response
        waitlist.join_waitlist(**form.entry_details())
        return redirect("booking:waitlist_joined")


@method_decorator(never_cache, name="dispatch")
class WaitlistJoinedView(TemplateView):
    template_name = "booking/waitlist/joined.html"
    extra_context = {"meta_title": "You are on the waitlist"}


def _link_invalid(request, expired):
    return render(
        request,
        "booking/waitlist/link_invalid.html",
        {"expired": expired, "meta_title": "This link does not work"},
        status=410 if expired else 404,
    )


@method_decorator(never_cache, name="dispatch")
class LeaveWaitlistView(TemplateView):
    """GET shows a button (mail scanners follow links); POST leaves the list."""

    template_name = "booking/waitlist/leave.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            pk = entry_pk_from_token(kwargs["token"])
        except LinkExpired:
            return _link_invalid(request, expired=True)
        except LinkInvalid:
            return _link_invalid(request, expired=False)
        self.entry = (
            WaitlistEntry.objects.select_related("consultation_type", "practitioner")
            .filter(pk=pk)
            .first()
        )
        if self.entry is None:
            return _link_invalid(request, expired=False)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.update(entry=self.entry, meta_title="Leave the waitlist")
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        waitlist.leave_waitlist(self.entry)
        return redirect(request.path)


@method_decorator(never_cache, name="dispatch")
class ClaimOfferView(TemplateView):
    """
    An offered time: GET shows it and a button (mail scanners follow links);
    POST books it through the booking service. The first claim wins; the
    others see that it was just taken, stay on the list, and see the next
    free times that suit them.
    """

    template_name = "booking/waitlist/offer.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            pk = offer_pk_from_token(kwargs["token"])
        except LinkExpired:
            return _link_invalid(request, expired=True)
        except LinkInvalid:
            return _link_invalid(request, expired=False)
        self.offer = (
            WaitlistOffer.objects.select_related(
                "entry__consultation_type", "entry__practitioner", "practitioner", "booking"
            )
            .filter(pk=pk)
            .first()
        )
        if self.offer is None:
            return _link_invalid(request, expired=False)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        offer, now = self.offer, timezone.now()
        kwargs.setdefault("problem", "")
        if not kwargs["problem"]:
            if offer.status == WaitlistOffer.Status.CLAIMED:
                kwargs["problem"] = "claimed"
            elif offer.entry.status != WaitlistEntry.Status.WAITING:
                kwargs["problem"] = "not_waiting"
            elif offer.status == WaitlistOffer.Status.TAKEN:
                kwargs["problem"] = "taken"
            elif offer.status == WaitlistOffer.Status.EXPIRED or offer.expires_at <= now:
                kwargs["problem"] = "expired"
        if kwargs["problem"] in {"taken", "expired"}:
            kwargs["next_times"] = waitlist.next_free_times(offer.entry, now=now)
        kwargs.update(offer=offer, entry=offer.entry, meta_title="A time has freed up")
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        try:
            booking = waitlist.claim_offer(self.offer)
        except waitlist.TimeTaken:
            return self._shown_again("taken")
        except waitlist.OfferExpired:
            return self._shown_again("expired")
        except waitlist.AsksHealthQuestions:
            return self._shown_again("health_questions")
        except waitlist.OfferUnavailable:
            return self._shown_again("not_waiting")
        response = redirect("booking:received", reference=booking.reference)
        references = booked_references(request)
        if booking.reference not in references:
            references = [*references[-9:], booking.reference]
        remember_receipts(response, references)
        return response

    def _shown_again(self, problem):
        self.offer.refresh_from_db()
        self.offer.entry.refresh_from_db()
        return self.render_to_response(self.get_context_data(problem=problem))


# The staff's page in the admin: offer a specific free time to a specific
# entry by hand (WaitlistEntryAdmin links to it).
