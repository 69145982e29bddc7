"""
Races between separate processes on one database, started on a handshake.

One process sets Django up, then forks a child per racer (`race_runner`);
each child opens its own database connection and waits at a barrier, and
the race starts the moment the last one arrives: no sleep guessing how long
start-up takes, and every racer starts warm, as a web worker would be.
"""

import json
import subprocess
import sys

from tests.support.sqlite_site import ROOT


def race(env, racer, calls, *, timeout=120):
    """
    Run `racer` (a function in tests.support.racers) once per argument list
    in `calls`, all at once, each in its own process with `env`; their
    results, in the order of `calls`.
    """
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.race_runner", racer, json.dumps(calls)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"the race failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(env, step, *arguments, timeout=120):
    """Run one step of tests.support.racers in a process of its own; its outcome."""
    return race(env, step, [arguments], timeout=timeout)[0]
