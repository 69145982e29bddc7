"""
"Download my data": everything the clinic holds about an address, as one
JSON document, read in a fixed number of queries however many bookings,
emails and offers there are (a query per kind of record, with the rows
joined or prefetched).

Left out on purpose: staff's internal notes (staff's own working notes,
which the booking's page says the client never sees), the names of staff
who acted (a change is "the clinic's"), and emails' bodies (their kind and
times are listed: the client holds the emails themselves).
"""

from django.db.models import Prefetch
from django.utils import timezone

from booking.models import (
    ConsultationBooking,
    ErasureRequest,
    MarketingChoice,
    OutboundEmail,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.validators import normalise_client_email

from .screening import answers_as_seen


def _time(value):
    return timezone.localtime(value).isoformat() if value else None


def _email(message):
    return {
        "kind": message.get_kind_display(),
        "delivery": message.get_status_display(),
        "written_at": _time(message.created_at),
        "sent_at": _time(message.sent_at),
    }


def _health_form(answers):
    if answers is None:
        return None
    return {
        "questionnaire": str(answers.version),
        "for_consultation_on": answers.checked_for.isoformat(),
        "consent_given_at": _time(answers.health_consent_given_at),
        "health_notice_version": answers.health_policy_version,
        "answers": [
            {"question": question, "answer": answer}
            for question, _, answer in answers_as_seen(answers)
        ],
    }


def _booking(booking):
    return {
        "reference": booking.reference,
        "consultation": booking.consultation_type.name,
        "practitioner": booking.practitioner.name,
        "treatment": booking.treatment_label,
        "starts_at": _time(booking.starts_at),
        "ends_at": _time(booking.ends_at),
        "status": booking.get_status_display(),
        "full_name": booking.full_name,
        "email": booking.email,
        "phone": str(booking.phone),
        "preferred_contact": booking.get_preferred_contact_display(),
        "skin_concerns": [concern.label for concern in booking.concerns.all()],
        "message": booking.message,
        "booked_at": _time(booking.created_at),
        "confirmed_coming_at": _time(booking.attendance_confirmed_at),
        "consent": {
            "given_at": _time(booking.consent_given_at),
            "privacy_policy_version": booking.privacy_policy_version,
            "taken_by_phone": booking.consent_taken_by_id is not None,
            "marketing_emails": booking.marketing_opt_in,
        },
        "history": [
            {
                "at": _time(change.changed_at),
                "from": change.get_from_status_display() or None,
                "to": change.get_to_status_display(),
                "by": "you" if change.changed_by_client else "the clinic",
                "note": change.note,
            }
            for change in booking.status_changes.all()
        ],
        "emails": [_email(message) for message in booking.emails.all()],
        "health_form": _health_form(getattr(booking, "screening", None)),
    }


def _waitlist_entry(entry):
    return {
        "consultation": entry.consultation_type.name,
        "practitioner": entry.practitioner.name if entry.practitioner else "any",
        "suits": entry.preferences_display,
        "status": entry.get_status_display(),
        "full_name": entry.full_name,
        "email": entry.email,
        "joined_at": _time(entry.created_at),
        "left_at": _time(entry.left_at),
        "consent": {
            "given_at": _time(entry.consent_given_at),
            "privacy_policy_version": entry.privacy_policy_version,
        },
        "offers": [
            {
                "starts_at": _time(offer.starts_at),
                "with": offer.practitioner.name if offer.practitioner else "any",
                "status": offer.get_status_display(),
                "offered_at": _time(offer.created_at),
                "expires_at": _time(offer.expires_at),
                "answered_at": _time(offer.answered_at),
            }
            for offer in entry.offers.all()
        ],
    }


def client_data(email, now=None):
    """Everything held about `email`, as a JSON-ready dict (nine queries)."""
    email = normalise_client_email(email)
    bookings = (
        ConsultationBooking.objects.of_client(email)
        .select_related("consultation_type", "practitioner", "treatment", "screening__version")
        .prefetch_related(
            "concerns",
            "status_changes",
            Prefetch("emails", queryset=OutboundEmail.objects.order_by("created_at", "pk")),
        )
        .order_by("starts_at", "pk")
    )
    entries = (
        WaitlistEntry.objects.filter(email__iexact=email)
        .select_related("consultation_type", "practitioner")
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=WaitlistOffer.objects.select_related("practitioner").order_by(
                    "created_at", "pk"
                ),
            )
        )
        .order_by("created_at", "pk")
    )
    other_emails = OutboundEmail.objects.filter(booking__isnull=True, to__iexact=email).order_by(
        "created_at", "pk"
    )
    return {
        "address": email,
        "made_at": _time(now or timezone.now()),
        "bookings": [_booking(booking) for booking in bookings],
        "waitlist": [_waitlist_entry(entry) for entry in entries],
        "other_emails": [_email(message) for message in other_emails],
        "marketing_choices": [
            {
                "marketing_emails": choice.marketing_emails,
                "made_at": _time(choice.made_at),
                "where": choice.get_source_display(),
            }
            for choice in MarketingChoice.objects.filter(email=email)
        ],
        "erasure_requests": [
            {
                "status": request.get_status_display(),
                "requested_at": _time(request.requested_at),
                "due_by": request.due_by.isoformat(),
            }
            for request in ErasureRequest.objects.filter(email=email)
        ],
    }
