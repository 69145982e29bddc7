"""
Real faults, not mocks: the site runs under gunicorn in its own process, as
it does in production, on a database, a Redis and a mail server each
started for the test, and each is then taken away under it.

- PostgreSQL stopped: the site answers with its own 503 page, and once the
  server is back it recovers by itself, with no partial booking, even when
  the server stops in the middle of bookings. The one moment too narrow to
  hit on cue (after the booking commits, before the session is saved) is
  hit by making the session's save fail instead.
- Redis killed: pages are still served and bookings still taken; the rate
  limit lets requests through and says so in the log.
- Mail server down: bookings are kept with their messages waiting in the
  outbox, and `send_outbox` delivers each exactly once when it returns.

The PostgreSQL test starts a throwaway cluster (initdb) on a free port, so
the shared server on 5432 is never stopped; it carries the `postgres` marker
and runs in CI's PostgreSQL pass. The other two run the site on a SQLite
file of their own. A tool that is missing skips its test, except in CI
(CI=true), where it fails: CI is where these tests must run.
"""

import json
import mailbox
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b32encode
from contextlib import closing
from pathlib import Path
from unittest import mock

import psycopg
import pytest
import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.test import Client

from booking.form_tokens import read_form_token
from booking.models import ConsultationBooking
from scripts import live_server
from scripts.live_server import Gunicorn, TaskWorker, free_port, port_open, wait_for
from tests.support.booking import (
    BOOK_URL,
    VISITOR,
    booking_form,
    filled_booking_form,
    time_links,
)
from tests.support.html import form_data, parse_html
from tests.support.local_site import Site, Visitor
from tests.support.tools import missing
from tests.support.two_factor import code

ROOT = live_server.ROOT
HOST = live_server.HOST
UNAVAILABLE_PAGE = "We will be back in a moment"


@pytest.fixture
def workdir():
    """A temporary folder for the site's settings module, log and database."""
    path = Path(tempfile.mkdtemp(prefix="clinic-faults-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sites(workdir):
    """Start sites with `sites(**environment)`; every one is stopped afterwards."""
    started = []

    def start(**environment):
        site = Site(workdir, **environment)
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()
        # Shown only when the test fails, with the rest of its output.
        print(f"--- the end of {site.log_path.name} ---", *site.log().splitlines()[-80:], sep="\n")


@pytest.fixture
def sqlite_database(sqlite_site):
    """The test's own copy of the migrated SQLite database (tests/conftest.py)."""
    return sqlite_site.path


BOOKINGS_SQL = "SELECT id, reference FROM booking_consultationbooking ORDER BY id"
CHANGES_SQL = (
    "SELECT booking_id, from_status, to_status FROM booking_bookingstatuschange ORDER BY id"
)
EMAILS_SQL = "SELECT booking_id, kind FROM booking_outboundemail ORDER BY id"


def whole_bookings(cursor):
    """
    The references of the bookings stored, each checked to be whole: its
    first status change, its receipt and its clinic alert, all written in
    the booking's transaction. Fails on a history row or message that
    belongs to no booking.
    """
    bookings = dict(cursor.execute(BOOKINGS_SQL).fetchall())
    changes = {pk: [] for pk in bookings}
    kinds = {pk: [] for pk in bookings}
    for booking_id, from_status, to_status in cursor.execute(CHANGES_SQL).fetchall():
        assert booking_id in changes, f"a status change for no booking ({booking_id})"
        changes[booking_id].append((from_status, to_status))
    for booking_id, kind in cursor.execute(EMAILS_SQL).fetchall():
        assert booking_id in kinds, f"an outbox message for no booking ({booking_id})"
        kinds[booking_id].append(kind)
    for pk, reference in bookings.items():
        assert changes[pk] == [("", "requested")], f"{reference}: history {changes[pk]}"
        assert sorted(kinds[pk]) == ["clinic_alert", "receipt"], f"{reference}: outbox {kinds[pk]}"
    return set(bookings.values())


# --- PostgreSQL ------------------------------------------------------------------


def postgres_bindir():
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if shutil.which("pg_config"):
        result = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.insert(0, Path(result.stdout.strip()))
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


class ThrowawayPostgres:
    """
    A PostgreSQL cluster of the test's own, on a free port: it can be
    stopped and started without touching the shared server. PostgreSQL
    refuses to run as root, so as root it runs as the `postgres` account.
    """

    def __init__(self, bindir, folder):
        self.bindir = bindir
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@{HOST}:{self.port}/clinic"
        self.as_owner = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                missing("running as root, and there is no postgres account to run PostgreSQL")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def run(self, tool, *arguments, check=True):
        result = subprocess.run(
            [*self.as_owner, str(self.bindir / tool), *arguments],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check:
            assert result.returncode == 0, f"{tool} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def create(self):
        self.run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE clinic")

    def dsn(self, database="clinic"):
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def start(self):
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses={HOST}"
            " -c fsync=off -c full_page_writes=off"
        )
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w",
            "start",
        )  # fmt: skip

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self):
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)


@pytest.fixture
def throwaway_postgres():
    bindir = postgres_bindir()
    if bindir is None:
        missing("PostgreSQL's initdb and pg_ctl are not installed")
    # A folder of its own, straight under /tmp, which the postgres account can reach.
    folder = Path(tempfile.mkdtemp(prefix="clinic-faults-pg-"))
    cluster = None
    try:
        cluster = ThrowawayPostgres(bindir, folder)
        cluster.create()
        yield cluster
    finally:
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(folder, ignore_errors=True)


class BookingLoad:
    """One visitor booking over and over in a thread, noting every answer."""

    def __init__(self, site):
        self.visitor = site.visitor()
        self.answers = []  # (method, status)
        self.booked = []  # references of the bookings answered with a redirect
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            while not self._stop.is_set():
                self._book_once()
        except Exception as error:  # Reported by the waits below, in the test's thread.
            self.error = error

    def _book_once(self):
        page = self.visitor.get("/book/")
        self.answers.append(("GET", page.status))
        if page.status != 200:
            time.sleep(0.05)
            return
        page = self.visitor.get(time_links(parse_html(page.text))[0].split("#")[0])
        self.answers.append(("GET", page.status))
        if page.status != 200:
            time.sleep(0.05)
            return
        form = form_data(booking_form(parse_html(page.text))) | {**VISITOR, "consent": "on"}
        reply, reference = self.visitor.book(form)
        self.answers.append(("POST", reply.status))
        if reference:
            self.booked.append(reference)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=60)

    def _wait(self, progress, more, what):
        target = progress() + more

        def reached():
            assert self.error is None, f"the visitor's thread failed: {self.error!r}"
            return progress() >= target

        wait_for(reached, seconds=20, what=what)

    def wait_for_bookings(self, more):
        self._wait(lambda: len(self.booked), more, what=f"{more} more bookings")

    def wait_for_refusals(self, more):
        self._wait(lambda: self.answers.count(("GET", 503)), more, what=f"{more} more 503s")


@pytest.mark.postgres
def test_database_outage_gets_the_503_page_and_the_site_recovers_with_no_partial_booking(
    throwaway_postgres, sites
):
    site = sites(
        DATABASE_URL=throwaway_postgres.url,
        # Every page goes to the database, as on a cold page cache.
        CONTENT_CACHE_SECONDS="0",
        # One address makes every booking here.
        BOOKING_RATE_LIMIT="1000",
    )
    site.manage("migrate", "--noinput", "-v", "0")
    site.start()
    visitor = site.visitor()
    before_outage, booked_before = visitor.book()
    assert before_outage.status == 302
    # A second visitor has the form open when the database goes.
    latecomer = site.visitor()
    open_form = latecomer.booking_form()

    throwaway_postgres.stop()

    for path in ["/", "/treatments/", "/book/", "/guide/"]:
        reply = visitor.get(path)
        assert reply.status == 503, f"GET {path} answered {reply.status} with the database down"
        assert UNAVAILABLE_PAGE in reply.text
        assert reply.headers.get("Retry-After") == "30"
    refused, _ = latecomer.book(open_form)
    assert refused.status == 503
    assert "nothing was booked yet" in refused.text
    health = visitor.get("/healthz")
    assert health.status == 503
    assert json.loads(health.text)["database"] == "unavailable"

    throwaway_postgres.start()

    # No restart: the worker's next connection check finds the server again.
    wait_for(
        lambda: visitor.get("/healthz").status == 200,
        seconds=20,
        what="the site to recover by itself",
    )
    assert visitor.get("/").status == 200
    # The page asked the visitor to send the form again shortly: it works.
    resent, booked_after = latecomer.book(open_form)
    assert resent.status == 302
    assert latecomer.get(f"/book/received/{booked_after}/").status == 200
    assert "Internal Server Error" not in site.log()
    with psycopg.connect(throwaway_postgres.dsn()) as connection:
        assert whole_bookings(connection.cursor()) == {booked_before, booked_after}

    # Now with bookings in flight: the server stops (ending every session,
    # some mid-transaction) and comes back, twice, while a visitor books.
    with BookingLoad(site) as load:
        for _ in range(2):
            load.wait_for_bookings(2)
            throwaway_postgres.stop()
            load.wait_for_refusals(1)
            throwaway_postgres.start()
        load.wait_for_bookings(2)

    gets = {status for method, status in load.answers if method == "GET"}
    assert gets <= {200, 503}, load.answers
    with psycopg.connect(throwaway_postgres.dsn()) as connection:
        stored = whole_bookings(connection.cursor())
    # Every booking the visitor was told about is there, whole; any other
    # (committed as the connection dropped) is whole too, and a re-sent form
    # finds it by its submission key.
    assert set(load.booked) <= stored
    posts = sum(1 for method, _ in load.answers if method == "POST")
    assert len(stored) - 2 <= posts


# The narrowest window used to be between the booking's commit and the
# session middleware saving the visitor's session (which listed their
# bookings). The confirmation page's access is now a signed cookie, so a
# booking writes no session at all: even with every session save failing as
# when the server goes away, the visitor is shown their booking, and a form
# sent again finds the same booking.


@pytest.mark.django_db
@pytest.mark.parametrize("returning", [False, True], ids=["new visitor", "returning visitor"])
def test_a_booking_saves_no_session_so_a_database_lost_after_its_commit_cannot_hide_it(
    returning,
):
    browser = Client(raise_request_exception=False)
    if returning:  # their cookie already holds an earlier booking
        _, earlier = filled_booking_form(browser)
        assert browser.post(BOOK_URL, earlier).status_code == 302
    _, form = filled_booking_form(browser)
    gone = OperationalError("server closed the connection unexpectedly")

    with mock.patch.object(Session, "save", side_effect=gone) as session_save:
        response = browser.post(BOOK_URL, form)

    assert response.status_code == 302, f"answered {response.status_code}"
    assert not session_save.called
    visitor = browser.cookies[settings.CSRF_COOKIE_NAME].value
    submission_key, _ = read_form_token(form["form_token"], visitor)
    booking = ConsultationBooking.objects.get(submission_key=submission_key)
    assert response.url == f"/book/received/{booking.reference}/"
    assert browser.get(response.url).status_code == 200
    assert booking.status_changes.count() == 1
    assert booking.emails.count() == 2
    # Sent again: the same booking, not a second.
    resent = browser.post(BOOK_URL, form)
    assert resent.status_code == 302
    assert resent.url == f"/book/received/{booking.reference}/"
    assert ConsultationBooking.objects.filter(email=VISITOR["email"]).count() == 1 + returning


# --- Redis -----------------------------------------------------------------------


class ThrowawayRedis(live_server.Service):
    name = "redis-server"

    def __init__(self, folder):
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
        ]  # fmt: skip
        super().__init__(command, env=dict(os.environ), log_path=folder / "redis.log")

    def ready(self):
        return port_open(self.port)

    def client(self):
        return redis.Redis(host=HOST, port=self.port)

    def kill(self):
        """Down hard, as in a crash: no chance to say goodbye to clients."""
        super().kill()
        wait_for(lambda: not port_open(self.port), seconds=10, what="redis-server to go")


@pytest.fixture
def throwaway_redis(workdir):
    if shutil.which("redis-server") is None:
        missing("redis-server is not installed")
    redis = ThrowawayRedis(workdir)
    redis.start()
    yield redis
    redis.kill()


RATE_LIMIT = 2


def test_redis_outage_keeps_pages_and_bookings_and_lets_the_rate_limit_through(
    throwaway_redis, sqlite_database, sites
):
    site = sites(
        DATABASE_URL=f"sqlite:///{sqlite_database}",
        REDIS_URL=throwaway_redis.url,
        BOOKING_RATE_LIMIT=str(RATE_LIMIT),
    ).start()
    visitor = site.visitor()
    # With Redis up the limit holds, and the home page is cached, both in Redis.
    for _ in range(RATE_LIMIT):
        assert visitor.book()[0].status == 302
    assert visitor.book()[0].status == 429
    assert visitor.get("/").status == 200
    with closing(throwaway_redis.client()) as client:
        keys = b" ".join(client.keys())
    assert b"ratelimit:booking:" in keys
    assert b"page:" in keys

    throwaway_redis.kill()

    for path in ["/", "/treatments/", "/compare/", "/faqs/", "/guide/", "/book/", "/privacy/"]:
        reply = visitor.get(path)
        assert reply.status == 200, f"GET {path} answered {reply.status} with Redis down"
    # Bookings are still taken, past the limit: losing a real booking would
    # be worse than a few minutes without spam protection.
    references = []
    for _ in range(RATE_LIMIT + 1):
        reply, reference = visitor.book()
        assert reply.status == 302, f"booking answered {reply.status} with Redis down"
        assert visitor.get(f"/book/received/{reference}/").status == 200
        references.append(reference)
    assert visitor.get("/healthz").status == 503
    log = site.log()
    assert "Rate limit not checked" in log
    assert "Page cache unavailable" in log
    assert "Internal Server Error" not in log

    throwaway_redis.start()

    # Back, and empty: the limit counts again from nothing.
    wait_for(
        lambda: visitor.get("/healthz").status == 200,
        seconds=10,
        what="the site to recover by itself",
    )
    for _ in range(RATE_LIMIT):
        assert visitor.book()[0].status == 302
    assert visitor.book()[0].status == 429

    with closing(sqlite3.connect(sqlite_database)) as connection:
        stored = whole_bookings(connection.cursor())
    assert set(references) <= stored
    assert len(stored) == 3 * RATE_LIMIT + 1


# --- The mail server -------------------------------------------------------------


class ThrowawaySMTP(live_server.Service):
    """aiosmtpd, delivering what it receives to a Maildir the test can count."""

    name = "aiosmtpd"

    def __init__(self, folder, port, handler=("aiosmtpd.handlers.Mailbox",)):
        self.maildir = folder / "maildir"
        self.port = port
        command = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "--nosetuid",
            "--listen", f"{HOST}:{self.port}",
            "--class", *handler, str(self.maildir),
        ]  # fmt: skip
        env = dict(os.environ) | {"PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
        super().__init__(command, env=env, log_path=folder / f"smtp-{port}.log")

    def ready(self):
        return port_open(self.port)

    def messages(self):
        if not self.maildir.exists():
            return []
        return list(mailbox.Maildir(self.maildir, create=False))


@pytest.fixture
def smtp_server(workdir):
    """A mail server that is down until the test starts it."""
    smtp = ThrowawaySMTP(workdir, free_port())
    yield smtp
    smtp.stop()


# `send_outbox` as cron runs it some minutes later: a message that failed
# waits a while (two minutes after the first failure) before its next try.
SEND_OUTBOX_LATER = """
from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.utils import timezone

later = timezone.now() + timedelta(minutes={minutes})
with mock.patch("django.utils.timezone.now", return_value=later):
    call_command("send_outbox")
"""


def outbox(database):
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(
            'SELECT kind, status, attempts, last_error, "to" FROM booking_outboundemail'
        ).fetchall()


def test_mail_server_outage_keeps_bookings_and_delivers_each_message_once_it_returns(
    smtp_server, sqlite_database, sites
):
    site = sites(
        DATABASE_URL=f"sqlite:///{sqlite_database}",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=HOST,
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_TIMEOUT="5",
    ).start()
    site.start_worker()
    visitor = site.visitor()

    references = []
    for _ in range(2):
        reply, reference = visitor.book()
        assert reply.status == 302, f"booking answered {reply.status} with the mail server down"
        assert visitor.get(f"/book/received/{reference}/").status == 200
        references.append(reference)

    # The task worker tried each booking's receipt and clinic alert once,
    # after the booking committed; they wait in the outbox with the reason.
    wait_for(
        lambda: (
            len(outbox(sqlite_database)) == 4
            and all(attempts == 1 for _, _, attempts, _, _ in outbox(sqlite_database))
        ),
        seconds=20,
        what="the first delivery attempts to fail",
    )
    for kind, status, _, last_error, _ in outbox(sqlite_database):
        assert status == "pending", kind
        assert "Connection refused" in last_error or "ConnectionRefused" in last_error
    with closing(sqlite3.connect(sqlite_database)) as connection:
        assert whole_bookings(connection.cursor()) == set(references)

    smtp_server.start()

    # Nothing goes before the retry is due...
    assert "0 email(s) sent" in site.manage("send_outbox")
    assert smtp_server.messages() == []
    # ...then everything goes, once.
    later = site.manage("shell", "--no-imports", "-c", SEND_OUTBOX_LATER.format(minutes=5))
    assert "4 email(s) sent, 0 still waiting." in later
    again = site.manage("shell", "--no-imports", "-c", SEND_OUTBOX_LATER.format(minutes=30))
    assert "0 email(s) sent, 0 still waiting." in again

    delivered = smtp_server.messages()
    assert len(delivered) == 4
    recipients = sorted(message["To"] for message in delivered)
    assert recipients == sorted([VISITOR["email"]] * 2 + [settings.CLINIC["email"]] * 2)
    for reference in references:
        assert sum(reference in message["Subject"] for message in delivered) == 2
    assert {status for _, status, _, _, _ in outbox(sqlite_database)} == {"sent"}


# --- The task worker and the web server, killed mid-delivery -----------------------

# A mail server that holds each message at RCPT TO while a file named `hold`
# is beside its Maildir, and leaves a file named `held` when it does: the
# test knows the worker is in the middle of a delivery, and ends it there.
HOLDING_SMTP = """
import asyncio
from pathlib import Path

from aiosmtpd.handlers import Mailbox


class HoldingMailbox(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        folder = Path(self.mail_dir).parent
        if (folder / "hold").exists():
            (folder / "held").touch()
            while (folder / "hold").exists():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"
"""


@pytest.mark.postgres
def test_killing_the_worker_and_the_web_server_mid_delivery_sends_every_email_exactly_once(
    production_site, workdir
):
    (workdir / "holding_smtp.py").write_text(HOLDING_SMTP)
    smtp = ThrowawaySMTP(workdir, free_port(), handler=("holding_smtp.HoldingMailbox",))
    env = production_site | {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": HOST,
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "30",
        "BOOKING_RATE_LIMIT": "1000",
        # One visitor makes all three bookings: past the default per-contact limit.
        "BOOKING_REQUESTS_PER_CONTACT": "1000",
    }
    hold, held = workdir / "hold", workdir / "held"
    started = []

    def start(service):
        started.append(service.start())
        return service

    def outbox():
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            return connection.execute(
                "SELECT kind, status, attempts FROM booking_outboundemail ORDER BY id"
            ).fetchall()

    def task_rows():
        """The task rows that were running or failed: {id: (status, exception)}."""
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            rows = connection.execute(
                "SELECT id, status, exception_class_path FROM django_tasks_database_dbtaskresult"
                " WHERE status IN ('RUNNING', 'FAILED')"
            ).fetchall()
        return {str(id): (status, exception) for id, status, exception in rows}

    try:
        start(smtp)
        hold.touch()
        web = start(Gunicorn(env=env, log_path=workdir / "web.log"))
        worker = start(TaskWorker(env=env, log_path=workdir / "worker.log"))
        visitor = Visitor(web.port)
        references = [visitor.book()[1]]
        # A graceful reload (deploys, `systemctl reload`) between bookings.
        web.send(signal.SIGHUP)
        references.append(visitor.book()[1])
        assert all(references), references

        # The worker is talking to the mail server about the first message:
        # both processes die there, as on a crash or an OOM kill.
        wait_for(held.exists, seconds=20, what="the worker to start a delivery")
        worker.kill()
        web.kill()
        # Its task row says RUNNING, and nothing left alive will say otherwise.
        [(lost_task, lost_row)] = task_rows().items()
        assert lost_row == ("RUNNING", "")

        # The database ended the dead worker's transaction with its
        # connection: every message waits, unsent, none held by anyone.
        assert outbox() == [("receipt", "pending", 0), ("clinic_alert", "pending", 0)] * 2
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            locked = connection.execute(
                "SELECT count(*) FROM (SELECT id FROM booking_outboundemail"
                " FOR UPDATE NOWAIT) AS free"
            ).fetchone()
        assert locked == (4,)

        # Back up: the message whose task died goes with the next sweep (the
        # timer's `send_outbox`), the others with the new worker, all at once.
        hold.unlink()
        web = start(Gunicorn(env=env, log_path=workdir / "web.log"))
        start(TaskWorker(env=env, log_path=workdir / "worker.log"))
        swept = live_server.manage(env, "send_outbox")
        wait_for(
            lambda: {status for _, status, _ in outbox()} == {"sent"},
            seconds=30,
            what="every message to be sent",
        )
        # A booking after the restart: its emails go through the worker alone.
        references.append(Visitor(web.port).book()[1])
        assert references[-1], "the booking after the restart was refused"
        wait_for(lambda: len(outbox()) == 6 and {s for _, s, _ in outbox()} == {"sent"},
                 seconds=30, what="the new booking's emails")  # fmt: skip
        again = live_server.manage(env, "send_outbox")
        # Within TASK_STALE_MINUTES the row may still be a slow task's: the
        # sweeps leave it. Once that much time has passed, the next sweep
        # marks it failed, with the reason, and a superuser finds it in the
        # admin's failed tasks.
        assert task_rows() == {lost_task: ("RUNNING", "")}
        stale_sweep = live_server.manage(
            env, "shell", "--no-imports", "-c", SEND_OUTBOX_LATER.format(minutes=16)
        )
        assert "1 task(s) whose worker was lost marked failed" in stale_sweep, stale_sweep
        assert task_rows() == {lost_task: ("FAILED", "booking.services.tasks.WorkerLost")}
        failed_tasks, lost_task_page = admin_pages_as_superuser(
            env,
            web.port,
            "/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED",
            f"/admin/django_tasks_database/dbtaskresult/{lost_task}/change/",
        )
    finally:
        for service in reversed(started):
            service.stop()
        for name in ("web.log", "worker.log"):  # Shown only if the test fails.
            print(f"--- {name} ---", (workdir / name).read_text(errors="replace")[-4000:])

    # The sweep sent at least the message whose task died with the worker
    # (the new worker may have sent the others first).
    assert int(swept.split()[0]) >= 1, swept
    assert again.startswith("0 email(s) sent, 0 still waiting")
    delivered = smtp.messages()
    assert len(delivered) == 6, [message["Subject"] for message in delivered]
    for reference in references:
        about = [message for message in delivered if reference in message["Subject"]]
        assert sorted(message["To"] for message in about) == sorted(
            [VISITOR["email"], settings.CLINIC["email"]]
        ), reference
    assert [attempts for _, _, attempts in outbox()] == [1] * 6
    assert failed_tasks.status == 200
    failed_ids = re.findall(r"/dbtaskresult/([0-9a-f-]{36})/change/", failed_tasks.text)
    assert set(failed_ids) == {lost_task}
    assert lost_task_page.status == 200
    assert "WorkerLost" in lost_task_page.text
    assert "not run again" in lost_task_page.text


# The superuser's authenticator app in admin_pages_as_superuser (20 bytes, as django-otp makes).
AUTHENTICATOR_KEY = bytes(range(20))


def admin_pages_as_superuser(env, port, *paths):
    """Sign a new superuser in to the admin at `port` and fetch `paths`."""
    password = "a-long-test-only-password"
    live_server.manage(
        env | {"DJANGO_SUPERUSER_PASSWORD": password},
        *("createsuperuser", "--noinput", "--username", "boss", "--email", "boss@clinic.test"),
    )
    live_server.manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "from django_otp.plugins.otp_totp.models import TOTPDevice;"
        "TOTPDevice.objects.create(user=User.objects.get(username='boss'),"
        f" name='Authenticator app', key='{AUTHENTICATOR_KEY.hex()}', confirmed=True)",
    )
    staff = Visitor(port)
    sign_in = "/admin/login/?next=/admin/"
    login_form = parse_html(staff.get(sign_in).text).find("form", id="login-form")
    signed_in = staff.post(
        sign_in, form_data(login_form) | {"username": "boss", "password": password}
    )
    assert signed_in.status == 302, signed_in.text[:500]
    # A superuser signs in with a second factor: their app's code, from a
    # key set up in that site's database.
    code_page = "/admin/two-factor/code/"
    code_form = next(
        form
        for form in parse_html(staff.get(code_page).text).find_all("form")
        if form.find("input", name="code")
    )
    app_code = code(b32encode(AUTHENTICATOR_KEY).decode())
    signed_in = staff.post(code_page, form_data(code_form) | {"code": app_code})
    assert signed_in.status == 302, signed_in.text[:500]
    return [staff.get(path) for path in paths]
