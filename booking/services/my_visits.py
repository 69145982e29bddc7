"""
"My visits": signing a returning client in by an emailed link, and what
they do on their page that no other service does (their marketing choice,
a request to delete their data and the clinic carrying it out). Moving,
cancelling and confirming a visit, and leaving the waitlist, are the
existing services, called by the page as the manage link's page calls them.

The sign-in link (Django's signing is not used for it, nor django-sesame:
a link must work once, which is a fact only a stored row can hold). Its
secret is 32 random bytes in the link; the table keeps only their SHA-256
and the expiry, and using it is a conditional UPDATE, so two browsers
opening one link at once cannot both be signed in.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from booking.models import (
    BookingRules,
    ConsultationBooking,
    ErasureRequest,
    MarketingChoice,
    OutboundEmail,
    SignInLink,
    WaitlistEntry,
    hash_sign_in_token,
)
from booking.signed_links import unsubscribe_token
from booking.validators import normalise_client_email

from . import bookings, emails, retention

logger = logging.getLogger(__name__)
Status = ConsultationBooking.Status


def hash_for_counting(email):
    """The address as the rate limit's cache key names it: hashed, never in the clear."""
    return hash_sign_in_token(normalise_client_email(email))


def request_sign_in_link(*, email):
    """
    Hand the address to the task worker, which emails a link if the clinic
    holds bookings for it. The request does exactly this for every address
    (one task row), so neither its answer nor its time says who is a client.
    Returns the address as keyed.
    """
    email = normalise_client_email(email)
    # Nothing is written here for it to wait for: enqueued at once.
    send_sign_in_link.enqueue(email)
    return email


# A sign-in email the mail server did not take is tried again this many
# minutes later, then twice more, while a fresh link is still worth having
# (a client waits a few minutes at most before asking again, and may well
# have asked again meanwhile: each try sends a link of its own).
SIGN_IN_RETRY_MINUTES = (1, 4, 10)


@task
def send_sign_in_link(email, attempt=1):
    """
    The task: a link for an address that holds bookings, nothing for any
    other. The email is sent from here, not written to the outbox: the
    outbox keeps each message's body, and this body is the sign-in secret.
    A send that fails is tried again later (SIGN_IN_RETRY_MINUTES), each try
    with a new link. The failed try's link is left to expire: the server may
    have taken the message before the failure reached us.
    """
    # Links past their time are no use to anyone: each run clears those a day old.
    SignInLink.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
    if not ConsultationBooking.objects.of_client(email).exists():
        return "no bookings"
    _, token = SignInLink.issue(email)
    context = {
        "clinic": settings.CLINIC,
        "sign_in_url": settings.SITE_URL + reverse("booking:my_visits_link", args=[token]),
        "minutes": settings.MY_VISITS_LINK_MINUTES,
    }
    message = EmailMessage(
        subject=render_to_string("emails/my_visits_link_subject.txt", context).strip(),
        body=render_to_string("emails/my_visits_link.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        reply_to=[settings.CLINIC["email"]],
    )
    try:
        message.send()
    except Exception as error:  # Any failure of the mail server: try again later.
        return _retry_or_give_up(email=email, attempt=attempt, error=error)
    return "sent"


def _retry_or_give_up(*, email, attempt, error):
    """
    Queue the next try of a sign-in email that failed, unless it never can
    work, the tries are spent or the task backend cannot run a task later
    (the tests' immediate one). The log names neither the address nor the
    link: only the attempt and the kind of failure.
    """
    backend = send_sign_in_link.get_backend()
    if (
        emails.refused_for_good(error)
        or attempt > len(SIGN_IN_RETRY_MINUTES)
        or not backend.supports_defer
    ):
        logger.error(
            "A “My visits” sign-in email was not sent (attempt %s, given up): %s",
            attempt,
            type(error).__name__,
        )
        return "given up"
    run_after = timezone.now() + timedelta(minutes=SIGN_IN_RETRY_MINUTES[attempt - 1])
    send_sign_in_link.using(run_after=run_after).enqueue(email, attempt=attempt + 1)
    logger.warning(
        "A “My visits” sign-in email was not sent (attempt %s, tried again at %s): %s",
        attempt,
        run_after.isoformat(timespec="seconds"),
        type(error).__name__,
    )
    return "tried again later"


class LinkRefused(Exception):
    """A sign-in link that cannot sign anyone in: unknown, used or expired."""

    def __init__(self, reason):
        self.reason = reason  # "unknown", "used" or "expired"
        super().__init__(reason)


def check_sign_in_link(token, now=None):
    """The address a link would sign in, without using it (its page's GET); else LinkRefused."""
    now = now or timezone.now()
    link = SignInLink.objects.filter(token_hash=hash_sign_in_token(token or "")).first()
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    return link.email


def use_sign_in_link(*, token, now=None):
    """
    Use a link once: the conditional UPDATE lets one request through however
    many arrive together. Returns the address it signs in; else LinkRefused.
    """
    now = now or timezone.now()
    token_hash = hash_sign_in_token(token or "")
    with transaction.atomic():
        used = SignInLink.objects.usable(now).filter(token_hash=token_hash).update(used_at=now)
        if not used:
            check_sign_in_link(token, now)  # Says why.
            raise LinkRefused("used")  # Used between the two reads.
        return SignInLink.objects.get(token_hash=token_hash).email


def cancel_visit(*, booking, seen_status, seen_starts_at):
    """
    The client cancels from their page: the manage link's cancel, with the
    status and time they saw (a booking staff moved or changed meanwhile is
    refused with StaleBooking).
    """
    with transaction.atomic():
        current = ConsultationBooking.objects.select_for_update().get(pk=booking.pk)
        if current.starts_at != seen_starts_at:
            raise bookings.StaleBooking(current)
        return bookings.change_status(
            current,
            Status.CANCELLED,
            seen_status=seen_status,
            by_client=True,
            note="Cancelled online (My visits)",
        )


def set_marketing_emails(*, email, wanted, source=MarketingChoice.Source.MY_VISITS):
    """
    Turn the address's marketing emails on or off: every booking of theirs
    says so (the flag senders read) and the choice is recorded. Transactional
    emails never read it. Returns the MarketingChoice.
    """
    email = normalise_client_email(email)
    with transaction.atomic():
        ConsultationBooking.objects.of_client(email).update(marketing_opt_in=wanted)
        return MarketingChoice.objects.create(email=email, marketing_emails=wanted, source=source)


def marketing_email(*, to, subject, body):
    """
    A marketing email (none is sent today: news and offers would be): with the
    one-click unsubscribe of RFC 8058, which works without signing in.
    """
    url = settings.SITE_URL + reverse("booking:unsubscribe", args=[unsubscribe_token(to)])
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def request_erasure(*, email, now=None):
    """
    "Delete my data": one waiting request per address (pressing twice makes
    one), due within the booking rules' erasure days, and an email to the
    address saying so (and how to stop it if someone else asked). Returns
    (request, created).
    """
    email = normalise_client_email(email)
    now = now or timezone.now()
    waiting = ErasureRequest.objects.filter(email=email, status=ErasureRequest.Status.WAITING)
    if existing := waiting.first():
        return existing, False
    due_by = timezone.localdate(now) + timedelta(days=BookingRules.current().erasure_days)
    try:
        with transaction.atomic():
            created = ErasureRequest.objects.create(email=email, requested_at=now, due_by=due_by)
            emails.queue_erasure_request_email(created)
    except IntegrityError:
        # The same request from another tab a moment earlier (the partial unique constraint).
        return waiting.get(), False
    logger.info("Erasure request %s made", created.pk)
    return created, True


def carry_out_erasure(*, erasure_request, by, now=None):
    """
    Staff confirm a client's erasure request: their consultations still ahead
    are cancelled (the time is freed), every booking is anonymised by the
    retention service but the medical records the booking rules keep, and
    their waitlist entries, emails, sign-in links and choices go. Returns the
    request, done, with what was kept written in its outcome.
    """
    now = now or timezone.now()
    with transaction.atomic():
        erasure_request = ErasureRequest.objects.select_for_update().get(pk=erasure_request.pk)
        if erasure_request.status != ErasureRequest.Status.WAITING:
            return erasure_request
        email = erasure_request.email
        since = retention.medical_records_since(BookingRules.read(), now)
        kept = (
            set(
                ConsultationBooking.objects.medical_records(since=since).values_list(
                    "pk", flat=True
                )
            )
            if since
            else set()
        )
        anonymised, kept_references = 0, []
        for booking in ConsultationBooking.objects.of_client(email).order_by("starts_at"):
            if booking.is_active and booking.starts_at > now and booking.status != Status.ARRIVED:
                bookings.change_status(
                    booking,
                    Status.CANCELLED,
                    by=by,
                    note="Cancelled: the client asked for their data to be deleted",
                    now=now,
                )
            if booking.pk in kept:
                kept_references.append(booking.reference)
                continue
            retention.anonymise_booking(booking)
            anonymised += 1
        WaitlistEntry.objects.filter(email__iexact=email).delete()
        OutboundEmail.objects.filter(booking__isnull=True, to__iexact=email).update(
            to="", subject="", body="", calendar="", last_error=""
        )
        SignInLink.objects.filter(email=email).delete()
        MarketingChoice.objects.filter(email=email).delete()
        outcome = f"{anonymised} booking(s) anonymised; waitlist entries and emails deleted."
        if kept_references:
            outcome += (
                f" Kept as medical records for {BookingRules.read().medical_record_years} years "
                f"after each consultation: {', '.join(kept_references)}."
            )
        erasure_request.status = ErasureRequest.Status.DONE
        erasure_request.email = ""
        erasure_request.done_at = now
        erasure_request.done_by = by
        erasure_request.outcome = outcome
        erasure_request.save()
    logger.info("Erasure request %s carried out", erasure_request.pk)
    return erasure_request
