"""
The front desk's day in a real browser: staff book a caller from a free
time on the day sheet, check them in and complete the consultation; the day
sheet passes axe under the admin's real Content-Security-Policy.
"""

from datetime import time

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from booking import services
from booking.models import (
    ConsultationBooking,
    ConsultationType,
    Practitioner,
    TimeOff,
    WorkingHours,
)
from tests.support.booking import make_booking
from tests.support.browser import axe_violations, sign_in_to_admin
from tests.support.two_factor import authenticator_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

Status = ConsultationBooking.Status


@pytest.fixture
def front_desk(django_user_model):
    user = django_user_model.objects.create_user(
        "desk", "desk@clinic.test", "staff-password", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Front desk"))
    authenticator_for(user)
    return user


@pytest.fixture
def working_all_day_today():
    """
    The esthetician works the whole of today, whatever day and hour the test
    runs: her first free time is then today's midnight, already begun, so
    the booking made there can be checked in and completed at once.
    """
    maya = Practitioner.objects.get(slug="maya-chen")
    WorkingHours.objects.filter(practitioner=maya).delete()
    WorkingHours.objects.create(
        practitioner=maya,
        weekday=timezone.localdate().weekday(),
        starts_at=time(0),
        ends_at=time(23, 45),
    )
    return maya


def test_staff_book_a_caller_from_the_day_sheet_check_them_in_and_complete(
    page, front_desk, working_all_day_today
):
    sign_in_to_admin(page, "desk")
    page.get_by_role("link", name="Today's day sheet").click()
    expect(page.locator("table.day-sheet-grid caption")).to_contain_text(
        f"{timezone.localdate():%B}"
    )
    assert axe_violations(page) == []

    # The first free time in the esthetician's column: today, 12:00 AM.
    page.get_by_role("link", name="Book 12:00 AM with Maya Chen").click()
    expect(page.get_by_label("Date")).to_have_value(f"{timezone.localdate():%Y-%m-%d}")
    expect(page.get_by_label("Time (clinic time)")).to_have_value("00:00")
    page.get_by_label("Full name").fill("Caller Onthephone")
    page.get_by_label("Email address").fill("caller@example.com")
    page.get_by_label("Phone number").fill("(212) 555-0199")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Booked")

    booking = ConsultationBooking.objects.get(email="caller@example.com")
    assert booking.practitioner == working_all_day_today
    assert booking.consent_taken_by == front_desk
    assert booking.status == Status.REQUESTED

    page.goto("/admin/booking/consultationbooking/day/")
    block = page.locator("article.day-sheet-booking", has_text="Caller Onthephone")
    expect(block).to_contain_text("New client")
    block.get_by_role("button", name=f"Check in {booking.reference}").click()
    expect(page.locator(".messagelist")).to_contain_text("checked in")
    block = page.locator("article.day-sheet-booking", has_text="Caller Onthephone")
    expect(block).to_contain_text("Checked in")
    assert axe_violations(page) == []

    block.get_by_role("button", name=f"Complete {booking.reference}").click()
    expect(page.locator(".messagelist")).to_contain_text("completed")
    booking.refresh_from_db()
    assert booking.status == Status.COMPLETED
    assert [change.to_status for change in booking.status_changes.all()] == [
        Status.REQUESTED,
        Status.ARRIVED,
        Status.COMPLETED,
    ]


def test_a_busy_day_on_the_sheet_is_accessible(page, front_desk):
    """
    A weekday ahead with bookings of several kinds and statuses, time off.
    (scripts/screenshots.py takes the README's picture of the same day.)
    """
    day = timezone.localdate() + timezone.timedelta(days=1)
    while day.weekday() > 4:
        day += timezone.timedelta(days=1)
    zone = timezone.get_current_timezone()
    maya = Practitioner.objects.get(slug="maya-chen")
    daniel = Practitioner.objects.get(slug="daniel-okafor")
    medical = ConsultationType.objects.get(slug="medical-grade-facial-consultation")
    facial = ConsultationType.objects.get(slug="professional-facial-consultation")

    def at(hour, minute=0):
        return timezone.datetime.combine(day, time(hour, minute), tzinfo=zone)

    make_booking(starts_at=at(9), practitioner=maya, consultation_type=facial, full_name="Ana Ruiz")
    confirmed = make_booking(
        starts_at=at(10),
        practitioner=daniel,
        consultation_type=medical,
        full_name="Ben Okoro",
        message="Sensitive skin",
        attendance_confirmed_at=timezone.now(),
    )
    services.change_status(confirmed, Status.CONFIRMED)
    make_booking(starts_at=at(11, 15), practitioner=maya, full_name="Cleo Marsh")
    TimeOff.objects.create(practitioner=maya, starts_at=at(13), ends_at=at(15), reason="Training")

    sign_in_to_admin(page, "desk")
    page.goto(f"/admin/booking/consultationbooking/day/?date={day:%Y-%m-%d}")
    expect(page.locator("article.day-sheet-booking")).to_have_count(3)
    assert axe_violations(page) == []
