"""
The Nu HTML Checker (vnu-jar, the W3C validator's engine) finds no error on
any public page, on the forms in their error state, on the booking
confirmation or the manage page, nor in the site's own style sheet. One Java
run checks every file: the JVM's start-up is most of the cost.
"""

import json
import subprocess

import pytest

from tests.support.browser import BASE_DIR, VNU_CANARY
from tests.support.pages import visitor_pages

pytestmark = pytest.mark.django_db


def test_pages_are_valid_html(client, vnu_command, tmp_path):
    files = {}
    for number, (name, response) in enumerate(visitor_pages(client)):
        assert response.status_code in {200, 404}, f"{name} answered {response.status_code}"
        assert response["Content-Type"].startswith("text/html"), name
        target = tmp_path / f"{number:02d}.html"
        target.write_bytes(response.content)
        files[str(target)] = name
    files[str(BASE_DIR / "static" / "css" / "site.css")] = "static/css/site.css"
    # A page with a known error proves the checker read the files it was given.
    canary = tmp_path / "canary.html"
    canary.write_text(VNU_CANARY)
    files[str(canary)] = "canary"

    result = subprocess.run(
        [*vnu_command, "--format", "json", "--stdout", "--exit-zero-always", "--also-check-css"]
        + list(files),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    errors = {}
    for message in json.loads(result.stdout)["messages"]:
        if message["type"] in {"error", "non-document-error"}:
            name = files.get(message.get("url", "").removeprefix("file:"), message.get("url"))
            errors.setdefault(name, []).append(
                f"line {message.get('lastLine')}: {message['message']}"
                f" — {message.get('extract', '').strip()}"
            )
    assert errors.pop("canary", None), "the checker did not report the canary's error"
    assert not errors, "\n".join(
        f"{name}:\n" + "\n".join(f"  - {line}" for line in lines) for name, lines in errors.items()
    )
