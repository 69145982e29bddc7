"""
The Nu HTML Checker (vnu-jar, the W3C validator's engine) finds no error on
any public page, on the forms in their error state, on the booking
confirmation or the manage page, nor in the site's own style sheet. One Java
run checks every file: the JVM's start-up is most of the cost.
"""

import json
import subprocess

import pytest
from django.urls import reverse

from booking.models import ConsultationBooking
from tests.e2e.conftest import BASE_DIR, PUBLIC_PATHS
from tests.e2e.helpers import VISITOR
from tests.markup import form_data, parse_html

pytestmark = pytest.mark.django_db

CANARY = '<!doctype html><html lang="en"><title>Canary</title><p id="twice"><p id="twice">'


def booked_pages(client):
    """The pages a visitor sees around a booking of their own, as (name, response) pairs."""
    form = parse_html(client.get("/book/").content).find("form", class_="booking-form")
    data = form_data(form)
    data |= VISITOR
    data["slot"] = form.find("input", name="slot").attrs["value"]
    data["consent"] = "on"
    received = client.post("/book/", data, follow=True)
    assert received.redirect_chain, "the booking was not accepted"
    booking = ConsultationBooking.objects.get(email=VISITOR["email"])
    manage_url = booking.get_manage_url()
    move_refused = client.post(manage_url, {"action": "move"})
    assert move_refused.status_code == 200
    return [
        ("booking-received", received),
        ("manage-booking", client.get(manage_url)),
        ("manage-booking-with-anyone", client.get(manage_url, {"with": "any"})),
        ("manage-booking-move-refused", move_refused),
    ]


# A practitioner who does not hold the consultation chosen: the form explains
# instead of showing times.
MISMATCH = {"type": "medical-grade-facial-consultation", "practitioner": "maya-chen"}


def test_pages_are_valid_html(client, vnu_command, tmp_path):
    responses = [(path, client.get(path)) for path in PUBLIC_PATHS]
    responses += [
        ("booking-form-errors", client.post("/book/", {})),
        ("booking-form-mismatch", client.get("/book/", MISMATCH)),
        ("booking-form-show-times", client.post("/book/", {**MISMATCH, "show_times": "1"})),
        ("guide-errors", client.get("/guide/", {"sensitivity": "not-on-the-list"})),
        ("not-found", client.get("/no-such-page/")),
        ("manage-link-invalid", client.get(reverse("booking:manage", args=["not-a-link"]))),
        *booked_pages(client),
    ]
    files = {}
    for number, (name, response) in enumerate(responses):
        assert response.status_code in {200, 404}, f"{name} answered {response.status_code}"
        assert response["Content-Type"].startswith("text/html"), name
        target = tmp_path / f"{number:02d}.html"
        target.write_bytes(response.content)
        files[str(target)] = name
    files[str(BASE_DIR / "static" / "css" / "site.css")] = "static/css/site.css"
    # A page with a known error proves the checker read the files it was given.
    canary = tmp_path / "canary.html"
    canary.write_text(CANARY)
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
