"""
Task rows queued before booking/ was reorganised name functions by their
old paths; migration 0023 points the waiting ones at the new paths, so the
worker runs them as queued instead of failing them.
"""

import pytest

from tests.support.migrations import run_scenario, throwaway_database

pytestmark = pytest.mark.every_database

SCENARIO = r"""
import json
from datetime import datetime, timezone as tz

import django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("booking", "0022_waitlist_offer_practitioner"),
    ("django_tasks_database", "0021_conditional_partial_index_ordering"),
]
executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
TaskResult = executor.loader.project_state(BEFORE).apps.get_model("django_tasks_database", "DBTaskResult")
now = datetime(2030, 3, 1, 12, 0, tzinfo=tz.utc)

def queued(name, path, args, status="READY"):
    TaskResult.objects.create(
        status=status, task_path=path, args_kwargs={"args": args, "kwargs": {}},
        backend_name="default", run_after=now, exception_class_path="", traceback="",
        return_value={"name": name},
    )

queued("emails", "booking.emails.send_emails", [[1, 2]])
queued("offers", "booking.waitlist.offer_freed_time_task", [7])
queued("one message", "booking.emails.send_email", [3])
queued("sent before", "booking.emails.send_emails", [[4]], status="SUCCESSFUL")

executor.loader.build_graph()
executor = MigrationExecutor(connection)
executor.migrate(executor.loader.graph.leaf_nodes())

from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult
rows = {}
for row in DBTaskResult.objects.all():
    rows[row.return_value["name"]] = [row.task_path, row.args_kwargs["args"]]
    if row.status == "READY":
        import_string(row.task_path)  # what the worker does first: it must import
print(json.dumps(rows))
"""


@pytest.fixture(scope="module")
def migrated():
    with throwaway_database("queued_tasks") as url:
        yield run_scenario(SCENARIO, url)


def test_waiting_tasks_name_the_functions_where_they_now_live(migrated):
    assert migrated["emails"] == ["booking.services.emails.send_emails", [[1, 2]]]
    assert migrated["offers"] == ["booking.services.offers.offer_freed_time_task", [7]]


def test_a_waiting_one_message_task_becomes_a_send_emails_of_that_message(migrated):
    assert migrated["one message"] == ["booking.services.emails.send_emails", [[3]]]


def test_finished_tasks_keep_their_history(migrated):
    assert migrated["sent before"] == ["booking.emails.send_emails", [[4]]]
