"""
What a signed-in client does to one visit from "My visits": cancel, move,
confirm they are coming, take the calendar file, leave the waitlist. The
same services, rules and cut-off as the manage link's page; every change
carries the status and time the client saw, so a visit staff changed while
the page was open is refused as changed meanwhile, as in the admin.

A visit is looked up among the signed-in address's own: any other
reference is a 404, whoever it belongs to.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from booking import services
from booking.forms.fields import SLOT_TAKEN, week_start_from
from booking.forms.my_visits import VisitMoveForm
from booking.models import BookingRules, ConsultationBooking, WaitlistEntry
from booking.services import my_visits
from booking.services.email_content import booking_calendar
from booking.services.waitlist import leave_waitlist

from .client_session import ClientSignInRequired

CHANGED_MEANWHILE = (
    "This visit was changed meanwhile (by the clinic, or on another page). "
    "Nothing was changed: here it is as it is now."
)


def past_cutoff_message():
    return (
        "This booking can no longer be changed online. "
        f"Please call us on {settings.CLINIC['phone']}."
    )


class OwnVisitMixin(ClientSignInRequired):
    def get_visit(self):
        visit = (
            ConsultationBooking.objects.of_client(self.client_email)
            .select_related("consultation_type", "practitioner")
            .filter(reference=self.kwargs["reference"])
            .first()
        )
        if visit is None:
            raise Http404
        return visit

    def back_to_page(self):
        return redirect(reverse("booking:my_visits") + "#upcoming")


class VisitActionView(OwnVisitMixin, View):
    """Cancel, or confirm I'm coming: a POST from the page's buttons."""

    def post(self, request, *args, **kwargs):
        visit = self.get_visit()
        action = request.POST.get("action")
        if action == "cancel":
            self.cancel(visit)
        elif action == "confirm_attendance":
            self.confirm_attendance(visit)
        else:
            messages.error(request, "Please use the buttons on this page to change your visit.")
        return self.back_to_page()

    def cancel(self, visit):
        try:
            seen_starts_at = parse_datetime(self.request.POST.get("seen_starts_at", ""))
        except ValueError:  # Well formed but no such time (month 13): a tampered form.
            seen_starts_at = None
        seen_status = self.request.POST.get("seen_status", "")
        if seen_starts_at is None or seen_status not in ConsultationBooking.Status.values:
            messages.error(self.request, CHANGED_MEANWHILE)
            return
        try:
            my_visits.cancel_visit(
                booking=visit, seen_status=seen_status, seen_starts_at=seen_starts_at
            )
        except services.StaleBooking:
            messages.error(self.request, CHANGED_MEANWHILE)
        except services.PastClientCutoff:
            messages.error(self.request, past_cutoff_message())
        except services.TransitionNotAllowed:
            messages.error(
                self.request, "This visit can no longer be cancelled online. Please call us."
            )
        else:
            messages.success(
                self.request,
                f"Your consultation {visit.reference} is cancelled. "
                "We have sent you an email to confirm.",
            )

    def confirm_attendance(self, visit):
        try:
            services.confirm_attendance(visit)
        except services.TransitionNotAllowed as refusal:
            messages.error(self.request, str(refusal))
        else:
            messages.success(self.request, "Thank you: we look forward to seeing you.")


@method_decorator(never_cache, name="dispatch")
class MoveVisitView(OwnVisitMixin, TemplateView):
    """A new time for one visit: the manage page's move form, with the time the client saw."""

    template_name = "booking/my_visits/move.html"

    @property
    def keep_practitioner(self):
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        return source.get("with") != "any"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("visit", self.visit)
        kwargs.setdefault("keep_practitioner", self.keep_practitioner)
        kwargs.setdefault("meta_title", f"Move your consultation {self.visit.reference}")
        kwargs.setdefault(
            "move_form",
            VisitMoveForm(
                booking=self.visit,
                keep_practitioner=self.keep_practitioner,
                week_start=week_start_from(self.request),
            ),
        )
        return super().get_context_data(**kwargs)

    def get(self, request, *args, **kwargs):
        self.visit = self.get_visit()
        if not self.visit.client_may_change(BookingRules.current()):
            messages.error(request, past_cutoff_message())
            return self.back_to_page()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.visit = self.get_visit()
        form = VisitMoveForm(
            request.POST, booking=self.visit, keep_practitioner=self.keep_practitioner
        )
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(move_form=form))
        try:
            moved = services.move_booking(
                self.visit,
                form.cleaned_data["slot"],
                practitioner=form.practitioner,
                seen_starts_at=form.cleaned_data["seen_starts_at"],
                by_client=True,
            )
        except services.SlotUnavailable:
            form.add_error("slot", SLOT_TAKEN)
            return self.render_to_response(self.get_context_data(move_form=form))
        except services.StaleBooking:
            messages.error(request, CHANGED_MEANWHILE)
        except services.PastClientCutoff:
            messages.error(request, past_cutoff_message())
        except services.TransitionNotAllowed:
            messages.error(request, "This visit can no longer be moved online. Please call us.")
        else:
            if moved.booking.starts_at == form.cleaned_data["seen_starts_at"]:
                messages.info(
                    request, "Your consultation is already at that time: nothing has changed."
                )
            else:
                messages.success(
                    request,
                    "Your consultation has moved. We have sent you an email with the new time.",
                )
            if moved.health_outcome_changed and moved.health_form_question:
                messages.info(
                    request,
                    "We have a question about your health form. "
                    f"Please call us on {settings.CLINIC['phone']}.",
                )
        return self.back_to_page()


@method_decorator(never_cache, name="dispatch")
class VisitCalendarView(OwnVisitMixin, View):
    def get(self, request, *args, **kwargs):
        visit = self.get_visit()
        if not visit.is_active:
            raise Http404
        response = HttpResponse(
            booking_calendar(visit, "PUBLISH"), content_type="text/calendar; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="consultation-{visit.reference}.ics"'
        )
        return response


class LeaveWaitlistView(ClientSignInRequired, View):
    def post(self, request, pk):
        entry = WaitlistEntry.objects.filter(pk=pk, email__iexact=self.client_email).first()
        if entry is None:
            raise Http404
        if leave_waitlist(entry):
            messages.success(request, "You are off the waitlist for that consultation.")
        return redirect(reverse("booking:my_visits") + "#waitlist")
