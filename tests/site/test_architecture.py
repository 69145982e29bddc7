"""
The apps stay in modules one head can hold: none over 500 lines (issue 18).
Migrations are written by makemigrations and left out. The import contracts
(layers, domains, no cycles) are `lint-imports` in `make lint`, not a test.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["booking", "treatments", "staff_access", "clinic_site"]
LONGEST = 500


def app_modules():
    for app in APPS:
        for module in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in module.relative_to(ROOT).parts:
                yield module


def test_the_apps_have_modules_to_check():
    assert len(list(app_modules())) > 50


def test_no_module_of_the_apps_is_over_500_lines():
    too_long = {
        str(module.relative_to(ROOT)): length
        for module in app_modules()
        if (length := len(module.read_text().splitlines())) > LONGEST
    }
    assert too_long == {}, f"over {LONGEST} lines (split them by what they do): {too_long}"
