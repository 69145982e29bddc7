"""
Sum a test run's JUnit reports by part of the suite: how many tests, and the
seconds they took (setup, call and teardown, added up over the workers, so
more than the wall-clock time of a parallel run). CI prints it after the
suite (`.ci/run`).

    python scripts/test_times.py artifacts/ci/sqlite.xml artifacts/ci/postgres.xml
"""

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

PARTS = {
    "browser (tests/e2e)": lambda name: name.startswith("tests.e2e."),
    "processes (site, races, faults)": lambda name: (
        name
        in {
            "tests.booking.bookings.test_booking_overlap",
            "tests.booking.bookings.test_booking_concurrency",
            "tests.booking.waitlist.test_waitlist_races",
            "tests.site.test_deploy",
            "tests.site.test_faults",
            "tests.site.test_front",
            "tests.site.test_make_run",
            "tests.site.test_scale_out",
            "tests.site.test_worker_start",
        }
    ),
    "fuzzing (Hypothesis)": lambda name: (
        name
        in {
            "tests.booking.bookings.test_fuzz_forms",
            "tests.booking.waitlist.test_waitlist_fuzz",
        }
    ),
    "the rest": lambda name: True,
}


def part_of(module):
    return next(part for part, belongs in PARTS.items() if belongs(module))


def main(reports):
    for report in map(Path, reports):
        seconds, counts = Counter(), Counter()
        for case in ET.parse(report).iter("testcase"):
            module = case.get("classname", "")
            if module.rsplit(".", 1)[-1][:1].isupper():  # a test class: its module
                module = module.rsplit(".", 1)[0]
            part = part_of(module)
            seconds[part] += float(case.get("time") or 0)
            counts[part] += 1
        print(
            f"{report.stem}: {sum(counts.values())} tests, {sum(seconds.values()):.0f} s of test time"
        )
        for part in PARTS:
            if counts[part]:
                print(f"  {part:34} {counts[part]:5} tests {seconds[part]:7.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
