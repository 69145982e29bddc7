"""
The bookings themselves and their history.

The database, not only the application, refuses overbooking: every active
booking blocks its practitioner from its start to its end plus the room's
turnover, and no two such ranges of one practitioner may overlap. On
PostgreSQL an exclusion constraint says so; on SQLite (local mode) writes
are serialized and triggers refuse an overlapping row (see `booking/sqlite.py`).
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import connections, models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q
from django.db.models.functions import TruncDate, Upper
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from booking.signed_links import manage_token
from booking.validators import validate_client_email

from .constraints import PostgresOnlyExclusionConstraint
from .consultation_types import MAX_BEFORE_CARE_DAYS, ConsultationType
from .outbox import OutboundEmail
from .schedule import Practitioner

# No 0/O, 1/I/L: references are read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8


def new_reference():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class BookingQuerySet(models.QuerySet):
    def active(self):
        """Bookings that hold their slot."""
        return self.filter(status__in=ConsultationBooking.ACTIVE_STATUSES)

    def holding_time_between(self, start, end):
        """Active bookings whose time, turnover included, overlaps [start, end)."""
        active = self.active()
        if connections[self.db].vendor == "postgresql":
            # The same range and condition as the no-overlap constraint, so
            # its GiST index finds the bookings of those days alone, however
            # long the history behind them or the diary ahead.
            return active.alias(
                held=TsTzRange("starts_at", "blocks_until", RangeBoundary())
            ).filter(held__overlap=DateTimeTZRange(start, end))
        return active.filter(starts_at__lt=end, blocks_until__gt=start)

    def needs_action(self):
        return self.filter(status=ConsultationBooking.Status.REQUESTED)

    def upcoming(self, now=None):
        return self.filter(starts_at__gte=now or timezone.now())

    def waiting_for_contact(self, *, email, phone, now=None):
        """
        {"email": n, "phone": n}: how many upcoming requests, not yet
        confirmed, this email address (in any case) and this phone number hold.
        """
        # The filter in WHERE as well as in each count: only this person's
        # rows are read (booking_requested_email_idx and _phone_idx), never
        # every request waiting at the clinic.
        return (
            self.needs_action()
            .upcoming(now)
            .filter(Q(email__iexact=email) | Q(phone=phone))
            .aggregate(
                email=models.Count("pk", filter=Q(email__iexact=email)),
                phone=models.Count("pk", filter=Q(phone=phone)),
            )
        )

    def due_for_reminder(self, now=None):
        now = now or timezone.now()
        return self.filter(
            status=ConsultationBooking.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=settings.BOOKING_REMINDER_HOURS),
        )

    def awaiting_before_care(self, now=None):
        """
        Confirmed consultations ahead whose type sends before-care and whose
        client has not been sent it (nor has it waiting) for the consultation's
        day: the candidates, whose due time (ConsultationBooking.before_care_due_at)
        the caller compares with the clock. Before-care withdrawn (superseded) by
        a move or a cancellation does not count.
        """
        now = now or timezone.now()
        already = OutboundEmail.objects.filter(
            booking=models.OuterRef("pk"),
            kind=OutboundEmail.Kind.BEFORE_CARE,
            consultation_date=models.OuterRef("clinic_day"),
        ).exclude(status=OutboundEmail.Delivery.SUPERSEDED)
        return (
            self.filter(
                status=ConsultationBooking.Status.CONFIRMED,
                starts_at__gt=now,
                starts_at__lte=now + timedelta(days=MAX_BEFORE_CARE_DAYS + 1),
                consultation_type__in=ConsultationType.objects.sending_before_care(),
            )
            .annotate(clinic_day=TruncDate("starts_at", tzinfo=timezone.get_current_timezone()))
            .exclude(models.Exists(already))
            .select_related("consultation_type")
        )

    def past_retention(self, cutoff):
        return self.filter(starts_at__lt=cutoff, anonymised_at__isnull=True)

    def of_client(self, email):
        """
        The bookings made with this address (any case), not yet anonymised: a
        returning client's own, on their "My visits" page.
        """
        return self.filter(email__iexact=email, anonymised_at__isnull=True)

    def medical_records(self, *, since):
        """
        Completed consultations that needed a medical provider, since `since`:
        the clinic keeps them whole for the booking rules' medical record years.
        """
        return self.filter(
            status=ConsultationBooking.Status.COMPLETED,
            consultation_type__needs_medical_provider=True,
            starts_at__gte=since,
        )


class ConsultationBooking(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CONFIRMED = "confirmed", "Confirmed"
        ARRIVED = "arrived", "Checked in"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"
        DECLINED = "declined", "Declined"

    class ContactMethod(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"

    # The statuses that hold the practitioner's time.
    ACTIVE_STATUSES = [Status.REQUESTED, Status.CONFIRMED, Status.ARRIVED]
    # The workflow: which status may follow which. A client who turns up
    # before staff confirmed the request is checked in all the same.
    TRANSITIONS = {
        Status.REQUESTED: {Status.CONFIRMED, Status.ARRIVED, Status.CANCELLED, Status.DECLINED},
        Status.CONFIRMED: {Status.ARRIVED, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED},
        Status.ARRIVED: {Status.COMPLETED},
    }

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    consultation_type = models.ForeignKey(
        ConsultationType, on_delete=models.PROTECT, related_name="bookings"
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="bookings"
    )
    # PROTECT: a booking keeps the treatment its client chose; staff unpublish
    # a treatment rather than delete it (the content admin says so).
    treatment = models.ForeignKey(
        "treatments.Treatment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        help_text="Empty means “Not sure yet — help me decide”.",
    )
    # A many-to-many field has no on_delete: booking/signals.py keeps the
    # concerns a booking lists from being deleted.
    concerns = models.ManyToManyField("treatments.SkinConcern", blank=True, related_name="+")
    full_name = models.CharField(max_length=150)
    email = models.EmailField(validators=[validate_client_email])
    phone = PhoneNumberField(help_text="Stored in international format.")
    preferred_contact = models.CharField(
        max_length=10, choices=ContactMethod, default=ContactMethod.EMAIL
    )
    starts_at = models.DateTimeField("consultation time", db_index=True)
    ends_at = models.DateTimeField()
    blocks_until = models.DateTimeField(
        editable=False,
        help_text="The end plus the room's turnover: the practitioner is busy until then.",
    )
    message = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=Status, default=Status.REQUESTED, db_index=True
    )
    internal_notes = models.TextField(
        blank=True, help_text="For staff only; never shown to the client."
    )
    consent_given_at = models.DateTimeField(editable=False)
    privacy_policy_version = models.CharField(max_length=40, editable=False)
    marketing_opt_in = models.BooleanField("marketing opt-in", default=False)
    # Set from the form's one-time token: a double click or a re-post finds
    # the booking the first request made instead of making a second one.
    submission_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    calendar_sequence = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised on every change, so calendars replace the old event.",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    attendance_confirmed_at = models.DateTimeField(
        "client confirmed they are coming",
        null=True,
        blank=True,
        editable=False,
        help_text="Set when the client presses “Confirm I'm coming” on their booking page.",
    )
    consent_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="For bookings made by phone: the staff member who took the client's consent.",
    )
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = "consultation booking"
        constraints = [
            # The arbiter of "no double-booking": whoever writes (the site,
            # the admin, a shell), no practitioner holds two active bookings
            # whose time, turnover included, overlaps.
            PostgresOnlyExclusionConstraint(
                name="no_overlapping_consultations",
                expressions=[
                    (
                        TsTzRange("starts_at", "blocks_until", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                    ("practitioner", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=["requested", "confirmed", "arrived"]),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocks_until__gte=models.F("ends_at")),
                name="booking_blocks_until_after_end",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="booking_status_time_idx"),
            models.Index(
                fields=["practitioner", "starts_at"], name="booking_practitioner_time_idx"
            ),
            # The admin's search: a reference as typed in any case, and a phone
            # number it reads as one. On PostgreSQL, names, emails and phones
            # are also found by their fragments through trigram indexes, which
            # migration 0013 creates there only (SQLite has no GIN index).
            models.Index(Upper("reference"), name="booking_reference_upper_idx"),
            models.Index(fields=["phone"], name="booking_phone_idx"),
            # What every booking reads, bounded however long the clinic's
            # history grows: one person's requests still waiting (the
            # per-contact limit, by email in any case or by phone). The busy
            # times are read through the no-overlap constraint's own index
            # (BookingQuerySet.holding_time_between).
            models.Index(
                Upper("email"),
                "starts_at",
                name="booking_requested_email_idx",
                condition=Q(status="requested"),
            ),
            models.Index(
                fields=["phone", "starts_at"],
                name="booking_requested_phone_idx",
                condition=Q(status="requested"),
            ),
            # The day sheet's "new client" flag: an earlier consultation under
            # the same email, found among that person's own bookings.
            models.Index(fields=["email", "starts_at"], name="booking_email_time_idx"),
        ]

    def __str__(self):
        # The reference alone: this string is stored in the admin's history,
        # which must not keep a name after the booking is anonymised.
        return self.reference

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    def client_change_deadline(self, rules):
        """Until when the client may cancel or move online: the cut-off before the start."""
        return self.starts_at - timedelta(hours=rules.client_change_cutoff_hours)

    def client_may_change(self, rules, now=None):
        return self.status in {self.Status.REQUESTED, self.Status.CONFIRMED} and (
            now or timezone.now()
        ) < self.client_change_deadline(rules)

    def can_become(self, status):
        return status in self.TRANSITIONS.get(self.status, set())

    def get_manage_url(self):
        return reverse("booking:manage", kwargs={"token": manage_token(self)})

    @property
    def concerns_display(self):
        return ", ".join(concern.label for concern in self.concerns.all())

    @property
    def clinic_start(self):
        return timezone.localtime(self.starts_at)

    @property
    def clinic_date(self):
        """The consultation's day at the clinic."""
        return self.clinic_start.date()

    def before_care_due_at(self):
        """
        When before-care is due: the consultation's time of day at the clinic,
        its type's before-care days earlier on the clinic's calendar. Across a
        change of the clocks that is an hour more or less than whole days
        (a 10:00 consultation gets it at 10:00, not at 9:00 or 11:00).
        """
        local = self.clinic_start
        day = local.date() - timedelta(days=self.consultation_type.before_care_days)
        return datetime.combine(day, local.time(), tzinfo=local.tzinfo)

    def is_preparing_for(self, day, now=None):
        """Whether before-care written for `day` is still worth sending."""
        return (
            self.status == self.Status.CONFIRMED
            and self.starts_at > (now or timezone.now())
            and self.clinic_date == day
        )

    @property
    def treatment_label(self):
        return self.treatment.name if self.treatment else "Not sure yet — help me decide"


class BookingStatusChange(models.Model):
    """The booking's history: who moved it from which status to which, and when."""

    booking = models.ForeignKey(
        ConsultationBooking, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=ConsultationBooking.Status, blank=True)
    to_status = models.CharField(max_length=12, choices=ConsultationBooking.Status)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_by_client = models.BooleanField(default=False)
    note = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = "status change"

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"

    @property
    def actor(self):
        if self.changed_by_client:
            return "Client"
        return str(self.changed_by) if self.changed_by else "System"
