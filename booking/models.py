"""
Who consults (practitioners), what is booked (consultation types), when
(working hours, time off, closures) and the bookings themselves.

The database, not only the application, refuses overbooking: every active
booking blocks its practitioner from its start to its end plus the room's
turnover, and no two such ranges of one practitioner may overlap. On
PostgreSQL an exclusion constraint says so; on SQLite (local mode) writes
are serialized and triggers refuse an overlapping row (see `sqlite.py`).
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Q
from django.db.models.functions import Cast, TruncDate, Upper
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from .caching import AVAILABILITY, kept_between_changes
from .validators import validate_client_email

# No 0/O, 1/I/L: references are read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8

# How far ahead before-care may be set: the job that sends it looks this far
# (and a day more, for a clock change) ahead for confirmed consultations.
MAX_BEFORE_CARE_DAYS = 14


def new_reference():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class BookingRules(models.Model):
    """The clinic's booking rules. There is exactly one row (pk=1)."""

    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=12, help_text="How far ahead a consultation must be booked online."
    )
    horizon_days = models.PositiveSmallIntegerField(
        "booking horizon (days)", default=60, help_text="How far into the future people can book."
    )
    client_change_cutoff_hours = models.PositiveSmallIntegerField(
        "online changes close (hours before)",
        default=24,
        help_text="Clients can cancel or move online until this many hours before the start; after that they call. Staff are not bound by it.",
    )
    reconfirm_after_client_move = models.BooleanField(
        "a client's move needs confirming again",
        default=True,
        help_text="When a client moves a confirmed booking, it goes back to “requested” for staff to confirm.",
    )
    alert_email = models.EmailField(
        "clinic alert address",
        blank=True,
        help_text="Where new-booking alerts go. Leave empty to use the clinic's public email.",
    )

    class Meta:
        verbose_name = "booking rules"
        verbose_name_plural = "booking rules"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="booking_rules_single_row"),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1), name="horizon_at_least_one_day"
            ),
        ]

    def __str__(self):
        return "Booking rules"

    @classmethod
    def current(cls):
        """
        The rules in force. Between changes to anything the free times depend
        on (booking/caching.py), a process keeps the rules it read: every
        booking and every view of the booking page needs them, and they
        change a few times a year.
        """
        return _remembered_rules()

    @classmethod
    def read(cls):
        rules, _ = cls.objects.get_or_create(pk=1)
        return rules

    @property
    def clinic_alert_address(self):
        return self.alert_email or settings.CLINIC["email"]


_remembered_rules = AVAILABILITY.remember(BookingRules.read, enabled=kept_between_changes)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class PractitionerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def on_team_page(self):
        return self.active().filter(is_published=True)

    def bookable_online(self):
        return self.active().filter(takes_online_bookings=True)


class Practitioner(models.Model):
    """A member of the clinic's team who holds consultations."""

    name = models.CharField(max_length=100, help_text="As clients should see it, e.g. “Maya Chen”.")
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in links.")
    role = models.CharField(
        "role and credentials",
        max_length=150,
        help_text="As the clinic writes it, e.g. “Licensed esthetician” or “Nurse practitioner, NP-C”.",
    )
    bio = models.TextField(blank=True, help_text="A few sentences for the team page.")
    is_medical_provider = models.BooleanField(
        "medical provider",
        default=False,
        help_text="A nurse, nurse practitioner or physician: may take consultations that need medical oversight.",
    )
    is_published = models.BooleanField(
        "shown on the team page", default=True, help_text="Untick to leave them off the team page."
    )
    takes_online_bookings = models.BooleanField(
        default=True,
        help_text="Untick to take them out of online booking (staff can still book them).",
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Untick when they leave: they keep their past bookings but take no new ones.",
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]
        verbose_name = "practitioner"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("booking:team") + f"#{self.slug}"

    def get_booking_url(self):
        return reverse("booking:book") + f"?practitioner={self.slug}"


class WorkingHours(models.Model):
    """A window of a practitioner's consultation hours on a weekday; a day may have several."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    starts_at = models.TimeField(help_text="Clinic time.")
    ends_at = models.TimeField(help_text="Clinic time. The last consultation ends by then.")

    class Meta:
        ordering = ["practitioner", "weekday", "starts_at"]
        verbose_name = "working hours"
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="working_hours_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def clean(self):
        # Overlapping windows would offer the same time twice.
        if self.starts_at and self.ends_at and self.weekday is not None and self.practitioner_id:
            overlapping = WorkingHours.objects.filter(
                practitioner_id=self.practitioner_id,
                weekday=self.weekday,
                starts_at__lt=self.ends_at,
                ends_at__gt=self.starts_at,
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(
                    f"These hours overlap {overlapping.first()}. Change or remove that window first."
                )


class TimeOff(models.Model):
    """A practitioner's leave, training or appointment: no consultations with them then."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField("from", help_text="Clinic time.")
    ends_at = models.DateTimeField("until", help_text="Clinic time.")
    reason = models.CharField(
        max_length=150, blank=True, help_text="For staff; never shown to clients."
    )

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = "time off"
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="time_off_ends_after_start"
            ),
        ]

    def __str__(self):
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{self.practitioner}: {start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M}"


class ConsultationTypeQuerySet(models.QuerySet):
    def bookable_online(self):
        return self.filter(bookable_online=True)

    def sending_before_care(self):
        return self.exclude(before_care_text="").filter(care_texts_need_review=False)

    def with_named_practitioners(self):
        """
        Each type with the ids of the practitioners named on it, for
        is_held_by(), in the same query: what prefetching `practitioners`
        gives, without the second query.
        """
        return self.annotate(
            named_practitioners=models.StringAgg(
                Cast("practitioners", models.CharField()), models.Value(","), default=""
            )
        )

    def with_health_questions(self):
        """
        Each type with `health_questions_version`: the id of the published
        version of the questionnaire it asks, or None, in the same query.
        """
        return self.annotate(
            health_questions_version=models.Subquery(
                QuestionnaireVersion.objects.filter(
                    questionnaire__uses__consultation_type=models.OuterRef("pk"),
                    questionnaire__is_active=True,
                )
                .order_by("-number")
                .values("pk")[:1]
            )
        )


class ConsultationType(models.Model):
    """What a client books: how long it takes, who may hold it, when it may start."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in links.")
    treatment = models.ForeignKey(
        "treatments.Treatment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation_types",
        help_text="The treatment it is about. Empty means a skin assessment for clients not sure yet.",
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "length (minutes)", default=30, help_text="How long the consultation itself lasts."
    )
    turnover_minutes = models.PositiveSmallIntegerField(
        "turnover (minutes)",
        default=10,
        help_text="Time after it to reset the room, during which the practitioner takes nobody else.",
    )
    grid_minutes = models.PositiveSmallIntegerField(
        "start times every (minutes)",
        default=15,
        help_text="Offered start times fall on this grid, counted from midnight (15: 9:00, 9:15, 9:30…).",
    )
    needs_medical_provider = models.BooleanField(
        default=False, help_text="Only medical providers (nurse, NP, physician) may hold it."
    )
    practitioners = models.ManyToManyField(
        Practitioner,
        blank=True,
        related_name="consultation_types",
        help_text="Who takes it. Leave empty for every qualified practitioner.",
    )
    price_text = models.CharField(
        "price",
        max_length=100,
        blank=True,
        help_text="As clients should read it, e.g. “Complimentary”.",
    )
    description = models.TextField(
        blank=True, help_text="One or two sentences for the booking page."
    )
    bookable_online = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    # Care texts are the clinic's own general advice for everyone booking the
    # type, never about one client: emails carry no client's health details.
    before_care_text = models.TextField(
        "before-care text",
        blank=True,
        help_text=(
            "Emailed to the client before a confirmed consultation: how to prepare, e.g. "
            "“Please pause retinoid products for 3 days before.” Plain text, the same for "
            "every client. Leave empty to send no before-care."
        ),
    )
    before_care_days = models.PositiveSmallIntegerField(
        "send before-care (days before)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BEFORE_CARE_DAYS)],
        help_text=(
            f"How many days before the consultation it goes, at the consultation's time "
            f"of day (1 to {MAX_BEFORE_CARE_DAYS}). A consultation confirmed later than "
            f"that gets it straight away."
        ),
    )
    aftercare_text = models.TextField(
        "aftercare text",
        blank=True,
        help_text=(
            "Emailed to the client once, when the consultation is marked completed. Plain "
            "text, the same for every client. Leave empty to send no aftercare."
        ),
    )
    care_texts_need_review = models.BooleanField(
        "care texts are examples awaiting review",
        default=False,
        help_text=(
            "While ticked, neither care text is sent. The site came with example texts: "
            "have them checked by the clinic's practitioners, then untick."
        ),
    )

    objects = ConsultationTypeQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]
        verbose_name = "consultation type"
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5), name="consultation_at_least_5_minutes"
            ),
            models.CheckConstraint(
                condition=Q(grid_minutes__gte=5) & Q(grid_minutes__lte=240),
                name="grid_between_5_and_240_minutes",
            ),
            models.CheckConstraint(
                condition=Q(before_care_days__gte=1)
                & Q(before_care_days__lte=MAX_BEFORE_CARE_DAYS),
                name="before_care_between_1_and_14_days",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def sends_before_care(self):
        return bool(self.before_care_text.strip()) and not self.care_texts_need_review

    @property
    def sends_aftercare(self):
        return bool(self.aftercare_text.strip()) and not self.care_texts_need_review

    @property
    def length(self):
        return timedelta(minutes=self.duration_minutes)

    @property
    def turnover(self):
        return timedelta(minutes=self.turnover_minutes)

    def qualified_practitioners(self):
        """
        Who may hold this consultation, in one query: the active practitioners
        named on it (or everyone active, when none are named), less anyone who
        is not a medical provider when it needs one.
        """
        queryset = Practitioner.objects.active()
        if self.needs_medical_provider:
            queryset = queryset.filter(is_medical_provider=True)
        named = ConsultationType.practitioners.through.objects.filter(consultationtype=self.pk)
        return queryset.filter(Q(pk__in=named.values("practitioner")) | ~models.Exists(named))

    def is_held_by(self, practitioner):
        """
        The same rule as qualified_practitioners(), for one person, in Python
        (read the types with_named_practitioners(), or prefetch `practitioners`,
        to ask it of many types without a query each).
        """
        if hasattr(self, "named_practitioners"):
            named = {int(pk) for pk in self.named_practitioners.split(",") if pk}
        else:
            named = {person.pk for person in self.practitioners.all()}
        return (
            practitioner.is_active
            and (practitioner.is_medical_provider or not self.needs_medical_provider)
            and (not named or practitioner.pk in named)
        )

    def is_on_grid(self, local_start):
        minutes = local_start.hour * 60 + local_start.minute
        return local_start.second == 0 and minutes % self.grid_minutes == 0


class Closure(models.Model):
    """Days the clinic takes no consultations (holidays, training days)."""

    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Last day of the closure (inclusive).")
    reason = models.CharField(
        max_length=150, blank=True, help_text="For staff; not shown to the public."
    )

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = "closure"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="closure_ends_after_start"
            ),
        ]

    def __str__(self):
        if self.starts_on == self.ends_on:
            return f"Closed {self.starts_on:%d %b %Y}"
        return f"Closed {self.starts_on:%d %b %Y} – {self.ends_on:%d %b %Y}"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """
    An exclusion constraint that exists on PostgreSQL and is left out of
    every other database's schema (SQLite has no EXCLUDE; there triggers from
    `booking/sqlite.py` and serialized writes give the same outcome).
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class BookingQuerySet(models.QuerySet):
    def active(self):
        """Bookings that hold their slot."""
        return self.filter(status__in=ConsultationBooking.ACTIVE_STATUSES)

    def needs_action(self):
        return self.filter(status=ConsultationBooking.Status.REQUESTED)

    def upcoming(self, now=None):
        return self.filter(starts_at__gte=now or timezone.now())

    def waiting_for_contact(self, *, email, phone, now=None):
        """
        {"email": n, "phone": n}: how many upcoming requests, not yet
        confirmed, this email address (in any case) and this phone number hold.
        """
        return (
            self.needs_action()
            .upcoming(now)
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
        from .tokens import manage_token

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


class OutboundEmailQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(
            status=OutboundEmail.Delivery.PENDING, next_attempt_at__lte=now or timezone.now()
        )


class OutboundEmail(models.Model):
    """
    The outbox. Every message is stored in the same transaction as the change
    that causes it and sent after commit; if the mail server is down the row
    stays pending and `send_outbox` retries it, so no message is lost and no
    booking waits on SMTP.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt to client"
        CLINIC_ALERT = "clinic_alert", "New-booking alert to clinic"
        CONFIRMATION = "confirmation", "Confirmation to client"
        RESCHEDULED = "rescheduled", "New time to client"
        CANCELLATION = "cancellation", "Cancellation to client"
        DECLINE = "decline", "Decline to client"
        REMINDER = "reminder", "Reminder to client"
        CLIENT_CHANGE = "client_change", "Client's cancel or move, to clinic"
        BEFORE_CARE = "before_care", "Before-care to client"
        AFTERCARE = "aftercare", "Aftercare to client"
        WAITLIST_JOINED = "waitlist_joined", "Waitlist: joined, to client"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist: a freed time offered, to client"

    class Delivery(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"
        SUPERSEDED = "superseded", "Not sent: a newer message replaced it"

    booking = models.ForeignKey(
        ConsultationBooking, on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    calendar = models.TextField(blank=True, help_text="An iCalendar attachment, if any.")
    status = models.CharField(
        max_length=10, choices=Delivery, default=Delivery.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    consultation_date = models.DateField(
        "consultation day",
        null=True,
        blank=True,
        editable=False,
        help_text="The day (clinic time) of the consultation the message was written about.",
    )

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "email"
        verbose_name_plural = "emails"
        constraints = [
            # Before-care goes once per consultation day, whichever job runs,
            # on however many machines: a second one cannot even be written.
            # A withdrawn (superseded) one does not count, so a booking moved
            # to another day, or moved back, gets it for the day it now has.
            models.UniqueConstraint(
                fields=["booking", "consultation_date"],
                condition=Q(kind="before_care") & ~Q(status="superseded"),
                name="one_before_care_per_consultation_day",
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(kind="aftercare"),
                name="one_aftercare_per_booking",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class AvailabilityVersion(models.Model):
    """
    A number raised by every change to what the booking page's free times
    depend on (bookings, practitioners, their hours and time off, closures,
    consultation types, the booking rules): the booking page's cache keys
    carry it (booking/caching.py). There is exactly one row (pk=1), used
    when the cache is each process's own memory; with Redis the number lives
    in Redis instead (clinic_site/versions.py).
    """

    number = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = "availability version"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1), name="availability_version_single_row"
            ),
        ]

    def __str__(self):
        return f"Availability version {self.number}"


# Suitability screening: the health questions asked before some consultations.
#
# Clinical leads edit a questionnaire's questions and the rules on their
# answers as ordinary rows; publishing freezes them into a numbered version
# (a JSON snapshot), which is what clients answer and what a booking's answers
# refer to, so staff read the answers against the questions as the client saw
# them however the questionnaire is edited later. The answers live in their
# own table (health data), never on the booking row. See booking/screening.py.


class ScreeningOutcome(models.TextChoices):
    """What a rule says about an answer, from fine to the most serious (the order counts)."""

    FINE = "fine", "Fine"
    REVIEW = "review", "Flag for practitioner review"
    MEDICAL = "medical", "Needs a medical provider"
    CALL = "call", "Cannot be booked online: the client must call"


class Questionnaire(models.Model):
    """The health questions asked before booking one or more consultation types."""

    name = models.CharField(
        max_length=100, help_text="For staff, e.g. “Medical-grade facial suitability”."
    )
    introduction = models.TextField(
        blank=True,
        help_text="Shown to clients above the questions. Leave a blank line between paragraphs.",
    )
    is_active = models.BooleanField(
        "asked online",
        default=True,
        help_text="Untick to stop asking these questions (bookings keep the answers they have).",
    )
    is_example = models.BooleanField(
        "example content",
        default=False,
        help_text="Example questions and rules that the clinic's medical director has not reviewed yet. "
        "Untick once they have, before publishing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "health questionnaire"

    def __str__(self):
        return self.name

    def latest_version(self):
        return self.versions.order_by("-number").first()


class QuestionnaireUse(models.Model):
    """Which consultation types ask a questionnaire's questions: at most one questionnaire per type."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="uses")
    consultation_type = models.OneToOneField(
        ConsultationType,
        on_delete=models.CASCADE,
        related_name="questionnaire_use",
        help_text="A consultation type asks one questionnaire at most.",
    )

    class Meta:
        ordering = ["questionnaire", "consultation_type"]
        verbose_name = "consultation type asking it"
        verbose_name_plural = "consultation types asking it"

    def __str__(self):
        return f"{self.consultation_type} asks {self.questionnaire}"


class Question(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", "Yes or no"
        CHOICE = "choice", "One of a list"
        DATE = "date", "A date"
        TEXT = "text", "Free text"

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Questions are asked in this order."
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.YES_NO)
    text = models.CharField(
        max_length=300, help_text="As the client reads it, e.g. “Are you pregnant?”."
    )
    help_text = models.CharField(
        max_length=300, blank=True, help_text="Shown under the question, e.g. why it is asked."
    )
    choices = models.TextField(
        blank=True, help_text="For “one of a list” questions: the options, one a line."
    )
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["questionnaire", "position", "pk"]
        verbose_name = "question"

    def __str__(self):
        return self.text

    @property
    def choice_list(self):
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self):
        if self.kind == self.Kind.CHOICE and len(self.choice_list) < 2:
            raise ValidationError({"choices": "Give at least two options, one a line."})
        if self.kind != self.Kind.CHOICE and self.choices.strip():
            raise ValidationError({"choices": "Only “one of a list” questions have options."})


class AnswerRule(models.Model):
    """
    An answer that leads to an outcome. Yes/no and list questions match an
    answer; date questions match a date within some months before the
    appointment date (not today: a booking weeks ahead is measured from the
    day of the consultation); free-text questions match any answer given.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="rules")
    answer = models.CharField(
        max_length=200,
        blank=True,
        help_text="Yes/no questions: “yes” or “no”. List questions: one of the options. "
        "Leave empty for date and free-text questions.",
    )
    within_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        # A century at most: the date it counts back to must be a date.
        validators=[MaxValueValidator(1200)],
        help_text="Date questions: the rule applies when the date given is less than this many "
        "months before the appointment date (or after it).",
    )
    outcome = models.CharField(
        max_length=10, choices=ScreeningOutcome, default=ScreeningOutcome.REVIEW
    )
    note_for_staff = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why, for the practitioner; never shown to the client.",
    )

    class Meta:
        ordering = ["question", "pk"]
        verbose_name = "rule on an answer"
        verbose_name_plural = "rules on answers"
        constraints = [
            models.CheckConstraint(
                condition=Q(within_months__gte=1), name="rule_at_least_one_month"
            ),
        ]

    def __str__(self):
        if self.within_months:
            return f"Within {self.within_months} months before the appointment → {self.get_outcome_display()}"
        return f"“{self.answer or 'any answer'}” → {self.get_outcome_display()}"

    def clean(self):
        question = getattr(self, "question", None)
        if question is None:
            return
        Kind = Question.Kind
        if question.kind == Kind.DATE:
            if not self.within_months:
                raise ValidationError(
                    {"within_months": "Give the number of months for a date question."}
                )
            if self.answer:
                raise ValidationError({"answer": "Leave the answer empty for a date question."})
            return
        if self.within_months:
            raise ValidationError({"within_months": "Only date questions count months."})
        if question.kind == Kind.YES_NO and self.answer.lower() not in {"yes", "no"}:
            raise ValidationError({"answer": "Write “yes” or “no”."})
        if question.kind == Kind.CHOICE and self.answer not in question.choice_list:
            raise ValidationError({"answer": "Write one of the question's options exactly."})
        if question.kind == Kind.TEXT and self.answer:
            raise ValidationError(
                {"answer": "Leave empty: a free-text rule applies to any answer given."}
            )


class QuestionnaireVersion(models.Model):
    """A published questionnaire, frozen: what clients answered, as they saw it."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    content = models.JSONField(
        editable=False, help_text="The questions and rules as published (booking/screening.py)."
    )
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["questionnaire", "-number"]
        verbose_name = "published version"
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="one_number_per_questionnaire_version"
            ),
        ]

    def __str__(self):
        return f"{self.questionnaire} v{self.number}"


class ScreeningAnswers(models.Model):
    """
    A client's answers to the health questions for one booking: health data,
    so kept apart from the booking, shown only to staff with the
    “view_health_answers” permission, and deleted when the booking is
    anonymised. The outcome (no answers) is what the lists show.
    """

    booking = models.OneToOneField(
        ConsultationBooking, on_delete=models.CASCADE, related_name="screening"
    )
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict, help_text="Question key → answer, as given.")
    outcome = models.CharField(max_length=10, choices=ScreeningOutcome, db_index=True)
    reasons = models.JSONField(
        default=list, help_text="The staff notes of the rules the answers met."
    )
    checked_for = models.DateField(
        help_text="The appointment date the date rules were measured against."
    )
    health_consent_given_at = models.DateTimeField()
    health_policy_version = models.CharField(max_length=40)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "health answers"
        verbose_name_plural = "health answers"
        default_permissions = ()
        permissions = [("view_health_answers", "Can see clients' answers to the health questions")]

    def __str__(self):
        return f"Health answers for {self.booking_id}"


# The waitlist: people waiting for a time to free up, the times that freed
# up (written with the change that freed them, handled once), and the
# offers made from them. The logic is in waitlist.py.


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
        from .tokens import waitlist_leave_token

        return reverse("booking:waitlist_leave", kwargs={"token": waitlist_leave_token(self)})


class FreedTime(models.Model):
    """
    A practitioner's time that became free (a cancellation, a decline, a
    move, new hours, time off removed), written in the same transaction as
    the change: the waitlist's outbox. Offers are made from it once, by
    whichever process handles it first (waitlist.offer_freed_time).
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

    def get_claim_url(self):
        from .tokens import waitlist_offer_token

        return reverse("booking:waitlist_offer", kwargs={"token": waitlist_offer_token(self)})
