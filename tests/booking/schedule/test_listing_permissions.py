"""
Who may change how practitioners and consultation types are listed and set up.

Content editors write the words clients read (bios, credentials, type names,
descriptions, prices); a practitioner's web address and place on the team
page, and a type's web address, treatment and before-care days need
`booking.set_up_listings` (the Front desk, superusers). The attack of issue
20 changed all four from a content editor's account and broke `/team/` and
`?practitioner=` links: a forged POST carrying them now changes nothing of
them.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from booking.models import ConsultationType, Practitioner
from tests.support.booking import (
    ESTHETICIAN,
    PROFESSIONAL_CONSULTATION,
    chosen_practitioner,
    consultation_type,
    page,
    practitioner,
)
from tests.support.html import form_data
from tests.support.migrations import run_scenario, throwaway_database
from tests.support.two_factor import sign_in_verified
from treatments.models import Treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, django_user_model):
    """A staff client logged in as a member of the named group."""

    def log_in(group):
        user = django_user_model.objects.create_user(
            group.lower().replace(" ", "-"), password="pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        # The Front desk reads health answers, so signs in with a second factor.
        return sign_in_verified(client, user)

    return log_in


def change_url(obj):
    return reverse(f"admin:booking_{obj._meta.model_name}_change", args=[obj.pk])


def posted_back(client, obj, **changes):
    """The object's admin form as a browser would send it, with `changes` forged in."""
    form_id = f"{obj._meta.model_name}_form"
    data = form_data(page(client.get(change_url(obj))).find("form", id=form_id))
    return client.post(change_url(obj), data | changes)


def test_a_content_editor_sees_a_practitioners_address_and_team_page_read_only(member):
    client = member("Content editors")
    form = page(client.get(change_url(practitioner(ESTHETICIAN)))).find(
        "form", id="practitioner_form"
    )

    assert form.find(name="bio") is not None
    assert form.find(name="slug") is None
    assert form.find(name="is_published") is None


def test_a_forged_editor_post_changes_the_bio_but_not_the_address_or_team_page(member):
    client = member("Content editors")
    maya = practitioner(ESTHETICIAN)

    response = posted_back(
        client,
        maya,
        bio="Fifteen years in skin care.",
        role="Licensed esthetician, CIDESCO",
        slug="hijacked",
        is_published="",
    )

    assert response.status_code == 302
    maya.refresh_from_db()
    assert (maya.bio, maya.role) == ("Fifteen years in skin care.", "Licensed esthetician, CIDESCO")
    assert (maya.slug, maya.is_published) == (ESTHETICIAN, True)
    # The links the attack broke still lead to her.
    assert "Fifteen years in skin care." in client.get(reverse("booking:team")).text
    booking_page = page(
        client.get(
            reverse("booking:book"),
            {"type": PROFESSIONAL_CONSULTATION, "practitioner": ESTHETICIAN},
        )
    )
    assert chosen_practitioner(booking_page) == ESTHETICIAN


def test_a_forged_editor_post_changes_a_types_words_but_not_its_set_up(member):
    client = member("Content editors")
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    other_treatment = Treatment.objects.exclude(pk=kind.treatment_id).first()

    response = posted_back(
        client,
        kind,
        name="Facial consultation",
        description="What to expect.",
        price_text="Free",
        slug="hijacked",
        treatment=str(other_treatment.pk),
        before_care_days="14",
    )

    assert response.status_code == 302
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    assert (kind.name, kind.description, kind.price_text) == (
        "Facial consultation",
        "What to expect.",
        "Free",
    )
    assert kind.treatment != other_treatment
    assert kind.before_care_days == 3


def test_the_front_desk_can_change_how_practitioners_and_types_are_listed(member):
    client = member("Front desk")
    maya = practitioner(ESTHETICIAN)
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    other_treatment = Treatment.objects.exclude(pk=kind.treatment_id).first()

    assert posted_back(client, maya, slug="maya", is_published="").status_code == 302
    response = posted_back(
        client, kind, slug="facial", treatment=str(other_treatment.pk), before_care_days="5"
    )

    assert response.status_code == 302
    maya.refresh_from_db()
    assert (maya.slug, maya.is_published) == ("maya", False)
    kind = ConsultationType.objects.get(pk=kind.pk)
    assert (kind.slug, kind.treatment, kind.before_care_days) == ("facial", other_treatment, 5)


def test_a_superuser_can_change_how_a_practitioner_is_listed(admin_client):
    maya = practitioner(ESTHETICIAN)

    assert posted_back(admin_client, maya, slug="maya-c").status_code == 302
    assert Practitioner.objects.get(pk=maya.pk).slug == "maya-c"


def test_the_front_desk_adds_a_practitioner_with_their_web_address(member):
    client = member("Front desk")
    url = reverse("admin:booking_practitioner_add")
    data = form_data(page(client.get(url)).find("form", id="practitioner_form"))

    response = client.post(url, data | {"name": "Ana Ruiz", "slug": "ana-ruiz", "role": "NP"})

    assert response.status_code == 302
    assert Practitioner.objects.get(slug="ana-ruiz").name == "Ana Ruiz"


def test_only_the_front_desk_is_given_the_set_up_permission():
    holders = Group.objects.filter(permissions__codename="set_up_listings")

    assert list(holders.values_list("name", flat=True)) == ["Front desk"]


def test_no_group_keeps_permissions_on_a_model_that_no_longer_exists():
    stale = Permission.objects.filter(group__isnull=False, content_type__model="openinghours")

    assert not stale.exists()


MIGRATION_SCENARIO = r"""
import json

import django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

def front_desk():
    from django.contrib.auth.models import Group
    return sorted(Group.objects.get(name="Front desk").permissions.filter(
        codename__in=["set_up_listings", "change_openinghours"]
    ).values_list("codename", flat=True))

executor = MigrationExecutor(connection)
executor.migrate([("booking", "0024_health_form_reads")])
before = front_desk()
executor = MigrationExecutor(connection)
executor.migrate(executor.loader.graph.leaf_nodes())
print(json.dumps({"before": before, "after": front_desk()}))
"""


def test_an_existing_database_gives_the_front_desk_the_set_up_permission():
    with throwaway_database("listing") as database_url:
        result = run_scenario(MIGRATION_SCENARIO, database_url)

    assert result == {"before": ["change_openinghours"], "after": ["set_up_listings"]}
