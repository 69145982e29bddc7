"""
What one racer does in tests.support.races. Each function runs in a forked
child with Django set up, reads what it needs, and returns the step to run
when the race starts; that step returns a JSON-able outcome.
"""

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from booking import services
from booking.models import ConsultationType, Practitioner, WaitlistEntry, WaitlistOffer
from booking.services import waitlist
from booking.services.schedule import bookable_slots


def book(kind_slug, starts_at, practitioner_slug):
    """Ask the booking service for a time: whom it booked, or that it refused."""
    kind = ConsultationType.objects.get(slug=kind_slug)
    practitioner = Practitioner.objects.filter(slug=practitioner_slug).first()

    def go():
        try:
            booking, _ = services.book_consultation(
                consultation_type=kind,
                practitioner=practitioner,
                starts_at=datetime.fromisoformat(starts_at),
                concerns=[],
                submission_key=uuid.uuid4().hex,
                full_name="Racer",
                email="racer@example.com",
                phone="+12125550147",
                preferred_contact="email",
            )
        except services.SlotUnavailable:
            return {"refused": True}
        return {"booked": booking.practitioner.slug}

    return go


def claim(offer_pk):
    """Claim a waitlist offer: the booking's reference, or that the time was taken."""
    offer = WaitlistOffer.objects.get(pk=offer_pk)

    def go():
        try:
            return {"booked": waitlist.claim_offer(offer).reference}
        except waitlist.TimeTaken:
            return {"taken": True}

    return go


def offers_of_a_cancellation(waiting):
    """
    Not a racer but the race's set-up, in a process of the site's own: a
    booking with Maya, `waiting` clients on the waitlist for her, then the
    booking cancelled and its time offered to them. The offers' keys.
    """
    kind = ConsultationType.objects.get(slug="skin-assessment")
    maya = Practitioner.objects.get(slug="maya-chen")
    starts_at = next(
        slot.starts_at
        for slot in bookable_slots(kind, practitioner=maya)
        if slot.starts_at > timezone.now() + timedelta(days=2)
    )

    def go():
        _cancel_with_people_waiting(kind, maya, starts_at, [maya] * waiting)
        return list(WaitlistOffer.objects.order_by("pk").values_list("pk", flat=True))

    return go


def offers_of_a_time_others_are_free_at(any_waiting, named_waiting):
    """
    The set-up of the "any practitioner" race (issue 23), in a process of the
    site's own: a skin assessment booked with the last in the team's order of
    those free at a time when others are free too; `any_waiting` clients on
    the waitlist for any practitioner and `named_waiting` for the booked one;
    then the booking cancelled and its time offered to them. The offers'
    keys, the time, whose time it was and who else is free then.
    """
    kind = ConsultationType.objects.get(slug="skin-assessment")
    slot = next(
        slot
        for slot in bookable_slots(kind)
        if slot.starts_at > timezone.now() + timedelta(days=2) and len(slot.practitioners) >= 2
    )
    freed = slot.practitioners[-1]

    def go():
        waiting = [None] * any_waiting + [freed] * named_waiting
        _cancel_with_people_waiting(kind, freed, slot.starts_at, waiting)
        return {
            "offers": list(WaitlistOffer.objects.order_by("pk").values_list("pk", flat=True)),
            "starts_at": slot.starts_at.isoformat(),
            "freed": freed.slug,
            "others_free": [person.slug for person in slot.practitioners[:-1]],
        }

    return go


def _cancel_with_people_waiting(kind, practitioner, starts_at, waiting_for):
    """
    A booking of `kind` with `practitioner` at `starts_at`; one client on the
    waitlist for each of `waiting_for` (a practitioner, or None for any); the
    booking cancelled, and its freed time offered (local mode queues that task
    for a worker: the sweep runs it here).
    """
    booking, _ = services.book_consultation(
        consultation_type=kind,
        practitioner=practitioner,
        starts_at=starts_at,
        concerns=[],
        submission_key="setup",
        full_name="Setup",
        email="setup@example.com",
        phone="+12125550147",
        preferred_contact="email",
    )
    today = timezone.localdate()
    for n, wanted in enumerate(waiting_for):
        WaitlistEntry.objects.create(
            consultation_type=kind,
            practitioner=wanted,
            weekdays="0123456",
            parts_of_day="morning,afternoon,evening",
            earliest_day=today,
            latest_day=today + timedelta(days=30),
            full_name=f"Waiting {n}",
            email=f"waiting{n}@example.com",
            phone="+12125550100",
            consent_given_at=timezone.now(),
            privacy_policy_version="test",
        )
    services.change_status(booking, "cancelled", by_client=True)
    waitlist.sweep_waitlist()
