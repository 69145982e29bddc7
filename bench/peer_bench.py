"""
The peer row of site_bench.py: the booking page of django-appointment (an
appointment-booking app for Django, from PyPI) measured as /book/ is, for scale.

django-appointment is never a dependency of this project: it goes into a
virtual environment of its own, made in a temporary folder for the run (with
uv, from PyPI) and removed after it, with a minimal Django project around it
on a PostgreSQL database of its own (`<--database>_peer`, dropped after). Its
gunicorn has as many sync workers as the site's, and wrk drives it with the
same options. Its page is `/appointment/request/<service>/` for a service
one staff member offers, weekdays 9:00-17:00: it lists that day's free times
(the other days come from its JavaScript), where /book/ lists a week's.

Used by site_bench.py (see bench/README.md); it prints nothing itself.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.live_server import Service, port_open  # noqa: E402

PACKAGE = "django-appointment"
LABEL = f"peer: {PACKAGE} booking page"
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
print(service.pk)
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


def measure_peer(args, *, workers, host, port, measure, http_get, log):
    """
    The peer's row, as `measure` (site_bench's) makes the site's: a dict with
    the row's figures, or {"label": ..., "note": why it could not be measured}.
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
                service = _run([*manage, "shell", "-c", SETUP], env=env, cwd=folder).stdout.split()[
                    -1
                ]
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
            log(
                f"wrk {LABEL} ({PACKAGE} {app_version}, Django {django_version}, {workers} workers)"
            )
            row = measure(
                SimpleNamespace(**{**vars(args), "database": name}), port, server, LABEL, path
            )
            row["note"] = f"{PACKAGE} {app_version} on Django {django_version}"
            return row
        return {
            "label": LABEL,
            "note": "could not be installed or run here: " + "; ".join(problems),
        }
    finally:
        _stop(server)
        _database(args, name, create=False)
        shutil.rmtree(folder, ignore_errors=True)


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
