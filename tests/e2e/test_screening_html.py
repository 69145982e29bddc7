"""
The Nu HTML Checker finds no error in the booking form with health
questions: as first shown, after “Check my answers” with problems, and with
the outcome.
"""

import json
import subprocess

import pytest

from tests.support.booking import BOOK_URL, booking_form, filled_booking_form, page
from tests.support.html import form_data
from tests.support.screening import key, publish_example

pytestmark = pytest.mark.django_db

CANARY = '<!doctype html><html lang="en"><title>Canary</title><p id="twice"><p id="twice">'

MEDICAL_PAGE = f"{BOOK_URL}?type=medical-grade-facial-consultation&practitioner=daniel-okafor"
PREGNANT = "Are you pregnant, or could you be?"
INFECTION = "Do you have an active skin infection or a cold sore at the moment?"
RETINOID = (
    "Have you used a retinoid cream or serum (such as tretinoin or retinol) in the past week?"
)
PEEL = "When did you last have injectables or a chemical peel?"


def test_the_health_questions_are_valid_html(client, vnu_command, tmp_path):
    version = publish_example()
    first = client.get(MEDICAL_PAGE)
    _, data = filled_booking_form(client, MEDICAL_PAGE)
    with_problems = client.post(BOOK_URL, data | {"check_answers": "1"})
    answers = {
        f"q_{key(version, PREGNANT)}": "yes",
        f"q_{key(version, INFECTION)}": "no",
        f"q_{key(version, RETINOID)}": "no",
        f"q_{key(version, PEEL)}": "Never, or more than a month ago",
        "health_consent": "on",
    }
    with_outcome = client.post(BOOK_URL, data | answers | {"check_answers": "1"})
    sent_unchecked = client.post(
        BOOK_URL, form_data(booking_form(page(with_outcome))) | {"full_name": ""}
    )
    files = {}
    for name, response in [
        ("asked", first),
        ("with problems", with_problems),
        ("with the outcome", with_outcome),
        ("sent with an error", sent_unchecked),
    ]:
        assert response.status_code == 200, name
        target = tmp_path / f"{name.replace(' ', '-')}.html"
        target.write_bytes(response.content)
        files[str(target)] = name
    assert b'id="health-outcome"' in with_outcome.content
    assert b'id="health-errors"' in with_problems.content
    # A page with a known error proves the checker read the files it was given.
    canary = tmp_path / "canary.html"
    canary.write_text(CANARY)
    files[str(canary)] = "canary"

    result = subprocess.run(
        [*vnu_command, "--format", "json", "--stdout", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    errors = [
        f"{files.get(message.get('url', '').removeprefix('file:'))}: line "
        f"{message.get('lastLine')}: {message['message']}"
        for message in json.loads(result.stdout)["messages"]
        if message["type"] in {"error", "non-document-error"}
    ]
    assert [error for error in errors if error.startswith("canary:")], "the checker read nothing"
    errors = [error for error in errors if not error.startswith("canary:")]
    assert not errors, "\n".join(errors)
