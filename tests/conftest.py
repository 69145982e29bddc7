import pytest

from tests.markup import parse_html

# Every page a visitor can reach from the site's navigation, with the copy
# that describes it: a SitePage key, or the slug of a treatment.
PUBLIC_PAGES = {
    "/": ("page", "home"),
    "/treatments/": ("page", "treatments"),
    "/treatments/professional-facial/": ("treatment", "professional-facial"),
    "/treatments/medical-grade-facial/": ("treatment", "medical-grade-facial"),
    "/compare/": ("page", "comparison"),
    "/faqs/": ("page", "faqs"),
    "/guide/": ("page", "guide"),
    "/book/": ("page", "booking"),
    "/privacy/": ("page", "privacy"),
}


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@clinic.test", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def get_page(client):
    """GET a page that must render, and return its parsed document."""

    def get(path, data=None, **extra):
        response = client.get(path, data, **extra)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        return parse_html(response.content)

    return get
