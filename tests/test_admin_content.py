"""
Staff edit the site's words in the admin: an edit made through the admin's
own forms shows on the public pages, and every treatments admin renders.
"""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import MEDICAL, PROFESSIONAL
from tests.markup import form_data, parse_html
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
