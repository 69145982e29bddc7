"""
Screenshots of the main pages, for a person to look at: `make screenshots`.

Serves the site with gunicorn on a free local port, on a freshly migrated,
seeded SQLite database in a temporary folder (the base settings, DEBUG off,
as `make audit` serves it), adds a busy day ahead to the front desk's day
sheet, and saves with Debian's Chromium (headless, through Playwright):
each main page at desktop and phone widths, and the day sheet, to
artifacts/screenshots/ (ignored by git). The Makefile copies the README's
few to docs/screenshots/.

This is a tool, not a test: the pages' behaviour, accessibility and layout
are checked by the browser tests (tests/e2e/).

Usage: python scripts/screenshots.py [--output artifacts/screenshots]
"""

import argparse
import os
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from scripts.live_server import Gunicorn, free_port, manage, standalone_environment  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--no-first-run"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "home": "/",
    "treatment": "/treatments/medical-grade-facial/",
    "comparison": "/compare/",
    "guide-result": "/guide/?concerns=acne-scars&concerns=uneven-tone"
    "&sensitivity=not-sensitive&goal=long-term-change",
    "booking": "/book/?treatment=medical-grade-facial",
    # Steps 3 and 4: the strip of days and the first day's times.
    "booking-day": "/book/?type=medical-grade-facial-consultation&practitioner=daniel-okafor",
    "team": "/team/",
}
FRONT_DESK = ("desk", "staff-password")
# A screenshot under this many bytes is a blank or broken page.
SMALLEST_PICTURE = 10_000


def add_a_busy_day(env):
    """
    The front desk's user and a weekday ahead with bookings of several kinds
    and statuses and time off, written in this process to the site's
    database. Returns the day.
    """
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from booking import services
    from booking.models import ConsultationBooking, ConsultationType, Practitioner, TimeOff
    from tests.support.booking import make_booking

    username, password = FRONT_DESK
    desk = User.objects.create_user(username, "desk@clinic.test", password, is_staff=True)
    desk.groups.add(Group.objects.get(name="Front desk"))

    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() > 4:
        day += timedelta(days=1)
    zone = timezone.get_current_timezone()

    def at(hour, minute=0):
        return datetime.combine(day, time(hour, minute), tzinfo=zone)

    maya = Practitioner.objects.get(slug="maya-chen")
    daniel = Practitioner.objects.get(slug="daniel-okafor")
    medical = ConsultationType.objects.get(slug="medical-grade-facial-consultation")
    facial = ConsultationType.objects.get(slug="professional-facial-consultation")
    make_booking(starts_at=at(9), practitioner=maya, consultation_type=facial, full_name="Ana Ruiz")
    confirmed = make_booking(
        starts_at=at(10),
        practitioner=daniel,
        consultation_type=medical,
        full_name="Ben Okoro",
        message="Sensitive skin",
        attendance_confirmed_at=timezone.now(),
    )
    services.change_status(confirmed, ConsultationBooking.Status.CONFIRMED)
    make_booking(starts_at=at(11, 15), practitioner=maya, full_name="Cleo Marsh")
    TimeOff.objects.create(practitioner=maya, starts_at=at(13), ends_at=at(15), reason="Training")
    return day


def saved(target):
    if target.stat().st_size < SMALLEST_PICTURE:
        raise SystemExit(f"{target} looks empty ({target.stat().st_size} bytes)")
    print(target.relative_to(BASE_DIR) if target.is_relative_to(BASE_DIR) else target)


def authenticator_for_the_front_desk():
    """
    The front desk reads health answers, so signs in with a code: their
    authenticator app, made before Playwright starts (the database cannot be
    used while it runs).
    """
    from django.contrib.auth.models import User

    from tests.support.two_factor import authenticator_for

    return authenticator_for(User.objects.get(username=FRONT_DESK[0]))


def take_screenshots(browser, origin, output, busy_day, front_desk_app):
    from tests.support.two_factor import code

    for width, viewport in VIEWPORTS.items():
        context = browser.new_context(
            base_url=origin, viewport=viewport, locale="en-US", reduced_motion="reduce"
        )
        page = context.new_page()
        for name, path in PAGES.items():
            response = page.goto(path)
            if not response.ok:
                raise SystemExit(f"{path} answered {response.status}")
            # Lazy photographs load as they come into view: scroll them all in first.
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_function("() => [...document.images].every((image) => image.complete)")
            page.evaluate("window.scrollTo(0, 0)")
            target = output / f"{name}-{width}.png"
            page.screenshot(path=target, full_page=True)
            saved(target)
        if width == "phone":
            # Step 5: the first free time chosen, the summary and the request form.
            page.goto(PAGES["booking-day"])
            page.locator("a.time-list-time").first.click()
            page.locator("#booking-request").wait_for()
            target = output / "booking-details-phone.png"
            page.screenshot(path=target, full_page=True)
            saved(target)
        context.close()

    context = browser.new_context(
        base_url=origin, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    page = context.new_page()
    page.goto("/admin/")
    username, password = FRONT_DESK
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code from your authenticator app").fill(code(front_desk_app))
    page.get_by_role("button", name="Sign in").click()
    page.locator("#site-name").wait_for()
    page.goto(f"/admin/booking/consultationbooking/day/?date={busy_day:%Y-%m-%d}")
    page.locator("article.day-sheet-booking").nth(2).wait_for()
    page.locator("table.day-sheet-grid").scroll_into_view_if_needed()
    target = output / "day-sheet-desktop.png"
    page.screenshot(path=target)
    saved(target)
    context.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--output", type=Path, default=BASE_DIR / "artifacts" / "screenshots")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        workdir = Path(folder)
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        env = standalone_environment(
            workdir / "screenshots.sqlite3", origin, secret="screenshots-only-not-secret"
        )
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        busy_day = add_a_busy_day(env)
        front_desk_app = authenticator_for_the_front_desk()
        server = Gunicorn(
            env=env,
            log_path=workdir / "gunicorn.log",
            port=port,
            options=["--workers", "2", "--log-level", "warning"],
        ).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                take_screenshots(browser, origin, args.output, busy_day, front_desk_app)
                browser.close()
        finally:
            server.stop(timeout=30)


if __name__ == "__main__":
    main()
