"""
The task worker's own records: task rows whose worker died.

`db_worker` marks a task row RUNNING when it starts it and SUCCESSFUL or
FAILED when it ends; a worker killed in between (SIGKILL, a lost server)
leaves the row RUNNING for ever. Its work is not lost: the outbox rows it
was sending stay due and `send_outbox` sends them, and a freed time stays
unhandled until `sweep_waitlist` makes its offers. So such a row is only
marked failed, with the reason, for the admin to show; it is never run
again, which could send an email twice.
"""

from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


class WorkerLost(Exception):
    """A task row's worker stopped before it finished the task."""


def fail_stale_tasks(*, now=None, stale_after=None):
    """
    Mark task rows RUNNING for longer than `stale_after` (default:
    TASK_STALE_MINUTES, well above any task's run time) as FAILED, with
    the time and the reason. Returns how many were marked.

    One UPDATE that re-checks the status, so concurrent runs mark a row
    once, and a slow worker that does finish afterwards still records
    its own outcome over this one.
    """
    now = now or timezone.now()
    if stale_after is None:
        stale_after = timedelta(minutes=settings.TASK_STALE_MINUTES)
    minutes = int(stale_after.total_seconds() // 60)
    reason = (
        f"{WorkerLost.__module__}.{WorkerLost.__qualname__}: the task was still running "
        f"after more than {minutes} minutes, so its worker most likely died (killed, or its "
        "server stopped) before it finished. It is not run again: the emails it was sending "
        "stay due in the outbox and `send_outbox` sends them, and a freed time's offers are "
        "made by `sweep_waitlist`; running it again could send an email twice.\n"
    )
    return (
        DBTaskResult.objects.running()
        .filter(started_at__lt=now - stale_after)
        .update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback=reason,
        )
    )
