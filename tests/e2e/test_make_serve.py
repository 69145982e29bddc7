"""
A browser through `make serve`, the production stack on this machine: nginx
(deploy/'s rules) in front of gunicorn on production settings, PostgreSQL
and Redis, the task worker. Chromium at http://localhost:<port>, as a
developer opens it, books a consultation as a visitor and signs a content
editor in to the admin.

Both are form POSTs that Django's CSRF check compares with the Host nginx
passes on: were nginx to drop the port again (the issue 20 finding 0:
`Host $host`), the browser's Origin would not match and both would be
refused with 403. Production's cookies are Secure, which browsers accept
on http://localhost.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from scripts.live_server import ROOT, Visitor, free_port, manage, nginx_binary, wait_for
from tests.support.booking import VISITOR
from tests.support.browser import DESKTOP, fill_booking_form, reference_on
from tests.support.tools import require

pytestmark = pytest.mark.postgres

EDITOR = "editor"
EDITOR_PASSWORD = secrets.token_urlsafe(16)
CREATE_EDITOR = f"""
from django.contrib.auth.models import Group, User

user = User.objects.create_user({EDITOR!r}, password={EDITOR_PASSWORD!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Content editors"))
"""


def server_url(name):
    params = connection.settings_dict
    return (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        f"/{name}"
    )


@pytest.fixture
def make_serve(tmp_path):
    """`make serve` on a free port, a database of its own (which it creates) and this run's Redis."""
    require(shutil.which("make") is not None, "make")
    require(nginx_binary() is not None, "nginx (make nginx)")
    port = free_port()
    database = f"clinic_serve_{os.getpid()}_{secrets.token_hex(3)}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "SITE_URL", "PORT", "MAKE", "BOOKING_"))
    } | {
        "DATABASE_URL": server_url(database),
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "PORT": str(port),
        "SERVE_DIR": str(tmp_path / "serve"),
        # The browser fills the form in faster than a person (the bot check).
        "BOOKING_MIN_FILL_SECONDS": "0",
    }
    log = tmp_path / "make-serve.log"
    with log.open("w") as output:
        # `-o install`: this run's environment is installed already, and its
        # interpreter runs the script (inside `uv run`, python3 has no uv).
        serve = subprocess.Popen(
            ["make", "--no-print-directory", "-o", "install", "serve",
             f"SERVE_PYTHON={sys.executable}"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:

        def serving():
            assert serve.poll() is None, f"make serve ended:\n{log.read_text()[-3000:]}"
            try:
                return Visitor(port, host="localhost").get("/healthz").status == 200
            except OSError:
                return False

        wait_for(serving, seconds=180, what="make serve to answer")
        # The settings make serve runs with (the Makefile's SERVE_ENV).
        site_env = env | {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "test-only",
            "ALLOWED_HOSTS": "localhost",
            "SITE_URL": f"http://localhost:{port}",
            "SECURE_SSL_REDIRECT": "false",
        }
        manage(site_env, "shell", "--no-imports", "-c", CREATE_EDITOR)
        yield f"http://localhost:{port}", env["DATABASE_URL"], log
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=60)
        print(log.read_text(errors="replace")[-4000:])  # Shown only if the test fails.
        with psycopg.connect(server_url("postgres"), autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def posted(page, path):
    """What to wait for: the response to a form POST to `path`."""
    return page.expect_response(
        lambda response: (
            response.request.method == "POST" and response.url.split("?")[0].endswith(path)
        )
    )


def test_a_visitor_books_and_a_content_editor_signs_in_through_make_serve(chromium, make_serve):
    """
    About a minute: `make serve` migrates a new database and runs collectstatic
    (compressing every static file) before nginx, gunicorn and the worker start.
    """
    origin, database_url, _ = make_serve
    violations = []
    context = chromium.new_context(base_url=origin, viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )

    # A visitor books.
    assert page.goto("/book/").status == 200
    with posted(page, "/book/") as booking:
        fill_booking_form(page)
    # 403 here is Django's CSRF check: the Origin and the Host nginx passed on differ.
    assert booking.value.status == 302, f"the booking answered {booking.value.status}"
    page.wait_for_url("**/book/received/*/")
    reference = reference_on(page)
    assert booking.value.header_value("location") == f"/book/received/{reference}/"
    with psycopg.connect(database_url) as database:
        stored = database.execute(
            "SELECT status, email FROM booking_consultationbooking WHERE reference = %s",
            [reference],
        ).fetchall()
    assert stored == [("requested", VISITOR["email"])]

    # A content editor signs in, in a browser of their own.
    staff = chromium.new_context(base_url=origin, viewport=DESKTOP, locale="en-US")
    staff.set_default_timeout(15_000)
    admin = staff.new_page()
    assert admin.goto("/admin/").status == 200  # the sign-in page, after a redirect
    admin.get_by_label("Username").fill(EDITOR)
    admin.get_by_label("Password").fill(EDITOR_PASSWORD)
    with posted(admin, "/admin/login/") as sign_in:
        admin.get_by_role("button", name="Log in").click()
    assert sign_in.value.status == 302, f"signing in answered {sign_in.value.status}"
    admin.wait_for_url(f"{origin}/admin/")

    assert admin.get_by_role("link", name="Treatments").first.is_visible()
    assert admin.get_by_role("button", name="Log out").is_visible()
    # Their session cookie is production's: Secure and HttpOnly.
    [session] = [cookie for cookie in staff.cookies() if cookie["name"] == "__Host-sessionid"]
    assert session["secure"] and session["httpOnly"]
    staff.close()
    context.close()
    assert violations == []
