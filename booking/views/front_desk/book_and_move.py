"""
Staff booking a caller and moving a booking, in the admin: thin views over
services.book_consultation and services.move_booking, which hold the rules
(free times, the no-overlap rule, the outbox) for the public site and the
admin alike.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from booking import services
from booking.forms.front_desk.book_and_move import StaffBookingForm, StaffMoveForm
from booking.forms.front_desk.times import PICK_TIME, SHOW_TIMES
from booking.models import ConsultationBooking

Status = ConsultationBooking.Status


def can_move(booking):
    """The service's rule: a booking still ahead of its client, not one in the building."""
    return booking.is_active and booking.status != Status.ARRIVED


def _when(booking):
    return f"{timezone.localtime(booking.starts_at):%A %-d %B %Y, %-I:%M %p %Z}"


def _change_page(booking):
    return redirect("admin:booking_consultationbooking_change", booking.pk)


def _wants_times(request):
    """“Show free times” or a free time's button: the form again, nothing booked or moved."""
    return SHOW_TIMES in request.POST or PICK_TIME in request.POST


def _render(request, model_admin, template, title, **context):
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            "pick_time": PICK_TIME,
            "show_times": SHOW_TIMES,
            **context,
        },
    )


def book_caller_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method == "POST" and _wants_times(request):
        form = StaffBookingForm(initial=StaffBookingForm.initial_from(request.POST))
    elif request.method == "POST":
        form = StaffBookingForm(request.POST)
        if form.is_valid():
            try:
                booking, created = services.book_consultation(
                    **form.booking_details(), taken_by=request.user
                )
            except services.SlotUnavailable:
                form.add_error("time", _not_free(form.cleaned_data))
            else:
                _report_booked(request, booking, created, form.cleaned_data["send_receipt"])
                return _change_page(booking)
    else:
        initial, problems = StaffBookingForm.initial_from_address(request.GET)
        for problem in problems:
            messages.warning(request, problem)
        form = StaffBookingForm(initial=initial)
    return _render(
        request, model_admin, "booking/front_desk/book_caller.html", "Book a caller", form=form
    )


def _not_free(cleaned_data):
    person = cleaned_data.get("practitioner")
    who = person.name if person else "any practitioner"
    return (
        f"That time is not free for {who}: a booking, time off, a closure or working hours "
        "rule it out. Choose one of the free times listed."
    )


def _report_booked(request, booking, created, send_receipt):
    if not created:
        messages.info(
            request,
            f"This form was sent already: here is the booking it made, {booking.reference}.",
        )
        return
    receipt = (
        f"The receipt is on its way to {booking.email}." if send_receipt else "No receipt was sent."
    )
    messages.success(
        request,
        f"Booked {booking.reference}: {booking.consultation_type.name} with "
        f"{booking.practitioner.name}, {_when(booking)}. {receipt}",
    )


def move_view(model_admin, request, object_id):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    booking = model_admin.get_object(request, unquote(object_id))
    if booking is None:
        # As the admin's own change page answers: a message, and back to the index.
        return model_admin._get_obj_does_not_exist_redirect(
            request, model_admin.model._meta, object_id
        )
    if not model_admin.has_change_permission(request, booking):
        raise PermissionDenied
    form = None
    if not can_move(booking):
        messages.error(request, _cannot_move(booking))
    elif request.method == "POST" and _wants_times(request):
        form = StaffMoveForm(initial=StaffMoveForm.initial_from(request.POST), booking=booking)
    elif request.method == "POST":
        form = StaffMoveForm(request.POST, booking=booking)
        if form.is_valid():
            data = form.cleaned_data
            try:
                moved = services.move_booking(
                    booking,
                    data["starts_at"],
                    practitioner=data["practitioner"],
                    seen_starts_at=data["seen_starts_at"],
                    by=request.user,
                    for_staff=True,
                )
            except services.StaleBooking as refusal:
                booking = refusal.booking
                messages.error(
                    request,
                    f"{refusal} It is now {_when(booking)} with {booking.practitioner.name}.",
                )
                # The form again with the booking as it is now, so a retry
                # is a decision about the current time.
                initial = StaffMoveForm.initial_from(request.POST)
                initial["seen_starts_at"] = booking.starts_at.isoformat()
                form = (
                    StaffMoveForm(initial=initial, booking=booking) if can_move(booking) else None
                )
            except services.SlotUnavailable:
                form.add_error("time", _not_free(data))
            except services.TransitionNotAllowed:
                booking.refresh_from_db()
                messages.error(request, _cannot_move(booking))
                form = None
            else:
                _report_moved(request, booking, moved.booking)
                if changed := moved.health_outcome_changed:
                    messages.warning(
                        request,
                        f"The health form was checked again for the new date: it is now "
                        f"“{changed[1].label}” (was “{changed[0].label}”).",
                    )
                return _change_page(moved.booking)
    else:
        form = StaffMoveForm(booking=booking)
    return _render(
        request,
        model_admin,
        "booking/front_desk/move_booking.html",
        f"Move booking {booking.reference}",
        form=form,
        booking=booking,
        when=_when(booking),
    )


def _cannot_move(booking):
    return (
        f"Booking {booking.reference} is {booking.get_status_display().lower()}: only requested "
        "or confirmed bookings can be moved."
    )


def _report_moved(request, before, moved):
    # The service leaves a booking alone when asked for the time and person it has.
    if (moved.starts_at, moved.practitioner_id) == (before.starts_at, before.practitioner_id):
        messages.info(request, f"{moved.reference} is already at that time: nothing was changed.")
        return
    messages.success(
        request,
        f"Moved {moved.reference} to {_when(moved)} with {moved.practitioner.name}. "
        f"The client is emailed the new time.",
    )
