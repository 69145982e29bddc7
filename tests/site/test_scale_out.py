"""
The app is stateless: two instances (separate gunicorn servers on different
ports) on one PostgreSQL and one Redis serve the same site. A booking made
through one holds its practitioner's time on the other; the booking rate limit and the
admin lockout count across both.

PostgreSQL only (the `postgres` marker): it runs in CI's PostgreSQL pass.
"""

import html
import re
import subprocess
from urllib.parse import urlsplit

import pytest

from scripts import live_server
from scripts.live_server import Gunicorn, Visitor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


class Browser(Visitor):
    def request(self, method, path, form=None):
        reply = super().request(method, path, form)
        return reply.status, reply.text


def field(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def offered_slots(page):
    """The chosen day's times (step 4's links), as the form sends them."""
    return [
        time.replace("%3A", ":")
        for time in re.findall(r'class="time-list-time" href="[^"]*time=([^"#&]+)', page)
    ]


def first_time_link(page):
    return html.unescape(re.search(r'class="time-list-time" href="([^"#]+)', page).group(1))


# The seeded esthetician: a time booked with her is gone from her times
# (the other seeded practitioner may still be free then).
PRACTITIONER = "maya-chen"
BOOK_WITH_HER = f"/book/?practitioner={PRACTITIONER}"


def book(browser, name, number):
    """Book the first time offered with the esthetician: a skin assessment, her first type."""
    status, page = browser.request("GET", BOOK_WITH_HER)
    assert status == 200
    slot = offered_slots(page)[0]
    # The first time opens the request form, step 5.
    status, page = browser.request("GET", first_time_link(page))
    assert status == 200
    status, _ = browser.request(
        "POST",
        "/book/",
        {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "form_token": field(page, "form_token"),
            "consultation_type": "skin-assessment",
            "practitioner": PRACTITIONER,
            "slot": slot,
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
def two_instances(production_site, tmp_path):
    env = production_site | {
        "BOOKING_RATE_LIMIT": "2",
        "DJANGO_SUPERUSER_PASSWORD": "right-password",
        "WEB_CONCURRENCY": "1",
    }
    live_server.manage(
        env, "createsuperuser", "--noinput", "--username", "desk", "--email", "desk@clinic.test"
    )
    # The rate limit counts in Redis: start both instances from nothing.
    redis = urlsplit(env["REDIS_URL"])
    flush = ["redis-cli", "-h", redis.hostname, "-p", str(redis.port or 6379)]
    flush += ["-n", redis.path.strip("/") or "0", "flushdb"]
    subprocess.run(flush, check=True, capture_output=True)
    servers = []
    try:
        for number in range(2):
            server = Gunicorn(env=env, log_path=tmp_path / f"gunicorn-{number}.log")
            servers.append(server.start())
        yield [server.port for server in servers]
    finally:
        for server in servers:
            server.stop()
        subprocess.run(flush, capture_output=True)


def test_two_instances_share_bookings_rate_limits_and_lockouts(two_instances):
    first, second = two_instances

    # A booking through the first instance holds its time on the second.
    status, slot = book(Browser(first), "Ana Example", 1)
    assert status == 302
    assert slot not in offered_slots(Browser(second).request("GET", BOOK_WITH_HER)[1])

    # The rate limit (2 here) counts submissions through both instances.
    assert book(Browser(second), "Ben Example", 2)[0] == 302
    assert book(Browser(first), "Cy Example", 3)[0] == 429

    # Five wrong passwords on one instance lock the account on the other too.
    for _ in range(5):
        sign_in(Browser(first), "guess")
    assert sign_in(Browser(second), "right-password") == 429
