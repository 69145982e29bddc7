from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from booking import services
from booking.form_tokens import read_form_token, visitor_secret
from booking.forms.bookings import ConsultationRequestForm, MoveBookingForm
from booking.forms.fields import SLOT_TAKEN, week_start_from
from booking.forms.steps import iso_date
from booking.models import BookingRules, ConsultationBooking, Practitioner
from booking.ratelimit import limit_exceeded
from booking.signed_links import LinkExpired, LinkInvalid, reference_from_token
from treatments.caching import CachedPageMixin
from treatments.models import SitePage
from treatments.views import SitePageMixin

from .page_cache import BookingPageCache, FramedFormPageMixin, request_form_key

Status = ConsultationBooking.Status

# Confirmation pages show only to the browser that made the booking: it
# holds their references in a signed cookie. A session would do as well, but
# would cost every booking a read and a write of its session row.
RECEIPTS_SALT = "booking.received"


def receipts_cookie_name():
    # The __Host- prefix, as the session and CSRF cookies have it, wherever cookies are Secure.
    return "__Host-booked" if settings.SESSION_COOKIE_SECURE else "booked"


def remember_receipts(response, references):
    response.set_signed_cookie(
        receipts_cookie_name(),
        "-".join(references),
        salt=RECEIPTS_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def booked_references(request):
    """The references of the bookings this browser made (its last ten)."""
    value = request.get_signed_cookie(
        receipts_cookie_name(),
        default="",
        salt=RECEIPTS_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
    )
    return value.split("-") if value else []


class PrivacyPolicyView(CachedPageMixin, SitePageMixin, TemplateView):
    page_key = SitePage.Key.PRIVACY
    template_name = "booking/bookings/privacy.html"


# Every booking page is one visitor's own (a form token, their details, their
# booking): never_cache sends Cache-Control: private, no-store, among others.
@method_decorator(never_cache, name="dispatch")
# What a visitor sends (their details and health answers) never goes into an
# error report: Django's reporter shows every POST field of this view starred.
@method_decorator(sensitive_post_parameters(), name="dispatch")
class BookConsultationView(FramedFormPageMixin, SitePageMixin, FormView):
    page_key = SitePage.Key.BOOKING
    template_name = "booking/bookings/book.html"
    form_class = ConsultationRequestForm

    def get_initial(self):
        # `?type=`, `?treatment=` (from a treatment page or the guide) and
        # `?practitioner=` (from the team page) preselect; the form matches
        # them against what it lists, so an unknown slug is simply ignored.
        return {
            name: self.request.GET[parameter]
            for name, parameter in [
                ("consultation_type", "type"),
                ("treatment", "treatment"),
                ("practitioner", "practitioner"),
                # The time chosen in step 4 (booking/forms/steps.py).
                ("slot", "time"),
            ]
            if parameter in self.request.GET
        }

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "start": iso_date(self.request.GET.get("from")),
            "day": iso_date(self.request.GET.get("day")),
            "visitor": visitor_secret(self.request),
            # Staff booking for callers are exempt, as from the rate limit.
            "limit_requests_per_contact": not self.request.user.is_staff,
        }

    def get(self, request, *args, **kwargs):
        # The page is the same for everyone asking for the same choices but
        # for the visitor's tokens: served from the cache between changes to
        # its free times (booking/views/page_cache.py).
        if "time" in request.GET:
            # Step 5 holds the visitor's tokens: the page rendered once for
            # everyone making the same choices, their tokens for each visitor.
            return self.get_framed(
                request, key=request_form_key(request), fresh_until=self.frame_fresh_until
            )
        page_cache = BookingPageCache(request)
        if (cached := page_cache.hit()) is not None:
            return cached
        form = self.get_form()
        response = self.render_to_response(self.get_context_data(form=form))
        return page_cache.store(response, form.steps.first_start)

    def frame_fresh_until(self, form):
        # A time the steps do not offer shows step 4's "no longer available": never stored.
        if form.steps.chosen_slot is None:
            return None
        return BookingPageCache.fresh_until(form.steps.first_start)

    def get_template_names(self):
        # htmx swaps the steps in place (book.html's `steps` partial); a
        # history restore (back to a page htmx did not keep) needs it whole.
        htmx = getattr(self.request, "htmx", None)
        if htmx and not htmx.history_restore_request:
            return [f"{self.template_name}#steps"]
        return [self.template_name]

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def post(self, request, *args, **kwargs):
        if {"show_times", "check_answers", "choose_time"} & set(request.POST):
            # Another choice on the way: the same page with it, everything
            # typed kept, and no error for what is not typed yet. "Check my
            # answers" also shows what the health answers mean.
            initial = ConsultationRequestForm.initial_from(request.POST)
            if "choose_time" in request.POST:
                initial["slot"] = request.POST["choose_time"]
            form = self.form_class(initial=initial, visitor=visitor_secret(request))
            if "check_answers" in request.POST:
                form.check_health_answers(request.POST)
            return self.render_to_response(self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # A double click or a browser re-post the form now refuses (its time
        # is the first request's booking's, or its sender holds too many
        # requests): show that booking rather than an error. The token names
        # this browser, so another one posting it (a copied page) is refused
        # by the form instead of shown the booking. A valid re-post finds its
        # booking in the booking service.
        token = read_form_token(self.request.POST.get("form_token"), visitor_secret(self.request))
        existing = token and ConsultationBooking.objects.filter(submission_key=token[0]).first()
        if existing:
            return self.show_received(existing)
        return super().form_invalid(form)

    def show_received(self, booking):
        response = redirect("booking:received", reference=booking.reference)
        references = booked_references(self.request)
        if booking.reference not in references:
            references = [*references[-9:], booking.reference]
        remember_receipts(response, references)
        return response

    def form_valid(self, form):
        # Only complete requests count towards the limit: a person fixing a
        # typo is never locked out, and staff booking for callers are exempt.
        if not self.request.user.is_staff and limit_exceeded(
            self.request,
            scope="booking",
            limit=settings.BOOKING_RATE_LIMIT,
            period_seconds=settings.BOOKING_RATE_WINDOW_SECONDS,
        ):
            response = render(self.request, "429.html", status=429)
            # The whole period: the longest the visitor can have to wait.
            response["Retry-After"] = str(settings.BOOKING_RATE_WINDOW_SECONDS)
            return response
        try:
            booking, _ = services.book_consultation(**form.booking_details())
        except services.SlotUnavailable:
            form.add_error("slot", SLOT_TAKEN)
            # The service found no booking of this form's: nothing to look up.
            return super().form_invalid(form)
        return self.show_received(booking)


@method_decorator(never_cache, name="dispatch")
class BookingReceivedView(TemplateView):
    template_name = "booking/bookings/received.html"

    def get_context_data(self, **kwargs):
        reference = self.kwargs["reference"]
        if reference not in booked_references(self.request):
            raise Http404
        booking = get_object_or_404(
            ConsultationBooking.objects.select_related("consultation_type", "practitioner"),
            reference=reference,
        )
        kwargs.update(booking=booking, meta_title=f"Booking received: {booking.reference}")
        return super().get_context_data(**kwargs)


@method_decorator(never_cache, name="dispatch")
class ManageBookingView(TemplateView):
    """
    The client's own page for their booking, reached from the signed link in
    their emails. GET only shows it (mail scanners follow links); changes
    need a POST from the page's buttons.
    """

    template_name = "booking/bookings/manage.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            reference = reference_from_token(kwargs["token"])
        except LinkExpired:
            return render(
                request, "booking/bookings/manage_link_invalid.html", {"expired": True}, status=410
            )
        except LinkInvalid:
            return render(
                request, "booking/bookings/manage_link_invalid.html", {"expired": False}, status=404
            )
        self.booking = (
            ConsultationBooking.objects.select_related("consultation_type", "practitioner")
            .filter(reference=reference)
            .first()
        )
        if self.booking is None or self.booking.anonymised_at:
            return render(
                request, "booking/bookings/manage_link_invalid.html", {"expired": False}, status=404
            )
        return super().dispatch(request, *args, **kwargs)

    @property
    def keep_practitioner(self):
        """The client's choice for a move: their practitioner (the default) or any."""
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        return source.get("with") != "any"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("booking", self.booking)
        kwargs.setdefault("meta_title", f"Your consultation {self.booking.reference}")
        kwargs.setdefault("keep_practitioner", self.keep_practitioner)
        rules = BookingRules.current()
        may_change = self.booking.client_may_change(rules)
        kwargs.update(
            may_change=may_change,
            change_deadline=self.booking.client_change_deadline(rules),
            may_confirm_attendance=(
                self.booking.status in {Status.REQUESTED, Status.CONFIRMED}
                and self.booking.starts_at > timezone.now()
            ),
        )
        if may_change:
            kwargs.setdefault(
                "move_form",
                MoveBookingForm(
                    booking=self.booking,
                    keep_practitioner=self.keep_practitioner,
                    week_start=week_start_from(self.request),
                ),
            )
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        # Each button posts its own action; anything else changes nothing.
        if request.POST.get("action") == "cancel":
            return self.cancel(request)
        if request.POST.get("action") == "move" and self.booking.is_active:
            return self.move(request)
        if request.POST.get("action") == "confirm_attendance":
            return self.confirm_attendance(request)
        messages.error(request, "Please use the buttons on this page to change your booking.")
        return redirect(request.path)

    def confirm_attendance(self, request):
        try:
            services.confirm_attendance(self.booking)
        except services.TransitionNotAllowed as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, "Thank you: we look forward to seeing you.")
        return redirect(request.path)

    def cancel(self, request):
        try:
            services.change_status(
                self.booking,
                ConsultationBooking.Status.CANCELLED,
                by_client=True,
                note="Cancelled online",
            )
        except services.PastClientCutoff:
            messages.error(
                request,
                f"This booking can no longer be changed online. Please call us on {settings.CLINIC['phone']}.",
            )
        except services.TransitionNotAllowed:
            messages.error(
                request, "This booking can no longer be cancelled online. Please call us."
            )
        else:
            messages.success(
                request, "Your consultation is cancelled. We have sent you an email to confirm."
            )
        return redirect(request.path)

    def move(self, request):
        form = MoveBookingForm(
            request.POST, booking=self.booking, keep_practitioner=self.keep_practitioner
        )
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(move_form=form))
        # The same time, whoever with: the service keeps the booking as it
        # is (its practitioner comes first for "any"), so nothing is sent.
        if form.cleaned_data["slot"] == self.booking.starts_at:
            messages.info(
                request, "Your consultation is already at that time: nothing has changed."
            )
            return redirect(request.path)
        try:
            moved = services.move_booking(
                self.booking,
                form.cleaned_data["slot"],
                practitioner=form.practitioner,
                by_client=True,
            )
        except services.SlotUnavailable:
            form.add_error("slot", SLOT_TAKEN)
            return self.render_to_response(self.get_context_data(move_form=form))
        except services.PastClientCutoff:
            messages.error(
                request,
                f"This booking can no longer be changed online. Please call us on {settings.CLINIC['phone']}.",
            )
        except services.TransitionNotAllowed:
            messages.error(request, "This booking can no longer be moved online. Please call us.")
        else:
            messages.success(
                request, "Your consultation has moved. We have sent you an email with the new time."
            )
            # The health answers' date rules, measured again for the new date.
            if moved.health_outcome_changed and moved.health_form_question:
                messages.info(
                    request,
                    "We have a question about your health form. "
                    f"Please call us on {settings.CLINIC['phone']}.",
                )
        return redirect(request.path)


class TeamView(CachedPageMixin, SitePageMixin, TemplateView):
    """
    Who consults: the published practitioners, each with a link to book them.
    A content page, cached as the others (a practitioner's save raises the
    content version too: signals.py).
    """

    page_key = SitePage.Key.TEAM
    template_name = "booking/bookings/team.html"

    def get_context_data(self, **kwargs):
        kwargs["practitioners"] = Practitioner.objects.on_team_page()
        return super().get_context_data(**kwargs)
