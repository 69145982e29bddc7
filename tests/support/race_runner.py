"""
`python -m tests.support.race_runner RACER CALLS`: see tests.support.races.

Django is set up once, before forking, so the children share the loaded
code; database connections are closed first, so no child inherits another's.
"""

import json
import multiprocessing
import sys

import django

BARRIER_SECONDS = 60


def _racer(name, barrier, results, index, arguments):
    # Imported here: the models load only once Django is set up.
    from tests.support import racers

    try:
        go = getattr(racers, name)(*arguments)  # reads what it needs: a connection is open
        barrier.wait(BARRIER_SECONDS)  # "ready"; the race starts when every racer is
        results.put((index, go()))
    except BaseException as error:  # the parent reports it; a child must not hang the race
        results.put((index, {"error": repr(error)}))
        barrier.abort()
        raise


def main(name, calls):
    django.setup()
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(calls))
    results = context.Queue()
    children = [
        context.Process(target=_racer, args=(name, barrier, results, index, arguments))
        for index, arguments in enumerate(calls)
    ]
    for child in children:
        child.start()
    outcomes = dict(results.get(timeout=BARRIER_SECONDS * 2) for _ in children)
    for child in children:
        child.join(BARRIER_SECONDS)
    failed = [outcome for outcome in outcomes.values() if "error" in outcome]
    if failed:
        sys.exit(f"racers failed: {failed}")
    print(json.dumps([outcomes[index] for index in range(len(calls))]))


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
