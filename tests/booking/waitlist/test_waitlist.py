"""
The waitlist: joining (with the booking form's protections), leaving by the
signed link, offers made once from each freed time, claims through the
booking service (first claim wins), and the rules that keep offers honest:
never the same time twice, never inside minimum notice, never to someone
who has booked or whose dates have passed.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking import services
from booking.forms.waitlist import ENTRIES_PER_EMAIL
from booking.models import (
    BookingRules,
    ConsultationBooking,
    FreedTime,
    OutboundEmail,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services import waitlist
from booking.services.emails import queue_waitlist_email
from booking.services.offers import note_freed_time, offer_freed_time
from booking.services.schedule import bookable_slots
from booking.signed_links import entry_pk_from_token, offer_pk_from_token
from tests.support.booking import (
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    VISITOR,
    VISITOR_PHONE_E164,
    Status,
    book,
    consultation_type,
    main_text,
    make_consultation_type,
    only_practitioners,
    page,
    practitioner,
    utc,
)
from tests.support.html import form_data
from tests.support.waitlist import ALL_PARTS, make_entry

pytestmark = pytest.mark.django_db

JOIN_URL = "/waitlist/"
Kind = OutboundEmail.Kind


@pytest.fixture(autouse=True)
def one_practitioner():
    """The esthetician alone: whoever is offered a time books it with her."""
    only_practitioners(practitioner(ESTHETICIAN))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the offers' task, the emails) as the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def cancel(committed):
    """The client cancels online, and the transaction commits."""

    def cancel(booking):
        with committed():
            return services.change_status(booking, Status.CANCELLED, by_client=True, note="test")

    return cancel


def offers_to(entry):
    return list(WaitlistOffer.objects.filter(entry=entry))


def emails(kind):
    return list(OutboundEmail.objects.filter(kind=kind).order_by("pk"))


def linked_pk(body, path, read_token):
    """
    The row a signed link in an email names. The link is compared by what it
    signs, not by its text: a link signed in another second reads differently.
    """
    [token] = re.findall(rf"{re.escape(path)}([^/\s]+)/", body)
    return read_token(token)


def join_form(client, **answers):
    """The join page filled in as a visitor would; an answer of None leaves a field out."""
    response = client.get(JOIN_URL)
    assert response.status_code == 200
    form = page(response).find("form", class_="booking-form")
    data = form_data(form)
    data |= {**VISITOR, "consent": "on", "consultation_type": "skin-assessment"}
    data |= answers
    return {name: value for name, value in data.items() if value is not None}


def error_texts(response):
    summary = page(response).find(class_="error-summary")
    return "" if summary is None else summary.text


# Joining and leaving.


def test_joining_keeps_the_choices_and_emails_a_leave_link(client, committed):
    today = timezone.localdate()
    data = join_form(
        client,
        weekdays=["1", "3"],
        parts_of_day=["morning", "evening"],
        earliest_day=(today + timedelta(days=2)).isoformat(),
        latest_day=(today + timedelta(days=9)).isoformat(),
    )

    with committed():
        response = client.post(JOIN_URL, data)

    assert response.status_code == 302
    assert response["Location"] == "/waitlist/joined/"
    entry = WaitlistEntry.objects.get()
    assert entry.status == WaitlistEntry.Status.WAITING
    assert entry.weekdays == "13"
    assert entry.parts_of_day == "morning,evening"
    assert entry.practitioner is None
    assert (entry.earliest_day, entry.latest_day) == (
        today + timedelta(days=2),
        today + timedelta(days=9),
    )
    assert str(entry.phone) == VISITOR_PHONE_E164
    [joined] = emails(Kind.WAITLIST_JOINED)
    assert joined.to == VISITOR["email"]
    assert linked_pk(joined.body, "/waitlist/leave/", entry_pk_from_token) == entry.pk
    assert mail.outbox[-1].subject == joined.subject
    assert "You are on the waitlist" in main_text(page(client.get("/waitlist/joined/")))


def test_the_booking_page_links_to_the_waitlist_with_its_choices(client):
    document = page(client.get("/book/", {"type": "skin-assessment", "practitioner": ESTHETICIAN}))
    link = document.find("p", class_="waitlist-link").find("a")
    assert link.attrs["href"] == f"/waitlist/?type=skin-assessment&practitioner={ESTHETICIAN}"
    form = page(client.get(link.attrs["href"])).find("form", class_="booking-form")
    chosen = form.find("select", name="practitioner").find("option", selected="")
    assert chosen.attrs["value"] == ESTHETICIAN


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"website": "http://spam.example"}, "Please leave this field empty."),
        ({"form_token": "forged"}, "This form was open too long or could not be checked."),
        ({"weekdays": None}, "Choose at least one day that suits you."),
        ({"parts_of_day": ["night"]}, "Please choose times of day from the list."),
        ({"consultation_type": "no-such-type"}, "Please choose a consultation from the list."),
        ({"latest_day": "2099-01-01"}, "Choose a day from today to"),
        ({"earliest_day": "not a date"}, "Enter a date like 2026-12-01."),
        ({"consent": None}, "Please agree to the privacy policy"),
        ({"full_name": "Ada\x1b[31m"}, "invisible control characters"),
        ({"full_name": "Ada\u202eQuinterra"}, "invisible formatting characters"),
        ({"full_name": "Ada\u200bQuinterra"}, "invisible formatting characters"),
    ],
)
def test_a_bad_join_is_shown_again_with_a_clear_message(client, answers, message):
    response = client.post(JOIN_URL, join_form(client, **answers))

    assert response.status_code == 200
    assert message in error_texts(response)
    assert not WaitlistEntry.objects.exists()


def test_the_last_day_cannot_be_before_the_first(client):
    today = timezone.localdate()
    data = join_form(
        client,
        earliest_day=(today + timedelta(days=5)).isoformat(),
        latest_day=(today + timedelta(days=4)).isoformat(),
    )
    assert "The last day is before the first" in error_texts(client.post(JOIN_URL, data))


def test_a_practitioner_who_does_not_hold_the_type_is_refused(client):
    person = practitioner(NURSE_PRACTITIONER)
    person.is_active = True
    person.save()
    kind = consultation_type()
    kind.practitioners.set([practitioner(ESTHETICIAN)])
    data = join_form(client, practitioner=NURSE_PRACTITIONER)
    assert "does not hold skin assessments" in error_texts(client.post(JOIN_URL, data))


@pytest.mark.every_database
def test_a_double_click_joins_once(client):
    data = join_form(client)
    assert client.post(JOIN_URL, data).status_code == 302
    response = client.post(JOIN_URL, data)
    assert response.status_code == 302
    assert response["Location"] == "/waitlist/joined/"
    assert WaitlistEntry.objects.count() == 1
    assert len(emails(Kind.WAITLIST_JOINED)) == 1


@pytest.mark.every_database
def test_the_same_email_cannot_wait_twice_for_one_type(client):
    make_entry(email=VISITOR["email"].upper())
    response = client.post(JOIN_URL, join_form(client))
    assert "already on the waitlist for this consultation" in error_texts(response)


def test_joining_is_rate_limited_per_address(client, settings):
    settings.WAITLIST_RATE_LIMIT = 1
    assert client.post(JOIN_URL, join_form(client)).status_code == 302
    response = client.post(JOIN_URL, join_form(client, email="other@example.com"))
    assert response.status_code == 429
    assert WaitlistEntry.objects.count() == 1


def test_the_waitlist_pages_are_private_and_not_cached(client):
    entry = make_entry()
    offer = WaitlistOffer.objects.create(
        entry=entry,
        starts_at=timezone.now() + timedelta(days=3),
        expires_at=timezone.now() + timedelta(hours=2),
    )
    for path in [JOIN_URL, "/waitlist/joined/", entry.get_leave_url(), offer.get_claim_url()]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path


def test_the_leave_link_shows_a_button_and_leaving_takes_a_post(client):
    entry = make_entry()
    url = entry.get_leave_url()

    document = page(client.get(url))
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING  # A mail scanner's GET changes nothing.
    assert document.find("button").text.strip() == "Leave the waitlist"

    response = client.post(url)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert "You have left the waitlist" in main_text(page(client.get(url)))


@pytest.mark.parametrize("token", ["nonsense", "MQ:1tAmpered:signature"])
def test_a_tampered_leave_or_offer_link_gets_a_clear_page(client, token):
    for path in [f"/waitlist/leave/{token}/", f"/waitlist/offer/{token}/"]:
        response = client.get(path)
        assert response.status_code == 404
        assert "This link does not work" in main_text(page(response))


def test_a_leave_link_for_another_salt_does_not_work(client):
    """An offer's token is not a leave token, even for the same number."""
    entry = make_entry()
    offer = WaitlistOffer.objects.create(
        entry=entry,
        starts_at=timezone.now() + timedelta(days=3),
        expires_at=timezone.now() + timedelta(hours=2),
    )
    token = offer.get_claim_url().rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/waitlist/leave/{token}/").status_code == 404


@pytest.mark.every_database
def test_the_join_page_costs_a_fixed_number_of_queries(client, django_assert_num_queries):
    client.get(JOIN_URL)  # The rules row, made on first read.
    # The rules, the types with who holds them, the practitioners.
    with django_assert_num_queries(3):
        assert client.get(JOIN_URL).status_code == 200


@pytest.mark.every_database
def test_the_leave_page_costs_one_query(client, django_assert_num_queries):
    url = make_entry().get_leave_url()
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


# Offers from freed times.


def test_a_cancellation_offers_the_freed_time_to_everyone_who_matches(client, cancel):
    booking = book()
    waiting = [make_entry(n) for n in range(3)]
    elsewhere = make_entry(9, parts_of_day="evening")  # no evening hours: never matches

    cancel(booking)

    for entry in waiting:
        [offer] = offers_to(entry)
        assert offer.starts_at == booking.starts_at
        assert offer.status == WaitlistOffer.Status.OFFERED
    assert offers_to(elsewhere) == []
    messages = emails(Kind.WAITLIST_OFFER)
    assert sorted(message.to for message in messages) == sorted(e.email for e in waiting)
    offer = offers_to(waiting[0])[0]
    body = next(m.body for m in messages if m.to == waiting[0].email)
    assert linked_pk(body, "/waitlist/offer/", offer_pk_from_token) == offer.pk
    assert FreedTime.objects.get().handled_at is not None


@pytest.mark.every_database
def test_a_freed_time_is_offered_once_however_often_it_is_handled(cancel):
    booking = book()
    entry = make_entry()
    cancel(booking)
    freed = FreedTime.objects.get()

    assert offer_freed_time(freed.pk) == []
    FreedTime.objects.filter(pk=freed.pk).update(handled_at=None)
    assert offer_freed_time(freed.pk) == []  # handled again: the same time, not twice

    assert len(offers_to(entry)) == 1
    assert len(emails(Kind.WAITLIST_OFFER)) == 1


@pytest.mark.every_database
def test_nobody_is_offered_the_same_time_twice_when_it_frees_up_again(cancel):
    entry = make_entry()
    first = book()
    cancel(first)
    again = book(first.starts_at)
    cancel(again)

    assert [offer.starts_at for offer in offers_to(entry)] == [first.starts_at]


def test_an_entry_naming_another_practitioner_or_type_is_not_offered_the_time(cancel):
    booking = book()
    other_person = practitioner(NURSE_PRACTITIONER)
    named = make_entry(1, practitioner=other_person)
    # Only a medical provider holds it; she is not one.
    other_type = make_entry(2, consultation_type=consultation_type(MEDICAL_CONSULTATION))
    mine = make_entry(3, practitioner=booking.practitioner)

    cancel(booking)

    assert offers_to(named) == []
    assert offers_to(other_type) == []
    assert len(offers_to(mine)) == 1


def test_an_entry_whose_days_do_not_include_the_time_is_not_offered_it(cancel):
    booking = book()
    day = booking.clinic_start.date()
    other_weekdays = "".join(str(n) for n in range(7) if n != day.weekday())
    wrong_day = make_entry(1, weekdays=other_weekdays)
    wrong_range = make_entry(2, earliest_day=day + timedelta(days=1), latest_day=day + timedelta(5))

    cancel(booking)

    assert offers_to(wrong_day) == offers_to(wrong_range) == []


def test_a_time_inside_minimum_notice_is_never_offered(committed):
    entry = make_entry()
    set_notice = BookingRules.objects.filter(pk=1)
    booking = book()
    # The rules change: the booking's time, turnover included, is now inside minimum notice.
    hours_ahead = (booking.blocks_until - timezone.now()).total_seconds() / 3600
    set_notice.update(minimum_notice_hours=int(hours_ahead) + 1)

    with committed():
        services.change_status(booking, Status.CANCELLED, note="staff cancel")

    assert offers_to(entry) == []


def test_an_offer_expires_in_two_hours_and_always_before_minimum_notice(settings, cancel):
    entry = make_entry()
    booking = book()
    rules = BookingRules.current()
    cancel(booking)
    [offer] = offers_to(entry)
    assert offer.expires_at <= offer.created_at + timedelta(hours=settings.WAITLIST_OFFER_HOURS)
    assert offer.expires_at <= offer.starts_at - timedelta(hours=rules.minimum_notice_hours)
    assert offer.expires_at == min(
        offer.created_at + timedelta(hours=2),
        offer.starts_at - timedelta(hours=rules.minimum_notice_hours),
    )


def test_moving_a_booking_offers_its_old_time(committed):
    booking = book()
    old_start = booking.starts_at
    entry = make_entry()
    later = [
        slot.starts_at
        for slot in bookable_slots(booking.consultation_type, practitioner=booking.practitioner)
        if slot.starts_at > old_start + timedelta(hours=2)
    ][0]

    with committed():
        services.move_booking(booking, later, by_client=True)

    assert [offer.starts_at for offer in offers_to(entry)] == [old_start]


def test_a_time_already_past_frees_nothing():
    assert (
        note_freed_time(
            practitioner(ESTHETICIAN),
            timezone.now() - timedelta(hours=2),
            timezone.now() - timedelta(hours=1),
        )
        is None
    )
    assert not FreedTime.objects.exists()


# Claiming.


@pytest.fixture
def offered(cancel):
    """A cancelled time offered to two people on the list."""
    booking = book()
    first, second = make_entry(1), make_entry(2)
    cancel(booking)
    return booking.starts_at, offers_to(first)[0], offers_to(second)[0]


def test_claiming_books_the_time_and_takes_them_off_the_list(client, offered):
    starts_at, offer, _ = offered
    url = offer.get_claim_url()
    document = page(client.get(url))
    assert "A time has freed up" in main_text(document)
    assert WaitlistOffer.objects.get(pk=offer.pk).status == WaitlistOffer.Status.OFFERED

    response = client.post(url)

    assert response.status_code == 302
    booking = ConsultationBooking.objects.active().get(starts_at=starts_at)
    assert response["Location"] == f"/book/received/{booking.reference}/"
    assert booking.email == offer.entry.email
    assert booking.status == Status.REQUESTED
    offer.refresh_from_db()
    assert (offer.status, offer.booking) == (WaitlistOffer.Status.CLAIMED, booking)
    offer.entry.refresh_from_db()
    assert offer.entry.status == WaitlistEntry.Status.BOOKED
    assert offer.entry.booking == booking
    assert client.get(response["Location"]).status_code == 200
    # A receipt, as for any booking made online.
    assert OutboundEmail.objects.filter(booking=booking, kind=Kind.RECEIPT).exists()


@pytest.mark.every_database
def test_claiming_twice_books_once(client, offered):
    _, offer, _ = offered
    client.post(offer.get_claim_url())
    response = client.post(offer.get_claim_url())
    assert response.status_code == 302
    assert ConsultationBooking.objects.active().filter(email=offer.entry.email).count() == 1


def test_the_second_claim_is_told_it_was_just_taken_and_stays_on_the_list(client, offered):
    starts_at, first, second = offered
    assert client.post(first.get_claim_url()).status_code == 302

    response = client.post(second.get_claim_url())

    assert response.status_code == 200
    text = main_text(page(response))
    assert "This time was just taken" in text
    assert "You are still on the waitlist" in text
    assert "Free times that suit you" in text
    second.refresh_from_db()
    assert second.status == WaitlistOffer.Status.TAKEN
    assert second.entry.status == WaitlistEntry.Status.WAITING
    assert ConsultationBooking.objects.active().filter(starts_at=starts_at).count() == 1


def test_a_claim_after_expiry_is_refused(client, offered):
    starts_at, offer, _ = offered
    WaitlistOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now())

    response = client.post(offer.get_claim_url())

    assert response.status_code == 200
    assert "This offer has expired" in main_text(page(response))
    assert not ConsultationBooking.objects.active().filter(starts_at=starts_at).exists()
    with pytest.raises(waitlist.OfferExpired):
        waitlist.claim_offer(offer)


def test_a_claim_racing_a_staff_phone_booking_loses_clearly(client, offered, admin_user):
    starts_at, offer, _ = offered
    services.book_consultation(
        consultation_type=consultation_type(),
        starts_at=starts_at,
        concerns=[],
        submission_key="phone",
        taken_by=admin_user,
        full_name="Caller",
        email="caller@example.com",
        phone="+12125550199",
    )

    response = client.post(offer.get_claim_url())

    assert "This time was just taken" in main_text(page(response))
    assert ConsultationBooking.objects.active().filter(starts_at=starts_at).count() == 1


def test_someone_who_left_cannot_claim(client, offered):
    _, offer, _ = offered
    waitlist.leave_waitlist(offer.entry)
    response = client.post(offer.get_claim_url())
    assert "You are no longer on the waitlist" in main_text(page(response))
    assert not ConsultationBooking.objects.filter(email=offer.entry.email).exists()


@pytest.mark.every_database
def test_the_offer_page_costs_a_fixed_number_of_queries(client, offered, django_assert_num_queries):
    _, offer, _ = offered
    url = offer.get_claim_url()
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


# Leaving the list by booking, and the sweep.


def test_booking_by_any_means_takes_the_client_off_the_list_for_that_type():
    entry = make_entry(email="Ada@Example.com")
    other_type = make_entry(
        2,
        email="ada@example.com",
        consultation_type=consultation_type("professional-facial-consultation"),
    )

    booking = book(email="ada@example.com")

    entry.refresh_from_db()
    other_type.refresh_from_db()
    assert (entry.status, entry.booking) == (WaitlistEntry.Status.BOOKED, booking)
    assert other_type.status == WaitlistEntry.Status.WAITING


def test_someone_who_booked_is_not_offered_a_freed_time(cancel):
    entry = make_entry()
    book(email=entry.email)
    cancel(book())
    assert offers_to(entry) == []


def test_the_sweep_expires_entries_past_their_dates_and_lapsed_offers():
    today = timezone.localdate()
    past = make_entry(1, earliest_day=today - timedelta(days=5), latest_day=today - timedelta(1))
    current = make_entry(2)
    lapsed = WaitlistOffer.objects.create(
        entry=current,
        starts_at=timezone.now() + timedelta(days=3),
        expires_at=timezone.now() - timedelta(minutes=1),
        created_at=timezone.now() - timedelta(hours=2),
    )

    made, entries, offers, forgotten = waitlist.sweep_waitlist()

    assert (made, entries, offers, forgotten) == (0, 1, 1, 0)
    past.refresh_from_db()
    current.refresh_from_db()
    lapsed.refresh_from_db()
    assert past.status == WaitlistEntry.Status.EXPIRED
    assert current.status == WaitlistEntry.Status.WAITING
    assert lapsed.status == WaitlistOffer.Status.EXPIRED


def test_the_sweep_makes_the_offers_of_a_freed_time_whose_task_was_lost():
    booking = book()
    entry = make_entry()
    # The cancellation as another process might have left it: the row, no task run.
    ConsultationBooking.objects.filter(pk=booking.pk).update(status=Status.CANCELLED)
    FreedTime.objects.create(
        practitioner=booking.practitioner, starts_at=booking.starts_at, ends_at=booking.blocks_until
    )

    made, *_ = waitlist.sweep_waitlist()

    assert made == 1
    assert [offer.starts_at for offer in offers_to(entry)] == [booking.starts_at]
    assert waitlist.sweep_waitlist()[0] == 0


def test_the_sweep_forgets_entries_a_month_after_they_finished(committed):
    now = timezone.now()
    with committed():
        entry, _ = waitlist.join_waitlist(
            submission_key="k",
            consultation_type=consultation_type(),
            practitioner=None,
            weekdays="01234",
            parts_of_day=ALL_PARTS,
            earliest_day=timezone.localdate(),
            latest_day=timezone.localdate() + timedelta(days=5),
            full_name="Soon Forgotten",
            email="forgotten@example.com",
            phone="+12125550100",
        )
    waiting = make_entry(2)
    waitlist.leave_waitlist(entry)
    [joined] = emails(Kind.WAITLIST_JOINED)
    assert joined.status == OutboundEmail.Delivery.SENT

    assert waitlist.sweep_waitlist(now=now + timedelta(days=29))[3] == 0
    assert waitlist.sweep_waitlist(now=now + timedelta(days=31))[3] == 1

    assert list(WaitlistEntry.objects.all()) == [waiting]
    joined.refresh_from_db()
    assert (joined.to, joined.subject, joined.body) == ("", "", "")


def test_the_join_form_is_never_served_from_the_page_cache(client, settings, stored_pages):
    settings.CONTENT_CACHE_SECONDS = 60
    token = re.compile(r'name="form_token" value="([^"]+)"')
    first = token.search(client.get(JOIN_URL).content.decode()).group(1)
    second = token.search(client.get(JOIN_URL).content.decode()).group(1)
    assert first != second
    client.get("/waitlist/joined/")
    assert stored_pages == []


@pytest.fixture
def stored_pages(monkeypatch):
    """The keys of the pages the page cache stores during the test."""
    from treatments import caching

    keys = []
    real_store = caching.store

    def spy(key, page, seconds):
        keys.append(key)
        real_store(key, page, seconds)

    monkeypatch.setattr(caching, "store", spy)
    return keys


@pytest.mark.parametrize(
    ("starts_at", "zone"),
    [
        pytest.param(utc(2030, 11, 3, 5, 30), "EDT", id="first 1:30 (EDT)"),
        pytest.param(utc(2030, 11, 3, 6, 30), "EST", id="second 1:30 (EST)"),
    ],
)
def test_the_offer_email_shows_the_zone_of_a_time_in_the_repeated_hour(starts_at, zone):
    entry = make_entry()
    offer = WaitlistOffer.objects.create(
        entry=entry, starts_at=starts_at, expires_at=starts_at - timedelta(hours=12)
    )

    message = queue_waitlist_email(entry, Kind.WAITLIST_OFFER, offer=offer)

    assert f"Sunday 3 November 2030, 1:30 AM ({zone}, clinic time)" in message.body
    assert f"1:30 AM {zone}" in message.subject
    assert "(, clinic time)" not in message.body


def test_one_email_address_may_wait_for_only_a_few_consultations(client):
    for n in range(ENTRIES_PER_EMAIL):
        make_entry(n, email=VISITOR["email"], consultation_type=make_consultation_type())
    response = client.post(JOIN_URL, join_form(client))
    assert f"already on the waitlist {ENTRIES_PER_EMAIL} times" in error_texts(response)
    assert WaitlistEntry.objects.count() == ENTRIES_PER_EMAIL


# Consultation types that ask health questions first (booking/services/screening.py)
# are booked on the booking page, where they are asked: never from the waitlist.


def test_a_type_asking_health_questions_is_not_offered_on_the_join_form(client):
    from booking.models import ScreeningOutcome
    from tests.support.screening import Kind, make_questionnaire

    kind = consultation_type()
    make_questionnaire(
        kind, questions=[(Kind.YES_NO, "Are you pregnant?", [("yes", None, ScreeningOutcome.CALL)])]
    )

    response = client.get("/waitlist/")

    assert response.status_code == 200
    assert f'value="{kind.slug}"' not in response.content.decode()


def test_a_claim_of_a_type_that_now_asks_health_questions_is_refused_and_the_entry_waits(
    client, cancel
):
    from booking.models import ScreeningOutcome
    from tests.support.screening import Kind, make_questionnaire

    kind = consultation_type()
    booking = book()
    entry = make_entry(1)
    cancel(booking)
    (offer,) = offers_to(entry)
    # Published after they joined.
    make_questionnaire(
        kind, questions=[(Kind.YES_NO, "Are you pregnant?", [("yes", None, ScreeningOutcome.CALL)])]
    )

    response = client.post(offer.get_claim_url())

    assert response.status_code == 200
    assert "asks a few health questions" in response.content.decode()
    assert not ConsultationBooking.objects.active().filter(starts_at=offer.starts_at).exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
