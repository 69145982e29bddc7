"""
axe-core's WCAG 2.0, 2.1 and 2.2 level A and AA rules find nothing on any
public page, on the forms in their error state, on the booking
confirmation, or on the client's manage page.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    VISITOR,
    axe_violations,
    choose_time,
    fill_booking_form,
)
from tests.support.mailbox import link_in_email
from tests.support.pages import PUBLIC_PATHS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("axe_script"),
]


def audit(page, label, found):
    violations = axe_violations(page)
    if violations:
        found[label] = violations


def report(found):
    return "\n".join(
        f"{label}:\n" + "\n".join(f"  - {line}" for line in lines) for label, lines in found.items()
    )


def test_public_pages_have_no_wcag_violations(open_page):
    page = open_page(None)
    found = {}
    for path in PUBLIC_PATHS:
        assert page.goto(path).ok, path
        audit(page, path, found)
    assert not found, report(found)


def test_error_pages_have_no_wcag_violations(open_page):
    page = open_page(None)
    found = {}
    for path, status in [
        ("/no-such-page/", 404),
        ("/book/manage/not-a-real-link/", 404),
    ]:
        assert page.goto(path).status == status, path
        audit(page, path, found)
    assert not found, report(found)


def test_forms_in_their_error_state_have_no_wcag_violations(open_page):
    page = open_page("/guide/?sensitivity=not-on-the-list")
    assert page.locator("#error-summary").count() == 1
    found = {}
    audit(page, "guide with errors", found)

    page.goto("/book/")
    choose_time(page)
    page.get_by_role("button", name="Request this consultation").click()
    # The page with errors, once it has loaded: counted any sooner, it could be the form still.
    page.locator("#error-summary li").first.wait_for()
    assert page.locator("#error-summary li").count() >= 4
    audit(page, "booking form with errors", found)

    # A practitioner who does not hold the consultation: explained, no times.
    page.goto("/book/?type=medical-grade-facial-consultation&practitioner=maya-chen")
    assert page.locator("section:has(#step-practitioner) .alert").count() == 1
    assert page.locator("#step-day").count() == 0
    audit(page, "booking form, practitioner does not hold the consultation", found)
    assert not found, report(found)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_every_booking_step_has_no_wcag_violations(open_page, javascript):
    """
    Each state of the booking page's steps, as htmx leaves it and as a page
    load does. axe needs JavaScript: without it, the steps are walked with it
    off and each state's address is audited as it loads (the same markup).
    """
    page = open_page("/book/", javascript=javascript)
    checker = page if javascript else open_page(None)
    found = {}

    def audit_state(label):
        if not javascript:
            checker.goto(page.url)
        audit(checker, label, found)

    audit_state("booking steps")
    page.locator(".booking-card", has_text="Medical-grade facial consultation").click()
    expect(page).to_have_url(re.compile("type=medical-grade"))
    audit_state("booking steps, a consultation chosen")
    page.locator(".booking-card", has_text="Daniel Okafor").click()
    expect(page).to_have_url(re.compile("practitioner=daniel-okafor"))
    audit_state("booking steps, a practitioner chosen")
    page.locator("nav.day-strip-weeks a").first.click()
    expect(page).to_have_url(re.compile("from="))
    audit_state("booking steps, later days")
    page.locator("a.day-strip-day").nth(2).click()
    expect(page).to_have_url(re.compile("day="))
    audit_state("booking steps, a day chosen")
    choose_time(page)
    expect(page).to_have_url(re.compile("time="))
    audit_state("booking steps, the request form")
    assert not found, report(found)


def test_confirmation_and_manage_pages_have_no_wcag_violations(open_page):
    page = open_page("/book/")
    # The last time shown, days ahead: past the online cut-off, the page
    # would offer no move or cancel to audit.
    fill_booking_form(page, slot_index=-1)
    assert page.locator(".booking-reference").count() == 1
    found = {}
    audit(page, "booking received", found)

    page.goto(link_in_email(VISITOR["email"], "/book/manage/"))
    audit(page, "manage booking", found)
    page.get_by_role("button", name="Move my consultation").click()
    page.locator("#error-summary").wait_for()
    assert page.locator("#error-summary").count() == 1
    audit(page, "manage booking, move refused", found)
    page.get_by_role("button", name="Cancel my consultation").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_role("status").count() == 1
    audit(page, "manage booking, cancelled", found)
    assert not found, report(found)
