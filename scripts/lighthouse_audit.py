"""
Lighthouse on every public page: `make audit`.

Serves the site as production serves its pages (DEBUG off, collectstatic's
compressed and hashed files served by whitenoise, gunicorn) on a free local
port, with a freshly migrated, seeded SQLite database in a temporary folder.
It uses the base settings rather than the production ones: those insist on
HTTPS, Secure cookies and a Redis server, none of which a Lighthouse run over
plain HTTP on the loopback interface has or needs. Then runs Lighthouse (the version pinned in
package-lock.json, with Debian's Chromium, headless; it needs no network)
with its default mobile settings, several times per page, and writes the
median score of each category as a Markdown table to docs/lighthouse.md
and into the README (between its lighthouse-table markers).

Usage: python scripts/lighthouse_audit.py [--runs 3] [--output docs/lighthouse.md]
"""

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from scripts.live_server import Gunicorn, free_port, manage, standalone_environment  # noqa: E402

LIGHTHOUSE = BASE_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CATEGORIES = {
    "performance": "Performance",
    "accessibility": "Accessibility",
    "best-practices": "Best practices",
    "seo": "SEO",
}
README_MARKERS = ("<!-- lighthouse-table:start -->", "<!-- lighthouse-table:end -->")
# Public, but in no sitemap: the guide's answer to a set of questions.
EXTRA_PATHS = [
    "/guide/?concerns=acne-scars&concerns=uneven-tone&sensitivity=not-sensitive&goal=long-term-change"
]


def check_serving(origin):
    with urllib.request.urlopen(origin + "/", timeout=10) as response:
        if response.status != 200:
            raise SystemExit(f"{origin}/ answered {response.status}, not 200")


def booking_steps(origin):
    """
    The booking page's steps beyond /book/ (the sitemap's): a consultation and
    a practitioner chosen, a later day, and a time chosen (the request form),
    the last two by the page's own links.
    """
    chosen = "/book/?type=medical-grade-facial-consultation&practitioner=daniel-okafor"
    with urllib.request.urlopen(origin + chosen, timeout=10) as response:
        page = response.read().decode()
    days = re.findall(r'class="day-strip-day" href="([^"#]+)', page)
    times = re.findall(r'class="time-list-time" href="([^"#]+)', page)
    if not days or not times:
        raise SystemExit(f"{chosen} offers no day or time to audit")
    return [chosen, html.unescape(days[-1]), html.unescape(times[0])]


def public_paths(origin):
    """The sitemap's pages (as the running site lists them), then the extra ones."""
    with urllib.request.urlopen(origin + "/sitemap.xml", timeout=10) as response:
        tree = ET.fromstring(response.read())
    namespace = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    paths = [urlsplit(loc.text).path for loc in tree.findall("sm:url/sm:loc", namespace)]
    return (
        sorted(set(paths), key=lambda path: (path != "/", path))
        + EXTRA_PATHS
        + booking_steps(origin)
    )


def lighthouse(url, output, attempts=4):
    """One Lighthouse run; a run that fails to record its trace (NO_NAVSTART: in one audit on
    2026-12-07 three of six runs in a row) is tried again."""
    for attempt in range(1, attempts + 1):
        finished = subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--output=json",
                f"--output-path={output}",
                "--only-categories=" + ",".join(CATEGORIES),
                "--chrome-flags=" + " ".join(CHROME_FLAGS),
                "--quiet",
            ],
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            timeout=180,
        )
        if finished.returncode == 0:
            return json.loads(Path(output).read_text())
        print(f"Lighthouse failed on {url} (attempt {attempt} of {attempts})", file=sys.stderr)
    raise SystemExit(f"Lighthouse could not audit {url}")


def shortfalls(report):
    """The scored audits that cost a category points: {(category, title): display value}."""
    found = {}
    for key, category in report["categories"].items():
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                found[(CATEGORIES[key], audit["title"])] = audit.get("displayValue", "")
    return found


def audit_page(url, runs, workdir):
    """The median score per category over `runs` runs, and what cost points where a median is below 100."""
    reports = [lighthouse(url, workdir / f"run-{run}.json") for run in range(runs)]
    scores = {
        key: round(
            100 * statistics.median(report["categories"][key]["score"] for report in reports)
        )
        for key in CATEGORIES
    }
    problems = {}
    for report in reports:
        for (category, title), value in shortfalls(report).items():
            problems.setdefault((category, title), []).append(value)
    below = {CATEGORIES[key] for key, score in scores.items() if score < 100}
    notes = [
        f"{category}: {title} ({', '.join(value for value in values if value)} in "
        f"{len(values)} of {runs} runs)"
        for (category, title), values in sorted(problems.items())
        if category in below
    ]
    return scores, notes, reports[0]


def markdown(rows, *, runs, version, chromium_version, date, load):
    lines = [
        f"Lighthouse {version} with {chromium_version}, headless; mobile (the default form "
        f"factor, simulated throttling); the median of {runs} runs per page; {date}; the "
        f"machine's load average {load[0]:.1f} at the start and {load[1]:.1f} at the end. "
        "Made by `make audit` (scripts/lighthouse_audit.py).",
        "",
        "| Page | " + " | ".join(CATEGORIES.values()) + " |",
        "| --- | " + " | ".join("---:" for _ in CATEGORIES) + " |",
    ]
    for path, scores, _ in rows:
        label = page_label(path)
        lines.append(f"| `{label}` | " + " | ".join(str(scores[key]) for key in CATEGORIES) + " |")
    notes = [(path, page_notes) for path, _, page_notes in rows if page_notes]
    if notes:
        lines += ["", "Below 100:", ""]
        lines += [f"- `{path}`: " + "; ".join(page_notes) for path, page_notes in notes]
    return "\n".join(lines) + "\n"


def page_label(path):
    """The table's name for a page: a query string is a guide's result or a booking step."""
    if "?" not in path:
        return path
    if not path.startswith("/book/"):
        return f"{path.split('?')[0]} (a result)"
    step = (
        "a time chosen: the request form"
        if "time=" in path
        else "a day chosen"
        if "day=" in path
        else "a consultation and practitioner chosen"
    )
    return f"/book/ ({step})"


def update_readme(table):
    """Put the table in the README, between its two markers (left alone if they are missing)."""
    readme = BASE_DIR / "README.md"
    text = readme.read_text()
    start, end = README_MARKERS
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        readme.write_text(f"{before}{start}\n{table}{end}{after}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only", default="", help="audit only the pages whose path holds this text (e.g. /book/)"
    )
    parser.add_argument("--output", type=Path, default=BASE_DIR / "docs" / "lighthouse.md")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"{LIGHTHOUSE} is missing: run `make e2e-deps` (npm ci)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium")

    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lighthouse-audit-") as folder:
        workdir = Path(folder)
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        env = standalone_environment(
            workdir / "audit.sqlite3", origin, secret="lighthouse-audit-only-not-secret"
        )
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        server = Gunicorn(
            env=env,
            log_path=workdir / "gunicorn.log",
            port=port,
            options=["--workers", "2", "--log-level", "warning"],
        ).start()
        try:
            check_serving(origin)
            rows = []
            for path in [path for path in public_paths(origin) if args.only in path]:
                scores, notes, report = audit_page(origin + path, args.runs, workdir)
                rows.append((path, scores, notes))
                print(
                    f"{path}: " + ", ".join(f"{CATEGORIES[k]} {v}" for k, v in scores.items()),
                    file=sys.stderr,
                )
        finally:
            server.stop(timeout=30)

    table = markdown(
        rows,
        runs=args.runs,
        version=report["lighthouseVersion"],
        chromium_version=subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, check=True
        ).stdout.strip(),
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        load=(load_at_start, os.getloadavg()[0]),
    )
    if not args.only:  # Some pages alone: printed, not recorded as the audit.
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("# Lighthouse audit\n\n" + table)
        update_readme(table)
    print(table)


if __name__ == "__main__":
    main()
