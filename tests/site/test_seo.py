"""
What search engines read: titles, descriptions, canonical and Open Graph
tags, the sitemap, robots.txt and the JSON-LD structured data.
"""

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.test import override_settings

from tests.support.content import make_faq, make_treatment
from tests.support.html import json_ld, meta_content, parse_html
from tests.support.pages import PUBLIC_PAGES
from treatments.models import FAQ, SitePage, Treatment

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def page_copy(path):
    """(title, meta description) that the database holds for a public page."""
    kind, key = PUBLIC_PAGES[path]
    if kind == "treatment":
        treatment = Treatment.objects.get(slug=key)
        return treatment.name, treatment.meta_description
    page = SitePage.objects.get(key=key)
    return page.title, page.meta_description


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_page_has_its_title_description_canonical_link_and_open_graph_tags(get_page, path):
    document = get_page(path)
    title, description = page_copy(path)
    canonical = settings.SITE_URL + path

    assert document.find("title").text == f"{title} | {settings.CLINIC['name']}"
    assert meta_content(document, name="description") == description
    assert [link.attrs["href"] for link in document.find_all("link", rel="canonical")] == [
        canonical
    ]
    assert meta_content(document, property="og:title") == title
    assert meta_content(document, property="og:description") == description
    assert meta_content(document, property="og:url") == canonical


def test_every_page_has_a_title_of_its_own(get_page):
    titles = [get_page(path).find("title").text for path in PUBLIC_PAGES]
    assert len(set(titles)) == len(PUBLIC_PAGES), titles


def test_meta_description_edited_by_staff_is_escaped_and_shown(get_page):
    description = 'Tom’s "gentle" facials & <more>'
    SitePage.objects.filter(key="faqs").update(meta_description=description)
    Treatment.objects.filter(slug="medical-grade-facial").update(meta_description=description)
    for path in ["/faqs/", "/treatments/medical-grade-facial/"]:
        document = get_page(path)
        assert meta_content(document, name="description") == description
        assert meta_content(document, property="og:description") == description


def test_canonical_link_names_the_clinics_address_whatever_host_was_asked_for(get_page):
    document = get_page("/compare/", HTTP_HOST="localhost")
    assert document.find("link", rel="canonical").attrs["href"] == "https://clinic.test/compare/"


def test_guide_result_is_canonicalised_to_the_guide_itself(get_page):
    document = get_page(
        "/guide/",
        {"concerns": "acne-scars", "sensitivity": "not-sensitive", "goal": "long-term-change"},
    )
    assert document.find("link", rel="canonical").attrs["href"] == settings.SITE_URL + "/guide/"


# Sitemap and robots.txt


def sitemap_locations(client, **extra):
    response = client.get("/sitemap.xml", **extra)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return [loc.text for loc in root.findall("sm:url/sm:loc", SITEMAP_NS)]


def test_sitemap_lists_every_public_page_once_at_the_clinics_address(client):
    make_treatment(slug="draft-facial", is_published=False)

    locations = sitemap_locations(client, HTTP_HOST="localhost")

    assert sorted(locations) == sorted(settings.SITE_URL + path for path in PUBLIC_PAGES)
    assert settings.SITE_URL + "/treatments/draft-facial/" not in locations


def test_sitemap_follows_treatments_being_published(client):
    treatment = make_treatment(slug="new-facial")
    assert settings.SITE_URL + "/treatments/new-facial/" in sitemap_locations(client)
    treatment.is_published = False
    treatment.save()
    assert settings.SITE_URL + "/treatments/new-facial/" not in sitemap_locations(client)


def test_sitemap_gives_each_page_its_last_change(client):
    root = ET.fromstring(client.get("/sitemap.xml").content)
    urls = root.findall("sm:url", SITEMAP_NS)
    assert urls
    assert all(url.find("sm:lastmod", SITEMAP_NS) is not None for url in urls)


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in lines
    assert "Disallow: /" not in lines


# Structured data


def structured_data_of_type(document, kind):
    return [data for data in json_ld(document) if data.get("@type") == kind]


def test_faq_page_describes_every_question_as_an_faqpage(get_page):
    [data] = structured_data_of_type(get_page("/faqs/"), "FAQPage")

    assert data["@context"] == "https://schema.org"
    assert [
        (item["@type"], item["name"], item["acceptedAnswer"]["text"]) for item in data["mainEntity"]
    ] == [("Question", q, a) for q, a in FAQ.objects.published().values_list("question", "answer")]
    assert len(data["mainEntity"]) == 7


def test_faq_structured_data_leaves_out_unpublished_questions(get_page):
    hidden = make_faq(question="Not yet?", is_published=False)
    [data] = structured_data_of_type(get_page("/faqs/"), "FAQPage")
    assert hidden.question not in [item["name"] for item in data["mainEntity"]]


def test_home_page_describes_the_clinic_as_a_medical_business(get_page):
    [data] = structured_data_of_type(get_page("/"), "MedicalBusiness")
    clinic = settings.CLINIC

    assert data["name"] == clinic["name"]
    assert data["telephone"] == clinic["phone"]
    assert data["email"] == clinic["email"]
    assert data["url"] == settings.SITE_URL + "/"
    assert data["address"] == {
        "@type": "PostalAddress",
        "streetAddress": clinic["street_address"],
        "addressLocality": clinic["locality"],
        "addressRegion": clinic["region"],
        "postalCode": clinic["postal_code"],
        "addressCountry": clinic["country"],
    }


def test_script_end_tag_in_an_answer_cannot_close_the_structured_data(client):
    answer = 'Yes.</script><script>alert("x")</script> & <!-- more'
    FAQ.objects.filter(position=1).update(answer=answer)

    response = client.get("/faqs/")

    content = response.content.decode()
    assert "</script><script>" not in content
    document = parse_html(content)
    # Only the JSON-LD element: nothing the answer held became a script.
    assert len(document.find_all("script")) == 1
    [data] = structured_data_of_type(document, "FAQPage")
    assert data["mainEntity"][0]["acceptedAnswer"]["text"] == answer


def test_script_end_tag_in_the_clinics_details_cannot_close_the_structured_data(client):
    clinic = settings.CLINIC | {"name": "Clearview</script><script>alert(1)//"}
    with override_settings(CLINIC=clinic):
        document = parse_html(client.get("/").content)

    assert len(document.find_all("script")) == 1
    [data] = structured_data_of_type(document, "MedicalBusiness")
    assert data["name"] == "Clearview</script><script>alert(1)//"
