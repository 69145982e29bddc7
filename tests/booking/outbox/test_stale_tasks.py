"""
Task rows whose worker died: a `db_worker` killed mid-task leaves its row
RUNNING for ever. `send_outbox` marks such rows failed, with the reason,
once they have run for longer than any task takes; the admin lists them.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from booking.services.tasks import fail_stale_tasks
from tests.support.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:django_tasks_database_dbtaskresult_changelist")


def task_row(status, *, started_minutes_ago=None, finished=False):
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=status,
        task_path="booking.services.emails.send_emails",
        args_kwargs={"args": [[1]], "kwargs": {}},
        backend_name="default",
        # No run_after (the tests' ImmediateBackend refuses one).
        run_after=get_date_max(),
        started_at=(
            None if started_minutes_ago is None else now - timedelta(minutes=started_minutes_ago)
        ),
        finished_at=now if finished else None,
        worker_ids=["worker-1"],
    )


def stale_minutes():
    return settings.TASK_STALE_MINUTES


def test_default_limit_is_fifteen_minutes():
    assert settings.TASK_STALE_MINUTES == 15


def test_running_row_past_the_limit_is_marked_failed_with_the_reason():
    row = task_row(TaskResultStatus.RUNNING, started_minutes_ago=stale_minutes() + 1)

    assert fail_stale_tasks() == 1

    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert row.finished_at is not None
    assert row.exception_class_path == "booking.services.tasks.WorkerLost"
    assert f"more than {stale_minutes()} minutes" in row.traceback
    assert "not run again" in row.traceback
    # The framework reads the reason back as the task's error.
    [error] = row.task_result.errors
    assert error.exception_class.__name__ == "WorkerLost"


def test_younger_running_rows_and_rows_in_other_states_are_untouched():
    young = task_row(TaskResultStatus.RUNNING, started_minutes_ago=stale_minutes() - 1)
    ready = task_row(TaskResultStatus.READY)
    done = task_row(TaskResultStatus.SUCCESSFUL, started_minutes_ago=600, finished=True)
    failed = task_row(TaskResultStatus.FAILED, started_minutes_ago=600, finished=True)
    before = {row.pk: row for row in DBTaskResult.objects.all()}

    assert fail_stale_tasks() == 0

    for row in (young, ready, done, failed):
        row.refresh_from_db()
        old = before[row.pk]
        assert (row.status, row.finished_at, row.traceback) == (
            old.status,
            old.finished_at,
            old.traceback,
        )


def test_running_it_twice_changes_nothing_more():
    row = task_row(TaskResultStatus.RUNNING, started_minutes_ago=stale_minutes() + 5)
    assert fail_stale_tasks() == 1
    row.refresh_from_db()
    first = (row.status, row.finished_at, row.traceback)

    assert fail_stale_tasks() == 0

    row.refresh_from_db()
    assert (row.status, row.finished_at, row.traceback) == first


def test_send_outbox_fails_stale_task_rows():
    row = task_row(TaskResultStatus.RUNNING, started_minutes_ago=stale_minutes() + 1)
    out = StringIO()

    call_command("send_outbox", stdout=out)

    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert "1 task(s) whose worker was lost marked failed" in out.getvalue()


def test_superusers_see_task_rows_and_filter_the_failed(client, django_user_model):
    stale = task_row(TaskResultStatus.RUNNING, started_minutes_ago=stale_minutes() + 1)
    running = task_row(TaskResultStatus.RUNNING, started_minutes_ago=1)
    fail_stale_tasks()
    sign_in_verified(client, django_user_model.objects.create_superuser("boss", password="pw"))

    everything = client.get(CHANGELIST)
    failed_only = client.get(CHANGELIST, {"status__exact": TaskResultStatus.FAILED})

    assert everything.status_code == 200
    assert {stale.pk, running.pk} <= {row.pk for row in everything.context["cl"].result_list}
    assert [row.pk for row in failed_only.context["cl"].result_list] == [stale.pk]
    detail = client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[stale.pk]))
    assert "WorkerLost" in detail.text


def test_content_editors_do_not_see_task_rows(client, django_user_model):
    task_row(TaskResultStatus.RUNNING, started_minutes_ago=stale_minutes() + 1)
    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    client.force_login(editor)

    assert client.get(CHANGELIST).status_code == 403
    assert "dbtaskresult" not in client.get(reverse("admin:index")).text.lower()
