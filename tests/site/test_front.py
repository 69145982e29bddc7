"""
nginx in front of gunicorn, as deploy/ runs them (scripts/live_server.py
starts both from the same rules, deploy/nginx/clinic-app.conf).

gunicorn's sync workers each hold a connection from its first byte to its
last, so as many slow clients as there are workers (slowloris: one header
line a second) leave no worker for anyone else. The first test shows that
against gunicorn alone, then shows nginx holding 50 such clients while the
health check and the booking page answer within a second, and dropping the
slow clients when client_header_timeout runs out.

Real processes on loopback ports, PostgreSQL and Redis: the `postgres`
marker, so CI's PostgreSQL pass runs them. Without nginx they skip, except
in CI (CI=true), where they fail.
"""

import re
import socket
import time

import pytest

from scripts.live_server import HOST, Gunicorn, Nginx, Visitor, manage, nginx_binary
from tests.support import local_site
from tests.support.html import form_data, parse_html
from tests.support.tools import require

SLOW_CLIENTS = 50
ANSWER_WITHIN = 1.0  # seconds
CLIENT_HEADER_TIMEOUT = 10  # seconds, as deploy/nginx/clinic-app.conf sets it
STAFF_PASSWORD = "right-password"


def require_nginx():
    require(nginx_binary() is not None, "nginx (make nginx)")


@pytest.fixture
def stack(production_site, collected_static, tmp_path):
    """gunicorn (two sync workers) and nginx in front of it."""
    require_nginx()
    started = []
    app = Gunicorn(env=production_site, log_path=tmp_path / "gunicorn.log")
    started.append(app.start())
    front = Nginx(upstream=f"{HOST}:{app.port}", public=collected_static, folder=tmp_path / "nginx")
    started.append(front.start())
    yield app, front
    for service in reversed(started):
        service.stop()
        print(service.log_tail())  # Shown only if the test fails.


class SlowClients:
    """Connections that send a request one header line a second and never finish it."""

    def __init__(self, port, count):
        self.opened_at = time.monotonic()
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.sendall(f"GET /book/ HTTP/1.1\r\nHost: {HOST}\r\n".encode())
            self.sockets.append(sock)
        self.lines = 0

    def drip(self):
        """One more header line on every connection still open; returns how many were."""
        self.lines += 1
        still_open = 0
        for sock in self.sockets:
            try:
                sock.sendall(f"X-Slow-{self.lines}: {self.lines}\r\n".encode())
                still_open += 1
            except OSError:
                pass
        return still_open

    def closed_by_server(self):
        """How many connections the server has closed (EOF or reset) by now."""
        closed = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                closed += sock.recv(1024) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            finally:
                sock.setblocking(True)
        return closed

    def close(self):
        for sock in self.sockets:
            sock.close()


def timed_get(port, path):
    """GET a page with a deadline; (status or the error, seconds taken)."""
    began = time.monotonic()
    try:
        reply = Visitor(port, timeout=ANSWER_WITHIN + 1).get(path)
    except OSError as error:
        return type(error).__name__, time.monotonic() - began
    return reply.status, reply.seconds


@pytest.mark.postgres
def test_slow_clients_take_gunicorn_alone_offline_but_not_the_site_behind_nginx(stack):
    app, front = stack
    # Warm: each worker has its database and Redis connections and compiled templates.
    # Not timed: on a busy machine a worker's first page may take longer than a warm one.
    warming = Visitor(front.port)
    for _ in range(4):
        for path in ("/healthz", "/book/"):
            assert warming.get(path).status == 200

    # gunicorn alone: two slow clients hold both workers; nobody else gets in.
    slow = SlowClients(app.port, 2)
    try:
        time.sleep(0.3)
        status, seconds = timed_get(app.port, "/healthz")
        slow.drip()
    finally:
        slow.close()
    assert status == "TimeoutError", f"gunicorn alone answered {status} in {seconds:.2f} s"
    # ...until they go: then gunicorn answers again.
    for _ in range(4):
        assert timed_get(app.port, "/healthz")[0] == 200

    # Behind nginx: 50 slow clients, dripping a line a second, while others use the site.
    slow = SlowClients(front.port, SLOW_CLIENTS)
    timings = []
    try:
        for _ in range(5):
            assert slow.drip() == SLOW_CLIENTS
            for path in ("/healthz", "/book/"):
                timings.append((path, *timed_get(front.port, path)))
            time.sleep(max(0.0, 1 - (time.monotonic() - slow.opened_at) % 1))
        held_for = time.monotonic() - slow.opened_at
        print("answers while 50 slow clients were held:", timings)
        for path, status, seconds in timings:
            assert status == 200, f"{path} answered {status} after {seconds:.2f} s"
            assert seconds < ANSWER_WITHIN, f"{path} took {seconds:.2f} s"
        assert held_for >= 5

        # nginx gives a client CLIENT_HEADER_TIMEOUT seconds for all its headers.
        deadline = slow.opened_at + CLIENT_HEADER_TIMEOUT + 5
        while slow.closed_by_server() < SLOW_CLIENTS and time.monotonic() < deadline:
            slow.drip()
            time.sleep(0.5)
        dropped_after = time.monotonic() - slow.opened_at
        assert slow.closed_by_server() == SLOW_CLIENTS, "nginx still holds slow clients"
        assert dropped_after >= CLIENT_HEADER_TIMEOUT - 1
    finally:
        slow.close()
    print(f"slow clients dropped {dropped_after:.1f} s after connecting")
    assert timed_get(front.port, "/healthz")[0] == 200


@pytest.mark.postgres
def test_nginx_serves_static_files_for_a_year_and_passes_the_apps_headers_through(stack):
    _, front = stack
    visitor = Visitor(front.port)

    page = visitor.get("/book/")
    [stylesheet] = re.findall(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
    css = visitor.get(stylesheet, headers={"Accept-Encoding": "gzip"})
    unhashed = visitor.get("/static/css/site.css")

    assert page.status == 200
    # The app's own security headers reach the visitor unchanged.
    for header in [
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Permissions-Policy",
        "X-Frame-Options",
        "Cross-Origin-Opener-Policy",
    ]:
        assert header in page.headers, header
    assert page.headers["Server"] == "nginx"  # no version
    assert css.status == 200
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert css.headers["Content-Encoding"] == "gzip"  # whitenoise's .gz, sent as it is
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert unhashed.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.postgres
def test_nginx_refuses_oversized_requests_before_they_reach_the_app(stack):
    _, front = stack

    # A body over client_max_body_size is refused on its Content-Length alone.
    with socket.create_connection((HOST, front.port), timeout=5) as sock:
        sock.sendall(
            f"POST /book/ HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {2 * 1024 * 1024}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode()
        )
        too_big = sock.recv(1024).decode(errors="replace")
    long_header = Visitor(front.port).get("/healthz", headers={"X-Long": "x" * 9000})

    assert too_big.startswith("HTTP/1.1 413 "), too_big
    assert long_header.status == 400


@pytest.mark.postgres
def test_forms_posted_through_nginx_pass_the_csrf_origin_check_on_a_port_of_its_own(
    stack, production_site
):
    """
    A browser at http://127.0.0.1:<port> sends that as its Origin: what
    nginx passes on as Host must carry the port too (as `make serve` runs on
    8000), or Django's CSRF check refuses every form with 403.
    """
    _, front = stack
    manage(
        production_site | {"DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD},
        *("createsuperuser", "--noinput", "--username", "desk", "--email", "desk@clinic.test"),
    )
    visitor = local_site.Visitor(front.port)

    booked, reference = visitor.book()

    staff = Visitor(front.port)
    sign_in_page = parse_html(staff.get("/admin/login/?next=/admin/").text)
    signed_in = staff.post(
        "/admin/login/?next=/admin/",
        form_data(sign_in_page.find("form", id="login-form"))
        | {"username": "desk", "password": STAFF_PASSWORD},
    )

    assert booked.status == 302, booked.text[:500]
    assert reference
    assert signed_in.status == 302, signed_in.text[:500]
    assert signed_in.headers["Location"] == "/admin/"


def test_nginx_serves_the_photographs_and_nothing_else_from_media(tmp_path):
    require_nginx()
    photographs = tmp_path / "public" / "media" / "photographs"
    photographs.mkdir(parents=True)
    (photographs / "Ab_c-1_400x267_Zz9.avif").write_bytes(b"\0\0\0\x1cftypavif")
    (photographs / "drawing.svg").write_text("<svg><script>alert(1)</script></svg>")
    (photographs / "page.html").write_text("<script>alert(1)</script>")
    front = Nginx(upstream=f"{HOST}:9", public=tmp_path / "public", folder=tmp_path / "nginx")
    front.start()
    try:
        visitor = Visitor(front.port)
        image = visitor.get("/media/photographs/Ab_c-1_400x267_Zz9.avif")
        refused = [
            visitor.get(f"/media/photographs/{name}").status
            for name in ["drawing.svg", "page.html", "missing.jpg"]
        ]
        # Staff's uploads through the admin may be larger than a form...
        with socket.create_connection((HOST, front.port), timeout=5) as sock:
            sock.sendall(
                f"POST /admin/treatments/photograph/add/ HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Content-Length: {5 * 1024 * 1024}\r\nContent-Type: multipart/form-data\r\n\r\n".encode()
            )
            sock.sendall(b"\0" * (5 * 1024 * 1024))
            upload = sock.recv(1024).decode(errors="replace")
    finally:
        front.stop()
        print(front.log_tail())

    assert image.status == 200
    assert image.headers["Content-Type"] == "image/avif"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert refused == [404, 404, 404]
    # ... so nginx passes one on (here to no app at all: 502), rather than 413.
    assert upload.startswith("HTTP/1.1 502 "), upload
