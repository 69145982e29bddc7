"""
The focal point picker on a photograph's change page, in a real browser:
a content editor clicks the whole photograph where the subject is, the two
focal point fields take the point and the ring moves to it, and saving
keeps it (and makes the renditions around it). Typing into a field moves
the ring too. The page passes axe under the admin's real
Content-Security-Policy (`open_page` fails the test on any violation).
"""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from tests.support.browser import STAFF_PASSWORD, axe_violations, sign_in_to_admin
from tests.support.two_factor import authenticator_for
from treatments.models import SitePage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("axe_script"),
]


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user(
        "editor", "editor@clinic.test", STAFF_PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="Content editors"))
    authenticator_for(user)
    return user


def marker_centre(page):
    """Where the ring's centre is, in per cent of the photograph's box."""
    return page.evaluate(
        """() => {
            const image = document.querySelector('.focal-point-image').getBoundingClientRect();
            const ring = document.querySelector('.focal-point-marker').getBoundingClientRect();
            return [
                (ring.left + ring.width / 2 - image.left) / image.width * 100,
                (ring.top + ring.height / 2 - image.top) / image.height * 100,
            ];
        }"""
    )


def test_an_editor_clicks_the_photograph_to_set_the_focal_point_and_saving_keeps_it(
    open_page, editor
):
    hero = SitePage.objects.get(key="home").photograph
    made_before = {r["name"] for r in hero.renditions}
    page = open_page(None)
    sign_in_to_admin(page, "editor")
    page.goto(f"/admin/treatments/photograph/{hero.pk}/change/")

    across = page.get_by_label("Focal point across (%)")
    down = page.get_by_label("Focal point down (%)")
    image = page.get_by_role("img", name=hero.alt_text)
    ring = page.locator(".focal-point-marker")
    expect(across).to_have_value(str(hero.focal_x))
    expect(ring).to_be_visible()
    assert marker_centre(page) == pytest.approx([hero.focal_x, hero.focal_y], abs=1)
    assert axe_violations(page) == []

    box = image.bounding_box()
    image.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.7})

    expect(across).to_have_value("20")
    expect(down).to_have_value("70")
    expect(page.get_by_role("status")).to_have_text("Focal point set to 20% across and 70% down.")
    assert marker_centre(page) == pytest.approx([20, 70], abs=1)
    assert axe_violations(page) == []

    # The fields are the values: typed into, they move the ring.
    across.fill("85")
    assert marker_centre(page) == pytest.approx([85, 70], abs=1)

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(across).to_have_value("85")
    expect(down).to_have_value("70")
    assert marker_centre(page) == pytest.approx([85, 70], abs=1)
    hero.refresh_from_db()
    assert (hero.focal_x, hero.focal_y) == (85, 70)
    # Cropped around the new point: renditions of their own.
    assert hero.renditions and not made_before & {r["name"] for r in hero.renditions}


def test_without_javascript_the_fields_alone_set_the_focal_point(open_page, editor):
    hero = SitePage.objects.get(key="home").photograph
    page = open_page(None, javascript=False)
    sign_in_to_admin(page, "editor")
    page.goto(f"/admin/treatments/photograph/{hero.pk}/change/")

    expect(page.get_by_role("img", name=hero.alt_text)).to_be_visible()
    # No ring a script did not place, no instructions for a click that does nothing.
    expect(page.locator(".focal-point-marker")).to_be_hidden()
    expect(page.locator(".focal-point-instructions")).to_be_hidden()
    page.get_by_label("Focal point across (%)").fill("30")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    hero.refresh_from_db()
    assert hero.focal_x == 30
