"""
Load benchmark of the consultation booking form (issue 3).

Builds a throw-away PostgreSQL database, serves the site with gunicorn as in
production (DEBUG off, Redis cache, several sync workers), then has C
concurrent visitors each load /book/ and submit it, again and again, for a
fixed time or number of submissions per concurrency level. It prints the
latency of the submission (POST) and, separately, of the form page (GET).

    python3 -m uv run --frozen python bench/booking_bench.py --concurrency 1,4,8

A script, not a test: it needs PostgreSQL and Redis running (see
bench/README.md) and uses nothing outside the standard library and the
project's own dependencies.
"""

import argparse
import gzip
import http.client
import json
import os
import platform
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from html import unescape
from http.cookies import SimpleCookie
from importlib.metadata import version
from math import ceil
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.live_server import HOST, Gunicorn, free_port  # noqa: E402

# The rules the benchmark installs: no minimum notice, the usual horizon.
RULES = {"minimum_notice_hours": 0, "horizon_days": 60}
# "clinic" keeps the hours the migrations create (weekdays 9:00-17:00, about
# 1,300 start times of a 30-minute consultation in the horizon); "all-day"
# opens every day 0:00-23:59 (about 5,700). Both the form page and the
# submission work through every practitioner's times of a week or a day, so
# the choice changes what a request costs.
HOURS = {"clinic": None, "all-day": ("00:00", "23:59")}
# Practitioners on duty (the two seeded examples and bench practitioners on
# the same hours, every other one a medical provider). Most visitors book
# "any practitioner": with several on duty, two visitors racing for one
# time almost never leave the second with nobody free.
PRACTITIONERS = 6

SETUP_CODE = """
import json, os
from datetime import time
from booking.models import (
    BookingRules, BookingStatusChange, ConsultationBooking, ConsultationType, OutboundEmail,
    Practitioner, WorkingHours,
)
from django.contrib.sessions.models import Session
BookingRules.objects.update_or_create(pk=1, defaults=json.loads(os.environ["BENCH_RULES"]))
on_duty = list(Practitioner.objects.bookable_online())
hours = [(w.weekday, w.starts_at, w.ends_at) for w in WorkingHours.objects.filter(
    practitioner=on_duty[0])] if on_duty else [(day, time(9), time(17)) for day in range(5)]
for n in range(len(on_duty) + 1, int(os.environ.get("BENCH_PRACTITIONERS") or 0) + 1):
    person = Practitioner.objects.create(
        name=f"Bench Practitioner{n}", slug=f"bench-practitioner-{n}",
        role="Nurse practitioner" if n % 2 == 0 else "Licensed esthetician",
        is_medical_provider=n % 2 == 0, is_published=False, display_order=100 + n,
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=person, weekday=day, starts_at=start, ends_at=end)
        for day, start, end in hours
    )
all_day = json.loads(os.environ["BENCH_HOURS"])
if all_day:
    start, end = (time.fromisoformat(t) for t in all_day)
    WorkingHours.objects.all().delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=person, weekday=day, starts_at=start, ends_at=end)
        for person in Practitioner.objects.bookable_online() for day in range(7)
    )
# What the submissions write, for emptying between levels and counting.
booking, email = ConsultationBooking._meta, OutboundEmail._meta
print(json.dumps({
    "written": [m._meta.db_table for m in (ConsultationBooking.concerns.through,
                BookingStatusChange, OutboundEmail, ConsultationBooking, Session)],
    "booking": booking.db_table,
    "starts_at": booking.get_field("starts_at").column,
    "practitioner": booking.get_field("practitioner").column,
    "email": email.db_table,
    "email_status": email.get_field("status").column,
    # Each consultation type offered online, with who may hold it.
    "types": {
        kind.slug: sorted(kind.qualified_practitioners().filter(
            takes_online_bookings=True).values_list("slug", flat=True))
        for kind in ConsultationType.objects.bookable_online()
    },
}))
"""


# --- The server side -----------------------------------------------------------


def server_env(args, port):
    # Mail goes to the dummy backend: the benchmark measures the site, not a
    # mail server. Each booking enqueues its two email tasks (rows in the task
    # table) as in production; no task worker runs, so none is sent.
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=args.settings,
        DEBUG="false",
        # What clinic_site.settings.production insists on, so --settings can
        # name it too; the local settings ignore the last two.
        SECRET_KEY=os.environ.get("SECRET_KEY") or f"bench-only-{secrets.token_hex(16)}",
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"{args.postgres.rstrip('/')}/{args.database}",
        REDIS_URL=args.redis,
        # One address (127.0.0.1) makes every submission, so the per-address
        # limit has to be out of reach; the short window lets the counter
        # expire from Redis soon after the run.
        BOOKING_RATE_LIMIT="1000000000",
        BOOKING_RATE_WINDOW_SECONDS="60",
        # The bench's visitors share 100 phone numbers (+1 212 555 01NN), so
        # the limit on requests waiting per phone number is out of reach too.
        BOOKING_REQUESTS_PER_CONTACT="1000000000",
        BOOKING_MIN_FILL_SECONDS="0",
        SITE_URL=f"http://{HOST}:{port}",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env, *arguments, capture=False):
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
    )
    return result.stdout


def django_shell(env, code):
    return manage(env, "shell", "--no-imports", "-v", "0", "-c", code, capture=True)


def recreate_database(args):
    with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        name = sql.Identifier(args.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        return conn.execute("SHOW server_version").fetchone()[0]


def drop_database(args):
    with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        name = sql.Identifier(args.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def empty_written_tables(args, schema):
    """Each level starts from the same database: no bookings, emails or sessions."""
    tables = sql.SQL(", ").join(sql.Identifier(name) for name in schema["written"])
    with psycopg.connect(f"{args.postgres.rstrip('/')}/{args.database}", autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))


def database_stats(args, schema):
    booking, starts_at = sql.Identifier(schema["booking"]), sql.Identifier(schema["starts_at"])
    practitioner = sql.Identifier(schema["practitioner"])
    email, status = sql.Identifier(schema["email"]), sql.Identifier(schema["email_status"])
    with psycopg.connect(f"{args.postgres.rstrip('/')}/{args.database}") as conn:
        bookings, slots, most = conn.execute(
            sql.SQL(
                "SELECT coalesce(sum(n), 0), count(*), coalesce(max(n), 0)"
                " FROM (SELECT count(*) AS n FROM {} GROUP BY {}) AS per_slot"
            ).format(booking, starts_at)
        ).fetchone()
        people = conn.execute(
            sql.SQL("SELECT count(DISTINCT {}) FROM {}").format(practitioner, booking)
        ).fetchone()[0]
        emails = dict(
            conn.execute(
                sql.SQL("SELECT {}, count(*) FROM {} GROUP BY 1").format(status, email)
            ).fetchall()
        )
    return {
        "bookings": bookings,
        "slots": slots,
        "most": most,
        "practitioners": people,
        "emails": emails,
    }


def start_gunicorn(args, env, port, log_path):
    """gunicorn (scripts/live_server.py) with gunicorn.conf.py and the benchmark's worker count."""
    options = ["--workers", str(args.workers), "--worker-class", "sync", "--graceful-timeout", "10"]
    return Gunicorn(env=env, log_path=log_path, port=port, options=options).start()


def wait_until_serving(server, port):
    """The booking page must answer before anything is measured."""
    status, _, _ = http_request(port, "GET", "/book/")
    if status != 200:
        raise RuntimeError(f"GET /book/ answered {status}, not 200")


def stop_gunicorn(server):
    server.stop(timeout=20)


# --- The visitors --------------------------------------------------------------


def http_request(port, method, path, body=None, headers=()):
    """One request on a new connection (sync workers close it anyway)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        response = conn.getresponse()
        content = response.read()
    finally:
        conn.close()
    if response.getheader("Content-Encoding") == "gzip":
        content = gzip.decompress(content)
    return response.status, response.headers, content.decode("utf-8", "replace")


INPUT = re.compile(r"<input\b[^>]*>", re.S)
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
# Step 4's times on the booking page: links to the request form.
TIME_LINK = re.compile(r'class="time-list-time" href="([^"#]+)')
ERROR_ITEM = re.compile(r'<div[^>]*id="error-summary".*?<ul[^>]*>(.*?)</ul>', re.S)
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
TAG = re.compile(r"<[^>]+>")


def form_inputs(page):
    """{name: [values]} of the page's <input>s: tokens, slots and concerns."""
    found = {}
    for tag in INPUT.findall(page):
        attributes = dict(ATTRIBUTE.findall(tag))
        if "name" in attributes:
            found.setdefault(attributes["name"], []).append(unescape(attributes.get("value", "")))
    return found


def error_summary(page):
    """The form's error summary, else the page title: one short line."""
    match = ERROR_ITEM.search(page) or TITLE.search(page)
    text = TAG.sub(" ", match.group(1)) if match else page[:100]
    return " ".join(unescape(text).split())[:200]


# The form's answer when someone else took the time between the visitor's
# GET and POST (booking.forms.SLOT_TAKEN): the right answer to a lost race,
# counted apart from errors.
TAKEN = "That time is no longer available"


class Visitor:
    """
    A new visitor each time: no cookies, a fresh form, one submission: a
    random consultation type, with any practitioner three times in four,
    else with one who holds it.
    """

    def __init__(self, port, horizon_days, seed, types):
        self.port = port
        self.horizon_days = horizon_days
        self.random = random.Random(seed)
        self.origin = f"http://{HOST}:{port}"
        self.types = types

    def headers(self, **extra):
        return {
            "User-Agent": "booking-bench",
            "Accept": "text/html",
            "Accept-Encoding": "gzip",
            **extra,
        }

    def submit(self, number):
        """Returns (get ms, get ok, post ms, post ok, error text or None, taken)."""
        # A random week of the picker, so the bookings spread over the horizon.
        start = date.today() + timedelta(days=self.random.randrange(self.horizon_days))
        kind = self.random.choice(sorted(self.types))
        holders = self.types[kind]
        named = self.random.random() < 0.25 and holders
        practitioner = self.random.choice(holders) if named else ""
        query = {"from": start.isoformat(), "type": kind, "practitioner": practitioner}
        path = f"/book/?{urlencode(query)}"
        began = time.perf_counter()
        status, headers, page = http_request(self.port, "GET", path, headers=self.headers())
        # Steps 1 to 4 list the chosen day's times as links; a random one
        # opens the request form (step 5), which this GET is timed on.
        times = TIME_LINK.findall(page)
        if status != 200 or not times:
            get_ms = (time.perf_counter() - began) * 1000
            return get_ms, False, None, False, f"GET {path} {status}: {error_summary(page)}", False
        path = unescape(self.random.choice(times))
        began = time.perf_counter()
        status, headers, page = http_request(self.port, "GET", path, headers=self.headers())
        get_ms = (time.perf_counter() - began) * 1000
        inputs = form_inputs(page)
        if status != 200 or not inputs.get("slot"):
            return get_ms, False, None, False, f"GET /book/ {status}: {error_summary(page)}", False
        cookies = SimpleCookie()
        for header in headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        concerns = inputs.get("concerns", [])
        fields = [
            ("csrfmiddlewaretoken", inputs["csrfmiddlewaretoken"][0]),
            ("form_token", inputs["form_token"][0]),
            ("consultation_type", kind),
            ("practitioner", practitioner),
            ("slot", inputs["slot"][0]),
            *(("concerns", c) for c in self.random.sample(concerns, min(2, len(concerns)))),
            ("full_name", f"Bench Visitor {number}"),
            ("email", f"bench-{number}@example.com"),
            ("phone", f"+1 212 555 01{number % 100:02d}"),
            ("preferred_contact", self.random.choice(["email", "phone", "text"])),
            ("message", "Sent by bench/booking_bench.py."),
            ("consent", "on"),
            ("website", ""),
        ]
        if self.random.random() < 0.5:
            fields.append(("marketing_opt_in", "on"))
        post_headers = self.headers(
            **{
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={m.value}" for k, m in cookies.items()),
                "Origin": self.origin,
                "Referer": self.origin + path,
            }
        )
        began = time.perf_counter()
        status, headers, page = http_request(
            self.port, "POST", "/book/", body=urlencode(fields), headers=post_headers
        )
        post_ms = (time.perf_counter() - began) * 1000
        location = urlsplit(headers.get("Location") or "").path
        if status == 302 and location.startswith("/book/received/"):
            return get_ms, True, post_ms, True, None, False
        if status == 200 and TAKEN in error_summary(page):
            return get_ms, True, post_ms, False, None, True
        return get_ms, True, post_ms, False, f"POST {status}: {error_summary(page)}", False


def run_level(port, concurrency, *, duration=None, submissions=None, horizon_days, types, seed=0):
    """C threads submitting until the time is up or `submissions` have started."""
    lock = threading.Lock()
    counter = iter(range(1, 10**12))
    results = []
    errors = {}
    barrier = threading.Barrier(concurrency + 1)
    deadline = [None]

    def next_number():
        with lock:
            number = next(counter)
        if submissions is not None:
            return number if number <= submissions else None
        return number if time.perf_counter() < deadline[0] else None

    def client(index):
        visitor = Visitor(port, horizon_days, seed * 1000 + index, types)
        mine = []
        barrier.wait()
        while (number := next_number()) is not None:
            try:
                outcome = visitor.submit(seed * 10**7 + number)
            except Exception as error:  # A refused connection, a page without the form...
                outcome = (None, False, None, False, f"{type(error).__name__}: {error}", False)
            mine.append(outcome)
            if outcome[4]:
                with lock:
                    errors[outcome[4]] = errors.get(outcome[4], 0) + 1
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + (duration or 0)
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return results, errors, elapsed


# --- Figures -------------------------------------------------------------------


def percentile(ordered, p):
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def summarise(latencies, ok, total, elapsed, taken=0):
    ordered = sorted(latencies)
    return {
        "count": total,
        "ok": ok,
        "taken": taken,
        "errors": total - ok - taken,
        "rate": total / elapsed,
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else float("nan"),
    }


def table(title, count_label, rows, *, taken=False):
    columns = [
        ("concurrency", "{concurrency}"),
        (count_label, "{count}"),
        ("successes", "{ok}"),
        *([("time taken", "{taken}")] if taken else []),
        ("errors", "{errors}"),
        (f"{count_label}/s", "{rate:.1f}"),
        ("p50 ms", "{p50:.1f}"),
        ("p90 ms", "{p90:.1f}"),
        ("p99 ms", "{p99:.1f}"),
        ("max ms", "{max:.1f}"),
    ]
    cells = [[fmt.format(**row) for _, fmt in columns] for row in rows]
    widths = [
        max(len(name), *(len(line[i]) for line in cells)) for i, (name, _) in enumerate(columns)
    ]
    lines = [title, "  ".join(name.rjust(w) for (name, _), w in zip(columns, widths, strict=True))]
    lines += [
        "  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in cells
    ]
    return "\n".join(lines)


def cpu_seconds(server_pid, database):
    """
    CPU time so far (Linux /proc): the whole machine's busy time, gunicorn's
    master and workers, and the PostgreSQL backends of the bench database.
    The difference between a level's machine time and the rest is what other
    programs took: a contended machine shows there, not as slow code.
    """
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    machine = (sum(values[:8]) - values[3] - values[4]) / tick  # all but idle and iowait
    gunicorn = postgres = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) / tick
            if int(entry.name) == server_pid or int(fields[1]) == server_pid:
                gunicorn += used
            elif f" {database} " in (entry / "cmdline").read_bytes().decode(errors="replace"):
                postgres += used
        except (OSError, IndexError, ValueError):
            continue  # Gone meanwhile, or not ours to read.
    return {"machine": machine, "gunicorn": gunicorn, "postgres": postgres}


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def redis_version(url):
    try:
        import redis

        return redis.Redis.from_url(url, socket_timeout=2).info("server")["redis_version"]
    except Exception as error:  # Only for the report; the server checks Redis for real.
        return f"unknown ({type(error).__name__})"


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- Main ----------------------------------------------------------------------


def parse_args():
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument(
        "--concurrency",
        default="1,4,8",
        help="comma-separated numbers of concurrent visitors, one level each (default: 1,4,8)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=15,
        help="seconds of submissions per level (default: 15)",
    )
    parser.add_argument(
        "--submissions",
        type=int,
        help="submissions per level instead of a duration",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * cores + 1,
        help=f"gunicorn sync workers (default: 2 x cores + 1 = {2 * cores + 1})",
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of unmeasured warm-up (default: 3)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument(
        "--database",
        default="clinic_bench",
        help="database to drop, create and drop again (default: clinic_bench)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the Django cache (rate limit) Redis URL (default: redis://127.0.0.1:6379/15)",
    )
    parser.add_argument(
        "--hours",
        choices=sorted(HOURS),
        default="clinic",
        help="consultation hours: as migrated (clinic, the default) or all-day",
    )
    parser.add_argument(
        "--practitioners",
        type=int,
        default=PRACTITIONERS,
        help=f"practitioners on duty, the two seeded ones included (default: {PRACTITIONERS})",
    )
    parser.add_argument(
        "--settings",
        default="clinic_site.settings.local",
        help="DJANGO_SETTINGS_MODULE (default: clinic_site.settings.local, with DEBUG=false)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the database for inspection"
    )
    args = parser.parse_args()
    try:
        args.levels = [int(part) for part in args.concurrency.split(",") if part.strip()]
    except ValueError:
        parser.error("--concurrency takes numbers separated by commas, e.g. 1,4,8")
    if not args.levels or min(args.levels) < 1:
        parser.error("--concurrency needs at least one level, each 1 or more")
    if args.submissions is not None and args.submissions < 1:
        parser.error("--submissions must be 1 or more")
    if args.duration <= 0 or args.workers < 1 or args.practitioners < 1:
        parser.error("--duration, --workers and --practitioners must be positive")
    # The database is dropped without asking: refuse anything not obviously ours.
    if "bench" not in args.database:
        parser.error("--database must contain 'bench'; it is dropped before and after the run")
    return args


def main():
    args = parse_args()
    port = free_port()
    env = server_env(args, port)
    horizon = RULES["horizon_days"]
    load_before = os.getloadavg()

    log(f"Database {args.database}: creating, migrating")
    pg_version = recreate_database(args)
    server = None
    descriptor, log_path = tempfile.mkstemp(prefix="booking-bench-", suffix=".log")
    os.close(descriptor)
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        # DEBUG off: pages need the hashed static files and their manifest.
        manage(env, "collectstatic", "--noinput", "-v", "0")
        setup_env = {
            **env,
            "BENCH_RULES": json.dumps(RULES),
            "BENCH_HOURS": json.dumps(HOURS[args.hours]),
            "BENCH_PRACTITIONERS": str(args.practitioners),
        }
        schema = json.loads(django_shell(setup_env, SETUP_CODE))
        types = schema["types"]

        log(f"gunicorn: {args.workers} sync workers on {HOST}:{port}")
        server = start_gunicorn(args, env, port, log_path)
        wait_until_serving(server, port)

        log(f"Warm-up: {args.warmup:g} s at concurrency {args.workers}")
        run_level(
            port, args.workers, duration=args.warmup, horizon_days=horizon, types=types, seed=999
        )

        post_rows, get_rows, notes = [], [], []
        for level_number, concurrency in enumerate(args.levels, start=1):
            empty_written_tables(args, schema)
            amount = (
                f"{args.submissions} submissions" if args.submissions else f"{args.duration:g} s"
            )
            log(f"Concurrency {concurrency}: {amount}")
            cpu_before = cpu_seconds(server.pid, args.database)
            client_cpu = time.process_time()
            results, errors, elapsed = run_level(
                port,
                concurrency,
                duration=args.duration,
                submissions=args.submissions,
                horizon_days=horizon,
                types=types,
                seed=level_number,
            )
            posted = [r for r in results if r[3]]
            taken = sum(1 for r in results if r[5])
            post_rows.append(
                {
                    "concurrency": concurrency,
                    **summarise([r[2] for r in posted], len(posted), len(results), elapsed, taken),
                }
            )
            shown = [r for r in results if r[1]]
            get_rows.append(
                {
                    "concurrency": concurrency,
                    **summarise([r[0] for r in shown], len(shown), len(results), elapsed),
                }
            )
            client_cpu = time.process_time() - client_cpu
            cpu = {k: v - cpu_before[k] for k, v in cpu_seconds(server.pid, args.database).items()}
            others = cpu["machine"] - cpu["gunicorn"] - cpu["postgres"] - client_cpu
            stats = database_stats(args, schema)
            emails = ", ".join(f"{n} {status}" for status, n in sorted(stats["emails"].items()))
            notes.append(
                f"  concurrency {concurrency}: {elapsed:.1f} s; {stats['bookings']} bookings at "
                f"{stats['slots']} start times (at most {stats['most']} at one), with "
                f"{stats['practitioners']} practitioners; emails: {emails or 'none'}"
            )
            notes.append(
                f"    CPU seconds: gunicorn {cpu['gunicorn']:.1f}, its PostgreSQL backends "
                f"{cpu['postgres']:.1f}, client {client_cpu:.1f}, everything else {others:.1f} "
                f"(the machine had {elapsed * (os.cpu_count() or 1):.1f}); per submission "
                f"(GET + POST): gunicorn {cpu['gunicorn'] / max(len(results), 1) * 1000:.0f} ms, "
                f"PostgreSQL {cpu['postgres'] / max(len(results), 1) * 1000:.0f} ms"
            )
            for text, count in sorted(errors.items(), key=lambda item: -item[1])[:5]:
                notes.append(f"    {count} x {text}")
        failed = any(row["errors"] for row in post_rows + get_rows)
    except BaseException:
        failed = True
        if server is not None and not server.running:
            log(f"gunicorn exited with status {server.process.returncode}")
        raise
    finally:
        if server is not None:
            stop_gunicorn(server)
        if failed:
            log(f"gunicorn log kept: {log_path}")
        else:
            os.unlink(log_path)
        if args.keep_database:
            log(f"Database {args.database} kept")
        else:
            drop_database(args)
            log(f"Database {args.database} dropped")

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    hours = HOURS[args.hours]
    opening = f"every day {hours[0]}-{hours[1]}" if hours else "as migrated (weekdays 9:00-17:00)"
    load = "/".join(f"{n:.2f}" for n in load_before)
    print(
        "\n".join(
            [
                "Booking form benchmark",
                f"  machine: {os.cpu_count()} cores ({affinity} usable), {cpu_model()}, "
                f"{platform.system()} {platform.release()}; load average before the run {load}",
                f"  Python {platform.python_version()}, Django {version('django')}, "
                f"gunicorn {version('gunicorn')} ({args.workers} sync workers), "
                f"PostgreSQL {pg_version}, Redis {redis_version(args.redis)}",
                f"  settings {args.settings}, DEBUG off; rules {RULES}; hours {opening}; "
                f"{args.practitioners} practitioners on duty",
                "  each submission: a new visitor GETs /book/?from=<random day>&type=<random "
                "type>&practitioner=<any, or one in four a named one who holds it> (the steps), "
                "then a random time of the day shown (the request form, the GET timed) and POSTs it;",
                "  latency = connect to last byte, measured by a client on the same machine",
                "",
                table(
                    "POST /book/ (success = 302 to /book/received/; time taken = the time went "
                    "to another visitor between GET and POST)",
                    "submissions",
                    post_rows,
                    taken=True,
                ),
                "",
                table("GET /book/ (the form page)", "requests", get_rows),
                "",
                "Each level:",
                *notes,
            ]
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
