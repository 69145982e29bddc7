"""
The app is stateless: two instances (separate gunicorn servers on different
ports) on one PostgreSQL and one Redis serve the same site. A booking made
through one holds its slot on the other; the booking rate limit and the
admin lockout count across both.

PostgreSQL only (the `postgres` marker): it runs in CI's PostgreSQL pass.
"""

import html
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from http.client import HTTPConnection
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# This run's own: named after its test database (test_<DATABASE_URL's name>)
# and using its REDIS_URL's database (12 without one), so runs side by side
# on one server (CI, colleagues' worktrees) never drop or flush each other's.
DATABASE = f"test_{settings.DATABASES['default']['NAME']}_scale_out"
REDIS_DB = int(urllib.parse.urlsplit(os.environ.get("REDIS_URL", "")).path.strip("/") or 12)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser: cookies by hand, because the production
    cookies are Secure and this test talks plain HTTP on loopback."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, form=None):
        connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, content


def field(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def offered_slots(page):
    return re.findall(r'type="radio" name="slot"[^>]*value="([^"]+)"', page)


def book(browser, name, number):
    status, page = browser.request("GET", "/book/")
    assert status == 200
    slot = offered_slots(page)[0]
    status, _ = browser.request(
        "POST",
        "/book/",
        {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "form_token": field(page, "form_token"),
            "slot": slot,
            "treatment": "",
            "full_name": name,
            "email": f"visitor{number}@example.com",
            "phone": f"(212) 555-014{number}",
            "preferred_contact": "email",
            "consent": "on",
            "website": "",
        },
    )
    return status, slot


def sign_in(browser, password):
    status, page = browser.request("GET", "/admin/login/")
    return browser.request(
        "POST",
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "username": "desk",
            "password": password,
            "next": "/admin/",
        },
    )[0]


@pytest.fixture
def two_instances(tmp_path):
    admin_url = settings.DATABASES["default"]
    dsn = f"host={admin_url['HOST'] or '127.0.0.1'} port={admin_url['PORT'] or 5432} user={admin_url['USER']} dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings.production",
        "DATABASE_URL": f"postgres://{admin_url['USER']}@{admin_url['HOST'] or '127.0.0.1'}:{admin_url['PORT'] or 5432}/{DATABASE}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "BOOKING_RATE_LIMIT": "2",
        "BOOKING_MIN_FILL_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SUPERUSER_PASSWORD": "right-password",
        "WEB_CONCURRENCY": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [
            *manage,
            "createsuperuser",
            "--noinput",
            "--username",
            "desk",
            "--email",
            "desk@clinic.test",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"gunicorn-{port}.log", "w"),  # noqa: SIM115
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if Browser(port).request("GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "an instance did not start"
                time.sleep(0.3)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
        subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], capture_output=True)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def test_two_instances_share_bookings_rate_limits_and_lockouts(two_instances):
    first, second = two_instances

    # A booking through the first instance holds its slot on the second.
    status, slot = book(Browser(first), "Ana Example", 1)
    assert status == 302
    assert slot not in offered_slots(Browser(second).request("GET", "/book/")[1])

    # The rate limit (2 here) counts submissions through both instances.
    assert book(Browser(second), "Ben Example", 2)[0] == 302
    assert book(Browser(first), "Cy Example", 3)[0] == 429

    # Five wrong passwords on one instance lock the account on the other too.
    for _ in range(5):
        sign_in(Browser(first), "guess")
    assert sign_in(Browser(second), "right-password") == 429
