"""
Load benchmark of the whole site (issue 5).

Serves the site as production does (clinic_site.settings.production under
gunicorn with gunicorn.conf.py, on PostgreSQL and Redis) and measures, with
wrk, the requests per second and the p50/p99 latency of every public page,
of the booking submission and of the framework floor (a constant Django
view), each against that floor. Then it times the admin's booking list with
1,000 and with 100,000 bookings.

    python3 -m uv run --frozen python bench/site_bench.py

A script, not a test: it needs PostgreSQL, Redis and wrk (Debian's `wrk`
package; `make bench` installs it) and uses nothing outside the standard
library and the project's own dependencies. See bench/README.md.
"""

import argparse
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import booking_bench as bb
import fresh_worker
import peer_bench
import psycopg
import redis
from django_otp.oath import totp
from psycopg import sql

HOST = bb.HOST
BENCH = Path(__file__).resolve().parent
SETTINGS = "clinic_site.settings.production"
STARTED = time.monotonic()

# The booking submissions for wrk, made with the site's own code: signed form
# tokens as the form page signs them, and times the form offers. wrk sends
# them in no set order, so each names its practitioner, and no two of one
# practitioner overlap (turnover included): none is refused for a time
# another took, however they arrive. Each practitioner's day fills up from
# their first free time, a random consultation type they hold at a time;
# bench practitioners (unpublished, on the seeded hours) are added until
# there is a time for every submission. The CSRF token needs no server: a
# visitor's cookie holds a random secret and the form sends the same secret
# back (Django accepts it unmasked).
# Each form token is bound to its submission's secret, as the page binds it
# to the visitor's CSRF cookie.
SUBMISSION_CODE = """
import json, os, random
from datetime import time
from django.conf import settings
from django.utils.crypto import get_random_string
from booking.services.schedule import bookable_slots
from booking.form_tokens import new_form_token
from booking.models import ConsultationType, Practitioner, WorkingHours
from treatments.models import SkinConcern
count = int(os.environ["BENCH_TOKENS"])
rng = random.Random(7)
types = list(ConsultationType.objects.bookable_online().prefetch_related("practitioners"))
people = list(Practitioner.objects.bookable_online())
hours = [(w.weekday, w.starts_at, w.ends_at) for w in WorkingHours.objects.filter(
    practitioner=people[0])] if people else [(day, time(9), time(17)) for day in range(5)]
plan = []
def fill(person):
    held = [kind for kind in types if kind.is_held_by(person)]
    free = {kind.pk: {slot.starts_at: slot.value for slot in bookable_slots(
        kind, practitioner=person)} for kind in held}
    busy_until = None
    for starts_at in sorted(set().union(*free.values())):
        if busy_until is not None and starts_at < busy_until:
            continue
        kind = rng.choice([kind for kind in held if starts_at in free[kind.pk]])
        plan.append((kind.slug, person.slug, free[kind.pk][starts_at]))
        busy_until = starts_at + kind.length + kind.turnover
for person in people:
    fill(person)
added = 0
while len(plan) < count:
    added += 1
    person = Practitioner.objects.create(
        name=f"Bench Practitioner{added}", slug=f"bench-practitioner-{added}",
        role="Nurse practitioner" if added % 2 else "Licensed esthetician",
        is_medical_provider=added % 2 == 1, is_published=False, display_order=100 + added,
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=person, weekday=day, starts_at=start, ends_at=end)
        for day, start, end in hours
    )
    fill(person)
rng.shuffle(plan)
secrets = [get_random_string(32) for _ in range(count)]
print(json.dumps({
    "plan": plan[:count],
    "practitioners": len(people) + added,
    "concerns": list(SkinConcern.objects.for_guide().values_list("slug", flat=True)),
    "secrets": secrets,
    "tokens": [new_form_token(secret) for secret in secrets],
    "csrf_cookie": settings.CSRF_COOKIE_NAME,
}))
"""

# The superuser, and the practitioners the admin's bookings are spread over
# (BENCH_PRACTITIONERS in all, the seeded ones first: see booking_rows).
STAFF_CODE = """
import json, os
from django.conf import settings
from django.contrib.auth import get_user_model
from booking.models import ConsultationBooking, ConsultationType, Practitioner
from django_otp.plugins.otp_totp.models import TOTPDevice
admin = get_user_model().objects.create_superuser(
    os.environ["BENCH_USER"], "bench-admin@example.com", os.environ["BENCH_PASSWORD"]
)
# A superuser signs in with a second factor: an authenticator app with the bench's key.
TOTPDevice.objects.create(user=admin, name="Bench", key=os.environ["BENCH_TOTP_KEY"], confirmed=True)
existing = Practitioner.objects.count()
Practitioner.objects.bulk_create(
    Practitioner(
        name=f"Bench Practitioner{n}", slug=f"bench-admin-practitioner-{n}",
        role="Licensed esthetician", is_medical_provider=True, is_published=False,
        takes_online_bookings=False, display_order=100 + n,
    )
    for n in range(existing + 1, int(os.environ["BENCH_PRACTITIONERS"]) + 1)
)
model = ConsultationBooking._meta
print(json.dumps({
    "admin_url": "/" + settings.ADMIN_URL,
    "changelist": "/{}{}/{}/".format(settings.ADMIN_URL, model.app_label, model.model_name),
    "session_cookie": settings.SESSION_COOKIE_NAME,
    "csrf_cookie": settings.CSRF_COOKIE_NAME,
    "types": [
        [kind.pk, kind.duration_minutes, kind.turnover_minutes, kind.treatment_id]
        for kind in ConsultationType.objects.all()
    ],
    "practitioner_ids": list(Practitioner.objects.order_by("pk").values_list("pk", flat=True)),
}))
"""

# What one admin list page asks the database, each query timed: run in a
# Django shell through the test client, signed in as the superuser.
QUERY_CODE = """
import json, os, time
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
client = Client(HTTP_HOST="127.0.0.1")
admin = get_user_model().objects.get(username=os.environ["BENCH_USER"])
client.force_login(admin)
# Past the second factor, as a code from the superuser's app would leave the session.
session = client.session
session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=admin).persistent_id
session.save()
queries = []
def timed(execute, sql, params, many, context):
    began = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        seconds = time.perf_counter() - began
        try:
            sql = sql % tuple(repr(p) for p in params or ())
        except (TypeError, ValueError):
            pass
        queries.append([sql, seconds])
found = {}
for label, path in json.loads(os.environ["BENCH_VIEWS"]):
    client.get(path)
    queries.clear()
    with connection.execute_wrapper(timed):
        status = client.get(path).status_code
    found[label] = {"status": status, "queries": list(queries)}
print(json.dumps(found))
"""

FIRST_NAMES = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Sophia",
    "Elijah",
    "Charlotte",
    "James",
    "Ava",
    "Lucas",
    "Mia",
    "Mateo",
    "Isabella",
    "Levi",
    "Evelyn",
    "Ezra",
    "Harper",
    "Luca",
    "Aisha",
    "Kenji",
    "Priya",
    "Tomasz",
    "Zara",
    "Diego",
    "Chloe",
    "Ibrahim",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
]
# The admin search the benchmark times: a surname, as staff type it from a
# phone call. One named booking in ten has it, so the search lists a full page
# (50) at 1,000 bookings as at 100,000: the comparison is then of what the
# database does, not of how many rows the page draws.
SEARCH_TERM = "garcia"
SEARCH_SHARE = 0.10
# As booking.models.new_reference makes them.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def log(message):
    bb.log(f"[{time.monotonic() - STARTED:4.0f} s] {message}")


# --- The servers ------------------------------------------------------------------


def server_env(args, port, database=None):
    env = bb.server_env(args, port)
    if database:
        env["DATABASE_URL"] = f"{args.postgres.rstrip('/')}/{database}"
    env.update(BENCHMARK_FLOOR_VIEW="true", LOG_LEVEL="INFO")
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    return env


def start_gunicorn(args, env, port, log_path):
    """
    gunicorn.conf.py as production has it, with one exception unless
    --recycle: workers are not restarted after max_requests. Every worker
    loads the whole site when it starts (about 2 s of CPU here), and the
    workers of an evenly loaded server reach max_requests together, so a
    restart round in the middle of a row would measure that, not the page.
    """
    options = [] if args.recycle else ["--max-requests", "0"]
    return bb.Gunicorn(env=env, log_path=log_path, port=port, options=options).start()


def worker_count(server_pid):
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == server_pid:
                    count += 1
            except (OSError, IndexError, ValueError):
                continue
    return count


def redis_cpu_seconds():
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "redis-server":
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                continue
    return total


def cpu_snapshot(server_pid, database):
    """CPU seconds so far: the machine, gunicorn, its PostgreSQL backends, Redis, wrk."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        **bb.cpu_seconds(server_pid, database),
        "redis": redis_cpu_seconds(),
        "wrk": children.ru_utime + children.ru_stime,
    }


def flush_redis(url):
    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def copy_database(args, source, target):
    with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(target), sql.Identifier(source)
            )
        )


def drop_database(args, name):
    with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- Public pages under wrk ----------------------------------------------------------


def get_page(port, path):
    status, _, page = bb.http_request(port, "GET", path, headers={"Accept": "text/html"})
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}, not 200")
    return page


def public_pages(port):
    """(label, path) of every public page; the addresses come from the site's own links."""
    details = list(
        dict.fromkeys(re.findall(r'href="(/treatments/[\w-]+/)"', get_page(port, "/treatments/")))
    )
    if len(details) < 2:
        raise RuntimeError(f"/treatments/ links to {len(details)} treatment pages, not 2")
    answers = bb.form_inputs(get_page(port, "/guide/"))
    try:
        query = urlencode({name: answers[name][0] for name in ("concerns", "sensitivity", "goal")})
    except (KeyError, IndexError):
        raise RuntimeError("the guide's form has no concerns, sensitivity or goal") from None
    result = f"/guide/?{query}"
    if "suggestion" not in bb.TITLE.search(get_page(port, result)).group(1).lower():
        raise RuntimeError(f"{result} did not give a suggestion")
    # The booking page's step 5: a time chosen, the request form with the visitor's tokens.
    times = bb.TIME_LINK.findall(get_page(port, "/book/"))
    if not times:
        raise RuntimeError("/book/ offers no time")
    request_form = unescape(times[0])
    return [
        ("/", "/"),
        ("/treatments/", "/treatments/"),
        *((path, path) for path in details),
        ("/compare/", "/compare/"),
        ("/faqs/", "/faqs/"),
        ("/guide/", "/guide/"),
        ("/guide/ (a result)", result),
        ("/book/", "/book/"),
        ("/book/ (a time chosen: the request form)", request_form),
        ("/privacy/", "/privacy/"),
        ("/team/", "/team/"),
        # The waitlist's join page, cached as /book/ is (booking/views/page_cache.py).
        ("/waitlist/", "/waitlist/"),
    ]


def run_wrk(args, url, seconds, script, script_args=()):
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={script}",
        "--header=Accept: text/html",
        "--header=Accept-Encoding: gzip",
        "--header=User-Agent: site-bench (wrk)",
        url,
    ]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, check=True, text=True, capture_output=True).stdout
    for line in output.splitlines():
        if line.startswith("WRK_RESULT "):
            return json.loads(line.removeprefix("WRK_RESULT "))
    raise RuntimeError(f"wrk printed no result:\n{output}")


def measure(args, port, server, label, path, *, script=None, submissions=None):
    """Warm up, then one measured wrk run: the table's row for this address."""
    url = f"http://{HOST}:{port}{path}"
    script = script or BENCH / "wrk_report.lua"

    def script_args(file):
        return (str(file), str(args.threads), f"http://{HOST}:{port}") if file else ()

    warm_file, measured_file = submissions or (None, None)
    if args.warmup:
        run_wrk(args, url, args.warmup, script, script_args(warm_file))
    before = cpu_snapshot(server.pid, args.database)
    result = run_wrk(args, url, args.duration, script, script_args(measured_file))
    after = cpu_snapshot(server.pid, args.database)
    used = {key: after[key] - before[key] for key in after}
    seconds = result["duration_us"] / 1e6
    others = used["machine"] - used["gunicorn"] - used["postgres"] - used["redis"] - used["wrk"]
    errors = result["refused"] if submissions else 0
    errors += sum(v for k, v in result.items() if k.endswith("_errors") or k == "timeouts")
    return {
        "label": label,
        "requests": result["requests"],
        "rate": result["requests"] / seconds,
        "p50": result["p50_us"] / 1000,
        "p99": result["p99_us"] / 1000,
        # No answer at all in the whole run is a failure too.
        "errors": errors if result["requests"] else max(errors, 1),
        "kb": result["bytes"] / max(result["requests"], 1) / 1024,
        "others_cpu": max(others, 0) / seconds * 100,
        "load": os.getloadavg()[0],
        "result": result,
    }


def write_submissions(path, prepared, count, rng, first_number):
    """`count` booking submissions, one a line: "cookie<TAB>form body"."""
    with open(path, "w") as out:
        for number in range(first_number, first_number + count):
            secret = prepared["secrets"][number]
            concerns = rng.sample(prepared["concerns"], min(2, len(prepared["concerns"])))
            consultation_type, practitioner, slot = prepared["plan"][number]
            fields = [
                ("csrfmiddlewaretoken", secret),
                ("form_token", prepared["tokens"][number]),
                ("consultation_type", consultation_type),
                ("practitioner", practitioner),
                ("slot", slot),
                *(("concerns", slug) for slug in concerns[: rng.randrange(3)]),
                ("full_name", f"Bench Visitor {number}"),
                ("email", f"bench-{number}@example.com"),
                ("phone", f"+1 212 555 01{number % 100:02d}"),
                ("preferred_contact", rng.choice(["email", "phone", "text"])),
                ("message", "Sent by bench/site_bench.py."),
                ("consent", "on"),
                ("website", ""),
            ]
            if rng.random() < 0.5:
                fields.append(("marketing_opt_in", "on"))
            out.write(f"{prepared['csrf_cookie']}={secret}\t{urlencode(fields)}\n")


def load_rows(args, env, port, rng, workdir):
    """
    Every public page, the floor and the booking POST under wrk: the first
    table; and the rounds of our POST beside the peer's request step.
    """
    log_path = workdir / "gunicorn.log"
    comparison = None
    server = start_gunicorn(args, env, port, log_path)
    try:
        bb.wait_until_serving(server, port)
        workers = worker_count(server.pid)
        log(f"gunicorn: {workers} workers on {HOST}:{port}")
        rows = []
        for label, path in [("floor (/_floor)", "/_floor"), *public_pages(port)]:
            log(f"wrk {label}")
            rows.append(measure(args, port, server, label, path))

        # One submission each, with room for several hundred a second; then
        # the rounds beside the peer's request step, each with files of its own.
        warm, measured = 300 * args.warmup + 100, 400 * args.duration + 100
        rounds = [
            (number, clients, (100 if clients == 1 else 250) * args.round_duration)
            for number in range(0 if args.skip_peer else args.rounds)
            for clients in peer_bench.CLIENT_LEVELS
        ]
        prepared = json.loads(
            bb.django_shell(
                {**env, "BENCH_TOKENS": str(warm + measured + sum(n for *_, n in rounds))},
                SUBMISSION_CODE,
            )
        )
        files = (workdir / "warm-up-submissions.txt", workdir / "submissions.txt")
        write_submissions(files[0], prepared, warm, rng, 0)
        write_submissions(files[1], prepared, measured, rng, warm)
        round_files, first = {}, warm + measured
        for number, clients, count in rounds:
            round_files[number, clients] = workdir / f"round-{number}-{clients}.txt"
            write_submissions(round_files[number, clients], prepared, count, rng, first)
            first += count
        log(f"wrk POST /book/ ({prepared['practitioners']} practitioners on duty)")
        rows.append(
            measure(
                args,
                port,
                server,
                "POST /book/ (a booking)",
                "/book/",
                script=BENCH / "wrk_booking_post.lua",
                submissions=files,
            )
        )
        # Counted again once every worker has long been up: the peer gets as many.
        workers = max(workers, worker_count(server.pid))
        if not args.skip_peer:
            # Both servers up from here; only one is driven at a time.
            with peer_bench.peer_site(
                args,
                workers=workers,
                host=HOST,
                port=bb.free_port(),
                http_get=lambda port, path: bb.http_request(
                    port, "GET", path, headers={"Accept": "text/html"}
                )[0],
                log=log,
            ) as peer:
                rows.append(peer_bench.measure_peer(args, peer, measure=measure, log=log))
                if peer.server is not None:
                    comparison = peer_bench.compare_request_steps(
                        args,
                        peer,
                        site_port=port,
                        our_files=round_files,
                        run_wrk=run_wrk,
                        host=HOST,
                        log=log,
                    )
    finally:
        bb.stop_gunicorn(server)
    starts = log_path.read_text(errors="replace").count("Booting worker")
    return rows, {"workers": workers, "restarts": starts - workers, "comparison": comparison}


# --- The admin's booking list --------------------------------------------------------------


BOOKING_COLUMNS = (
    "reference",
    "consultation_type_id",
    "practitioner_id",
    "treatment_id",
    "full_name",
    "email",
    "phone",
    "preferred_contact",
    "starts_at",
    "ends_at",
    "blocks_until",
    "message",
    "status",
    "internal_notes",
    "consent_given_at",
    "privacy_policy_version",
    "marketing_opt_in",
    "calendar_sequence",
    "reminder_sent_at",
    "anonymised_at",
    "created_at",
    "updated_at",
)
PAST = [("completed", 70), ("no_show", 5), ("cancelled", 15), ("declined", 10)]
FUTURE = [("requested", 55), ("confirmed", 37), ("cancelled", 8)]
FUTURE_SHARE = 0.15
ACTIVE = {"requested", "confirmed"}
HALF_HOURS = 16  # a day's starts, 14:00 UTC onwards


def practitioners_needed(count):
    """
    How many practitioners `count` bookings need, as booking_rows assigns
    them: twice the most active bookings at one start time, with a wide
    margin over the expected number (they fall at random).
    """
    weekdays = 60 * 5 / 7
    active_share = sum(w for s, w in FUTURE if s in ACTIVE) / sum(w for _, w in FUTURE)
    expected = count * FUTURE_SHARE * active_share / (weekdays * HALF_HOURS)
    return 2 * (int(expected + 6 * expected**0.5) + 3)


def booking_rows(count, *, rng, now, types, practitioner_ids, references, held):
    """
    Bookings as a clinic has them after three years: consultations on the
    half-hour (weekdays 9:00-17:00 New York time), 85% in the last three
    years, completed, no-show, cancelled or declined, and 15% in the next 60
    days, over half of them still requested, so that ?status=requested lists a
    full page at 1,000 bookings too. Those older than the two-year retention
    are anonymised, as `anonymise_bookings` leaves them.

    Each is of a random consultation type (`types`: [id, minutes, turnover,
    treatment id]). The database refuses two active bookings of one
    practitioner that overlap, turnover included, so the k-th active booking
    at a start time goes to practitioner 2k (on the hour) or 2k + 1 (on the
    half hour): one practitioner's next active booking is an hour later at the
    soonest, and no consultation and its turnover lasts an hour. Inactive
    bookings go to anyone.
    """
    today = now.date()
    past_days = [today - timedelta(n) for n in range(1, 3 * 365)]
    future_days = [today + timedelta(n) for n in range(1, 61)]
    past_days = [day for day in past_days if day.weekday() < 5]
    future_days = [day for day in future_days if day.weekday() < 5]
    retention = now - timedelta(days=2 * 365)
    for _ in range(count):
        future = rng.random() < FUTURE_SHARE
        day = rng.choice(future_days if future else past_days)
        half_hour = rng.randrange(HALF_HOURS)
        starts_at = datetime(day.year, day.month, day.day, 14, tzinfo=UTC) + timedelta(
            minutes=30 * half_hour
        )
        choices = FUTURE if future else PAST
        status = rng.choices([s for s, _ in choices], [w for _, w in choices])[0]
        type_id, minutes, turnover, treatment_id = rng.choice(types)
        if status in ACTIVE:
            k = held[starts_at] = held.get(starts_at, -1) + 1
            index = 2 * k + half_hour % 2
            if index >= len(practitioner_ids):
                raise RuntimeError(
                    f"{k + 1} active bookings at {starts_at}: more than "
                    f"practitioners_needed() allowed for"
                )
            practitioner_id = practitioner_ids[index]
        else:
            practitioner_id = rng.choice(practitioner_ids)
        ends_at = starts_at + timedelta(minutes=minutes)
        created_at = min(starts_at, now) - timedelta(minutes=rng.randrange(60, 60 * 24 * 30))
        while (reference := "".join(rng.choices(REFERENCE_ALPHABET, k=8))) in references:
            pass
        references.add(reference)
        first = rng.choice(FIRST_NAMES)
        last = SEARCH_TERM.title() if rng.random() < SEARCH_SHARE else rng.choice(LAST_NAMES)
        anonymised = starts_at < retention
        yield (
            reference,
            type_id,
            practitioner_id,
            treatment_id,
            "Anonymised" if anonymised else f"{first} {last}",
            "" if anonymised else f"{first}.{last}{rng.randrange(1000)}@example.com".lower(),
            "" if anonymised else f"+1212555{rng.randrange(10000):04d}",
            rng.choice(["email", "phone", "text"]),
            starts_at,
            ends_at,
            ends_at + timedelta(minutes=turnover),
            "",
            status,
            "",
            created_at,
            "2025-01-01",
            rng.random() < 0.3,
            0,
            None,
            starts_at + timedelta(days=2 * 365) if anonymised else None,
            created_at,
            created_at,
        )


def add_bookings(args, database, table, count, generator):
    """COPY `count` more bookings in, then VACUUM ANALYZE as autovacuum would in time."""
    url = f"{args.postgres.rstrip('/')}/{database}"
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in BOOKING_COLUMNS)
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(copy) as writer:
            for _ in range(count):
                writer.write_row(next(generator))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))


def cookie_value(headers, name):
    for header in headers.get_all("Set-Cookie") or []:
        cookie_name, _, rest = header.partition("=")
        if cookie_name.strip() == name:
            return rest.split(";", 1)[0]
    return None


def admin_login(port, staff, username, password, totp_key):
    """
    The session cookie, from a real sign-in through the admin's form (__Host-
    names): the password, then the code the superuser's app would show.
    """
    login = f"{staff['admin_url']}login/"
    status, headers, page = bb.http_request(port, "GET", login, headers={"Accept": "text/html"})
    token = bb.form_inputs(page).get("csrfmiddlewaretoken", [None])[0]
    csrf = cookie_value(headers, staff["csrf_cookie"])
    if status != 200 or not token or not csrf:
        raise RuntimeError(f"GET {login} answered {status} without a CSRF cookie and token")
    fields = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    status, headers, page = bb.http_request(
        port,
        "POST",
        login,
        body=urlencode({**fields, "next": staff["admin_url"]}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{staff['csrf_cookie']}={csrf}",
            "Origin": f"http://{HOST}:{port}",
        },
    )
    session = cookie_value(headers, staff["session_cookie"])
    if status != 302 or not session:
        raise RuntimeError(f"Admin sign-in answered {status}: {bb.error_summary(page)}")
    # Signing in rotates the CSRF secret: the code page's form carries the new one.
    csrf = cookie_value(headers, staff["csrf_cookie"]) or csrf
    cookies = f"{staff['session_cookie']}={session}; {staff['csrf_cookie']}={csrf}"
    code_page = f"{staff['admin_url']}two-factor/code/"
    status, headers, page = bb.http_request(
        port, "GET", code_page, headers={"Accept": "text/html", "Cookie": cookies}
    )
    token = bb.form_inputs(page).get("csrfmiddlewaretoken", [None])[0]
    if status != 200 or not token:
        raise RuntimeError(f"GET {code_page} answered {status} without a CSRF token")
    status, headers, page = bb.http_request(
        port,
        "POST",
        code_page,
        body=urlencode(
            {"csrfmiddlewaretoken": token, "code": f"{totp(bytes.fromhex(totp_key)):06d}"}
        ),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookies,
            "Origin": f"http://{HOST}:{port}",
        },
    )
    session = cookie_value(headers, staff["session_cookie"]) or session
    if status != 302:
        raise RuntimeError(f"The two-factor code answered {status}: {bb.error_summary(page)}")
    return f"{staff['session_cookie']}={session}"


# The paginator's "1000 consultation bookings" (Django 6.1's admin/pagination.html).
RESULT_COUNT = re.compile(r'class="paginator".*?(?<!\d)(\d+)\s+consultation booking', re.S)
ROW = re.compile(r'<tr>\s*<td class="action-checkbox">')


def time_admin_page(port, path, cookie):
    began = time.perf_counter()
    status, _, page = bb.http_request(
        port, "GET", path, headers={"Cookie": cookie, "Accept-Encoding": "gzip"}
    )
    elapsed = (time.perf_counter() - began) * 1000
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {bb.error_summary(page)}")
    match = RESULT_COUNT.search(page)
    return elapsed, int(match.group(1)) if match else None, len(ROW.findall(page))


def query_profile(env, username, views):
    found = json.loads(
        bb.django_shell(
            {**env, "BENCH_USER": username, "BENCH_VIEWS": json.dumps(views)}, QUERY_CODE
        )
    )
    return {
        label: {
            "count": len(data["queries"]),
            "ms": sum(t for _, t in data["queries"]) * 1000,
            "slowest": sorted(data["queries"], key=lambda q: -q[1])[:3],
        }
        for label, data in found.items()
    }


def admin_rows(args, schema, rng, workdir):
    """
    The booking list at two sizes, one database each (the larger a copy of
    the smaller plus more bookings), each served by its own gunicorn. The
    requests alternate between the two, so a machine that gets busier or
    quieter meanwhile weighs on both sizes alike.
    """
    small, large = args.sizes
    databases = {small: args.database, large: f"{args.database}_large"}
    bb.empty_written_tables(args, schema)
    username, password = "bench-admin", secrets.token_urlsafe(16)
    totp_key = secrets.token_hex(20)
    staff = json.loads(
        bb.django_shell(
            {
                **server_env(args, 0),
                "BENCH_USER": username,
                "BENCH_PASSWORD": password,
                "BENCH_TOTP_KEY": totp_key,
                "BENCH_PRACTITIONERS": str(practitioners_needed(large)),
            },
            STAFF_CODE,
        )
    )
    generator = booking_rows(
        large,
        rng=rng,
        now=datetime.now(UTC),
        types=staff["types"],
        practitioner_ids=staff["practitioner_ids"],
        references=set(),
        held={},
    )
    log(f"Admin: {small:,} bookings")
    add_bookings(args, databases[small], schema["booking"], small, generator)
    copy_database(args, databases[small], databases[large])
    log(f"Admin: {large:,} bookings")
    add_bookings(args, databases[large], schema["booking"], large - small, generator)
    if args.admin_sql:
        # To try an index on the real sizes before writing its migration.
        for database in databases.values():
            with psycopg.connect(f"{args.postgres.rstrip('/')}/{database}") as conn:
                conn.execute(args.admin_sql.read_text())
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema["booking"])))

    changelist = staff["changelist"]
    views = [
        ("default", changelist),
        ("?status=requested", f"{changelist}?status=requested"),
        (f"?q={SEARCH_TERM}", f"{changelist}?{urlencode({'q': SEARCH_TERM})}"),
    ]
    servers, ports, cookies = {}, {}, {}
    try:
        for size in args.sizes:
            ports[size] = bb.free_port()
            env = {
                **server_env(args, ports[size], databases[size]),
                "WEB_CONCURRENCY": "1",  # One request at a time.
            }
            log_path = workdir / f"gunicorn-admin-{size}.log"
            servers[size] = start_gunicorn(args, env, ports[size], log_path)
            bb.wait_until_serving(servers[size], ports[size])
            cookies[size] = admin_login(ports[size], staff, username, password, totp_key)
        log(f"Admin: timing, {args.admin_repeats} rounds after a warm-up")
        samples = {(size, label): [] for size in args.sizes for label, _ in views}
        listed = {}
        for round_number in range(args.admin_repeats + 1):
            for label, path in views:
                order = args.sizes if round_number % 2 else args.sizes[::-1]
                for size in order:
                    elapsed, count, rows = time_admin_page(ports[size], path, cookies[size])
                    listed[size, label] = (count, rows)
                    if round_number:  # The first round warms the worker up.
                        samples[size, label].append(elapsed)
    finally:
        for server in servers.values():
            bb.stop_gunicorn(server)
    profiles = {
        size: query_profile(server_env(args, 0, databases[size]), username, views)
        for size in args.sizes
    }
    results = []
    for label, _ in views:
        low = statistics.median(samples[small, label])
        high = statistics.median(samples[large, label])
        results.append(
            {
                "label": label,
                "listed": (listed[small, label], listed[large, label]),
                "ms": (low, high),
                "ratio": high / low,
                "sql": (profiles[small][label], profiles[large][label]),
            }
        )
    return results


# --- Output ---------------------------------------------------------------------------------


def markdown_table(header, rows, align):
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def load_table(rows):
    floor = rows[0]["rate"]
    return markdown_table(
        ["Page", "req/s", "p50 ms", "p99 ms", "÷ floor", "errors", "KB", "others' CPU"],
        [
            [
                row["label"],
                f"{row['rate']:.0f}",
                f"{row['p50']:.1f}",
                f"{row['p99']:.1f}",
                f"{row['rate'] / floor:.2f}",
                str(row["errors"]),
                f"{row['kb']:.1f}",
                f"{row['others_cpu']:.0f}%",
            ]
            if "rate" in row
            else [row["label"], *["–"] * 7]
            for row in rows
        ],
        "lrrrrrrr",
    )


def admin_table(sizes, results):
    small, large = sizes
    return markdown_table(
        [
            "Booking list",
            f"rows at {small:,}",
            f"rows at {large:,}",
            f"ms at {small:,}",
            f"ms at {large:,}",
            "ratio",
            f"SQL at {small:,}",
            f"SQL at {large:,}",
        ],
        [
            [
                row["label"],
                "{} of {}".format(*reversed(row["listed"][0])),
                "{} of {}".format(*reversed(row["listed"][1])),
                f"{row['ms'][0]:.1f}",
                f"{row['ms'][1]:.1f}",
                f"{row['ratio']:.2f}" + ("" if row["ratio"] <= 1.5 else " (over 1.5)"),
                f"{row['sql'][0]['count']} in {row['sql'][0]['ms']:.1f} ms",
                f"{row['sql'][1]['count']} in {row['sql'][1]['ms']:.1f} ms",
            ]
            for row in results
        ],
        "lrrrrrrr",
    )


def wrk_version():
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0].split(" [")[0].removeprefix("wrk ").replace("debian/", "") if lines else "?"


def report(args, rows, server_info, admin, facts, fresh=None):
    lines = [
        "Site benchmark (bench/site_bench.py)",
        f"  machine: {os.cpu_count()} cores, {bb.cpu_model()}, {platform.system()} "
        f"{platform.release()}; load average (1 min) {facts['load_before']:.2f} before, "
        f"{facts['peak_load']:.2f} at the busiest row, {facts['load_after']:.2f} after; "
        f"the run took {facts['minutes']:.1f} minutes",
        f"  Python {platform.python_version()}, Django {version('django')}, gunicorn "
        f"{version('gunicorn')}, PostgreSQL {facts['pg_version'].split()[0]}, Redis "
        f"{bb.redis_version(args.redis)}, wrk {wrk_version()}",
        f"  {SETTINGS}: DEBUG off, Redis cache (content pages cached whole), plain HTTP on "
        f"{HOST} (SECURE_SSL_REDIRECT=false)",
    ]
    if rows:
        recycling = (
            f"max_requests as configured ({server_info['restarts']} worker restarts)"
            if args.recycle
            else "no max_requests restarts (--recycle keeps them)"
        )
        post = next(row for row in rows if row["label"].startswith("POST"))["result"]
        peer = [row for row in rows if row["label"] == peer_bench.LABEL]
        lines += [
            f"  gunicorn.conf.py: {server_info['workers']} sync workers, {recycling}",
            f"  wrk: {args.threads} threads, {args.connections} connections, {args.duration} s "
            f"a row after {args.warmup} s of warm-up, Accept-Encoding: gzip; latency from "
            "sending a request to its last byte",
            "",
            load_table(rows),
            "",
            "  ÷ floor: the row's req/s over the floor's. KB: bytes per response. Others' CPU: "
            "what programs other than gunicorn, its PostgreSQL backends, Redis and wrk used "
            "during the row, in % of one core (of 200%).",
            f"  POST /book/: {post['booked']} bookings made (302 to /book/received/), "
            f"{post['refused']} refused, {post['replayed']} re-posts of a used form token.",
        ]
        for row in peer:
            lines.append(
                f"  Peer ({peer_bench.PACKAGE}'s booking page, one day's times of one staff "
                "member, in a throw-away virtual environment, the same gunicorn workers and "
                f"wrk options, the site's gunicorn up but idle): {row['note']}"
                + (
                    f"; {row['rate']:.0f} req/s, {row['rate'] / rows[0]['rate']:.2f} of the floor"
                    if "rate" in row
                    else ""
                )
                + "."
            )
    comparison = (server_info or {}).get("comparison")
    if comparison:
        lines += [
            "",
            f"  Our booking POST beside {peer_bench.PACKAGE}'s request step (POST "
            f"{peer_bench.REQUEST_PATH}, which records an appointment request and checks no "
            f"overlap): both servers up, {args.rounds} rounds of {args.round_duration} s a side "
            "at each number of clients, the sides alternating which goes first; successes/s "
            "over all the rounds (a booking made; the peer's 302 to its client-information "
            "page), the median round's p50 and p99",
            "",
            peer_bench.comparison_table(comparison),
        ]
    if fresh:
        lines += [
            "",
            "  " + fresh_worker.describe(fresh) + " (bench/fresh_worker.py: one worker, "
            "stopped after each round so that gunicorn forks a fresh one)",
        ]
    if admin:
        within = all(row["ratio"] <= 1.5 for row in admin)
        lines += [
            "",
            f"  Admin booking list: one superuser request at a time, the median of "
            f"{args.admin_repeats} per page and size, alternating between the sizes; rows = "
            "rows on the page of those listed; SQL = queries and their time for one page "
            "(Django's test client)",
            "",
            admin_table(args.sizes, admin),
            "",
            f"  Target (time per page at {args.sizes[1]:,} within 1.5x of {args.sizes[0]:,}): "
            + ("met by every page" if within else "MISSED"),
            f"  Slowest queries at {args.sizes[1]:,} bookings (SQL cut to 150 characters):",
        ]
        for row in admin:
            for statement, seconds in row["sql"][1]["slowest"]:
                lines.append(f"    {row['label']}: {seconds * 1000:.1f} ms  {statement[:150]}")
    return "\n".join(lines)


# --- Main ------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of wrk per row (default: 10)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="seconds of unmeasured wrk before each row (default: 1; 0 for none)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default: 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default: 16)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--recycle",
        action="store_true",
        help="keep gunicorn.conf.py's max_requests worker restarts during the wrk rows",
    )
    parser.add_argument(
        "--admin-sizes",
        default="1000,100000",
        help="the two numbers of bookings for the admin list (default: 1000,100000)",
    )
    parser.add_argument(
        "--admin-repeats",
        type=int,
        default=15,
        help="timed requests per admin page and size, after a warm-up (default: 15)",
    )
    parser.add_argument(
        "--admin-sql",
        type=Path,
        help="a file of SQL to run in both admin databases once the bookings are in "
        "(to try an index, say)",
    )
    parser.add_argument(
        "--fresh-rounds",
        type=int,
        default=5,
        help="fresh workers whose first GET /book/ is timed against the warm ones (default: 5)",
    )
    parser.add_argument("--skip-load", action="store_true", help="only the admin list")
    parser.add_argument("--skip-admin", action="store_true", help="only the wrk table")
    parser.add_argument(
        "--skip-peer",
        action="store_true",
        help="leave out the peer rows (django-appointment's booking page and request step, "
        "installed in a throw-away virtual environment: bench/peer_bench.py)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of our booking POST beside the peer's request step, alternating, at 1 "
        "and 16 clients (default: 3)",
    )
    parser.add_argument(
        "--round-duration",
        type=int,
        default=5,
        help="seconds of wrk for each side in each round (default: 5)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument(
        "--database",
        default="clinic_site_bench",
        help="database to drop, create and drop again, and the same with _large added "
        "(default: clinic_site_bench)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("SITE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="Redis URL naming a database of its own, emptied before and after "
        "(default: redis://127.0.0.1:6379/13)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the databases for inspection"
    )
    args = parser.parse_args()
    # What booking_bench.server_env reads.
    args.settings = SETTINGS
    try:
        args.sizes = [int(size) for size in args.admin_sizes.split(",")]
    except ValueError:
        parser.error("--admin-sizes takes two numbers, e.g. 1000,100000")
    if len(args.sizes) != 2 or not 0 < args.sizes[0] < args.sizes[1]:
        parser.error("--admin-sizes takes two numbers, the smaller first")
    if args.duration < 1 or args.warmup < 0 or args.admin_repeats < 1 or args.fresh_rounds < 1:
        parser.error(
            "--duration, --admin-repeats and --fresh-rounds must be 1 or more, --warmup 0 or more"
        )
    if args.threads < 1 or args.connections < args.threads:
        parser.error("wrk needs a thread or more and at least as many connections as threads")
    if "bench" not in args.database:
        parser.error("--database must contain 'bench'; it is dropped before and after the run")
    # The Redis database is emptied: never the default one, which others use.
    if urlsplit(args.redis).path.strip("/") in ("", "0"):
        parser.error("--redis must name a database of its own (e.g. .../13), not 0")
    if not args.skip_load and not shutil.which("wrk"):
        parser.error("wrk is not installed: apt-get install wrk (make bench does it)")
    return args


def main():
    args = parse_args()
    port = bb.free_port()
    env = server_env(args, port)
    rng = random.Random(5)
    load_before = os.getloadavg()

    log(f"Database {args.database}: creating, migrating")
    pg_version = bb.recreate_database(args)
    flush_redis(args.redis)
    workdir = Path(tempfile.mkdtemp(prefix="site-bench-"))
    rows, server_info, admin, fresh, failed = [], None, None, None, True
    try:
        bb.manage(env, "migrate", "--noinput", "-v", "0")
        # DEBUG off: pages need the hashed static files and their manifest.
        bb.manage(env, "collectstatic", "--noinput", "-v", "0")
        setup_env = {**env, "BENCH_RULES": json.dumps(bb.RULES), "BENCH_HOURS": "null"}
        schema = json.loads(bb.django_shell(setup_env, bb.SETUP_CODE))
        if not args.skip_load:
            rows, server_info = load_rows(args, env, port, rng, workdir)
            log(
                f"A fresh worker's first GET /book/ against a warm one ({args.fresh_rounds} workers)"
            )
            fresh = fresh_worker.measure(
                env, workdir / "gunicorn-fresh-worker.log", rounds=args.fresh_rounds
            )
        if not args.skip_admin:
            admin = admin_rows(args, schema, rng, workdir)
        # Failed requests fail the run. A missed admin target is reported but
        # is not an error: a busy machine can miss it by itself.
        failed = any(row.get("errors") for row in rows) or any(
            summary[side]["errors"]
            for summary in ((server_info or {}).get("comparison") or {}).values()
            for side in ("ours", "peer")
        )
    finally:
        if failed:
            log(f"gunicorn logs kept in {workdir}")
        else:
            shutil.rmtree(workdir)
        flush_redis(args.redis)
        for name in (args.database, f"{args.database}_large"):
            if args.keep_database:
                log(f"Database {name} kept")
            else:
                drop_database(args, name)
        if not args.keep_database:
            log("Databases dropped, Redis database emptied")

    load_after = os.getloadavg()
    facts = {
        "load_before": load_before[0],
        "load_after": load_after[0],
        "peak_load": max(
            [row["load"] for row in rows if "load" in row] + [load_before[0], load_after[0]]
        ),
        "minutes": (time.monotonic() - STARTED) / 60,
        "pg_version": pg_version,
    }
    print(report(args, rows, server_info, admin, facts, fresh))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
