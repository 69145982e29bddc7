"""Fixtures for the tests that run tasks as production does."""

import signal
from unittest import mock

import pytest
from django.core.management import call_command


@pytest.fixture
def database_tasks(settings):
    """
    Production's task backend (django-tasks-db) instead of the test settings'
    ImmediateBackend, which runs each task at once in the test's thread.
    """
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def run_worker():
    """`manage.py db_worker --batch`: run every task waiting, then return."""
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    }

    def run():
        # The worker closes stale connections between tasks, as a request
        # ends; here that would end the test's own transaction.
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    yield run
    # The worker installs its own handlers for a graceful stop.
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
