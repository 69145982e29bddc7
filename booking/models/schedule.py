"""
The clinic's schedule: the booking rules, who consults (practitioners),
when (working hours, time off, closures), and the availability version the
booking page's cache carries. What is booked is consultation_types.py.
"""

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from booking.cache_versions import SCHEDULE, kept_between_changes

from .constraints import PostgresOnlyExclusionConstraint


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
    erasure_days = models.PositiveSmallIntegerField(
        "erasure requests answered within (days)",
        default=30,
        help_text="A client's “Delete my data” is carried out by staff within this many days; the client is told so.",
    )
    medical_record_years = models.PositiveSmallIntegerField(
        "medical records kept (years)",
        default=7,
        help_text="Completed consultations that needed a medical provider are kept whole this many years after the consultation, even when the client asks for their data to be deleted (and by the nightly anonymisation). 0 keeps nothing.",
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
        The rules in force. Between changes to the schedule (anything the free
        times depend on but bookings and time off: booking/cache_versions.py),
        a process keeps the rules it read: every
        booking and every view of the booking page needs them, and they
        change a few times a year.
        """
        return _remembered_rules()

    @classmethod
    def read(cls):
        """
        The row, or, when it is missing (a flushed database, or deleted by
        hand), the defaults unsaved: a read writes nothing. The row comes from
        a migration (0002_default_hours); staff allowed to add booking rules
        can add it again in the admin.
        """
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def clinic_alert_address(self):
        return self.alert_email or settings.CLINIC["email"]


_remembered_rules = SCHEDULE.remember(BookingRules.read, enabled=kept_between_changes)


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
        return self.active().filter(is_published=True).select_related("portrait")

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
    portrait = models.ForeignKey(
        "treatments.Photograph",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Their photograph for the team page: upload it under Photographs first.",
    )
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
        # Web addresses (`/team/#slug`, `?practitioner=`, `?type=`), whether
        # someone is on the team page, what a type is about and when its
        # before-care goes are set-up, not wording: changing them breaks
        # links clients hold and what the clinic offers. Content editors,
        # who change the words, see them read-only (booking/admin/schedule.py).
        permissions = [
            (
                "set_up_listings",
                "Can change how practitioners and consultation types are listed and set up",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("booking:team") + f"#{self.slug}"

    def get_booking_url(self):
        return reverse("booking:book") + f"?practitioner={self.slug}"


class WindowTimes(models.Func):
    """
    A window's hours as a range PostgreSQL can index: it has no range of
    times of day, so both ends are put on one fixed date (a date plus a time
    is a timestamp without time zone, immutable as an index needs). The
    range is half-open: a window ending at 12:00 and one starting at 12:00
    do not overlap.
    """

    function = "TSRANGE"
    template = "%(function)s(DATE '2000-01-01' + %(expressions)s)"
    arg_joiner = ", DATE '2000-01-01' + "
    # Django has no field for TSRANGE; this one is never read back, and the
    # constraint's SQL casts nothing to it.
    output_field = DateTimeRangeField()


class WorkingHoursExclusionConstraint(PostgresOnlyExclusionConstraint):
    """
    The database's refusal of overlapping windows, never checked in Python:
    WorkingHours.clean() and the admin's form of a practitioner's hours
    (booking/forms/schedule.py) check it with a message naming the window,
    and the form compares the windows as submitted, which a check against the
    database's rows (about to change in the same save) would wrongly refuse.
    """

    def validate(self, model, instance, exclude=None, using=None):
        pass


class WorkingHours(models.Model):
    """A window of a practitioner's consultation hours on a weekday; a day may have several."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    starts_at = models.TimeField(help_text="Clinic time.")
    ends_at = models.TimeField(help_text="Clinic time. The last consultation ends by then.")

    # The ids of the practitioner's saved windows submitted in the same form
    # as this one (the admin's page of their hours): the form checks those
    # against each other as submitted, so clean() leaves out their saved
    # hours, which the save is about to change.
    submitted_alongside = frozenset()

    class Meta:
        ordering = ["practitioner", "weekday", "starts_at"]
        verbose_name = "working hours"
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="working_hours_end_after_start"
            ),
            # Overlapping windows would offer the same time twice, whoever
            # writes them (the admin, a shell, an import, two staff at once).
            # SQLite has triggers instead (booking/sqlite.py).
            WorkingHoursExclusionConstraint(
                name="working_hours_never_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (WindowTimes("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def overlaps(self, other):
        """Whether two windows of one practitioner share time (ending at 12:00 and starting then do not)."""
        return (
            self.weekday == other.weekday
            and self.starts_at < other.ends_at
            and other.starts_at < self.ends_at
        )

    def clean(self):
        # Overlapping windows would offer the same time twice.
        if self.starts_at and self.ends_at and self.weekday is not None and self.practitioner_id:
            overlapping = (
                WorkingHours.objects.filter(
                    practitioner_id=self.practitioner_id,
                    weekday=self.weekday,
                    starts_at__lt=self.ends_at,
                    ends_at__gt=self.starts_at,
                )
                .exclude(pk=self.pk)
                .exclude(pk__in=self.submitted_alongside)
            )
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
        # The calendars read a practitioner's time off that ends after a day:
        # past leave, however much accumulates, is never read again.
        indexes = [
            models.Index(fields=["practitioner", "ends_at"], name="time_off_until_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="time_off_ends_after_start"
            ),
        ]

    def __str__(self):
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{self.practitioner}: {start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M}"


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


class AvailabilityVersion(models.Model):
    """
    A number raised by every change to what the booking page's free times
    depend on (bookings, practitioners, their hours and time off, closures,
    consultation types, the booking rules): the booking page's cache keys
    carry it (booking/views/page_cache.py). There is exactly one row (pk=1), used
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
