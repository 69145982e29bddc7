"""The Nu HTML Checker finds no error in the two-factor pages: enrolment, the code page, the recovery codes."""

import json
import subprocess

import pytest
from django.contrib.auth.models import Group

from tests.support.html import parse_html
from tests.support.two_factor import code, password_sign_in, wait_for_a_fresh_step

pytestmark = pytest.mark.django_db

CANARY = '<!doctype html><html lang="en"><title>Canary</title><p id="twice"><p id="twice">'


def test_the_two_factor_pages_are_valid_html(client, django_user_model, vnu_command, tmp_path):
    lead = django_user_model.objects.create_user("lead", password="right-password", is_staff=True)
    lead.groups.add(Group.objects.get(name="Clinical leads"))
    password_sign_in(client, "lead", "right-password")
    enrolment = client.get("/admin/two-factor/enrol/")
    with_error = client.post("/admin/two-factor/enrol/", {"code": "12"})
    key = parse_html(enrolment.content).find(id="setup-key").get_text()
    wait_for_a_fresh_step()
    recovery_codes = client.post("/admin/two-factor/enrol/", {"code": code(key)})
    overview = client.get("/admin/two-factor/")
    client.post("/admin/logout/")
    password_sign_in(client, "lead", "right-password")
    code_page = client.get("/admin/two-factor/code/")
    wrong_code = client.post("/admin/two-factor/code/", {"code": "000000"})
    files = {}
    for name, response in [
        ("enrolment", enrolment),
        ("enrolment with an error", with_error),
        ("recovery codes", recovery_codes),
        ("overview", overview),
        ("code page", code_page),
        ("wrong code", wrong_code),
    ]:
        assert response.status_code == 200, name
        target = tmp_path / f"{name.replace(' ', '-')}.html"
        target.write_bytes(response.content)
        files[str(target)] = name
    assert b'id="recovery-codes"' in recovery_codes.content
    assert b"errornote" in wrong_code.content
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
