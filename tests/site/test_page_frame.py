"""
The frame every public page shares: landmarks and a skip link for keyboard
and screen-reader users, one main heading, a way to book, markup the strict
Content-Security-Policy allows, and a small page weight.
"""

import gzip

import pytest

from tests.support.html import parse_html
from tests.support.pages import PUBLIC_PAGES

pytestmark = pytest.mark.django_db

# Public pages plus the guide's other states, which render different markup.
PAGES_AND_STATES = [
    *PUBLIC_PAGES,
    "/guide/?concerns=acne-scars&sensitivity=very-sensitive&goal=long-term-change",
    "/guide/?concerns=no-such-concern&goal=",
    "/book/?treatment=medical-grade-facial",
]

HIDING_CLASSES = {"visually-hidden", "d-none", "sr-only"}


def is_visible(element):
    return not any(
        "hidden" in e.attrs
        or e.attrs.get("aria-hidden") == "true"
        or HIDING_CLASSES & set(e.classes)
        for e in [element, *element.ancestors()]
    )


@pytest.mark.parametrize("path", PAGES_AND_STATES)
def test_page_starts_with_a_skip_link_to_its_main_content(get_page, path):
    body = get_page(path).find("body")

    first_link = body.find("a")
    assert first_link.attrs["href"] == "#main"
    assert first_link.text == "Skip to main content"
    [main] = body.find_all("main")
    assert main.attrs.get("id") == "main"


@pytest.mark.parametrize("path", PAGES_AND_STATES)
def test_page_has_header_navigation_main_and_footer_landmarks(get_page, path):
    body = get_page(path).find("body")
    top_level = [element.tag for element in body.elements]

    for landmark in ["header", "main", "footer"]:
        assert top_level.count(landmark) == 1, top_level
    assert top_level.index("header") < top_level.index("main") < top_level.index("footer")
    assert body.find("header").find("nav", **{"aria-label": "Main"}) is not None


@pytest.mark.parametrize("path", PAGES_AND_STATES)
def test_page_has_exactly_one_main_heading_inside_main(get_page, path):
    document = get_page(path)
    [heading] = document.find_all("h1")
    assert heading in document.find("main").iter()
    assert heading.text


@pytest.mark.parametrize("path", PAGES_AND_STATES)
def test_page_offers_a_visible_link_to_book_a_consultation(get_page, path):
    links = [
        a
        for a in get_page(path).find_all("a", href="/book/")
        if a.text == "Book a consultation" and is_visible(a)
    ]
    assert links
    # The one in the header is reachable from the top of every page.
    assert any("header" in [e.tag for e in link.ancestors()] for link in links)


@pytest.mark.parametrize("path", PAGES_AND_STATES)
def test_page_markup_is_allowed_by_the_content_security_policy(client, path):
    response = client.get(path)

    assert "script-src 'self'" in response["Content-Security-Policy"]
    elements = list(parse_html(response.content).iter())
    assert [e for e in elements if "style" in e.attrs] == []
    assert [e for e in elements if e.tag == "style"] == []
    assert [e for e in elements if any(name.startswith("on") for name in e.attrs)] == []
    scripts = [
        e for e in elements if e.tag == "script" and e.attrs.get("type") != "application/ld+json"
    ]
    # No inline script anywhere; the booking page's steps alone load the
    # site's own files (htmx and booking-steps.js, progressive enhancement).
    assert [e for e in scripts if not e.attrs.get("src", "").startswith("/static/js/")] == []
    assert [e for e in scripts if e.text.strip()] == []
    if not path.startswith("/book/"):
        assert scripts == []
    assert [
        e for e in elements if e.attrs.get("href", "").strip().lower().startswith("javascript:")
    ] == []


@pytest.mark.parametrize("path", PAGES_AND_STATES)
def test_page_weighs_at_most_14_kb_gzipped(client, path):
    # 14 KB is what the first round trip of a new TCP connection can carry.
    response = client.get(path)
    assert response.status_code == 200
    assert len(gzip.compress(response.content)) <= 14 * 1024
