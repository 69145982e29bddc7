"""
Links read back from the emails the site sends: the one poller every test
uses to follow a link from an email (the manage link in a receipt, a
waitlist offer or leave link), since a live server sends them in its own
thread, after its transaction commits.
"""

import re
import time

from django.core import mail


def locmem_messages():
    """(recipients, body) of each email in Django's in-memory outbox (the test settings' mailer)."""
    return [(message.to, message.body) for message in mail.outbox]


def link_in_email(email_address, path, *, messages=locmem_messages, timeout=5.0):
    """
    The path of the first link under `path` (e.g. "/book/manage/") in an email
    to `email_address`, waiting up to `timeout` seconds for it to be sent.
    `messages()` lists (recipients, body) of the emails sent so far.
    """
    link = re.compile(rf"https?://[^/\s]+({re.escape(path)}[^\s]+/)")
    deadline = time.monotonic() + timeout
    while True:
        sent = messages()
        for recipients, body in sent:
            if email_address in recipients:
                found = link.search(body)
                if found:
                    return found[1]
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no {path} link in an email to {email_address}; emails sent to: "
                f"{[recipients for recipients, _ in sent]}"
            )
        time.sleep(0.05)


def written(message):
    """
    An outbox row as its email reads: the subject, text and calendar file the
    task worker writes from what the row stores (booking/services/email_content.py),
    or, once sent (or for a row written in full), what the row holds.
    """
    from types import SimpleNamespace

    from booking.services.email_content import write_email

    message.refresh_from_db()
    if message.context and not message.body:
        subject, body, calendar = write_email(message)
    else:
        subject, body, calendar = message.subject, message.body, message.calendar
    return SimpleNamespace(subject=subject, body=body, calendar=calendar)
