"""
Backups that are known to restore (scripts/backup.py, `make backup` and
`make restore`).

A PostgreSQL database holding every kind of row (bookings of every status
with their history and emails, task rows, health answers and the records of
who read them, waitlist entries, freed times and offers, the treatments
content, staff) is backed up by the real script, restored into a new
database, and compared table by table: the same rows (a count and an md5 of
every row's text), the same trigger refusing changes to the health form
reads, `check` and `migrate --check` pass, and the site serves `/book/` from it.
The smaller behaviours (the copies kept, a missing media folder, refusing
to restore over data, SQLite) follow.
"""

import os
import subprocess
import sys
import tarfile
from datetime import timedelta

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from booking import services
from booking.models import (
    BookingStatusChange,
    FreedTime,
    HealthFormRead,
    WaitlistOffer,
)
from booking.services import screening as screening_service
from scripts import backup
from scripts.live_server import ROOT
from tests.support.booking import (
    ESTHETICIAN,
    NURSE_PRACTITIONER,
    Status,
    book,
    ensure_bookable,
    make_booking,
    practitioner,
)
from tests.support.content import make_faq, make_treatment
from tests.support.local_site import Site
from tests.support.screening import book_with_answers, key, publish_example
from tests.support.waitlist import make_entry

# The whole-database tests commit their rows for pg_dump to see.
pytestmark = pytest.mark.postgres
whole_database = pytest.mark.django_db(transaction=True)

BACKUP = [sys.executable, str(ROOT / "scripts" / "backup.py")]
# The example questionnaire's free-text question (migration 0018).
ALLERGIES = "Do you have any known allergies? If so, which?"


def server_url(name):
    params = connection.settings_dict
    return (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        f"/{name}"
    )


def run_backup(*arguments, **environment):
    """scripts/backup.py as `make backup` and `make restore` run it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "BACKUP_", "MEDIA_"))
    }
    return subprocess.run(
        [*BACKUP, *arguments],
        env=env | environment,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def drop(name):
    with psycopg.connect(server_url("postgres"), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_fingerprints(url):
    """{table: (rows, md5 of every row's text in order)} for the public schema's tables."""
    with psycopg.connect(url) as database:
        tables = [
            name
            for (name,) in database.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: database.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM "{table}" AS t'
            ).fetchone()
            for table in tables
        }


def health_form_read_triggers(url):
    with psycopg.connect(url) as database:
        return database.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = 'booking_healthformread'::regclass AND NOT tgisinternal ORDER BY 1"
        ).fetchall()


def every_kind_of_row(django_user_model):
    """The clinic's data as a working site holds it, committed (a transactional test)."""
    ensure_bookable()
    now = timezone.now()
    maya, daniel = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    desk = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    desk.groups.add(Group.objects.get(name="Front desk"))
    make_treatment()
    make_faq()
    # Bookings of every status, each with a line of history.
    for day, status in enumerate(Status, start=1):
        booking = make_booking(
            starts_at=now + timedelta(days=day, hours=1),
            status=status,
            practitioner=maya if day % 2 else daniel,
        )
        BookingStatusChange.objects.create(
            booking=booking, from_status=Status.REQUESTED, to_status=status, changed_by=desk
        )
    # Through the services: emails in the outbox, a confirmation, a cancellation
    # that frees a time for the waitlist's offer.
    booked = book()
    services.change_status(booked, Status.CONFIRMED, by=desk)
    cancelled = book()
    services.change_status(cancelled, Status.CANCELLED, by=desk)
    # Health answers and the record of who read them.
    version = publish_example()
    answered = book_with_answers(version, {key(version, ALLERGIES): "Penicillin"})
    screening_service.record_health_form_read(
        booking=answered, reader=desk, page=HealthFormRead.Page.BOOKING_PAGE
    )
    # The waitlist: someone waiting, a freed time, an offer.
    entry = make_entry()
    freed_at = now + timedelta(days=20)
    FreedTime.objects.create(
        practitioner=maya, starts_at=freed_at, ends_at=freed_at + timedelta(minutes=30)
    )
    WaitlistOffer.objects.create(
        entry=entry, starts_at=freed_at, expires_at=now + timedelta(hours=2)
    )
    # Task rows (the tests' ImmediateBackend writes none): one finished, one failed.
    for status in ("SUCCESSFUL", "FAILED"):
        DBTaskResult.objects.create(
            status=status,
            task_path="booking.services.emails.send_emails",
            args_kwargs={"args": [[1]], "kwargs": {}},
            backend_name="default",
            run_after=get_date_max(),
            started_at=now,
            finished_at=now,
            worker_ids=["worker-1"],
        )


@pytest.fixture
def restored(django_user_model, tmp_path):
    """
    The test database filled with every kind of row and backed up with its
    media by the script; then restored into a new database and folder.
    """
    every_kind_of_row(django_user_model)
    source = server_url(connection.settings_dict["NAME"])
    media, backups, restored_media = tmp_path / "media", tmp_path / "backups", tmp_path / "again"
    (media / "practitioners").mkdir(parents=True)
    (media / "practitioners" / "maya.jpg").write_bytes(b"\xff\xd8 a photograph")
    target = f"{connection.settings_dict['NAME']}_restored"
    drop(target)
    environment = {"DATABASE_URL": source, "BACKUP_DIR": str(backups), "MEDIA_ROOT": str(media)}
    try:
        backed_up = run_backup("backup", **environment)
        assert backed_up.returncode == 0, backed_up.stderr
        put_back = run_backup(
            "restore",
            "latest",
            "--database-url",
            server_url(target),
            "--media-root",
            str(restored_media),
            **environment,
        )
        assert put_back.returncode == 0, put_back.stderr
        yield source, server_url(target), restored_media, put_back.stdout
    finally:
        drop(target)


@whole_database
def test_every_table_its_triggers_and_the_media_come_back_whole(restored):
    """
    Over 20 seconds: it commits a database's worth of rows, then runs
    pg_dump and pg_restore for real (and the transactional test's flush).
    """
    source, target, media, printed = restored

    before, after = table_fingerprints(source), table_fingerprints(target)

    assert after == before
    # The comparison covers real data: every kind of row is there.
    for table in [
        "booking_consultationbooking",
        "booking_bookingstatuschange",
        "booking_outboundemail",
        "booking_screeninganswers",
        "booking_healthformread",
        "booking_waitlistentry",
        "booking_freedtime",
        "booking_waitlistoffer",
        "booking_questionnaireversion",
        "django_tasks_database_dbtaskresult",
        "treatments_treatment",
        "treatments_faq",
        "auth_user_groups",
        "auth_group_permissions",
    ]:
        assert before[table][0] > 0, table
    with psycopg.connect(target) as database:
        statuses = {status for (status,) in database.execute(
            "SELECT DISTINCT status FROM booking_consultationbooking")}  # fmt: skip
    assert statuses == set(Status)
    # The health form reads are still refused any change.
    assert health_form_read_triggers(target) == health_form_read_triggers(source) != []
    with psycopg.connect(target) as database, pytest.raises(psycopg.errors.RestrictViolation):
        database.execute("DELETE FROM booking_healthformread")
    assert (media / "practitioners" / "maya.jpg").read_bytes() == b"\xff\xd8 a photograph"
    assert "Restored 1 media file(s)" in printed
    assert "DATABASE_URL" in printed  # how to point the site at it


@whole_database
def test_the_restored_database_passes_the_checks_and_serves_the_booking_page(restored, tmp_path):
    """Over 20 seconds: the backup and restore as above, then manage.py twice and gunicorn."""
    _, target, _, _ = restored
    site = Site(tmp_path, DATABASE_URL=target)

    assert "System check identified no issues" in site.manage("check")
    site.manage("migrate", "--check")  # fails (exit 1) on a migration left to run
    try:
        site.start()
        reply = site.visitor().get("/book/")
    finally:
        site.stop()

    assert reply.status == 200, site.log()[-3000:]
    assert "Book a consultation" in reply.text


@pytest.mark.django_db
def test_the_newest_copies_are_kept_and_no_media_folder_makes_an_empty_archive(tmp_path, capsys):
    source = server_url(connection.settings_dict["NAME"])
    folder, missing = tmp_path / "backups", tmp_path / "no-media-yet"
    first = timezone.now().replace(microsecond=0)

    for hours in range(3):
        backup.back_up(
            url=source,
            folder=folder,
            media_root=missing,
            keep=2,
            now=first + timedelta(hours=hours),
        )

    stamps = backup.backups(folder)
    assert stamps == [
        (first + timedelta(hours=hours)).strftime(backup.STAMP_FORMAT) for hours in (1, 2)
    ]
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        name
        for stamp in stamps
        for name in (f"clinic-{stamp}.dump", f"clinic-{stamp}-media.tar.gz")
    )
    with tarfile.open(backup.files_of(folder, stamps[-1])[1]) as tar:
        assert tar.getmembers() == []
    printed = capsys.readouterr().out
    assert "No media files yet" in printed
    assert "Removed 1 older backup(s), keeping the newest 2" in printed


@pytest.mark.django_db
def test_a_restore_never_writes_over_a_database_that_holds_tables(tmp_path):
    source = server_url(connection.settings_dict["NAME"])
    environment = {
        "DATABASE_URL": source,
        "BACKUP_DIR": str(tmp_path),
        "MEDIA_ROOT": str(tmp_path / "m"),
    }
    assert run_backup("backup", **environment).returncode == 0

    refused = run_backup(
        "restore", "--database-url", source, "--media-root", str(tmp_path / "new"), **environment
    )

    assert refused.returncode == 1
    assert "already holds" in refused.stderr
    assert "--overwrite" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "new").exists()


def test_sqlite_is_refused_with_a_message_not_a_traceback(tmp_path):
    refused = run_backup("backup", DATABASE_URL="sqlite:///db.sqlite3", BACKUP_DIR=str(tmp_path))

    assert refused.returncode == 1
    assert "not PostgreSQL" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert list(tmp_path.iterdir()) == []
