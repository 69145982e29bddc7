"""
The "My visits" page: every visit of the signed-in address and nobody
else's; move, cancel and "Confirm I'm coming" through the manage link's own
services and cut-off; a visit staff changed while the page was open is
refused as changed meanwhile; aftercare, "Book again", the waitlist, the
client's own health answers (read only) and the marketing choice.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.models import (
    ConsultationBooking,
    MarketingChoice,
    OutboundEmail,
    WaitlistEntry,
)
from booking.services import my_visits, schedule
from booking.signed_links import unsubscribe_token
from tests.support.booking import (
    ESTHETICIAN,
    Status,
    book,
    clinic_clock,
    main_text,
    move_into_the_past,
    page,
    set_type,
)
from tests.support.my_visits import MY_VISITS, sign_in_as
from tests.support.screening import book_with_answers, key, publish_example
from tests.support.waitlist import make_entry

pytestmark = pytest.mark.django_db

ADA = "ada.quinterra@example.com"
CHANGED_MEANWHILE = "This visit was changed meanwhile"


@pytest.fixture
def visit():
    return book(email=ADA)


@pytest.fixture
def ada(client, visit):
    return sign_in_as(client, ADA)


def visit_url(visit, action=""):
    return f"/my-visits/visit/{visit.reference}/{action}"


def free_times(visit):
    return schedule.bookable_slots(visit.consultation_type, practitioner=visit.practitioner)


def cancel(client, visit, **seen):
    data = {
        "action": "cancel",
        "seen_status": visit.status,
        "seen_starts_at": visit.starts_at.isoformat(),
    } | seen
    return client.post(visit_url(visit), data, follow=True)


def test_upcoming_visits_show_type_practitioner_clinic_time_with_zone_and_status(ada, visit):
    document = page(ada.get(MY_VISITS))
    card = document.find(id=f"visit-{visit.reference}").parent.parent
    text = card.text
    assert visit.consultation_type.name in text
    assert visit.practitioner.name in text
    local = timezone.localtime(visit.starts_at)
    assert f"{local:%-I:%M %p} ({local:%Z}, clinic time)" in text
    assert "Requested" in text
    assert "sharing" in main_text(document) or "share it with someone" in main_text(document)


def test_the_page_shows_only_the_addresss_own_visits(ada, visit):
    stranger = book(email="bo.other@example.com", full_name="Bo Otherperson")
    text = main_text(page(ada.get(MY_VISITS)))
    assert visit.reference in text
    assert stranger.reference not in text and "Bo Otherperson" not in text


def test_another_addresss_visit_cannot_be_touched_from_the_page(ada, visit):
    stranger = book(email="bo.other@example.com")
    assert cancel(ada, stranger).status_code == 404
    assert ada.get(visit_url(stranger, "move/")).status_code == 404
    assert ada.get(visit_url(stranger, "calendar.ics")).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == Status.REQUESTED


def test_a_signed_out_browser_is_sent_to_the_sign_in_form(client, visit):
    response = cancel(client, visit)
    assert "Your sign-in has ended" in main_text(page(response))
    visit.refresh_from_db()
    assert visit.status == Status.REQUESTED


def test_cancel_uses_the_manage_links_service_and_emails(ada, visit):
    response = cancel(ada, visit)
    assert "is cancelled" in main_text(page(response))
    visit.refresh_from_db()
    assert visit.status == Status.CANCELLED
    assert set(visit.emails.values_list("kind", flat=True)) >= {
        OutboundEmail.Kind.CANCELLATION,
        OutboundEmail.Kind.CLIENT_CHANGE,
    }
    change = visit.status_changes.last()
    assert change.changed_by_client and change.note == "Cancelled online (My visits)"


def test_cancel_after_the_cut_off_is_refused_with_the_phone_number(ada, visit):
    with clinic_clock(visit.starts_at - timedelta(hours=2)):
        response = cancel(ada, visit)
    assert "can no longer be changed online" in main_text(page(response))
    visit.refresh_from_db()
    assert visit.status == Status.REQUESTED


def test_cancel_of_a_visit_staff_moved_meanwhile_is_refused(ada, visit, admin_user):
    seen = {"seen_status": visit.status, "seen_starts_at": visit.starts_at.isoformat()}
    new = free_times(visit)[6]
    services.move_booking(visit, new.starts_at, by=admin_user, for_staff=True)
    response = cancel(ada, visit, **seen)
    assert CHANGED_MEANWHILE in main_text(page(response))
    visit.refresh_from_db()
    assert visit.status == Status.REQUESTED and visit.starts_at == new.starts_at


def test_cancel_of_a_visit_staff_confirmed_meanwhile_is_refused(ada, visit, admin_user):
    seen = {"seen_status": visit.status, "seen_starts_at": visit.starts_at.isoformat()}
    services.change_status(visit, Status.CONFIRMED, by=admin_user)
    response = cancel(ada, visit, **seen)
    assert CHANGED_MEANWHILE in main_text(page(response))
    visit.refresh_from_db()
    assert visit.status == Status.CONFIRMED


@pytest.mark.parametrize("seen_starts_at", ["", "not a time", "9999-99-99T99:99"])
def test_a_tampered_cancel_form_changes_nothing(ada, visit, seen_starts_at):
    response = cancel(ada, visit, seen_starts_at=seen_starts_at)
    assert response.status_code == 200
    visit.refresh_from_db()
    assert visit.status == Status.REQUESTED


def test_move_takes_a_new_time_with_the_same_service(ada, visit):
    move_page = page(ada.get(visit_url(visit, "move/")))
    assert move_page.find("input", name="seen_starts_at") is not None
    new = free_times(visit)[5]
    response = ada.post(
        visit_url(visit, "move/"),
        {"with": "same", "slot": new.value, "seen_starts_at": visit.starts_at.isoformat()},
        follow=True,
    )
    assert "Your consultation has moved." in main_text(page(response))
    visit.refresh_from_db()
    assert visit.starts_at == new.starts_at
    assert visit.practitioner.slug == ESTHETICIAN
    assert visit.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).count() == 1


def test_a_move_of_a_visit_staff_moved_while_the_page_was_open_is_refused(ada, visit, admin_user):
    seen = visit.starts_at.isoformat()
    times = free_times(visit)
    services.move_booking(visit, times[8].starts_at, by=admin_user, for_staff=True)
    response = ada.post(
        visit_url(visit, "move/"),
        {"with": "same", "slot": times[4].value, "seen_starts_at": seen},
        follow=True,
    )
    assert CHANGED_MEANWHILE in main_text(page(response))
    visit.refresh_from_db()
    assert visit.starts_at == times[8].starts_at


def test_a_move_to_a_time_taken_meanwhile_is_refused_by_the_database_rule(ada, visit):
    taken = free_times(visit)[3]
    book(taken.starts_at, practitioner=visit.practitioner, email="bo.other@example.com")
    response = ada.post(
        visit_url(visit, "move/"),
        {"with": "same", "slot": taken.value, "seen_starts_at": visit.starts_at.isoformat()},
    )
    assert response.status_code == 200
    assert "no longer available" in main_text(page(response))
    visit.refresh_from_db()
    assert visit.starts_at != taken.starts_at


def test_the_move_page_is_closed_after_the_cut_off(ada, visit):
    with clinic_clock(visit.starts_at - timedelta(hours=2)):
        response = ada.get(visit_url(visit, "move/"), follow=True)
    assert "can no longer be changed online" in main_text(page(response))


def test_the_calendar_file_is_the_visits(ada, visit):
    response = ada.get(visit_url(visit, "calendar.ics"))
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert f"consultation-{visit.reference}@" in body
    assert "BEGIN:VEVENT" in body


def test_confirm_im_coming_is_offered_and_recorded(ada, visit):
    document = page(ada.get(MY_VISITS))
    assert "Confirm I'm coming" in main_text(document)
    ada.post(visit_url(visit), {"action": "confirm_attendance"})
    visit.refresh_from_db()
    assert visit.attendance_confirmed_at is not None
    assert "you confirmed you are coming" in main_text(page(ada.get(MY_VISITS)))


def test_an_unknown_action_changes_nothing(ada, visit):
    response = ada.post(visit_url(visit), {"action": "delete_everything"}, follow=True)
    assert "Please use the buttons" in main_text(page(response))
    visit.refresh_from_db()
    assert visit.status == Status.REQUESTED


def test_past_visits_offer_book_again_and_show_aftercare_of_completed_ones(client):
    set_type(
        aftercare_text="Keep your skin out of the sun for a week.", care_texts_need_review=False
    )
    done = book(email=ADA)
    services.change_status(done, Status.CONFIRMED)
    move_into_the_past(done)
    services.change_status(done, Status.COMPLETED)
    cancelled = book(email=ADA)
    services.change_status(cancelled, Status.CANCELLED)
    sign_in_as(client, ADA)
    document = page(client.get(MY_VISITS))
    earlier = document.find(id="earlier").parent
    assert "Keep your skin out of the sun for a week." in earlier.text
    assert earlier.text.count("Aftercare") == 1
    again = [link.attrs["href"] for link in earlier.find_all("a") if "Book again" in link.text]
    assert (
        f"/book/?type={done.consultation_type.slug}&practitioner={done.practitioner.slug}" in again
    )


def test_waitlist_entries_are_listed_and_can_be_left(ada, visit):
    entry = make_entry(email="ADA.quinterra@example.com")
    other = make_entry(2, email="bo.other@example.com")
    text = main_text(page(ada.get(MY_VISITS)))
    assert entry.consultation_type.name in text
    response = ada.post(f"/my-visits/waitlist/{entry.pk}/leave/", follow=True)
    assert "You are off the waitlist" in main_text(page(response))
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert ada.post(f"/my-visits/waitlist/{other.pk}/leave/").status_code == 404
    other.refresh_from_db()
    assert other.status == WaitlistEntry.Status.WAITING


def test_the_clients_own_health_answers_are_shown_read_only(client):
    version = publish_example()
    allergies = "Do you have any known allergies? If so, which?"
    mine = book_with_answers(version, {key(version, allergies): "Latex-4471"})
    ConsultationBooking.objects.filter(pk=mine.pk).update(email=ADA)
    theirs = book_with_answers(version, {key(version, allergies): "Peanuts-9913"})
    sign_in_as(client, ADA)
    document = page(client.get(MY_VISITS))
    section = document.find(id="health-forms").parent
    assert "Latex-4471" in section.text and allergies in section.text
    assert "Peanuts-9913" not in document.text
    assert section.find("input") is None and section.find("textarea") is None
    assert theirs.reference not in document.text


def test_marketing_emails_can_be_turned_off_and_on(ada, visit):
    ConsultationBooking.objects.filter(pk=visit.pk).update(marketing_opt_in=True)
    assert "News and offers are on" in main_text(page(ada.get(MY_VISITS)))
    ada.post("/my-visits/preferences/", {})
    visit.refresh_from_db()
    assert visit.marketing_opt_in is False
    assert "News and offers are off" in main_text(page(ada.get(MY_VISITS)))
    ada.post("/my-visits/preferences/", {"marketing_emails": "on"})
    visit.refresh_from_db()
    assert visit.marketing_opt_in is True
    assert list(MarketingChoice.objects.values_list("marketing_emails", "source")) == [
        (True, "my_visits"),
        (False, "my_visits"),
    ]


def test_a_marketing_email_carries_one_click_unsubscribe_that_works_without_signing_in(visit):
    ConsultationBooking.objects.filter(pk=visit.pk).update(marketing_opt_in=True)
    message = my_visits.marketing_email(to=ADA, subject="News", body="Our spring offers.")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = url.split("://", 1)[1].split("/", 1)[1]
    # The mail provider's POST: no cookie, no CSRF token.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    visit.refresh_from_db()
    assert visit.marketing_opt_in is False
    assert MarketingChoice.objects.get().source == "unsubscribe"


def test_a_tampered_unsubscribe_link_is_a_404(client, visit):
    token = unsubscribe_token(ADA)
    assert client.post(f"/unsubscribe/{token[:-2]}xx/").status_code == 404
    assert client.get("/unsubscribe/nonsense/").status_code == 404


def test_transactional_emails_do_not_depend_on_the_marketing_choice(
    ada, visit, django_capture_on_commit_callbacks
):
    my_visits.set_marketing_emails(email=ADA, wanted=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(visit, Status.CONFIRMED)
    assert [message.to for message in mail.outbox] == [[ADA]]
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers


def test_an_address_with_no_bookings_sees_an_empty_page_not_an_error(client):
    sign_in_as(client, "nobody.here@example.com")
    response = client.get(MY_VISITS)
    assert response.status_code == 200
    assert "No consultations coming up" in main_text(page(response))


@pytest.mark.every_database
def test_the_page_costs_the_same_queries_however_many_visits(client, django_assert_num_queries):
    book(email=ADA)
    sign_in_as(client, ADA)
    client.get(MY_VISITS)  # warm: the rules and the session's first read
    with CaptureQueriesContext(connection) as first:
        client.get(MY_VISITS)
    assert len(first.captured_queries) <= 6
    for _ in range(3):
        visit = book(email=ADA)
        services.change_status(visit, Status.CONFIRMED)
    make_entry(email=ADA)
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(MY_VISITS)
    assert main_text(page(response)).count("Confirm I'm coming") == 4
