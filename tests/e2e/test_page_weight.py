"""
Each public page on a phone, with everything the browser fetches for it
(HTML, CSS, every photograph once scrolled into view, fonts, scripts),
weighs at most 150 KB transferred for the home page, hero photograph
included, and at most 100 KB for any other page.

The phone is 390 CSS pixels wide at 2 device pixels each, so pictures come
at twice their width on screen, as on most phones.
The booking page's steps load htmx, about 17 KB of it.

In production whitenoise serves static files pre-compressed; under the test
server it serves them as they are, so each text resource is counted at its
gzip size here (level 6, what GZipMiddleware and most servers use, and a
little more than the Brotli files whitenoise prefers). Response headers are
counted as the browser received them.
"""

import gzip
from urllib.parse import urlsplit

import pytest

from tests.support.browser import BASE_DIR, PHONE
from tests.support.pages import PUBLIC_PATHS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HOME_BUDGET = 150 * 1024
BUDGET = 100 * 1024
COMPRESSIBLE = ("text/", "image/svg+xml", "application/javascript", "application/json")
# The booking page with a consultation and a practitioner chosen: the most steps shown before a time.
BOOKING_STEPS = "/book/?type=medical-grade-facial-consultation&practitioner=daniel-okafor"
REPORT = BASE_DIR / "artifacts" / "page-weight.txt"


def transferred(response):
    """Bytes on the wire for one response: headers plus the body as a compressing server sends it."""
    body = response.body()
    content_type = response.headers.get("content-type", "")
    if content_type.startswith(COMPRESSIBLE):
        body = gzip.compress(body, compresslevel=6, mtime=0)
    return response.request.sizes()["responseHeadersSize"] + len(body)


def budget(path):
    return HOME_BUDGET if path == "/" else BUDGET


def test_each_public_page_on_a_phone_weighs_within_its_budget(open_page, capsys):
    page = open_page(None, viewport=PHONE, scale=2)
    # No cache: every figure is a first visit's.
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses = []
    page.on("response", lambda response: responses.append(response))
    weights = {}
    for path in [*PUBLIC_PATHS, BOOKING_STEPS]:
        responses.clear()
        assert page.goto(path).ok, path
        # Lazy photographs load as they come into view: the figure is the
        # whole page read to its end. The favicon comes after the load event.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        page.wait_for_function("() => [...document.images].every((image) => image.complete)")
        weights[path] = [
            (urlsplit(response.url).path, transferred(response)) for response in responses
        ]

    lines = ["Page weight (transferred, gzip): page, total, resources"]
    for path, resources in weights.items():
        total = sum(size for _, size in resources)
        parts = ", ".join(f"{url} {size / 1024:.1f}" for url, size in resources)
        lines.append(f"{path:<40} {total / 1024:5.1f} KB  ({parts})")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(lines))

    too_heavy = {
        path: sum(size for _, size in resources)
        for path, resources in weights.items()
        if sum(size for _, size in resources) > budget(path)
    }
    assert not too_heavy, f"over budget (home 150 KB, others 100 KB): {too_heavy}"
    # Every page loads its style sheets; a page that lost them would be light for the wrong reason.
    for path, resources in weights.items():
        assert any(url.endswith(".css") for url, _ in resources), path
    # And the pages with photographs fetched them (in the best format).
    for path in ["/", "/treatments/", "/treatments/medical-grade-facial/", "/team/"]:
        assert any(url.endswith(".avif") for url, _ in weights[path]), path
