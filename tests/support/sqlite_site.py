"""
A SQLite database file migrated as `make run` migrates it (seed content, the
overlap triggers), for tests that run the site's own processes on one file.

`migrate` runs once per test run, into a template every worker shares
(tests.support.shared); each test gets its own copy, so none sees another's rows.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The write-ahead log and its index travel with the file (local settings use WAL).
SUFFIXES = ("", "-wal", "-shm")
TEMPLATE_NAME = "migrated.sqlite3"


def local_environment(database, **values):
    """The local settings (as `make run`) on `database`, with no Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV"}
    }
    return env | {
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings.local",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **values,
    }


def migrate_into(folder):
    """`make run`'s database, migrated into `folder` as `migrated.sqlite3`."""
    database = Path(folder) / TEMPLATE_NAME
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=local_environment(database),
        check=True,
        timeout=300,
    )
    # Fold the write-ahead log into the file, so the file alone is the whole database.
    with closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass
class SqliteSite:
    """A test's own copy of the migrated database, and the environment to run the site on it."""

    path: Path

    @classmethod
    def copied_from(cls, template_folder, folder):
        template = Path(template_folder) / TEMPLATE_NAME
        path = Path(folder) / "site.sqlite3"
        for suffix in SUFFIXES:
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
        return cls(path)

    def environment(self, **values):
        return local_environment(self.path, **values)

    def rows(self, sql, parameters=()):
        with closing(sqlite3.connect(self.path)) as db:
            return db.execute(sql, parameters).fetchall()
