"""
The browser tests: Playwright for Python drives Debian's Chromium
(/usr/bin/chromium; `playwright install` is never used) against
pytest-django's live server, and the audits run the npm tools pinned in
package-lock.json (axe-core, the Nu HTML Checker).

A missing tool skips these tests locally, with the reason and the command
that installs it. In CI (CI=true) it fails them instead: CI is where they
must run.
"""

import os
import shutil

import pytest

from tests.support.browser import AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, DESKTOP, VNU_JAR
from tests.support.tools import require


@pytest.fixture(scope="session")
def axe_script():
    require(AXE_SCRIPT.is_file(), f"axe-core ({AXE_SCRIPT})", "make e2e-deps")
    return AXE_SCRIPT


@pytest.fixture(scope="session")
def vnu_command():
    """The Nu HTML Checker's command line, less the files to check."""
    java = shutil.which("java")
    require(
        java is not None,
        "Java (for the Nu HTML Checker)",
        "apt-get install -y default-jre-headless",
    )
    require(VNU_JAR.is_file(), f"the Nu HTML Checker ({VNU_JAR})", "make e2e-deps")
    return [java, "-jar", str(VNU_JAR)]


@pytest.fixture(scope="package")
def chromium():
    """
    One Chromium for all the browser tests in this package.

    While it runs, Playwright's synchronous API keeps an asyncio event loop
    marked as running in this thread, although the test code never runs
    inside it. Django then takes the thread for async code: it refuses ORM
    calls ("cannot call this from an async context"), and it looks database
    connections up in a separate, empty, async-only store, where a new
    connection would lack the test database's serialized seed content (and,
    with in-memory SQLite, would not be the one the live server shares). So,
    for this package's tests only: the check is switched off and the same
    connection objects are put in that store. Package scope stops Playwright
    (and undoes both) before any other test module runs.
    """
    require(CHROMIUM.is_file(), f"Chromium ({CHROMIUM})", "apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev dependency group has it
        require(False, "Playwright for Python", "make install")
    from django.db import connections

    test_connections = {alias: connections[alias] for alias in connections}
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        for alias, connection in test_connections.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
    # Back in plain synchronous mode, Django finds the same connections again.
    assert all(connections[alias] is test_connections[alias] for alias in test_connections)


@pytest.fixture
def seeded_site(live_server):
    """
    The live server runs in a transactional test, which empties the
    database afterwards; `serialized_rollback=True` on each test brings the
    data migrations' content back first. Check it is there, so a missing
    seed fails here and not as a puzzling page later.
    """
    from django.contrib.auth.models import Group

    from booking.models import ConsultationType, Practitioner, WorkingHours
    from treatments.models import FAQ, SitePage, Treatment

    assert Treatment.objects.published().count() == 2
    assert SitePage.objects.filter(key="home").exists()
    assert FAQ.objects.published().exists()
    assert Practitioner.objects.bookable_online().count() == 2
    assert WorkingHours.objects.exists()
    assert ConsultationType.objects.bookable_online().count() == 3
    assert set(Group.objects.values_list("name", flat=True)) >= {"Front desk", "Content editors"}
    return live_server


@pytest.fixture
def open_page(chromium, seeded_site):
    """
    open_page(path, viewport=DESKTOP, javascript=True, scale=1) -> a Playwright page on the live
    server (`scale`: device pixels per CSS pixel, which decides the pictures' sizes).

    Each call gets a fresh browser context (its own cookies and cache). The
    pages run under their real Content-Security-Policy, and any violation
    of it (an inline script or style, a resource from elsewhere) fails the
    test.
    """
    contexts = []
    violations = []

    def report(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url}: {message.text}")

    def open_page(path="/", *, viewport=DESKTOP, javascript=True, scale=1):
        context = chromium.new_context(
            base_url=seeded_site.url,
            viewport=viewport,
            device_scale_factor=scale,
            locale="en-US",
            reduced_motion="reduce",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", report)
        page.on("pageerror", lambda error: violations.append(f"{page.url}: {error}"))
        if path is not None:
            response = page.goto(path)
            assert response.ok, f"{path} answered {response.status}"
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not violations, "\n".join(violations)


@pytest.fixture
def page(open_page):
    """A desktop-sized page, not yet at any address."""
    return open_page(None)
