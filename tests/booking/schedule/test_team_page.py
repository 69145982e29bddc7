"""The team page, and the booking form's choice of consultation type and practitioner."""

import pytest

from booking.models import ConsultationBooking, ConsultationType, Practitioner
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    VISITOR,
    chosen_practitioner,
    chosen_type,
    error_summary,
    filled_booking_form,
    offered_slots,
    page,
    resubmitted_values,
)
from tests.support.content import MEDICAL, PROFESSIONAL

pytestmark = pytest.mark.django_db


def test_team_page_shows_published_practitioners_with_credentials_and_a_booking_link(get_page):
    Practitioner.objects.filter(slug=ESTHETICIAN).update(bio="Ten years of facials.")
    document = get_page("/team/")
    text = document.find("main").text
    assert "Maya Chen" in text and "Licensed esthetician" in text
    assert "Daniel Okafor" in text and "Nurse practitioner, NP-C" in text
    assert "Ten years of facials." in text
    links = [link.attrs["href"] for link in document.find_all("a") if "Book with" in link.text]
    assert links == ["/book/?practitioner=maya-chen", "/book/?practitioner=daniel-okafor"]


def test_unpublished_or_inactive_practitioners_are_not_on_the_team_page(get_page):
    Practitioner.objects.filter(slug=ESTHETICIAN).update(is_published=False)
    Practitioner.objects.filter(slug=NURSE_PRACTITIONER).update(is_active=False)
    text = get_page("/team/").find("main").text
    assert "Maya Chen" not in text and "Daniel Okafor" not in text


def test_team_page_is_in_the_navigation_and_the_sitemap(client, get_page):
    nav = get_page("/").find("nav", **{"aria-label": "Main"})
    assert "/team/" in [link.attrs["href"] for link in nav.find_all("a")]
    assert b"/team/</loc>" in client.get("/sitemap.xml").content


def test_book_with_a_practitioner_preselects_them_and_a_type_they_hold(client):
    document = page(client.get(BOOK_URL, {"practitioner": NURSE_PRACTITIONER}))
    assert chosen_practitioner(document) == NURSE_PRACTITIONER
    assert chosen_type(document) == ASSESSMENT
    document = page(
        client.get(BOOK_URL, {"practitioner": NURSE_PRACTITIONER, "treatment": MEDICAL})
    )
    assert chosen_type(document) == MEDICAL_CONSULTATION


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [(PROFESSIONAL, PROFESSIONAL_CONSULTATION), (MEDICAL, MEDICAL_CONSULTATION)],
)
def test_the_treatment_in_the_address_preselects_the_consultation_about_it(
    client, treatment, expected
):
    assert chosen_type(page(client.get(BOOK_URL, {"treatment": treatment}))) == expected


def test_the_guides_recommendation_lands_on_the_matching_consultation(client):
    from treatments.models import SkinConcern, SkinGoal, SkinSensitivity

    goal = SkinGoal.objects.filter(recommended_treatment__slug=MEDICAL).first()
    sensitivity = SkinSensitivity.objects.first()
    concern = SkinConcern.objects.filter(recommended_treatment__slug=MEDICAL).first()
    result = page(
        client.get(
            "/guide/",
            {"concerns": [concern.slug], "sensitivity": sensitivity.slug, "goal": goal.slug},
        )
    )
    link = next(
        link.attrs["href"]
        for link in result.find("main").find_all("a")
        if link.attrs.get("href", "").startswith(BOOK_URL)
    )
    assert chosen_type(page(client.get(link))) == MEDICAL_CONSULTATION


def test_times_offered_for_a_practitioner_are_theirs(client):
    nurse = Practitioner.objects.get(slug=NURSE_PRACTITIONER)
    ConsultationType.objects.filter(slug=ASSESSMENT).update(grid_minutes=60)
    document = page(client.get(BOOK_URL, {"practitioner": nurse.slug}))
    values = offered_slots(document)
    assert values and all(value.endswith(":00Z") for value in values)


def test_show_times_keeps_everything_typed_and_shows_no_errors(client):
    document, data = filled_booking_form(client, message="About my skin.")
    data |= {
        "consultation_type": MEDICAL_CONSULTATION,
        "practitioner": ESTHETICIAN,
        "show_times": "1",
    }
    response = client.post(BOOK_URL, data)
    assert response.status_code == 200
    shown = page(response)
    assert error_summary(shown) == []
    kept = resubmitted_values(shown)
    assert kept["full_name"] == VISITOR["full_name"]
    assert kept["email"] == VISITOR["email"]
    assert kept["message"] == "About my skin."
    assert kept["consultation_type"] == MEDICAL_CONSULTATION
    # The esthetician does not hold medical consultations: the page says so
    # instead of listing times.
    assert offered_slots(shown) == []
    assert "Maya Chen does not hold medical-grade facial consultations" in shown.find("main").text
    assert not ConsultationBooking.objects.exists()


@pytest.mark.parametrize(
    ("answers", "field_message"),
    [
        ({"consultation_type": "no-such-type"}, "Please choose a consultation from the list."),
        ({"practitioner": "no-such-person"}, "Please choose a practitioner from the list."),
        (
            {"consultation_type": MEDICAL_CONSULTATION, "practitioner": ESTHETICIAN},
            "Maya Chen does not hold medical-grade facial consultations",
        ),
        ({"slot": "2099-01-05T15:07Z"}, "Please choose one of the times shown."),
    ],
    ids=["unknown type", "unknown practitioner", "not their type", "off the grid"],
)
def test_bad_choices_come_back_with_a_clear_message_and_nothing_stored(
    client, settings, answers, field_message
):
    settings.BOOKING_MIN_FILL_SECONDS = 0
    _, data = filled_booking_form(client, **answers)
    response = client.post(BOOK_URL, data)
    assert response.status_code == 200
    assert any(field_message in message for message in error_summary(page(response)))
    assert not ConsultationBooking.objects.exists()


def test_a_type_not_bookable_online_is_refused(client, settings):
    settings.BOOKING_MIN_FILL_SECONDS = 0
    _, data = filled_booking_form(client)
    ConsultationType.objects.filter(slug=data["consultation_type"]).update(bookable_online=False)
    response = client.post(BOOK_URL, data)
    assert response.status_code == 200
    assert "Please choose a consultation from the list." in error_summary(page(response))
    assert not ConsultationBooking.objects.exists()


def test_a_medical_consultation_with_the_nurse_and_an_assessment_with_anyone_at_overlapping_times(
    client, settings
):
    settings.BOOKING_MIN_FILL_SECONDS = 0
    document = page(
        client.get(BOOK_URL, {"type": MEDICAL_CONSULTATION, "practitioner": NURSE_PRACTITIONER})
    )
    slot = offered_slots(document)[0]
    _, data = filled_booking_form(
        client,
        path=f"{BOOK_URL}?type={MEDICAL_CONSULTATION}&practitioner={NURSE_PRACTITIONER}",
        slot=slot,
    )
    assert client.post(BOOK_URL, data).status_code == 302
    _, data = filled_booking_form(
        client, slot=slot, email="other@example.com", full_name="Other Person"
    )
    assert data["consultation_type"] == ASSESSMENT and data["practitioner"] == ""
    assert client.post(BOOK_URL, data).status_code == 302
    medical, assessment = ConsultationBooking.objects.order_by("pk")
    assert (medical.practitioner.slug, medical.ends_at - medical.starts_at) == (
        NURSE_PRACTITIONER,
        ConsultationType.objects.get(slug=MEDICAL_CONSULTATION).length,
    )
    assert assessment.practitioner.slug == ESTHETICIAN
    assert assessment.starts_at == medical.starts_at
