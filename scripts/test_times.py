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

# By module name: the site-wide tests (tests/site/: production, faults, the front,
# `make run`, worker start...) and the races,
# whose modules end in _races, _concurrency or _overlap; the Hypothesis
# fuzzing, in modules named *fuzz*; the browser tests in tests/e2e/.
PARTS = {
    "browser (tests/e2e)": lambda name: name.startswith("tests.e2e."),
    "site-wide (tests/site) and races": lambda name: (
        name.startswith("tests.site.") or name.endswith(("_races", "_concurrency", "_overlap"))
    ),
    "fuzzing (Hypothesis)": lambda name: "fuzz" in name.rsplit(".", 1)[-1],
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
