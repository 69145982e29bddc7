"""
What one booking costs the server, in process, and whether it grows with
the clinic's history (issue 22); and the day sheet's render.

Not a test: `make bench` runs it after the others. It needs the local
PostgreSQL and Redis, like them. It:

1. drops and recreates `--database` (the name must contain `bench`),
   migrates it, sets no minimum notice and empties its Redis database
   (`--redis`, database 14 by default, never 0);
2. in this process, with the local settings (DEBUG off) on that PostgreSQL
   and Redis, as production keeps its caches: for `--bookings` visitors, each
   GETs `/book/` (a random week, type and any or a named practitioner) and
   POSTs it; only the POST is timed (Django's test client, no network), and
   the query budget is the tests' (test_booking_query_counts.py);
3. adds `--past` past bookings (completed, over years) and `--upcoming`
   requests ahead (on practitioners of their own, so the seeded ones keep
   their free times), `VACUUM ANALYZE`s, and books again: the table compares
   the medians, and the ratio is the cost of history;
4. the day sheet of a day with 8 practitioners and 60 bookings, signed in as
   a superuser: the median of `--sheets` renders and its queries;
5. drops the database.

The figures are server time in one process on a machine shared with other
work: read them with the load average printed beside them.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="clinic_cost_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--bookings", type=int, default=60, help="timed bookings per size")
    parser.add_argument("--past", type=int, default=100_000)
    parser.add_argument("--upcoming", type=int, default=10_000)
    parser.add_argument("--sheets", type=int, default=15)
    args = parser.parse_args()
    if "bench" not in args.database:
        parser.error("--database must contain 'bench' (it is dropped)")
    if args.redis.rstrip("/").endswith("/0"):
        parser.error("--redis must not be database 0")
    return args


def recreate(args):
    with psycopg.connect(args.postgres, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))


def drop(args):
    from django.db import connections

    connections.close_all()
    with psycopg.connect(args.postgres, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database))
        )


def set_up_django(args):
    base = args.postgres.rsplit("/", 1)[0]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="clinic_site.settings.local",
        DATABASE_URL=f"{base}/{args.database}",
        DEBUG="false",
        BOOKING_MIN_FILL_SECONDS="0",
        BOOKING_RATE_LIMIT="1000000",
        TASK_BACKEND="django_tasks_db.DatabaseBackend",
        # One log line a booking on the terminal would drown the table (production logs them).
        LOG_LEVEL="WARNING",
    )
    os.environ["REDIS_URL"] = args.redis
    import django
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    # The pages name static files without collectstatic's manifest: nothing here serves them.
    # Set before setup(): loading the apps already opens the storages.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    cache.clear()
    from booking.models import BookingRules

    rules = BookingRules.read()
    rules.minimum_notice_hours = 0
    rules.save()


# This process's CPU time of each POST (not PostgreSQL's): disturbed less than
# the wall clock by other programs on the cores.
BOOKING_CPU = []


def book_once(client, n, types, people):
    """One visitor: the page (untimed), then the POST (timed). Returns (seconds, ok)."""
    from bs4 import BeautifulSoup

    kind = random.choice(types)
    holders = [person for person in people if kind.is_held_by(person)]
    person = random.choice(holders) if holders and random.random() < 0.25 else None
    week = date.today() + timedelta(days=random.randrange(0, 50))
    query = {"type": kind.slug, "practitioner": person.slug if person else "", "from": week}
    document = BeautifulSoup(client.get(f"/book/?{urlencode(query)}").content, "html.parser")
    # Steps 1 to 4 list the chosen day's times as links; one opens the
    # request form (step 5), with the form token and the chosen time.
    times = [link["href"] for link in document.find_all("a", class_="time-list-time")]
    if not times:
        return None, False
    document = BeautifulSoup(client.get(random.choice(times)).content, "html.parser")
    form = document.find("input", attrs={"name": "form_token"}).find_parent("form")
    slots = [radio["value"] for radio in form.find_all("input", attrs={"name": "slot"})]
    if not slots:
        return None, False
    data = {
        field["name"]: field.get("value", "")
        for field in form.find_all("input", attrs={"type": "hidden"})
    }
    data |= {
        "consultation_type": kind.slug,
        "practitioner": person.slug if person else "",
        "slot": random.choice(slots),
        "full_name": f"Bench Visitor{n}",
        "email": f"bench.visitor.{n}@example.com",
        "phone": f"+1212555{n % 10000:04d}",
        "preferred_contact": "email",
        "consent": "on",
    }
    began, cpu = time.perf_counter(), time.process_time()
    response = client.post("/book/", data)
    took = time.perf_counter() - began
    BOOKING_CPU.append(time.process_time() - cpu)
    return took, response.status_code == 302


def measure_bookings(args, label, offset):
    from django.test import Client

    from booking.forms.fields import read_booking_choices

    types, people = read_booking_choices()
    times, made, taken = [], 0, 0
    BOOKING_CPU.clear()
    for n in range(offset, offset + args.bookings):
        took, ok = book_once(Client(), n, types, people)
        if took is None:
            continue
        made += ok
        taken += not ok
        if ok:
            times.append(took * 1000)
    return {
        "label": label,
        "made": made,
        "taken": taken,
        "p50": statistics.median(times),
        "p90": statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0],
        "cpu": statistics.median(BOOKING_CPU) * 1000,
    }


def add_history(args):
    """`--past` completed bookings behind, `--upcoming` requests ahead on practitioners of their own."""
    from django.db import connection

    from booking.models import ConsultationBooking, Practitioner

    seed = ConsultationBooking.objects.order_by("pk").first()
    owners = []
    for n in range(max(1, args.upcoming // 100)):
        owner = Practitioner.objects.create(
            name=f"History Practitioner{n}",
            slug=f"history-{n}",
            role="Licensed esthetician",
            takes_online_bookings=False,
            display_order=1000 + n,
        )
        owners.append(owner.pk)
    columns = [
        field.column
        for field in ConsultationBooking._meta.concrete_fields
        if field.column
        not in {
            "id",
            "reference",
            "submission_key",
            "status",
            "email",
            "phone",
            "starts_at",
            "ends_at",
            "blocks_until",
            "practitioner_id",
        }
    ]
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        for status, count, starts, owner in [
            ("completed", args.past, "now() - interval '1 day' - n * interval '17 minutes'", None),
            (
                "requested",
                args.upcoming,
                "now() + interval '1 day' + (n / %s) * interval '2 hours'",
                owners,
            ),
        ]:
            practitioner = "%s" if owner is None else "(%s)[1 + n %% %s]"
            params = [status[0].upper() + "B", status]
            start_params = [] if owner is None else [len(owner)]
            practitioner_params = [seed.practitioner_id] if owner is None else [owner, len(owner)]
            cursor.execute(
                f"""
                INSERT INTO booking_consultationbooking
                    ({listed}, reference, status, email, phone, starts_at, ends_at,
                     blocks_until, practitioner_id)
                SELECT {listed}, %s || lpad(n::text, 10, '0'), %s,
                       'history.' || n || '@example.com', '+1646' || lpad(n::text, 7, '0'),
                       {starts}, {starts} + interval '30 minutes',
                       {starts} + interval '40 minutes', {practitioner}
                FROM booking_consultationbooking, generate_series(1, %s) AS n
                WHERE id = %s
                """,
                [
                    *params,
                    *start_params,
                    *start_params,
                    *start_params,
                    *practitioner_params,
                    count,
                    seed.pk,
                ],
            )
        cursor.execute("VACUUM ANALYZE")


def measure_day_sheet(args):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from booking.models import ConsultationBooking, ConsultationType, Practitioner, WorkingHours

    day = timezone.localdate() + timedelta(days=70)  # beyond the horizon: nobody else's bookings
    staff = []
    for n in range(8):
        person = Practitioner.objects.create(
            name=f"Sheet Practitioner{n}", slug=f"sheet-{n}", role="Nurse", display_order=500 + n
        )
        WorkingHours.objects.create(
            practitioner=person,
            weekday=day.weekday(),
            starts_at="09:00",
            ends_at="17:00",
        )
        staff.append(person)
    kind = ConsultationType.objects.order_by("pk").first()
    zone = timezone.get_current_timezone()
    from datetime import datetime
    from datetime import time as clock

    for n in range(60):
        starts = datetime.combine(day, clock(9), tzinfo=zone) + timedelta(minutes=60 * (n // 8))
        ConsultationBooking.objects.create(
            consultation_type=kind,
            practitioner=staff[n % 8],
            full_name=f"Sheet Client{n}",
            email=f"sheet.{n}@example.com",
            phone="+12125550100",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            blocks_until=starts + timedelta(minutes=40),
            consent_given_at=timezone.now(),
            privacy_policy_version="bench",
        )
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = get_user_model().objects.create_superuser("bench-admin", "a@example.com", "x")
    # Staff pass a second factor: signed in as if they had typed a code from their app.
    device = TOTPDevice.objects.create(user=admin, name="Bench", confirmed=True)
    client = Client()
    client.force_login(admin)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = f"/admin/booking/consultationbooking/day/?date={day.isoformat()}"
    assert client.get(url).status_code == 200
    times, cpu = [], []
    for _ in range(args.sheets):
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(times), statistics.median(cpu), len(captured)


def load():
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main():
    args = parse_args()
    recreate(args)
    try:
        set_up_django(args)
        print(f"load average at the start: {load()}")
        # Warm the process (templates, the caches) with a few untimed bookings.
        warm = argparse.Namespace(**{**vars(args), "bookings": 5})
        measure_bookings(warm, "warm-up", 9000)
        small = measure_bookings(args, "1,000 bookings or fewer", 0)
        add_history(args)
        print(f"history added ({args.past:,} past, {args.upcoming:,} upcoming); load {load()}")
        large = measure_bookings(args, f"{args.past:,} past, {args.upcoming:,} upcoming", 5000)
        sheet_ms, sheet_cpu, sheet_queries = measure_day_sheet(args)
        print()
        print(
            "| Bookings in the database | booked | time taken | POST p50 ms | POST p90 ms "
            "| POST CPU p50 ms |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for row in (small, large):
            print(
                f"| {row['label']} | {row['made']} | {row['taken']} | {row['p50']:.1f} "
                f"| {row['p90']:.1f} | {row['cpu']:.1f} |"
            )
        print()
        print(
            f"History ratio, p50 with history ÷ without: {large['p50'] / small['p50']:.2f} "
            f"(CPU {large['cpu'] / small['cpu']:.2f}; target ≤ 1.2)"
        )
        print(f"POST server time p50 without history: {small['p50']:.1f} ms (target ≤ 20 ms)")
        print(
            f"Day sheet, 8 practitioners and 60 bookings: {sheet_ms:.1f} ms in process "
            f"({sheet_cpu:.1f} ms CPU), {sheet_queries} queries (target ≤ 30 ms)"
        )
        print(f"load average at the end: {load()}")
    finally:
        drop(args)


if __name__ == "__main__":
    main()
