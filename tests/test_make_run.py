"""`make run` on another port says where the staff admin is on that port."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_on_another_port_prints_the_staff_admin_address_on_that_port(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "SITE_URL", "PORT", "MAKE"))
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    # What `PORT=8001 make run` would run, without running it (it serves
    # forever), with this interpreter in place of `uv run` (which, inside
    # `make test`, would find the virtualenv's Python first, without uv).
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"MANAGE={sys.executable} manage.py"],
        cwd=ROOT,
        env=env | {"PORT": "8001"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    [serve] = [line for line in planned if "runserver" in line]
    [staff] = [line for line in planned if "ensure_local_staff" in line]
    assert serve.endswith("runserver 127.0.0.1:8001")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )

    # The staff account's line, run by the shell as make runs it.
    printed = subprocess.run(
        ["sh", "-c", staff],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout

    assert "Staff admin: http://127.0.0.1:8001/admin/" in printed, printed
