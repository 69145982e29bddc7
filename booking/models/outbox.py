"""The outbox: every email the clinic sends is a row here first (booking/services/emails.py sends it)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


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
    booking waits on SMTP. A booking's message is stored as what it must say
    (`context`) and written out by the task worker when it sends it, so the
    request that books renders no email; the subject, text and calendar file
    are stored then. Rows from before (and the waitlist's) are written in full.
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
        ERASURE_REQUESTED = "erasure_requested", "Delete-my-data request received, to client"

    class Delivery(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"
        SUPERSEDED = "superseded", "Not sent: a newer message replaced it"

    booking = models.ForeignKey(
        "booking.ConsultationBooking",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="emails",
    )
    kind = models.CharField(max_length=20, choices=Kind)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    calendar = models.TextField(blank=True, help_text="An iCalendar attachment, if any.")
    context = models.JSONField(
        "what the email says",
        default=dict,
        blank=True,
        editable=False,
        help_text="What the booking looked like when the email was written: the task worker "
        "writes the subject, text and calendar file from it when it sends the email.",
    )
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
