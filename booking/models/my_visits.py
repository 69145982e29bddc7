"""
"My visits": a returning client's own page, reached by an emailed sign-in
link. The client is an email address, never an account: bookings, waitlist
entries and emails belong to the address they were made with (compared
without regard to case, as the booking form's per-address limit compares
them), so a correction staff make to a booking's address moves it with the
correction.

Nothing here points at a booking: a sign-in link, a marketing choice and an
erasure request are about an address.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from booking.validators import normalise_client_email


def hash_sign_in_token(token):
    """What is stored of a sign-in link's secret: its SHA-256 (the link itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


class SignInLinkQuerySet(models.QuerySet):
    def usable(self, now=None):
        return self.filter(used_at__isnull=True, expires_at__gt=now or timezone.now())


class SignInLink(models.Model):
    """
    One emailed "My visits" link: single use, valid MY_VISITS_LINK_MINUTES.
    Only the SHA-256 of its secret is kept, so the table (or a backup of it)
    cannot sign anyone in; single use is a conditional UPDATE on used_at.
    """

    email = models.EmailField("client's address", max_length=254)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = SignInLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "“My visits” sign-in link"
        indexes = [models.Index(fields=["expires_at"], name="sign_in_link_expiry_idx")]

    def __str__(self):
        return f"Sign-in link of {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def issue(cls, email, now=None):
        """A new link for `email`: (row, secret). The secret goes in the email, never in the table."""
        now = now or timezone.now()
        token = secrets.token_urlsafe(32)
        link = cls.objects.create(
            email=normalise_client_email(email),
            token_hash=hash_sign_in_token(token),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.MY_VISITS_LINK_MINUTES),
        )
        return link, token


class MarketingChoice(models.Model):
    """
    A client's choice about marketing emails, made after booking (on their
    page or by a marketing email's one-click unsubscribe): the record of the
    consent's withdrawal or renewal. The bookings' own flag is what senders read.
    """

    class Source(models.TextChoices):
        MY_VISITS = "my_visits", "Their “My visits” page"
        UNSUBSCRIBE = "unsubscribe", "An email's unsubscribe link"

    email = models.EmailField("client's address", max_length=254, db_index=True)
    marketing_emails = models.BooleanField()
    source = models.CharField(max_length=12, choices=Source)
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-made_at", "-pk"]
        verbose_name = "marketing choice"

    def __str__(self):
        return (
            f"Marketing emails {'on' if self.marketing_emails else 'off'} ({self.made_at:%Y-%m-%d})"
        )


class ErasureRequest(models.Model):
    """
    A client's “Delete my data”, which staff confirm in the admin within the
    booking rules' erasure days. Once carried out the address is blanked
    here too; what was kept, and why, stays as text.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for the clinic"
        DONE = "done", "Carried out"

    email = models.EmailField("client's address", max_length=254, blank=True)
    status = models.CharField(max_length=8, choices=Status, default=Status.WAITING, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now)
    due_by = models.DateField(help_text="The clinic confirms it by this day (the booking rules).")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.TextField(
        blank=True, help_text="What was anonymised and what was kept, and until when."
    )

    class Meta:
        ordering = ["status", "due_by", "pk"]
        verbose_name = "data erasure request"
        constraints = [
            # Pressing "Delete my data" twice, or in two tabs, makes one request.
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(status="waiting"),
                name="one_waiting_erasure_per_address",
            )
        ]

    def __str__(self):
        return f"Erasure request of {self.requested_at:%Y-%m-%d}"
