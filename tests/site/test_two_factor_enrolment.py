"""
Two-factor sign-in: who must use it, and enrolling an authenticator app
(staff_access/). Codes are computed with pyotp from the key the page shows.
"""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff_access.models import RecoveryCode
from tests.support.html import parse_html
from tests.support.two_factor import code, password_sign_in, wait_for_a_fresh_step

pytestmark = pytest.mark.django_db

ENROL = "/admin/two-factor/enrol/"
PASSWORD = "right-password"


@pytest.fixture
def staff(django_user_model):
    def make(username="member", group=None, **extra):
        user = django_user_model.objects.create_user(
            username, f"{username}@clinic.test", PASSWORD, is_staff=True, **extra
        )
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


def setup_key(response):
    return parse_html(response.content).find(id="setup-key").get_text()


@pytest.mark.parametrize("group", ["Clinical leads", "Front desk", "Practitioners"])
def test_staff_who_read_health_answers_are_sent_to_enrol_after_their_password(client, staff, group):
    staff(group=group)

    response = password_sign_in(client, "member", PASSWORD)

    assert response.redirect_chain[-1][0] == ENROL
    assert "Set up two-factor sign-in" in response.content.decode()


def test_superusers_and_those_who_manage_staff_accounts_must_enrol(client, staff):
    staff("boss", is_superuser=True)
    manager = staff("manager")
    manager.user_permissions.add(Permission.objects.get(codename="change_user"))

    for username in ("boss", "manager"):
        client.logout()
        assert password_sign_in(client, username, PASSWORD).redirect_chain[-1][0] == ENROL


def test_a_content_editor_signs_in_with_a_password_unless_the_clinic_asks_it_of_all_staff(
    client, staff, settings
):
    staff(group="Content editors")

    assert password_sign_in(client, "member", PASSWORD).redirect_chain[-1][0] == "/admin/"

    settings.TWO_FACTOR_FOR_ALL_STAFF = True
    assert client.get("/admin/treatments/faq/")["Location"].startswith(ENROL)


def test_until_enrolled_every_page_leads_to_enrolment_but_signing_out_works(client, staff):
    staff(group="Clinical leads")
    password_sign_in(client, "member", PASSWORD)

    for path in ["/admin/", "/admin/booking/consultationbooking/", "/admin/password_change/", "/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL), path
    assert client.get("/admin/booking/consultationbooking/")["Location"] == (
        f"{ENROL}?next=%2Fadmin%2Fbooking%2Fconsultationbooking%2F"
    )

    assert client.post("/admin/logout/").status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_enrolment_page_shows_the_qr_code_as_an_image_and_the_key_as_text(client, staff):
    staff(group="Clinical leads")
    password_sign_in(client, "member", PASSWORD)

    response = client.get(ENROL)
    page = parse_html(response.content)
    image = page.find("img", id="setup-qr-code")

    assert image["src"].startswith("data:image/svg+xml")
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", setup_key(response))
    # The same key on a second look: the app may have been set up from the first.
    assert setup_key(client.get(ENROL)) == setup_key(response)
    assert "no-store" in response["Cache-Control"]
    assert "QR code" in image["alt"]
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "img-src 'self' data:" in policy
    assert not [element for element in page.iter() if element.has_attr("style")]
    assert not TOTPDevice.objects.exists()


def test_the_apps_code_confirms_it_shows_ten_recovery_codes_and_opens_the_admin(client, staff):
    lead = staff(group="Clinical leads")
    password_sign_in(client, "member", PASSWORD)
    key = setup_key(client.get(ENROL))
    wait_for_a_fresh_step()

    response = client.post(ENROL, {"code": code(key)})

    codes = [
        item.get_text() for item in parse_html(response.content).select("#recovery-codes code")
    ]
    assert response.status_code == 200
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", one) for one in codes)
    assert TOTPDevice.objects.get(user=lead).confirmed
    assert client.get("/admin/booking/consultationbooking/").status_code == 200
    # Stored as digests, never as shown.
    digests = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert len(digests) == 10
    assert not digests & set(codes)
    assert not any(one.replace("-", "") in digest for one in codes for digest in digests)


def test_a_wrong_code_at_enrolment_is_refused_and_sets_nothing_up(client, staff):
    staff(group="Clinical leads")
    password_sign_in(client, "member", PASSWORD)
    key = setup_key(client.get(ENROL))
    wrong = f"{(int(code(key)) + 1) % 1_000_000:06d}"

    response = client.post(ENROL, {"code": wrong})
    letters = client.post(ENROL, {"code": "abcdef"})

    assert "That is not the code for this key" in response.content.decode()
    assert "The code is the six digits the app shows" in letters.content.decode()
    assert not TOTPDevice.objects.exists()
    assert client.get("/admin/")["Location"].startswith(ENROL)


def test_an_enrolled_member_is_not_offered_enrolment_again(client, staff):
    staff(group="Clinical leads")
    password_sign_in(client, "member", PASSWORD)
    key = setup_key(client.get(ENROL))
    wait_for_a_fresh_step()
    client.post(ENROL, {"code": code(key)})

    response = client.get(ENROL)

    assert response.status_code == 302
    assert response["Location"] == "/admin/two-factor/"
    assert TOTPDevice.objects.count() == 1
