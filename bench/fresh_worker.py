"""
The first request of a fresh gunicorn worker against a warm one (issue 13).

gunicorn forks its workers from a master that has loaded the site
(`preload_app`), and restarts each one after `max_requests`: whatever the site
leaves to do lazily after the fork (compiling templates, filling the URL
resolver, loading phone-number metadata, opening the database connection)
falls on the first visitor a new worker serves. This starts gunicorn with one
worker (scripts/live_server.py, gunicorn.conf.py, production settings), waits
until the worker is idle (its start-up over, waiting for a request), times
its first GET of the booking page and the next ones, then stops the worker
so that the master forks a fresh one, and does it again. It reports the
median first request over the median warm one, by the wall clock and by the
worker's own CPU time (Linux's schedstat), which other programs competing
for the machine's cores change less.

    python3 -m uv run --frozen python bench/fresh_worker.py
    python3 -m uv run --frozen python bench/fresh_worker.py --rounds 9 --path /faqs/

bench/site_bench.py runs `measure()` after its wrk rows and prints the ratio
with its results. A script, not a test: see bench/README.md.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import booking_bench as bb

HOST = bb.HOST
SETTINGS = "clinic_site.settings.production"
# How long the worker's CPU time must stand still before it counts as idle:
# waiting in accept() for its first request, its start-up over.
IDLE_SECONDS = 0.3
START_SECONDS = 60


def worker_pids(master_pid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def cpu_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for_fresh_worker(master_pid, previous=None):
    """The pid of a worker other than `previous`, once it has started and gone idle."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        pids = [pid for pid in worker_pids(master_pid) if pid != previous]
        if pids:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn forked no new worker")
        time.sleep(0.05)
    pid = pids[0]
    ticks = cpu_ticks(pid)
    still_since = time.monotonic()
    while time.monotonic() - still_since < IDLE_SECONDS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker {pid} never went idle")
        time.sleep(0.05)
        now = cpu_ticks(pid)
        if now != ticks:
            ticks, still_since = now, time.monotonic()
    return pid


def cpu_ns(pid):
    """The time `pid` has spent on a CPU, in ns (Linux's schedstat: finer than /proc's ticks)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def timed_get(port, path, pid):
    """(wall-clock seconds, seconds of the worker's CPU time) of one GET."""
    cpu_before = cpu_ns(pid)
    began = time.perf_counter()
    status, _, _ = bb.http_request(
        port, "GET", path, headers={"Accept": "text/html", "Accept-Encoding": "gzip"}
    )
    elapsed = time.perf_counter() - began
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}, not 200")
    return elapsed, (cpu_ns(pid) - cpu_before) / 1e9


def measure(env, log_path, *, path="/book/", rounds=5, requests=20, port=None):
    """
    `rounds` fresh workers, one after another, each timed on its first GET
    of `path` and on the `requests` after it. Returns the medians in ms and
    first ÷ warm: the median first request over the median of every warm one.
    """
    port = port or bb.free_port()
    env = {**env, "WEB_CONCURRENCY": "1", "SITE_URL": f"http://{HOST}:{port}"}
    server = bb.Gunicorn(
        env=env, log_path=log_path, port=port, options=["--max-requests", "0"]
    ).start()
    firsts, warm = [], []
    try:
        previous = None
        for _ in range(rounds):
            pid = wait_for_fresh_worker(server.pid, previous)
            firsts.append(timed_get(port, path, pid))
            warm.extend(timed_get(port, path, pid) for _ in range(requests))
            # A graceful stop: the master forks a fresh worker in its place.
            os.kill(pid, signal.SIGTERM)
            previous = pid
    finally:
        bb.stop_gunicorn(server)
    first_ms = statistics.median(wall for wall, _ in firsts) * 1000
    warm_ms = statistics.median(wall for wall, _ in warm) * 1000
    first_cpu_ms = statistics.median(cpu for _, cpu in firsts) * 1000
    warm_cpu_ms = statistics.median(cpu for _, cpu in warm) * 1000
    return {
        "path": path,
        "rounds": rounds,
        "requests": requests,
        "first_ms": first_ms,
        "firsts_ms": [round(wall * 1000, 1) for wall, _ in firsts],
        "warm_ms": warm_ms,
        "ratio": first_ms / warm_ms,
        "first_cpu_ms": first_cpu_ms,
        "warm_cpu_ms": warm_cpu_ms,
        "cpu_ratio": first_cpu_ms / warm_cpu_ms,
    }


def describe(result):
    return (
        f"first request of a fresh worker ÷ warm ({result['path']}): "
        f"{result['ratio']:.2f} (first {result['first_ms']:.1f} ms, the median of "
        f"{result['rounds']} fresh workers; warm {result['warm_ms']:.1f} ms, the median of "
        f"the {result['requests']} requests after each first); the worker's CPU time "
        f"{result['cpu_ratio']:.2f} ({result['first_cpu_ms']:.1f} ms ÷ {result['warm_cpu_ms']:.1f} ms)"
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--path", default="/book/", help="the page to time (default: /book/)")
    parser.add_argument("--rounds", type=int, default=5, help="fresh workers (default: 5)")
    parser.add_argument(
        "--requests", type=int, default=20, help="warm requests after each first (default: 20)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL, without a database name",
    )
    parser.add_argument(
        "--database",
        default="clinic_fresh_worker_bench",
        help="database to drop, create and drop again (default: clinic_fresh_worker_bench)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("SITE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="Redis URL naming a database of its own, emptied before and after "
        "(default: redis://127.0.0.1:6379/13)",
    )
    args = parser.parse_args()
    args.settings = SETTINGS  # What booking_bench.server_env reads.
    if args.rounds < 1 or args.requests < 1:
        parser.error("--rounds and --requests must be 1 or more")
    if "bench" not in args.database:
        parser.error("--database must contain 'bench'; it is dropped before and after the run")
    if urlsplit(args.redis).path.strip("/") in ("", "0"):
        parser.error("--redis must name a database of its own (e.g. .../13), not 0")
    return args


def main():
    import redis

    args = parse_args()
    env = bb.server_env(args, 0)
    bb.recreate_database(args)
    redis.Redis.from_url(args.redis, socket_timeout=5).flushdb()
    log_path = Path(tempfile.mkdtemp(prefix="fresh-worker-")) / "gunicorn.log"
    try:
        bb.manage(env, "migrate", "--noinput", "-v", "0")
        # DEBUG off: pages need the hashed static files and their manifest.
        bb.manage(env, "collectstatic", "--noinput", "-v", "0")
        setup_env = {**env, "BENCH_RULES": json.dumps(bb.RULES), "BENCH_HOURS": "null"}
        bb.django_shell(setup_env, bb.SETUP_CODE)
        result = measure(env, log_path, path=args.path, rounds=args.rounds, requests=args.requests)
    except BaseException:
        bb.log(f"gunicorn's log kept in {log_path}")
        raise
    else:
        shutil.rmtree(log_path.parent)
    finally:
        bb.drop_database(args)
        redis.Redis.from_url(args.redis, socket_timeout=5).flushdb()
    print(describe(result))
    print(f"  fresh workers' first requests (ms): {result['firsts_ms']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
