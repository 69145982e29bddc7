"""
Two-factor sign-in in a real browser: a clinical lead signs in with their
password, is sent to set up an authenticator app, reads the key from the
page, confirms with the app's code, keeps the recovery codes, signs out,
signs in again with the password and a new code, and reads a booking's
health answers. The enrolment and code pages pass axe under the admin's
real Content-Security-Policy.
"""

import re
import time

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from tests.support.browser import STAFF_PASSWORD, axe_violations
from tests.support.screening import book_with_answers, key, publish_example
from tests.support.two_factor import code, wait_for_a_fresh_step, wait_for_the_step_after

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("axe_script"),
]

ALLERGIES = "Do you have any known allergies? If so, which?"


def sign_in_with_password(page):
    page.goto("/admin/")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_clinical_lead_enrols_signs_in_with_a_code_and_reads_health_answers(
    page, django_user_model
):
    """
    Up to 30 seconds of it is waiting: the code that confirmed the app
    cannot sign in again, so the second sign-in waits for the app's next one.
    """
    lead = django_user_model.objects.create_user(
        "lead", "lead@clinic.test", STAFF_PASSWORD, is_staff=True
    )
    lead.groups.add(Group.objects.get(name="Clinical leads"))
    version = publish_example()
    booking = book_with_answers(version, {key(version, ALLERGIES): "Latex gloves"})

    sign_in_with_password(page)
    expect(page).to_have_url(re.compile(r"/admin/two-factor/enrol/$"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert axe_violations(page) == []

    # The other admin pages wait until it is set up.
    page.goto(f"/admin/booking/consultationbooking/{booking.pk}/change/")
    expect(page).to_have_url(re.compile(r"/admin/two-factor/enrol/\?next="))

    setup_key = page.locator("#setup-key").inner_text()
    wait_for_a_fresh_step()
    confirmed_at = time.time()
    page.get_by_label("Code from the app").fill(code(setup_key, at=confirmed_at))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert axe_violations(page) == []

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Logged out")).to_be_visible()

    sign_in_with_password(page)
    expect(page).to_have_url(re.compile(r"/admin/two-factor/code/$"))
    assert axe_violations(page) == []
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".errornote")).to_contain_text("That code is not right")
    assert axe_violations(page) == []

    # A new code from the app, and past django-otp's one-second pause after a wrong one.
    wait_for_the_step_after(confirmed_at)
    time.sleep(1.1)
    page.get_by_label("Code from your authenticator app").fill(code(setup_key))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(f"/admin/booking/consultationbooking/{booking.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("Latex gloves")
