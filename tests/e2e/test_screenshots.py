"""
Screenshots of the main pages at desktop and phone widths, saved to
artifacts/screenshots/ (ignored by git) for a person to look at; the README
shows a few of them, copied to docs/screenshots/.
"""

import pytest

from tests.support.browser import BASE_DIR, DESKTOP, PHONE
from tests.support.pages import GUIDE_RESULT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = BASE_DIR / "artifacts" / "screenshots"
PAGES = {
    "home": "/",
    "comparison": "/compare/",
    "guide-result": GUIDE_RESULT,
    "booking": "/book/?treatment=medical-grade-facial",
    "team": "/team/",
}


@pytest.mark.parametrize(
    ("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)], ids=["desktop", "phone"]
)
def test_screenshots_of_the_main_pages(open_page, width, viewport):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(None, viewport=viewport)
    for name, path in PAGES.items():
        assert page.goto(path).ok, path
        target = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=target, full_page=True)
        assert target.stat().st_size > 10_000, f"{target} looks empty"
