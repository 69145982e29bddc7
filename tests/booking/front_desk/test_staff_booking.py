"""
The front desk books callers and moves bookings from the admin: the same
service, availability and no-overlap rule as the public site, with staff's
freedom from minimum notice and horizon, and a clear message for every
refusal.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from booking import services
from booking.models import BookingStatusChange, ConsultationBooking, OutboundEmail, Practitioner
from tests.support.booking import (
    ASSESSMENT,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    VISITOR,
    VISITOR_PHONE_E164,
    book,
    clinic_clock,
    clinic_time,
    make_booking,
    page,
    practitioner,
    set_type,
)
from tests.support.html import form_data
from tests.support.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db
Status = ConsultationBooking.Status
Kind = OutboundEmail.Kind

BOOK_CALLER = reverse("admin:booking_book_caller")
# The clinic's clock in these tests: Monday 1 March 2027, 8:00, an hour
# before the first consultation and well inside the online minimum notice.
NOW = clinic_time(2027, 3, 1, 8)


@pytest.fixture(autouse=True)
def clock():
    # Autouse fixtures come first, so the staff sign in on the same clock.
    with clinic_clock(NOW) as now:
        yield now


@pytest.fixture
def member(client, django_user_model):
    """A staff client signed in as a member of the named group."""

    def sign_in(group):
        user = django_user_model.objects.create_user(
            group.lower().replace(" ", "-"), password="pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        sign_in_verified(client, user)
        return client

    return sign_in


def move_url(booking):
    return reverse("admin:booking_move", args=[booking.pk])


def change_url(booking):
    return reverse("admin:booking_consultationbooking_change", args=[booking.pk])


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def errors_of(response):
    """The error summary's lines, as the page shows them."""
    summary = page(response).find(class_="error-summary")
    return [] if summary is None else [item.text for item in summary.find_all("li")]


def free_times_shown(response):
    return [button.attrs["value"] for button in page(response).find_all("button", name="pick_time")]


def caller_form(client, query=None, **answers):
    """The book-a-caller page as shown, filled in with a caller's details and `answers`."""
    response = client.get(BOOK_CALLER, query or {})
    assert response.status_code == 200
    data = form_data(page(response).find("form", id="book-caller-form"))
    data |= {**VISITOR, "message": "Prefers mornings."} | answers
    return {name: value for name, value in data.items() if value is not None}


def post_caller(client, query=None, **answers):
    return client.post(BOOK_CALLER, caller_form(client, query, **answers))


# Booking a caller.


def test_staff_book_a_caller_at_short_notice_and_land_on_the_booking(admin_client, admin_user):
    # 9:00 today is an hour away: online, minimum notice (12 hours) rules it out.
    response = post_caller(
        admin_client,
        {"practitioner": ESTHETICIAN, "date": "2027-03-01", "time": "09:00"},
        internal_notes="Referred by Dr Osei.",
        concerns=["acne-scars", "congestion"],
    )

    booking = ConsultationBooking.objects.get()
    assert response.status_code == 302
    assert response.url == change_url(booking)
    assert booking.starts_at == clinic_time(2027, 3, 1, 9)
    assert booking.practitioner.slug == ESTHETICIAN
    assert booking.consultation_type.slug == ASSESSMENT
    assert booking.full_name == VISITOR["full_name"]
    assert str(booking.phone) == VISITOR_PHONE_E164
    assert booking.message == "Prefers mornings."
    assert booking.internal_notes == "Referred by Dr Osei."
    assert booking.preferred_contact == ConsultationBooking.ContactMethod.PHONE
    assert sorted(booking.concerns.values_list("slug", flat=True)) == ["acne-scars", "congestion"]
    # Consent taken by phone, by the staff member; the history says so.
    assert booking.consent_taken_by == admin_user
    [change] = BookingStatusChange.objects.filter(booking=booking)
    assert (change.changed_by, change.note) == (admin_user, "Booked by phone")
    # The client's receipt, and no new-booking alert to the clinic that booked it.
    assert list(booking.emails.values_list("kind", flat=True)) == [Kind.RECEIPT]
    [message] = messages_of(admin_client.get(response.url))
    assert message.startswith(f"Booked {booking.reference}: Skin assessment with Maya Chen")
    assert f"receipt is on its way to {VISITOR['email']}" in message


def test_unticking_the_receipt_books_without_emailing_the_client(admin_client):
    data = caller_form(admin_client, {"date": "2027-03-02", "time": "10:00"})
    assert data.pop("send_receipt") == "on"  # Ticked by default.

    response = admin_client.post(BOOK_CALLER, data, follow=True)

    booking = ConsultationBooking.objects.get()
    assert not booking.emails.exists()
    assert "No receipt was sent." in messages_of(response)[0]


def test_any_practitioner_books_whoever_is_free(admin_client):
    make_booking(starts_at=clinic_time(2027, 3, 2, 10), practitioner=practitioner(ESTHETICIAN))

    response = post_caller(admin_client, {"date": "2027-03-02", "time": "10:00"}, practitioner="")

    assert response.status_code == 302
    booking = ConsultationBooking.objects.latest("created_at")
    assert booking.practitioner.slug == NURSE_PRACTITIONER


def test_staff_may_book_a_type_and_a_person_the_public_cannot(admin_client):
    set_type(PROFESSIONAL_CONSULTATION, bookable_online=False)
    Practitioner.objects.filter(slug=ESTHETICIAN).update(takes_online_bookings=False)

    response = post_caller(
        admin_client,
        {"practitioner": ESTHETICIAN, "date": "2027-03-03", "time": "11:30"},
        consultation_type=PROFESSIONAL_CONSULTATION,
    )

    assert response.status_code == 302
    booking = ConsultationBooking.objects.get()
    assert booking.consultation_type.slug == PROFESSIONAL_CONSULTATION
    assert booking.practitioner.slug == ESTHETICIAN


def test_the_day_sheets_link_fills_in_the_person_date_and_time(admin_client):
    response = admin_client.get(
        BOOK_CALLER, {"practitioner": NURSE_PRACTITIONER, "date": "2027-03-04", "time": "14:15"}
    )

    form = page(response).find("form", id="book-caller-form")
    data = form_data(form)
    assert data["practitioner"] == NURSE_PRACTITIONER
    assert data["date"] == "2027-03-04"
    assert data["time"] == "14:15"
    assert data["consultation_type"] == ASSESSMENT  # The first type they take.
    assert data["send_receipt"] == "on"
    # That day's free times, each a button that fills in the time.
    assert "14:15" in free_times_shown(response)
    assert "Free times on Thursday 4 March 2027" in form.text


def test_a_link_with_an_unknown_practitioner_says_so_instead_of_picking_anyone(admin_client):
    Practitioner.objects.filter(slug=ESTHETICIAN).update(is_active=False)

    response = admin_client.get(BOOK_CALLER, {"practitioner": ESTHETICIAN, "date": "nonsense"})

    assert response.status_code == 200
    assert messages_of(response) == [
        "No active practitioner “maya-chen”: choose one below.",
        "“nonsense” is not a date like 2026-12-01: choose one below.",
    ]


def test_show_free_times_keeps_what_was_typed_and_books_nothing(admin_client):
    make_booking(starts_at=clinic_time(2027, 3, 2, 10), practitioner=practitioner(ESTHETICIAN))
    data = caller_form(admin_client, practitioner=ESTHETICIAN, date="2027-03-02", time="")

    response = admin_client.post(BOOK_CALLER, data | {"show_times": "1"})

    assert response.status_code == 200
    assert not ConsultationBooking.objects.exclude(full_name__startswith="Client").exists()
    assert errors_of(response) == []
    shown = form_data(page(response).find("form", id="book-caller-form"))
    assert shown["full_name"] == VISITOR["full_name"]
    assert shown["submission_key"] == data["submission_key"]
    free = free_times_shown(response)
    # 10:00 is taken, and so is 9:30: its 30 minutes and 10 of turnover reach 10:10.
    assert {"09:00", "09:15", "10:45"} <= set(free)
    assert not {"09:30", "10:00", "10:30"} & set(free)

    picked = admin_client.post(BOOK_CALLER, data | {"pick_time": "10:45"})
    assert form_data(page(picked).find("form", id="book-caller-form"))["time"] == "10:45"
    assert admin_client.post(BOOK_CALLER, data | {"time": "10:45"}).status_code == 302
    assert ConsultationBooking.objects.count() == 2


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        pytest.param(
            {"time": "09:07"},
            "Skin assessment starts every 15 minutes, counted from midnight: "
            "choose 9:00 AM or 9:15 AM instead of 9:07 AM.",
            id="off the grid",
        ),
        pytest.param(
            {"practitioner": "nobody-here"},
            "That practitioner is unknown or no longer active. "
            "Choose one from the list, or any practitioner.",
            id="unknown practitioner",
        ),
        pytest.param(
            {"consultation_type": MEDICAL_CONSULTATION},
            "Maya Chen does not take “Medical-grade facial consultation”. "
            "Choose someone who does, or any practitioner.",
            id="practitioner who does not hold the type",
        ),
        pytest.param(
            # The clocks go from 2:00 to 3:00 on Sunday 14 March 2027.
            {"date": "2027-03-14", "time": "02:30"},
            "2:30 AM does not exist on Sunday 14 March 2027: the clocks go forward that night. "
            "Choose another time.",
            id="time the clocks skip",
        ),
        pytest.param(
            {"date": "2027-02-30", "time": "25:00"},
            "Enter a date like 2026-12-01.",
            id="no such date",
        ),
        pytest.param({"time": "9.30am"}, "Enter a time like 14:30.", id="not a time"),
        pytest.param(
            {"date": "9999-12-31", "time": "23:45"},
            "Choose a date within a year of today.",
            id="the end of the calendar",
        ),
        pytest.param(
            {"consultation_type": "massage"},
            "That consultation is not on the list.",
            id="unknown type",
        ),
    ],
)
def test_a_time_or_person_that_cannot_be_booked_shows_the_form_again_with_the_reason(
    admin_client, answers, error
):
    data = caller_form(
        admin_client, {"practitioner": ESTHETICIAN, "date": "2027-03-02", "time": "09:00"}
    )

    response = admin_client.post(BOOK_CALLER, data | answers)

    assert response.status_code == 200
    assert any(line.startswith(error) for line in errors_of(response)), errors_of(response)
    assert not ConsultationBooking.objects.exists()
    # What was typed is still there.
    assert (
        form_data(page(response).find("form", id="book-caller-form"))["email"] == VISITOR["email"]
    )


def test_an_inactive_practitioner_cannot_be_booked(admin_client):
    data = caller_form(
        admin_client, {"practitioner": ESTHETICIAN, "date": "2027-03-02", "time": "09:00"}
    )
    Practitioner.objects.filter(slug=ESTHETICIAN).update(is_active=False)

    response = admin_client.post(BOOK_CALLER, data)

    assert response.status_code == 200
    assert errors_of(response) == [
        "That practitioner is unknown or no longer active. "
        "Choose one from the list, or any practitioner."
    ]
    assert not ConsultationBooking.objects.exists()


@pytest.mark.every_database
def test_a_taken_time_is_refused_with_a_clear_message(admin_client):
    taken = make_booking(
        starts_at=clinic_time(2027, 3, 2, 9), practitioner=practitioner(ESTHETICIAN)
    )

    # 9:15 overlaps the 9:00 consultation; staff are never allowed an overlap.
    response = post_caller(
        admin_client, {"practitioner": ESTHETICIAN, "date": "2027-03-02", "time": "09:15"}
    )

    assert response.status_code == 200
    assert errors_of(response) == [
        "That time is not free for Maya Chen: a booking, time off, a closure or working hours "
        "rule it out. Choose one of the free times listed."
    ]
    assert list(ConsultationBooking.objects.all()) == [taken]


def test_a_time_outside_working_hours_is_refused(admin_client):
    response = post_caller(admin_client, {"date": "2027-03-02", "time": "18:00"}, practitioner="")

    assert response.status_code == 200
    assert errors_of(response)[0].startswith("That time is not free for any practitioner")
    assert not ConsultationBooking.objects.exists()


@pytest.mark.every_database
def test_a_form_sent_twice_books_once(admin_client):
    data = caller_form(admin_client, {"date": "2027-03-02", "time": "10:00"}, practitioner="")

    first = admin_client.post(BOOK_CALLER, data, follow=True)
    second = admin_client.post(BOOK_CALLER, data, follow=True)

    booking = ConsultationBooking.objects.get()
    assert first.redirect_chain[0][0] == change_url(booking)
    assert messages_of(first)[0].startswith(f"Booked {booking.reference}")
    assert second.redirect_chain[0][0] == change_url(booking)
    assert messages_of(second) == [
        f"This form was sent already: here is the booking it made, {booking.reference}."
    ]


def test_front_desk_can_book_a_caller(member):
    client = member("Front desk")

    response = post_caller(client, {"date": "2027-03-02", "time": "10:00"})

    assert response.status_code == 302
    assert ConsultationBooking.objects.get().consent_taken_by.username == "front-desk"


def test_staff_without_the_add_permission_get_403(member, client, django_user_model):
    # Content editors see no bookings at all; a viewer sees them but may not add.
    content_editor = member("Content editors")
    assert content_editor.get(BOOK_CALLER).status_code == 403

    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_consultationbooking"))
    client.force_login(viewer)
    assert client.get(BOOK_CALLER).status_code == 403
    assert client.post(BOOK_CALLER, {"date": "2027-03-02"}).status_code == 403
    changelist = client.get(reverse("admin:booking_consultationbooking_changelist"))
    assert page(changelist).find("a", href=BOOK_CALLER) is None


def test_the_booking_list_links_to_the_day_sheet_booking_a_caller_and_the_report(admin_client):
    document = page(admin_client.get(reverse("admin:booking_consultationbooking_changelist")))

    tools = document.find("ul", class_="object-tools")
    links = {link.text: link.attrs["href"] for link in tools.find_all("a")}
    assert links == {
        "Day sheet": reverse("admin:booking_day_sheet"),
        "Book a caller": BOOK_CALLER,
        "Report": reverse("admin:booking_report"),
    }


# Moving a booking.


@pytest.fixture
def booking():
    """A confirmed skin assessment with Maya Chen on Tuesday 2 March at 10:00."""
    booking = book(clinic_time(2027, 3, 2, 10), practitioner=practitioner(ESTHETICIAN))
    return services.change_status(booking, Status.CONFIRMED)


def move_form(client, booking, **answers):
    response = client.get(move_url(booking))
    assert response.status_code == 200
    return form_data(page(response).find("form", id="move-booking-form")) | answers


def test_the_booking_page_links_to_moving_it_while_it_can_move(admin_client, booking):
    def move_link():
        return page(admin_client.get(change_url(booking))).find("a", href=move_url(booking))

    assert move_link().text == "Move"
    services.change_status(booking, Status.CANCELLED)
    assert move_link() is None


def test_staff_move_a_booking_and_the_client_is_emailed_the_new_time(
    admin_client, admin_user, booking, django_capture_on_commit_callbacks, mailoutbox
):
    data = move_form(admin_client, booking, date="2027-03-03", time="14:30")
    assert data["seen_starts_at"] == booking.starts_at.isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(move_url(booking), data)

    assert response.status_code == 302
    assert response.url == change_url(booking)
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 3, 14, 30)
    assert booking.practitioner.slug == ESTHETICIAN
    assert booking.status == Status.CONFIRMED
    change = booking.status_changes.last()
    assert (change.changed_by, change.note) == (admin_user, "Moved from 2027-03-02 10:00 EST")
    [rescheduled] = [message for message in mailoutbox if message.to == [booking.email]]
    assert "Wednesday 3 March 2027, 2:30 PM" in rescheduled.body
    [(filename, calendar, _)] = rescheduled.attachments
    assert filename.endswith(".ics")
    assert "DTSTART;TZID=America/New_York:20270303T143000" in calendar
    [message] = messages_of(admin_client.get(response.url))
    assert message.startswith(f"Moved {booking.reference} to Wednesday 3 March 2027, 2:30 PM EST")


def test_staff_may_move_a_booking_to_short_notice_and_to_another_practitioner(
    admin_client, booking
):
    data = move_form(
        admin_client, booking, practitioner=NURSE_PRACTITIONER, date="2027-03-01", time="09:00"
    )

    response = admin_client.post(move_url(booking), data)

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 1, 9)
    assert booking.practitioner.slug == NURSE_PRACTITIONER


def test_moving_to_any_practitioner_keeps_the_same_one_when_free(admin_client, booking):
    data = move_form(admin_client, booking, practitioner="any", time="11:00")

    assert admin_client.post(move_url(booking), data).status_code == 302

    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 2, 11)
    assert booking.practitioner.slug == ESTHETICIAN


def test_moving_into_a_taken_time_shows_the_reason_and_changes_nothing(admin_client, booking):
    make_booking(starts_at=clinic_time(2027, 3, 2, 14), practitioner=practitioner(ESTHETICIAN))
    data = move_form(admin_client, booking, time="14:15")

    response = admin_client.post(move_url(booking), data)

    assert response.status_code == 200
    assert errors_of(response) == [
        "That time is not free for Maya Chen: a booking, time off, a closure or working hours "
        "rule it out. Choose one of the free times listed."
    ]
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 2, 10)
    assert not booking.emails.filter(kind=Kind.RESCHEDULED).exists()


def test_a_booking_moved_meanwhile_is_not_moved_again_from_a_stale_form(admin_client, booking):
    stale = move_form(admin_client, booking, time="15:00")
    services.move_booking(booking, clinic_time(2027, 3, 2, 11), for_staff=True)

    response = admin_client.post(move_url(booking), stale)

    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith(f"Booking {booking.reference} was changed meanwhile")
    assert message.endswith("It is now Tuesday 2 March 2027, 11:00 AM EST with Maya Chen.")
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 2, 11)
    # The form again, now carrying the time the booking has, with the new choice kept.
    shown = form_data(page(response).find("form", id="move-booking-form"))
    assert shown["seen_starts_at"] == booking.starts_at.isoformat()
    assert shown["time"] == "15:00"
    assert admin_client.post(move_url(booking), shown).status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 2, 15)


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.DECLINED])
def test_a_booking_no_longer_active_cannot_be_moved(admin_client, status):
    booking = book(clinic_time(2027, 3, 2, 10), practitioner=practitioner(ESTHETICIAN))
    data = move_form(admin_client, booking, time="15:00")
    services.change_status(booking, status)

    posted = admin_client.post(move_url(booking), data)
    shown = admin_client.get(move_url(booking))

    for response in (posted, shown):
        assert response.status_code == 200
        assert messages_of(response) == [
            f"Booking {booking.reference} is {status.label.lower()}: only requested or "
            "confirmed bookings can be moved."
        ]
        assert page(response).find("form", id="move-booking-form") is None
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 2, 10)


def test_moving_to_the_same_time_changes_and_sends_nothing(admin_client, booking):
    data = move_form(admin_client, booking)

    response = admin_client.post(move_url(booking), data, follow=True)

    assert messages_of(response) == [
        f"{booking.reference} is already at that time: nothing was changed."
    ]
    assert not booking.emails.filter(kind=Kind.RESCHEDULED).exists()


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({"time": "10:05"}, "Skin assessment starts every 15 minutes"),
        ({"practitioner": "nobody-here"}, "That practitioner is not on the list"),
        ({"date": "2027-03-14", "time": "02:00"}, "2:00 AM does not exist on Sunday 14 March 2027"),
        ({"seen_starts_at": "yesterday"}, "This form could not be checked."),
        ({"date": "9999-12-31", "time": "23:45"}, "Choose a date within a year of today."),
    ],
    ids=[
        "off the grid",
        "unknown practitioner",
        "time the clocks skip",
        "garbled seen time",
        "the end of the calendar",
    ],
)
def test_a_move_form_that_does_not_check_out_shows_the_reason(
    admin_client, booking, answers, error
):
    data = move_form(admin_client, booking, date="2027-03-03", time="14:30") | answers

    response = admin_client.post(move_url(booking), data)

    assert response.status_code == 200
    assert any(line.startswith(error) for line in errors_of(response)), errors_of(response)
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 2, 10)


def test_moving_a_booking_needs_the_change_permission(client, django_user_model, booking):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_consultationbooking"))
    client.force_login(viewer)

    assert client.get(move_url(booking)).status_code == 403
    assert client.post(move_url(booking), {"time": "15:00"}).status_code == 403
    assert page(client.get(change_url(booking))).find("a", href=move_url(booking)) is None


def test_front_desk_can_move_a_booking(member, booking):
    client = member("Front desk")
    data = move_form(client, booking, date="2027-03-05", time="09:45")

    assert client.post(move_url(booking), data).status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 3, 5, 9, 45)


def test_moving_a_booking_that_does_not_exist_goes_back_with_a_message(admin_client):
    response = admin_client.get(reverse("admin:booking_move", args=[999999]), follow=True)

    assert response.status_code == 200
    assert "doesn’t exist" in messages_of(response)[0]


def test_the_move_page_lists_the_bookings_own_time_as_free_and_others_as_taken(
    admin_client, booking
):
    make_booking(starts_at=clinic_time(2027, 3, 2, 14), practitioner=practitioner(ESTHETICIAN))

    free = free_times_shown(admin_client.get(move_url(booking)))

    assert "10:00" in free
    assert "14:00" not in free
    assert "13:45" not in free  # Its 30 minutes and 10 of turnover reach 14:25.
