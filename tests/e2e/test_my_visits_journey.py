"""
"My visits" in a real browser: a returning client follows the footer's
link, asks for a sign-in link, opens it from the email, moves a visit,
downloads their data and signs out. Every state is audited with axe-core
(WCAG A/AA) under the site's real Content-Security-Policy, and every
"My visits" page in each of its states is checked with the Nu HTML Checker.
"""

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from booking.models import ConsultationBooking, SignInLink
from booking.services.schedule import parse_slot_value
from booking.signed_links import unsubscribe_token
from tests.support.booking import book, ensure_bookable
from tests.support.browser import VNU_CANARY, axe_violations
from tests.support.mailbox import link_in_email
from tests.support.my_visits import link_path, sign_in_as
from tests.support.waitlist import make_entry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("axe_script"),
]

ADA = "ada.quinterra@example.com"


def audit(page, label):
    violations = axe_violations(page)
    return {label: violations} if violations else {}


def report(found):
    return "\n".join(f"{label}:\n  - " + "\n  - ".join(lines) for label, lines in found.items())


def test_a_client_signs_in_from_the_email_moves_a_visit_downloads_their_data_and_signs_out(
    open_page,
):
    ensure_bookable()
    visit = book(email=ADA)
    found = {}
    page = open_page("/")
    page.get_by_role("contentinfo").get_by_role("link", name="My visits").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My visits")
    found |= audit(page, "sign-in form")
    page.get_by_label("Email address").fill("ADA.Quinterra@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    found |= audit(page, "link sent")

    page.goto(link_in_email(ADA, "/my-visits/link/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to My visits")
    found |= audit(page, "sign-in link")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My visits")
    expect(page.locator("main")).to_contain_text(visit.reference)
    found |= audit(page, "my visits")

    page.get_by_role("link", name=f"Move {visit.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move your consultation")
    found |= audit(page, "move")
    slot = page.locator("input[name=slot]").nth(3)
    value = slot.get_attribute("value")
    slot.check()
    page.get_by_role("button", name="Move my consultation").click()
    expect(page.get_by_role("status")).to_contain_text("Your consultation has moved")
    found |= audit(page, "moved")
    visit.refresh_from_db()
    assert visit.starts_at == parse_slot_value(value)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download my data (JSON)").click()
    data = json.loads(Path(downloading.value.path()).read_text(encoding="utf-8"))
    assert data["address"] == ADA
    assert [booking["reference"] for booking in data["bookings"]] == [visit.reference]
    assert any(change["note"].startswith("Moved from") for change in data["bookings"][0]["history"])

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out")
    expect(page.locator("main")).not_to_contain_text(visit.reference)
    found |= audit(page, "signed out")

    # The used link, opened again, is refused with a way to get a new one.
    page.goto(link_in_email(ADA, "/my-visits/link/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has been used")
    expect(page.get_by_role("button", name="Email me a link")).to_be_visible()
    found |= audit(page, "used link")
    assert not found, report(found)


def test_the_my_visits_pages_are_valid_html(vnu_command, tmp_path):
    """The Nu HTML Checker finds no error on any "My visits" page, in any of its states."""
    ensure_bookable()
    visit = book(email=ADA)
    past = book(email=ADA)
    ConsultationBooking.objects.filter(pk=past.pk).update(
        status="completed",
        starts_at=past.starts_at - timedelta(days=60),
        ends_at=past.ends_at - timedelta(days=60),
        blocks_until=past.blocks_until - timedelta(days=60),
    )
    make_entry(email=ADA)
    stranger = Client()
    _, fresh = SignInLink.issue(ADA)
    _, used = SignInLink.issue(ADA)
    Client().post(link_path(used))
    expired_link, expired = SignInLink.issue(ADA)
    SignInLink.objects.filter(pk=expired_link.pk).update(expires_at=timezone.now())
    ada = sign_in_as(Client(), ADA)
    pages = {
        "sign-in form": stranger.get("/my-visits/"),
        "sign-in form with errors": stranger.post("/my-visits/sign-in/", {"email": "nope"}),
        "link sent": stranger.get("/my-visits/link-sent/"),
        "sign-in link": stranger.get(link_path(fresh)),
        "used link": stranger.get(link_path(used)),
        "expired link": stranger.get(link_path(expired)),
        "unknown link": stranger.get(link_path("made-up")),
        "my visits": ada.get("/my-visits/"),
        "move": ada.get(f"/my-visits/visit/{visit.reference}/move/"),
        "move with errors": ada.post(
            f"/my-visits/visit/{visit.reference}/move/", {"with": "same", "slot": "x"}
        ),
        "unsubscribe": stranger.get(f"/unsubscribe/{unsubscribe_token(ADA)}/"),
        "unsubscribed": stranger.post(f"/unsubscribe/{unsubscribe_token(ADA)}/"),
    }
    ada.post("/my-visits/delete/")
    pages["my visits, deletion asked"] = ada.get("/my-visits/")

    files = {}
    for number, (name, response) in enumerate(pages.items()):
        assert response.status_code in {200, 404, 410}, f"{name} answered {response.status_code}"
        target = tmp_path / f"{number:02d}.html"
        target.write_bytes(response.content)
        files[str(target)] = name
    canary = tmp_path / "canary.html"
    canary.write_text(VNU_CANARY)
    files[str(canary)] = "canary"
    result = subprocess.run(
        [*vnu_command, "--format", "json", "--stdout", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [
        f"{files.get(message.get('url', '').removeprefix('file:'))}: {message['message']}"
        for message in messages
        if message["type"] in {"error", "non-document-error"}
    ]
    assert any(error.startswith("canary:") for error in errors), "the checker missed the canary"
    errors = [error for error in errors if not error.startswith("canary:")]
    assert not errors, "\n".join(errors)


def test_the_sign_in_error_and_refused_link_pages_have_no_wcag_violations(open_page):
    page = open_page("/my-visits/")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.locator("#error-summary")).to_be_visible()
    found = audit(page, "sign-in form with errors")
    assert page.goto("/my-visits/link/made-up/").status == 404
    found |= audit(page, "unknown link")
    assert not found, report(found)
