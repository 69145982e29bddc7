"""
On a phone (390×844 CSS pixels) every public page fits the screen's width,
and every tap target is at least 24×24 px (WCAG 2.2's 2.5.8, with its
exceptions for links inside sentences and for well-spaced targets).
"""

import pytest

from tests.support.browser import PHONE, choose_time, phone_layout
from tests.support.pages import PUBLIC_PATHS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


REQUEST_FORM = "/book/ (a time chosen: the request form)"


def test_public_pages_fit_a_phone_screen_with_big_enough_tap_targets(open_page):
    page = open_page(None, viewport=PHONE)
    problems = {}
    for path in [*PUBLIC_PATHS, "/book/?from=bad", REQUEST_FORM]:
        if path == REQUEST_FORM:  # the booking page's step 5: its first time, chosen
            assert page.goto("/book/?type=medical-grade-facial-consultation").ok
            choose_time(page)
        else:
            assert page.goto(path).ok, path
        layout = phone_layout(page)
        assert layout["targets"] > 5, f"{path}: no links or controls found"
        found = []
        if layout["scrollWidth"] > layout["viewportWidth"]:
            found.append(
                f"scrolls sideways: {layout['scrollWidth']} px wide"
                f" in a {layout['viewportWidth']} px screen"
            )
        found += [f"tap target too small: {target}" for target in layout["smallTargets"]]
        if found:
            problems[path] = found
    assert not problems, "\n".join(
        f"{path}:\n" + "\n".join(f"  - {line}" for line in lines)
        for path, lines in problems.items()
    )
