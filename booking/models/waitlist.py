"""
The waitlist: people waiting for a time to free up, the times that freed
up (written with the change that freed them, handled once), and the
offers made from them. The logic is in booking/services/waitlist.py and
booking/services/offers.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from booking.signed_links import waitlist_leave_token, waitlist_offer_token
from booking.validators import validate_client_email

from .bookings import ConsultationBooking
from .consultation_types import ConsultationType
from .schedule import Practitioner, Weekday


class PartOfDay(models.TextChoices):
    # Clinic clock hours, [from, until).
    MORNING = "morning", "Mornings (before noon)"
    AFTERNOON = "afternoon", "Afternoons (noon to 5 PM)"
    EVENING = "evening", "Evenings (from 5 PM)"

    @classmethod
    def of(cls, local_start):
        if local_start.hour < 12:
            return cls.MORNING
        if local_start.hour < 17:
            return cls.AFTERNOON
        return cls.EVENING


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=WaitlistEntry.Status.WAITING)

    def waiting_on(self, day):
        """Everyone waiting whose dates include this clinic day and whose weekdays do."""
        return self.waiting().filter(
            earliest_day__lte=day, latest_day__gte=day, weekdays__contains=str(day.weekday())
        )

    def past_their_dates(self, today):
        return self.waiting().filter(latest_day__lt=today)


class WaitlistEntry(models.Model):
    """Someone waiting for a consultation time that suits them to free up."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked (left the list)"
        LEFT = "left", "Left the list"
        EXPIRED = "expired", "Expired (past their dates)"

    consultation_type = models.ForeignKey(
        ConsultationType, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        help_text="Empty means any practitioner who takes the consultation.",
    )
    # The weekdays that suit, as digits (Monday 0 … Sunday 6), e.g. "024".
    weekdays = models.CharField(max_length=7)
    # The parts of the day that suit, comma-separated PartOfDay values.
    parts_of_day = models.CharField(max_length=40)
    earliest_day = models.DateField("from")
    latest_day = models.DateField("until", help_text="The last day that suits (inclusive).")
    full_name = models.CharField(max_length=150)
    email = models.EmailField(validators=[validate_client_email])
    phone = PhoneNumberField(help_text="Stored in international format.")
    status = models.CharField(max_length=10, choices=Status, default=Status.WAITING, db_index=True)
    booking = models.ForeignKey(
        ConsultationBooking,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The booking that took them off the list.",
    )
    consent_given_at = models.DateTimeField(editable=False)
    privacy_policy_version = models.CharField(max_length=40, editable=False)
    # The form token's key: a double click joins once.
    submission_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist"
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_day__gte=models.F("earliest_day")),
                name="waitlist_until_after_from",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "consultation_type", "earliest_day"],
                name="waitlist_waiting_type_idx",
            ),
            # Looked up by email in any case, as `email__iexact` compares.
            models.Index(Upper("email"), name="waitlist_email_upper_idx"),
        ]

    def __str__(self):
        return f"{self.full_name}: {self.consultation_type}"

    @property
    def weekday_list(self):
        return [Weekday(int(digit)) for digit in self.weekdays]

    @property
    def part_list(self):
        return [PartOfDay(part) for part in self.parts_of_day.split(",") if part]

    def suits(self, local_start):
        """Whether a consultation starting then (clinic time) is on their days and parts of the day."""
        return (
            self.earliest_day <= local_start.date() <= self.latest_day
            and str(local_start.weekday()) in self.weekdays
            and PartOfDay.of(local_start) in self.parts_of_day.split(",")
        )

    @property
    def preferences_display(self):
        days = ", ".join(day.label for day in self.weekday_list)
        parts = ", ".join(part.label.split(" (")[0].lower() for part in self.part_list)
        return f"{days}; {parts}; {self.earliest_day:%-d %b %Y} – {self.latest_day:%-d %b %Y}"

    def get_leave_url(self):
        return reverse("booking:waitlist_leave", kwargs={"token": waitlist_leave_token(self)})


class FreedTime(models.Model):
    """
    A practitioner's time that became free (a cancellation, a decline, a
    move, new hours, time off removed), written in the same transaction as
    the change: the waitlist's outbox. Offers are made from it once, by
    whichever process handles it first (services.offers.offer_freed_time).
    """

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "freed time"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="freed_time_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.practitioner}: {timezone.localtime(self.starts_at):%d %b %Y %H:%M}"


class WaitlistOfferQuerySet(models.QuerySet):
    def open(self, now=None):
        return self.filter(
            status=WaitlistOffer.Status.OFFERED, expires_at__gt=now or timezone.now()
        )

    def lapsed(self, now=None):
        return self.filter(
            status=WaitlistOffer.Status.OFFERED, expires_at__lte=now or timezone.now()
        )


class WaitlistOffer(models.Model):
    """One freed time offered to one waitlist entry; the first to claim it books it."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        CLAIMED = "claimed", "Claimed (booked)"
        TAKEN = "taken", "Taken by someone else first"
        EXPIRED = "expired", "Expired"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    starts_at = models.DateTimeField("consultation time")
    # Whose time is offered: a claim books exactly them, so one freed time
    # makes one booking however many practitioners are free then. Empty only
    # on offers made before it was recorded (migration 0022), which book as
    # their entry asked (see consultation_with).
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_offers",
        help_text="Who the consultation is with: the practitioner whose time was offered.",
    )
    expires_at = models.DateTimeField(
        help_text="The claim link works until then, always before the time's minimum notice."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OFFERED, db_index=True)
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="For offers made by hand: the staff member who made it.",
    )
    booking = models.ForeignKey(
        ConsultationBooking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = WaitlistOfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "waitlist offer"
        constraints = [
            # Nobody is offered the same time twice, whichever process or
            # instance freed it, or however many times it freed up.
            models.UniqueConstraint(fields=["entry", "starts_at"], name="one_offer_per_time"),
            models.CheckConstraint(
                condition=Q(expires_at__lte=models.F("starts_at")),
                name="offer_expires_before_the_time",
            ),
        ]

    def __str__(self):
        return f"{self.entry.full_name}: {timezone.localtime(self.starts_at):%d %b %Y %H:%M}"

    @property
    def clinic_start(self):
        return timezone.localtime(self.starts_at)

    @property
    def consultation_with(self):
        """
        The practitioner a claim books: the one whose time was offered; for an
        offer from before that was recorded, the entry's (None: any
        practitioner free then, as such offers were claimed before).
        """
        return self.practitioner or self.entry.practitioner

    def get_claim_url(self):
        return reverse("booking:waitlist_offer", kwargs={"token": waitlist_offer_token(self)})
