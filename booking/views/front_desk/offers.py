"""
An offer made by hand: staff offer a waiting client a free time (the waitlist entry's admin page).
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from booking.forms.fields import week_start_from
from booking.models import Practitioner, WaitlistEntry
from booking.services import offers
from booking.services.schedule import ClinicCalendar, parse_slot_value


def offer_by_hand_view(model_admin, request, object_id):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    entry = get_object_or_404(
        WaitlistEntry.objects.select_related("consultation_type", "practitioner"),
        pk=unquote(object_id) if str(object_id).isdigit() else None,
    )
    change_page = reverse("admin:booking_waitlistentry_change", args=[entry.pk])
    if request.method == "POST":
        # Each button sends its time and whom it was shown with: "<time> <practitioner's key>".
        slot_value, _, person = request.POST.get("slot", "").partition(" ")
        try:
            starts_at = parse_slot_value(slot_value)
            practitioner = Practitioner.objects.get(pk=int(person))
            offer = offers.offer_time(entry, starts_at, by=request.user, practitioner=practitioner)
        except (ValueError, Practitioner.DoesNotExist):
            messages.error(request, "That time could not be read. Choose one of the free times.")
        except (offers.OfferUnavailable, offers.AlreadyOffered) as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                f"Offered {timezone.localtime(starts_at):%A %-d %B, %-I:%M %p %Z} with "
                f"{offer.practitioner.name} to {entry.full_name}: they have been emailed a "
                "link to claim it.",
            )
            return redirect(change_page)
        return redirect(request.get_full_path())
    calendar = ClinicCalendar(entry.consultation_type, practitioner=entry.practitioner)
    first_day = max(entry.earliest_day, timezone.localdate())
    asked = week_start_from(request)
    # A day outside the entry's reach (or the calendar's) shows its first day instead.
    day = asked if asked and first_day <= asked <= calendar.last_day else first_day
    offered = set(entry.offers.values_list("starts_at", flat=True))
    slots = [slot for slot in calendar.slots([day]) if slot.starts_at not in offered]
    # Each time with whom it would be offered (and booked): see offered_with.
    times = [(slot, offers.offered_with(calendar, slot)) for slot in slots]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Offer a time to {entry.full_name}",
        "entry": entry,
        "day": day,
        "times": times,
        "suits": {slot.starts_at for slot in slots if entry.suits(slot.local_start)},
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "change_page": change_page,
    }
    return TemplateResponse(request, "booking/front_desk/waitlist_offer_by_hand.html", context)
