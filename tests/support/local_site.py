"""
The site under gunicorn on the local settings, in processes of its own, and
a visitor who books through it: what the fault, page-cache, worker-start and
`make run` tests drive. Production's own set-up (nginx, PostgreSQL, Redis)
is `production_site` in tests/conftest.py.
"""

import os

from scripts import live_server
from scripts.live_server import Gunicorn, TaskWorker, free_port
from tests.support.booking import VISITOR, booking_form, time_links
from tests.support.html import form_data, parse_html

ROOT = live_server.ROOT
HOST = live_server.HOST

# The server's settings: the local settings (DEBUG off here), with two
# changes. Static files come from the finders, as in the test settings, so no
# collectstatic (ten seconds of compression) writes into the working tree.
# Mail uses the configuration production uses, from base.py: local.py keeps
# only the backend's name, and Django's SMTP mailer refuses to start without
# its host and port in OPTIONS.
SERVER_SETTINGS = """
from clinic_site.settings.local import *  # noqa: F403
from clinic_site.settings.base import MAILERS  # noqa: F401

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
"""


# --- A visitor -------------------------------------------------------------------


class Visitor(live_server.Visitor):
    """A visitor who can fill in the booking form."""

    def booking_form(self):
        """The booking page's form, filled in with the first time offered."""
        reply = self.get("/book/")
        assert reply.status == 200, f"GET /book/ answered {reply.status}"
        # Step 4's first time opens the request form (step 5).
        reply = self.get(time_links(parse_html(reply.text))[0].split("#")[0])
        assert reply.status == 200, f"GET of the first time answered {reply.status}"
        return form_data(booking_form(parse_html(reply.text))) | {**VISITOR, "consent": "on"}

    def book(self, form=None):
        """Send a booking form (a fresh one unless given); the reply and its reference."""
        reply = self.post("/book/", form or self.booking_form())
        location = reply.headers.get("Location", "")
        reference = location.rstrip("/").rsplit("/", 1)[-1] if reply.status == 302 else None
        return reply, reference


# --- The site under gunicorn -----------------------------------------------------


class Site:
    """
    The site served by gunicorn (one sync worker) from a process of its own,
    and, when a test starts it, the task worker; both log to one file.
    """

    def __init__(self, workdir, **environment):
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / f"site-{self.port}.log"
        (workdir / "fault_settings.py").write_text(SERVER_SETTINGS)
        passed_on = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "BOOKING_", "TASK_"))
        }
        self.env = passed_on | {
            "DJANGO_SETTINGS_MODULE": "fault_settings",
            "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "false",
            "SECRET_KEY": "fault-tests-only-not-secret",
            "ALLOWED_HOSTS": HOST,
            "SITE_URL": f"http://{HOST}:{self.port}",
            "BOOKING_MIN_FILL_SECONDS": "0",
            # One visitor, with the same email and phone, makes every booking here.
            "BOOKING_REQUESTS_PER_CONTACT": "1000",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "WEB_CONCURRENCY": "1",
            **environment,
        }
        self.server = self.worker = None

    def manage(self, *arguments):
        return live_server.manage(self.env, *arguments, timeout=120)

    def start(self):
        self.server = Gunicorn(
            env=self.env,
            log_path=self.log_path,
            port=self.port,
            options=["--workers", "1", "--graceful-timeout", "5"],
        ).start()
        return self

    def start_worker(self):
        """The task worker, which sends the booking emails, beside the site."""
        self.worker = TaskWorker(env=self.env, log_path=self.log_path).start()
        return self.worker

    def stop(self):
        for service in (self.server, self.worker):
            if service is not None:
                service.stop()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def visitor(self):
        return Visitor(self.port)
