"""
Backups that are known to restore: `make backup` and `make restore`, and
the clinic-backup timer in deploy/systemd/.

    python scripts/backup.py backup
    python scripts/backup.py restore [STAMP|latest] [--database-url URL] [--media-root DIR] [--overwrite]

A backup is a pair of files in BACKUP_DIR named by the UTC time it began:
`clinic-<stamp>.dump`, `pg_dump`'s custom format of DATABASE_URL (every
table, constraint, index and trigger, e.g. the one that refuses changes to
the health form reads), and `clinic-<stamp>-media.tar.gz`, the uploaded
files in MEDIA_ROOT (an empty archive while there are none). The newest
BACKUP_KEEP backups are kept, older ones deleted.

A restore creates a database (never writing into one that holds tables
unless told `--overwrite`), restores the dump into it and the media into a
folder (likewise), and prints how to point the site at them. It never
touches the database the site runs on unless that is the one named.

Only PostgreSQL, production's database: `make run`'s SQLite file is a
development database, copied as a file if wanted.

Plain Python (no Django): it runs from the timer with the site's environment
file, and when the site itself cannot start.
"""

import argparse
import os
import re
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clinic"
DEFAULT_KEEP = 14
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DUMP = re.compile(r"^clinic-(\d{8}T\d{6}Z)\.dump$")


class BackupError(Exception):
    """Something the person running the backup or restore must fix; said in one line."""


def database_url(value):
    """The URL if it is PostgreSQL; a clear refusal otherwise."""
    scheme = urlsplit(value).scheme
    if scheme not in {"postgres", "postgresql"}:
        raise BackupError(
            f"DATABASE_URL is {scheme or 'not set'}, not PostgreSQL: backups cover production's "
            "PostgreSQL database only. make run's SQLite file (db.sqlite3) is a development "
            "database; copy the file while the site is stopped if you want to keep it."
        )
    return value


def with_database(url, name):
    """`url` pointed at the database `name` on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def shown(url):
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backups(folder):
    """The stamps of the complete backups in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    stamps = (DUMP.match(path.name) for path in folder.iterdir())
    return sorted(m[1] for m in stamps if m and (folder / f"clinic-{m[1]}-media.tar.gz").exists())


def files_of(folder, stamp):
    return folder / f"clinic-{stamp}.dump", folder / f"clinic-{stamp}-media.tar.gz"


# --- Backup ----------------------------------------------------------------------


def back_up(*, url, folder, media_root, keep, now=None):
    """Write one backup into `folder` and keep the newest `keep`; returns its stamp."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime(STAMP_FORMAT)
    dump, media = files_of(folder, stamp)
    # Written under temporary names beside the backup (one filesystem, so
    # the rename is atomic) and renamed when whole: a backup cut short (full
    # disk, killed) is never counted among the copies kept.
    partial_dump, partial_media = (path.with_name(path.name + ".partial") for path in (dump, media))
    try:
        run(["pg_dump", "--format=custom", f"--file={partial_dump}", f"--dbname={url}"])
        files = write_media(partial_media, media_root)
        partial_dump.rename(dump)
        partial_media.rename(media)
    finally:
        partial_dump.unlink(missing_ok=True)
        partial_media.unlink(missing_ok=True)
    removed = prune(folder, keep)
    print(f"Backed up {shown(url)} to {dump} ({dump.stat().st_size:,} bytes)")
    if files:
        print(f"Backed up {files} media file(s) from {media_root} to {media}")
    else:
        print(f"No media files yet ({media_root} is missing or empty): {media} is empty")
    if removed:
        print(f"Removed {len(removed)} older backup(s), keeping the newest {keep}")
    return stamp


def write_media(archive, media_root):
    """A gzipped tar of `media_root`'s files (none if it is missing); how many files."""
    count = 0
    with tarfile.open(archive, "w:gz") as tar:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    count += 1
    return count


def prune(folder, keep):
    """Delete all but the newest `keep` backups; the stamps removed."""
    stamps = backups(folder)
    old = stamps[: max(len(stamps) - keep, 0)]
    for stamp in old:
        for path in files_of(folder, stamp):
            path.unlink(missing_ok=True)
    return old


# --- Restore ---------------------------------------------------------------------


def restore(*, stamp, folder, source_url, target_url, media_root, overwrite):
    """Restore the backup `stamp` ('latest' for the newest) into a fresh database and folder."""
    stamps = backups(folder)
    if not stamps:
        raise BackupError(f"No backups in {folder} (BACKUP_DIR)")
    stamp = stamps[-1] if stamp == "latest" else stamp
    if stamp not in stamps:
        raise BackupError(f"No backup {stamp} in {folder}; there are: {', '.join(stamps)}")
    dump, media = files_of(folder, stamp)
    target_url = target_url or with_database(
        source_url, f"{database_name(source_url)}_restored_{stamp.lower()}"
    )
    database_url(target_url)
    if media_root.is_dir() and any(media_root.iterdir()) and not overwrite:
        raise BackupError(
            f"{media_root} already holds files: restore the media into an empty folder "
            "(--media-root), or add --overwrite to write over them"
        )
    fresh_database(target_url, overwrite=overwrite)
    run(["pg_restore", "--exit-on-error", "--no-owner", f"--dbname={target_url}", str(dump)])
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(media) as tar:
        members = [member for member in tar.getmembers() if member.isfile()]
        # The "data" filter refuses absolute paths, links out of the folder
        # and device files: an archive cannot write outside MEDIA_ROOT.
        tar.extractall(media_root, members=members, filter="data")
    print(f"Restored the database of {stamp} into {shown(target_url)}")
    print(f"Restored {len(members)} media file(s) into {media_root}")
    print(
        "To point the site at them: set DATABASE_URL to that URL (and MEDIA_ROOT to that "
        "folder) in /etc/clinic/clinic.env, run `manage.py migrate --check` and `manage.py "
        "check --deploy` with it, then `systemctl restart clinic-web clinic-worker`."
    )
    return target_url


def fresh_database(url, *, overwrite):
    """Create the database `url` names; one that exists must be empty, or `overwrite` given."""
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as server:
        exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            with psycopg.connect(url) as database:
                tables = database.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                    "('pg_catalog', 'information_schema')"
                ).fetchone()[0]
            if tables and not overwrite:
                raise BackupError(
                    f"Database {name} already holds {tables} table(s): restore into a new "
                    "database (--database-url), or add --overwrite to drop and replace it"
                )
            if not tables:
                return
            server.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- Command line ----------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("backup", help="back up DATABASE_URL and MEDIA_ROOT into BACKUP_DIR")
    restoring = commands.add_parser("restore", help="restore a backup into a fresh database")
    restoring.add_argument("stamp", nargs="?", default="latest", help="e.g. 20261207T031500Z")
    restoring.add_argument(
        "--database-url", help="the database to create (default: <name>_restored_<stamp>)"
    )
    restoring.add_argument(
        "--media-root", type=Path, help="where the media go (default: MEDIA_ROOT)"
    )
    restoring.add_argument(
        "--overwrite", action="store_true", help="replace a database or folder that is not empty"
    )
    arguments = parser.parse_args(argv)

    folder = Path(os.environ.get("BACKUP_DIR") or ROOT / "backups")
    media_root = Path(os.environ.get("MEDIA_ROOT") or ROOT / "media")
    try:
        url = database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        if arguments.command == "backup":
            keep = os.environ.get("BACKUP_KEEP") or str(DEFAULT_KEEP)
            if not keep.isdigit() or int(keep) < 1:
                raise BackupError(f"BACKUP_KEEP must be a whole number of at least 1, not {keep!r}")
            back_up(url=url, folder=folder, media_root=media_root, keep=int(keep))
        else:
            restore(
                stamp=arguments.stamp,
                folder=folder,
                source_url=url,
                target_url=arguments.database_url,
                media_root=arguments.media_root or media_root,
                overwrite=arguments.overwrite,
            )
    except (BackupError, psycopg.OperationalError, OSError) as error:
        print(f"{arguments.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
