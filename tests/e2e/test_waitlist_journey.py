"""
The waitlist in a real browser: two people join from the booking page, a
client cancels the time they wanted, both are emailed an offer, the first
to claim it books it and the second is told it was just taken; one leaves
the list by the link in their email. Every page on the way is audited with
axe-core (WCAG A/AA), under the site's real Content-Security-Policy, and
every waitlist page in each of its states is checked with the Nu HTML
Checker.
"""

import json
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from booking.models import (
    ConsultationBooking,
    ConsultationType,
    OutboundEmail,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.schedule import parse_slot_value
from tests.support.browser import (
    PHONE,
    VISITOR,
    VNU_CANARY,
    axe_violations,
    fill_booking_form,
    phone_layout,
    reference_on,
)
from tests.support.mailbox import link_in_email

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("axe_script"),
]

ESTHETICIAN = "maya-chen"
WITH_HER = f"/book/?type=skin-assessment&practitioner={ESTHETICIAN}"
WAITING = [
    {"full_name": "Bea Waiting", "email": "bea.waiting@example.com", "phone": "(212) 555-0148"},
    {"full_name": "Cy Waiting", "email": "cy.waiting@example.com", "phone": "(212) 555-0149"},
]


def join_from_the_booking_page(page, person, found):
    page.goto(WITH_HER)
    page.get_by_role("link", name="Join the waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the waitlist")
    if not found:  # The form, once, before it is filled in.
        found.update(audit(page, "join form"))
    for day in ["Saturday", "Sunday"]:
        page.get_by_label(day).check()
    page.get_by_label("Full name").fill(person["full_name"])
    page.get_by_label("Email address").fill(person["email"])
    page.get_by_label("Phone number").fill(person["phone"])
    page.get_by_label("I agree to the privacy policy").check()
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are on the waitlist")


def audit(page, label):
    violations = axe_violations(page)
    return {label: violations} if violations else {}


def report(found):
    return "\n".join(f"{label}:\n  - " + "\n  - ".join(lines) for label, lines in found.items())


def test_a_cancelled_time_goes_to_the_first_on_the_waitlist_to_claim_it(open_page):
    found = {}
    # A client books the last time shown with her, far enough ahead to cancel online.
    booker = open_page(WITH_HER)
    slot = fill_booking_form(booker, slot_index=-1)
    reference = reference_on(booker)

    # Two people find no time that suits them and join the waitlist.
    waiting = [open_page(None), open_page(None)]
    join_from_the_booking_page(waiting[0], WAITING[0], found)
    found |= audit(waiting[0], "joined")
    join_from_the_booking_page(waiting[1], WAITING[1], found)
    assert WaitlistEntry.objects.waiting().count() == 2

    # The client cancels from their email: the time frees up.
    manage = open_page(link_in_email(VISITOR["email"], "/book/manage/"))
    manage.get_by_role("button", name="Cancel my consultation").click()
    expect(manage.get_by_role("status")).to_contain_text("Your consultation is cancelled")

    # Both are emailed an offer of that time, through the outbox.
    offers = [link_in_email(person["email"], "/waitlist/offer/") for person in WAITING]
    assert OutboundEmail.objects.filter(kind=OutboundEmail.Kind.WAITLIST_OFFER).count() == 2
    assert {offer.starts_at for offer in WaitlistOffer.objects.all()} == {parse_slot_value(slot)}

    # The first to claim it books it.
    first = waiting[0]
    first.goto(offers[0])
    expect(first.get_by_role("heading", level=1)).to_have_text("A time has freed up")
    found |= audit(first, "offer")
    first.get_by_role("button", name="Book this time").click()
    new_reference = reference_on(first)
    assert new_reference != reference
    booking = ConsultationBooking.objects.get(reference=new_reference)
    assert booking.email == WAITING[0]["email"]
    assert booking.starts_at == parse_slot_value(slot)
    assert booking.practitioner.slug == ESTHETICIAN
    found |= audit(first, "booking received from the waitlist")

    # The second is told it was just taken, and stays on the list.
    second = waiting[1]
    second.goto(offers[1])
    second.get_by_role("button", name="Book this time").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("This time was just taken")
    expect(second.get_by_role("status")).to_contain_text("You are still on the waitlist")
    found |= audit(second, "offer just taken")
    assert WaitlistEntry.objects.get(email=WAITING[1]["email"]).status == "waiting"
    assert ConsultationBooking.objects.active().filter(starts_at=booking.starts_at).count() == 1

    # They leave the list by the link in their first email.
    second.goto(link_in_email(WAITING[1]["email"], "/waitlist/leave/"))
    found |= audit(second, "leave")
    second.get_by_role("button", name="Leave the waitlist").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("You are not on the waitlist")
    found |= audit(second, "left")
    assert WaitlistEntry.objects.get(email=WAITING[1]["email"]).status == "left"
    assert not found, report(found)


def test_the_join_form_with_errors_and_a_bad_link_have_no_wcag_violations(open_page):
    page = open_page("/waitlist/")
    page.get_by_label("Monday").uncheck()
    for day in ["Tuesday", "Wednesday", "Thursday", "Friday"]:
        page.get_by_label(day).uncheck()
    page.get_by_role("button", name="Join the waitlist").click()
    # The page with errors, once it has loaded: counted any sooner, it could be the form still.
    page.locator("#error-summary li").first.wait_for()
    assert page.locator("#error-summary li").count() >= 4
    found = audit(page, "join form with errors")
    assert page.goto("/waitlist/offer/not-a-real-link/").status == 404
    found |= audit(page, "bad offer link")
    assert not found, report(found)


def test_the_waitlist_pages_are_valid_html(client, vnu_command, tmp_path):
    """The Nu HTML Checker finds no error on any waitlist page, in any of its states."""
    entry = WaitlistEntry.objects.create(
        consultation_type=ConsultationType.objects.get(slug="skin-assessment"),
        weekdays="01234",
        parts_of_day="morning,afternoon",
        earliest_day=timezone.localdate(),
        latest_day=timezone.localdate() + timedelta(days=20),
        full_name="Bea Waiting",
        email="bea.waiting@example.com",
        phone="+12125550148",
        consent_given_at=timezone.now(),
        privacy_policy_version="test",
    )
    starts_at = timezone.now() + timedelta(days=3)
    offers = {
        status: WaitlistOffer.objects.create(
            entry=entry,
            starts_at=starts_at + timedelta(hours=n),
            expires_at=timezone.now() + timedelta(hours=2),
            status=status,
        )
        for n, status in enumerate(["offered", "taken", "expired"])
    }
    pages = {
        "join": client.get("/waitlist/?type=skin-assessment"),
        "join with errors": client.post("/waitlist/", {"weekdays": "9"}),
        "joined": client.get("/waitlist/joined/"),
        "leave": client.get(entry.get_leave_url()),
        **{
            f"offer {status}": client.get(offer.get_claim_url()) for status, offer in offers.items()
        },
        "bad link": client.get("/waitlist/offer/not-a-real-link/"),
    }
    client.post(entry.get_leave_url())
    pages["left"] = client.get(entry.get_leave_url())
    pages["offer after leaving"] = client.get(offers["offered"].get_claim_url())

    files = {}
    for number, (name, response) in enumerate(pages.items()):
        assert response.status_code in {200, 404}, f"{name} answered {response.status_code}"
        target = tmp_path / f"{number:02d}.html"
        target.write_bytes(response.content)
        files[str(target)] = name
    # A page with a known error proves the checker read the files it was given.
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


def test_the_join_and_offer_pages_fit_a_phone_with_big_enough_tap_targets(open_page):
    entry = WaitlistEntry.objects.create(
        consultation_type=ConsultationType.objects.get(slug="skin-assessment"),
        weekdays="01234",
        parts_of_day="morning",
        earliest_day=timezone.localdate(),
        latest_day=timezone.localdate() + timedelta(days=20),
        full_name="Bea Waiting",
        email="bea.waiting@example.com",
        phone="+12125550148",
        consent_given_at=timezone.now(),
        privacy_policy_version="test",
    )
    offer = WaitlistOffer.objects.create(
        entry=entry,
        starts_at=timezone.now() + timedelta(days=3),
        expires_at=timezone.now() + timedelta(hours=2),
    )
    page = open_page(None, viewport=PHONE)
    problems = {}
    for path in ["/waitlist/", offer.get_claim_url(), entry.get_leave_url()]:
        assert page.goto(path).ok, path
        layout = phone_layout(page)
        assert layout["targets"] > 5, f"{path}: no links or controls found"
        found = [f"tap target too small: {target}" for target in layout["smallTargets"]]
        if layout["scrollWidth"] > layout["viewportWidth"]:
            found.append(f"scrolls sideways: {layout['scrollWidth']} px wide")
        if found:
            problems[path] = found
    assert not problems, problems
