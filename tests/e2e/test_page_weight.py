"""
Each public page, with everything the browser fetches for it (HTML, CSS,
images, fonts, scripts), weighs under 100 KB transferred (issue 19's budget:
the booking page's steps load htmx, about 17 KB of it).

In production whitenoise serves static files pre-compressed; under the test
server it serves them as they are, so each text resource is counted at its
gzip size here (level 6, what GZipMiddleware and most servers use, and a
little more than the Brotli files whitenoise prefers). Response headers are
counted as the browser received them.
"""

import gzip
from urllib.parse import urlsplit

import pytest

from tests.support.browser import BASE_DIR
from tests.support.pages import PUBLIC_PATHS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

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


def test_each_public_page_weighs_under_100_kb(open_page, capsys):
    page = open_page(None)
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
        # The favicon comes after the load event.
        page.wait_for_load_state("networkidle")
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
        if sum(size for _, size in resources) >= BUDGET
    }
    assert not too_heavy, f"over {BUDGET // 1024} KB: {too_heavy}"
    # Every page loads its style sheets; a page that lost them would be light for the wrong reason.
    for path, resources in weights.items():
        assert any(url.endswith(".css") for url, _ in resources), path
