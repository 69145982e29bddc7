"""
A database of its own for a migration scenario, of the test run's kind: a
throwaway PostgreSQL database in the PostgreSQL pass, a SQLite file in the
SQLite pass; and a scenario script run on it in a separate process, so the
test database is left as it is.
"""

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def throwaway_database(suffix):
    """The URL of an empty database named after the test database and `suffix`."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        host, user = settings["HOST"] or "127.0.0.1", settings["USER"]
        name = f"{settings['NAME']}_{suffix}"
        dropdb = ["dropdb", "--if-exists", "-h", host, "-U", user, name]
        subprocess.run(dropdb, check=True)
        subprocess.run(["createdb", "-h", host, "-U", user, name], check=True)
        try:
            yield f"postgres://{user}@{host}:{settings['PORT'] or 5432}/{name}"
        finally:
            subprocess.run(dropdb, check=True)
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/{suffix}.sqlite3"


def run_scenario(script, database_url, *, timeout=300):
    """Run `script` under the local settings on `database_url`; the JSON it printed last."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings.local",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
