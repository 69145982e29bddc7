"""
The peer rows of site_bench.py: django-appointment (an appointment-booking app
for Django, from PyPI), its booking page measured as /book/ is, and its request
step (the POST that records an appointment request) beside our booking POST.

django-appointment is never a dependency of this project: it goes into a
virtual environment of its own, made in a temporary folder for the run (with
uv, from PyPI) and removed after it, with a minimal Django project around it
on a PostgreSQL database of its own (`<--database>_peer`, dropped after). Its
gunicorn has as many sync workers as the site's, and wrk drives it with the
same options. Its page is `/appointment/request/<service>/` for a service
one staff member offers, weekdays 9:00-17:00: it lists that day's free times
(the other days come from its JavaScript), where /book/ lists a week's.

The request step is `POST /appointment/request-submit/` (date, start and end
time, service, staff member; a 302 to the client-information page is a
success): the peer records an appointment request there and asks for the
client's details on the next page. It checks no overlap: any time of the
staff member's hours is taken, however often. `compare_request_steps` runs it
and our booking POST against both servers at once, alternating in the same
rounds (`--rounds`, `--round-duration`) at 1 and 16 clients, so that other
work on the machine falls on both alike; the ratio is ours over the peer's.

Used by site_bench.py (see bench/README.md); it prints nothing itself.
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from statistics import median
from types import SimpleNamespace
from urllib.parse import urlencode

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.live_server import Service, port_open  # noqa: E402

PACKAGE = "django-appointment"
LABEL = f"peer: {PACKAGE} booking page"
REQUEST_PATH = "/appointment/request-submit/"
# Django's redirect after a recorded request: the page asking for the client's details.
REQUEST_RECORDED = "^/appointment/client%-info/"
CLIENT_LEVELS = (1, 16)
# Tried in order: the Django this project runs, then the last releases the
# app may still support, until one installs and serves the page.
DJANGO_VERSIONS = [None, "<6.1", "<6", "<5.2"]

SETTINGS = """
import os
SECRET_KEY = "peer-bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "appointment",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peer_site.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DATABASE"],
    "USER": os.environ["PEER_USER"], "HOST": os.environ["PEER_HOST"],
    "PORT": os.environ["PEER_PORT"], "CONN_MAX_AGE": 60,
}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TIME_ZONE = "America/New_York"
USE_TZ = True
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPOINTMENT_WEBSITE_NAME = "Peer clinic"
LOGGING = {"version": 1, "disable_existing_loggers": True}
"""

URLS = """
from django.urls import include, path
urlpatterns = [path("appointment/", include("appointment.urls"))]
"""

WSGI = """
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_site.settings")
application = get_wsgi_application()
"""

# One staff member offering one 30-minute service, weekdays 9:00-17:00.
SETUP = """
from datetime import time, timedelta
from django.contrib.auth import get_user_model
from appointment.models import Service, StaffMember, WorkingHours
user = get_user_model().objects.create_user("maya", "maya@example.com", "x", first_name="Maya")
service = Service.objects.create(name="Skin assessment", duration=timedelta(minutes=30), price=0)
staff = StaffMember.objects.create(user=user, lead_time=time(9), finish_time=time(17), slot_duration=30)
staff.services_offered.add(service)
staff.work_on_saturday = staff.work_on_sunday = True
staff.save()
for day in range(7):
    WorkingHours.objects.create(staff_member=staff, day_of_week=day, start_time=time(9), end_time=time(17))
print(service.pk, staff.pk)
"""


def _run(command, **options):
    return subprocess.run(command, check=True, text=True, capture_output=True, **options)


def _install(folder, django):
    """A virtual environment with the app, gunicorn and psycopg: its python, or an error."""
    venv = folder / "venv"
    # Under `uv run` (as `make bench` runs this) uv names itself in $UV; on
    # its own, uv as the Makefile runs it (python3 -m uv, or uv on the PATH).
    uv = (
        [os.environ["UV"]]
        if os.environ.get("UV")
        else ([shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"])
    )
    if venv.exists():
        shutil.rmtree(venv)
    _run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=REPO)
    python = venv / "bin" / "python"
    requirements = [PACKAGE, "gunicorn", "psycopg[binary]"]
    if django:
        requirements.append(f"django{django}")
    _run([*uv, "pip", "install", "--quiet", "--python", str(python), *requirements], cwd=REPO)
    return python


def _versions(python):
    code = "import django; from importlib.metadata import version; print(django.__version__, version('django-appointment'))"
    return _run([str(python), "-c", code]).stdout.split()


def _project(folder):
    site = folder / "peer_site"
    site.mkdir(exist_ok=True)
    (site / "__init__.py").write_text("")
    (site / "settings.py").write_text(SETTINGS)
    (site / "urls.py").write_text(URLS)
    (site / "wsgi.py").write_text(WSGI)


def _database(args, name, *, create):
    with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _environment(args, name, folder):
    server = psycopg.conninfo.conninfo_to_dict(args.postgres.rstrip("/") + "/postgres")
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "peer_site.settings",
        "PYTHONPATH": str(folder),
        "PEER_DATABASE": name,
        "PEER_USER": server.get("user", "postgres"),
        "PEER_HOST": server.get("host", "127.0.0.1"),
        "PEER_PORT": str(server.get("port", 5432)),
    }


@contextmanager
def peer_site(args, *, workers, host, port, http_get, log):
    """
    The peer installed, migrated, set up and served by its own gunicorn: a
    namespace with its server, port, page path, service and staff ids and a
    note naming its versions; `server` is None (and the note says why) when
    no Django version would install or serve it here.
    """
    name = f"{args.database}_peer"
    folder = Path(tempfile.mkdtemp(prefix="peer-bench-"))
    server = None
    problems = []
    try:
        _project(folder)
        for django in DJANGO_VERSIONS:
            try:
                python = _install(folder, django)
                django_version, app_version = _versions(python)
                _database(args, name, create=True)
                env = _environment(args, name, folder)
                manage = [str(python), "-m", "django"]
                # The app ships no migrations: they are made here, as its guide says.
                _run([*manage, "makemigrations", "appointment", "-v", "0"], env=env, cwd=folder)
                _run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=folder)
                output = _run([*manage, "shell", "-c", SETUP], env=env, cwd=folder).stdout
                service, staff = output.split()[-2:]
                path = f"/appointment/request/{service}/"
                server = PeerGunicorn(
                    python, workers=workers, host=host, port=port, env=env, folder=folder
                ).start()
                _check_serving(port, path, http_get)
            except (subprocess.CalledProcessError, AssertionError, RuntimeError, OSError) as error:
                problems.append(f"Django {django or 'as the site'}: {_last_error(error)}")
                _stop(server)
                server = None
                continue
            log(f"peer: {PACKAGE} {app_version}, Django {django_version}, {workers} workers")
            yield SimpleNamespace(
                server=server,
                port=port,
                path=path,
                service=service,
                staff=staff,
                database=name,
                folder=folder,
                note=f"{PACKAGE} {app_version} on Django {django_version}",
            )
            return
        yield SimpleNamespace(
            server=None, note="could not be installed or run here: " + "; ".join(problems)
        )
    finally:
        _stop(server)
        _database(args, name, create=False)
        shutil.rmtree(folder, ignore_errors=True)


def measure_peer(args, peer, *, measure, log):
    """
    The peer's booking page row, as `measure` (site_bench's) makes the
    site's: a dict with the row's figures, or {"label": ..., "note": why it
    could not be measured}.
    """
    if peer.server is None:
        return {"label": LABEL, "note": peer.note}
    log(f"wrk {LABEL}")
    row = measure(
        SimpleNamespace(**{**vars(args), "database": peer.database}),
        peer.port,
        peer.server,
        LABEL,
        peer.path,
    )
    row["note"] = peer.note
    return row


def write_peer_requests(path, peer, count, rng):
    """
    `count` of the peer's request steps, one a line ("cookie<TAB>form body"),
    as site_bench writes ours: a random day of the next 60 and a random
    half-hour of its 9:00-17:00, each with its own CSRF secret.
    """
    first = date.today() + timedelta(days=2)
    with open(path, "w") as out:
        for _ in range(count):
            secret = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=32))
            minutes = 9 * 60 + 30 * rng.randrange(16)
            fields = [
                ("csrfmiddlewaretoken", secret),
                ("date", (first + timedelta(days=rng.randrange(60))).isoformat()),
                ("start_time", f"{minutes // 60:02d}:{minutes % 60:02d}"),
                ("end_time", f"{(minutes + 30) // 60:02d}:{(minutes + 30) % 60:02d}"),
                ("service", peer.service),
                ("staff_member", peer.staff),
            ]
            out.write(f"csrftoken={secret}\t{urlencode(fields)}\n")


def compare_request_steps(args, peer, *, site_port, our_files, run_wrk, host, log):
    """
    Our booking POST and the peer's request step under wrk, alternating in
    the same rounds at each of CLIENT_LEVELS: {clients: {"ours": ..., "peer":
    ..., "ratio": ..., "round_ratios": [...]}}. `our_files` gives, for each
    (round, clients), the submissions file of ours (site_bench's
    write_submissions, every line a new booking).
    """
    rng = random.Random(11)
    script = Path(__file__).resolve().parent / "wrk_booking_post.lua"
    runs = {clients: {"ours": [], "peer": []} for clients in CLIENT_LEVELS}
    for number in range(args.rounds):
        for clients in CLIENT_LEVELS:
            options = SimpleNamespace(
                threads=min(args.threads, clients),
                connections=clients,
                duration=args.round_duration,
            )
            peer_file = peer.folder / f"requests-{number}-{clients}.txt"
            write_peer_requests(peer_file, peer, 1000 * args.round_duration, rng)
            sides = [
                ("ours", site_port, "/book/", our_files[number, clients], "^/book/received/"),
                ("peer", peer.port, REQUEST_PATH, peer_file, REQUEST_RECORDED),
            ]
            # Each goes first in every other round: neither always follows the other's load.
            for side, port, path, file, success in sides[:: 1 if number % 2 == 0 else -1]:
                log(f"round {number + 1}: {side} at {clients} client(s)")
                origin = f"http://{host}:{port}"
                result = run_wrk(
                    options,
                    origin + path,
                    args.round_duration,
                    script,
                    (str(file), str(options.threads), origin, path, success),
                )
                runs[clients][side].append(result)
    return {clients: _summary(sides) for clients, sides in runs.items()}


def _summary(sides):
    figures = {side: _figures(results) for side, results in sides.items()}
    rates = {side: [_rate(result) for result in results] for side, results in sides.items()}
    return {
        **figures,
        "ratio": figures["ours"]["rate"] / figures["peer"]["rate"]
        if figures["peer"]["rate"]
        else 0,
        "round_ratios": [
            ours / peer if peer else 0
            for ours, peer in zip(rates["ours"], rates["peer"], strict=True)
        ],
    }


def _rate(result):
    """Successes a second: a refused or replayed submission is not one."""
    return (result["booked"] - result["replayed"]) / (result["duration_us"] / 1e6)


def _figures(results):
    """Over the rounds: successes a second in all, and the median round's p50 and p99."""
    seconds = sum(result["duration_us"] for result in results) / 1e6
    errors = sum(
        result[key]
        for result in results
        for key in result
        if key.endswith("_errors") or key == "timeouts"
    )
    return {
        "rate": sum(result["booked"] - result["replayed"] for result in results) / seconds,
        "p50": median(result["p50_us"] for result in results) / 1000,
        "p99": median(result["p99_us"] for result in results) / 1000,
        "made": sum(result["booked"] for result in results),
        "refused": sum(result["refused"] for result in results),
        "replayed": sum(result["replayed"] for result in results),
        "errors": errors,
    }


def comparison_table(comparison):
    """The rounds' figures as Markdown, a line for each side at each number of clients."""
    lines = [
        "| clients | side | successes/s | p50 ms | p99 ms | made | refused | errors | ours ÷ peer (each round) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for clients, summary in comparison.items():
        for side, label in (("ours", "POST /book/ (a booking)"), ("peer", f"POST {REQUEST_PATH}")):
            figures = summary[side]
            ratio = (
                f"**{summary['ratio']:.2f}** ("
                + ", ".join(f"{ratio:.2f}" for ratio in summary["round_ratios"])
                + ")"
                if side == "ours"
                else ""
            )
            lines.append(
                f"| {clients} | {label} | {figures['rate']:.1f} | {figures['p50']:.1f} | "
                f"{figures['p99']:.1f} | {figures['made']} | {figures['refused']} | "
                f"{figures['errors']} | {ratio} |"
            )
    return "\n".join(lines)


def _last_error(error):
    """The line of a failed command's output that names its error."""
    lines = [line.strip() for line in (getattr(error, "stderr", "") or "").splitlines()]
    named = [line for line in lines if "Error" in line or "error" in line]
    return (named or lines or [str(error)])[-1][:300]


class PeerGunicorn(Service):
    """The peer's site under its own gunicorn, started and stopped as the site's own is."""

    name = "the peer's gunicorn"

    def __init__(self, python, *, workers, host, port, env, folder):
        self.port = port
        command = [
            str(python),
            "-m",
            "gunicorn",
            f"--workers={workers}",
            f"--bind={host}:{port}",
            "--worker-class=sync",
            "--log-level=warning",
            "peer_site.wsgi",
        ]
        super().__init__(command, env=env, log_path=folder / "gunicorn.log", cwd=folder)

    def ready(self):
        return port_open(self.port)


def _check_serving(port, path, http_get):
    status = http_get(port, path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}, not 200")


def _stop(server):
    if server is not None:
        server.stop(timeout=20)
