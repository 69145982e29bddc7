"""
The journeys people take through the site, in a real browser: from the
home page to a booked consultation, the same with the keyboard alone
(choosing the consultation and the practitioner), from the team page to a
practitioner's times, a client cancelling from their email, and staff
running the booking and the content in the admin.
"""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from booking import services
from booking.models import ConsultationBooking, ConsultationType, OutboundEmail, Practitioner
from booking.services.schedule import bookable_slots, parse_slot_value
from staff_access.models import second_factor_required
from tests.support.booking import CLINIC_ZONE
from tests.support.browser import (
    STAFF_PASSWORD,
    VISITOR,
    fill_booking_form,
    focused,
    reference_on,
    sign_in_to_admin,
    tab_to,
    tab_to_id,
)
from tests.support.mailbox import link_in_email
from tests.support.two_factor import authenticator_for
from treatments.models import FAQ

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

Status = ConsultationBooking.Status
MEDICAL = "medical-grade-facial"
PROFESSIONAL_CONSULTATION = "Professional facial consultation (30 minutes, Complimentary)"
MEDICAL_CONSULTATION_NAME = "Medical-grade facial consultation"
ESTHETICIAN = "maya-chen"


def test_visitor_goes_from_the_comparison_and_guide_to_a_booked_consultation(open_page):
    page = open_page("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/compare/$"))
    expect(page.locator("table.comparison-table")).to_be_visible()

    page.locator("main").locator("a[href='/guide/']").first.click()
    expect(page).to_have_url(re.compile(r"/guide/$"))
    page.get_by_label("Acne scars").check()
    page.get_by_label("Uneven tone").check()
    page.get_by_label("Not particularly sensitive").check()
    page.get_by_label("Long-term change in my skin").check()
    page.get_by_role("button", name="Show my suggestion").click()

    expect(page.locator("#result-heading")).to_have_text("Our suggestion: medical-grade facial")
    page.get_by_role("link", name="Book a consultation about medical-grade facials").click()
    expect(page).to_have_url(re.compile(rf"/book/\?treatment={MEDICAL}$"))
    expect(chosen_card(page, "consultation")).to_contain_text(MEDICAL_CONSULTATION_NAME)
    expect(chosen_card(page, "practitioner")).to_contain_text("Anyone")

    slot = fill_booking_form(page)

    expect(page.locator("h1")).to_have_text("Thank you — we have your request")
    expect(page.locator("main")).to_contain_text("Medical-grade facial consultation (45 minutes)")
    expect(page.locator("main")).to_contain_text("Daniel Okafor, Nurse practitioner")
    reference = reference_on(page)
    assert re.fullmatch(r"[A-Z0-9]{6,12}", reference)
    booking = ConsultationBooking.objects.get(reference=reference)
    assert booking.consultation_type.slug == "medical-grade-facial-consultation"
    assert booking.practitioner.is_medical_provider
    assert booking.treatment.slug == MEDICAL
    assert booking.status == Status.REQUESTED
    assert booking.starts_at == parse_slot_value(slot)
    assert booking.email == VISITOR["email"]


def chosen_card(page, step):
    """The card of a step (consultation, practitioner) marked as the choice."""
    return page.locator(f"section:has(#step-{step}) .booking-card[aria-current]")


def press_link(page, matches, *, javascript):
    """Tab to a link of the steps and press Enter: htmx swaps the steps, or the page loads."""
    tab_to(page, matches)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_booking_with_the_keyboard_alone(open_page, javascript):
    page = open_page("/", javascript=javascript)
    # The first Tab reaches the skip link, shown only when focused.
    page.keyboard.press("Tab")
    assert focused(page)["description"].startswith("a Skip to main content")
    assert focused(page)["onScreen"]
    tab_to(page, lambda focus: focus["description"] == "a Book a consultation")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/book/$"))

    # Step 1: another consultation. With JavaScript the steps change in
    # place, the address follows, and focus moves to the step it opened,
    # which the live region announces; without, the link loads that step.
    press_link(
        page, lambda focus: "Professional facial" in focus["description"], javascript=javascript
    )
    expect(page).to_have_url(
        re.compile(r"/book/\?type=professional-facial-consultation#step-practitioner$")
    )
    expect(chosen_card(page, "consultation")).to_contain_text("Professional facial consultation")
    if javascript:
        expect(page.locator("#step-practitioner")).to_be_focused()
        expect(page.locator("#booking-announcer")).to_have_text("2 Choose who sees you")

    # Step 2: the esthetician.
    press_link(page, lambda focus: "Maya Chen" in focus["description"], javascript=javascript)
    expect(chosen_card(page, "practitioner")).to_contain_text("Maya Chen")
    expect(page).to_have_url(re.compile(r"practitioner=maya-chen#step-day$"))
    if javascript:
        expect(page.locator("#step-day")).to_be_focused()

    # Step 3: the strip's second day with free times.
    days = page.locator("a.day-strip-day")
    second_day = days.nth(1).get_attribute("href")
    tab_to(page, lambda focus: "day-strip-day" in focus["classes"])
    tab_to(page, lambda focus: "day-strip-day" in focus["classes"])
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("a.day-strip-day[aria-current]")).to_have_attribute("href", second_day)
    if javascript:
        expect(page.locator("#step-time")).to_be_focused()
        expect(page.locator("#booking-announcer")).to_contain_text("4 Choose a time on")

    # Step 4: the day's first time.
    first_time = page.locator("a.time-list-time").first.inner_text()
    press_link(page, lambda focus: "time-list-time" in focus["classes"], javascript=javascript)
    expect(page.locator(".booking-choice")).to_contain_text(first_time.rsplit(" ", 1)[0])
    if javascript:
        expect(page.locator("#step-details")).to_be_focused()

    # Sent empty: the page comes back with focus on the error summary.
    tab_to(page, lambda focus: "Request this consultation" in focus["description"])
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    errors = summary.locator("li a")
    assert errors.count() >= 4
    for index in range(errors.count()):
        link = errors.nth(index)
        message = link.inner_text()
        target = page.locator(link.get_attribute("href"))
        assert target.count() == 1, f"the error summary's link for “{message}” leads nowhere"
        described = target.evaluate(
            """element => {
                const owner = element.closest('[aria-describedby]');
                if (!owner) return '';
                return owner.getAttribute('aria-describedby').split(/\\s+/)
                    .map(id => document.getElementById(id)?.textContent ?? '').join(' ');
            }"""
        )
        assert message in described, f"“{message}” is not tied to its field"
    # The choices are kept: the summary above the form still names them.
    expect(page.locator(".booking-choice")).to_contain_text("Professional facial consultation")
    expect(page.locator(".booking-choice")).to_contain_text("Maya Chen")

    # Now fill it in with Tab, Space and typing, and send it with Enter.
    for field, value in VISITOR.items():
        tab_to_id(page, f"id_{field}")
        page.keyboard.type(value)
    tab_to(page, lambda focus: focus["id"].startswith("id_concerns_"))
    page.keyboard.press("Space")
    tab_to_id(page, "id_consent")
    page.keyboard.press("Space")
    tab_to(page, lambda focus: "Request this consultation" in focus["description"])
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Thank you — we have your request")
    booking = ConsultationBooking.objects.get(reference=reference_on(page))
    assert booking.full_name == VISITOR["full_name"]
    assert booking.consultation_type.slug == "professional-facial-consultation"
    assert booking.practitioner.slug == ESTHETICIAN
    assert booking.treatment.slug == "professional-facial"
    assert booking.concerns.count() == 1
    assert f"day={booking.starts_at.astimezone(CLINIC_ZONE).date().isoformat()}" in second_day


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_back_forward_and_reload_keep_each_step(open_page, javascript):
    page = open_page("/book/", javascript=javascript)
    page.locator(".booking-card", has_text="Medical-grade facial consultation").click()
    expect(page).to_have_url(re.compile(r"type=medical-grade-facial-consultation"))
    page.locator(".booking-card", has_text="Daniel Okafor").click()
    expect(page).to_have_url(re.compile(r"practitioner=daniel-okafor"))

    page.go_back()
    expect(page).to_have_url(
        re.compile(r"type=medical-grade-facial-consultation#step-practitioner$")
    )
    expect(chosen_card(page, "practitioner")).to_contain_text("Anyone")
    page.go_forward()
    expect(chosen_card(page, "practitioner")).to_contain_text("Daniel Okafor")
    page.reload()
    expect(chosen_card(page, "consultation")).to_contain_text("Medical-grade facial consultation")
    expect(chosen_card(page, "practitioner")).to_contain_text("Daniel Okafor")
    # The waitlist's link carries the choice.
    expect(page.get_by_role("link", name="Join the waitlist")).to_have_attribute(
        "href", "/waitlist/?type=medical-grade-facial-consultation&practitioner=daniel-okafor"
    )


def test_visitor_books_a_practitioner_from_the_team_page(open_page):
    page = open_page("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Our team").click()
    expect(page).to_have_url(re.compile(r"/team/$"))
    page.get_by_role("link", name="Book with Daniel Okafor").click()

    expect(page).to_have_url(re.compile(r"/book/\?practitioner=daniel-okafor$"))
    expect(chosen_card(page, "practitioner")).to_contain_text("Daniel Okafor")
    page.locator(".booking-card", has_text="Medical-grade facial consultation").click()
    expect(chosen_card(page, "consultation")).to_contain_text("Medical-grade facial consultation")
    expect(chosen_card(page, "practitioner")).to_contain_text("Daniel Okafor")
    slot = fill_booking_form(page)

    expect(page.locator("h1")).to_have_text("Thank you — we have your request")
    booking = ConsultationBooking.objects.get(reference=reference_on(page))
    assert booking.practitioner.slug == "daniel-okafor"
    assert booking.consultation_type.slug == "medical-grade-facial-consultation"
    assert booking.starts_at == parse_slot_value(slot)


def test_client_cancels_from_the_link_in_their_receipt_and_the_time_is_free_again(open_page):
    # With one practitioner named: the other may still be free at that time.
    with_her = f"/book/?practitioner={ESTHETICIAN}"
    page = open_page(with_her)
    # The last time shown: far enough ahead for a client to change it online.
    slot = fill_booking_form(page, slot_index=-1)
    reference = reference_on(page)
    day = parse_slot_value(slot).astimezone(CLINIC_ZONE).date().isoformat()
    page.goto(f"{with_her}&day={day}")
    assert page.locator(f"a.time-list-time[href*='{slot.replace(':', '%3A')}']").count() == 0

    # The client opens the link from their email, in a browser of their own.
    manage = open_page(link_in_email(VISITOR["email"], "/book/manage/"))
    expect(manage.locator(".booking-reference")).to_have_text(reference)
    manage.get_by_role("button", name="Cancel my consultation").click()

    expect(manage.get_by_role("status")).to_contain_text("Your consultation is cancelled")
    booking = ConsultationBooking.objects.get(reference=reference)
    assert booking.status == Status.CANCELLED
    assert booking.emails.filter(kind=OutboundEmail.Kind.CANCELLATION).exists()
    page.goto(f"{with_her}&day={day}")
    expect(page.locator(f"a.time-list-time[href*='{slot.replace(':', '%3A')}']")).to_have_count(1)
    free = bookable_slots(booking.consultation_type, practitioner=booking.practitioner)
    assert parse_slot_value(slot) in {slot.starts_at for slot in free}


def staff_member(django_user_model, username, group=None, **extra):
    user = django_user_model.objects.create_user(
        username, f"{username}@clinic.test", STAFF_PASSWORD, is_staff=True, **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    if second_factor_required(user):
        authenticator_for(user)
    return user


def bookings_link(page):
    """The bookings list's link on the admin's index (the app's heading has the same name)."""
    return page.locator("tr.model-consultationbooking").get_by_role(
        "link", name="Consultation bookings"
    )


def requested_booking():
    kind = ConsultationType.objects.get(treatment__slug=MEDICAL)
    booking, _ = services.book_consultation(
        consultation_type=kind,
        practitioner=Practitioner.objects.get(slug="daniel-okafor"),
        starts_at=bookable_slots(kind)[0].starts_at,
        concerns=[],
        submission_key="staff-journey",
        full_name="Grace Ellery",
        email="grace@example.com",
        phone="+12125550199",
        preferred_contact=ConsultationBooking.ContactMethod.PHONE,
        message="",
        marketing_opt_in=False,
    )
    return booking


@pytest.mark.parametrize("group", [None, "Front desk"], ids=["superuser", "front-desk"])
def test_staff_confirm_a_booking_that_needs_action(open_page, django_user_model, group):
    staff_member(django_user_model, "desk", group, is_superuser=group is None)
    booking = requested_booking()
    page = open_page(None)
    sign_in_to_admin(page, "desk")

    bookings_link(page).click()
    page.get_by_role("link", name="Needs action (requested)").click()
    expect(page).to_have_url(re.compile(r"day=needs_action"))
    row = page.locator("#result_list tbody tr", has_text=booking.reference)
    row.locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option(
        label="Confirm selected bookings (emails the client)"
    )
    page.get_by_role("button", name="Run").click()

    expect(page.locator(".messagelist")).to_contain_text("1 booking(s) now confirmed")
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    assert booking.status_changes.filter(to_status=Status.CONFIRMED).get().changed_by.username == (
        "desk"
    )
    assert booking.emails.filter(kind=OutboundEmail.Kind.CONFIRMATION).exists()


def test_front_desk_cannot_reach_the_content_admin(open_page, django_user_model):
    staff_member(django_user_model, "frontdesk", "Front desk")
    page = open_page(None)
    sign_in_to_admin(page, "frontdesk")

    expect(bookings_link(page)).to_be_visible()
    expect(page.locator("#content-main")).not_to_contain_text("Treatment content")
    expect(page.locator("#content-main")).not_to_contain_text("FAQs")
    for path in ["/admin/treatments/faq/", "/admin/treatments/treatment/"]:
        assert page.goto(path).status == 403


def test_content_editor_changes_an_faq_and_the_public_page_shows_it(open_page, django_user_model):
    staff_member(django_user_model, "editor", "Content editors")
    page = open_page(None)
    sign_in_to_admin(page, "editor")
    assert page.goto("/admin/booking/consultationbooking/").status == 403

    page.goto("/admin/treatments/faq/")
    page.get_by_role("link", name="Do medical-grade facials have downtime?").click()
    page.get_by_label("Answer").fill("Usually none; at most a day of mild redness.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    visitor = open_page("/faqs/")
    expect(visitor.locator("main")).to_contain_text("Usually none; at most a day of mild redness.")
    assert FAQ.objects.filter(answer__startswith="Usually none").count() == 1
