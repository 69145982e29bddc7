"""
Who read which health form: every display of a booking's health answers
writes one record (who, when, which booking, which page, never an answer);
clinical leads read the records, per booking and in a filtered list; nobody
changes or deletes one, neither through the admin nor, on each database,
with SQL; deleting or anonymising a booking, or deleting the account, keeps them.
"""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import ConsultationBooking, HealthFormRead, ScreeningAnswers
from booking.services import screening
from tests.support.booking import book, move_into_the_past, page
from tests.support.screening import book_with_answers, key, publish_example
from tests.support.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db

ALLERGIES = "Do you have any known allergies? If so, which?"
SECRET_ALLERGY = "Latex-and-marker-4471"
READS = reverse("admin:booking_healthformread_changelist")
BOOKING_PAGE = HealthFormRead.Page.BOOKING_PAGE


@pytest.fixture
def answered_booking():
    version = publish_example()
    return book_with_answers(version, {key(version, ALLERGIES): SECRET_ALLERGY})


@pytest.fixture
def staff(django_user_model):
    def make(username, group=None):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


def change_url(booking):
    return reverse("admin:booking_consultationbooking_change", args=[booking.pk])


def read_of(booking, reader):
    return screening.record_health_form_read(booking=booking, reader=reader, page=BOOKING_PAGE)


@pytest.mark.parametrize("group", ["Front desk", "Practitioners", "Clinical leads"])
def test_each_display_of_the_booking_page_records_one_read_by_whom_and_where(
    client, staff, answered_booking, group
):
    reader = staff("reader", group)
    sign_in_verified(client, reader)

    first = client.get(change_url(answered_booking))
    client.get(change_url(answered_booking))

    assert SECRET_ALLERGY in first.content.decode()
    reads = list(HealthFormRead.objects.filter(booking=answered_booking))
    assert len(reads) == 2
    for read in reads:
        assert (read.reader, read.reader_username, read.page) == (reader, "reader", BOOKING_PAGE)
        assert read.booking_reference == answered_booking.reference
        assert abs(read.read_at - timezone.now()) < timedelta(minutes=1)


def test_staff_without_the_health_permission_record_no_read(client, staff, answered_booking):
    viewer = staff("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_consultationbooking"))
    client.force_login(viewer)

    response = client.get(change_url(answered_booking))

    assert response.status_code == 200
    assert SECRET_ALLERGY not in response.content.decode()
    assert not HealthFormRead.objects.exists()


def test_a_booking_without_health_answers_records_no_read(admin_client):
    booking = book()

    response = admin_client.get(change_url(booking))

    assert "No health answers are held" in response.content.decode()
    assert not HealthFormRead.objects.exists()


def test_the_bookings_list_the_day_sheet_and_the_export_record_no_read(
    admin_client, answered_booking
):
    changelist = reverse("admin:booking_consultationbooking_changelist")
    admin_client.get(changelist)
    admin_client.get(reverse("admin:booking_day_sheet"))
    admin_client.post(
        changelist, {"action": "export_csv", "_selected_action": [answered_booking.pk]}
    )

    assert not HealthFormRead.objects.exists()


def test_a_read_holds_no_health_answer(admin_client, answered_booking):
    admin_client.get(change_url(answered_booking))

    read = HealthFormRead.objects.get()
    stored = " ".join(str(getattr(read, field.attname)) for field in read._meta.fields)
    assert SECRET_ALLERGY not in stored
    assert {field.name for field in HealthFormRead._meta.fields} == {
        "id",
        "booking",
        "booking_reference",
        "reader",
        "reader_username",
        "read_at",
        "page",
    }


def test_nobody_adds_changes_or_deletes_a_read_in_the_admin(admin_client, admin_user, staff):
    read = read_of(book(), admin_user)
    change = reverse("admin:booking_healthformread_change", args=[read.pk])

    assert admin_client.get(reverse("admin:booking_healthformread_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:booking_healthformread_delete", args=[read.pk])).status_code
        == 403
    )
    assert admin_client.post(change, {"page": BOOKING_PAGE}).status_code == 403
    document = page(admin_client.get(change))
    assert document.find("input", attrs={"name": "_save"}) is None
    assert document.find("a", class_="deletelink") is None
    assert "delete_selected" not in admin_client.get(READS).content.decode()
    assert HealthFormRead.objects.get().page == BOOKING_PAGE


def test_clinical_leads_list_the_reads_by_staff_member_and_period_and_others_cannot(client, staff):
    lead = staff("lead", "Clinical leads")
    nurse, desk = staff("nurse", "Practitioners"), staff("desk", "Front desk")
    booking = book()
    read_of(booking, nurse)
    read_of(booking, desk)
    old = read_of(booking, nurse)
    # Only the test writes around the database's refusal, to date a read last year.
    a_year_ago = timezone.now() - timedelta(days=365)
    HealthFormRead.objects.bulk_create(
        [
            HealthFormRead(
                booking=booking,
                booking_reference=booking.reference,
                reader=nurse,
                reader_username="nurse",
                read_at=a_year_ago,
                page=BOOKING_PAGE,
            )
        ]
    )
    sign_in_verified(client, lead)

    def listed(**query):
        response = client.get(READS, query)
        assert response.status_code == 200
        links = page(response).select("#result_list th.field-read_at a")
        return {int(re.search(r"/(\d+)/change/", link["href"])[1]) for link in links}

    everyone = listed()
    by_nurse = listed(reader=nurse.pk)
    this_year = listed(read_at__year=timezone.now().year)
    last_year = listed(read_at__year=a_year_ago.year, read_at__month=a_year_ago.month)
    by_reference = listed(q=booking.reference)

    assert len(everyone) == 4
    assert old.pk in by_nurse and len(by_nurse) == 3
    assert len(this_year | last_year) == 4 and len(last_year) == 1
    assert by_reference == everyone
    for user in (nurse, desk):
        sign_in_verified(client, user)
        assert client.get(READS).status_code == 403


def test_clinical_leads_see_a_bookings_reads_on_its_page_and_the_front_desk_does_not(
    client, staff, answered_booking
):
    lead, desk = staff("lead", "Clinical leads"), staff("desk", "Front desk")
    read_of(answered_booking, desk)
    read_of(book(), desk)  # Another booking's read is not listed.

    sign_in_verified(client, lead)
    section = page(client.get(change_url(answered_booking))).find(id="health_form_reads-group")
    sign_in_verified(client, desk)
    desk_page = page(client.get(change_url(answered_booking)))

    assert section is not None
    # The reads before this display: the lead's own read is recorded as the page renders.
    assert [cell.text.strip() for cell in section.select("td.field-reader_username")] == ["desk"]
    assert desk_page.find(id="health_form_reads-group") is None


@pytest.mark.every_database
def test_the_booking_page_costs_the_same_queries_however_often_it_was_read(
    client, staff, answered_booking
):
    lead = staff("lead", "Clinical leads")
    sign_in_verified(client, lead)
    client.get(change_url(answered_booking))  # Warm the caches (the session, the content types).

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(change_url(answered_booking)).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        read_of(answered_booking, lead)
    many = queries()

    assert HealthFormRead.objects.filter(booking=answered_booking).count() == 8
    assert many == few


@pytest.mark.every_database
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE booking_healthformread SET reader_username = 'someone-else'",
        "UPDATE booking_healthformread SET page = 'booking_page'",
        "DELETE FROM booking_healthformread",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_read(admin_user, sql):
    read_of(book(), admin_user)

    with (
        pytest.raises(IntegrityError, match="health_form_reads_are_kept"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    read = HealthFormRead.objects.get()
    assert read.reader_username == admin_user.get_username()


@pytest.mark.every_database
def test_the_database_refuses_the_orms_update_and_delete_too(admin_user):
    read = read_of(book(), admin_user)

    for change in (
        lambda: HealthFormRead.objects.update(reader_username="x"),
        lambda: HealthFormRead.objects.all().delete(),
        read.delete,
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()

    assert HealthFormRead.objects.filter(pk=read.pk, reader_username="admin").exists()


@pytest.mark.sqlite
def test_on_sqlite_migrate_installs_the_health_form_read_triggers(sqlite_site):
    # What they refuse is shown above, on each database.
    rows = sqlite_site.rows(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = 'booking_healthformread' ORDER BY name"
    )
    assert rows == [
        ("booking_healthformread_no_delete",),
        ("booking_healthformread_no_update",),
    ]


@pytest.mark.every_database
def test_deleting_a_booking_keeps_its_reads_with_its_reference(admin_user, answered_booking):
    read_of(answered_booking, admin_user)
    reference, pk = answered_booking.reference, answered_booking.pk

    services.delete_bookings([answered_booking])

    assert not ConsultationBooking.objects.filter(pk=pk).exists()
    assert not ScreeningAnswers.objects.filter(booking_id=pk).exists()
    read = HealthFormRead.objects.get()
    assert (read.booking_id, read.booking_reference) == (pk, reference)


@pytest.mark.every_database
def test_the_admin_deletes_a_booking_whose_health_form_was_read(admin_client, answered_booking):
    admin_client.get(change_url(answered_booking))
    delete = reverse("admin:booking_consultationbooking_delete", args=[answered_booking.pk])

    response = admin_client.post(delete, {"post": "yes"})

    assert response.status_code == 302
    assert not ConsultationBooking.objects.filter(pk=answered_booking.pk).exists()
    assert HealthFormRead.objects.get().booking_reference == answered_booking.reference


@pytest.mark.every_database
def test_deleting_a_staff_account_keeps_its_reads_with_its_username(staff, answered_booking):
    reader = staff("gone", "Practitioners")
    read_of(answered_booking, reader)
    pk = reader.pk

    reader.delete()

    read = HealthFormRead.objects.get()
    assert (read.reader_id, read.reader_username) == (pk, "gone")


def test_anonymisation_keeps_the_reads_but_not_the_answers(admin_client, answered_booking):
    admin_client.get(change_url(answered_booking))
    move_into_the_past(answered_booking, days=800)

    call_command("anonymise_bookings", stdout=io.StringIO())

    answered_booking.refresh_from_db()
    assert answered_booking.anonymised_at is not None
    assert not ScreeningAnswers.objects.filter(booking=answered_booking).exists()
    read = HealthFormRead.objects.get()
    assert read.booking == answered_booking
    # Its page now shows no answers, and so records no read.
    admin_client.get(change_url(answered_booking))
    assert HealthFormRead.objects.count() == 1
