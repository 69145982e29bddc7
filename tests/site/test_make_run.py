"""`make run` on another port says where the staff admin is on that port."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_on_another_port_prints_the_staff_admin_address_on_that_port(sqlite_site):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "SITE_URL", "PORT", "MAKE"))
    }
    # A migrated database (the next test shows `make run` migrating a new one).
    env["DATABASE_URL"] = f"sqlite:///{sqlite_site.path}"
    # What `PORT=8001 make run` would run, without running it (it serves
    # forever), with this interpreter in place of `uv run` (which, inside
    # `make test`, would find the virtualenv's Python first, without uv).
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"MANAGE={sys.executable} manage.py"],
        cwd=ROOT,
        env=env | {"PORT": "8001"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    [serve] = [line for line in planned if "runserver" in line]
    [staff] = [line for line in planned if "ensure_local_staff" in line]
    assert serve.endswith("runserver 127.0.0.1:8001")

    # The staff account's line, run by the shell as make runs it.
    printed = subprocess.run(
        ["sh", "-c", staff],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout

    assert "Staff admin: http://127.0.0.1:8001/admin/" in printed, printed


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_serves_the_site_and_its_worker_sends_the_booking_emails(tmp_path):
    """
    `make run` for real (with this interpreter in place of `uv run`): the dev
    server answers, and the task worker it starts beside it prints a new
    booking's receipt (local mode's console email backend).
    """
    from scripts.live_server import free_port, wait_for
    from tests.support.local_site import Visitor

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "SITE_URL", "PORT", "MAKE", "REDIS_"))
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "BOOKING_MIN_FILL_SECONDS": "0",
    }
    log = tmp_path / "run.log"
    with log.open("w") as output:
        run = subprocess.Popen(
            # `-o install`: the environment this test runs in is installed
            # already (inside `uv run`, `python3` is the virtualenv's, without uv).
            [
                "make",
                "--no-print-directory",
                "-o",
                "install",
                "run",
                f"MANAGE={sys.executable} manage.py",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        visitor = Visitor(port)

        def serving():
            assert run.poll() is None, f"make run ended:\n{log.read_text()[-3000:]}"
            return _answers(visitor)

        wait_for(serving, seconds=180, what="make run to serve")
        reply, reference = visitor.book()
        assert reply.status == 302, log.read_text()[-3000:]
        wait_for(
            lambda: f"We have your consultation request ({reference})" in log.read_text(),
            seconds=60,
            what="the worker to print the receipt",
        )
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=30)
    # Stopping make run stops its worker too: nothing of its session is left.
    leftovers = subprocess.run(
        ["ps", "-o", "pid=", "-g", str(run.pid)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == []


def _answers(visitor):
    try:
        return visitor.get("/healthz").status == 200
    except OSError:
        return False
