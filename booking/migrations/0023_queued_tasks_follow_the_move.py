"""
Task rows waiting in the queue name the function they will run by its
import path, and the booking/ reorganisation moved those functions. Rows
queued before the deploy would no longer import (the worker would mark them
failed; the outbox and the waitlist sweep would catch up minutes later):
they are pointed at the new paths instead, so they run at once as queued.

- booking.emails.send_emails -> booking.services.emails.send_emails
- booking.waitlist.offer_freed_time_task -> booking.services.offers.offer_freed_time_task
- booking.emails.send_email(pk), the one-message task from before
  send_emails, is gone: its rows become send_emails([pk]).

Only rows still waiting (READY) change; finished rows keep their history.
"""

from django.db import migrations

MOVED = {
    "booking.emails.send_emails": "booking.services.emails.send_emails",
    "booking.waitlist.offer_freed_time_task": "booking.services.offers.offer_freed_time_task",
}
ONE_MESSAGE = "booking.emails.send_email"


def follow_the_move(apps, schema_editor):
    TaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    waiting = TaskResult.objects.filter(status="READY")
    for old, new in MOVED.items():
        waiting.filter(task_path=old).update(task_path=new)
    for row in waiting.filter(task_path=ONE_MESSAGE):
        row.task_path = MOVED["booking.emails.send_emails"]
        row.args_kwargs = {**row.args_kwargs, "args": [row.args_kwargs["args"]]}
        row.save(update_fields=["task_path", "args_kwargs"])


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0022_waitlist_offer_practitioner"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(follow_the_move, migrations.RunPython.noop)]
