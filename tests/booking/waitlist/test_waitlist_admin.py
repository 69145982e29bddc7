"""
The waitlist for staff: the list with its filters and offers, an offer
made by hand, the day sheet's count, new hours offered to those waiting,
and the sweep command.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import FreedTime, OutboundEmail, WaitlistEntry, WaitlistOffer
from booking.services.schedule import ClinicCalendar, bookable_slots
from tests.support.booking import (
    ESTHETICIAN,
    consultation_type,
    only_practitioners,
    page,
    practitioner,
    set_hours,
)
from tests.support.html import form_data
from tests.support.two_factor import sign_in_verified
from tests.support.waitlist import make_entry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/booking/waitlistentry/"
OFFERS = "/admin/booking/waitlistoffer/"


@pytest.fixture(autouse=True)
def one_practitioner():
    only_practitioners(practitioner(ESTHETICIAN))


def offer_page(entry):
    return reverse("admin:booking_waitlist_offer_by_hand", args=[entry.pk])


def test_the_waitlist_lists_filters_and_searches(admin_client):
    ada = make_entry(1, full_name="Ada Quinterra", practitioner=practitioner(ESTHETICIAN))
    make_entry(
        2,
        full_name="Bo Other",
        consultation_type=consultation_type("professional-facial-consultation"),
    )

    document = page(admin_client.get(CHANGELIST))
    rows = document.find("table", id="result_list").find("tbody").find_all("tr")
    assert len(rows) == 2
    assert "Any practitioner" in document.find("table", id="result_list").text

    kind = consultation_type()
    filtered = page(admin_client.get(CHANGELIST, {"consultation_type__id__exact": kind.pk}))
    assert [row.find("th").text for row in filtered.find("tbody").find_all("tr")] == [
        "Ada Quinterra"
    ]
    by_person = page(admin_client.get(CHANGELIST, {"practitioner__id__exact": ada.practitioner_id}))
    assert len(by_person.find("tbody").find_all("tr")) == 1
    searched = page(admin_client.get(CHANGELIST, {"q": "quinterra"}))
    assert len(searched.find("tbody").find_all("tr")) == 1


def test_the_entry_and_offer_pages_render(admin_client):
    entry = make_entry()
    offer = WaitlistOffer.objects.create(
        entry=entry,
        starts_at=timezone.now() + timedelta(days=3),
        expires_at=timezone.now() + timedelta(hours=2),
    )
    change = page(admin_client.get(reverse("admin:booking_waitlistentry_change", args=[entry.pk])))
    assert "Offer them a free time by hand" in change.text
    assert "Offered" in change.text  # the offer, in the inline
    assert admin_client.get(OFFERS).status_code == 200
    assert admin_client.get(OFFERS, {"status__exact": "offered"}).status_code == 200
    assert (
        admin_client.get(reverse("admin:booking_waitlistoffer_change", args=[offer.pk])).status_code
        == 200
    )
    freed = FreedTime.objects.create(
        practitioner=practitioner(ESTHETICIAN),
        starts_at=offer.starts_at,
        ends_at=offer.starts_at + timedelta(minutes=30),
    )
    assert admin_client.get("/admin/booking/freedtime/").status_code == 200
    freed_page = reverse("admin:booking_freedtime_change", args=[freed.pk])
    assert admin_client.get(freed_page).status_code == 200


@pytest.mark.every_database
def test_the_list_costs_the_same_queries_for_many_entries(admin_client, django_assert_num_queries):
    make_entry(1)
    admin_client.get(CHANGELIST)  # The session and user, once.
    # Session, user, the second factor that verified the session, the count,
    # the page of entries (with their types, practitioners and offers
    # counted), the filters' types and practitioners…
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    assert len(few) <= 11
    for n in range(2, 30):
        make_entry(n)
    with django_assert_num_queries(len(few)):
        admin_client.get(CHANGELIST)


def test_staff_offer_a_free_time_by_hand_and_the_client_is_emailed(admin_client, admin_user):
    entry = make_entry()
    document = page(admin_client.get(offer_page(entry), {"from": first_free_day().isoformat()}))
    button = document.find("button", name="slot")
    assert button is not None

    response = admin_client.post(offer_page(entry), {"slot": button.attrs["value"]})

    assert response.status_code == 302
    offer = WaitlistOffer.objects.get(entry=entry)
    assert offer.offered_by == admin_user
    # The button sends the time and whom it showed the time with.
    assert button.attrs["value"] == f"{offer.starts_at:%Y-%m-%dT%H:%MZ} {offer.practitioner.pk}"
    assert button.text.endswith(f"with {offer.practitioner.name}")
    assert OutboundEmail.objects.filter(
        kind=OutboundEmail.Kind.WAITLIST_OFFER, to=entry.email
    ).exists()
    # Not the same time twice, by hand either.
    response = admin_client.post(offer_page(entry), {"slot": button.attrs["value"]}, follow=True)
    assert "offered to them before" in response.content.decode()
    assert WaitlistOffer.objects.filter(entry=entry).count() == 1


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "2020-01-01T09:00Z",
        "9999-12-31T23:59Z",
        "2020-01-01T09:00Z 999999",
        "{first} x",
        "{first} 999999",
        "{first}",
    ],
)
def test_a_bad_or_unfree_time_offered_by_hand_is_refused_clearly(admin_client, value):
    entry = make_entry()
    first = ClinicCalendar(entry.consultation_type).slots([first_free_day()])[0].value
    value = value.format(first=first)
    response = admin_client.post(offer_page(entry), {"slot": value}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "could not be read" in text or "not free for online booking" in text
    assert not WaitlistOffer.objects.exists()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2020-02-30"])
def test_a_day_out_of_reach_shows_the_entrys_first_day(admin_client, day):
    entry = make_entry()
    response = admin_client.get(f"{offer_page(entry)}?from={day}")
    assert response.status_code == 200
    first_day = max(entry.earliest_day, timezone.localdate())
    assert response.context["day"] == first_day


def make_offer_for(entry):
    return WaitlistOffer.objects.create(
        entry=entry,
        starts_at=timezone.now() + timedelta(days=3),
        expires_at=timezone.now() + timedelta(hours=2),
    )


def test_the_offers_list_costs_the_same_queries_with_more_offers(admin_client):
    def listed():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(OFFERS).status_code == 200
        return len(queries)

    for n in range(2):
        make_offer_for(make_entry(n + 1))
    few = listed()
    for n in range(2, 8):
        make_offer_for(make_entry(n + 1))
    assert listed() == few


def test_an_unknown_entry_is_not_found(admin_client):
    assert admin_client.get("/admin/booking/waitlistentry/999999/offer/").status_code == 404
    assert admin_client.get("/admin/booking/waitlistentry/x/offer/").status_code == 404


def test_the_day_sheet_shows_how_many_wait_for_that_day(admin_client):
    day = first_free_day()
    make_entry(1, earliest_day=day, latest_day=day, weekdays=str(day.weekday()))
    make_entry(2, earliest_day=day, latest_day=day + timedelta(days=3))
    make_entry(3, earliest_day=day + timedelta(days=1), latest_day=day + timedelta(days=3))
    left = make_entry(4, earliest_day=day, latest_day=day)
    left.status = WaitlistEntry.Status.LEFT
    left.save()

    document = page(admin_client.get("/admin/booking/consultationbooking/day/", {"date": day}))

    waiting = document.find("p", class_="day-sheet-waiting")
    assert "2 people wait on the waitlist" in waiting.text
    link = waiting.find("a").attrs["href"]
    listed = page(admin_client.get(link)).find("table", id="result_list")
    assert len(listed.find("tbody").find_all("tr")) == 2


def test_new_working_hours_are_offered_to_those_waiting(
    admin_client, django_capture_on_commit_callbacks
):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    entry = make_entry(weekdays="2", parts_of_day="afternoon")  # Wednesday afternoons
    url = reverse("admin:booking_practitioner_change", args=[maya.pk])
    data = form_data(page(admin_client.get(url)).find("form", id="practitioner_form"))
    n = int(data["working_hours-TOTAL_FORMS"])
    data |= {
        "working_hours-TOTAL_FORMS": str(n + 1),
        f"working_hours-{n}-weekday": "2",
        f"working_hours-{n}-starts_at": "13:00",
        f"working_hours-{n}-ends_at": "17:00",
    }

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302

    [offer] = WaitlistOffer.objects.filter(entry=entry)
    assert offer.clinic_start.weekday() == 2
    assert offer.clinic_start.hour >= 13
    assert FreedTime.objects.get().handled_at is not None


def test_saving_a_practitioner_unchanged_frees_nothing(admin_client):
    maya = practitioner(ESTHETICIAN)
    url = reverse("admin:booking_practitioner_change", args=[maya.pk])
    data = form_data(page(admin_client.get(url)).find("form", id="practitioner_form"))
    assert admin_client.post(url, data).status_code == 302
    assert not FreedTime.objects.exists()


def test_the_sweep_command_reports_what_it_did():
    today = timezone.localdate()
    make_entry(earliest_day=today - timedelta(days=3), latest_day=today - timedelta(days=1))
    out = StringIO()
    call_command("sweep_waitlist", stdout=out)
    assert "0 offer(s) made, 1 entr(y/ies) and 0 offer(s) expired, 0 finished" in out.getvalue()
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.EXPIRED


def first_free_day():
    return bookable_slots(consultation_type())[0].local_start.date()


def test_the_front_desk_sees_the_waitlist_and_offers_by_hand(client, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Front desk"))
    sign_in_verified(client, user)
    entry = make_entry()

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(OFFERS).status_code == 200
    assert client.get(offer_page(entry)).status_code == 200
    assert client.get(reverse("admin:booking_waitlistentry_add")).status_code == 403
    assert client.get(reverse("admin:booking_waitlistoffer_add")).status_code == 403


def test_a_closure_lifted_offers_its_days(admin_client, django_capture_on_commit_callbacks):
    from booking.models import Closure

    day = first_free_day()
    closure = Closure.objects.create(starts_on=day, ends_on=day + timedelta(days=1))
    entry = make_entry(earliest_day=day, latest_day=day)
    assert bookable_slots(consultation_type(), days=[day]) == []

    with django_capture_on_commit_callbacks(execute=True):
        url = reverse("admin:booking_closure_delete", args=[closure.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 302

    [offer] = WaitlistOffer.objects.filter(entry=entry)
    assert offer.clinic_start.date() == day


def test_staff_take_people_off_the_list(admin_client):
    leaving, staying = make_entry(1), make_entry(2)
    response = admin_client.post(
        CHANGELIST, {"action": "take_off_the_list", "_selected_action": [leaving.pk]}
    )
    assert response.status_code == 302
    leaving.refresh_from_db()
    staying.refresh_from_db()
    assert leaving.status == WaitlistEntry.Status.LEFT
    assert staying.status == WaitlistEntry.Status.WAITING
