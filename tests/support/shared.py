"""
What a test run makes once and all its pytest-xdist workers share: the first
worker to ask makes it, under a file lock, and the others wait and reuse it.
"""

import fcntl
import shutil
from pathlib import Path


def run_folder(tmp_path_factory, worker_id):
    """The run's own temporary folder, the same for every worker of it."""
    folder = tmp_path_factory.getbasetemp()
    # pytest-xdist gives each worker a folder inside the run's.
    return folder.parent if worker_id != "master" else folder


def made_once(folder, make):
    """
    `folder`, filled by `make(building)` the first time it is asked for: made
    in a folder beside it and renamed when done, so it is never seen half made.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with Path(f"{folder}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.exists():
            building = Path(f"{folder}.building")
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            make(building)
            building.rename(folder)
    return folder
