"""
Migrations treatments 0005 and booking 0027 add photographs to a database
that already has content and a team: nothing staff wrote is lost, each
treatment, the home page and the seeded practitioners get their example
picture with its renditions, and a practitioner the clinic added gets none.
It runs in a process of its own on a database of its own, of the run's kind.
"""

import pytest

from tests.support.migrations import run_scenario, throwaway_database

pytestmark = pytest.mark.every_database

SCENARIO = r"""
import json
from pathlib import Path

import django
django.setup()
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("treatments", "0004_content_version"), ("booking", "0024_health_form_reads")]
AFTER = [("treatments", "0005_photographs"), ("booking", "0027_practitioner_portrait")]
executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
old = executor.loader.project_state(BEFORE).apps
old.get_model("treatments", "Treatment").objects.filter(slug="medical-grade-facial").update(
    summary="Edited by the clinic."
)
old.get_model("booking", "Practitioner").objects.create(
    name="Ada Byrne", slug="ada-byrne", role="Physician, MD"
)

def snapshot(apps):
    Treatment = apps.get_model("treatments", "Treatment")
    Practitioner = apps.get_model("booking", "Practitioner")
    SitePage = apps.get_model("treatments", "SitePage")
    return {
        "treatments": sorted(Treatment.objects.values_list("slug", "summary")),
        "practitioners": sorted(Practitioner.objects.values_list("slug", "role", "bio")),
        "pages": sorted(SitePage.objects.values_list("key", "heading", "introduction")),
    }

before = snapshot(old)
executor = MigrationExecutor(connection)
executor.migrate(AFTER)
new = executor.loader.project_state(AFTER).apps
after = snapshot(new)
Treatment = new.get_model("treatments", "Treatment")
Practitioner = new.get_model("booking", "Practitioner")
SitePage = new.get_model("treatments", "SitePage")
Photograph = new.get_model("treatments", "Photograph")
media = Path(settings.MEDIA_ROOT)
print(json.dumps({
    "kept": before == after,
    "treatments": sorted(
        (t.slug, t.photograph.is_example, t.photograph.crop)
        for t in Treatment.objects.select_related("photograph")
    ),
    "home": SitePage.objects.get(key="home").photograph.title,
    "portraits": sorted(
        (p.slug, p.portrait.crop if p.portrait_id else None)
        for p in Practitioner.objects.select_related("portrait")
    ),
    "renditions": sorted({len(p.renditions) > 0 for p in Photograph.objects.all()}),
    "files": all(
        (media / r["name"]).exists()
        for p in Photograph.objects.all() for r in p.renditions
    ),
}))
"""


def test_photographs_migrate_onto_existing_content_without_losing_any():
    with throwaway_database("photographs") as url:
        result = run_scenario(SCENARIO, url)

    assert result["kept"], "every treatment, page and practitioner kept its words"
    assert result["treatments"] == [
        ["medical-grade-facial", True, "landscape"],
        ["professional-facial", True, "landscape"],
    ]
    assert result["home"] == "Treatment room (home page)"
    assert result["portraits"] == [
        ["ada-byrne", None],
        ["daniel-okafor", "portrait"],
        ["maya-chen", "portrait"],
    ]
    assert result["renditions"] == [True]
    assert result["files"]
