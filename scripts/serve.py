"""
`make serve`: the production stack on this machine, as deploy/ runs it on a
clinic's server. nginx (deploy/nginx/clinic-app.conf, plain HTTP on
127.0.0.1:$PORT) in front of gunicorn (gunicorn.conf.py, on a free loopback
port), the task worker (`manage.py db_worker`) beside them, and the timers'
jobs (`send_outbox`, `send_reminders`, `sweep_waitlist`) every minute. Production settings on
PostgreSQL and Redis, from the environment the Makefile sets.

Everything runs from .serve/ (SERVE_DIR: nginx's configuration, pid, logs and
temporary files; collectstatic's output in public/static/ there); Ctrl-C
stops it all. The database DATABASE_URL names is created if it is missing.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.live_server import ROOT, Gunicorn, Nginx, TaskWorker, manage  # noqa: E402

FOLDER = Path(os.environ.get("SERVE_DIR") or ROOT / ".serve")
JOBS = ["send_outbox", "send_reminders", "sweep_waitlist"]
JOB_INTERVAL_SECONDS = 60


def log(message):
    print(f"serve: {message}", file=sys.stderr, flush=True)


def ensure_database(url):
    """Create the PostgreSQL database `url` names if the server lacks it."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created the database {name}")


def main():
    port = int(os.environ.get("PORT", "8000"))
    public = FOLDER / "public"
    env = dict(os.environ) | {
        "DJANGO_ENV": "production",
        "STATIC_ROOT": str(public / "static"),
        # nginx serves the photographs from here (deploy/nginx/clinic-app.conf).
        "MEDIA_ROOT": str(public / "media"),
        # nginx is the one proxy in front, and says whether the visitor used HTTPS.
        "SECURE_PROXY_SSL_HEADER": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "PYTHONUNBUFFERED": "1",
    }
    FOLDER.mkdir(parents=True, exist_ok=True)
    ensure_database(env["DATABASE_URL"])
    log("migrate, collectstatic")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "-v", "0")

    services = []
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        app = Gunicorn(env=env, log_path=FOLDER / "gunicorn.log")
        services.append(app.start())
        log(f"gunicorn on {app.origin} (log: .serve/gunicorn.log)")
        services.append(TaskWorker(env=env, log_path=FOLDER / "worker.log").start())
        log("task worker started (log: .serve/worker.log)")
        front = Nginx(upstream=f"127.0.0.1:{app.port}", public=public, folder=FOLDER, port=port)
        services.append(front.start())
        log(f"nginx on http://localhost:{port} (log: .serve/error.log). Ctrl-C stops everything.")
        next_jobs = time.monotonic()
        while not stopping:
            for service in services:
                if not service.running:
                    log(f"{service.name} stopped by itself:\n{service.log_tail(20)}")
                    return 1
            if time.monotonic() >= next_jobs:
                for job in JOBS:
                    try:
                        out = manage(env, job, timeout=JOB_INTERVAL_SECONDS).strip()
                    except (AssertionError, subprocess.TimeoutExpired) as error:
                        out = f"failed: {error}"
                    log(f"{job}: {out}")
                next_jobs = time.monotonic() + JOB_INTERVAL_SECONDS
            time.sleep(0.5)
        return 0
    finally:
        log("stopping")
        for service in reversed(services):
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
