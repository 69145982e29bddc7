"""
Staff edit the site's words in the admin: an edit made through the admin's
own forms shows on the public pages, and every treatments admin renders.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from tests.support.booking import book
from tests.support.content import MEDICAL, PROFESSIONAL, make_concern, make_treatment
from tests.support.html import form_data, parse_html
from treatments.models import (
    FAQ,
    ComparisonAspect,
    ContentBlock,
    DecisionFactor,
    SitePage,
    SkinConcern,
    SkinGoal,
    SkinSensitivity,
    Treatment,
)

pytestmark = pytest.mark.django_db

TREATMENT_ADMINS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "treatments"),
    key=lambda model: model._meta.model_name,
)


def admin_url(model, view, *args):
    return reverse(f"admin:treatments_{model._meta.model_name}_{view}", args=args)


def change_through_the_admin(client, obj, **changes):
    """Open the object's admin change form, edit some fields and save it, as staff would."""
    url = admin_url(type(obj), "change", obj.pk)
    document = parse_html(client.get(url).content)
    form = document.find("form", id=f"{obj._meta.model_name}_form")
    data = form_data(form) | changes
    response = client.post(url, data)
    assert response.status_code == 302, parse_html(response.content).find("main").text
    return response


def test_faq_edited_in_the_admin_shows_on_the_faq_and_treatment_pages(staff_client):
    faq = FAQ.objects.get(question="Do medical-grade facials have downtime?")

    change_through_the_admin(
        staff_client,
        faq,
        question="Is there any downtime after a medical-grade facial?",
        answer="Usually a day or two of mild redness.",
    )

    for path in ["/faqs/", f"/treatments/{MEDICAL}/"]:
        page = parse_html(staff_client.get(path).content).find("main").text
        assert "Is there any downtime after a medical-grade facial?" in page
        assert "Usually a day or two of mild redness." in page
        assert "Do medical-grade facials have downtime?" not in page


def test_faq_unpublished_in_the_admin_leaves_the_faq_page(staff_client):
    faq = FAQ.objects.get(question="Do medical-grade facials have downtime?")

    change_through_the_admin(staff_client, faq, is_published="")

    assert faq.question not in staff_client.get("/faqs/").content.decode()


def test_treatment_summary_edited_in_the_admin_shows_on_the_home_and_list_pages(staff_client):
    treatment = Treatment.objects.get(slug=PROFESSIONAL)
    points_before = list(treatment.points.values_list("section", "text", "position"))

    change_through_the_admin(
        staff_client, treatment, summary="A gentle, relaxing facial for your skin's surface."
    )

    for path in ["/", "/treatments/"]:
        page = parse_html(staff_client.get(path).content).find("main").text
        assert "A gentle, relaxing facial for your skin's surface." in page
    # Saving the form left the inline list items as they were.
    assert list(treatment.points.values_list("section", "text", "position")) == points_before


def test_treatment_unpublished_in_the_admin_takes_its_page_down(staff_client):
    treatment = Treatment.objects.get(slug=MEDICAL)

    change_through_the_admin(staff_client, treatment, is_published="")

    assert staff_client.get(f"/treatments/{MEDICAL}/").status_code == 404
    assert treatment.name not in staff_client.get("/treatments/").content.decode()


def test_comparison_cell_edited_in_the_admin_shows_in_the_table(staff_client):
    aspect = ComparisonAspect.objects.get(name="Downtime")
    document = parse_html(
        staff_client.get(admin_url(ComparisonAspect, "change", aspect.pk)).content
    )
    data = form_data(document.find("form", id="comparisonaspect_form"))
    medical = str(Treatment.objects.get(slug=MEDICAL).pk)
    [prefix] = [
        name.removesuffix("-treatment")
        for name, value in data.items()
        if name.endswith("-treatment") and value == medical
    ]
    data[f"{prefix}-text"] = "A day or two of redness"

    response = staff_client.post(admin_url(ComparisonAspect, "change", aspect.pk), data)

    assert response.status_code == 302
    assert "A day or two of redness" in staff_client.get("/compare/").content.decode()


def test_every_content_model_has_an_admin():
    assert set(TREATMENT_ADMINS) >= {
        FAQ,
        ComparisonAspect,
        ContentBlock,
        DecisionFactor,
        SitePage,
        SkinConcern,
        SkinGoal,
        SkinSensitivity,
        Treatment,
    }


@pytest.mark.parametrize("model", TREATMENT_ADMINS, ids=lambda model: model._meta.model_name)
def test_admin_changelist_add_and_change_pages_render(staff_client, model):
    obj = model._default_manager.first()
    assert obj is not None, "the seed content has a row for every model"

    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    assert staff_client.get(admin_url(model, "add")).status_code == 200
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", TREATMENT_ADMINS, ids=lambda model: model._meta.model_name)
def test_admin_search_finds_a_row_by_its_text_and_nothing_for_nonsense(staff_client, model):
    model_admin = admin.site._registry[model]
    obj = model._default_manager.first()
    field = next(name for name in model_admin.search_fields if "__" not in name)
    # The changelist's links carry the search along (`?_changelist_filters=`).
    change_link = f'href="{admin_url(model, "change", obj.pk)}'

    found = staff_client.get(admin_url(model, "changelist"), {"q": getattr(obj, field)})
    nothing = staff_client.get(admin_url(model, "changelist"), {"q": "zzqx-no-such-text"})

    assert found.status_code == nothing.status_code == 200
    assert change_link in found.content.decode()
    assert change_link not in nothing.content.decode()
    assert "0 results" in nothing.content.decode()


# Content that bookings refer to: a booking keeps the treatment and concerns
# its client chose, so that content can be unpublished but not deleted.


@pytest.fixture
def content_editor(client, django_user_model):
    user = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Content editors"))
    client.force_login(user)
    return client


@pytest.fixture
def booked():
    """A booking naming a treatment and a skin concern."""
    concern = SkinConcern.objects.for_guide().first()
    booking = book(treatment=Treatment.objects.get(slug=MEDICAL), concerns=[concern])
    return booking, booking.treatment, concern


def deletion_refused(response):
    text = parse_html(response.content).find(id="content").text
    return response.status_code == 200 and "cannot be deleted" in text and "unpublish" in text


@pytest.mark.parametrize("which", ["treatment", "concern"])
def test_content_a_booking_refers_to_cannot_be_deleted_and_the_admin_says_why(
    content_editor, booked, which
):
    booking, treatment, concern = booked
    obj = treatment if which == "treatment" else concern
    url = admin_url(type(obj), "delete", obj.pk)

    shown = content_editor.get(url)
    confirmed = content_editor.post(url, {"post": "yes"})

    assert deletion_refused(shown), parse_html(shown.content).find(id="content").text
    assert deletion_refused(confirmed)
    assert type(obj).objects.filter(pk=obj.pk).exists()
    booking.refresh_from_db()
    assert booking.treatment == treatment
    assert list(booking.concerns.all()) == [concern]
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


@pytest.mark.parametrize("which", ["treatment", "concern"])
def test_deleting_selected_content_a_booking_refers_to_is_refused(content_editor, booked, which):
    booking, treatment, concern = booked
    obj = treatment if which == "treatment" else concern
    changelist = admin_url(type(obj), "changelist")

    response = content_editor.post(
        changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )

    assert deletion_refused(response)
    booking.refresh_from_db()
    assert booking.treatment == treatment
    assert list(booking.concerns.all()) == [concern]


def test_content_a_booking_refers_to_can_be_unpublished_and_the_booking_keeps_it(
    content_editor, booked
):
    booking, treatment, concern = booked

    change_through_the_admin(content_editor, treatment, is_published="")
    change_through_the_admin(content_editor, concern, is_published="")

    assert content_editor.get(f"/treatments/{MEDICAL}/").status_code == 404
    booking.refresh_from_db()
    assert booking.treatment_label == treatment.name
    assert booking.concerns_display == concern.label


def test_content_no_booking_refers_to_can_still_be_deleted(content_editor, booked):
    treatment, concern = make_treatment(), make_concern()

    for obj in (treatment, concern):
        response = content_editor.post(admin_url(type(obj), "delete", obj.pk), {"post": "yes"})
        assert response.status_code == 302
        assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_content_a_booking_refers_to_cannot_be_deleted_from_code_either(booked):
    booking, treatment, concern = booked

    # Each in a savepoint: the concern's guard refuses inside the delete's
    # transaction, which a refusal leaves unusable.
    with pytest.raises(ProtectedError), transaction.atomic():
        treatment.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        SkinConcern.objects.filter(pk=concern.pk).delete()

    booking.refresh_from_db()
    assert booking.treatment == treatment
    assert list(booking.concerns.all()) == [concern]
