"""
The booking emails: written to the outbox inside the booking's transaction,
handed to a task (Django's tasks framework; the database backend and its
`db_worker` in production, whose task row commits with them), and retried by
`send_outbox` while the mail server is down. Nothing is sent from a web
worker, so restarting or recycling one never strands a message. Logs name
bookings by reference only, never by person.
"""

import enum
import logging
import smtplib
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import router, transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from booking.models import BookingRules, OutboundEmail
from booking.validators import validate_client_email

from .email_content import CALENDAR_METHODS, TO_CLINIC, email_context, write_email

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

# Messages that tell the client the booking's current state; only the newest
# of them is worth sending.
STATE_KINDS = [
    OutboundEmail.Kind.CONFIRMATION,
    OutboundEmail.Kind.RESCHEDULED,
    OutboundEmail.Kind.CANCELLATION,
    OutboundEmail.Kind.DECLINE,
    OutboundEmail.Kind.REMINDER,
]


def queue_email(booking, kind, *, health_form_question=False):
    """
    Write one message to the outbox, inside the caller's transaction, and
    enqueue its delivery (enqueue_delivery).
    """
    return queue_emails(booking, [kind], health_form_question=health_form_question)[0]


def queue_emails(booking, kinds, *, rules=None, concerns=None, health_form_question=False):
    """
    Write messages about one booking to the outbox in one insert, inside the
    caller's transaction, and enqueue their delivery in one task
    (enqueue_delivery). `rules` and `concerns` (the booking's skin concerns),
    when the caller has them, are not read again. A kind that tells the
    booking's state supersedes the older ones waiting before the insert, so
    one call carries at most one such kind. `health_form_question`: the
    client's health answers need a word with them (the booking service
    knows from the screening service's result); the email says so, and
    never what they were.
    """
    # What the emails say is stored, not written: the task worker writes
    # them (email_content.py), so the request renders no template.
    context = email_context(
        booking,
        health_form_question=health_form_question,
        # Only the clinic's alert lists them; read from the booking only then.
        concerns_display=(
            ", ".join(concern.label for concern in concerns)
            if concerns is not None
            else (None if OutboundEmail.Kind.CLINIC_ALERT in kinds else "")
        ),
    )
    messages = []
    for kind in kinds:
        if kind in TO_CLINIC:
            rules = rules or BookingRules.current()
            to = rules.clinic_alert_address
        else:
            to = booking.email
        if kind in STATE_KINDS:
            _supersede_waiting(booking, STATE_KINDS)
        messages.append(
            OutboundEmail(
                booking=booking,
                kind=kind,
                to=to,
                context=context,
                consultation_date=booking.clinic_date,
            )
        )
    OutboundEmail.objects.bulk_create(messages)
    enqueue_delivery([message.pk for message in messages])
    return messages


def queue_waitlist_email(entry, kind, *, offer=None):
    """
    An email to a waiting client (joined, or offered a time), in the outbox
    inside the caller's transaction, sent once it commits.
    """
    context = {
        "entry": entry,
        "offer": offer,
        "clinic": settings.CLINIC,
        "site_url": settings.SITE_URL,
        "leave_url": settings.SITE_URL + entry.get_leave_url(),
        "claim_url": settings.SITE_URL + offer.get_claim_url() if offer else "",
    }
    return _queue_written(kind, entry.email, context)


def queue_erasure_request_email(erasure_request):
    """
    Tell the address that asked for its data to be deleted when that will
    be done, and how to stop it if someone else asked: in the outbox inside
    the caller's transaction, sent once it commits.
    """
    context = {"erasure_request": erasure_request, "clinic": settings.CLINIC}
    return _queue_written(OutboundEmail.Kind.ERASURE_REQUESTED, erasure_request.email, context)


def _queue_written(kind, to, context):
    """A message about no booking, written out now, in the outbox; its delivery queued."""
    message = OutboundEmail.objects.create(
        kind=kind,
        to=to,
        subject=render_to_string(f"emails/{kind}_subject.txt", context).strip(),
        body=render_to_string(f"emails/{kind}.txt", context),
    )
    enqueue_delivery([message.pk])
    return message


def withdraw_before_care(booking):
    """
    Take back before-care still waiting to go: the booking was cancelled,
    moved or otherwise stopped being the confirmed consultation it prepared
    for. The job writes it again for a confirmed booking's new time when that
    is due (see services.send_due_before_care). One being sent at this moment
    is skipped, as in _supersede_waiting; if it fails, `deliver` finds it stale.
    """
    _supersede_waiting(booking, [OutboundEmail.Kind.BEFORE_CARE])


def _supersede_waiting(booking, kinds):
    """
    A newer word on the booking's state replaces any older one still
    waiting (after an outage, a stale confirmation must not follow a
    cancellation). One that a worker is sending at this moment is locked,
    and skipped rather than waited for, so this request never waits on the
    mail server: either it is already on its way (its calendar file's lower
    SEQUENCE keeps calendars right whichever arrives first), or it fails and
    `deliver` then finds it stale.
    """
    waiting = (
        OutboundEmail.objects.filter(
            booking=booking, kind__in=kinds, status=OutboundEmail.Delivery.PENDING
        )
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    OutboundEmail.objects.filter(pk__in=list(waiting)).update(
        status=OutboundEmail.Delivery.SUPERSEDED
    )


def enqueue_delivery(pks):
    """
    Hand the messages to the task worker, in one task.

    With the database backend (production's) the task row is written in the
    caller's transaction, beside the outbox rows it names: the worker cannot
    see it before they commit, it goes with them if they roll back, and the
    change costs one commit (one flush to disk) instead of two. A failure to
    write it fails the change, as a failure to write any of its rows would:
    nothing is half-saved, and the visitor can send the form again.

    With any other backend (the tests' runs the task at once; another would
    be outside the database) the task is enqueued once the transaction
    commits (at once outside one), robustly: a failure to enqueue is logged,
    never shown to a visitor whose booking is saved, and `send_outbox` sends
    the messages on its next run.
    """
    if not pks:
        return
    if _tasks_written_with_the_change():
        send_emails.enqueue(list(pks))
    else:
        transaction.on_commit(partial(send_emails.enqueue, list(pks)), robust=True)


def _tasks_written_with_the_change():
    """Whether the task backend writes its rows in the database the outbox's changes use."""
    return isinstance(
        task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend
    ) and router.db_for_write(DBTaskResult) == router.db_for_write(OutboundEmail)


@task
def send_emails(pks):
    """
    The task: deliver the outbox messages one change wrote (a booking's
    receipt and the clinic's alert), one after the other: one task row for
    the change rather than one a message. Returns what became of each.
    """
    return [deliver(pk).value for pk in pks]


class DeliveryResult(enum.StrEnum):
    """What one delivery attempt did."""

    SENT = "sent"
    FAILED = "failed"  # The mail server refused or was unreachable; retried later.
    SUPERSEDED = "superseded"  # A newer word on the booking's state was written meanwhile.
    NOT_DUE = "not due"  # Sent already, given up, not due yet, or another worker has it.


def deliver(pk):
    """
    Send one outbox message if it is due.

    The claim is a row lock, taken with SKIP LOCKED inside the transaction
    that sends the message and marks it sent: two workers never send the
    same message (the second skips it), and a worker that dies mid-delivery
    (killed, restarted, its machine gone) holds nothing afterwards, because
    the database ends its transaction with its connection. The message is
    due again at once, for the next `send_outbox` run.

    That makes delivery at-least-once, not at-most-once: if the worker
    dies after the mail server has accepted the message and before the
    commit (a gap of one network round trip), the message is sent again.
    A rare duplicate receipt is better than a lost one; marking the message
    sent before talking to the mail server would turn that gap into
    silent loss instead. Any failure the worker lives through (the mail
    server down, refusing, timing out) is recorded and retried with backoff.

    On SQLite (local use only) there are no row locks; its transactions here
    take the database's write lock when they begin (settings: IMMEDIATE), so
    deliveries, and other writes, wait for one another instead.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboundEmail.objects.due(now)
            .filter(pk=pk)
            .select_related("booking")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if message is None:
            return DeliveryResult.NOT_DUE
        if not usable_address(message.to):
            return _give_up(message, f"Undeliverable address: {message.to!r}")
        if _is_stale(message, now):
            # Superseded at queue time only if it was not locked then; a
            # message that failed while its successor was written is caught here.
            OutboundEmail.objects.filter(pk=pk).update(status=OutboundEmail.Delivery.SUPERSEDED)
            return DeliveryResult.SUPERSEDED
        try:
            if message.context and not message.body:
                # Written here, once, from what the change stored; kept with the row.
                message.subject, message.body, message.calendar = write_email(message)
            _email(message).send(using="default")
        except Exception as error:  # Any failure of the mail server: keep the message, retry later.
            attempts = message.attempts + 1
            gave_up = attempts >= MAX_ATTEMPTS or refused_for_good(error)
            # Only a message still waiting goes back in the queue: one superseded
            # while this attempt ran (in this transaction) stays superseded.
            OutboundEmail.objects.filter(pk=pk, status=OutboundEmail.Delivery.PENDING).update(
                **_written(message),
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:1000],
                status=OutboundEmail.Delivery.FAILED if gave_up else OutboundEmail.Delivery.PENDING,
                next_attempt_at=now + timedelta(minutes=2**attempts),
            )
            logger.warning(
                "Email %s (%s) for booking %s not sent (attempt %s): %s",
                message.pk,
                message.kind,
                message.booking.reference if message.booking else "-",
                attempts,
                type(error).__name__,
            )
            return DeliveryResult.FAILED
        OutboundEmail.objects.filter(pk=pk).update(
            **_written(message),
            status=OutboundEmail.Delivery.SENT,
            sent_at=timezone.now(),
            attempts=message.attempts + 1,
            last_error="",
        )
    return DeliveryResult.SENT


def _written(message):
    """The subject, text and calendar file as sent, for the row (the admin shows them)."""
    return {"subject": message.subject, "body": message.body, "calendar": message.calendar}


def _is_stale(message, now):
    """
    Whether a newer word on the booking's state was written after this one,
    or, for before-care, whether the consultation it prepares for is no
    longer ahead as confirmed on that day (it was cancelled or moved while the
    message waited, or its time passed while the mail server was down).
    """
    if message.kind == OutboundEmail.Kind.BEFORE_CARE:
        return not message.booking.is_preparing_for(message.consultation_date, now)
    return (
        message.kind in STATE_KINDS
        and message.booking_id is not None
        and OutboundEmail.objects.filter(
            booking_id=message.booking_id, kind__in=STATE_KINDS, pk__gt=message.pk
        ).exists()
    )


def usable_address(address):
    try:
        validate_email(address)
        validate_client_email(address)
    except ValidationError:
        return False
    return True


def refused_for_good(error):
    """
    Whether sending again can never work: the message cannot even be written
    (a header value Python's email package refuses), or the mail server
    refused every recipient with a permanent (5xx) reply such as "no such
    mailbox". A temporary (4xx) refusal, or any other failure, is retried.
    """
    if isinstance(error, ValueError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    return False


def _give_up(message, reason):
    """Mark a message that can never be sent as failed, without a try."""
    OutboundEmail.objects.filter(pk=message.pk, status=OutboundEmail.Delivery.PENDING).update(
        attempts=message.attempts + 1,
        last_error=reason[:1000],
        status=OutboundEmail.Delivery.FAILED,
    )
    logger.warning(
        "Email %s (%s) for booking %s given up: undeliverable address",
        message.pk,
        message.kind,
        message.booking.reference if message.booking else "-",
    )
    return DeliveryResult.FAILED


def _email(message):
    """The EmailMessage for an outbox row."""
    # Replies to the clinic's alert go to the client; the client's replies to
    # the clinic. An alert about a client whose address is unusable still goes,
    # without a Reply-To: the clinic needs it, and can phone them.
    if message.kind in TO_CLINIC:
        client_email = message.booking.email if message.booking else ""
        reply_to = [client_email] if usable_address(client_email) else []
    else:
        reply_to = [settings.CLINIC["email"]]
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=reply_to,
    )
    if message.calendar:
        method = CALENDAR_METHODS[message.kind]
        email.attach("consultation.ics", message.calendar, f"text/calendar; method={method}")
    return email


def deliver_due(now=None):
    """
    Send every message that is due, in this process: the catch-up sweep
    behind the task worker (`send_outbox`). Returns (sent, failed).
    """
    sent = failed = 0
    # Oldest first, so messages about one booking arrive in the order they were written.
    for pk in (
        OutboundEmail.objects.due(now).order_by("created_at", "pk").values_list("pk", flat=True)
    ):
        outcome = deliver(pk)
        if outcome == DeliveryResult.SENT:
            sent += 1
        elif outcome == DeliveryResult.FAILED:
            failed += 1
    return sent, failed


def send_now(pks):
    """
    The admin's "send now": put waiting or given-up messages back in the
    queue, due at once, and enqueue their delivery. Sent messages went
    already, and superseded ones would tell the client something no longer
    true. Returns how many were queued.
    """
    with transaction.atomic():
        queued = list(
            OutboundEmail.objects.filter(
                pk__in=pks,
                status__in=[OutboundEmail.Delivery.PENDING, OutboundEmail.Delivery.FAILED],
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=queued).update(
            status=OutboundEmail.Delivery.PENDING,
            next_attempt_at=timezone.now() - timedelta(seconds=1),
        )
        enqueue_delivery(queued)
    return len(queued)
