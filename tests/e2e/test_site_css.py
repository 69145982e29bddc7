"""
The site's style sheet, static/css/site.css, is built from Bootstrap's Sass
sources and the clinic's own styles (static/scss/) by `make css`, and
committed, so serving the site needs no npm. The committed file is what
the sources build, and it holds every Bootstrap class the pages use: the
build takes only the parts of Bootstrap the templates need.

Both checks need the npm packages (`make e2e-deps`): without them they skip
locally and fail in CI, as the other browser-side checks do.
"""

import re
import subprocess

import pytest
from django.template.loader import render_to_string

from tests.support.browser import BASE_DIR, NODE_MODULES
from tests.support.html import parse_html
from tests.support.pages import visitor_pages
from tests.support.tools import require

SITE_CSS = BASE_DIR / "static" / "css" / "site.css"
SASS = NODE_MODULES / ".bin" / "sass"
BOOTSTRAP_CSS = NODE_MODULES / "bootstrap" / "dist" / "css" / "bootstrap.css"
TEMPLATES = BASE_DIR / "templates"
# Pages rendered without the database or context processors: the test
# client cannot reach them as a visitor would, so they are rendered here.
STANDALONE_PAGES = ["400.html", "500.html", "503.html"]


def test_committed_style_sheet_is_what_make_css_builds(tmp_path):
    require(SASS.is_file(), f"sass ({SASS})", "make e2e-deps")
    built = tmp_path / "site.css"
    # The Makefile's own recipe, into a file of the test's; `-o` keeps make
    # from running `npm ci` first.
    subprocess.run(
        ["make", "--silent", "-o", "node_modules/.package-lock.json", "css", f"CSS_OUT={built}"],
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert built.read_bytes() == SITE_CSS.read_bytes(), (
        "static/css/site.css is not what static/scss/ builds: run `make css` and commit the result"
    )


def class_selectors(css):
    """The class names the style sheet's selectors name (not those in its declarations)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    preludes = re.findall(r"([^{};]+)\{", css)
    return {name for prelude in preludes for name in re.findall(r"\.(-?[_a-zA-Z][\w-]*)", prelude)}


# Templates of the admin's pages, which have the admin's styles: its own and
# overrides under admin/, the front desk's pages, the two-factor pages, the
# health answers as the booking's admin page shows them.
ADMIN_TEMPLATES = (
    "admin/",
    "booking/front_desk/",
    "staff_access/",
    "booking/screening/includes/health_answers.html",
)


def template_classes():
    """The class names written in the site's templates, outside template tags."""
    names = set()
    for template in TEMPLATES.rglob("*.html"):
        name = template.relative_to(TEMPLATES).as_posix()
        if name.startswith((*ADMIN_TEMPLATES, "emails/")):
            continue  # the admin's pages have the admin's styles; emails are text
        for value in re.findall(r'class="([^"]*)"', template.read_text()):
            names |= set(re.sub(r"{%.*?%}|{{.*?}}", " ", value).split())
    return names


@pytest.mark.django_db
def test_every_bootstrap_class_the_pages_use_is_built(client):
    require(BOOTSTRAP_CSS.is_file(), f"Bootstrap's CSS ({BOOTSTRAP_CSS})", "make e2e-deps")
    used = {}
    # The rendered pages carry the classes of crispy-bootstrap5's form
    # markup; the templates' own text, those of states no page here shows.
    pages = [(name, response.content) for name, response in visitor_pages(client)]
    pages += [(name, render_to_string(name)) for name in STANDALONE_PAGES]
    for name, html in pages:
        for element in parse_html(html).iter():
            for class_name in element.attrs.get("class", "").split():
                used.setdefault(class_name, name)
    for class_name in template_classes():
        used.setdefault(class_name, "templates/")

    bootstrap = class_selectors(BOOTSTRAP_CSS.read_text())
    built = class_selectors(SITE_CSS.read_text())
    from_bootstrap = used.keys() & bootstrap
    assert {"btn", "form-control", "alert", "container"} <= from_bootstrap
    missing = sorted(from_bootstrap - built)
    assert not missing, (
        "Bootstrap classes the pages use that static/scss/site.scss does not build: "
        + (", ".join(f"{class_name} (on {used[class_name]})" for class_name in missing))
    )
