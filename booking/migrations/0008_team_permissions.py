"""
Who edits the team and the consultation types:

- Front desk runs the schedule: practitioners, their working hours and time
  off, consultation types (lengths, turnover, who holds them).
- Content editors write what clients read about them: bios and credentials,
  type names, descriptions and prices. The admin shows them the schedule's
  fields read-only and no hours or time off (see booking/admin/schedule.py).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FRONT_DESK = {
    "practitioner": ["view", "add", "change"],
    "workinghours": ["view", "add", "change", "delete"],
    "timeoff": ["view", "add", "change", "delete"],
    "consultationtype": ["view", "add", "change"],
}
CONTENT_EDITORS = {
    "practitioner": ["view", "change"],
    "consultationtype": ["view", "change"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in [("Front desk", FRONT_DESK), ("Content editors", CONTENT_EDITORS)]:
        codenames = [f"{action}_{model}" for model, actions in grants.items() for action in actions]
        found = Permission.objects.filter(content_type__app_label="booking", codename__in=codenames)
        assert found.count() == len(codenames), "missing permissions"
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*found)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in [("Front desk", FRONT_DESK), ("Content editors", CONTENT_EDITORS)]:
        codenames = [f"{action}_{model}" for model, actions in grants.items() for action in actions]
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="booking", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("booking", "0007_one_practitioner_one_time")]

    operations = [migrations.RunPython(grant, revoke)]
